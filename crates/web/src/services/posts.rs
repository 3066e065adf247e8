//! Writing in a room (D4, D5): a post with its files, a reply, an acknowledgement (確認), an
//! edit with its history kept, a deletion, and the read receipts. Each use case's store call
//! commits the change with its audit entry; its room's open pages learn of it only afterwards
//! ([`Effects`]).

use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::ids::{PostId, RoomId};
use renraku_domain::rooms::PostText;
use renraku_store::{
    AuditDraft, NewPost, PostVersion, PostView, Reader, RoomAccess, StoreError, VitalsPoint,
};

use super::attachments::{discard, store_files};
use super::{Effects, ServiceError};
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::uploads::Upload;

/// What a post form says when it mentions someone who has left the room.
pub const LEFT_THE_ROOM: &str = "お知らせする相手に、今はこの部屋の参加者でない人（部屋を離れた人）が含まれています。相手を選び直して、もう一度投稿してください。";

/// A store refusal of a room's write or read, as the page says it.
pub fn in_room(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotAllowed => ServiceError::ReadOnly,
        StoreError::NotFound => ServiceError::NotFound("投稿"),
        StoreError::NotMember => ServiceError::Refused(LEFT_THE_ROOM.into()),
        e => ServiceError::Store(e),
    }
}

/// A post with its files (D4). The files are checked and stored first; the post then commits
/// with its audit entry. The files of a post the store refuses, or of a form sent twice (the
/// first sending's post is returned, holding the first sending's files), are removed again.
/// A file refused, or a mention of someone who left, is a [`ServiceError::Field`].
pub async fn post_to_room(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    mut post: NewPost,
    files: Vec<Upload>,
) -> Result<(), ServiceError> {
    if !access.can_write() {
        return Err(ServiceError::ReadOnly);
    }
    match store_files(state, files).await? {
        Ok(attachments) => post.attachments = attachments,
        Err(message) => return Err(ServiceError::Field(FieldError::new("files", message))),
    }
    let room_id = &access.room().id;
    let mut audit = auth.audit(meta, state.clock.now_ms(), AuditAction::PostCreate, "room", room_id);
    audit.object_type = "post".into();
    audit.detail = format!(
        "room={room_id} category={} importance={} files={}",
        post.category.code(),
        post.importance.code(),
        post.attachments.len()
    );
    match state.store.create_post(access, &post, &audit).await {
        // Files of a form sent again are not the post's: the first sending's are.
        Ok(written) => discard(state, &post.attachments, &written.attachments).await,
        Err(e) => {
            // Only a refusal says nothing was written. Any other error may have come after the
            // commit (the database gone at COMMIT): the post may exist and hold these files, so
            // they stay; the form sent again finds that post by its key and removes its own.
            if refused(&e) {
                discard(state, &post.attachments, &[]).await;
            }
            if matches!(e, StoreError::NotMember) {
                return Err(ServiceError::Field(FieldError::new("mention", LEFT_THE_ROOM)));
            }
            return Err(in_room(e));
        }
    }
    Effects::default().room_changed(room_id).publish(state).await;
    Ok(())
}

/// Whether a store error is a refusal, given before anything was written (the transaction
/// rolled back), rather than a failure whose outcome is unknown.
fn refused(e: &StoreError) -> bool {
    match e {
        StoreError::NotFound
        | StoreError::Taken(_)
        | StoreError::LastManager
        | StoreError::TokenInvalid
        | StoreError::NotAllowed
        | StoreError::NotMember => true,
        StoreError::Other(_) => false,
    }
}

/// A reply (`reply.parent_id` set) to `post_id`.
pub async fn reply(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
    reply: &NewPost,
) -> Result<(), ServiceError> {
    let room_id = &access.room().id;
    let audit = post_audit(state, meta, auth, AuditAction::PostReply, room_id, post_id);
    state.store.create_post(access, reply, &audit).await.map_err(in_room)?;
    Effects::default().room_changed(room_id).publish(state).await;
    Ok(())
}

/// 確認: the member acknowledges a post that asked for it.
pub async fn acknowledge(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
) -> Result<(), ServiceError> {
    let room_id = &access.room().id;
    let audit = post_audit(state, meta, auth, AuditAction::PostAcknowledge, room_id, post_id);
    state.store.acknowledge(access, post_id, &audit).await.map_err(in_room)?;
    Effects::default().room_changed(room_id).publish(state).await;
    Ok(())
}

/// The author replaces the text of their post; the store keeps the former text as a version.
pub async fn edit_post(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
    text: &PostText,
) -> Result<(), ServiceError> {
    let room_id = &access.room().id;
    let audit = post_audit(state, meta, auth, AuditAction::PostEdit, room_id, post_id);
    state.store.edit_post(access, post_id, text, &audit).await.map_err(in_room)?;
    Effects::default().room_changed(room_id).publish(state).await;
    Ok(())
}

/// The author deletes their post.
pub async fn delete_post(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
) -> Result<(), ServiceError> {
    let room_id = &access.room().id;
    let audit = post_audit(state, meta, auth, AuditAction::PostDelete, room_id, post_id);
    state.store.delete_post(access, post_id, &audit).await.map_err(in_room)?;
    Effects::default().room_changed(room_id).publish(state).await;
    Ok(())
}

/// What the member is about to see (`shown`, the posts of a timeline page) is read, recorded
/// with the audit entry of the read in one write; the room's other open pages learn of new
/// receipts. Every path that sends a member the timeline goes through here. A `refresh` (the
/// page fetching itself on a live update) that continues this session's view recorded lately
/// writes the receipts without a second entry: one `room.read` per page view.
pub async fn mark_seen(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    shown: &[PostId],
    refresh: bool,
) -> Result<(), ServiceError> {
    let room_id = &access.room().id;
    let now = state.clock.now_ms();
    let session = &auth.session.id;
    let continued = refresh && state.recent_views.continues(session, room_id, now);
    let audit = auth.audit(meta, now, AuditAction::RoomRead, "room", room_id);
    let audit = (!continued).then_some(&audit);
    if state.store.record_read(access, shown, now, audit).await? > 0 {
        Effects::default().room_changed(room_id).publish(state).await;
    }
    if !continued {
        state.recent_views.recorded(session, room_id, now);
    }
    Ok(())
}

/// "Mark all read" for one room, from the room list.
pub async fn mark_room_read(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
) -> Result<(), ServiceError> {
    let room_id = &access.room().id;
    let audit = auth.audit(meta, state.clock.now_ms(), AuditAction::RoomMarkRead, "room", room_id);
    if state.store.mark_room_read(access, &audit).await? > 0 {
        Effects::default().room_changed(room_id).publish(state).await;
    }
    Ok(())
}

/// An audit entry of `action` on one post, naming its room.
fn post_audit(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    action: AuditAction,
    room_id: &RoomId,
    post_id: &PostId,
) -> AuditDraft {
    let mut audit = auth.audit(meta, state.clock.now_ms(), action, "post", post_id);
    audit.detail = format!("room={room_id}");
    audit
}

/// One post of the room, read: an audited read.
pub async fn read_post(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
) -> Result<PostView, ServiceError> {
    let post = state.store.post(access, post_id).await.map_err(in_room)?;
    let audit = post_audit(state, meta, auth, AuditAction::PostRead, &access.room().id, post_id);
    state.store.append_audit(&audit).await?;
    Ok(post)
}

/// The member's own post, to edit: only its author, while it is not deleted and the room is
/// writable. The form shows its text: an audited read.
pub async fn post_to_edit(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
) -> Result<PostView, ServiceError> {
    let post = state.store.post(access, post_id).await.map_err(in_room)?;
    if post.author_account_id != auth.account.id || post.deleted_at_ms.is_some() || !access.can_write() {
        return Err(ServiceError::ReadOnly);
    }
    let audit = post_audit(state, meta, auth, AuditAction::PostRead, &access.room().id, post_id);
    state.store.append_audit(&audit).await?;
    Ok(post)
}

/// A post with who read it (既読), who acknowledged it, and its former versions.
pub struct PostHistory {
    pub post: PostView,
    pub readers: Vec<Reader>,
    pub acknowledgers: Vec<Reader>,
    pub versions: Vec<PostVersion>,
}

/// A post's receipts and history: an audited read.
pub async fn post_history(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
) -> Result<PostHistory, ServiceError> {
    let post = state.store.post(access, post_id).await.map_err(in_room)?;
    let readers = state.store.readers(access, post_id).await?;
    let acknowledgers = state.store.acknowledgers(access, post_id).await?;
    let versions = state.store.post_versions(access, post_id).await?;
    let audit = post_audit(state, meta, auth, AuditAction::PostRead, &access.room().id, post_id);
    state.store.append_audit(&audit).await?;
    Ok(PostHistory { post, readers, acknowledgers, versions })
}

/// The period the vitals chart shows, up to now: `?period=week|month|quarter`, a month unless
/// the parameter names another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VitalsPeriod {
    Week,
    #[default]
    Month,
    Quarter,
}

impl VitalsPeriod {
    pub const ALL: [VitalsPeriod; 3] = [VitalsPeriod::Week, VitalsPeriod::Month, VitalsPeriod::Quarter];

    /// The period a query parameter names; anything else is the default month.
    pub fn parse(code: &str) -> Self {
        Self::ALL.into_iter().find(|p| p.code() == code).unwrap_or_default()
    }

    pub fn code(self) -> &'static str {
        match self {
            VitalsPeriod::Week => "week",
            VitalsPeriod::Month => "month",
            VitalsPeriod::Quarter => "quarter",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VitalsPeriod::Week => "1週間",
            VitalsPeriod::Month => "1か月",
            VitalsPeriod::Quarter => "3か月",
        }
    }

    pub fn days(self) -> i64 {
        match self {
            VitalsPeriod::Week => 7,
            VitalsPeriod::Month => 30,
            VitalsPeriod::Quarter => 91,
        }
    }
}

/// The vital signs of one period: its points oldest first, and the period's bounds.
pub struct VitalsReading {
    pub points: Vec<VitalsPoint>,
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The room's vital signs of the last `period`, oldest first: an audited read.
pub async fn read_vitals(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    period: VitalsPeriod,
) -> Result<VitalsReading, ServiceError> {
    let to_ms = state.clock.now_ms();
    let from_ms = to_ms - period.days() * 86_400_000;
    let points = state.store.vitals(access, from_ms).await?;
    let mut audit = auth.audit(meta, to_ms, AuditAction::VitalsRead, "room", &access.room().id);
    audit.detail = format!("period={} points={}", period.code(), points.len());
    state.store.append_audit(&audit).await?;
    Ok(VitalsReading { points, from_ms, to_ms })
}

/// Posts per timeline page.
pub const PAGE: i64 = 30;

/// A page of the timeline: its posts, newest first, and their replies.
pub struct Timeline {
    pub posts: Vec<PostView>,
    pub replies: Vec<PostView>,
    /// The id to page on from (`before=`), when there are older posts.
    pub older: Option<PostId>,
    /// The posts and replies on the page, whose reading [`mark_seen`] records once shown.
    pub shown: Vec<PostId>,
}

/// The timeline newest first from `before` (the last post already shown), [`PAGE`] posts with
/// their replies.
pub async fn timeline(
    state: &AppState,
    access: &RoomAccess,
    before: Option<&PostId>,
) -> Result<Timeline, ServiceError> {
    let posts = state.store.timeline(access, before, PAGE + 1).await?;
    let older = (posts.len() as i64 > PAGE).then(|| posts[PAGE as usize - 1].id.clone());
    let posts: Vec<PostView> = posts.into_iter().take(PAGE as usize).collect();
    let ids: Vec<PostId> = posts.iter().map(|p| p.id.clone()).collect();
    let replies = state.store.replies(access, &ids).await?;
    let mut shown: Vec<PostId> = ids;
    shown.extend(replies.iter().map(|r| r.id.clone()));
    Ok(Timeline { posts, replies, older, shown })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_in_a_room_says_what_the_page_said() {
        assert!(matches!(in_room(StoreError::NotAllowed), ServiceError::ReadOnly));
        assert!(matches!(in_room(StoreError::NotFound), ServiceError::NotFound("投稿")));
        assert!(matches!(in_room(StoreError::NotMember), ServiceError::Refused(m) if m == LEFT_THE_ROOM));
        assert!(matches!(in_room(StoreError::Taken("member")), ServiceError::Store(StoreError::Taken(_))));
    }

    #[test]
    fn only_a_refusal_means_nothing_was_written() {
        assert!(refused(&StoreError::NotMember) && refused(&StoreError::NotAllowed));
        assert!(!refused(&StoreError::Other(anyhow::anyhow!("gone at COMMIT"))));
    }
}
