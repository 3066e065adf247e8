//! Ids in paths (issue 11, item 2): a path parameter that is not a well-formed id is "not
//! found" — the same page as for an id that names nothing — before any query is made with it.
//!
//! How the test knows no query was made: after the first round, the tables those pages read
//! (rooms, posts, attachments, requests, care-plan sets, then facilities) are taken away behind
//! the server's back. A page that still asked the database would fail (500), as a well-formed id
//! of nothing now does; the malformed ones still answer 404.

use crate::both;
use crate::careplan::{Exchange, exchange};
use crate::helpers::*;

both!(a_path_whose_id_is_not_well_formed_is_not_found_before_any_query);

/// A well-formed id that names nothing.
const NOTHING: &str = "0193c7a2-5b1e-7c3d-9f00-1a2b3c4d5e6f";

/// (path, what the 404 page says is not found), asked with GET by the member.
fn member_gets(room: &str) -> Vec<(String, &'static str)> {
    vec![
        ("/rooms/not-a-uuid".into(), "部屋"),
        (format!("/rooms/{}", room.to_uppercase()), "部屋"),
        (format!("/rooms/{{{room}}}"), "部屋"),
        ("/rooms/1'%20OR%201=1".into(), "部屋"),
        ("/rooms/zzz/vitals".into(), "部屋"),
        ("/rooms/zzz/requests".into(), "部屋"),
        ("/rooms/zzz/events".into(), "部屋"),
        (format!("/rooms/{room}/posts/xyz/readers"), "投稿"),
        (format!("/rooms/{room}/posts/xyz/edit"), "投稿"),
        (format!("/rooms/{room}/files/xyz"), "ファイル"),
        (format!("/rooms/{room}/files/xyz/thumb"), "ファイル"),
        ("/careplan/sets/zzz".into(), "送信単位"),
        ("/careplan/sets/zzz/files/0".into(), "送信単位"),
        (format!("/careplan/sets/{NOTHING}/files/x"), "ファイル"),
    ]
}

/// (path, fields, what is not found), sent with POST.
type Post = (String, Vec<(&'static str, &'static str)>, &'static str);

/// What the member sends.
fn member_posts(room: &str) -> Vec<Post> {
    vec![
        ("/rooms/zzz/read".into(), vec![], "部屋"),
        ("/rooms/zzz/posts".into(), vec![("category", "visit"), ("body", "x")], "部屋"),
        (format!("/rooms/{room}/posts/xyz/replies"), vec![("body", "x")], "投稿"),
        (format!("/rooms/{room}/posts/xyz/ack"), vec![], "投稿"),
        (format!("/rooms/{room}/posts/xyz/edit"), vec![("body", "x")], "投稿"),
        (format!("/rooms/{room}/posts/xyz/delete"), vec![], "投稿"),
        ("/careplan/sets/zzz/send".into(), vec![], "送信単位"),
        ("/careplan/sets/zzz/ack".into(), vec![], "送信単位"),
        ("/account/sessions/xyz/revoke".into(), vec![], "ログイン中の端末"),
    ]
}

/// The municipality's pages about rooms and requests.
fn admin_room_paths(room: &str) -> Vec<Post> {
    vec![
        ("/admin/rooms/not-a-uuid/members".into(), vec![("account_id", NOTHING)], "部屋"),
        (format!("/admin/rooms/{room}/members/not-a-uuid/remove"), vec![], "参加者"),
        ("/admin/rooms/zzz/withdraw-consent".into(), vec![], "部屋"),
        ("/admin/rooms/zzz/oversight".into(), vec![("reason", "確認のため")], "部屋"),
        ("/admin/requests/xyz".into(), vec![("decision", "approve")], "承認待ちの依頼"),
        ("/admin/users/xyz/status".into(), vec![("status", "suspended")], "利用者"),
    ]
}

fn says_not_found(page: &Page, what: &str, path: &str) {
    assert_eq!(page.status, 404, "{path}: {}", page.body);
    assert!(page.body.contains(&format!("{what}が見つかりません。")), "{path}: {}", page.body);
}

async fn a_path_whose_id_is_not_well_formed_is_not_found_before_any_query(app: TestApp) {
    let Exchange { admin_a, cm, room, .. } = exchange(&app).await;
    let (operator, _) = app.operator_again().await;
    let admin_gets = [
        ("/admin/rooms/not-a-uuid", "部屋"),
        ("/admin/facilities/1'%20OR%201=1", "事業所"),
        ("/admin/facilities/1'%20OR%201=1/edit", "事業所"),
        ("/admin/facilities/xyz/users/new", "事業所"),
        ("/admin/users/xyz/edit", "利用者"),
    ];
    for round in ["with every table", "with the tables those pages read taken away"] {
        for (path, what) in member_gets(&room) {
            says_not_found(&cm.get(&path).await, what, &format!("{round}: GET {path}"));
        }
        for (path, fields, what) in member_posts(&room) {
            says_not_found(
                &cm.submit("/account", &path, &fields).await,
                what,
                &format!("{round}: POST {path}"),
            );
        }
        for (path, what) in admin_gets {
            says_not_found(&admin_a.get(path).await, what, &format!("{round}: GET {path}"));
        }
        for (path, fields, what) in admin_room_paths(&room) {
            let page = admin_a.submit("/account", &path, &fields).await;
            says_not_found(&page, what, &format!("{round}: POST {path}"));
        }
        for path in ["/operator/municipalities/xyz", "/operator/municipalities/%7Bxyz%7D"] {
            says_not_found(&operator.get(path).await, "市区町村", &format!("{round}: GET {path}"));
        }
        if round == "with every table" {
            for table in ["rooms", "posts", "attachments", "room_requests", "careplan_sets"] {
                let rename = format!("ALTER TABLE {table} RENAME TO gone_{table}");
                app.raw.execute(&rename, &format!("DROP TABLE {table} CASCADE")).await;
            }
            // A page that asks the database now fails: so the 404s above made no query.
            for path in [format!("/rooms/{NOTHING}"), format!("/careplan/sets/{NOTHING}")] {
                assert_eq!(cm.get(&path).await.status, 500, "{path} asks the database");
            }
            assert_eq!(admin_a.get(&format!("/admin/rooms/{NOTHING}")).await.status, 500);
            let request = format!("/admin/requests/{NOTHING}");
            let page = admin_a.submit("/account", &request, &[("decision", "approve")]).await;
            assert_eq!(page.status, 500, "a request is looked up");
        }
    }
    // Facilities, last (the care-plan pages need the member's own).
    app.raw
        .execute("ALTER TABLE facilities RENAME TO gone_facilities", "DROP TABLE facilities CASCADE")
        .await;
    assert_eq!(admin_a.get(&format!("/admin/facilities/{NOTHING}")).await.status, 500);
    for (path, what) in &admin_gets[1..4] {
        says_not_found(&admin_a.get(path).await, what, &format!("GET {path}"));
    }
}
