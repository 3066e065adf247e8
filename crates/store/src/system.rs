//! The database itself: which backend it is and whether it answers and writes (`/healthz`, `/metrics`).

use async_trait::async_trait;

use crate::StoreResult;

/// Whether the database is there and takes writes.
#[async_trait]
pub trait SystemStore: Send + Sync + 'static {
    /// The backend's name, for logs and `/metrics`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip to the database, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;
    /// A small write through the connection(s) that do the writing (on SQLite its single writer
    /// connection), committed: `/healthz` reports whether writes work, not only reads.
    async fn check_writer(&self, now_ms: i64) -> StoreResult<()>;
}

/// A lost connection at COMMIT, injected by tests into a store's next write of one kind: what
/// the web server sees when the database goes away before or after committing, without a
/// wrapper around the whole store. The backends check it where every audited write commits;
/// nothing arms it outside tests.
#[derive(Debug, Default)]
pub struct CommitFaults {
    /// Whether anything is armed: the one check an ordinary write pays.
    any: std::sync::atomic::AtomicBool,
    armed: std::sync::Mutex<Vec<(String, CommitFault)>>,
}

/// When the connection is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitFault {
    /// Before COMMIT: nothing is written, and the caller gets an error.
    BeforeCommit,
    /// After COMMIT: the write is there, but the caller gets an error instead of the answer.
    AfterCommit,
}

impl CommitFaults {
    /// The next write whose audit action is `action` fails as `fault` says.
    pub fn arm(&self, action: &str, fault: CommitFault) {
        self.armed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((action.to_string(), fault));
        self.any.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The fault armed for a write of `action`, disarmed as it is taken.
    pub fn take(&self, action: &str) -> Option<CommitFault> {
        if !self.any.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let mut armed = self.armed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = armed.iter().position(|(a, _)| a == action)?;
        let (_, fault) = armed.remove(at);
        self.any.store(!armed.is_empty(), std::sync::atomic::Ordering::SeqCst);
        Some(fault)
    }
}
