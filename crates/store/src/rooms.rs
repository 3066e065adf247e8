//! Patients, consent, rooms and their members (D1–D3), requests to change a room (D6, D7), and
//! [`RoomAccess`], the proof that a room may be read.

use async_trait::async_trait;
use renraku_domain::dates::BirthDate;
use renraku_domain::directory::{InsuredNo, InsurerNo};
use renraku_domain::ids::{AccountId, ConsentId, MunicipalityId, PatientId, RequestId, RoomId};
use renraku_domain::rooms::{CareLevel, Sex};
// The request's state transitions are pure rules, kept with their codes in the domain.
pub use renraku_domain::rooms::{ClosingReason, NotPending, RequestKind, RequestStatus, RoomStatus};

use crate::*;

/// Patients, their consent, rooms and memberships, and requests to change them.
#[async_trait]
pub trait RoomStore: Send + Sync + 'static {
    // Patients, consent and rooms (D1–D3).
    /// Records the patient and their consent and opens their room, named after them.
    async fn open_room(
        &self,
        municipality_id: &MunicipalityId,
        patient: &PatientInfo,
        consent: &ConsentInfo,
        audit: &AuditDraft,
    ) -> StoreResult<Room>;
    async fn patient(&self, municipality_id: &MunicipalityId, id: &PatientId) -> StoreResult<Patient>;
    async fn consent_of(
        &self,
        municipality_id: &MunicipalityId,
        patient_id: &PatientId,
    ) -> StoreResult<Consent>;
    /// Withdrawal of consent: every room of the patient becomes read-only at once.
    async fn withdraw_consent(
        &self,
        municipality_id: &MunicipalityId,
        patient_id: &PatientId,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    async fn room(&self, municipality_id: &MunicipalityId, id: &RoomId) -> StoreResult<Room>;
    async fn rooms(&self, municipality_id: &MunicipalityId) -> StoreResult<Vec<Room>>;
    /// Adds an active member account of the same municipality; refused if already a member.
    async fn add_member(
        &self,
        municipality_id: &MunicipalityId,
        room_id: &RoomId,
        account_id: &AccountId,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Ends a membership now; the former member loses access at once.
    async fn remove_member(
        &self,
        municipality_id: &MunicipalityId,
        room_id: &RoomId,
        account_id: &AccountId,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Every membership period, current and past.
    async fn members(&self, municipality_id: &MunicipalityId, room_id: &RoomId) -> StoreResult<Vec<Member>>;
    /// The rooms `account_id` is a current member of, with unread counts, newest activity first.
    async fn my_rooms(&self, account_id: &AccountId) -> StoreResult<Vec<RoomSummary>>;
    /// Access for a current member of the room; `None` for anyone else.
    async fn authorize_room(
        &self,
        account_id: &AccountId,
        room_id: &RoomId,
    ) -> StoreResult<Option<RoomAccess>>;
    /// Read-only access for the municipality's oversight (G2), recorded with its reason.
    async fn oversee_room(
        &self,
        municipality_id: &MunicipalityId,
        admin_account_id: &AccountId,
        room_id: &RoomId,
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
        municipality_id: &MunicipalityId,
        room_id: Option<&RoomId>,
        pending_only: bool,
    ) -> StoreResult<Vec<RoomRequest>>;
    /// Approves (and applies) or rejects a pending request, in one transaction.
    async fn decide_request(
        &self,
        municipality_id: &MunicipalityId,
        request_id: &RequestId,
        approve: bool,
        note: &str,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
}

/// 利用対象者 (D1): the person a room is about. Never a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientInfo {
    pub name: String,
    pub kana: String,
    /// Stored as `YYYY-MM-DD`.
    pub birth_date: BirthDate,
    pub sex: Sex,
    pub address: String,
    pub phone: Option<String>,
    /// 保険者番号.
    pub insurer_no: Option<InsurerNo>,
    /// 被保険者番号.
    pub insured_no: Option<InsuredNo>,
    pub care_level: CareLevel,
    /// Family and emergency contacts, as written.
    pub contacts: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub id: PatientId,
    pub municipality_id: MunicipalityId,
    pub info: PatientInfo,
}

/// 同意書 (D2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentInfo {
    /// `YYYY-MM-DD`.
    pub consented_on: String,
    /// `None` when the patient signed; otherwise the proxy's name and relation.
    pub proxy: Option<(String, String)>,
    /// 家族代表者 and relation.
    pub family: Option<(String, String)>,
    pub explainer_facility: String,
    pub explainer_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: ConsentId,
    pub patient_id: PatientId,
    pub info: ConsentInfo,
    pub withdrawn_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: RoomId,
    pub municipality_id: MunicipalityId,
    pub patient_id: PatientId,
    pub name: String,
    pub status: RoomStatus,
    pub created_at_ms: i64,
}

/// A room in someone's list, with how many posts they have not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSummary {
    pub room: Room,
    pub unread: i64,
    /// Unread posts that mention the member.
    pub unread_mentions: i64,
    /// Unread posts marked 緊急.
    pub unread_urgent: i64,
    pub last_post_at_ms: Option<i64>,
    /// The latest post that is not deleted: when it was written and its text, for the list's
    /// one-line preview (shown to members only, as the list is).
    pub latest: Option<(i64, String)>,
}

/// A membership period of one account in one room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: AccountId,
    pub name: String,
    pub occupation: String,
    pub facility: String,
    pub joined_at_ms: i64,
    pub left_at_ms: Option<i64>,
}

/// Why someone may read a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// A current member.
    Member,
    /// The municipality reading for oversight (G2), after giving a reason.
    Oversight,
}

/// The proof that `account_id` may read `room_id` now. Only the store makes one
/// ([`RoomStore::authorize_room`], [`RoomStore::oversee_room`]); every room query takes
/// it, so no handler can read a room without the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomAccess {
    room: Room,
    account_id: AccountId,
    kind: AccessKind,
}

impl RoomAccess {
    /// For store backends only: made after checking membership or recording an oversight read.
    #[doc(hidden)]
    pub fn granted_by_store(room: Room, account_id: AccountId, kind: AccessKind) -> Self {
        Self { room, account_id, kind }
    }

    pub fn room(&self) -> &Room {
        &self.room
    }

    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    pub fn kind(&self) -> AccessKind {
        self.kind
    }

    /// Members write in open rooms; oversight only reads.
    pub fn can_write(&self) -> bool {
        self.kind == AccessKind::Member && self.room.status == RoomStatus::Open
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoomRequest {
    pub kind: RequestKind,
    pub target_account_id: Option<AccountId>,
    pub closing_reason: Option<ClosingReason>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRequest {
    pub id: RequestId,
    pub room_id: RoomId,
    pub room_name: String,
    pub kind: RequestKind,
    pub requested_by: AccountId,
    pub requester_name: String,
    pub target_account_id: Option<AccountId>,
    pub target_name: Option<String>,
    pub closing_reason: Option<ClosingReason>,
    pub note: String,
    pub status: RequestStatus,
    pub decision_note: Option<String>,
    pub created_at_ms: i64,
}
