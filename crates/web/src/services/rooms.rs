//! Rooms and their members (D1–D3, D6, D7, G2): the municipality opens a room with the
//! patient and the consent (様式4 and 同意書), adds and removes members, records a withdrawal of
//! consent, decides members' requests, and reads a room for oversight; a member asks for
//! someone to be added or removed, or for the room to be closed. The request's state
//! transitions are pure rules in `renraku_domain::rooms` ([`RequestStatus`]), which the store
//! applies inside its transaction.

use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{AccountStatus, Role};
use renraku_domain::ids::{AccountId, RequestId, RoomId};
use renraku_store::{
    Account, Consent, ConsentInfo, Member, NewRoomRequest, Patient, PatientInfo, RequestStatus, Room,
    RoomAccess, RoomRequest, RoomSummary, StoreError,
};

use super::posts::in_room;
use super::{Effects, ServiceError};
use crate::AppState;
use crate::auth::{Admin, Auth, RequestMeta};

/// The admin's municipality's room `id`, or "not found".
pub async fn find(state: &AppState, admin: &Admin, id: &RoomId) -> Result<Room, ServiceError> {
    match state.store.room(&admin.municipality.id, id).await {
        Err(StoreError::NotFound) => Err(ServiceError::NotFound("部屋")),
        other => Ok(other?),
    }
}

/// 様式4: records the patient and their consent and opens their room, in one transaction
/// with its audit entry.
pub async fn open_room(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
    patient: &PatientInfo,
    consent: &ConsentInfo,
) -> Result<Room, ServiceError> {
    let audit = admin.auth.audit(meta, state.clock.now_ms(), AuditAction::RoomOpen, "room", "");
    Ok(state.store.open_room(&admin.municipality.id, patient, consent, &audit).await?)
}

/// Adds `account_id` to the room. Someone who is a member already stays one (no error); an
/// account that cannot be added is the form's mistake.
pub async fn add_member(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
    room_id: &RoomId,
    account_id: &str,
) -> Result<(), ServiceError> {
    let room = find(state, admin, room_id).await?;
    let mut audit =
        admin.auth.audit(meta, state.clock.now_ms(), AuditAction::RoomMemberAdd, "room", &room.id);
    audit.detail = format!("account={account_id}");
    // What the form names: a value that is no account id names nobody, like an unknown one.
    let added = match AccountId::parse(account_id) {
        Some(account) => state.store.add_member(&admin.municipality.id, &room.id, &account, &audit).await,
        None => Err(StoreError::NotFound),
    };
    match added {
        Ok(()) | Err(StoreError::Taken(_)) => Ok(()),
        Err(StoreError::NotFound) => {
            Err(ServiceError::Refused("招待できる利用者を選択してください。".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Ends `account_id`'s membership now; they lose access at once.
pub async fn remove_member(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
    room_id: &RoomId,
    account_id: &AccountId,
) -> Result<(), ServiceError> {
    let room = find(state, admin, room_id).await?;
    let mut audit =
        admin.auth.audit(meta, state.clock.now_ms(), AuditAction::RoomMemberRemove, "room", &room.id);
    audit.detail = format!("account={account_id}");
    match state.store.remove_member(&admin.municipality.id, &room.id, account_id, &audit).await {
        Err(StoreError::NotFound) => Err(ServiceError::NotFound("参加者")),
        other => Ok(other?),
    }
}

/// The patient withdrew their consent: every room of theirs becomes read-only at once. A
/// consent withdrawn already stays so (no error).
pub async fn withdraw_consent(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
    room_id: &RoomId,
) -> Result<(), ServiceError> {
    let room = find(state, admin, room_id).await?;
    let audit = admin.auth.audit(
        meta,
        state.clock.now_ms(),
        AuditAction::ConsentWithdraw,
        "patient",
        &room.patient_id,
    );
    match state.store.withdraw_consent(&admin.municipality.id, &room.patient_id, &audit).await {
        Ok(()) | Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Oversight (G2): read-only access to the room, granted with its audit entry and the reason
/// the admin gave.
pub async fn oversee(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
    room_id: &RoomId,
    reason: &str,
) -> Result<RoomAccess, ServiceError> {
    let room = find(state, admin, room_id).await?;
    let mut audit =
        admin.auth.audit(meta, state.clock.now_ms(), AuditAction::RoomOversightRead, "room", &room.id);
    audit.detail = format!("reason={reason}");
    Ok(state.store.oversee_room(&admin.municipality.id, &admin.auth.account.id, &room.id, &audit).await?)
}

/// The municipality approves (and applies) or rejects a pending request, in one transaction
/// with its audit entry ([`RequestStatus::decide`]).
pub async fn decide_request(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
    request_id: &RequestId,
    approve: bool,
    note: &str,
) -> Result<(), ServiceError> {
    let action = if approve { AuditAction::RoomRequestApprove } else { AuditAction::RoomRequestReject };
    let audit = admin.auth.audit(meta, state.clock.now_ms(), action, "room_request", request_id);
    match state.store.decide_request(&admin.municipality.id, request_id, approve, note, &audit).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(ServiceError::NotFound("承認待ちの依頼")),
        Err(StoreError::Taken(_)) => {
            Err(ServiceError::Refused("その利用者は既に参加しています。却下してください。".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A member's request (D6, D7), stored with its audit entry; an add request of the room's
/// care manager may apply at once ([`RequestStatus::on_request`]), and then the room's open
/// pages learn of the new member. A target who cannot be added or removed is the form's
/// mistake (`account_id`).
pub async fn request(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    request: &NewRoomRequest,
) -> Result<RequestStatus, ServiceError> {
    let mut audit = auth.audit(meta, state.clock.now_ms(), AuditAction::RoomRequest, "room_request", "");
    audit.detail = format!("kind={}", request.kind.code());
    let status = match state.store.request(access, request, &audit).await {
        Ok(status) => status,
        Err(StoreError::Taken(_)) => {
            return Err(ServiceError::Field(FieldError::new(
                "account_id",
                "その利用者は既に参加しているか、参加していません。",
            )));
        }
        Err(StoreError::NotFound) => {
            return Err(ServiceError::Field(FieldError::new(
                "account_id",
                "対象の利用者を選択してください。",
            )));
        }
        Err(e) => return Err(in_room(e)),
    };
    if status.applies() {
        Effects::default().room_changed(&access.room().id).publish(state).await;
    }
    Ok(status)
}

/// The municipality's rooms, named after their patients: the view is audited.
pub async fn list_rooms(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
) -> Result<Vec<Room>, ServiceError> {
    let rooms = state.store.rooms(&admin.municipality.id).await?;
    let mut audit =
        admin.auth.audit(meta, state.clock.now_ms(), AuditAction::RoomListViewed, "room_list", "");
    audit.detail = format!("rooms={}", rooms.len());
    state.store.append_audit(&audit).await?;
    Ok(rooms)
}

/// A room as the municipality's page shows it.
pub struct RoomRecord {
    pub room: Room,
    pub patient: Patient,
    pub consent: Consent,
    /// Every membership period, current and past.
    pub members: Vec<Member>,
    /// Active member accounts of the municipality not in the room now.
    pub candidates: Vec<Account>,
    /// The room's requests, newest first.
    pub requests: Vec<RoomRequest>,
}

/// The room's record for the municipality. It holds the patient's record, so reading it is a
/// read of patient data and is audited.
pub async fn room_record(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
    room_id: &RoomId,
) -> Result<RoomRecord, ServiceError> {
    let room = find(state, admin, room_id).await?;
    state
        .store
        .append_audit(&admin.auth.audit(
            meta,
            state.clock.now_ms(),
            AuditAction::PatientRead,
            "room",
            &room.id,
        ))
        .await?;
    let m = &admin.municipality.id;
    let patient = state.store.patient(m, &room.patient_id).await?;
    let consent = state.store.consent_of(m, &room.patient_id).await?;
    let members = state.store.members(m, &room.id).await?;
    let current: Vec<&str> =
        members.iter().filter(|x| x.left_at_ms.is_none()).map(|x| x.account_id.as_str()).collect();
    let candidates = state
        .store
        .accounts(m, None)
        .await?
        .into_iter()
        .filter(|a| {
            a.role == Role::Member && a.status == AccountStatus::Active && !current.contains(&a.id.as_str())
        })
        .collect();
    let requests = state.store.room_requests(m, Some(&room.id), false).await?;
    Ok(RoomRecord { room, patient, consent, members, candidates, requests })
}

/// The municipality's queue of pending requests (each names its room's patient and the people
/// concerned): the view is audited.
pub async fn pending_requests(
    state: &AppState,
    meta: &RequestMeta,
    admin: &Admin,
) -> Result<Vec<RoomRequest>, ServiceError> {
    let requests = state.store.room_requests(&admin.municipality.id, None, true).await?;
    let mut audit = admin.auth.audit(
        meta,
        state.clock.now_ms(),
        AuditAction::RoomRequestListViewed,
        "room_request_list",
        "",
    );
    audit.detail = format!("requests={}", requests.len());
    state.store.append_audit(&audit).await?;
    Ok(requests)
}

/// The room's current members as (account id, "name（職種・事業所）").
pub async fn current_members(
    state: &AppState,
    room: &renraku_store::Room,
) -> Result<Vec<(AccountId, String)>, ServiceError> {
    let members = state.store.members(&room.municipality_id, &room.id).await?;
    Ok(members
        .into_iter()
        .filter(|m| m.left_at_ms.is_none())
        .map(|m| (m.account_id, format!("{}（{}・{}）", m.name, m.occupation, m.facility)))
        .collect())
}

/// The member's room list: the rooms shown, and the unread posts of all their rooms.
pub struct RoomList {
    pub rooms: Vec<RoomSummary>,
    pub total_unread: i64,
}

/// The rooms `auth` is a current member of, with unread counts and the latest post: rooms with
/// an unread 緊急 post or an unread post for the member (あなた宛) first, then by latest activity;
/// with `only_unread`, only rooms with something unread. The view is audited.
pub async fn my_rooms(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    only_unread: bool,
) -> Result<RoomList, ServiceError> {
    let mut rooms = state.store.my_rooms(&auth.account.id).await?;
    let total_unread = rooms.iter().map(|r| r.unread).sum();
    // A stable sort keeps the store's order (latest activity first) within each group.
    rooms.sort_by_key(|r| r.unread_urgent == 0 && r.unread_mentions == 0);
    if only_unread {
        rooms.retain(|r| r.unread > 0);
    }
    let mut audit = auth.audit(meta, state.clock.now_ms(), AuditAction::RoomListViewed, "room_list", "");
    audit.detail = format!("rooms={}{}", rooms.len(), if only_unread { " filter=unread" } else { "" });
    state.store.append_audit(&audit).await?;
    Ok(RoomList { rooms, total_unread })
}

/// Whom a member may ask to add or remove: the room's current members as (account id,
/// "name（職種・事業所）"), and the municipality's active member accounts not in the room. Only a
/// member who can write asks; the list names the patient (the room's name) and the care team,
/// so it is an audited read.
pub async fn request_choices(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
) -> Result<(Vec<(AccountId, String)>, Vec<Account>), ServiceError> {
    if !access.can_write() {
        return Err(ServiceError::ReadOnly);
    }
    let room = access.room();
    state
        .store
        .append_audit(&auth.audit(meta, state.clock.now_ms(), AuditAction::RoomMembersRead, "room", &room.id))
        .await?;
    let current = current_members(state, room).await?;
    let candidates = state
        .store
        .accounts(&room.municipality_id, None)
        .await?
        .into_iter()
        .filter(|a| {
            a.role == Role::Member
                && a.status == AccountStatus::Active
                && !current.iter().any(|(id, _)| *id == a.id)
        })
        .collect();
    Ok((current, candidates))
}
