//! Input normalisation for Japanese text: what users type on PCs, tablets and phones arrives in
//! full-width or half-width forms, with several kinds of dashes. We fold it once, at the edge.

use unicode_normalization::UnicodeNormalization;

/// NFKC-normalises and trims user input: full-width digits and Latin letters become ASCII,
/// half-width katakana becomes full-width, the ideographic space becomes a space.
pub fn normalize(input: &str) -> String {
    let folded: String = input.nfkc().collect();
    folded.trim().to_string()
}

/// What a person typed, with only the outer white space (including the ideographic space)
/// trimmed: the text that is stored and shown. NFKC ([`normalize`]) is for comparing and
/// validating only, never for what is kept (「①号室」 would become 「1号室」, ㈱ 「(株)」).
pub fn as_typed(input: &str) -> &str {
    input.trim()
}

/// Keeps only the ASCII digits of a normalised number written with any dash or space between
/// groups (e.g. `０４‐７１５８−１２３４` → `0471581234`). Returns `None` if anything else is there.
pub fn digits_only(input: &str) -> Option<String> {
    let normalized = normalize(input);
    let mut digits = String::with_capacity(normalized.len());
    for c in normalized.chars() {
        match c {
            '0'..='9' => digits.push(c),
            c if is_dash(c) || c == ' ' => {}
            _ => return None,
        }
    }
    Some(digits)
}

/// The dashes people type between digit groups: ASCII hyphen, the hyphen and minus signs, the
/// katakana prolonged sound mark (often typed by IMEs instead of a hyphen) and the figure dash.
pub fn is_dash(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ー' | 'ｰ' | '－')
}

/// True when the text is made only of kana (hiragana or katakana), the prolonged sound mark,
/// the middle dot and spaces — what a ふりがな field may hold.
pub fn is_kana(input: &str) -> bool {
    !input.is_empty()
        && input.chars().all(|c| {
            matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309F}' | '\u{30A1}'..='\u{30FA}' | '\u{30FC}'..='\u{30FF}' | '・' | ' ' | '　')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_dashes_fold_to_ascii_digits() {
        assert_eq!(digits_only("０４‐７１５８−１２３４").as_deref(), Some("0471581234"));
        assert_eq!(digits_only("04-7158-1234").as_deref(), Some("0471581234"));
        assert_eq!(digits_only("04-7158-123a"), None);
    }

    #[test]
    fn half_width_katakana_becomes_full_width() {
        assert_eq!(normalize(" ﾔﾏﾀﾞ ﾀﾛｳ "), "ヤマダ タロウ");
        assert!(is_kana(&normalize("ﾔﾏﾀﾞ ﾀﾛｳ")));
        assert!(is_kana("やまだ　たろう"));
        assert!(!is_kana("山田"));
        assert!(!is_kana(""));
    }
}
