//! サービス種類コード: the two-character code of a kind of 介護保険 service (11 訪問介護, 13
//! 訪問看護, 43 居宅介護支援, 2A 短期入所療養介護（介護医療院）, A1–A8 総合事業, …), as care-plan
//! file names and サービスコード carry it. Which codes exist, and which take part in the
//! care-plan exchange, is the standard's table (`renraku_careplan::layout::SERVICE_TYPES`);
//! this type holds a code of the right shape.

use std::fmt;

/// A サービス種類コード: two characters, each an ASCII digit or upper-case letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceKind(String);

impl ServiceKind {
    /// The code exactly as the standard writes it (`13`, `2A`, `A1`); anything else — lower
    /// case, full width, another length — is `None`.
    pub fn parse(code: &str) -> Option<Self> {
        (code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()))
            .then(|| Self(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Two digits (the codes without a letter).
    pub fn is_numeric(&self) -> bool {
        self.0.bytes().all(|b| b.is_ascii_digit())
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_kind_is_two_digits_or_upper_case_letters_as_written() {
        for code in ["11", "43", "2A", "A1", "AF"] {
            assert_eq!(ServiceKind::parse(code).map(|k| k.to_string()), Some(code.to_string()));
        }
        assert!(ServiceKind::parse("13").is_some_and(|k| k.is_numeric()));
        assert!(ServiceKind::parse("2A").is_some_and(|k| !k.is_numeric()));
        for wrong in ["", "1", "111", "2a", "１３", "1-", " 1"] {
            assert_eq!(ServiceKind::parse(wrong), None, "{wrong:?}");
        }
    }
}
