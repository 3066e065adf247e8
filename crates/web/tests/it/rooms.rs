//! Rooms and the 連絡帳 over HTTP (D1–D5, G2): the timeline a care team sees — posts, replies,
//! vitals, read receipts, edits, deletion, consent withdrawal, requests, live updates, photos.
//! Who may use each room route is `room_access.rs`.

use crate::both;
use crate::helpers::*;

both!(
    a_care_team_shares_posts_with_read_receipts_and_vitals,
    edits_keep_their_history_and_deleted_posts_hide_their_text,
    the_timeline_pages_by_cursor_and_counts_unread,
    withdrawn_consent_leaves_the_room_readable_but_closed_to_writing,
    the_municipality_reads_a_room_only_with_a_recorded_reason,
    members_ask_and_the_municipality_invites_removes_and_closes,
    closing_a_room_has_no_preselected_reason_and_only_asked_posts_are_acknowledged,
    an_open_room_hears_about_changes_made_on_any_instance,
    a_mention_tells_the_member_it_is_for_them,
    a_photo_loses_its_location_and_files_reach_members_only,
);

pub(crate) struct Team {
    pub(crate) admin: Browser,
    pub(crate) room: String,
    pub(crate) patient_facility: String,
    pub(crate) a: Browser,
    pub(crate) b: Browser,
    pub(crate) c: Browser,
    pub(crate) b_account: String,
}

pub const PATIENT: &[(&str, &str)] = &[
    ("name", "流山 花子"),
    ("kana", "ながれやま はなこ"),
    ("birth_date", "1938-04-01"),
    ("sex", "female"),
    ("address", "千葉県流山市平和台3-3-3"),
    ("phone", ""),
    ("insurer_no", "122203"),
    ("insured_no", "０１２３４５６７８９"),
    ("care_level", "care3"),
    ("contacts", "長男 090-0000-0000"),
    ("consented_on", "2026-11-01"),
    ("signer", "self"),
    ("family_name", ""),
    ("explainer_facility", "さくら居宅介護支援事業所"),
    ("explainer_name", "介護 次郎"),
    ("consent_confirmed", "on"),
];

/// A member of `facility`, activated, enrolled and signed in.
pub(crate) async fn member(app: &TestApp, admin: &Browser, facility: &str, login: &str) -> (Browser, String) {
    let path = format!("/admin/facilities/{facility}/users/new");
    let issued = admin
        .submit(
            &path,
            &path,
            &[
                ("login_id", login),
                ("name", login),
                ("kana", "かんご"),
                ("occupation", "nurse"),
                ("is_manager", "on"),
            ],
        )
        .await
        .expect_status(201);
    let b = app.browser();
    app.activate(&b, &activation_link(&issued.body), "Member-pass-2026").await;
    app.sign_in_first_time(&b, login, "Member-pass-2026").await;
    let identity = app.store().identity_by_login(login).await.unwrap().unwrap();
    let account = app.store().accounts_of_identity(&identity.id).await.unwrap().remove(0);
    (b, account.id.to_string())
}

/// Municipality with a room whose members are a and b; c works in the same municipality but is
/// not invited.
pub(crate) async fn team(app: &TestApp) -> Team {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let facility = crate::admin::create_facility(&admin).await;
    let (a, a_account) = member(app, &admin, &facility, "member_a").await;
    let (b, b_account) = member(app, &admin, &facility, "member_b").await;
    let (c, _) = member(app, &admin, &facility, "member_c").await;
    let created = admin.submit("/admin/rooms/new", "/admin/rooms/new", PATIENT).await;
    let location =
        created.location().unwrap_or_else(|| panic!("room not opened: {}", created.body)).to_string();
    let room = location.rsplit('/').next().unwrap().to_string();
    for account in [&a_account, &b_account] {
        admin
            .submit(&location, &format!("{location}/members"), &[("account_id", account)])
            .await
            .expect_redirect(&location);
    }
    Team { admin, room, patient_facility: facility, a, b, c, b_account }
}

pub(crate) async fn post(b: &Browser, room: &str, fields: &[(&str, &str)]) -> Page {
    let path = format!("/rooms/{room}");
    b.submit(&path, &format!("{path}/posts"), fields).await
}

pub(crate) fn post_ids(page: &Page) -> Vec<String> {
    page.body.split("id=\"post-").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

async fn a_care_team_shares_posts_with_read_receipts_and_vitals(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    post(
        &t.a,
        room,
        &[
            ("category", "vitals"),
            ("importance", "urgent"),
            ("body", "発熱あり <script>alert(1)</script>\n主治医へ連絡済み https://example.jp/guide?id=3"),
            ("systolic", "１３２"),
            ("diastolic", "78"),
            ("temperature", "37.9"),
            ("ack_requested", "on"),
        ],
    )
    .await
    .expect_redirect(&format!("/rooms/{room}"));
    let unread = t.b.get("/rooms").await.expect_status(200);
    assert!(unread.body.contains("未読 1"), "{}", unread.body);
    let seen = t.b.get(&format!("/rooms/{room}")).await.expect_status(200);
    assert!(
        seen.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;<br>"),
        "text is escaped, line breaks kept"
    );
    assert!(!seen.body.contains("<script>alert(1)"));
    assert!(
        seen.body.contains("<a href=\"https://example.jp/guide?id=3\" rel=\"noopener noreferrer nofollow\"")
    );
    assert!(seen.body.contains("37.9 ℃") && seen.body.contains("132 mmHg"));
    assert!(seen.body.contains("緊急"));
    let p = post_ids(&seen).remove(0);
    assert!(t.b.get("/rooms").await.body.contains("未読 <strong id=\"total-unread\">0</strong>"));
    // b replies and acknowledges; a sees who read and who acknowledged.
    t.b.submit(
        &format!("/rooms/{room}"),
        &format!("/rooms/{room}/posts/{p}/replies"),
        &[("body", "承知しました")],
    )
    .await
    .expect_redirect(&format!("/rooms/{room}#post-{p}"));
    t.b.submit(&format!("/rooms/{room}"), &format!("/rooms/{room}/posts/{p}/ack"), &[]).await;
    let a_view = t.a.get(&format!("/rooms/{room}")).await;
    assert!(a_view.body.contains("既読 1"), "{}", a_view.body);
    assert!(a_view.body.contains("確認 1"));
    assert!(a_view.body.contains("承知しました"));
    let readers = t.a.get(&format!("/rooms/{room}/posts/{p}/readers")).await.expect_status(200);
    assert!(readers.body.contains("既読（1人）") && readers.body.contains("member_b — "), "{}", readers.body);
    assert!(readers.body.contains("確認済み（1人）"));
    // The vitals chart.
    let chart = t.b.get(&format!("/rooms/{room}/vitals")).await.expect_status(200);
    assert!(chart.body.contains("<svg") && chart.body.contains("最新 37.9 ℃"));
    // Bad vitals come back with the text kept and a message next to the field.
    let bad = post(&t.a, room, &[("category", "vitals"), ("body", "再検"), ("temperature", "365")])
        .await
        .expect_status(422);
    assert!(bad.body.contains("体温は30.0〜43.0℃の範囲の数値で入力してください。"));
    assert!(bad.body.contains(">再検</textarea>"));
    let audit =
        app.store().audit_chain(&app.store().municipality_by_code("122203").await.unwrap().id).await.unwrap();
    for action in [
        "room.open",
        "room.member_add",
        "post.create",
        "room.read",
        "post.reply",
        "post.acknowledge",
        "post.read",
        "vitals.read",
    ] {
        assert!(audit.iter().any(|r| r.facts.action == action), "{action} is audited");
    }
    assert!(audit.iter().all(|r| !r.facts.detail.contains("発熱")), "no health information in audit details");
}

async fn edits_keep_their_history_and_deleted_posts_hide_their_text(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    post(&t.a, room, &[("category", "medication"), ("body", "朝食後 薬 1錠")]).await;
    let p = post_ids(&t.a.get(&format!("/rooms/{room}")).await).remove(0);
    let edit = format!("/rooms/{room}/posts/{p}/edit");
    t.b.submit(&format!("/rooms/{room}"), &edit, &[("body", "b が書き換え")]).await.expect_status(403);
    t.b.get(&edit).await.expect_status(403);
    let empty = t.a.submit(&edit, &edit, &[("body", "  ")]).await.expect_status(422);
    assert!(empty.body.contains("本文を入力してください。"));
    t.a.submit(&edit, &edit, &[("body", "朝食後 薬 2錠")])
        .await
        .expect_redirect(&format!("/rooms/{room}#post-{p}"));
    let history = t.b.get(&format!("/rooms/{room}/posts/{p}/readers")).await;
    assert!(
        history.body.contains("朝食後 薬 2錠") && history.body.contains("朝食後 薬 1錠"),
        "{}",
        history.body
    );
    assert!(history.body.contains("編集履歴"));
    t.a.submit(&format!("/rooms/{room}"), &format!("/rooms/{room}/posts/{p}/delete"), &[])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let after = t.b.get(&format!("/rooms/{room}")).await;
    assert!(after.body.contains("この投稿は削除されました。"));
    assert!(!after.body.contains("薬 2錠"));
}

async fn the_timeline_pages_by_cursor_and_counts_unread(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    for i in 0..33 {
        post(&t.a, room, &[("category", "visit"), ("body", &format!("記録{i:02}"))])
            .await
            .expect_redirect(&format!("/rooms/{room}"));
    }
    assert!(t.b.get("/rooms").await.body.contains("未読 33"));
    let first = t.b.get(&format!("/rooms/{room}")).await;
    assert_eq!(post_ids(&first).len(), 30);
    assert!(first.body.contains("記録32") && !first.body.contains("記録02"));
    let older = between(&first.body, &format!("/rooms/{room}?before="), "\"").to_string();
    assert!(t.b.get("/rooms").await.body.contains("未読 3"), "the three not yet shown stay unread");
    let second = t.b.get(&format!("/rooms/{room}?before={older}")).await.expect_status(200);
    assert_eq!(post_ids(&second).len(), 3);
    assert!(second.body.contains("記録00") && !second.body.contains("さらに古い投稿"));
    assert!(t.b.get("/rooms").await.body.contains("未読 <strong id=\"total-unread\">0</strong>"));
    // "Mark all read" from the room list.
    post(&t.a, room, &[("category", "visit"), ("body", "追加の記録")]).await;
    let list = t.b.get("/rooms").await;
    assert!(list.body.contains("未読 1") && list.body.contains(&format!("action=\"/rooms/{room}/read\"")));
    t.b.submit("/rooms", &format!("/rooms/{room}/read"), &[]).await.expect_redirect("/rooms");
    assert!(t.b.get("/rooms").await.body.contains("未読 <strong id=\"total-unread\">0</strong>"));
    t.c.submit("/rooms", &format!("/rooms/{room}/read"), &[]).await.expect_status(404);
    drop(t.patient_facility);
}

async fn withdrawn_consent_leaves_the_room_readable_but_closed_to_writing(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    post(&t.a, room, &[("category", "notice"), ("body", "最後の連絡")]).await;
    t.admin
        .submit(&format!("/admin/rooms/{room}"), &format!("/admin/rooms/{room}/withdraw-consent"), &[])
        .await
        .expect_redirect(&format!("/admin/rooms/{room}"));
    let page = t.a.get(&format!("/rooms/{room}")).await.expect_status(200);
    assert!(page.body.contains("閲覧のみ") && page.body.contains("最後の連絡"));
    assert!(!page.body.contains("action=\"/rooms/") || !page.body.contains("/posts\">"), "no post form");
    post(&t.a, room, &[("category", "notice"), ("body", "書けない")]).await.expect_status(403);
    assert!(!t.b.get(&format!("/rooms/{room}")).await.body.contains("書けない"));
}

async fn the_municipality_reads_a_room_only_with_a_recorded_reason(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    post(&t.a, room, &[("category", "visit"), ("body", "褥瘡の処置")]).await;
    let oversight = format!("/admin/rooms/{room}/oversight");
    let refused = t
        .admin
        .submit(&format!("/admin/rooms/{room}"), &oversight, &[("reason", "")])
        .await
        .expect_status(422);
    assert!(refused.body.contains("閲覧の理由を5〜500文字で入力してください"));
    let page = t
        .admin
        .submit(&format!("/admin/rooms/{room}"), &oversight, &[("reason", "連携状況の定期確認のため")])
        .await
        .expect_status(200);
    assert!(page.body.contains("褥瘡の処置") && page.body.contains("監督閲覧"));
    assert!(!page.body.contains("/posts\">"), "oversight cannot post");
    let audit =
        app.store().audit_chain(&app.store().municipality_by_code("122203").await.unwrap().id).await.unwrap();
    let read = audit.iter().find(|r| r.facts.action == "room.oversight_read").expect("recorded");
    assert_eq!(read.facts.detail, "reason=連携状況の定期確認のため");
    // Oversight leaves no read receipt.
    let a_view = t.a.get(&format!("/rooms/{room}")).await;
    assert!(a_view.body.contains("既読 0"));
    // Another municipality's admin cannot oversee it.
    let (operator, _) = app.operator_again().await;
    let (_, other_admin, _) = app.municipality_with_admin(&operator, "122173", "kashiwa").await;
    other_admin
        .submit("/admin", &oversight, &[("reason", "連携状況の定期確認のため")])
        .await
        .expect_status(404);
}

async fn members_ask_and_the_municipality_invites_removes_and_closes(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let path = format!("/rooms/{room}");
    let c = app.store().identity_by_login("member_c").await.unwrap().unwrap();
    let c_account = app.store().accounts_of_identity(&c.id).await.unwrap().remove(0).id;
    let page = t.a.get(&format!("{path}/requests")).await.expect_status(200);
    assert!(
        page.body.contains(&format!("<option value=\"{c_account}\">member_c（看護師）</option>")),
        "c can be proposed"
    );
    t.a.submit(
        &path,
        &format!("{path}/requests"),
        &[("kind", "add_member"), ("account_id", &c_account), ("note", "訪問看護を追加")],
    )
    .await
    .expect_redirect(&format!("{path}?done=requested"));
    assert!(t.a.get(&format!("{path}?done=requested")).await.body.contains("依頼を送りました"));
    t.c.get(&path).await.expect_status(404);
    let home = t.admin.get("/admin").await;
    assert!(home.body.contains("<strong>1</strong> 承認待ちの依頼"), "{}", home.body);
    let queue = t.admin.get("/admin/requests").await.expect_status(200);
    assert!(queue.body.contains("参加者の追加：member_c") && queue.body.contains("訪問看護を追加"));
    let id = between(&queue.body, "action=\"/admin/requests/", "\"").to_string();
    t.admin
        .submit(
            "/admin/requests",
            &format!("/admin/requests/{id}"),
            &[("decision", "approve"), ("back", "/admin/requests")],
        )
        .await
        .expect_redirect("/admin/requests");
    t.c.get(&path).await.expect_status(200);
    t.admin
        .submit("/admin/requests", &format!("/admin/requests/{id}"), &[("decision", "approve")])
        .await
        .expect_status(404);
    // Closing, confirmed by the municipality from the room's page.
    t.b.submit(
        &path,
        &format!("{path}/requests"),
        &[("kind", "close"), ("closing_reason", "admission"), ("note", "")],
    )
    .await
    .expect_redirect(&format!("{path}?done=requested"));
    let admin_room = format!("/admin/rooms/{room}");
    let page = t.admin.get(&admin_room).await;
    assert!(page.body.contains("部屋の終了（入所・入院）"));
    let id = between(&page.body, "action=\"/admin/requests/", "\"").to_string();
    t.admin
        .submit(
            &admin_room,
            &format!("/admin/requests/{id}"),
            &[("decision", "approve"), ("back", &admin_room)],
        )
        .await
        .expect_redirect(&admin_room);
    post(&t.a, room, &[("category", "notice"), ("body", "閉じた後")]).await.expect_status(403);
    assert!(t.a.get(&path).await.body.contains("閲覧のみ"));
    // A care manager invites directly when the municipality allows it.
    t.admin
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[
                ("min_length", "10"),
                ("max_age_days", ""),
                ("idle_minutes", "30"),
                ("absolute_hours", "12"),
                ("care_manager_may_invite", "on"),
            ],
        )
        .await
        .expect_redirect("/admin/settings?saved=1");
    assert!(t.admin.get("/admin/settings").await.body.contains("name=\"care_manager_may_invite\" checked"));
}

/// Waits for the next SSE event on `response`, or gives up after five seconds.
pub(crate) async fn next_event(response: &mut reqwest::Response) -> Option<String> {
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let chunk = tokio::time::timeout_at(deadline, response.chunk()).await.ok()?.ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(event) = buffer.split("\n\n").find(|e| e.contains("event: update")) {
            return Some(event.to_string());
        }
    }
}

pub(crate) async fn events(b: &Browser, room: &str) -> reqwest::Response {
    b.client.get(format!("{}/rooms/{room}/events", b.base)).send().await.unwrap()
}

async fn an_open_room_hears_about_changes_made_on_any_instance(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let mut b_stream = events(&t.b, room).await;
    assert_eq!(b_stream.status(), 200);
    assert_eq!(b_stream.headers()["content-type"], "text/event-stream");
    assert_eq!(events(&t.c, room).await.status(), 404, "non-members hear nothing");
    post(&t.a, room, &[("category", "visit"), ("body", "ライブ更新")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let event = next_event(&mut b_stream).await.expect("b hears about a's post");
    assert!(event.contains(&format!("data: {room}")), "{event}");
    assert!(!event.contains("ライブ更新"), "events carry no content");
    // b reading the post changes a's read count: a's open page hears about it.
    let mut a_stream = events(&t.a, room).await;
    t.b.get(&format!("/rooms/{room}")).await.expect_status(200);
    assert!(next_event(&mut a_stream).await.is_some(), "a hears about b's read receipt");
    // On PostgreSQL, a second app instance hears what happens on the first.
    if let Some(second) = app.second_instance().await {
        let b_there = Browser { client: t.b.client.clone(), base: second.base.clone() };
        let mut remote = events(&b_there, room).await;
        assert_eq!(remote.status(), 200, "the session is in the shared database");
        post(&t.a, room, &[("category", "visit"), ("body", "別のインスタンスへ")]).await;
        assert!(next_event(&mut remote).await.is_some(), "NOTIFY reached the other instance");
    }
    // A member who is removed stops hearing.
    t.admin
        .submit(
            &format!("/admin/rooms/{room}"),
            &format!("/admin/rooms/{room}/members/{}/remove", t.b_account),
            &[],
        )
        .await;
    post(&t.a, room, &[("category", "visit"), ("body", "退出後")]).await;
    let mut ended = false;
    for _ in 0..5 {
        if next_event(&mut b_stream).await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the stream of a former member ends");
}

async fn a_mention_tells_the_member_it_is_for_them(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let form = t.a.get(&format!("/rooms/{room}")).await;
    assert!(form.body.contains(&format!("name=\"mention\" value=\"{}\"", t.b_account)), "b can be mentioned");
    post(
        &t.a,
        room,
        &[("category", "notice"), ("body", "褥瘡の写真を確認してください"), ("mention", &t.b_account)],
    )
    .await
    .expect_redirect(&format!("/rooms/{room}"));
    let list = t.b.get("/rooms").await;
    assert!(list.body.contains("あなた宛 1"), "{}", list.body);
    let page = t.b.get(&format!("/rooms/{room}")).await;
    assert!(page.body.contains("<span>@member_b</span>") && page.body.contains("あなた宛"));
    assert!(!t.b.get("/rooms").await.body.contains("あなた宛 1"), "read, so no longer counted");
    let c = app.store().identity_by_login("member_c").await.unwrap().unwrap();
    let c_account = app.store().accounts_of_identity(&c.id).await.unwrap().remove(0).id;
    let refused = post(&t.a, room, &[("category", "notice"), ("body", "x"), ("mention", &c_account)])
        .await
        .expect_status(422);
    assert!(refused.body.contains("今はこの部屋の参加者でない人"), "{}", refused.body);
}

/// A real JPEG (8-bit, 40 × 20) with an APP1 Exif segment that says "rotate 90°" and carries a
/// GPS position, as phones write them.
pub(crate) fn jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 { image::Rgb([200, 30, 30]) } else { image::Rgb([30, 30, 200]) }
    });
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .unwrap();
    // TIFF, big-endian: IFD0 { Orientation = 6, GPSInfo -> IFD at 38 }, GPS IFD { LatitudeRef "N",
    // Latitude 35/1 51/1 0/1 }.
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend([0, 2]); // IFD0: two entries
    tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation SHORT 6
    tiff.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]); // GPSInfo LONG -> 38
    tiff.extend([0, 0, 0, 0]); // no next IFD
    tiff.extend([0, 2]); // GPS IFD at 38: two entries
    tiff.extend([0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef ASCII "N"
    tiff.extend([0x00, 0x02, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]); // GPSLatitude RATIONAL[3] -> 68
    tiff.extend([0, 0, 0, 0]);
    for (n, d) in [(35u32, 1u32), (51, 1), (0, 1)] {
        tiff.extend(n.to_be_bytes());
        tiff.extend(d.to_be_bytes());
    }
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(&tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(&app1);
    out.extend(&plain[2..]);
    out
}

/// A post in 皮膚・褥瘡 with `files`.
pub(crate) async fn upload(b: &Browser, room: &str, body: &str, files: Vec<(&str, Vec<u8>)>) -> Page {
    let fields = [("category", "skin"), ("body", body)];
    b.upload(&format!("/rooms/{room}"), &format!("/rooms/{room}/posts"), &fields, files).await
}

async fn a_photo_loses_its_location_and_files_reach_members_only(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let original = jpeg_with_gps();
    assert!(original.windows(4).any(|w| w == b"Exif"), "the fixture carries Exif");
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    upload(&t.a, room, "仙骨部の褥瘡", vec![("IMG_0001.JPG", original.clone()), ("指示書.pdf", pdf.clone())])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let page = t.b.get(&format!("/rooms/{room}")).await;
    let photo = between(&page.body, &format!("/rooms/{room}/files/"), "\"").to_string();
    assert!(page.body.contains(&format!("/rooms/{room}/files/{photo}/thumb")));
    assert!(page.body.contains("alt=\"IMG_0001.jpg\""));
    let pdf_label = between(&page.body, "class=\"pdf\">", "</a>").to_string();
    assert_eq!(pdf_label, "PDF 指示書.pdf");
    let pdf_href =
        page.body.split("\" class=\"pdf\"").next().unwrap().rsplit("href=\"").next().unwrap().to_string();
    // The stored photo: upright, and nothing left of the Exif segment or the position.
    let r = t.b.client.get(format!("{}/rooms/{room}/files/{photo}", t.b.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("inline"));
    let stored = r.bytes().await.unwrap().to_vec();
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "no Exif in the stored photo");
    assert!(!stored.windows(2).any(|w| w == [0xFF, 0xE1]), "no APP1 segment at all");
    let decoded = image::load_from_memory(&stored).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (20, 40), "turned upright before the Exif was dropped");
    let thumb =
        t.b.client.get(format!("{}/rooms/{room}/files/{photo}/thumb", t.b.base)).send().await.unwrap();
    assert_eq!(thumb.status(), 200);
    // The PDF downloads, never shows inline.
    let r = t.b.client.get(format!("{}{pdf_href}", t.b.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''%E6%8C%87%E7%A4%BA%E6%9B%B8.pdf")
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    // Files reach current members only.
    t.c.get(&format!("/rooms/{room}/files/{photo}")).await.expect_status(404);
    let path = format!("/rooms/{room}/files/{photo}");
    app.browser().get(&path).await.expect_redirect(&login_for(&path));
    t.admin.get(&format!("/rooms/{room}/files/{photo}")).await.expect_status(404);
    // A file is judged by its content: text named .jpg is refused, the post kept for retyping.
    let refused = upload(&t.a, room, "もう一枚", vec![("photo.jpg", b"<html><script>x</script>".to_vec())])
        .await
        .expect_status(422);
    assert!(
        refused.body.contains("photo.jpg: 写真（JPEG・PNG）と PDF のみ添付できます。"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(">もう一枚</textarea>"));
    // An upload without the page's token is refused.
    let form = reqwest::multipart::Form::new().text("category", "skin").text("body", "x");
    let r = t.a.client.post(format!("{}/rooms/{room}/posts", t.a.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let audit =
        app.store().audit_chain(&app.store().municipality_by_code("122203").await.unwrap().id).await.unwrap();
    assert!(audit.iter().any(|r| r.facts.action == "file.read"));
}

/// With attachments in an S3-compatible bucket (moto on loopback), a photo posted through one
/// app instance is served by another with its own S3 client (on PostgreSQL, which lets several
/// instances share one database), and the bucket holds only ciphertext.
mod files_in_a_shared_bucket {
    use std::sync::Arc;

    use renraku_attachments::blobs::{BlobStore, S3Bucket};
    use renraku_attachments::testing::Moto;
    use renraku_web::Secrets;

    use super::*;

    async fn run(backend: Backend) {
        let Some(moto) = Moto::start().unwrap() else { return };
        moto.create_bucket("renraku").await.unwrap();
        let key = Secrets::derive(MASTER_SECRET).files_key;
        let bucket = || -> Arc<dyn BlobStore> {
            Arc::new(S3Bucket::new(&moto.settings("renraku", "t"), &key).unwrap())
        };
        let Some(app) = TestApp::spawn_with_blobs(backend, bucket()).await else { return };
        let t = team(&app).await;
        let room = &t.room;
        upload(&t.a, room, "共有バケット", vec![("IMG_0002.JPG", jpeg_with_gps())])
            .await
            .expect_redirect(&format!("/rooms/{room}"));
        let page = t.b.get(&format!("/rooms/{room}")).await;
        let photo = between(&page.body, &format!("/rooms/{room}/files/"), "\"").to_string();
        let here = t.b.client.get(format!("{}/rooms/{room}/files/{photo}", t.b.base)).send().await.unwrap();
        assert_eq!(here.status(), 200);
        let here = here.bytes().await.unwrap();
        assert!(image::load_from_memory(&here).is_ok(), "a photo comes back from the bucket");
        if let Some(second) = app.second_instance_with_blobs(bucket()).await {
            let r =
                t.b.client.get(format!("{}/rooms/{room}/files/{photo}", second.base)).send().await.unwrap();
            assert_eq!(r.status(), 200, "the other instance finds the file in the bucket");
            assert_eq!(r.bytes().await.unwrap(), here);
            let r =
                t.c.client.get(format!("{}/rooms/{room}/files/{photo}", second.base)).send().await.unwrap();
            assert_eq!(r.status(), 404, "and still serves it to members only");
        }
    }

    #[tokio::test]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}

/// No dangerous default: the request to close a room starts with no reason chosen (the member
/// must pick one). And only a post that asks for it can be acknowledged: another post, or one
/// that does not exist, is "not found" rather than a silent success.
async fn closing_a_room_has_no_preselected_reason_and_only_asked_posts_are_acknowledged(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let page = t.a.get(&format!("/rooms/{room}/requests")).await.expect_status(200);
    let select = between(&page.body, r#"name="closing_reason""#, "</select>");
    assert!(select.starts_with(r#" required><option value="">選択してください</option>"#), "{select}");
    assert!(!select.contains("selected"), "{select}");
    let refused = t
        .a
        .submit(&format!("/rooms/{room}/requests"), &format!("/rooms/{room}/requests"), &[("kind", "close")])
        .await
        .expect_status(422);
    assert!(refused.body.contains("終了の理由を選択してください。"), "{}", refused.body);

    post(&t.a, room, &[("category", "visit"), ("body", "記録のみ")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let plain = post_ids(&t.b.get(&format!("/rooms/{room}")).await).remove(0);
    let room_page = format!("/rooms/{room}");
    t.b.submit(&room_page, &format!("/rooms/{room}/posts/{plain}/ack"), &[]).await.expect_status(404);
    let unknown = "0190a0b0-0000-7000-8000-00000000beef";
    t.b.submit(&room_page, &format!("/rooms/{room}/posts/{unknown}/ack"), &[]).await.expect_status(404);
}
