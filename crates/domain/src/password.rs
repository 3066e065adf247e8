//! The password policy of a municipality (C1). The MHLW guideline (第6.0版) accepts a password of
//! at least 8 mixed characters together with a second factor; Nagareyama also wants a change
//! every 30 days, so the maximum age is a per-municipality setting. Passwords on a list of
//! common ones are refused whatever their length (see `data/README.md` for the list's source).

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization as _;

use crate::FieldError;

/// Django's list of 19,640 common passwords, lower case, one a line.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().collect());

/// Whether `password` (NFKC-normalised and lower-cased, so `Ｐａｓｓｗｏｒｄ１２３` counts) is a
/// common password.
pub fn is_common(password: &str) -> bool {
    let folded: String = password.nfkc().collect::<String>().to_lowercase();
    COMMON.contains(folded.as_str())
}

pub const MIN_LENGTH_FLOOR: u32 = 8;
pub const MAX_LENGTH: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// At least [`MIN_LENGTH_FLOOR`].
    pub min_length: u32,
    /// Days after which the password must be changed; `None` for no limit.
    pub max_age_days: Option<u32>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 10, max_age_days: None }
    }
}

impl PasswordPolicy {
    pub fn new(min_length: u32, max_age_days: Option<u32>) -> Result<Self, FieldError> {
        if !(MIN_LENGTH_FLOOR..=64).contains(&min_length) {
            return Err(FieldError::new("min_length", "最小文字数は8〜64で指定してください。"));
        }
        if matches!(max_age_days, Some(d) if !(1..=3650).contains(&d)) {
            return Err(FieldError::new(
                "max_age_days",
                "有効期間は1〜3650日で指定してください（無期限は空欄）。",
            ));
        }
        Ok(Self { min_length, max_age_days })
    }

    /// Checks a new password. "Mixed" means letters and digits both; the login ID may not be
    /// part of it, and a common password is refused.
    pub fn check(&self, field: &'static str, password: &str, login_id: &str) -> Result<(), FieldError> {
        let len = password.chars().count();
        if len < self.min_length as usize {
            return Err(FieldError::new(
                field,
                format!("パスワードは{}文字以上にしてください。", self.min_length),
            ));
        }
        if len > MAX_LENGTH {
            return Err(FieldError::new(field, format!("パスワードは{MAX_LENGTH}文字以内にしてください。")));
        }
        if is_common(password) {
            return Err(FieldError::new(
                field,
                "よく使われているパスワードのため使えません。他人に推測されにくいものにしてください。",
            ));
        }
        let letters = password.chars().any(|c| c.is_alphabetic());
        let digits = password.chars().any(|c| c.is_ascii_digit());
        if !letters || !digits {
            return Err(FieldError::new(field, "英字と数字を両方含めてください。"));
        }
        if !login_id.is_empty() && password.to_lowercase().contains(&login_id.to_lowercase()) {
            return Err(FieldError::new(field, "ログインIDを含むパスワードは使えません。"));
        }
        Ok(())
    }

    /// Whether a password set at `changed_at_ms` has to be changed at `now_ms`.
    pub fn is_expired(&self, changed_at_ms: i64, now_ms: i64) -> bool {
        match self.max_age_days {
            Some(days) => now_ms - changed_at_ms >= i64::from(days) * 86_400_000,
            None => false,
        }
    }

    /// The strictest of several policies: a person with accounts in several municipalities
    /// must satisfy all of them with one password.
    pub fn strictest(policies: impl IntoIterator<Item = PasswordPolicy>) -> PasswordPolicy {
        policies.into_iter().fold(
            PasswordPolicy { min_length: MIN_LENGTH_FLOOR, max_age_days: None },
            |a, b| PasswordPolicy {
                min_length: a.min_length.max(b.min_length),
                max_age_days: match (a.max_age_days, b.max_age_days) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                },
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_needs_length_letters_and_digits() {
        let p = PasswordPolicy::new(8, None).unwrap_or_default();
        assert!(p.check("pw", "tsubaki47", "nurse01").is_ok());
        assert!(p.check("pw", "abcdef1", "nurse01").is_err());
        assert!(p.check("pw", "abcdefgh", "nurse01").is_err());
        assert!(p.check("pw", "12345678", "nurse01").is_err());
        assert!(p.check("pw", "xxNurse01xx", "nurse01").is_err());
    }

    #[test]
    fn common_passwords_are_refused_in_any_width_or_case() {
        let p = PasswordPolicy::default();
        for common in ["password123", "Password123", "ＰＡＳＳＷＯＲＤ１２３", "qwerty123456"] {
            let e = p.check("pw", common, "nurse01").err().map(|e| e.message);
            assert_eq!(
                e.as_deref(),
                Some("よく使われているパスワードのため使えません。他人に推測されにくいものにしてください。"),
                "{common}"
            );
        }
        assert!(p.check("pw", "Sakura-houmon-2026", "nurse01").is_ok());
        assert!(COMMON.len() >= 10_000, "{}", COMMON.len());
    }

    #[test]
    fn the_floor_is_eight_characters() {
        assert!(PasswordPolicy::new(7, None).is_err());
        assert!(PasswordPolicy::new(8, Some(0)).is_err());
    }

    #[test]
    fn a_monthly_policy_expires_after_thirty_days() {
        let p = PasswordPolicy { min_length: 8, max_age_days: Some(30) };
        let day = 86_400_000;
        assert!(!p.is_expired(0, 29 * day));
        assert!(p.is_expired(0, 30 * day));
        assert!(!PasswordPolicy::default().is_expired(0, 3650 * day));
    }

    #[test]
    fn the_strictest_policy_wins() {
        let s = PasswordPolicy::strictest([
            PasswordPolicy { min_length: 12, max_age_days: None },
            PasswordPolicy { min_length: 8, max_age_days: Some(30) },
        ]);
        assert_eq!(s, PasswordPolicy { min_length: 12, max_age_days: Some(30) });
    }
}
