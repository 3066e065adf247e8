//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 passes). Passwords are
//! NFKC-normalised first, so a password typed with a full-width IME still matches.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use unicode_normalization::UnicodeNormalization as _;

/// A hash of a password nobody has; verifying against it costs the same as a real check, so
/// the time of a failed sign-in does not tell whether the login ID exists.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2D6nE/c8f33JpNFGexH8GJPnnXGSnBZ6rRm4jVRNJjs";

/// Folds the width of what was typed (NFKC) but, unlike other input, keeps every space.
pub fn normalize_password(password: &str) -> String {
    password.nfkc().collect()
}

pub async fn hash(password: &str) -> anyhow::Result<String> {
    let password = normalize_password(password);
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Checks `password` against `hash`, or against a dummy hash when there is none.
pub async fn verify(hash: Option<String>, password: &str) -> bool {
    let password = normalize_password(password);
    let exists = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false);
    ok && exists
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_typed_in_full_width_matches() {
        let h = hash("Sakura2026 ok").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Some(h.clone()), "Ｓａｋｕｒａ２０２６ ok").await);
        assert!(!verify(Some(h), "Sakura2026ok").await);
        assert!(!verify(None, "anything").await);
    }
}
