//! The audit trail in portable SQL (G1): sealing an entry into its chain inside the caller's
//! transaction, and reading the chains back.

use anyhow::anyhow;
use async_trait::async_trait;
use renraku_domain::audit::{AuditFacts, GENESIS, OPERATOR_CHAIN};
use renraku_store::*;

use super::{Tx, db_err, get};
use crate::{DbRow, SqlStore, dialect};

fn audit_from(row: &DbRow) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        facts: AuditFacts {
            chain: get(row, "chain")?,
            seq: get(row, "seq")?,
            at_ms: get(row, "at_ms")?,
            actor_account_id: get(row, "actor_account_id")?,
            actor_login: get(row, "actor_login")?,
            ip: get(row, "ip")?,
            action: get(row, "action")?,
            object_type: get(row, "object_type")?,
            object_id: get(row, "object_id")?,
            outcome: get(row, "outcome")?,
            detail: get(row, "detail")?,
        },
        seal: get(row, "seal")?,
    })
}

impl SqlStore {
    /// Seals `draft` into its municipality's chain, inside the caller's transaction. The head
    /// row is taken first (locked on PostgreSQL; SQLite has a single writer), so two appends to
    /// one chain can never claim the same place.
    pub(crate) async fn append(&self, tx: &mut Tx, draft: &AuditDraft) -> StoreResult<()> {
        let chain = draft.municipality_id.as_deref().unwrap_or(OPERATOR_CHAIN);
        sqlx::query(
            "INSERT INTO audit_heads (chain, seq, seal) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING",
        )
        .bind(chain)
        .bind(GENESIS)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        let (prev_seq, prev_seal) = dialect::lock_audit_head(tx, chain).await?;
        let facts = AuditFacts {
            chain: chain.to_string(),
            seq: prev_seq + 1,
            at_ms: draft.at_ms,
            actor_account_id: draft.actor_account_id.as_ref().map(ToString::to_string),
            actor_login: draft.actor_login.clone(),
            ip: draft.ip.clone(),
            action: draft.action.code().to_string(),
            object_type: draft.object_type.clone(),
            object_id: draft.object_id.clone(),
            outcome: draft.outcome.clone(),
            detail: draft.detail.clone(),
        };
        let seal = self.sealer.seal(&prev_seal, &facts);
        sqlx::query(
            "INSERT INTO audit_events (chain, seq, at_ms, actor_account_id, actor_login, ip, action, object_type, \
             object_id, outcome, detail, seal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&facts.chain)
        .bind(facts.seq)
        .bind(facts.at_ms)
        .bind(&facts.actor_account_id)
        .bind(&facts.actor_login)
        .bind(&facts.ip)
        .bind(&facts.action)
        .bind(&facts.object_type)
        .bind(&facts.object_id)
        .bind(&facts.outcome)
        .bind(&facts.detail)
        .bind(&seal)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE audit_heads SET seq = $2, seal = $3 WHERE chain = $1")
            .bind(chain)
            .bind(facts.seq)
            .bind(&seal)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Commits `tx` after appending `audit` to it.
    pub(crate) async fn commit_with(&self, mut tx: Tx, audit: &AuditDraft) -> StoreResult<()> {
        self.append(&mut tx, audit).await?;
        let fault = self.faults().take(audit.action.code());
        if fault == Some(CommitFault::BeforeCommit) {
            // `tx` is dropped uncommitted: rolled back, as a lost connection would leave it.
            return Err(StoreError::Other(anyhow!("connection closed before COMMIT")));
        }
        tx.commit().await.map_err(db_err)?;
        if fault == Some(CommitFault::AfterCommit) {
            return Err(StoreError::Other(anyhow!("connection closed after COMMIT")));
        }
        Ok(())
    }
}

#[async_trait]
impl AuditLog for SqlStore {
    async fn append_audit(&self, draft: &AuditDraft) -> StoreResult<()> {
        let tx = self.begin().await?;
        self.commit_with(tx, draft).await
    }

    async fn audit_entries(&self, chain: &str, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_events WHERE chain = $1 AND ($2 IS NULL OR at_ms >= $2) AND ($3 IS NULL OR at_ms < $3) \
             AND ($4 IS NULL OR actor_login = $4) AND ($5 IS NULL OR action LIKE $5) \
             ORDER BY seq DESC LIMIT $6",
        )
        .bind(chain)
        .bind(filter.from_ms)
        .bind(filter.until_ms)
        .bind(&filter.actor_login)
        .bind(filter.action_prefix.as_ref().map(|p| format!("{}%", p.replace(['%', '_'], ""))))
        .bind(filter.limit)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_chain(&self, chain: &str) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT * FROM audit_events WHERE chain = $1 ORDER BY seq")
            .bind(chain)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_chain_from(&self, chain: &str, from_seq: i64) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT * FROM audit_events WHERE chain = $1 AND seq >= $2 ORDER BY seq")
            .bind(chain)
            .bind(from_seq)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_chains(&self) -> StoreResult<Vec<String>> {
        // A chain whose head row was deleted still shows through its entries.
        let rows = sqlx::query(
            "SELECT chain FROM audit_heads UNION SELECT DISTINCT chain FROM audit_events ORDER BY chain",
        )
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| get(r, "chain")).collect()
    }

    async fn audit_heads(&self) -> StoreResult<Vec<AuditHead>> {
        let rows = sqlx::query("SELECT chain, seq, seal FROM audit_heads ORDER BY chain")
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok(AuditHead { chain: get(r, "chain")?, seq: get(r, "seq")?, seal: get(r, "seal")? }))
            .collect()
    }
}
