//! The room list over HTTP (D1, issue 12 item 10): each room with its latest post's time and
//! first line, rooms with an unread 緊急 post or a post for the member first, and the
//! `?unread=1` filter.

use crate::both;
use crate::helpers::*;
use crate::rooms::{PATIENT, post, team};

both!(urgent_and_mentions_come_first_and_the_list_filters_by_unread);

/// Opens a room for another patient with members a and b; returns its id.
async fn another_room(app: &TestApp, admin: &Browser, name: &str) -> String {
    let fields: Vec<(&str, &str)> =
        PATIENT.iter().map(|(k, v)| if *k == "name" { (*k, name) } else { (*k, *v) }).collect();
    let created = admin.submit("/admin/rooms/new", "/admin/rooms/new", &fields).await;
    let location =
        created.location().unwrap_or_else(|| panic!("room not opened: {}", created.body)).to_string();
    for login in ["member_a", "member_b"] {
        let identity = app.store().identity_by_login(login).await.unwrap().unwrap();
        let account = app.store().accounts_of_identity(&identity.id).await.unwrap().remove(0);
        admin
            .submit(&location, &format!("{location}/members"), &[("account_id", &account.id)])
            .await
            .expect_redirect(&location);
    }
    location.rsplit('/').next().unwrap().to_string()
}

/// The rooms of the list in the order shown.
fn order(page: &Page, rooms: &[&str]) -> Vec<usize> {
    let mut at: Vec<(usize, usize)> = rooms
        .iter()
        .enumerate()
        .filter_map(|(n, r)| page.body.find(&format!("id=\"room-{r}\"")).map(|p| (p, n)))
        .collect();
    at.sort();
    at.into_iter().map(|(_, n)| n).collect()
}

/// The list item of `room`.
fn item<'a>(page: &'a Page, room: &str) -> &'a str {
    let start = page.body.find(&format!("id=\"room-{room}\"")).unwrap_or_else(|| panic!("{room} listed"));
    let rest = &page.body[start..];
    &rest[..rest.find("</li>").unwrap()]
}

async fn urgent_and_mentions_come_first_and_the_list_filters_by_unread(app: TestApp) {
    let t = team(&app).await;
    let urgent_room = t.room.clone();
    let mention_room = another_room(&app, &t.admin, "柏 次郎").await;
    let quiet_room = another_room(&app, &t.admin, "松戸 三郎").await;
    let rooms = [urgent_room.as_str(), mention_room.as_str(), quiet_room.as_str()];
    post(
        &t.a,
        &urgent_room,
        &[("category", "visit"), ("importance", "urgent"), ("body", "発熱 38.2℃\n主治医へ連絡済み")],
    )
    .await
    .expect_redirect(&format!("/rooms/{urgent_room}"));
    post(
        &t.a,
        &mention_room,
        &[("category", "visit"), ("body", "服薬の確認をお願いします"), ("mention", t.b_account.as_str())],
    )
    .await
    .expect_redirect(&format!("/rooms/{mention_room}"));
    // The latest post of all is in the quiet room, with a long first line.
    let long = "定期訪問。".repeat(20);
    post(&t.a, &quiet_room, &[("category", "visit"), ("body", &long)])
        .await
        .expect_redirect(&format!("/rooms/{quiet_room}"));

    let list = t.b.get("/rooms").await.expect_status(200);
    // The mention room (more recent) and the urgent room before the quiet one, newer as it is.
    assert_eq!(order(&list, &rooms), [1, 0, 2], "{}", list.body);
    let urgent = item(&list, &urgent_room);
    assert!(urgent.contains("緊急 1") && urgent.contains(">発熱 38.2℃</span>"), "first line only: {urgent}");
    assert!(!urgent.contains("主治医"));
    assert!(item(&list, &mention_room).contains("あなた宛 1"));
    let quiet = item(&list, &quiet_room);
    assert!(quiet.contains(&format!(">{}…</span>", "定期訪問。".repeat(12))), "{quiet}");
    assert!(quiet.contains("<time>20"), "the latest post's time: {quiet}");

    // Once b has read the urgent room it takes its place by time again.
    t.b.get(&format!("/rooms/{urgent_room}")).await.expect_status(200);
    let list = t.b.get("/rooms").await;
    assert_eq!(order(&list, &rooms), [1, 2, 0]);
    assert!(!item(&list, &urgent_room).contains("緊急"));
    assert!(item(&list, &urgent_room).contains(">発熱 38.2℃</span>"), "the preview stays after reading");

    // The filter: only rooms with something unread; the total counts every room.
    let unread = t.b.get("/rooms?unread=1").await.expect_status(200);
    assert_eq!(order(&unread, &rooms), [1, 2]);
    assert!(unread.body.contains("未読 <strong id=\"total-unread\">2</strong>"));
    assert!(unread.body.contains("aria-current=\"page\">未読のある部屋</a>"));
    for odd in ["/rooms?unread=0", "/rooms?unread=%FF", "/rooms?x"] {
        assert_eq!(order(&t.b.get(odd).await.expect_status(200), &rooms).len(), 3, "{odd}");
    }
    for r in [&mention_room, &quiet_room] {
        t.b.get(&format!("/rooms/{r}")).await.expect_status(200);
    }
    let none = t.b.get("/rooms?unread=1").await.expect_status(200);
    assert!(none.body.contains("未読のある部屋はありません。"), "{}", none.body);
}
