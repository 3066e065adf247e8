//! Posting when things go wrong (issue 9): image bombs, text at and over its limit in every form
//! that takes it, a mention of someone who left meanwhile, the files of a post that failed, and a
//! form sent twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use renraku_attachments::testing::{png_bomb, progressive_jpeg};
use renraku_domain::rooms::MAX_POST_CHARS;

use crate::both;
use crate::helpers::*;
use crate::rooms::{jpeg_with_gps, post, post_ids, team};

both!(
    replies_and_edits_take_as_much_text_as_posts,
    text_over_its_limit_comes_back_to_be_shortened,
    a_huge_text_field_is_refused_early_and_never_shown_back,
    the_size_limit_page_names_the_real_limit,
    an_unknown_importance_is_refused_not_taken_for_normal,
    mentioning_someone_who_left_keeps_the_text_and_leaves_no_file,
    a_form_sent_twice_makes_one_post,
    a_request_whose_note_is_too_long_comes_back_with_it,
);

/// The post form as a browser sends it with files: multipart, the token in the action URL.
async fn multipart(b: &Browser, room: &str, fields: &[(&str, &str)], files: Vec<(&str, Vec<u8>)>) -> Page {
    b.upload(&format!("/rooms/{room}"), &format!("/rooms/{room}/posts"), fields, files).await
}

async fn timeline(b: &Browser, room: &str) -> Page {
    b.get(&format!("/rooms/{room}")).await.expect_status(200)
}

async fn replies_and_edits_take_as_much_text_as_posts(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    // The longest text, in Japanese (3 bytes a character, 9 once form-encoded) and in emoji (4 and 12).
    let kanji = "褥".repeat(MAX_POST_CHARS);
    let emoji = "😀".repeat(MAX_POST_CHARS);
    post(&t.a, room, &[("category", "notice"), ("body", &kanji)])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let id = post_ids(&timeline(&t.a, room).await).remove(0);
    let replies = format!("/rooms/{room}/posts/{id}/replies");
    t.b.submit(&format!("/rooms/{room}"), &replies, &[("body", &kanji)])
        .await
        .expect_redirect(&format!("/rooms/{room}#post-{id}"));
    t.b.submit(&format!("/rooms/{room}"), &replies, &[("body", &emoji)])
        .await
        .expect_redirect(&format!("/rooms/{room}#post-{id}"));
    let edit = format!("/rooms/{room}/posts/{id}/edit");
    t.a.submit(&edit, &edit, &[("body", &emoji)]).await.expect_redirect(&format!("/rooms/{room}#post-{id}"));
    let page = timeline(&t.b, room).await;
    assert_eq!(page.body.matches(&emoji).count(), 2, "the edited post and the second reply");
    assert_eq!(page.body.matches(&kanji).count(), 1, "the first reply");
}

async fn text_over_its_limit_comes_back_to_be_shortened(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    post(&t.a, room, &[("category", "notice"), ("body", "短い投稿")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let id = post_ids(&timeline(&t.a, room).await).remove(0);
    let over = "瘡".repeat(MAX_POST_CHARS + 1);
    let message = format!("本文は{MAX_POST_CHARS}文字以内にしてください。");
    let kept = format!(">{over}</textarea>");
    // The post form, with files (multipart) and without.
    let page =
        multipart(&t.a, room, &[("category", "notice"), ("body", &over)], vec![]).await.expect_status(422);
    assert!(page.body.contains(&message) && page.body.contains(&kept));
    let page = post(&t.a, room, &[("category", "notice"), ("body", &over)]).await.expect_status(422);
    assert!(page.body.contains(&message) && page.body.contains(&kept));
    // A reply comes back on its own page, under the post it answers.
    let page = t
        .b
        .submit(&format!("/rooms/{room}"), &format!("/rooms/{room}/posts/{id}/replies"), &[("body", &over)])
        .await
        .expect_status(422);
    assert!(
        page.body.contains(&message) && page.body.contains(&kept),
        "{}",
        page.body.chars().take(3000).collect::<String>()
    );
    assert!(page.body.contains("短い投稿"), "the post answered");
    assert!(page.body.contains(&format!("action=\"/rooms/{room}/posts/{id}/replies\"")));
    let edit = format!("/rooms/{room}/posts/{id}/edit");
    let page = t.a.submit(&edit, &edit, &[("body", &over)]).await.expect_status(422);
    assert!(page.body.contains(&message) && page.body.contains(&kept));
    // Nothing was written.
    let page = timeline(&t.a, room).await;
    assert_eq!(post_ids(&page), [id]);
    assert!(!page.body.contains("瘡瘡"));
}

async fn a_huge_text_field_is_refused_early_and_never_shown_back(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    // 50 MB of text in the post form with files: refused once the field passes its limit.
    let huge = "a".repeat(50 * 1024 * 1024);
    let page =
        multipart(&t.a, room, &[("category", "notice"), ("body", &huge)], vec![]).await.expect_status(413);
    assert!(page.body.len() < 20_000, "not shown back: {} bytes", page.body.len());
    assert!(page.body.contains("1つの欄に 64 KB まで"), "{}", page.body);
    // A plain form within the body limit, one of whose fields is over the field limit.
    let long = "a".repeat(100 * 1024);
    let page = post(&t.a, room, &[("category", "notice"), ("body", &long)]).await.expect_status(413);
    assert!(page.body.len() < 20_000 && page.body.contains("1つの欄に 64 KB まで"));
    assert!(post_ids(&timeline(&t.a, room).await).is_empty());
}

async fn the_size_limit_page_names_the_real_limit(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let b = &t.a;
    let token = b.get(&format!("/rooms/{room}")).await.csrf();
    let mut body = format!("_csrf={token}&category=notice&body=").into_bytes();
    body.extend(std::iter::repeat_n(b'a', 300 * 1024));
    let page = b
        .post_raw(&format!("/rooms/{room}/posts"), body, "application/x-www-form-urlencoded")
        .await
        .expect_status(413);
    assert!(page.body.contains("上限 256 KB"), "{}", page.body);
    // Files: more than the post's limit in all.
    let big = vec![0u8; 53 * 1024 * 1024];
    let page = multipart(b, room, &[("category", "notice"), ("body", "x")], vec![("big.pdf", big)])
        .await
        .expect_status(413);
    assert!(page.body.contains("上限 52 MB") && page.body.contains("1個 10 MB まで"), "{}", page.body);
    assert!(post_ids(&timeline(&t.a, room).await).is_empty());
}

async fn an_unknown_importance_is_refused_not_taken_for_normal(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let message = "重要度は「通常」「重要」「緊急」から選んでください。";
    let page = post(&t.a, room, &[("category", "notice"), ("importance", "critical"), ("body", "至急連絡")])
        .await
        .expect_status(422);
    assert!(page.body.contains(message) && page.body.contains(">至急連絡</textarea>"), "{}", page.body);
    let page = multipart(
        &t.a,
        room,
        &[("category", "notice"), ("importance", "通常"), ("body", "至急連絡")],
        vec![],
    )
    .await
    .expect_status(422);
    assert!(page.body.contains(message));
    assert!(post_ids(&timeline(&t.a, room).await).is_empty());
    post(&t.a, room, &[("category", "notice"), ("importance", "urgent"), ("body", "至急連絡")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
}

async fn mentioning_someone_who_left_keeps_the_text_and_leaves_no_file(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let page = timeline(&t.a, room).await;
    assert!(page.body.contains(&format!("name=\"mention\" value=\"{}\"", t.b_account)));
    // While a writes, the municipality removes b from the room.
    t.admin
        .submit(
            &format!("/admin/rooms/{room}"),
            &format!("/admin/rooms/{room}/members/{}/remove", t.b_account),
            &[],
        )
        .await
        .expect_redirect(&format!("/admin/rooms/{room}"));
    let before = app.stored_files();
    let fields = [
        ("category", "skin"),
        ("body", "仙骨部の発赤、写真を確認してください"),
        ("mention", t.b_account.as_str()),
    ];
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let page = multipart(&t.a, room, &fields, vec![("IMG_0003.JPG", jpeg_with_gps()), ("指示書.pdf", pdf)])
        .await
        .expect_status(422);
    assert!(page.body.contains("今はこの部屋の参加者でない人"), "{}", page.body);
    assert!(page.body.contains(">仙骨部の発赤、写真を確認してください</textarea>"));
    // The files stored for the post that was not written are gone, with no temporary file.
    assert_eq!(app.stored_files(), before, "no file left behind");
    assert!(post_ids(&timeline(&t.a, room).await).is_empty());
}

async fn a_form_sent_twice_makes_one_post(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let action = format!("/rooms/{room}/posts");
    // The answer to the first sending was lost; the browser sends the same form again.
    let page = timeline(&t.a, room).await;
    let key = between(&page.body, "name=\"idempotency_key\" value=\"", "\"").to_string();
    let fields = [("category", "notice"), ("body", "朝の訪問、異常なし"), ("idempotency_key", key.as_str())];
    t.a.send(&page, &action, &fields).await.expect_redirect(&format!("/rooms/{room}"));
    t.a.send(&page, &action, &fields).await.expect_redirect(&format!("/rooms/{room}"));
    let page = timeline(&t.a, room).await;
    assert_eq!(post_ids(&page).len(), 1);
    // With a photo: one post, and the photo stored once (the file and its thumbnail).
    let key = between(&page.body, "name=\"idempotency_key\" value=\"", "\"").to_string();
    let fields = [("category", "skin"), ("body", "写真を添付します"), ("idempotency_key", key.as_str())];
    let before = app.stored_files().len();
    for _ in 0..2 {
        multipart(&t.a, room, &fields, vec![("IMG_0004.JPG", jpeg_with_gps())])
            .await
            .expect_redirect(&format!("/rooms/{room}"));
    }
    assert_eq!(app.stored_files().len(), before + 2);
    let page = timeline(&t.b, room).await;
    let ids = post_ids(&page);
    assert_eq!(ids.len(), 2);
    // A reply sent twice.
    let reply_key = format!("{}-{}", between(&page.body, "name=\"idempotency_key\" value=\"", "\""), ids[0]);
    assert!(page.body.contains(&format!("value=\"{reply_key}\"")), "each reply form has its own key");
    let replies = format!("/rooms/{room}/posts/{}/replies", ids[0]);
    for _ in 0..2 {
        t.b.send(&page, &replies, &[("body", "了解です"), ("idempotency_key", &reply_key)])
            .await
            .expect_redirect(&format!("/rooms/{room}#post-{}", ids[0]));
    }
    let page = timeline(&t.a, room).await;
    assert_eq!(page.body.matches(">了解です<").count(), 1, "one reply");
    // A page opened anew has a new key: the same words again are a new post.
    let key2 = between(&page.body, "name=\"idempotency_key\" value=\"", "\"").to_string();
    assert_ne!(key2, key);
    t.a.send(
        &page,
        &action,
        &[("category", "notice"), ("body", "朝の訪問、異常なし"), ("idempotency_key", &key2)],
    )
    .await
    .expect_redirect(&format!("/rooms/{room}"));
    assert_eq!(post_ids(&timeline(&t.a, room).await).len(), 4, "three posts and the reply");
}

/// The database wrote the post but its answer was lost (PostgreSQL gone at COMMIT): the user
/// sees an error and sends the same form again, with the photo uploaded again. The post keeps
/// the photo it was written with, and the second upload leaves nothing behind.
async fn a_post_whose_answer_was_lost_keeps_its_photo(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let t = team(&app).await;
    let room = &t.room;
    let page = timeline(&t.a, room).await;
    let key = between(&page.body, "name=\"idempotency_key\" value=\"", "\"").to_string();
    let fields = [("category", "skin"), ("body", "仙骨部の写真です"), ("idempotency_key", key.as_str())];
    let before = app.stored_files().len();
    crate::fault::lose_the_next_post_answer(&app);
    let failed = multipart(&t.a, room, &fields, vec![("IMG_0007.JPG", jpeg_with_gps())]).await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    // The post was written, and its photo is there.
    let photo_of = |page: &Page| between(&page.body, &format!("/rooms/{room}/files/"), "\"").to_string();
    let b = &t.b;
    let served = |photo: String| async move {
        let r = b.client.get(format!("{}/rooms/{room}/files/{photo}", b.base)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.bytes().await.unwrap())
    };
    let page = timeline(&t.b, room).await;
    assert_eq!(post_ids(&page).len(), 1);
    let first_photo = photo_of(&page);
    let (status, bytes) = served(first_photo.clone()).await;
    assert_eq!(status, 200, "the photo of the written post is still there");
    assert!(image::load_from_memory(&bytes).is_ok());
    // Sent again: one post, with its photo; the second upload is not kept.
    multipart(&t.a, room, &fields, vec![("IMG_0007.JPG", jpeg_with_gps())])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let page = timeline(&t.b, room).await;
    assert_eq!(post_ids(&page).len(), 1, "one post");
    assert_eq!(photo_of(&page), first_photo);
    let (status, bytes) = served(first_photo).await;
    assert_eq!(status, 200);
    assert!(image::load_from_memory(&bytes).is_ok());
    assert_eq!(app.stored_files().len(), before + 2, "the photo and its thumbnail, once");
}

/// A post whose write failed before COMMIT, with the same unknown outcome, keeps its files too
/// (the server cannot tell); once nothing refers to them for a day, the sweep removes them, and
/// only them.
async fn files_no_post_refers_to_are_swept_after_a_day(backend: Backend) {
    use renraku_web::orphans::{ORPHAN_GRACE, sweep};
    let Some(app) = TestApp::spawn(backend).await else { return };
    let t = team(&app).await;
    let room = &t.room;
    let fields = [("category", "skin"), ("body", "仙骨部の写真です")];
    multipart(&t.a, room, &fields, vec![("IMG_0008.JPG", jpeg_with_gps())])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let kept = app.stored_files();
    assert_eq!(kept.len(), 2, "the photo and its thumbnail");
    crate::fault::lose_the_next_post_unwritten(&app);
    let failed = multipart(&t.a, room, &fields, vec![("IMG_0009.JPG", jpeg_with_gps())]).await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(post_ids(&timeline(&t.a, room).await).len(), 1, "not written");
    assert_eq!(app.stored_files().len(), 4, "its files are kept: the outcome was unknown");
    let (store, blobs) = (app.state.store.as_ref(), app.state.blobs.as_ref());
    let now = std::time::SystemTime::now();
    assert_eq!(sweep(store, blobs, now, ORPHAN_GRACE).await.unwrap(), 0, "too young to tell");
    assert_eq!(app.stored_files().len(), 4);
    let tomorrow = now + ORPHAN_GRACE + std::time::Duration::from_secs(60);
    assert_eq!(sweep(store, blobs, tomorrow, ORPHAN_GRACE).await.unwrap(), 2);
    assert_eq!(app.stored_files(), kept, "only the files no post refers to are gone");
    let page = timeline(&t.b, room).await;
    let photo = between(&page.body, &format!("/rooms/{room}/files/"), "\"").to_string();
    let r = t.b.client.get(format!("{}/rooms/{room}/files/{photo}", t.b.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sweep(store, blobs, tomorrow, ORPHAN_GRACE).await.unwrap(), 0);
}

mod files_no_post_refers_to_are_swept_after_a_day {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        super::files_no_post_refers_to_are_swept_after_a_day(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::files_no_post_refers_to_are_swept_after_a_day(Backend::Postgres).await;
    }
}

mod a_post_whose_answer_was_lost_keeps_its_photo {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        super::a_post_whose_answer_was_lost_keeps_its_photo(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::a_post_whose_answer_was_lost_keeps_its_photo(Backend::Postgres).await;
    }
}

async fn a_request_whose_note_is_too_long_comes_back_with_it(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let path = format!("/rooms/{room}/requests");
    let note = "ご家族から入院の連絡がありました。".repeat(30);
    assert!(note.chars().count() > 500);
    let page =
        t.a.submit(&path, &path, &[("kind", "close"), ("closing_reason", "admission"), ("note", &note)])
            .await
            .expect_status(422);
    assert!(page.body.contains("補足は500文字以内にしてください。"), "{}", page.body);
    assert!(page.body.contains(&format!("value=\"{note}\"")), "the note is kept");
    assert!(page.body.contains("<option value=\"admission\" selected>"), "and the reason");
    let queue = t.admin.get("/admin/requests").await.expect_status(200);
    assert!(!queue.body.contains("action=\"/admin/requests/"), "nothing was asked");
}

/// This process's resident memory in kB (the server runs in it).
fn resident_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The largest rise of resident memory while `work` runs, in MB, sampled every 2 ms.
async fn memory_rise_mb<T>(work: impl std::future::Future<Output = T>) -> (T, u64) {
    let base = resident_kb();
    let peak = Arc::new(AtomicU64::new(base));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(resident_kb(), Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let out = work.await;
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    (out, peak.load(Ordering::Relaxed).saturating_sub(base) / 1024)
}

/// Three PNG bombs of 292 KB that each declare 100 megapixels (300 MB of pixels), posted at the
/// same time, are refused from their headers; three of 25 megapixels are processed one after
/// another within the decoding budget. Either way resident memory rises by less than 150 MB.
/// Measured in a process of its own (this test binary run again for just that test): other
/// tests running alongside would be counted too.
#[test]
fn three_image_bombs_at_once_cost_little_memory() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["posting::image_bombs_in_a_process_of_their_own", "--exact", "--ignored", "--nocapture"])
        .env("RENRAKU_MEASURE_BOMBS", "1")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
    assert!(text.contains("three bombs: resident memory rose by"), "{text}");
}

/// On SQLite only: the storage plays no part.
#[tokio::test]
#[ignore = "run alone by three_image_bombs_at_once_cost_little_memory"]
async fn image_bombs_in_a_process_of_their_own() {
    if std::env::var_os("RENRAKU_MEASURE_BOMBS").is_none() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let t = team(&app).await;
    let room = t.room.clone();
    let over = png_bomb(10_000, 10_000).unwrap();
    let under = png_bomb(5_000, 5_000).unwrap();
    assert!(over.len() < 400 * 1024 && under.len() < 400 * 1024);
    let send = |bytes: Vec<u8>| {
        multipart(&t.a, &room, &[("category", "skin"), ("body", "写真")], vec![("bomb.png", bytes)])
    };

    let ((x, y, z), rise) =
        memory_rise_mb(async { tokio::join!(send(over.clone()), send(over.clone()), send(over.clone())) })
            .await;
    for page in [x, y, z] {
        let page = page.expect_status(422);
        assert!(page.body.contains("bomb.png: 写真の画素数が多すぎます（4000万画素まで）"), "{}", page.body);
    }
    eprintln!("three bombs: resident memory rose by {rise} MB");
    assert!(rise < 150, "three bombs raised resident memory by {rise} MB");

    // 39 megapixels, under the pixel limit, in 230 KB, but progressive: its coefficients alone
    // would take 233 MB. Refused from the header, naming the limit.
    let progressive = progressive_jpeg(7_200, 5_400);
    let ((x, y, z), rise) = memory_rise_mb(async {
        tokio::join!(send(progressive.clone()), send(progressive.clone()), send(progressive.clone()))
    })
    .await;
    for page in [x, y, z] {
        let page = page.expect_status(422);
        assert!(
            page.body.contains(
                "bomb.png: この写真は読み込みに約353 MB のメモリが必要で、上限（160 MB）を超えます。"
            ),
            "{}",
            page.body
        );
    }
    eprintln!("three progressive JPEGs: resident memory rose by {rise} MB");
    assert!(rise < 150, "three progressive JPEGs raised resident memory by {rise} MB");

    let ((x, y, z), rise) =
        memory_rise_mb(async { tokio::join!(send(under.clone()), send(under.clone()), send(under.clone())) })
            .await;
    for page in [x, y, z] {
        page.expect_redirect(&format!("/rooms/{room}"));
    }
    eprintln!("three 25-megapixel photos: resident memory rose by {rise} MB");
    assert!(rise < 150, "three 25-megapixel photos at once raised resident memory by {rise} MB");
    assert_eq!(post_ids(&timeline(&t.a, &room).await).len(), 3);
}

/// The files of a post that failed leave an S3 bucket too (moto on loopback).
#[tokio::test]
async fn files_of_a_failed_post_leave_the_bucket_too() {
    use renraku_attachments::blobs::S3Bucket;
    use renraku_attachments::testing::Moto;
    let Some(moto) = Moto::start().unwrap() else { return };
    moto.create_bucket("renraku").await.unwrap();
    let key = renraku_web::Secrets::derive(MASTER_SECRET).files_key;
    let bucket = Arc::new(S3Bucket::new(&moto.settings("renraku", "t"), &key).unwrap());
    let app = TestApp::spawn_with_blobs(Backend::Sqlite, bucket).await.unwrap();
    let t = team(&app).await;
    let room = &t.room;
    // Moto answers an unsigned listing of the bucket.
    let objects = || async {
        let listing = reqwest::get(format!("{}/renraku?list-type=2", moto.endpoint)).await.unwrap();
        listing.text().await.unwrap().matches("<Key>").count()
    };
    let fields = [("category", "skin"), ("body", "確認をお願いします"), ("mention", t.b_account.as_str())];
    multipart(&t.a, room, &fields, vec![("IMG_0005.JPG", jpeg_with_gps())])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    assert_eq!(objects().await, 2, "the photo and its thumbnail");
    t.admin
        .submit(
            &format!("/admin/rooms/{room}"),
            &format!("/admin/rooms/{room}/members/{}/remove", t.b_account),
            &[],
        )
        .await
        .expect_redirect(&format!("/admin/rooms/{room}"));
    multipart(&t.a, room, &fields, vec![("IMG_0006.JPG", jpeg_with_gps())]).await.expect_status(422);
    assert_eq!(objects().await, 2, "nothing left of the post that failed");
    // The sweep lists the bucket: a file nothing refers to goes once a day old, the post's stay.
    use renraku_web::orphans::{ORPHAN_GRACE, sweep};
    app.state.blobs.put("left-behind", b"photo").await.unwrap();
    assert_eq!(objects().await, 3);
    let tomorrow = std::time::SystemTime::now() + ORPHAN_GRACE + std::time::Duration::from_secs(60);
    assert_eq!(sweep(app.store(), app.state.blobs.as_ref(), tomorrow, ORPHAN_GRACE).await.unwrap(), 1);
    assert_eq!(objects().await, 2);
    let page = timeline(&t.a, room).await;
    let photo = between(&page.body, &format!("/rooms/{room}/files/"), "\"").to_string();
    t.a.get(&format!("/rooms/{room}/files/{photo}")).await.expect_status(200);
}
