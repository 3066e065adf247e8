//! Posts (D4, D5): what members write in a room, who read and acknowledged it, its files and
//! its vital signs. Every call takes the [`RoomAccess`] that proves the caller may read the
//! room; writes check that it may also write.

use async_trait::async_trait;
use renraku_domain::ids::{AccountId, AttachmentId, PostId, RoomId};
use renraku_domain::rooms::{Importance, PostCategory, PostText, Vitals};

use crate::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPost {
    pub parent_id: Option<PostId>,
    pub category: PostCategory,
    pub importance: Importance,
    pub text: PostText,
    pub ack_requested: bool,
    pub vitals: Vitals,
    /// Account ids of current members to notify (@mentions).
    pub mentions: Vec<AccountId>,
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
    pub id: AttachmentId,
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
    pub id: PostId,
    pub room_id: RoomId,
    pub parent_id: Option<PostId>,
    pub author_account_id: AccountId,
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
    pub account_id: AccountId,
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

/// Posts, read receipts, acknowledgements, edits and attachments of one room.
#[async_trait]
pub trait PostStore: Send + Sync + 'static {
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
        before: Option<&PostId>,
        limit: i64,
    ) -> StoreResult<Vec<PostView>>;
    async fn post(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<PostView>;
    /// An attachment of a live post of this room.
    async fn attachment(&self, access: &RoomAccess, attachment_id: &AttachmentId) -> StoreResult<Attachment>;
    /// Every file key (content and thumbnail) an attachment refers to, of any post, deleted or
    /// not: what the sweep of unreferenced files must keep.
    async fn attachment_keys(&self) -> StoreResult<Vec<String>>;
    async fn replies(&self, access: &RoomAccess, post_ids: &[PostId]) -> StoreResult<Vec<PostView>>;
    /// A view of posts at `at_ms`: the reader's receipts (members only; oversight reads leave
    /// none) and the audit entry of the read, in one transaction (one write per page view).
    /// Without an entry (`None`: the live refresh of a page view already recorded) only the
    /// receipts are written. Returns how many receipts are new.
    async fn record_read(
        &self,
        access: &RoomAccess,
        post_ids: &[PostId],
        at_ms: i64,
        audit: Option<&AuditDraft>,
    ) -> StoreResult<u64>;
    /// Marks every post of the room read ("mark all read") at `audit.at_ms`; returns how many
    /// receipts are new. When there are any, the audit entry (its detail the count) is written
    /// in the same transaction.
    async fn mark_room_read(&self, access: &RoomAccess, audit: &AuditDraft) -> StoreResult<u64>;
    async fn readers(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<Vec<Reader>>;
    async fn acknowledgers(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<Vec<Reader>>;
    async fn acknowledge(&self, access: &RoomAccess, post_id: &PostId, audit: &AuditDraft)
    -> StoreResult<()>;
    /// Replaces the text of the caller's own post, keeping the former text as a version.
    async fn edit_post(
        &self,
        access: &RoomAccess,
        post_id: &PostId,
        text: &PostText,
        audit: &AuditDraft,
    ) -> StoreResult<()>;
    /// Hides the caller's own post; the text is kept for the audit trail and disclosure.
    async fn delete_post(&self, access: &RoomAccess, post_id: &PostId, audit: &AuditDraft)
    -> StoreResult<()>;
    async fn post_versions(&self, access: &RoomAccess, post_id: &PostId) -> StoreResult<Vec<PostVersion>>;
    /// Whether anything a page shows (posts, edits, deletions, receipts, acknowledgements)
    /// changed after `since_ms`, so a page that just connected for live updates catches up.
    async fn changed_since(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<bool>;
    /// The room's vital signs recorded at or after `since_ms`, oldest first, for the chart.
    async fn vitals(&self, access: &RoomAccess, since_ms: i64) -> StoreResult<Vec<VitalsPoint>>;
}
