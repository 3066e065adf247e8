//! Patients, consent, rooms and posts (D1–D5) as the store keeps them, and [`RoomAccess`], the
//! proof that a room may be read.

use renraku_domain::rooms::{CareLevel, Importance, PostCategory, PostText, Sex, Vitals};

/// 利用対象者 (D1): the person a room is about. Never a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientInfo {
    pub name: String,
    pub kana: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub sex: Sex,
    pub address: String,
    pub phone: Option<String>,
    /// 保険者番号.
    pub insurer_no: Option<String>,
    /// 被保険者番号.
    pub insured_no: Option<String>,
    pub care_level: CareLevel,
    /// Family and emergency contacts, as written.
    pub contacts: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub id: String,
    pub municipality_id: String,
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
    pub id: String,
    pub patient_id: String,
    pub info: ConsentInfo,
    pub withdrawn_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomStatus {
    Open,
    /// Consent withdrawn or room closed: everyone reads, nobody writes.
    ReadOnly,
}

impl RoomStatus {
    pub fn code(self) -> &'static str {
        match self {
            RoomStatus::Open => "open",
            RoomStatus::ReadOnly => "read_only",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: String,
    pub municipality_id: String,
    pub patient_id: String,
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
    pub last_post_at_ms: Option<i64>,
}

/// A membership period of one account in one room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: String,
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
/// ([`crate::Store::authorize_room`], [`crate::Store::oversee_room`]); every room query takes
/// it, so no handler can read a room without the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomAccess {
    room: Room,
    account_id: String,
    kind: AccessKind,
}

impl RoomAccess {
    /// For store backends only: made after checking membership or recording an oversight read.
    #[doc(hidden)]
    pub fn granted_by_store(room: Room, account_id: String, kind: AccessKind) -> Self {
        Self { room, account_id, kind }
    }

    pub fn room(&self) -> &Room {
        &self.room
    }

    pub fn account_id(&self) -> &str {
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
pub struct NewPost {
    pub parent_id: Option<String>,
    pub category: PostCategory,
    pub importance: Importance,
    pub text: PostText,
    pub ack_requested: bool,
    pub vitals: Vitals,
    /// Account ids of current members to notify (@mentions).
    pub mentions: Vec<String>,
    /// Files already checked and stored in the blob store.
    pub attachments: Vec<Attachment>,
    /// The form's one-time key, unique per author: the same form sent again (after an error
    /// that may have come after the write was committed) returns the first post instead of
    /// writing a second.
    pub idempotency_key: Option<String>,
}

/// A photo or PDF of a post. `kind` is `photo` or `pdf`; the bytes are in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub size: i64,
    pub width: i64,
    pub height: i64,
    pub content_key: String,
    pub thumb_key: Option<String>,
}

/// A post as the timeline shows it to one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostView {
    pub id: String,
    pub room_id: String,
    pub parent_id: Option<String>,
    pub author_account_id: String,
    pub author_name: String,
    pub author_occupation: String,
    pub category: PostCategory,
    pub importance: Importance,
    /// Empty when deleted.
    pub text: PostText,
    pub ack_requested: bool,
    pub vitals: Vitals,
    pub created_at_ms: i64,
    pub edited_at_ms: Option<i64>,
    pub deleted_at_ms: Option<i64>,
    pub read_count: i64,
    pub ack_count: i64,
    pub read_by_me: bool,
    pub acked_by_me: bool,
    /// Names of the members mentioned, in the order they were chosen.
    pub mentioned: Vec<String>,
    pub mentions_me: bool,
    /// Empty when the post is deleted.
    pub attachments: Vec<Attachment>,
}

/// Who read (or acknowledged) a post, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub account_id: String,
    pub name: String,
    pub at_ms: i64,
}

/// A former text of an edited post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostVersion {
    pub version: i64,
    pub text: PostText,
    pub replaced_at_ms: i64,
}

/// One post's vital signs, for the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VitalsPoint {
    pub at_ms: i64,
    pub vitals: Vitals,
}

/// What a member asks the municipality to do with a room (D6, D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    AddMember,
    RemoveMember,
    Close,
}

impl RequestKind {
    pub fn code(self) -> &'static str {
        match self {
            RequestKind::AddMember => "add_member",
            RequestKind::RemoveMember => "remove_member",
            RequestKind::Close => "close",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestKind::AddMember => "参加者の追加",
            RequestKind::RemoveMember => "参加者の削除",
            RequestKind::Close => "部屋の終了",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "add_member" => Some(RequestKind::AddMember),
            "remove_member" => Some(RequestKind::RemoveMember),
            "close" => Some(RequestKind::Close),
            _ => None,
        }
    }
}

/// Why a room closes (D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosingReason {
    Death,
    Admission,
    ServiceEnd,
    Other,
}

impl ClosingReason {
    pub const ALL: [ClosingReason; 4] =
        [ClosingReason::Death, ClosingReason::Admission, ClosingReason::ServiceEnd, ClosingReason::Other];

    pub fn code(self) -> &'static str {
        match self {
            ClosingReason::Death => "death",
            ClosingReason::Admission => "admission",
            ClosingReason::ServiceEnd => "service_end",
            ClosingReason::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClosingReason::Death => "死亡",
            ClosingReason::Admission => "入所・入院",
            ClosingReason::ServiceEnd => "サービス終了",
            ClosingReason::Other => "その他",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoomRequest {
    pub kind: RequestKind,
    pub target_account_id: Option<String>,
    pub closing_reason: Option<ClosingReason>,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

impl RequestStatus {
    pub fn label(self) -> &'static str {
        match self {
            RequestStatus::Pending => "承認待ち",
            RequestStatus::Approved => "承認",
            RequestStatus::Rejected => "却下",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRequest {
    pub id: String,
    pub room_id: String,
    pub room_name: String,
    pub kind: RequestKind,
    pub requested_by: String,
    pub requester_name: String,
    pub target_account_id: Option<String>,
    pub target_name: Option<String>,
    pub closing_reason: Option<ClosingReason>,
    pub note: String,
    pub status: RequestStatus,
    pub decision_note: Option<String>,
    pub created_at_ms: i64,
}
