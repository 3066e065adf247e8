//! A store whose answer to one write is lost after the write was committed — what the web
//! server sees when PostgreSQL goes away at COMMIT, or the connection drops before the answer
//! comes back. The real store (SQLite or PostgreSQL) does the work; only the answer is replaced
//! by the error a lost connection gives.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use renraku_domain::rooms::PostText;
use renraku_store::*;

pub struct AnswerLost {
    inner: Arc<dyn Store>,
    /// The next `create_post` writes, then fails as if the connection went away.
    armed: AtomicBool,
    /// The next `create_post` fails the same way without writing (gone before COMMIT).
    unwritten: AtomicBool,
}

impl AnswerLost {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, armed: AtomicBool::new(false), unwritten: AtomicBool::new(false) }
    }

    pub fn lose_the_next_post_answer(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    pub fn lose_the_next_post_unwritten(&self) {
        self.unwritten.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for AnswerLost {
    async fn create_post(
        &self,
        access: &RoomAccess,
        post: &NewPost,
        audit: &AuditDraft,
    ) -> StoreResult<PostView> {
        if self.unwritten.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Other(anyhow::anyhow!("connection closed before COMMIT")));
        }
        let written = self.inner.create_post(access, post, audit).await?;
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Other(anyhow::anyhow!(
                "connection closed after COMMIT ({})",
                written.id
            )));
        }
        Ok(written)
    }

    // Everything else as the real store does it.
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn check_writer(&self, now_ms: i64) -> StoreResult<()> {
        self.inner.check_writer(now_ms).await
    }

    async fn create_municipality(
        &self,
        new: &NewMunicipality,
        audit: &AuditDraft,
    ) -> StoreResult<Municipality> {
        self.inner.create_municipality(new, audit).await
    }

    async fn municipalities(&self) -> StoreResult<Vec<Municipality>> {
        self.inner.municipalities().await
    }

    async fn municipality(&self, id: &str) -> StoreResult<Municipality> {
        self.inner.municipality(id).await
    }

    async fn municipality_by_code(&self, code: &str) -> StoreResult<Municipality> {
        self.inner.municipality_by_code(code).await
    }

    async fn update_municipality_settings(
        &self,
        id: &str,
        settings: &MunicipalitySettings,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.update_municipality_settings(id, settings, audit).await
    }

    async fn create_facility(
        &self,
        municipality_id: &str,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Facility> {
        self.inner.create_facility(municipality_id, info, audit).await
    }

    async fn update_facility(
        &self,
        municipality_id: &str,
        id: &str,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.update_facility(municipality_id, id, info, audit).await
    }

    async fn facility(&self, municipality_id: &str, id: &str) -> StoreResult<Facility> {
        self.inner.facility(municipality_id, id).await
    }

    async fn facilities(&self, municipality_id: &str) -> StoreResult<Vec<Facility>> {
        self.inner.facilities(municipality_id).await
    }

    async fn operator_exists(&self) -> StoreResult<bool> {
        self.inner.operator_exists().await
    }

    async fn create_account(
        &self,
        new: &NewAccount,
        activation: &NewToken,
        audit: &AuditDraft,
    ) -> StoreResult<Account> {
        self.inner.create_account(new, activation, audit).await
    }

    async fn update_account(
        &self,
        municipality_id: &str,
        id: &str,
        update: &AccountUpdate,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.update_account(municipality_id, id, update, audit).await
    }

    async fn set_account_status(
        &self,
        municipality_id: &str,
        id: &str,
        status: renraku_domain::directory::AccountStatus,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.set_account_status(municipality_id, id, status, audit).await
    }

    async fn account(&self, id: &str) -> StoreResult<Account> {
        self.inner.account(id).await
    }

    async fn accounts(&self, municipality_id: &str, facility_id: Option<&str>) -> StoreResult<Vec<Account>> {
        self.inner.accounts(municipality_id, facility_id).await
    }

    async fn accounts_of_identity(&self, identity_id: &str) -> StoreResult<Vec<Account>> {
        self.inner.accounts_of_identity(identity_id).await
    }

    async fn identity(&self, id: &str) -> StoreResult<Identity> {
        self.inner.identity(id).await
    }

    async fn identity_by_login(&self, login_id: &str) -> StoreResult<Option<Identity>> {
        self.inner.identity_by_login(login_id).await
    }

    async fn set_password(
        &self,
        identity_id: &str,
        hash: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.set_password(identity_id, hash, at_ms, audit).await
    }

    async fn set_second_factor(
        &self,
        identity_id: &str,
        totp_secret: Option<&[u8]>,
        recovery_code_hashes: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.set_second_factor(identity_id, totp_secret, recovery_code_hashes, audit).await
    }

    async fn accept_totp_step(&self, identity_id: &str, step: i64) -> StoreResult<bool> {
        self.inner.accept_totp_step(identity_id, step).await
    }

    async fn use_recovery_code(&self, identity_id: &str, code_hash: &str, at_ms: i64) -> StoreResult<bool> {
        self.inner.use_recovery_code(identity_id, code_hash, at_ms).await
    }

    async fn unused_recovery_codes(&self, identity_id: &str) -> StoreResult<i64> {
        self.inner.unused_recovery_codes(identity_id).await
    }

    async fn create_token(&self, token: &NewToken, audit: &AuditDraft) -> StoreResult<()> {
        self.inner.create_token(token, audit).await
    }

    async fn token(&self, hash: &str, now_ms: i64) -> StoreResult<Token> {
        self.inner.token(hash, now_ms).await
    }

    async fn complete_setup(
        &self,
        token_hash: &str,
        operator: &NewAccount,
        password_hash: &str,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<Account> {
        self.inner.complete_setup(token_hash, operator, password_hash, now_ms, audit).await
    }

    async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<Identity> {
        self.inner.activate(token_hash, password_hash, now_ms, audit).await
    }

    async fn throttle(&self, key: &str, now_ms: i64) -> StoreResult<Throttle> {
        self.inner.throttle(key, now_ms).await
    }

    async fn claim_attempt(&self, key: &str, now_ms: i64, policy: &ThrottlePolicy) -> StoreResult<Attempt> {
        self.inner.claim_attempt(key, now_ms, policy).await
    }

    async fn forgive_attempt(&self, key: &str, policy: &ThrottlePolicy) -> StoreResult<()> {
        self.inner.forgive_attempt(key, policy).await
    }

    async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        self.inner.clear_failures(key).await
    }

    async fn sign_in_locks(&self, municipality_id: &str, now_ms: i64) -> StoreResult<Vec<SignInLock>> {
        self.inner.sign_in_locks(municipality_id, now_ms).await
    }

    async fn release_sign_in_locks(&self, identity_id: &str, audit: &AuditDraft) -> StoreResult<()> {
        self.inner.release_sign_in_locks(identity_id, audit).await
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        self.inner.create_session(session).await
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> StoreResult<Option<Session>> {
        self.inner.session(token_hash, now_ms).await
    }

    async fn touch_session(&self, id: &str, now_ms: i64) -> StoreResult<()> {
        self.inner.touch_session(id, now_ms).await
    }

    async fn complete_second_factor(&self, id: &str, now_ms: i64) -> StoreResult<()> {
        self.inner.complete_second_factor(id, now_ms).await
    }

    async fn sessions_of_identity(&self, identity_id: &str, now_ms: i64) -> StoreResult<Vec<Session>> {
        self.inner.sessions_of_identity(identity_id, now_ms).await
    }

    async fn revoke_session(&self, identity_id: &str, id: &str, now_ms: i64) -> StoreResult<bool> {
        self.inner.revoke_session(identity_id, id, now_ms).await
    }

    async fn revoke_sessions(&self, identity_id: &str, keep: Option<&str>, now_ms: i64) -> StoreResult<u64> {
        self.inner.revoke_sessions(identity_id, keep, now_ms).await
    }

    async fn open_room(
        &self,
        municipality_id: &str,
        patient: &PatientInfo,
        consent: &ConsentInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Room> {
        self.inner.open_room(municipality_id, patient, consent, audit).await
    }

    async fn patient(&self, municipality_id: &str, id: &str) -> StoreResult<Patient> {
        self.inner.patient(municipality_id, id).await
    }

    async fn consent_of(&self, municipality_id: &str, patient_id: &str) -> StoreResult<Consent> {
        self.inner.consent_of(municipality_id, patient_id).await
    }

    async fn withdraw_consent(
        &self,
        municipality_id: &str,
        patient_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.withdraw_consent(municipality_id, patient_id, audit).await
    }

    async fn room(&self, municipality_id: &str, id: &str) -> StoreResult<Room> {
        self.inner.room(municipality_id, id).await
    }

    async fn rooms(&self, municipality_id: &str) -> StoreResult<Vec<Room>> {
        self.inner.rooms(municipality_id).await
    }

    async fn add_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.add_member(municipality_id, room_id, account_id, audit).await
    }

    async fn remove_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.remove_member(municipality_id, room_id, account_id, audit).await
    }

    async fn members(&self, municipality_id: &str, room_id: &str) -> StoreResult<Vec<Member>> {
        self.inner.members(municipality_id, room_id).await
    }

    async fn my_rooms(&self, account_id: &str) -> StoreResult<Vec<RoomSummary>> {
        self.inner.my_rooms(account_id).await
    }

    async fn authorize_room(&self, account_id: &str, room_id: &str) -> StoreResult<Option<RoomAccess>> {
        self.inner.authorize_room(account_id, room_id).await
    }

    async fn oversee_room(
        &self,
        municipality_id: &str,
        admin_account_id: &str,
        room_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<RoomAccess> {
        self.inner.oversee_room(municipality_id, admin_account_id, room_id, audit).await
    }

    async fn request(
        &self,
        access: &RoomAccess,
        request: &NewRoomRequest,
        audit: &AuditDraft,
    ) -> StoreResult<RequestStatus> {
        self.inner.request(access, request, audit).await
    }

    async fn room_requests(
        &self,
        municipality_id: &str,
        room_id: Option<&str>,
        pending_only: bool,
    ) -> StoreResult<Vec<RoomRequest>> {
        self.inner.room_requests(municipality_id, room_id, pending_only).await
    }

    async fn decide_request(
        &self,
        municipality_id: &str,
        request_id: &str,
        approve: bool,
        note: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.decide_request(municipality_id, request_id, approve, note, audit).await
    }

    async fn timeline(
        &self,
        access: &RoomAccess,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<PostView>> {
        self.inner.timeline(access, before, limit).await
    }

    async fn post(&self, access: &RoomAccess, post_id: &str) -> StoreResult<PostView> {
        self.inner.post(access, post_id).await
    }

    async fn attachment(&self, access: &RoomAccess, attachment_id: &str) -> StoreResult<Attachment> {
        self.inner.attachment(access, attachment_id).await
    }

    async fn replies(&self, access: &RoomAccess, post_ids: &[String]) -> StoreResult<Vec<PostView>> {
        self.inner.replies(access, post_ids).await
    }

    async fn record_read(
        &self,
        access: &RoomAccess,
        post_ids: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<u64> {
        self.inner.record_read(access, post_ids, audit).await
    }

    async fn mark_room_read(&self, access: &RoomAccess, audit: &AuditDraft) -> StoreResult<u64> {
        self.inner.mark_room_read(access, audit).await
    }

    async fn readers(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<Reader>> {
        self.inner.readers(access, post_id).await
    }

    async fn acknowledgers(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<Reader>> {
        self.inner.acknowledgers(access, post_id).await
    }

    async fn acknowledge(&self, access: &RoomAccess, post_id: &str, audit: &AuditDraft) -> StoreResult<()> {
        self.inner.acknowledge(access, post_id, audit).await
    }

    async fn edit_post(
        &self,
        access: &RoomAccess,
        post_id: &str,
        text: &PostText,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.edit_post(access, post_id, text, audit).await
    }

    async fn delete_post(&self, access: &RoomAccess, post_id: &str, audit: &AuditDraft) -> StoreResult<()> {
        self.inner.delete_post(access, post_id, audit).await
    }

    async fn post_versions(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<PostVersion>> {
        self.inner.post_versions(access, post_id).await
    }

    async fn attachment_keys(&self) -> StoreResult<Vec<String>> {
        self.inner.attachment_keys().await
    }

    async fn changed_since(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<bool> {
        self.inner.changed_since(access, since_ms).await
    }

    async fn vitals(&self, access: &RoomAccess) -> StoreResult<Vec<VitalsPoint>> {
        self.inner.vitals(access).await
    }

    async fn announce(&self, room_id: &str) -> StoreResult<bool> {
        self.inner.announce(room_id).await
    }

    async fn announcements(&self) -> StoreResult<Option<Announcements>> {
        self.inner.announcements().await
    }

    async fn append_audit(&self, draft: &AuditDraft) -> StoreResult<()> {
        self.inner.append_audit(draft).await
    }

    async fn facilities_by_care_provider_no(&self, care_provider_no: &str) -> StoreResult<Vec<Facility>> {
        self.inner.facilities_by_care_provider_no(care_provider_no).await
    }

    async fn create_careplan_set(&self, new: &NewCareplanSet, audit: &AuditDraft) -> StoreResult<String> {
        self.inner.create_careplan_set(new, audit).await
    }

    async fn careplan_sets(&self, facility_id: &str) -> StoreResult<Vec<CareplanSetSummary>> {
        self.inner.careplan_sets(facility_id).await
    }

    async fn careplan_set(&self, facility_id: &str, id: &str) -> StoreResult<CareplanSet> {
        self.inner.careplan_set(facility_id, id).await
    }

    async fn send_careplan_set(
        &self,
        facility_id: &str,
        id: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.send_careplan_set(facility_id, id, at_ms, audit).await
    }

    async fn acknowledge_careplan_set(
        &self,
        facility_id: &str,
        id: &str,
        account_id: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()> {
        self.inner.acknowledge_careplan_set(facility_id, id, account_id, at_ms, audit).await
    }

    async fn audit_entries(&self, chain: &str, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        self.inner.audit_entries(chain, filter).await
    }

    async fn audit_chain(&self, chain: &str) -> StoreResult<Vec<AuditRecord>> {
        self.inner.audit_chain(chain).await
    }

    async fn audit_chain_from(&self, chain: &str, from_seq: i64) -> StoreResult<Vec<AuditRecord>> {
        self.inner.audit_chain_from(chain, from_seq).await
    }

    async fn audit_chains(&self) -> StoreResult<Vec<String>> {
        self.inner.audit_chains().await
    }

    async fn audit_heads(&self) -> StoreResult<Vec<AuditHead>> {
        self.inner.audit_heads().await
    }
}

#[async_trait]
impl JobQueue for AnswerLost {
    async fn enqueue(&self, job: &NewJob, now_ms: i64) -> StoreResult<String> {
        self.inner.enqueue(job, now_ms).await
    }
    async fn claim(&self, kinds: &[&str], now_ms: i64, lease_ms: i64) -> StoreResult<Option<Job>> {
        self.inner.claim(kinds, now_ms, lease_ms).await
    }
    async fn complete(&self, job: &Job, now_ms: i64) -> StoreResult<bool> {
        self.inner.complete(job, now_ms).await
    }
    async fn fail(&self, job: &Job, error_kind: &str, now_ms: i64) -> StoreResult<bool> {
        self.inner.fail(job, error_kind, now_ms).await
    }
    async fn job(&self, id: &str) -> StoreResult<Job> {
        self.inner.job(id).await
    }
    async fn dead_jobs(&self, limit: i64) -> StoreResult<Vec<Job>> {
        self.inner.dead_jobs(limit).await
    }
    async fn job_counts(&self) -> StoreResult<JobCounts> {
        self.inner.job_counts().await
    }
}
