//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 passes). Passwords are
//! NFKC-normalised first, so a password typed with a full-width IME still matches.
//!
//! Each hash or check takes 19 MiB for its duration, so they run at most [`slots`] at a time
//! (one per core, at most four): sixty sign-ins at once wait their turn instead of taking more
//! than a gigabyte. One that cannot start within [`WAIT`] is refused with [`AppError::Busy`].

use std::sync::LazyLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::{Semaphore, SemaphorePermit};
use unicode_normalization::UnicodeNormalization as _;

use crate::error::AppError;

/// How long a hash or check may wait for its turn before the request is refused.
pub const WAIT: Duration = Duration::from_secs(10);

/// How many hashes or checks may run at once: one per core, at most four (76 MiB).
pub fn slots() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from).min(4)
}

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(slots()));

async fn turn() -> Result<SemaphorePermit<'static>, AppError> {
    turn_within(WAIT).await
}

async fn turn_within(wait: Duration) -> Result<SemaphorePermit<'static>, AppError> {
    match tokio::time::timeout(wait, SLOTS.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) | Err(_) => Err(AppError::Busy),
    }
}

/// A hash of a password nobody has; verifying against it costs the same as a real check, so
/// the time of a failed sign-in does not tell whether the login ID exists.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2D6nE/c8f33JpNFGexH8GJPnnXGSnBZ6rRm4jVRNJjs";

/// Folds the width of what was typed (NFKC) but, unlike other input, keeps every space.
pub fn normalize_password(password: &str) -> String {
    password.nfkc().collect()
}

pub async fn hash(password: &str) -> Result<String, AppError> {
    let password = normalize_password(password);
    let permit = turn().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// Checks `password` against `hash`, or against a dummy hash when there is none.
pub async fn verify(hash: Option<String>, password: &str) -> Result<bool, AppError> {
    let password = normalize_password(password);
    let exists = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
    let permit = turn().await?;
    let ok = tokio::task::spawn_blocking(move || {
        // The permit is given back only when the 19 MiB are.
        let _permit = permit;
        PasswordHash::new(&hash)
            .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false);
    Ok(ok && exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_typed_in_full_width_matches() {
        let h = hash("Sakura2026 ok").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Some(h.clone()), "Ｓａｋｕｒａ２０２６ ok").await.unwrap());
        assert!(!verify(Some(h), "Sakura2026ok").await.unwrap());
        assert!(!verify(None, "anything").await.unwrap());
    }

    #[tokio::test]
    async fn a_check_that_cannot_start_in_time_is_refused_as_busy() {
        assert!((1..=4).contains(&slots()));
        let all = SLOTS.acquire_many(slots() as u32).await.unwrap();
        assert!(matches!(turn_within(Duration::from_millis(50)).await, Err(AppError::Busy)));
        drop(all);
        assert!(turn_within(Duration::from_millis(50)).await.is_ok());
    }
}
