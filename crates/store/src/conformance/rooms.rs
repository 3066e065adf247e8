//! Room stories: patients, consent, membership, oversight, and requests to change a room.

use super::*;

pub async fn a_room_is_opened_with_its_patient_and_consent(store: &dyn Store) {
    let (m, room, _) = room_with_members(store).await;
    assert_eq!(room.name, "流山 花子さん");
    assert_eq!(room.status, RoomStatus::Open);
    let (patient, consent) = sample_patient();
    assert_eq!(ok(store.patient(&m.id, &room.patient_id).await).info, patient);
    let c = ok(store.consent_of(&m.id, &room.patient_id).await);
    assert_eq!((c.info, c.withdrawn_at_ms), (consent, None));
    assert_eq!(ok(store.rooms(&m.id).await), vec![room.clone()]);
    let other = municipality(store, "122173").await;
    assert!(matches!(store.room(&other.id, &room.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.patient(&other.id, &room.patient_id).await, Err(StoreError::NotFound)));
}

pub async fn only_current_members_read_a_room(store: &dyn Store) {
    let (m, room, [a, b, outsider]) = room_with_members(store).await;
    assert!(ok(store.authorize_room(&a.id, &room.id).await).is_some());
    assert!(ok(store.authorize_room(&outsider.id, &room.id).await).is_none());
    let members = ok(store.members(&m.id, &room.id).await);
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|x| x.left_at_ms.is_none() && x.occupation == "看護師"));
    // Adding twice is refused; an admin or another municipality's user cannot be added.
    let again =
        store.add_member(&m.id, &room.id, &a.id, &audit(Some(&m.id), AuditAction::RoomMemberAdd)).await;
    assert!(matches!(again, Err(StoreError::Taken(_))), "{again:?}");
    let b_access = access(store, &b, &room).await;
    ok(store.remove_member(&m.id, &room.id, &b.id, &audit(Some(&m.id), AuditAction::RoomMemberRemove)).await);
    assert!(
        ok(store.authorize_room(&b.id, &room.id).await).is_none(),
        "a member who left loses access at once"
    );
    // A proof obtained before leaving writes nothing afterwards.
    let r = store
        .create_post(&b_access, &post("まだ書ける？"), &audit(Some(&m.id), AuditAction::PostCreate))
        .await;
    assert!(matches!(r, Err(StoreError::NotAllowed)), "{r:?}");
    assert_eq!(ok(store.members(&m.id, &room.id).await).iter().filter(|x| x.left_at_ms.is_some()).count(), 1);
    // Rejoining starts a new membership period.
    ok(store.add_member(&m.id, &room.id, &b.id, &audit(Some(&m.id), AuditAction::RoomMemberAdd)).await);
    assert!(ok(store.authorize_room(&b.id, &room.id).await).is_some());
    // Oversight: only the municipality's admins, recorded in the audit trail.
    let r =
        store.oversee_room(&m.id, &a.id, &room.id, &audit(Some(&m.id), AuditAction::RoomOversightRead)).await;
    assert!(matches!(r, Err(StoreError::NotAllowed)), "a member is not an admin: {r:?}");
    let admin =
        NewAccount { role: Role::Admin, facility_id: None, ..sample_member("admin01", &m.id, None, false) };
    let admin = ok(store
        .create_account(
            &admin,
            &token("t-admin", TokenPurpose::Activation),
            &audit(Some(&m.id), AuditAction::AdminCreate),
        )
        .await);
    ok(store
        .activate("t-admin", "$argon2id$h", T0, &audit(Some(&m.id), AuditAction::AccountActivated))
        .await);
    let before = ok(store.audit_chain(&m.id).await).len();
    let oversight = ok(store
        .oversee_room(&m.id, &admin.id, &room.id, &audit(Some(&m.id), AuditAction::RoomOversightRead))
        .await);
    assert_eq!(oversight.kind(), AccessKind::Oversight);
    assert!(!oversight.can_write());
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), before + 1);
    let r =
        store.create_post(&oversight, &post("市です"), &audit(Some(&m.id), AuditAction::PostCreate)).await;
    assert!(matches!(r, Err(StoreError::NotAllowed)));
    // A deleted account leaves its rooms; restoring the account does not restore them.
    ok(store
        .set_account_status(
            &m.id,
            &b.id,
            AccountStatus::Deleted,
            &audit(Some(&m.id), AuditAction::UserDelete),
        )
        .await);
    let chain = ok(store.audit_chain(&m.id).await);
    assert_eq!(chain.last().map(|e| e.facts.detail.as_str()), Some("rooms_left=1"));
    ok(store
        .set_account_status(
            &m.id,
            &b.id,
            AccountStatus::Active,
            &audit(Some(&m.id), AuditAction::UserReactivate),
        )
        .await);
    assert!(ok(store.authorize_room(&b.id, &room.id).await).is_none(), "the rooms stay left");
    let members = ok(store.members(&m.id, &room.id).await);
    assert!(members.iter().filter(|x| x.account_id == b.id).all(|x| x.left_at_ms.is_some()));
    assert!(ok(store.authorize_room(&a.id, &room.id).await).is_some(), "nobody else leaves");
}

pub async fn withdrawn_consent_makes_the_room_read_only(store: &dyn Store) {
    let (m, room, [a, _, _]) = room_with_members(store).await;
    let before = access(store, &a, &room).await;
    ok(store.create_post(&before, &post("最後の記録"), &audit(Some(&m.id), AuditAction::PostCreate)).await);
    ok(store
        .withdraw_consent(&m.id, &room.patient_id, &audit(Some(&m.id), AuditAction::ConsentWithdraw))
        .await);
    assert!(ok(store.consent_of(&m.id, &room.patient_id).await).withdrawn_at_ms.is_some());
    assert_eq!(ok(store.room(&m.id, &room.id).await).status, RoomStatus::ReadOnly);
    let after = access(store, &a, &room).await;
    assert!(!after.can_write());
    assert_eq!(ok(store.timeline(&after, None, 10).await).len(), 1, "still readable");
    for stale in [&before, &after] {
        let r =
            store.create_post(stale, &post("書けない"), &audit(Some(&m.id), AuditAction::PostCreate)).await;
        assert!(matches!(r, Err(StoreError::NotAllowed)), "{r:?}");
    }
    let again = store
        .withdraw_consent(&m.id, &room.patient_id, &audit(Some(&m.id), AuditAction::ConsentWithdraw))
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)));
}

fn request(kind: RequestKind, target: Option<&Account>) -> NewRoomRequest {
    NewRoomRequest {
        kind,
        target_account_id: target.map(|a| a.id.clone()),
        closing_reason: (kind == RequestKind::Close).then_some(ClosingReason::Death),
        note: "退院後の訪問を開始".into(),
    }
}

pub async fn requests_to_invite_remove_and_close_wait_for_the_municipality(store: &dyn Store) {
    let (m, room, [a, b, c]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let add = ok(store
        .request(
            &a_access,
            &request(RequestKind::AddMember, Some(&c)),
            &audit(Some(&m.id), AuditAction::RoomRequest),
        )
        .await);
    assert_eq!(add, RequestStatus::Pending);
    assert!(ok(store.authorize_room(&c.id, &room.id).await).is_none(), "not before approval");
    let again = store
        .request(
            &a_access,
            &request(RequestKind::AddMember, Some(&b)),
            &audit(Some(&m.id), AuditAction::RoomRequest),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Taken(_))), "b is a member already: {again:?}");
    let pending = ok(store.room_requests(&m.id, Some(&room.id), true).await);
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].kind, pending[0].target_name.as_deref()),
        (RequestKind::AddMember, Some("看護 一郎"))
    );
    ok(store
        .decide_request(&m.id, &pending[0].id, true, "", &audit(Some(&m.id), AuditAction::RoomRequestApprove))
        .await);
    assert!(ok(store.authorize_room(&c.id, &room.id).await).is_some());
    let twice = store
        .decide_request(&m.id, &pending[0].id, true, "", &audit(Some(&m.id), AuditAction::RoomRequestApprove))
        .await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "a request is decided once");
    // A rejected removal changes nothing; an approved one removes.
    ok(store
        .request(
            &a_access,
            &request(RequestKind::RemoveMember, Some(&b)),
            &audit(Some(&m.id), AuditAction::RoomRequest),
        )
        .await);
    let id = ok(store.room_requests(&m.id, Some(&room.id), true).await).remove(0).id;
    ok(store
        .decide_request(
            &m.id,
            &id,
            false,
            "担当継続のため",
            &audit(Some(&m.id), AuditAction::RoomRequestReject),
        )
        .await);
    assert!(ok(store.authorize_room(&b.id, &room.id).await).is_some());
    let all = ok(store.room_requests(&m.id, None, false).await);
    assert_eq!(all[0].status, RequestStatus::Rejected);
    assert_eq!(all[0].decision_note.as_deref(), Some("担当継続のため"));
    // Closing: read-only for everyone once the municipality confirms.
    ok(store
        .request(&a_access, &request(RequestKind::Close, None), &audit(Some(&m.id), AuditAction::RoomRequest))
        .await);
    let id = ok(store.room_requests(&m.id, None, true).await).remove(0).id;
    assert!(access(store, &b, &room).await.can_write(), "open until confirmed");
    ok(store
        .decide_request(&m.id, &id, true, "", &audit(Some(&m.id), AuditAction::RoomRequestApprove))
        .await);
    assert_eq!(ok(store.room(&m.id, &room.id).await).status, RoomStatus::ReadOnly);
    assert!(!access(store, &b, &room).await.can_write());
    let other = municipality(store, "122173").await;
    assert!(ok(store.room_requests(&other.id, None, false).await).is_empty());
}

pub async fn a_care_manager_may_invite_directly_when_the_municipality_allows(store: &dyn Store) {
    let (m, room, [_, _, c]) = room_with_members(store).await;
    let mut new = sample_member("caremanager", &m.id, None, false);
    new.profile.profession = ok(Profession::parse("o", "oo", "care_manager", ""));
    let cm = ok(store
        .create_account(
            &new,
            &token("t-cm", TokenPurpose::Activation),
            &audit(Some(&m.id), AuditAction::UserCreate),
        )
        .await);
    ok(store.activate("t-cm", "$argon2id$h", T0, &audit(Some(&m.id), AuditAction::AccountActivated)).await);
    ok(store.add_member(&m.id, &room.id, &cm.id, &audit(Some(&m.id), AuditAction::RoomMemberAdd)).await);
    let cm_access = access(store, &cm, &room).await;
    let status = ok(store
        .request(
            &cm_access,
            &request(RequestKind::AddMember, Some(&c)),
            &audit(Some(&m.id), AuditAction::RoomRequest),
        )
        .await);
    assert_eq!(status, RequestStatus::Pending, "not allowed by default");
    let mut settings = m.settings;
    settings.care_manager_may_invite = true;
    ok(store
        .update_municipality_settings(&m.id, &settings, &audit(Some(&m.id), AuditAction::SettingsUpdate))
        .await);
    let id = ok(store.room_requests(&m.id, None, true).await).remove(0).id;
    ok(store
        .decide_request(&m.id, &id, false, "", &audit(Some(&m.id), AuditAction::RoomRequestReject))
        .await);
    let status = ok(store
        .request(
            &cm_access,
            &request(RequestKind::AddMember, Some(&c)),
            &audit(Some(&m.id), AuditAction::RoomRequest),
        )
        .await);
    assert_eq!(status, RequestStatus::Approved);
    assert!(ok(store.authorize_room(&c.id, &room.id).await).is_some());
    // Removal still goes through the municipality.
    let status = ok(store
        .request(
            &cm_access,
            &request(RequestKind::RemoveMember, Some(&c)),
            &audit(Some(&m.id), AuditAction::RoomRequest),
        )
        .await);
    assert_eq!(status, RequestStatus::Pending);
}
