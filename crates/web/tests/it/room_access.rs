//! Who may use each room route (D1–D5, G2): members only, the municipality only with a recorded
//! reason, and every page that shows a room or names patients audited once per view.

use crate::both;
use crate::helpers::*;
use crate::rooms::*;

both!(
    every_room_route_is_closed_to_everyone_but_current_members,
    the_municipality_room_pages_are_closed_to_everyone_else,
    every_page_that_shows_a_room_is_audited,
    a_stream_ends_with_its_session,
    each_view_of_a_list_that_names_patients_is_audited,
    live_refreshes_of_an_open_room_are_one_view,
);

async fn every_room_route_is_closed_to_everyone_but_current_members(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    post(&t.a, room, &[("category", "visit"), ("body", "訪問しました"), ("ack_requested", "on")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    upload(&t.a, room, "写真", vec![("IMG_0001.JPG", jpeg_with_gps())])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let page = t.a.get(&format!("/rooms/{room}")).await.expect_status(200);
    let p = post_ids(&page).pop().unwrap();
    let file = between(&page.body, &format!("/rooms/{room}/files/"), "\"").to_string();
    // Someone from another municipality.
    let (operator, _) = app.operator_again().await;
    let (_, other_admin, _) = app.municipality_with_admin(&operator, "122173", "kashiwa").await;
    let other_facility =
        crate::careplan::facility(&other_admin, "かしわ訪問看護", "home_nursing", "2234567890").await;
    let (stranger, _) = member(&app, &other_admin, &other_facility, "kashiwa_nurse").await;
    // b leaves the room.
    t.admin
        .submit(
            &format!("/admin/rooms/{room}"),
            &format!("/admin/rooms/{room}/members/{}/remove", t.b_account),
            &[],
        )
        .await
        .expect_redirect(&format!("/admin/rooms/{room}"));
    let gets = [
        format!("/rooms/{room}"),
        format!("/rooms/{room}/requests"),
        format!("/rooms/{room}/vitals"),
        format!("/rooms/{room}/posts/{p}/readers"),
        format!("/rooms/{room}/posts/{p}/edit"),
        format!("/rooms/{room}/files/{file}"),
        format!("/rooms/{room}/files/{file}/thumb"),
    ];
    // The live-update stream: closed like the rest (a member's stays open, see below).
    let stream = format!("/rooms/{room}/events");
    let posts: [(String, Vec<(&str, &str)>); 7] = [
        (format!("/rooms/{room}/read"), vec![]),
        (format!("/rooms/{room}/requests"), vec![("kind", "close"), ("closing_reason", "death")]),
        (format!("/rooms/{room}/posts"), vec![("category", "visit"), ("body", "x")]),
        (format!("/rooms/{room}/posts/{p}/replies"), vec![("body", "x")]),
        (format!("/rooms/{room}/posts/{p}/ack"), vec![]),
        (format!("/rooms/{room}/posts/{p}/edit"), vec![("body", "x")]),
        (format!("/rooms/{room}/posts/{p}/delete"), vec![]),
    ];
    let anonymous = app.browser();
    for (who, browser, expected) in [
        ("former member", &t.b, 404),
        ("same municipality, not invited", &t.c, 404),
        ("another municipality", &stranger, 404),
        ("municipality admin without a reason", &t.admin, 404),
    ] {
        for path in gets.iter().chain([&stream]) {
            assert_eq!(browser.get(path).await.status, expected, "{who}: GET {path}");
        }
        for (path, fields) in &posts {
            let status = browser.submit("/account", path, fields).await.status;
            assert_eq!(status, expected, "{who}: POST {path}");
        }
    }
    for path in gets.iter().chain([&stream]) {
        anonymous.get(path).await.expect_redirect(&login_for(path));
    }
    for (path, fields) in &posts {
        let page = anonymous.submit("/login", path, fields).await;
        assert_eq!(page.location(), Some("/login"), "anonymous POST {path}");
    }
    // The current member can use them all (edit and delete only their own post).
    for path in &gets {
        assert_eq!(t.a.get(path).await.status, 200, "member: GET {path}");
    }
    assert_eq!(events(&t.a, room).await.status(), 200, "member: GET {stream}");
    for (who, browser) in [("not invited", &t.c), ("former member", &t.b)] {
        let page = browser.get("/rooms").await.expect_status(200);
        assert!(!page.body.contains("流山 花子"), "the room is not even listed: {who}");
    }
    let nothing_written =
        app.store().audit_chain(&app.store().municipality_by_code("122203").await.unwrap().id).await.unwrap();
    assert_eq!(nothing_written.iter().filter(|r| r.facts.action == "post.create").count(), 2);
}

/// The municipality's side of rooms (patients, members, requests, oversight) is for the admins
/// of the room's own municipality: members, the operator, another municipality's admin and
/// anonymous visitors get nothing, and change nothing.
async fn the_municipality_room_pages_are_closed_to_everyone_else(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    t.a.submit(
        &format!("/rooms/{room}"),
        &format!("/rooms/{room}/requests"),
        &[("kind", "close"), ("closing_reason", "death"), ("note", "")],
    )
    .await
    .expect_redirect(&format!("/rooms/{room}?done=requested"));
    let queue = t.admin.get("/admin/requests").await.expect_status(200);
    let request = between(&queue.body, "action=\"/admin/requests/", "\"").to_string();
    let (operator, _) = app.operator_again().await;
    let (_, other_admin, _) = app.municipality_with_admin(&operator, "122173", "kashiwa").await;
    let gets = [
        "/admin/rooms".to_string(),
        "/admin/rooms/new".to_string(),
        "/admin/requests".to_string(),
        format!("/admin/rooms/{room}"),
    ];
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/rooms/new".into(), PATIENT.to_vec()),
        (format!("/admin/rooms/{room}/members"), vec![("account_id", t.b_account.as_str())]),
        (format!("/admin/rooms/{room}/members/{}/remove", t.b_account), vec![]),
        (format!("/admin/rooms/{room}/withdraw-consent"), vec![]),
        (format!("/admin/rooms/{room}/oversight"), vec![("reason", "状況確認のため閲覧します")]),
        (format!("/admin/requests/{request}"), vec![("decision", "approve")]),
    ];
    let m = app.store().municipality_by_code("122203").await.unwrap().id;
    let before = app.store().audit_chain(&m).await.unwrap().len();
    // Another municipality's admin is an admin, so the lists open — on their own municipality.
    for path in ["/admin/rooms", "/admin/requests"] {
        let page = other_admin.get(path).await.expect_status(200);
        assert!(!page.body.contains("流山 花子") && !page.body.contains(&request), "{path}");
    }
    let show = &gets[3];
    assert_eq!(other_admin.get(show).await.status, 404, "another municipality's admin: GET {show}");
    for (path, fields) in &posts[1..] {
        let status = other_admin.submit("/admin", path, fields).await.status;
        assert_eq!(status, 404, "another municipality's admin: POST {path}");
    }
    for (who, browser) in [("member", &t.a), ("operator", &operator)] {
        for path in &gets {
            assert_eq!(browser.get(path).await.status, 403, "{who}: GET {path}");
        }
        for (path, fields) in &posts {
            let status = browser.submit("/account", path, fields).await.status;
            assert_eq!(status, 403, "{who}: POST {path}");
        }
    }
    let anonymous = app.browser();
    for path in &gets {
        anonymous.get(path).await.expect_redirect(&login_for(path));
    }
    for (path, fields) in &posts {
        let page = anonymous.submit("/login", path, fields).await;
        assert_eq!(page.location(), Some("/login"), "anonymous POST {path}");
    }
    assert_eq!(app.store().audit_chain(&m).await.unwrap().len(), before, "nothing was read or changed");
    // The room and the request are as they were.
    t.b.get(&format!("/rooms/{room}")).await.expect_status(200);
    assert!(t.admin.get("/admin/requests").await.body.contains(&request));
}

/// Pages that show room content for another reason than "open the room" are reads too: a post
/// form sent back with an error, the edit form, the request form, and the municipality's
/// patient page sent back because the oversight reason was too short.
async fn every_page_that_shows_a_room_is_audited(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    post(&t.b, room, &[("category", "visit"), ("body", "訪問しました")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let m = app.store().municipality_by_code("122203").await.unwrap().id;
    let actions = || async {
        app.store().audit_chain(&m).await.unwrap().into_iter().map(|r| r.facts.action).collect::<Vec<_>>()
    };
    let before = actions().await.len();
    // (Sent from another page, so that only the error page shows member a the timeline.)
    let refused =
        t.a.submit("/account", &format!("/rooms/{room}/posts"), &[("category", ""), ("body", "分類なし")])
            .await
            .expect_status(422);
    assert!(refused.body.contains("訪問しました"), "the timeline comes back with the form");
    assert_eq!(actions().await[before..], ["room.read"], "and the read is recorded");
    // ...with its read receipts, as when the room is opened.
    let p = post_ids(&refused).remove(0);
    let readers = t.b.get(&format!("/rooms/{room}/posts/{p}/readers")).await.expect_status(200);
    assert!(readers.body.contains("member_a"), "{}", readers.body);
    let own = post(&t.a, room, &[("category", "visit"), ("body", "自分の投稿")]).await;
    own.expect_redirect(&format!("/rooms/{room}"));
    let mine = post_ids(&t.a.get(&format!("/rooms/{room}")).await).remove(0);
    let before = actions().await.len();
    t.a.get(&format!("/rooms/{room}/posts/{mine}/edit")).await.expect_status(200);
    t.a.get(&format!("/rooms/{room}/requests")).await.expect_status(200);
    assert_eq!(actions().await[before..], ["post.read", "room.members_read"]);
    // The municipality: a reason too short sends back the patient's record, and that is a read.
    let before = actions().await.len();
    let short = t
        .admin
        .submit(
            &format!("/admin/rooms/{room}"),
            &format!("/admin/rooms/{room}/oversight"),
            &[("reason", "確認")],
        )
        .await
        .expect_status(422);
    assert!(short.body.contains("流山市平和台"), "the patient's record is on the page");
    assert_eq!(actions().await[before + 1..], ["patient.read"], "(the first entry is opening the form)");
}

/// A signed-out or revoked session stops hearing about the room, like a member who left.
async fn a_stream_ends_with_its_session(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let mut a_stream = events(&t.a, room).await;
    assert_eq!(a_stream.status(), 200);
    post(&t.b, room, &[("category", "visit"), ("body", "一件目")]).await;
    assert!(next_event(&mut a_stream).await.is_some(), "a hears while signed in");
    t.a.submit("/account", "/logout", &[]).await;
    post(&t.b, room, &[("category", "visit"), ("body", "二件目")]).await;
    assert!(next_event(&mut a_stream).await.is_none(), "nothing after signing out");
}

/// The room lists are named after patients and the request queue names them too: every view is
/// a read, recorded once (no script refreshes these pages).
async fn each_view_of_a_list_that_names_patients_is_audited(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    t.a.submit(
        &format!("/rooms/{room}"),
        &format!("/rooms/{room}/requests"),
        &[("kind", "close"), ("closing_reason", "death"), ("note", "")],
    )
    .await
    .expect_redirect(&format!("/rooms/{room}?done=requested"));
    let m = app.store().municipality_by_code("122203").await.unwrap().id;
    let entries = || async { app.store().audit_chain(&m).await.unwrap() };
    let before = entries().await.len();
    assert!(t.a.get("/rooms").await.expect_status(200).body.contains("流山 花子"));
    assert!(t.admin.get("/admin/rooms").await.expect_status(200).body.contains("流山 花子"));
    assert!(t.admin.get("/admin/requests").await.expect_status(200).body.contains("流山 花子"));
    let seen: Vec<(String, String, String)> = entries().await[before..]
        .iter()
        .map(|r| (r.facts.actor_login.clone(), r.facts.action.clone(), r.facts.detail.clone()))
        .collect();
    let expected = [
        ("member_a", "room.list_viewed", "rooms=1"),
        ("admin01", "room.list_viewed", "rooms=1"),
        ("admin01", "room_request.list_viewed", "requests=1"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(seen, expected);
}

/// An open room page fetches itself on every live update; those refreshes continue the view and
/// add no `room.read` entry each (their read receipts are still recorded). A page opened again is
/// a new view, and a refresh from a session that has not viewed the room is one too.
async fn live_refreshes_of_an_open_room_are_one_view(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let m = app.store().municipality_by_code("122203").await.unwrap().id;
    let reads = |login: &'static str| {
        let app = &app;
        let m = m.clone();
        async move {
            let chain = app.store().audit_chain(&m).await.unwrap();
            chain
                .into_iter()
                .filter(|r| r.facts.action == "room.read" && r.facts.actor_login == login)
                .count()
        }
    };
    // Member b never viewed the room in this session: the refresh header does not hide the read.
    let before = reads("member_b").await;
    t.b.get_refresh(&format!("/rooms/{room}")).await.expect_status(200);
    assert_eq!(reads("member_b").await, before + 1);
    // Member a opens the room, then three live updates arrive.
    let before = reads("member_a").await;
    t.a.get(&format!("/rooms/{room}")).await.expect_status(200);
    for n in 0..3 {
        let body = format!("更新{n}");
        post(&t.b, room, &[("category", "visit"), ("body", &body)]).await;
        let fresh = t.a.get_refresh(&format!("/rooms/{room}")).await.expect_status(200);
        assert!(fresh.body.contains(&body), "the refresh shows the new post");
    }
    assert_eq!(reads("member_a").await, before + 1, "one page view, one entry");
    // The refreshes still recorded member a's receipts.
    let newest = post_ids(&t.a.get_refresh(&format!("/rooms/{room}")).await).remove(0);
    let readers = t.b.get(&format!("/rooms/{room}/posts/{newest}/readers")).await.expect_status(200);
    assert!(readers.body.contains("member_a"), "{}", readers.body);
    // Opening the page again is a new view.
    t.a.get(&format!("/rooms/{room}")).await.expect_status(200);
    assert_eq!(reads("member_a").await, before + 2);
}
