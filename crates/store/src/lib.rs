//! The storage interface of Renraku. The web server depends on [`Store`] only; the
//! `renraku-store-sqlite` and `renraku-store-postgres` crates implement it, each with its own
//! migrations, and both must pass the [`conformance`] suite.
//!
//! Every mutation an administrator makes takes the [`AuditDraft`] that records it, and the store
//! writes the change and the sealed audit entry in one transaction: there is no change without
//! its audit entry, and no audit entry for a change that did not happen.

pub mod bench;
mod careplan;
pub mod conformance;
mod jobs;
mod records;
mod rooms;

pub use careplan::*;
pub use jobs::*;
pub use records::*;
pub use rooms::*;

use async_trait::async_trait;
use renraku_domain::rooms::PostText;

/// What can go wrong in a store call. Handlers turn these into Japanese messages.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique value is already taken; the string names the field.
    #[error("already taken: {0}")]
    Taken(&'static str),
    /// The change would leave a facility without an active システム利用管理担当者.
    #[error("a facility must keep at least one active manager")]
    LastManager,
    /// The one-time link is unknown, used or expired.
    #[error("token invalid")]
    TokenInvalid,
    /// The room is read-only (consent withdrawn or closed), or the post is not the caller's.
    #[error("not allowed")]
    NotAllowed,
    /// Someone the change names (a post's @mention) is not a current member of the room.
    #[error("not a current member of the room")]
    NotMember,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stream of room ids whose content changed.
pub type Announcements = std::pin::Pin<Box<dyn futures_core::Stream<Item = String> + Send>>;

/// Announced instead of a room id after the listener lost the database and found it again:
/// changes made meanwhile were not announced, so every open page should refresh.
pub const ANNOUNCE_EVERY_ROOM: &str = "*";

/// Renraku's persistent state. Times are Unix milliseconds, passed in by the caller.
#[async_trait]
pub trait Store: JobQueue + Send + Sync + 'static {
    /// The backend's name, for logs and `/metrics`.
    fn backend(&self) -> &'static str;

    /// A cheap round trip to the database, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;
    /// A small write through the connection(s) that do the writing (on SQLite its single writer
    /// connection), committed: `/healthz` reports whether writes work, not only reads.
    async fn check_writer(&self, now_ms: i64) -> StoreResult<()>;

    // Municipalities (A1).
    async fn create_municipality(
        &self,
        new: &NewMunicipality,
        audit: &AuditDraft,
    ) -> StoreResult<Municipality>;
    async fn municipalities(&self) -> StoreResult<Vec<Municipality>>;
    async fn municipality(&self, id: &str) -> StoreResult<Municipality>;
    async fn municipality_by_code(&self, code: &str) -> StoreResult<Municipality>;
    async fn update_municipality_settings(
        &self,
        id: &str,
        settings: &MunicipalitySettings,
        audit: &AuditDraft,
    ) -> StoreResult<()>;

    // Facilities (A2). Every facility query is scoped by municipality.
    async fn create_facility(
        &self,
        municipality_id: &str,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Facility>;
    async fn update_facility(
        &self,
        municipality_id: &str,
        id: &str,
        info: &FacilityInfo,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn facility(&self, municipality_id: &str, id: &str) -> StoreResult<Facility>;
    async fn facilities(&self, municipality_id: &str) -> StoreResult<Vec<Facility>>;

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
        municipality_id: &str,
        id: &str,
        update: &AccountUpdate,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn set_account_status(
        &self,
        municipality_id: &str,
        id: &str,
        status: renraku_domain::directory::AccountStatus,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn account(&self, id: &str) -> StoreResult<Account>;
    async fn accounts(&self, municipality_id: &str, facility_id: Option<&str>) -> StoreResult<Vec<Account>>;
    async fn accounts_of_identity(&self, identity_id: &str) -> StoreResult<Vec<Account>>;
    async fn identity(&self, id: &str) -> StoreResult<Identity>;
    async fn identity_by_login(&self, login_id: &str) -> StoreResult<Option<Identity>>;
    async fn set_password(
        &self,
        identity_id: &str,
        hash: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Stores (or, with `None`, removes) the encrypted TOTP secret and replaces the recovery
    /// codes; removing also signs the person out everywhere.
    async fn set_second_factor(
        &self,
        identity_id: &str,
        totp_secret: Option<&[u8]>,
        recovery_code_hashes: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Records the time step of an accepted TOTP code. Returns false if that step (or a later
    /// one) was already used, so a code cannot be replayed.
    async fn accept_totp_step(&self, identity_id: &str, step: i64) -> StoreResult<bool>;
    /// Marks a recovery code used; false if it is unknown or used.
    async fn use_recovery_code(&self, identity_id: &str, code_hash: &str, at_ms: i64) -> StoreResult<bool>;
    async fn unused_recovery_codes(&self, identity_id: &str) -> StoreResult<i64>;

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

    // Sign-in throttling, keyed by login ID (`login:…`, whether or not it exists), by address
    // (`ip:…`) and, for the second factor, by identity (`second_factor:<identity id>`).
    async fn throttle(&self, key: &str, now_ms: i64) -> StoreResult<Throttle>;
    /// Checks the lock and counts the attempt as a failure in one atomic step, before the
    /// caller checks the password or code: parallel attempts cannot all pass an open lock.
    /// A key whose lock ran out starts a new count.
    async fn claim_attempt(&self, key: &str, now_ms: i64, policy: &ThrottlePolicy) -> StoreResult<Attempt>;
    /// Takes back one attempt counted by [`Store::claim_attempt`] that turned out right (or was
    /// never checked); a lock that only this attempt caused is lifted.
    async fn forgive_attempt(&self, key: &str, policy: &ThrottlePolicy) -> StoreResult<()>;
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;
    /// The sign-in locks in force at `now_ms` on the municipality's accounts (password locks of
    /// their login IDs and second-factor locks of their identities).
    async fn sign_in_locks(&self, municipality_id: &str, now_ms: i64) -> StoreResult<Vec<SignInLock>>;
    /// Lifts both locks of an identity (its login ID's and its second factor's), with the audit
    /// entry that records who did it.
    async fn release_sign_in_locks(&self, identity_id: &str, audit: &AuditDraft) -> StoreResult<()>;

    // Sessions (C4).
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The live session with this token hash; expired and revoked ones are not returned.
    async fn session(&self, token_hash: &str, now_ms: i64) -> StoreResult<Option<Session>>;
    async fn touch_session(&self, id: &str, now_ms: i64) -> StoreResult<()>;
    async fn complete_second_factor(&self, id: &str, now_ms: i64) -> StoreResult<()>;
    async fn sessions_of_identity(&self, identity_id: &str, now_ms: i64) -> StoreResult<Vec<Session>>;
    /// Revokes one session of this identity; false if there was no such live session.
    async fn revoke_session(&self, identity_id: &str, id: &str, now_ms: i64) -> StoreResult<bool>;
    /// Revokes every session of the identity except `keep`.
    async fn revoke_sessions(&self, identity_id: &str, keep: Option<&str>, now_ms: i64) -> StoreResult<u64>;

    // Patients, consent and rooms (D1–D3).
    /// Records the patient and their consent and opens their room, named after them.
    async fn open_room(
        &self,
        municipality_id: &str,
        patient: &PatientInfo,
        consent: &ConsentInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Room>;
    async fn patient(&self, municipality_id: &str, id: &str) -> StoreResult<Patient>;
    async fn consent_of(&self, municipality_id: &str, patient_id: &str) -> StoreResult<Consent>;
    /// Withdrawal of consent: every room of the patient becomes read-only at once.
    async fn withdraw_consent(
        &self,
        municipality_id: &str,
        patient_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn room(&self, municipality_id: &str, id: &str) -> StoreResult<Room>;
    async fn rooms(&self, municipality_id: &str) -> StoreResult<Vec<Room>>;
    /// Adds an active member account of the same municipality; refused if already a member.
    async fn add_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Ends a membership now; the former member loses access at once.
    async fn remove_member(
        &self,
        municipality_id: &str,
        room_id: &str,
        account_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Every membership period, current and past.
    async fn members(&self, municipality_id: &str, room_id: &str) -> StoreResult<Vec<Member>>;
    /// The rooms `account_id` is a current member of, with unread counts, newest activity first.
    async fn my_rooms(&self, account_id: &str) -> StoreResult<Vec<RoomSummary>>;
    /// Access for a current member of the room; `None` for anyone else.
    async fn authorize_room(&self, account_id: &str, room_id: &str) -> StoreResult<Option<RoomAccess>>;
    /// Read-only access for the municipality's oversight (G2), recorded with its reason.
    async fn oversee_room(
        &self,
        municipality_id: &str,
        admin_account_id: &str,
        room_id: &str,
        audit: &AuditDraft,
    ) -> StoreResult<RoomAccess>;

    // Invitation and closing requests (D6, D7).
    /// A member's request. An add request by the room's care manager is applied at once when
    /// the municipality allows it (the returned status says which).
    async fn request(
        &self,
        access: &RoomAccess,
        request: &NewRoomRequest,
        audit: &AuditDraft,
    ) -> StoreResult<RequestStatus>;
    /// Requests of one room, or of the whole municipality when `room_id` is `None`; newest first.
    async fn room_requests(
        &self,
        municipality_id: &str,
        room_id: Option<&str>,
        pending_only: bool,
    ) -> StoreResult<Vec<RoomRequest>>;
    /// Approves (and applies) or rejects a pending request, in one transaction.
    async fn decide_request(
        &self,
        municipality_id: &str,
        request_id: &str,
        approve: bool,
        note: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()>;

    // Posts (D4, D5). Each takes the proof of access.
    /// Writes a post; [`StoreError::NotAllowed`] when the access cannot write,
    /// [`StoreError::NotMember`] when a mention names someone not in the room now. A post whose
    /// `idempotency_key` this author already used is not written again: the earlier one is
    /// returned.
    async fn create_post(
        &self,
        access: &RoomAccess,
        post: &NewPost,
        audit: &AuditDraft,
    ) -> StoreResult<PostView>;
    /// Newest first; `before` is the id of the last post already shown (cursor paging).
    async fn timeline(
        &self,
        access: &RoomAccess,
        before: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<PostView>>;
    async fn post(&self, access: &RoomAccess, post_id: &str) -> StoreResult<PostView>;
    /// An attachment of a live post of this room.
    async fn attachment(&self, access: &RoomAccess, attachment_id: &str) -> StoreResult<Attachment>;
    /// Every file key (content and thumbnail) an attachment refers to, of any post, deleted or
    /// not: what the sweep of unreferenced files must keep.
    async fn attachment_keys(&self) -> StoreResult<Vec<String>>;
    async fn replies(&self, access: &RoomAccess, post_ids: &[String]) -> StoreResult<Vec<PostView>>;
    /// A view of posts: the reader's receipts (members only; oversight reads leave none) and the
    /// audit entry of the read, in one transaction (one write per page view). Returns how many
    /// receipts are new.
    async fn record_read(
        &self,
        access: &RoomAccess,
        post_ids: &[String],
        audit: &AuditDraft,
    ) -> StoreResult<u64>;
    /// Marks every post of the room read ("mark all read") at `audit.at_ms`; returns how many
    /// receipts are new. When there are any, the audit entry (its detail the count) is written
    /// in the same transaction.
    async fn mark_room_read(&self, access: &RoomAccess, audit: &AuditDraft) -> StoreResult<u64>;
    async fn readers(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<Reader>>;
    async fn acknowledgers(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<Reader>>;
    async fn acknowledge(&self, access: &RoomAccess, post_id: &str, audit: &AuditDraft) -> StoreResult<()>;
    /// Replaces the text of the caller's own post, keeping the former text as a version.
    async fn edit_post(
        &self,
        access: &RoomAccess,
        post_id: &str,
        text: &PostText,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Hides the caller's own post; the text is kept for the audit trail and disclosure.
    async fn delete_post(&self, access: &RoomAccess, post_id: &str, audit: &AuditDraft) -> StoreResult<()>;
    async fn post_versions(&self, access: &RoomAccess, post_id: &str) -> StoreResult<Vec<PostVersion>>;
    /// Whether anything a page shows (posts, edits, deletions, receipts, acknowledgements)
    /// changed after `since_ms`, so a page that just connected for live updates catches up.
    async fn changed_since(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<bool>;
    /// The room's vital signs, oldest first, for the chart.
    async fn vitals(&self, access: &RoomAccess) -> StoreResult<Vec<VitalsPoint>>;

    // Live updates across instances (E4).
    /// Tells every app instance that a room changed (PostgreSQL `NOTIFY`). Returns false where
    /// there is only one instance (SQLite) and the caller must tell its own listeners.
    async fn announce(&self, room_id: &str) -> StoreResult<bool>;
    /// The rooms other instances (and this one) announce, or `None` where there is one instance.
    async fn announcements(&self) -> StoreResult<Option<Announcements>>;

    // The audit trail (G1).
    async fn append_audit(&self, draft: &AuditDraft) -> StoreResult<()>;

    // Care-plan data exchange (F1–F4). Sets cross municipalities: the sender and the receiver
    // are facilities anywhere on the server; every query is scoped to one of the two.
    /// The facilities registered with this 介護事業所番号, at most two: the exchange routes only
    /// to a number that exactly one facility on the server holds.
    async fn facilities_by_care_provider_no(&self, care_provider_no: &str) -> StoreResult<Vec<Facility>>;
    /// Stores an uploaded set (not yet sent), matching its subjects to patients.
    async fn create_careplan_set(&self, new: &NewCareplanSet, audit: &AuditDraft) -> StoreResult<String>;
    /// The sets a facility sent or drafted, and those sent to it; newest stamp first.
    async fn careplan_sets(&self, facility_id: &str) -> StoreResult<Vec<CareplanSetSummary>>;
    /// One set as `facility_id` may see it: its sender always, its receiver once it is sent.
    async fn careplan_set(&self, facility_id: &str, id: &str) -> StoreResult<CareplanSet>;
    /// Sends a drafted set (sender only). A deletion set withdraws the earlier sets of the same
    /// sender, receiver and subjects (第1表 with its 第2・3表; 第6表 with its 第7表; 実績).
    async fn send_careplan_set(
        &self,
        facility_id: &str,
        id: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Acknowledges receipt (receiver only, once sent; the first acknowledgement stays).
    async fn acknowledge_careplan_set(
        &self,
        facility_id: &str,
        id: &str,
        account_id: &str,
        at_ms: i64,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
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

/// A fresh random identifier (UUIDv7: time-ordered, so indexes stay compact).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
