//! Post stories: the timeline, receipts, edits, acknowledgements, mentions and attachments.

use super::*;

pub async fn the_timeline_pages_newest_first_by_cursor(store: &dyn Store) {
    let (m, room, [a, _, _]) = room_with_members(store).await;
    let access = access(store, &a, &room).await;
    for i in 0..7 {
        ok(store
            .create_post(&access, &post(&format!("訪問 {i}")), &audit(Some(&m.id), AuditAction::PostCreate))
            .await);
    }
    let first = ok(store.timeline(&access, None, 3).await);
    let texts = |page: &[PostView]| page.iter().map(|p| p.text.as_str().to_string()).collect::<Vec<_>>();
    assert_eq!(texts(&first), ["訪問 6", "訪問 5", "訪問 4"]);
    let second = ok(store.timeline(&access, Some(&first[2].id), 3).await);
    assert_eq!(texts(&second), ["訪問 3", "訪問 2", "訪問 1"]);
    let last = ok(store.timeline(&access, Some(&second[2].id), 3).await);
    assert_eq!(texts(&last), ["訪問 0"]);
    // Replies hang under their post, not in the timeline.
    let reply = NewPost { parent_id: Some(first[0].id.clone()), ..post("了解しました") };
    ok(store.create_post(&access, &reply, &audit(Some(&m.id), AuditAction::PostCreate)).await);
    assert_eq!(texts(&ok(store.timeline(&access, None, 1).await)), ["訪問 6"]);
    let replies = ok(store.replies(&access, &[first[0].id.clone()]).await);
    assert_eq!(texts(&replies), ["了解しました"]);
    // A reply to a reply, or to another room's post, is refused.
    let nested = NewPost { parent_id: Some(replies[0].id.clone()), ..post("x") };
    assert!(matches!(
        store.create_post(&access, &nested, &audit(Some(&m.id), AuditAction::PostCreate)).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn read_receipts_and_unread_counts(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let b_access = access(store, &b, &room).await;
    let p1 =
        ok(store.create_post(&a_access, &post("一つ目"), &audit(Some(&m.id), AuditAction::PostCreate)).await);
    let p2 =
        ok(store.create_post(&a_access, &post("二つ目"), &audit(Some(&m.id), AuditAction::PostCreate)).await);
    let unread = |rooms: Vec<RoomSummary>| rooms.iter().map(|r| r.unread).collect::<Vec<_>>();
    assert_eq!(unread(ok(store.my_rooms(&b.id).await)), [2]);
    assert_eq!(unread(ok(store.my_rooms(&a.id).await)), [0], "one's own posts are never unread");
    ok(store
        .record_read(&b_access, &[p1.id.clone(), p2.id.clone()], T0 + 10, Some(&read_at(&m, T0 + 10)))
        .await);
    ok(store
        .record_read(&b_access, std::slice::from_ref(&p1.id), T0 + 20, Some(&read_at(&m, T0 + 20)))
        .await);
    assert_eq!(unread(ok(store.my_rooms(&b.id).await)), [0]);
    let seen = ok(store.post(&a_access, &p1.id).await);
    assert_eq!((seen.read_count, seen.read_by_me), (1, false));
    assert!(ok(store.post(&b_access, &p1.id).await).read_by_me);
    let readers = ok(store.readers(&a_access, &p1.id).await);
    assert_eq!(
        readers.iter().map(|r| (r.account_id.as_str(), r.at_ms)).collect::<Vec<_>>(),
        [(b.id.as_str(), T0 + 10)]
    );
    // Reading a page records its receipts and its audit entry together.
    let before = ok(store.audit_chain(&m.id).await).len();
    let p4 =
        ok(store.create_post(&a_access, &post("四つ目"), &audit(Some(&m.id), AuditAction::PostCreate)).await);
    assert_eq!(
        ok(store
            .record_read(
                &b_access,
                &[p4.id.clone(), p1.id.clone()],
                T0,
                Some(&audit(Some(&m.id), AuditAction::RoomRead))
            )
            .await),
        1
    );
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), before + 2);
    // The live refresh of a page view already recorded: its receipts, and no second entry.
    let p5 =
        ok(store.create_post(&a_access, &post("五つ目"), &audit(Some(&m.id), AuditAction::PostCreate)).await);
    let before = ok(store.audit_chain(&m.id).await).len();
    assert_eq!(ok(store.record_read(&b_access, std::slice::from_ref(&p5.id), T0 + 22, None).await), 1);
    assert!(ok(store.post(&b_access, &p5.id).await).read_by_me);
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), before);
    // "Mark all read" covers the rest, once.
    let p3 =
        ok(store.create_post(&a_access, &post("三つ目"), &audit(Some(&m.id), AuditAction::PostCreate)).await);
    let before = ok(store.audit_chain(&m.id).await).len();
    assert_eq!(ok(store.mark_room_read(&b_access, &read_at(&m, T0 + 25)).await), 1);
    assert_eq!(ok(store.mark_room_read(&b_access, &read_at(&m, T0 + 26)).await), 0);
    assert!(ok(store.post(&b_access, &p3.id).await).read_by_me);
    let chain = ok(store.audit_chain(&m.id).await);
    assert_eq!(chain.len(), before + 1, "one entry for the receipts that were new, none for nothing");
    assert_eq!(chain.last().map(|e| e.facts.detail.as_str()), Some("posts=1"));
    // The author's own reading leaves no receipt.
    ok(store
        .record_read(&a_access, std::slice::from_ref(&p1.id), T0 + 30, Some(&read_at(&m, T0 + 30)))
        .await);
    assert_eq!(ok(store.post(&a_access, &p1.id).await).read_count, 1);
}

pub async fn edits_keep_every_version_and_deletes_hide_the_text(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let b_access = access(store, &b, &room).await;
    let p = ok(store
        .create_post(&a_access, &post("体温 37.8"), &audit(Some(&m.id), AuditAction::PostCreate))
        .await);
    let fixed = ok(PostText::parse("body", "体温 36.8", false));
    let r = store.edit_post(&b_access, &p.id, &fixed, &audit(Some(&m.id), AuditAction::PostEdit)).await;
    assert!(matches!(r, Err(StoreError::NotAllowed)), "only the author edits: {r:?}");
    ok(store.edit_post(&a_access, &p.id, &fixed, &audit(Some(&m.id), AuditAction::PostEdit)).await);
    ok(store
        .edit_post(
            &a_access,
            &p.id,
            &ok(PostText::parse("body", "体温 36.9", false)),
            &audit(Some(&m.id), AuditAction::PostEdit),
        )
        .await);
    let shown = ok(store.post(&b_access, &p.id).await);
    assert_eq!(shown.text.as_str(), "体温 36.9");
    assert!(shown.edited_at_ms.is_some());
    let versions = ok(store.post_versions(&b_access, &p.id).await);
    assert_eq!(versions.iter().map(|v| v.text.as_str()).collect::<Vec<_>>(), ["体温 36.8", "体温 37.8"]);
    assert!(matches!(
        store.delete_post(&b_access, &p.id, &audit(Some(&m.id), AuditAction::PostDelete)).await,
        Err(StoreError::NotAllowed)
    ));
    ok(store.delete_post(&a_access, &p.id, &audit(Some(&m.id), AuditAction::PostDelete)).await);
    let gone = ok(store.post(&b_access, &p.id).await);
    assert!(gone.deleted_at_ms.is_some());
    assert_eq!(gone.text.as_str(), "", "the text is hidden from readers");
    assert!(ok(store.post_versions(&b_access, &p.id).await).is_empty());
}

pub async fn acknowledgements_and_vitals(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let b_access = access(store, &b, &room).await;
    let vitals = Vitals {
        systolic: Some(132),
        diastolic: Some(78),
        temperature_tenths: Some(368),
        ..Vitals::default()
    };
    let asked = NewPost {
        ack_requested: true,
        category: PostCategory::Vitals,
        importance: Importance::Urgent,
        vitals,
        ..post("至急ご確認ください")
    };
    let p = ok(store.create_post(&a_access, &asked, &audit(Some(&m.id), AuditAction::PostCreate)).await);
    assert_eq!((p.importance, p.vitals), (Importance::Urgent, vitals));
    ok(store.acknowledge(&b_access, &p.id, &audit(Some(&m.id), AuditAction::PostAcknowledge)).await);
    ok(store.acknowledge(&b_access, &p.id, &audit(Some(&m.id), AuditAction::PostAcknowledge)).await);
    let seen = ok(store.post(&b_access, &p.id).await);
    assert_eq!((seen.ack_count, seen.acked_by_me), (1, true));
    assert_eq!(ok(store.acknowledgers(&a_access, &p.id).await).len(), 1);
    let plain = ok(store
        .create_post(&a_access, &post("記録のみ"), &audit(Some(&m.id), AuditAction::PostCreate))
        .await);
    // Nothing to acknowledge: a post that does not ask for it, or no post of this room.
    let ack = audit(Some(&m.id), AuditAction::PostAcknowledge);
    assert!(matches!(store.acknowledge(&b_access, &plain.id, &ack).await, Err(StoreError::NotFound)));
    let unknown = renraku_domain::ids::PostId::parse("0190a0b0-0000-7000-8000-00000000beef")
        .unwrap_or_else(|| panic!("an id"));
    assert!(matches!(store.acknowledge(&b_access, &unknown, &ack).await, Err(StoreError::NotFound)));
    let points = ok(store.vitals(&a_access, T0).await);
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].vitals, vitals);
    // The chart's period: a reading before its start is left out.
    assert!(ok(store.vitals(&a_access, T0 + 1).await).is_empty());
}

pub async fn the_room_list_previews_the_latest_visible_post_and_counts_unread_urgent_ones(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let b_access = access(store, &b, &room).await;
    let listed = |rooms: Vec<RoomSummary>| {
        rooms.into_iter().map(|r| (r.unread, r.unread_urgent, r.latest)).collect::<Vec<_>>()
    };
    assert_eq!(listed(ok(store.my_rooms(&b.id).await)), [(0, 0, None)], "no post yet");
    let first = ok(store
        .create_post(&a_access, &post("一行目\n二行目"), &audit(Some(&m.id), AuditAction::PostCreate))
        .await);
    let urgent = NewPost { importance: Importance::Urgent, ..post("至急：発熱 38.2℃") };
    let second =
        ok(store.create_post(&a_access, &urgent, &audit(Some(&m.id), AuditAction::PostCreate)).await);
    assert!(second.id > first.id);
    assert_eq!(listed(ok(store.my_rooms(&b.id).await)), [(2, 1, Some((T0, "至急：発熱 38.2℃".to_string())))]);
    assert_eq!(ok(store.my_rooms(&a.id).await)[0].unread_urgent, 0, "one's own posts are never unread");
    // A deleted post is neither previewed nor counted: the one before it is shown.
    ok(store.delete_post(&a_access, &second.id, &audit(Some(&m.id), AuditAction::PostDelete)).await);
    assert_eq!(listed(ok(store.my_rooms(&b.id).await)), [(1, 0, Some((T0, "一行目\n二行目".to_string())))]);
    // Reading clears the counts, not the preview.
    ok(store.record_read(&b_access, std::slice::from_ref(&first.id), T0, Some(&read_at(&m, T0))).await);
    assert_eq!(listed(ok(store.my_rooms(&b.id).await)), [(0, 0, Some((T0, "一行目\n二行目".to_string())))]);
}

pub async fn mentions_name_current_members_and_count_until_read(store: &dyn Store) {
    let (m, room, [a, b, c]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let to_c = NewPost { mentions: vec![c.id.clone()], ..post("c さんへ") };
    let r = store.create_post(&a_access, &to_c, &audit(Some(&m.id), AuditAction::PostCreate)).await;
    assert!(matches!(r, Err(StoreError::NotMember)), "only current members can be mentioned: {r:?}");
    let to_b = NewPost { mentions: vec![b.id.clone()], ..post("b さん、確認を") };
    let p = ok(store.create_post(&a_access, &to_b, &audit(Some(&m.id), AuditAction::PostCreate)).await);
    assert_eq!(p.mentioned, ["看護 一郎"]);
    let b_access = access(store, &b, &room).await;
    assert!(ok(store.post(&b_access, &p.id).await).mentions_me);
    assert!(!ok(store.post(&a_access, &p.id).await).mentions_me);
    let summary =
        |rooms: Vec<RoomSummary>| rooms.iter().map(|r| (r.unread, r.unread_mentions)).collect::<Vec<_>>();
    assert_eq!(summary(ok(store.my_rooms(&b.id).await)), [(1, 1)]);
    ok(store.record_read(&b_access, std::slice::from_ref(&p.id), T0, Some(&read_at(&m, T0))).await);
    assert_eq!(summary(ok(store.my_rooms(&b.id).await)), [(0, 0)]);
    assert_eq!(ok(store.timeline(&b_access, None, 5).await)[0].mentioned, ["看護 一郎"]);
}

pub async fn attachments_belong_to_their_post_and_room(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let photo = Attachment {
        id: new_id(),
        kind: "photo".into(),
        name: "褥瘡.jpg".into(),
        size: 12345,
        width: 640,
        height: 480,
        content_key: "blob-1".into(),
        thumb_key: Some("blob-1-thumb".into()),
    };
    let with_photo = NewPost { attachments: vec![photo.clone()], ..post("写真を添付します") };
    let p = ok(store.create_post(&a_access, &with_photo, &audit(Some(&m.id), AuditAction::PostCreate)).await);
    assert_eq!(p.attachments, vec![photo.clone()]);
    let b_access = access(store, &b, &room).await;
    assert_eq!(ok(store.attachment(&b_access, &photo.id).await), photo);
    // Not through another room, and not once the post is deleted.
    let (patient, consent) = sample_patient();
    let other =
        ok(store.open_room(&m.id, &patient, &consent, &audit(Some(&m.id), AuditAction::RoomOpen)).await);
    ok(store.add_member(&m.id, &other.id, &b.id, &audit(Some(&m.id), AuditAction::RoomMemberAdd)).await);
    let elsewhere = access(store, &b, &other).await;
    assert!(matches!(store.attachment(&elsewhere, &photo.id).await, Err(StoreError::NotFound)));
    ok(store.delete_post(&a_access, &p.id, &audit(Some(&m.id), AuditAction::PostDelete)).await);
    assert!(matches!(store.attachment(&b_access, &photo.id).await, Err(StoreError::NotFound)));
    assert!(ok(store.post(&b_access, &p.id).await).attachments.is_empty());
    // The files stay referred to (a deleted post's files are kept like its row).
    let mut keys = ok(store.attachment_keys().await);
    keys.sort();
    assert_eq!(keys, ["blob-1", "blob-1-thumb"]);
}

pub async fn a_form_sent_twice_writes_one_post(store: &dyn Store) {
    let (m, room, [a, b, _]) = room_with_members(store).await;
    let a_access = access(store, &a, &room).await;
    let keyed = |key: &str, text: &str| NewPost { idempotency_key: Some(key.into()), ..post(text) };
    let create = audit(Some(&m.id), AuditAction::PostCreate);
    let first = ok(store.create_post(&a_access, &keyed("form-key-0001", "訪問しました"), &create).await);
    let chain = ok(store.audit_chain(&m.id).await).len();
    // Sent again (the answer to the first sending was lost): the first post, nothing written.
    let again = ok(store.create_post(&a_access, &keyed("form-key-0001", "訪問しました"), &create).await);
    assert_eq!(again, first);
    assert_eq!(ok(store.timeline(&a_access, None, 10).await).len(), 1);
    assert_eq!(ok(store.audit_chain(&m.id).await).len(), chain, "no second audit entry either");
    // Keys are per author; posts without a key are never taken for one another.
    let b_access = access(store, &b, &room).await;
    let theirs = ok(store.create_post(&b_access, &keyed("form-key-0001", "別の人"), &create).await);
    assert_ne!(theirs.id, first.id);
    ok(store.create_post(&a_access, &post("鍵なし"), &create).await);
    ok(store.create_post(&a_access, &post("鍵なし"), &create).await);
    // Two sendings at the same moment still make one post.
    let twice = keyed("form-key-0002", "同時に二度");
    let (x, y) = futures_util::future::join(
        store.create_post(&a_access, &twice, &create),
        store.create_post(&a_access, &twice, &create),
    )
    .await;
    assert_eq!(ok(x).id, ok(y).id);
    let mut texts: Vec<String> =
        ok(store.timeline(&a_access, None, 10).await).iter().map(|p| p.text.as_str().to_string()).collect();
    texts.sort();
    assert_eq!(texts, ["別の人", "同時に二度", "訪問しました", "鍵なし", "鍵なし"]);
    // A reply sent twice, too.
    let reply = NewPost { parent_id: Some(first.id.clone()), ..keyed("form-key-0003", "了解") };
    let r1 = ok(store.create_post(&b_access, &reply, &create).await);
    let r2 = ok(store.create_post(&b_access, &reply, &create).await);
    assert_eq!(r1.id, r2.id);
    assert_eq!(ok(store.replies(&a_access, std::slice::from_ref(&first.id)).await).len(), 1);
}
