//! Password hashing with Argon2id (OWASP parameters: 19 MiB, 2 passes). Passwords are
//! NFKC-normalised first, so a password typed with a full-width IME still matches.
//!
//! Each hash or check takes 19 MiB for its duration, so they run at most [`slots`] at a time
//! (one per core, at most four), on as many long-lived threads of their own: sixty sign-ins at
//! once wait their turn instead of taking more than a gigabyte. One that cannot start within
//! [`WAIT`] is refused with [`AppError::Busy`].

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, mpsc};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

/// A job for an Argon2 thread, given the thread's own Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send + 'static>;

/// The threads that run Argon2, one per slot, each with its 19 MiB of Argon2 memory allocated
/// once and reused for every check. (With a fresh allocation per check, the allocator kept
/// freed blocks around, and sixty sign-ins left 150–270 MiB resident even with two slots.)
static WORKERS: LazyLock<Option<mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let mut started = 0;
    for i in 0..slots() {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
            let mut memory = Vec::new();
            loop {
                let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                let Ok(job) = job else { return };
                // A panicking job must not take the thread with it.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
            }
        });
        match spawned {
            Ok(_) => started += 1,
            Err(e) => tracing::error!(error = %e, "cannot start an Argon2 thread"),
        }
    }
    (started > 0).then_some(jobs)
});

/// Runs `work` on an Argon2 thread once a slot is free.
async fn run<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T, AppError> {
    let permit = turn().await?;
    let workers = WORKERS.as_ref().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no Argon2 thread")))?;
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |memory| {
        let _permit = permit;
        let _ = done.send(work(memory));
    });
    workers.send(job).map_err(|_| AppError::Internal(anyhow::anyhow!("the Argon2 threads stopped")))?;
    result.await.map_err(|_| AppError::Internal(anyhow::anyhow!("an Argon2 job was lost")))
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
    run(move |_| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    })
    .await?
}

/// Checks `password` against `hash`, or against a dummy hash when there is none.
pub async fn verify(hash: Option<String>, password: &str) -> Result<bool, AppError> {
    let password = normalize_password(password);
    let exists = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok = run(move |memory| matches(memory, password.as_bytes(), &hash)).await?;
    Ok(ok && exists)
}

/// What `PasswordVerifier::verify_password` does, in `memory` instead of a new allocation:
/// the hash's own algorithm, version, parameters and salt, and a constant-time comparison
/// (`Output`'s `==`).
fn matches(memory: &mut Vec<Block>, password: &[u8], hash: &str) -> bool {
    let Ok(hash) = PasswordHash::new(hash) else { return false };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else {
        return false;
    };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params);
    let computed = Output::init_with(expected.len(), |out| {
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..]).map_err(Into::into)
    });
    computed.is_ok_and(|computed| computed == expected)
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

    #[test]
    fn checks_in_reused_memory_agree_with_the_library() {
        let mut memory = Vec::new();
        let small = Params::new(1024, 1, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        for argon2 in [Argon2::default(), Argon2::new(Algorithm::Argon2i, Version::V0x10, small)] {
            let h = argon2.hash_password(b"Sakura-2026", &salt).unwrap().to_string();
            assert!(matches(&mut memory, b"Sakura-2026", &h), "{h}");
            assert!(!matches(&mut memory, b"Sakura-2027", &h), "{h}");
        }
        assert_eq!(memory.len(), Params::default().block_count(), "allocated once, at the largest size");
        assert!(!matches(&mut memory, b"", DUMMY_HASH));
        assert!(!matches(&mut memory, b"x", "not a hash"));
        assert!(!matches(&mut memory, b"x", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ"));
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
