//! Care-plan exchange stories: sets go from sender to receiver, deletions withdraw.

use super::*;

fn careplan_set(
    kind: &str,
    stamp: &str,
    sender: &Facility,
    receiver: &Facility,
    by: &Account,
) -> NewCareplanSet {
    NewCareplanSet {
        kind: kind.into(),
        stamp: stamp.into(),
        month: None,
        sender_facility_id: sender.id.clone(),
        receiver_facility_id: receiver.id.clone(),
        sender_office: "1234567890-43".into(),
        receiver_office: "2234567890-13".into(),
        uploaded_by: by.id.clone(),
        uploaded_at_ms: T0,
        files: vec![CareplanFileData {
            name: format!("UP1KYO_1234567890_43_2234567890_13_{stamp}.CSV"),
            kind: "UP1KYO".into(),
            bytes: vec![0x82, 0xA0, b',', b'\r', b'\n', 0xFB, 0xFC],
        }],
        subjects: vec![CareplanSubject {
            insurer_no: "122203".into(),
            insured_no: "0000123456".into(),
            record_key: "20261101".into(),
            name: "ナガレヤマ ハナコ".into(),
            patient_id: None,
            patient_name: None,
            withdrawn_by: None,
        }],
    }
}

/// Uploads one set alone.
async fn upload(
    store: &dyn Store,
    set: &NewCareplanSet,
    municipality_id: &MunicipalityId,
) -> StoreResult<CareplanSetId> {
    let audit = audit(Some(municipality_id), AuditAction::CareplanUpload);
    store.create_careplan_sets(&[(set.clone(), audit)]).await.map(|mut ids| ids.remove(0))
}

/// A multi-set upload is stored all or nothing (issue 11, item 3): one set of it taken already
/// leaves none of its sets, and no audit entry for them.
pub async fn a_multi_set_upload_is_stored_all_or_nothing(store: &dyn Store) {
    let (m, _room, [manager, ..]) = room_with_members(store).await;
    let other = municipality(store, "122173").await;
    let mut info = sample_facility("かしわ訪問看護");
    info.care_provider_no = Some(ok(FacilityNumber::parse("n", "2234567890")));
    let receiver = ok(store
        .create_facility(&other.id, &info, &audit(Some(&other.id), AuditAction::FacilityCreate))
        .await);
    let sender = ok(store.facility(&m.id, &facility_of(&ok(store.account(&manager.id).await))).await);
    let set = |kind: &str, stamp: &str| {
        (
            careplan_set(kind, stamp, &sender, &receiver, &manager),
            audit(Some(&m.id), AuditAction::CareplanUpload),
        )
    };
    let first = ok(store.create_careplan_sets(&[set("plan", "20261101090000")]).await);
    assert_eq!(upload_entries(store, &m.id).await, first);
    // New sets before and after the one taken already.
    let second =
        [set("provision", "20261101090000"), set("plan", "20261101090000"), set("plan", "20261102090000")];
    assert!(matches!(store.create_careplan_sets(&second).await, Err(StoreError::Taken(_))));
    let stored: Vec<_> =
        ok(store.careplan_sets(&sender.id).await).into_iter().map(|s| (s.kind, s.stamp)).collect();
    assert_eq!(stored, [("plan".to_string(), "20261101090000".to_string())], "none of the second upload");
    assert_eq!(upload_entries(store, &m.id).await, first, "no audit entry for sets not stored");
    // Without the taken set, the upload is stored whole, each set with its entry.
    let third = [set("provision", "20261101090000"), set("plan", "20261102090000")];
    let ids = ok(store.create_careplan_sets(&third).await);
    assert_eq!(ok(store.careplan_sets(&sender.id).await).len(), 3);
    let mut expected = [first, ids].concat();
    expected.sort();
    assert_eq!(upload_entries(store, &m.id).await, expected, "each set's entry names it");
    assert!(ok(store.create_careplan_sets(&[]).await).is_empty());
}

/// The sets the upload entries of a municipality's chain name, sorted.
async fn upload_entries(store: &dyn Store, municipality_id: &MunicipalityId) -> Vec<CareplanSetId> {
    let filter =
        AuditFilter { action_prefix: Some("careplan.upload".into()), limit: 100, ..Default::default() };
    let mut ids: Vec<_> = ok(store.audit_entries(municipality_id, &filter).await)
        .into_iter()
        .map(|r| CareplanSetId::from_stored(r.facts.object_id))
        .collect();
    ids.sort();
    ids
}

/// 介護予防 (仕様 3.3, 3.4): a 介護予防サービス・支援計画書_削除 withdraws the plan, also where it
/// travelled with a 利用者基本情報; a 利用者基本情報_削除 withdraws the 利用者基本情報 sent alone
/// and leaves a plan standing.
pub async fn yobo_deletions_withdraw_their_own_sets(store: &dyn Store) {
    let (m, _room, [manager, ..]) = room_with_members(store).await;
    let mut info = sample_facility("ながれやま通所");
    info.care_provider_no = Some(ok(FacilityNumber::parse("n", "2234567890")));
    let receiver =
        ok(store.create_facility(&m.id, &info, &audit(Some(&m.id), AuditAction::FacilityCreate)).await);
    let sender = ok(store.facility(&m.id, &facility_of(&ok(store.account(&manager.id).await))).await);
    let send = |kind: &'static str, stamp: &'static str, key: &'static str| {
        let mut set = careplan_set(kind, stamp, &sender, &receiver, &manager);
        set.subjects[0].record_key = key.into();
        let (store, m, sender) = (store, m.clone(), sender.clone());
        async move {
            let id = ok(upload(store, &set, &m.id).await);
            ok(store
                .send_careplan_set(&sender.id, &id, T0, &audit(Some(&m.id), AuditAction::CareplanSend))
                .await);
            id
        }
    };
    let withdrawn = |id: CareplanSetId| {
        let (store, receiver) = (store, receiver.clone());
        async move { ok(store.careplan_set(&receiver.id, &id).await).summary.withdrawn_by }
    };
    // The plan date keys a plan set; the 相談日 keys a 利用者基本情報 set.
    let both = send("yobo_kihon", "20261201100000", "20261115").await;
    let kihon = send("kihon", "20261201110000", "20261110").await;
    let plan = send("yobo", "20261201120000", "20261116").await;
    let kihon_deletion = send("kihon_deletion", "20261202100000", "20261110").await;
    assert_eq!(withdrawn(kihon.clone()).await, Some(kihon_deletion.clone()));
    assert_eq!(withdrawn(both.clone()).await, None, "the plan in it still holds");
    let yobo_deletion = send("yobo_deletion", "20261202110000", "20261115").await;
    assert_eq!(withdrawn(both).await, Some(yobo_deletion.clone()));
    assert_eq!(withdrawn(plan.clone()).await, None, "another plan date");
    let yobo_deletion = send("yobo_deletion", "20261202120000", "20261116").await;
    assert_eq!(withdrawn(plan).await, Some(yobo_deletion));
}

pub async fn careplan_sets_go_from_sender_to_receiver_and_deletions_withdraw(store: &dyn Store) {
    let (m, room, [manager, ..]) = room_with_members(store).await;
    // The receiver is in another municipality on the same server.
    let other = municipality(store, "122173").await;
    let mut info = sample_facility("かしわ訪問看護");
    info.care_provider_no = Some(ok(FacilityNumber::parse("n", "2234567890")));
    let receiver = ok(store
        .create_facility(&other.id, &info, &audit(Some(&other.id), AuditAction::FacilityCreate))
        .await);
    let sender = ok(store.facility(&m.id, &facility_of(&ok(store.account(&manager.id).await))).await);
    let found = ok(store.facilities_by_care_provider_no("2234567890").await);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, receiver.id);
    assert!(ok(store.facilities_by_care_provider_no("9999999999").await).is_empty());

    let plan = careplan_set("plan", "20261101090000", &sender, &receiver, &manager);
    let id = ok(upload(store, &plan, &m.id).await);
    assert!(matches!(upload(store, &plan, &m.id).await, Err(StoreError::Taken(_))));
    // Drafts are the sender's alone.
    let mine = ok(store.careplan_set(&sender.id, &id).await);
    assert_eq!(mine.files, plan.files, "the original bytes come back unchanged");
    assert_eq!(
        mine.summary.subjects[0].patient_id.as_deref(),
        Some(room.patient_id.as_str()),
        "linked to the patient"
    );
    assert_eq!(mine.summary.receiver_facility_name, "かしわ訪問看護");
    assert!(matches!(store.careplan_set(&receiver.id, &id).await, Err(StoreError::NotFound)));
    assert!(ok(store.careplan_sets(&receiver.id).await).is_empty());
    assert_eq!(ok(store.careplan_waiting_count(&receiver.id).await), 0, "a draft waits for no one");
    assert!(matches!(
        store
            .acknowledge_careplan_set(
                &receiver.id,
                &id,
                &manager.id,
                T0,
                &audit(Some(&other.id), AuditAction::CareplanAcknowledge)
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // Only the sender sends, once.
    assert!(matches!(
        store
            .send_careplan_set(&receiver.id, &id, T0, &audit(Some(&other.id), AuditAction::CareplanSend))
            .await,
        Err(StoreError::NotFound)
    ));
    ok(store
        .send_careplan_set(&sender.id, &id, T0 + 1, &audit(Some(&m.id), AuditAction::CareplanSend))
        .await);
    assert!(matches!(
        store
            .send_careplan_set(&sender.id, &id, T0 + 2, &audit(Some(&m.id), AuditAction::CareplanSend))
            .await,
        Err(StoreError::NotAllowed)
    ));
    assert_eq!(ok(store.careplan_waiting_count(&receiver.id).await), 1, "sent: waits for the receiver");
    assert_eq!(ok(store.careplan_waiting_count(&sender.id).await), 0, "not the sender's to acknowledge");
    let inbox = ok(store.careplan_sets(&receiver.id).await);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].sent_at_ms, Some(T0 + 1));
    ok(store
        .acknowledge_careplan_set(
            &receiver.id,
            &id,
            &manager.id,
            T0 + 5,
            &audit(Some(&other.id), AuditAction::CareplanAcknowledge),
        )
        .await);
    ok(store
        .acknowledge_careplan_set(
            &receiver.id,
            &id,
            &manager.id,
            T0 + 9,
            &audit(Some(&other.id), AuditAction::CareplanAcknowledge),
        )
        .await);
    let seen = ok(store.careplan_set(&sender.id, &id).await).summary;
    assert_eq!(seen.acknowledged_at_ms, Some(T0 + 5), "the first acknowledgement stays");
    assert_eq!(ok(store.careplan_waiting_count(&receiver.id).await), 0, "acknowledged");
    assert_eq!(seen.acknowledged_by_name.as_deref(), Some("看護 一郎"));
    // A later deletion for the same person and plan date withdraws the plan; an earlier one
    // (applied in stamp order) does not.
    let early = careplan_set("plan_deletion", "20261031090000", &sender, &receiver, &manager);
    let early = ok(upload(store, &early, &m.id).await);
    ok(store
        .send_careplan_set(&sender.id, &early, T0 + 10, &audit(Some(&m.id), AuditAction::CareplanSend))
        .await);
    assert_eq!(ok(store.careplan_set(&sender.id, &id).await).summary.withdrawn_by, None);
    let mut other_person = careplan_set("plan_deletion", "20261102090000", &sender, &receiver, &manager);
    other_person.subjects[0].insured_no = "0000999999".into();
    let other_person = ok(upload(store, &other_person, &m.id).await);
    ok(store
        .send_careplan_set(&sender.id, &other_person, T0 + 11, &audit(Some(&m.id), AuditAction::CareplanSend))
        .await);
    assert_eq!(ok(store.careplan_set(&sender.id, &id).await).summary.withdrawn_by, None);
    let deletion = careplan_set("plan_deletion", "20261103090000", &sender, &receiver, &manager);
    let deletion = ok(upload(store, &deletion, &m.id).await);
    ok(store
        .send_careplan_set(&sender.id, &deletion, T0 + 12, &audit(Some(&m.id), AuditAction::CareplanSend))
        .await);
    assert_eq!(ok(store.careplan_set(&receiver.id, &id).await).summary.withdrawn_by, Some(deletion.clone()));
    // Sent late, a plan whose stamp comes before that deletion's arrives withdrawn.
    let late = careplan_set("plan", "20261102120000", &sender, &receiver, &manager);
    let late = ok(upload(store, &late, &m.id).await);
    ok(store
        .send_careplan_set(&sender.id, &late, T0 + 13, &audit(Some(&m.id), AuditAction::CareplanSend))
        .await);
    assert_eq!(
        ok(store.careplan_set(&receiver.id, &late).await).summary.withdrawn_by,
        Some(deletion.clone())
    );
    let later = careplan_set("plan", "20261104090000", &sender, &receiver, &manager);
    let later = ok(upload(store, &later, &m.id).await);
    ok(store
        .send_careplan_set(&sender.id, &later, T0 + 14, &audit(Some(&m.id), AuditAction::CareplanSend))
        .await);
    assert_eq!(ok(store.careplan_set(&receiver.id, &later).await).summary.withdrawn_by, None);
    let listed: Vec<_> = ok(store.careplan_sets(&receiver.id).await).into_iter().map(|s| s.stamp).collect();
    assert_eq!(
        listed,
        [
            "20261104090000",
            "20261103090000",
            "20261102120000",
            "20261102090000",
            "20261101090000",
            "20261031090000"
        ]
    );
}

/// A deletion withdraws what it names, not the whole set (issue 10, item 13): a 実績 set for
/// 訪問介護 (11) and 福祉用具貸与 (17) of one office keeps its 訪問介護 when the 17 is deleted
/// (「削除はサービス種類毎に行う」), and a plan for two people keeps the other person's plan.
pub async fn a_deletion_withdraws_only_the_people_and_service_types_it_names(store: &dyn Store) {
    let (m, _room, [manager, ..]) = room_with_members(store).await;
    let other = municipality(store, "122173").await;
    let mut info = sample_facility("かしわ福祉用具");
    info.care_provider_no = Some(ok(FacilityNumber::parse("n", "2234567890")));
    let receiver = ok(store
        .create_facility(&other.id, &info, &audit(Some(&other.id), AuditAction::FacilityCreate))
        .await);
    let sender = ok(store.facility(&m.id, &facility_of(&ok(store.account(&manager.id).await))).await);
    let subject = |insured: &str, key: &str| CareplanSubject {
        insurer_no: "122203".into(),
        insured_no: insured.into(),
        record_key: key.into(),
        name: "ナガレヤマ ハナコ".into(),
        patient_id: None,
        patient_name: None,
        withdrawn_by: None,
    };
    let (m_id, sender_id, receiver_id) = (&m.id, &sender.id, &receiver.id);
    let send = move |set: NewCareplanSet| async move {
        let id = ok(upload(store, &set, m_id).await);
        ok(store.send_careplan_set(sender_id, &id, T0, &audit(Some(m_id), AuditAction::CareplanSend)).await);
        id
    };
    let withdrawn = move |id: CareplanSetId| async move {
        let set = ok(store.careplan_set(receiver_id, &id).await).summary;
        let subjects: Vec<_> =
            set.subjects.iter().map(|s| (s.record_key.clone(), s.withdrawn_by.clone())).collect();
        (set.withdrawn_by, subjects)
    };

    let mut actual = careplan_set("actual", "20270105100000", &sender, &receiver, &manager);
    actual.subjects =
        vec![subject("0000123456", "202612 2234567890 11"), subject("0000123456", "202612 2234567890 17")];
    let actual = send(actual).await;
    let mut deletion = careplan_set("actual_deletion", "20270106100000", &sender, &receiver, &manager);
    deletion.subjects = vec![subject("0000123456", "202612 2234567890 17")];
    let deletion = send(deletion).await;
    assert_eq!(
        withdrawn(actual.clone()).await,
        (
            None,
            vec![
                ("202612 2234567890 11".to_string(), None),
                ("202612 2234567890 17".to_string(), Some(deletion.clone()))
            ]
        ),
        "the 訪問介護 実績 stays"
    );
    let mut rest = careplan_set("actual_deletion", "20270107100000", &sender, &receiver, &manager);
    rest.subjects = vec![subject("0000123456", "202612 2234567890 11")];
    let rest = send(rest).await;
    assert_eq!(withdrawn(actual).await.0, Some(rest.clone()), "withdrawn once nothing is left");

    // A plan for two people: deleting one person's plan leaves the other's.
    let mut plan = careplan_set("plan", "20261101090000", &sender, &receiver, &manager);
    plan.subjects = vec![subject("0000000001", "20261101"), subject("0000000002", "20261101")];
    let plan = send(plan).await;
    let mut one = careplan_set("plan_deletion", "20261102090000", &sender, &receiver, &manager);
    one.subjects = vec![subject("0000000001", "20261101")];
    let one = send(one).await;
    assert_eq!(withdrawn(plan.clone()).await.0, None);
    // Sent late, a plan for both whose stamp comes before that deletion keeps the second person.
    let mut late = careplan_set("plan", "20261101120000", &sender, &receiver, &manager);
    late.subjects = vec![subject("0000000001", "20261101"), subject("0000000002", "20261101")];
    let late = send(late).await;
    assert_eq!(
        withdrawn(late).await,
        (None, vec![("20261101".to_string(), Some(one.clone())), ("20261101".to_string(), None)])
    );
    let mut two = careplan_set("plan_deletion", "20261103090000", &sender, &receiver, &manager);
    two.subjects = vec![subject("0000000002", "20261101")];
    let two = send(two).await;
    assert_eq!(withdrawn(plan).await.0, Some(two));
}
