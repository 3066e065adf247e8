//! Signing in, in portable SQL (C1–C4): the second factor and recovery codes, the throttle on
//! failed attempts, and sessions.

use async_trait::async_trait;
use renraku_store::*;

use super::directory::rows::{account_from_as, identity_from_as, municipality_from_as};
use super::{db_err, get, get_as, get_id, get_id_as};
use crate::{DbRow, SqlStore, dialect};

const SESSION_COLUMNS: &str = "id, identity_id, account_id, created_at_ms, last_seen_at_ms, idle_timeout_ms, \
    expires_at_ms, second_factor_done, ip, user_agent";

fn session_from(row: &DbRow) -> StoreResult<Session> {
    session_from_as(row, "")
}

fn session_from_as(row: &DbRow, p: &str) -> StoreResult<Session> {
    Ok(Session {
        id: get_id_as(row, p, "id")?,
        identity_id: get_id_as(row, p, "identity_id")?,
        account_id: get_id_as(row, p, "account_id")?,
        created_at_ms: get_as(row, p, "created_at_ms")?,
        last_seen_at_ms: get_as(row, p, "last_seen_at_ms")?,
        idle_timeout_ms: get_as(row, p, "idle_timeout_ms")?,
        expires_at_ms: get_as(row, p, "expires_at_ms")?,
        second_factor_done: get_as(row, p, "second_factor_done")?,
        ip: get_as(row, p, "ip")?,
        user_agent: get_as(row, p, "user_agent")?,
    })
}

/// The only "live session" condition; every session query uses it (its columns are the
/// session's alone, so it reads the same in a query that joins the account and the rest).
const LIVE_SESSION: &str =
    "revoked_at_ms IS NULL AND expires_at_ms > $2 AND last_seen_at_ms + idle_timeout_ms > $2";

#[async_trait]
impl SessionStore for SqlStore {
    async fn set_second_factor(
        &self,
        identity_id: &IdentityId,
        totp_secret: Option<&[u8]>,
        recovery_code_hashes: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE identities SET totp_secret = $2, totp_last_step = 0 WHERE id = $1")
            .bind(identity_id.as_str())
            .bind(totp_secret)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE identity_id = $1")
            .bind(identity_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // A second factor set anew (or reset by an admin) starts without the old one's lock.
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(format!("second_factor:{identity_id}"))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for hash in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (identity_id, code_hash) VALUES ($1, $2)")
                .bind(identity_id.as_str())
                .bind(hash)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if totp_secret.is_none() {
            sqlx::query(
                "UPDATE sessions SET revoked_at_ms = $2 WHERE identity_id = $1 AND revoked_at_ms IS NULL",
            )
            .bind(identity_id.as_str())
            .bind(audit.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        self.commit_with(tx, audit).await
    }

    async fn accept_totp_step(&self, identity_id: &IdentityId, step: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE identities SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
                .bind(identity_id.as_str())
                .bind(step)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(
        &self,
        identity_id: &IdentityId,
        code_hash: &str,
        at_ms: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at_ms = $3 WHERE identity_id = $1 AND code_hash = $2 AND used_at_ms IS NULL",
        )
        .bind(identity_id.as_str())
        .bind(code_hash)
        .bind(at_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unused_recovery_codes(&self, identity_id: &IdentityId) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE identity_id = $1 AND used_at_ms IS NULL",
        )
        .bind(identity_id.as_str())
        .fetch_one(self.reader())
        .await
        .map_err(db_err)?;
        get(&row, "n")
    }

    async fn throttle(&self, key: &str, now_ms: i64) -> StoreResult<Throttle> {
        let row = sqlx::query("SELECT failures, locked_until_ms FROM login_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(Throttle::default()) };
        let locked_until_ms: Option<i64> = get(&row, "locked_until_ms")?;
        Ok(Throttle {
            failures: get(&row, "failures")?,
            locked_until_ms: locked_until_ms.filter(|t| *t > now_ms),
        })
    }

    async fn claim_attempt(&self, key: &str, now_ms: i64, policy: &ThrottlePolicy) -> StoreResult<Attempt> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO login_throttle (key, failures, first_failure_at_ms) VALUES ($1, 0, $2) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // The row is locked (PostgreSQL) or the database is (SQLite's single writer) from here to
        // the commit, so the check and the count are one step for every attempt on this key.
        let row = dialect::lock_throttle(&mut tx, key).await?;
        let mut failures: i64 = get(&row, "failures")?;
        let mut first_failure_at_ms: i64 = get(&row, "first_failure_at_ms")?;
        let mut locked_until_ms: Option<i64> = get(&row, "locked_until_ms")?;
        if locked_until_ms.is_some_and(|t| t > now_ms) {
            tx.commit().await.map_err(db_err)?;
            return Ok(Attempt { allowed: false, throttle: Throttle { failures, locked_until_ms } });
        }
        // A lock that ran out, or failures older than the window, start a new count.
        if locked_until_ms.is_some() || first_failure_at_ms < now_ms - policy.window_ms {
            (failures, first_failure_at_ms, locked_until_ms) = (0, now_ms, None);
        }
        failures += 1;
        if failures >= policy.max_failures {
            locked_until_ms = Some(now_ms + policy.lock_ms);
        }
        sqlx::query(
            "UPDATE login_throttle SET failures = $2, first_failure_at_ms = $3, locked_until_ms = $4 WHERE key = $1",
        )
        .bind(key)
        .bind(failures)
        .bind(first_failure_at_ms)
        .bind(locked_until_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Attempt { allowed: true, throttle: Throttle { failures, locked_until_ms } })
    }

    async fn forgive_attempt(&self, key: &str, policy: &ThrottlePolicy) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1, \
             locked_until_ms = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until_ms END \
             WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .bind(policy.max_failures)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn sign_in_locks(
        &self,
        municipality_id: &MunicipalityId,
        now_ms: i64,
    ) -> StoreResult<Vec<SignInLock>> {
        let rows = sqlx::query(
            "SELECT a.id AS account_id, t.key, t.locked_until_ms FROM accounts a \
             JOIN identities i ON i.id = a.identity_id \
             JOIN login_throttle t ON t.key = 'login:' || i.login_id OR t.key = 'second_factor:' || i.id \
             WHERE a.municipality_id = $1 AND t.locked_until_ms > $2 ORDER BY a.id, t.key",
        )
        .bind(municipality_id.as_str())
        .bind(now_ms)
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                Ok(SignInLock {
                    account_id: get_id(row, "account_id")?,
                    second_factor: get::<String>(row, "key")?.starts_with("second_factor:"),
                    locked_until_ms: get(row, "locked_until_ms")?,
                })
            })
            .collect()
    }

    async fn release_sign_in_locks(&self, identity_id: &IdentityId, audit: &AuditDraft) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT login_id FROM identities WHERE id = $1")
            .bind(identity_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let login_id: String = get(&row, "login_id")?;
        sqlx::query("DELETE FROM login_throttle WHERE key = $1 OR key = $2")
            .bind(format!("login:{login_id}"))
            .bind(format!("second_factor:{identity_id}"))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    async fn create_session(&self, s: &NewSession, audit: &AuditDraft) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, identity_id, account_id, municipality_id, created_at_ms, \
             last_seen_at_ms, idle_timeout_ms, expires_at_ms, second_factor_done, ip, user_agent) \
             SELECT $1, $2, $3, $4, a.municipality_id, $5, $5, $6, $7, FALSE, $8, $9 FROM accounts a WHERE a.id = $4",
        )
        .bind(s.id.as_str())
        .bind(&s.token_hash)
        .bind(s.identity_id.as_str())
        .bind(s.account_id.as_str())
        .bind(s.created_at_ms)
        .bind(s.idle_timeout_ms)
        .bind(s.expires_at_ms)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> StoreResult<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1 AND {LIVE_SESSION}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        row.as_ref().map(session_from).transpose()
    }

    async fn session_context(&self, token_hash: &str, now_ms: i64) -> StoreResult<Option<SessionContext>> {
        let sql = format!(
            "SELECT s.id AS s_id, s.identity_id AS s_identity_id, s.account_id AS s_account_id, \
             s.created_at_ms AS s_created_at_ms, s.last_seen_at_ms AS s_last_seen_at_ms, \
             s.idle_timeout_ms AS s_idle_timeout_ms, s.expires_at_ms AS s_expires_at_ms, \
             s.second_factor_done AS s_second_factor_done, s.ip AS s_ip, s.user_agent AS s_user_agent, \
             a.id AS a_id, a.identity_id AS a_identity_id, ai.login_id AS a_login_id, \
             a.municipality_id AS a_municipality_id, a.facility_id AS a_facility_id, a.role AS a_role, \
             a.name AS a_name, a.kana AS a_kana, a.occupation AS a_occupation, \
             a.occupation_other AS a_occupation_other, a.email AS a_email, a.phone AS a_phone, \
             a.is_manager AS a_is_manager, a.careplan AS a_careplan, a.status AS a_status, \
             a.created_at_ms AS a_created_at_ms, \
             i.id AS i_id, i.login_id AS i_login_id, i.password_hash AS i_password_hash, \
             i.password_changed_at_ms AS i_password_changed_at_ms, i.totp_secret AS i_totp_secret, \
             i.created_at_ms AS i_created_at_ms, \
             m.id AS m_id, m.code AS m_code, m.name AS m_name, m.pw_min_length AS m_pw_min_length, \
             m.pw_max_age_days AS m_pw_max_age_days, m.idle_timeout_secs AS m_idle_timeout_secs, \
             m.absolute_timeout_secs AS m_absolute_timeout_secs, \
             m.care_manager_may_invite AS m_care_manager_may_invite, m.created_at_ms AS m_created_at_ms \
             FROM sessions s JOIN accounts a ON a.id = s.account_id \
             JOIN identities ai ON ai.id = a.identity_id JOIN identities i ON i.id = s.identity_id \
             LEFT JOIN municipalities m ON m.id = a.municipality_id \
             WHERE s.token_hash = $1 AND {LIVE_SESSION}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(self.reader())
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let account = account_from_as(&row, "a_")?;
        let municipality = match &account.municipality_id {
            Some(_) if get::<Option<String>>(&row, "m_id")?.is_none() => return Err(StoreError::NotFound),
            Some(_) => Some(municipality_from_as(&row, "m_")?),
            None => None,
        };
        Ok(Some(SessionContext {
            session: session_from_as(&row, "s_")?,
            account,
            identity: identity_from_as(&row, "i_")?,
            municipality,
        }))
    }

    async fn touch_session(&self, id: &SessionId, now_ms: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at_ms = $2 WHERE id = $1 AND last_seen_at_ms < $2")
            .bind(id.as_str())
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn complete_second_factor(
        &self,
        id: &SessionId,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET second_factor_done = TRUE, last_seen_at_ms = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        self.commit_with(tx, audit).await
    }

    async fn sessions_of_identity(&self, identity_id: &IdentityId, now_ms: i64) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE identity_id = $1 AND {LIVE_SESSION} ORDER BY created_at_ms DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(identity_id.as_str())
            .bind(now_ms)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(session_from).collect()
    }

    async fn revoke_session(
        &self,
        identity_id: &IdentityId,
        id: &SessionId,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $3 WHERE identity_id = $1 AND id = $2 AND revoked_at_ms IS NULL",
        )
        .bind(identity_id.as_str())
        .bind(id.as_str())
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.commit_with(tx, audit).await?;
        Ok(true)
    }

    async fn revoke_sessions(
        &self,
        identity_id: &IdentityId,
        keep: Option<&SessionId>,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $3 WHERE identity_id = $1 AND revoked_at_ms IS NULL \
             AND ($2 IS NULL OR id <> $2)",
        )
        .bind(identity_id.as_str())
        .bind(keep.map(|k| k.as_str()))
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let count = done.rows_affected();
        let mut audit = audit.clone();
        audit.detail = [audit.detail.as_str(), &format!("count={count}")].join(" ").trim().to_string();
        self.commit_with(tx, &audit).await?;
        Ok(count)
    }
}
