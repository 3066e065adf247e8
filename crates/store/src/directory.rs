//! The directory (A1–A3): municipalities, facilities, the people who sign in (identities) and
//! their accounts, and the one-time links that create and activate them.

use async_trait::async_trait;
use renraku_domain::ids::{AccountId, FacilityId, IdentityId, MunicipalityId};

use crate::*;

/// Municipalities, facilities, identities, accounts and one-time links. Every change takes its
/// audit entry and commits with it.
#[async_trait]
pub trait DirectoryStore: Send + Sync + 'static {
    // Municipalities (A1).
    async fn create_municipality(
        &self,
        new: &NewMunicipality,
        audit: &AuditDraft,
    ) -> StoreResult<Municipality>;
    async fn municipalities(&self) -> StoreResult<Vec<Municipality>>;
    async fn municipality(&self, id: &MunicipalityId) -> StoreResult<Municipality>;
    async fn municipality_by_code(&self, code: &str) -> StoreResult<Municipality>;
    /// Corrects a municipality's name (the operator's screen); its 団体コード never changes.
    async fn rename_municipality(
        &self,
        id: &MunicipalityId,
        name: &renraku_domain::directory::Name,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn update_municipality_settings(
        &self,
        id: &MunicipalityId,
        settings: &MunicipalitySettings,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    // Facilities (A2). Every facility query is scoped by municipality.
    async fn create_facility(
        &self,
        municipality_id: &MunicipalityId,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Facility>;
    async fn update_facility(
        &self,
        municipality_id: &MunicipalityId,
        id: &FacilityId,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn facility(&self, municipality_id: &MunicipalityId, id: &FacilityId) -> StoreResult<Facility>;
    async fn facilities(&self, municipality_id: &MunicipalityId) -> StoreResult<Vec<Facility>>;
    // People (A3). An identity is the person who signs in; an account is their role in one
    // municipality (or the operator's role on the server).
    async fn operator_exists(&self) -> StoreResult<bool>;
    /// Creates the identity and its first account, pending until the activation link is used.
    async fn create_account(
        &self,
        new: &NewAccount,
        activation: &NewToken,
        audit: &AuditDraft,
    ) -> StoreResult<Account>;
    /// Changes an account; refused with [`StoreError::LastManager`] when a facility would lose
    /// its last active manager.
    async fn update_account(
        &self,
        municipality_id: &MunicipalityId,
        id: &AccountId,
        update: &AccountUpdate,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn set_account_status(
        &self,
        municipality_id: &MunicipalityId,
        id: &AccountId,
        status: renraku_domain::directory::AccountStatus,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn account(&self, id: &AccountId) -> StoreResult<Account>;
    async fn accounts(
        &self,
        municipality_id: &MunicipalityId,
        facility_id: Option<&FacilityId>,
    ) -> StoreResult<Vec<Account>>;
    async fn accounts_of_identity(&self, identity_id: &IdentityId) -> StoreResult<Vec<Account>>;
    async fn identity(&self, id: &IdentityId) -> StoreResult<Identity>;
    async fn identity_by_login(&self, login_id: &str) -> StoreResult<Option<Identity>>;
    /// Sets a new password and signs the person out everywhere but `keep_session` (the session
    /// that changed it), with its audit entry, in one transaction.
    async fn set_password(
        &self,
        identity_id: &IdentityId,
        hash: &str,
        at_ms: i64,
        keep_session: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    // One-time links (setup, activation).
    async fn create_token(&self, token: &NewToken, audit: &AuditDraft) -> StoreResult<()>;
    async fn token(&self, hash: &str, now_ms: i64) -> StoreResult<Token>;
    /// Uses the setup link: creates the operator with their password, in one transaction.
    async fn complete_setup(
        &self,
        token_hash: &str,
        operator: &NewAccount,
        password_hash: &str,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<Account>;
    /// Uses an activation link: sets the person's own password and activates their accounts.
    async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<Identity>;
}
