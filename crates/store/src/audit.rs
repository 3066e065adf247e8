//! The audit trail (G1): hash-chained entries, one chain per municipality. Changes write their
//! entry themselves (each mutation takes its [`AuditDraft`]); this area appends the entries
//! that stand alone and reads the chains back for the audit screen and verification.

use async_trait::async_trait;

use crate::*;

/// Appending to and reading the audit chains.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    async fn append_audit(&self, draft: &AuditDraft) -> StoreResult<()>;
    async fn audit_entries(&self, chain: &str, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;
    /// The whole chain in order, for verification.
    async fn audit_chain(&self, chain: &str) -> StoreResult<Vec<AuditRecord>>;
    /// The chain's entries from `from_seq` on, in order: what was written since a checkpoint.
    async fn audit_chain_from(&self, chain: &str, from_seq: i64) -> StoreResult<Vec<AuditRecord>>;
    /// Every chain that has a head row or any entry.
    async fn audit_chains(&self) -> StoreResult<Vec<String>>;
    /// Every chain's head row: where each chain says it ends.
    async fn audit_heads(&self) -> StoreResult<Vec<AuditHead>>;
}
