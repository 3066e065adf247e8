//! The text level: MS932 bytes to records of fields and back. Free text arrives in double
//! quotes with `""` for a quote, commas and line breaks kept; every field remembers whether it
//! was quoted and the file remembers its line ending, so conformant input is written back byte
//! for byte.

use compact_str::CompactString;
use encoding_rs::{DecoderResult, EncoderResult, SHIFT_JIS};

use crate::problem::Problem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Short values (up to 24 bytes: codes, dates, amounts, most names) live inline, so reading
    /// a file does not allocate for each of its fields.
    pub value: CompactString,
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line the record starts on, from 1.
    pub line: usize,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    #[default]
    CrLf,
    Lf,
}

impl LineEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::CrLf => "\r\n",
            LineEnding::Lf => "\n",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    pub rows: Vec<Row>,
    pub line_ending: LineEnding,
    /// Whether the last record is followed by a line ending.
    pub final_newline: bool,
    /// Characters the source wrote with another of their MS932 codes than the one we would
    /// write (e.g. 髙 as NEC-selected 0xEEE0 rather than IBM 0xFBFC; ≒ as 0x8790 rather than
    /// 0x81E0), so that writing gives the source's bytes back.
    pub alternates: Vec<(char, [u8; 2])>,
}

/// Lead bytes of the rows where MS932 has two codes for one character (NEC special
/// characters, NEC-selected and IBM extensions).
fn may_have_alternates(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| matches!(b, 0x87 | 0xED | 0xEE | 0xFA..=0xFC))
}

/// The characters `bytes` (valid MS932) writes with a code other than the one we write.
pub fn alternates(bytes: &[u8]) -> Vec<(char, [u8; 2])> {
    let mut found: Vec<(char, [u8; 2])> = Vec::new();
    // Characters of the special rows already looked at (the encoder is slow; a file repeats
    // the same few).
    let mut seen: Vec<char> = Vec::new();
    if !may_have_alternates(bytes) {
        return found;
    }
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        if !(matches!(lead, 0x81..=0x9F | 0xE0..=0xFC)) || i + 1 == bytes.len() {
            i += 1;
            continue;
        }
        let code = [lead, bytes[i + 1]];
        i += 2;
        if !matches!(lead, 0x87 | 0xED | 0xEE | 0xFA..=0xFC) {
            continue;
        }
        let (decoded, had_errors) = SHIFT_JIS.decode_without_bom_handling(&code);
        let mut chars = decoded.chars();
        if let (Some(c), None, false) = (chars.next(), chars.next(), had_errors)
            && !found.iter().any(|(f, _)| *f == c)
            && !seen.contains(&c)
        {
            seen.push(c);
            let mut utf8 = [0; 4];
            let (ours, _, _) = SHIFT_JIS.encode(c.encode_utf8(&mut utf8));
            if *ours != code {
                found.push((c, code));
            }
        }
    }
    found
}

/// Decodes MS932, naming the line and column of the first byte that is not MS932.
pub fn decode(bytes: &[u8]) -> Result<String, Problem> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(Problem::at(1, 1, "UTF-8 で保存されています。Shift-JIS（MS932）で保存してください"));
    }
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 / 2 + 16);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(out),
        DecoderResult::Malformed(bad, _) => {
            let at = read - bad as usize;
            let (line, column) = position(&out, out.len());
            let hint = if std::str::from_utf8(bytes).is_ok() {
                "UTF-8 で保存されています。Shift-JIS（MS932）で保存してください"
            } else {
                "Shift-JIS（MS932）として読めないバイトがあります"
            };
            Err(Problem::at(line, column, format!("{hint}（{}バイト目 0x{:02X}）", at + 1, bytes[at])))
        }
        // Cannot happen with a String destination, which grows; treat as malformed anyway.
        DecoderResult::OutputFull => Err(Problem::at(1, 1, "ファイルを読み込めませんでした")),
    }
}

/// Line (from 1) and character column (from 1) of byte offset `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = 1 + before.bytes().filter(|b| *b == b'\n').count();
    let column = 1 + before.rsplit('\n').next().map_or(0, |l| l.chars().count());
    (line, column)
}

fn error_at(text: &str, at: usize, message: &str) -> Problem {
    let (line, column) = position(text, at);
    Problem::at(line, column, message)
}

/// Splits decoded text into records. The delimiters are ASCII, which never occurs inside a
/// multi-byte UTF-8 character, so the text is scanned as bytes; columns are counted in
/// characters only when something is wrong.
pub fn split(text: &str) -> Result<Text, Problem> {
    let b = text.as_bytes();
    let mut rows = Vec::new();
    let mut ending: Option<LineEnding> = None;
    let mut i = 0;
    let mut line = 1usize;
    let mut final_newline = false;
    while i < b.len() {
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let field = if b.get(i) == Some(&b'"') {
                let open = i;
                i += 1;
                let mut value = CompactString::default();
                loop {
                    let Some(offset) = b[i..].iter().position(|c| *c == b'"') else {
                        return Err(error_at(text, open, "引用符（\"）が閉じられていません"));
                    };
                    let chunk = &text[i..i + offset];
                    line += chunk.bytes().filter(|c| *c == b'\n').count();
                    value.push_str(chunk);
                    i += offset + 1;
                    if b.get(i) == Some(&b'"') {
                        value.push('"');
                        i += 1;
                    } else {
                        break;
                    }
                }
                if !matches!(b.get(i), None | Some(b',' | b'\r' | b'\n')) {
                    return Err(error_at(text, i, "閉じた引用符の後にカンマか改行が必要です"));
                }
                Field { value, quoted: true }
            } else {
                let start = i;
                while let Some(&c) = b.get(i) {
                    match c {
                        b',' | b'\r' | b'\n' => break,
                        b'"' => {
                            return Err(error_at(
                                text,
                                i,
                                "引用符（\"）は項目の先頭でだけ使えます（フリーテキストは \"…\" で囲みます）",
                            ));
                        }
                        _ => i += 1,
                    }
                }
                Field { value: CompactString::from(&text[start..i]), quoted: false }
            };
            fields.push(field);
            match b.get(i) {
                Some(b',') => i += 1,
                None => {
                    final_newline = false;
                    break;
                }
                Some(&c) => {
                    let this = if c == b'\r' {
                        if b.get(i + 1) != Some(&b'\n') {
                            return Err(error_at(
                                text,
                                i,
                                "改行コードは CR+LF か LF です（CR だけの改行があります）",
                            ));
                        }
                        i += 2;
                        LineEnding::CrLf
                    } else {
                        i += 1;
                        LineEnding::Lf
                    };
                    match ending {
                        None => ending = Some(this),
                        Some(e) if e != this => {
                            return Err(error_at(text, i - 1, "改行コードが混在しています（CR+LF と LF）"));
                        }
                        Some(_) => {}
                    }
                    line += 1;
                    final_newline = true;
                    break;
                }
            }
        }
        if fields.len() == 1 && fields[0].value.is_empty() && !fields[0].quoted {
            return Err(Problem::line(start_line, "空の行があります"));
        }
        rows.push(Row { line: start_line, fields });
    }
    Ok(Text { rows, line_ending: ending.unwrap_or_default(), final_newline, alternates: Vec::new() })
}

/// A character that MS932 cannot hold, found while writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmappable {
    pub row: usize,
    pub field: usize,
    pub character: char,
}

/// Writes records as MS932. Characters outside MS932 are never replaced: every one is reported
/// with its record and field.
pub fn write(text: &Text) -> Result<Vec<u8>, Vec<Unmappable>> {
    let mut out = Vec::with_capacity(text.rows.iter().map(|r| r.fields.len() * 8).sum());
    let mut bad = Vec::new();
    let mut encoder = SHIFT_JIS.new_encoder();
    let mut buffer = String::new();
    // Each field is encoded into this small buffer and then appended: encoding straight into
    // the (large) output costs time in proportion to its free capacity on every call.
    let mut scratch = Vec::new();
    for (r, row) in text.rows.iter().enumerate() {
        for (f, field) in row.fields.iter().enumerate() {
            if f > 0 {
                out.push(b',');
            }
            buffer.clear();
            if field.quoted {
                buffer.push('"');
                buffer.push_str(&field.value.replace('"', "\"\""));
                buffer.push('"');
            } else {
                buffer.push_str(&field.value);
            }
            if buffer.is_ascii() {
                out.extend_from_slice(buffer.as_bytes());
                continue;
            }
            for c in buffer.chars().filter(|c| crate::layout::LOSSY.contains(c)) {
                bad.push(Unmappable { row: r, field: f, character: c });
            }
            scratch.clear();
            encode(&mut encoder, &buffer, &mut scratch, |c| {
                bad.push(Unmappable { row: r, field: f, character: c })
            });
            if !text.alternates.is_empty()
                && buffer.chars().any(|c| text.alternates.iter().any(|(a, _)| *a == c))
            {
                scratch.clear();
                for c in buffer.chars() {
                    match text.alternates.iter().find(|(a, _)| *a == c) {
                        Some((_, code)) => scratch.extend_from_slice(code),
                        None => encode(&mut encoder, c.encode_utf8(&mut [0; 4]), &mut scratch, |_| {}),
                    }
                }
            }
            out.extend_from_slice(&scratch);
        }
        if r + 1 < text.rows.len() || text.final_newline {
            out.extend_from_slice(text.line_ending.as_str().as_bytes());
        }
    }
    if bad.is_empty() { Ok(out) } else { Err(bad) }
}

fn encode(
    encoder: &mut encoding_rs::Encoder,
    mut s: &str,
    out: &mut Vec<u8>,
    mut unmappable: impl FnMut(char),
) {
    loop {
        out.reserve(s.len() * 2 + 4);
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(s, out, true);
        s = &s[read..];
        match result {
            EncoderResult::InputEmpty => return,
            EncoderResult::Unmappable(c) => unmappable(c),
            EncoderResult::OutputFull => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sjis(s: &str) -> Vec<u8> {
        SHIFT_JIS.encode(s).0.into_owned()
    }

    #[test]
    fn quoted_text_keeps_commas_line_breaks_and_quotes_and_writes_back_exactly() {
        let source = sjis("202407,\"髙橋 ①㈱, \"\"様\"\"\r\n2行目\",123\r\n202407,\"\",\r\n");
        let text = split(&decode(&source).unwrap()).unwrap();
        assert_eq!(text.rows.len(), 2);
        assert_eq!(text.rows[0].fields[1].value, "髙橋 ①㈱, \"様\"\r\n2行目");
        assert_eq!(text.rows[1].line, 3, "the second record starts after the embedded line break");
        assert_eq!(text.rows[1].fields[1], Field { value: "".into(), quoted: true });
        assert_eq!(text.rows[1].fields[2], Field { value: "".into(), quoted: false });
        assert_eq!(write(&text).unwrap(), source);
        // MS932 codes of the characters the standard's users rely on.
        assert_eq!(sjis("①㈱髙"), [0x87, 0x40, 0x87, 0x8A, 0xFB, 0xFC]);
    }

    #[test]
    fn either_code_of_a_doubly_coded_character_comes_back_as_it_was() {
        // 髙 as NEC-selected IBM extension (what Python's cp932 writes) and as IBM extension;
        // ≒ as NEC special character and as JIS X 0208.
        for source in [&[0xEE, 0xE0, b',', 0x87, 0x90][..], &[0xFB, 0xFC, b',', 0x81, 0xE0][..]] {
            let mut text = split(&decode(source).unwrap()).unwrap();
            text.alternates = alternates(source);
            assert_eq!(text.rows[0].fields[0].value, "髙");
            assert_eq!(write(&text).unwrap(), source);
        }
        assert!(alternates(&sjis("普通の文字だけ")).is_empty());
    }

    #[test]
    fn line_endings_and_the_last_newline_are_kept() {
        for source in ["a,b\nc,d\n", "a,b\nc,d", "a,b\r\nc,d"] {
            let text = split(source).unwrap();
            assert_eq!(write(&text).unwrap(), source.as_bytes());
        }
    }

    #[test]
    fn malformed_text_is_refused_with_line_and_column() {
        let cases: &[(&str, usize, usize)] = &[
            ("a,b\r\nc,\"open", 2, 3),
            ("a,b\r\nc,\"x\"y", 2, 6),
            ("a,b\r\nc,d\"e", 2, 4),
            ("a\r\nb\nc", 2, 2),
            ("a\rb", 1, 2),
        ];
        for (source, line, column) in cases {
            let problem = split(source).unwrap_err();
            assert_eq!((problem.line, problem.column), (*line, Some(*column)), "{source:?}: {problem}");
        }
        assert_eq!(split("a\r\n\r\nb").unwrap_err().line, 2);
        let mut bytes = sjis("202407,\"あ\"\r\n202407,\"い");
        bytes.extend_from_slice(&[0x85, 0x20]);
        let problem = decode(&bytes).unwrap_err();
        assert_eq!((problem.line, problem.column), (2, Some(10)), "{problem}");
        assert!(decode("\u{FEFF}a".as_bytes()).unwrap_err().message.contains("UTF-8"));
        assert!(decode("ｱ,漢字".as_bytes()).unwrap_err().message.contains("UTF-8"));
    }

    #[test]
    fn characters_outside_ms932_are_reported_not_replaced() {
        let text = split("a,\"𠮷野家\",\"🙂\"\n").unwrap();
        let bad = write(&text).unwrap_err();
        assert_eq!(
            bad,
            vec![
                Unmappable { row: 0, field: 1, character: '𠮷' },
                Unmappable { row: 0, field: 2, character: '🙂' }
            ]
        );
    }
}
