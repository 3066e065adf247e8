//! Signing in (C1–C4): the second factor and its recovery codes, the throttle on failed
//! attempts, and the sessions of signed-in browsers.

use async_trait::async_trait;
use renraku_domain::ids::{IdentityId, MunicipalityId, SessionId};

use crate::*;

/// Second factors, sign-in throttling and sessions.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    // The second factor: TOTP and recovery codes.
    /// Stores (or, with `None`, removes) the encrypted TOTP secret and replaces the recovery
    /// codes; removing also signs the person out everywhere.
    async fn set_second_factor(
        &self,
        identity_id: &IdentityId,
        totp_secret: Option<&[u8]>,
        recovery_code_hashes: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Records the time step of an accepted TOTP code. Returns false if that step (or a later
    /// one) was already used, so a code cannot be replayed.
    async fn accept_totp_step(&self, identity_id: &IdentityId, step: i64) -> StoreResult<bool>;
    /// Marks a recovery code used; false if it is unknown or used.
    async fn use_recovery_code(
        &self,
        identity_id: &IdentityId,
        code_hash: &str,
        at_ms: i64,
    ) -> StoreResult<bool>;
    async fn unused_recovery_codes(&self, identity_id: &IdentityId) -> StoreResult<i64>;
    // Sign-in throttling, keyed by login ID (`login:…`, whether or not it exists), by address
    // (`ip:…`) and, for the second factor, by identity (`second_factor:<identity id>`).
    async fn throttle(&self, key: &str, now_ms: i64) -> StoreResult<Throttle>;
    /// Checks the lock and counts the attempt as a failure in one atomic step, before the
    /// caller checks the password or code: parallel attempts cannot all pass an open lock.
    /// A key whose lock ran out starts a new count.
    async fn claim_attempt(&self, key: &str, now_ms: i64, policy: &ThrottlePolicy) -> StoreResult<Attempt>;
    /// Takes back one attempt counted by [`SessionStore::claim_attempt`] that turned out right (or was
    /// never checked); a lock that only this attempt caused is lifted.
    async fn forgive_attempt(&self, key: &str, policy: &ThrottlePolicy) -> StoreResult<()>;
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;
    /// The sign-in locks in force at `now_ms` on the municipality's accounts (password locks of
    /// their login IDs and second-factor locks of their identities).
    async fn sign_in_locks(
        &self,
        municipality_id: &MunicipalityId,
        now_ms: i64,
    ) -> StoreResult<Vec<SignInLock>>;
    /// Lifts both locks of an identity (its login ID's and its second factor's), with the audit
    /// entry that records who did it.
    async fn release_sign_in_locks(&self, identity_id: &IdentityId, audit: &AuditDraft) -> StoreResult<()>;
    // Sessions (C4).
    /// Starts a session, with the audit entry of the sign-in that started it.
    async fn create_session(&self, session: &NewSession, audit: &AuditDraft) -> StoreResult<()>;
    /// The live session with this token hash; expired and revoked ones are not returned.
    async fn session(&self, token_hash: &str, now_ms: i64) -> StoreResult<Option<Session>>;
    /// [`SessionStore::session`] with its account, identity and municipality, in one round
    /// trip: the check every signed-in request makes.
    async fn session_context(&self, token_hash: &str, now_ms: i64) -> StoreResult<Option<SessionContext>>;
    async fn touch_session(&self, id: &SessionId, now_ms: i64) -> StoreResult<()>;
    /// The session passed its second factor, with the audit entry of the sign-in.
    async fn complete_second_factor(
        &self,
        id: &SessionId,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn sessions_of_identity(&self, identity_id: &IdentityId, now_ms: i64) -> StoreResult<Vec<Session>>;
    /// Revokes one session of this identity, with its audit entry; false (and nothing written)
    /// if there was no such live session.
    async fn revoke_session(
        &self,
        identity_id: &IdentityId,
        id: &SessionId,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<bool>;
    /// Revokes every session of the identity except `keep`, with its audit entry, whose detail
    /// gets `count=N` (how many were revoked).
    async fn revoke_sessions(
        &self,
        identity_id: &IdentityId,
        keep: Option<&SessionId>,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<u64>;
}
