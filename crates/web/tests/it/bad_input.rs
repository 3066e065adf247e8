//! Bad input gets a clear answer — a status and a Japanese message — and writes nothing.

use crate::both;
use crate::helpers::*;

both!(
    a_post_without_a_valid_csrf_token_is_refused,
    a_post_from_another_site_is_refused,
    an_oversize_body_is_refused,
    invalid_utf8_is_refused_not_mangled,
    unknown_pages_and_links_say_so_in_japanese,
    health_and_metrics_answer,
);

async fn a_post_without_a_valid_csrf_token_is_refused(app: TestApp) {
    let (operator, _) = app.operator().await;
    let form = b"code=122203&name=%E6%B5%81%E5%B1%B1%E5%B8%82".to_vec();
    let ct = "application/x-www-form-urlencoded";
    let page = operator.post_raw("/operator/municipalities/new", form.clone(), ct).await.expect_status(403);
    assert!(page.body.contains("ページの有効期限が切れたか"));
    let mut wrong = b"_csrf=0000&".to_vec();
    wrong.extend_from_slice(&form);
    operator.post_raw("/operator/municipalities/new", wrong, ct).await.expect_status(403);
    // A token from another browser does not fit this browser's cookie.
    let stranger = app.browser();
    let token = stranger.get("/login").await.csrf();
    let mut theirs = format!("_csrf={token}&").into_bytes();
    theirs.extend_from_slice(&form);
    operator.post_raw("/operator/municipalities/new", theirs, ct).await.expect_status(403);
    assert!(app.store().municipalities().await.unwrap().is_empty());
}

async fn a_post_from_another_site_is_refused(app: TestApp) {
    let (operator, _) = app.operator().await;
    let token = operator.get("/operator/municipalities/new").await.csrf();
    let r = operator
        .client
        .post(format!("{}/operator/municipalities/new", app.base))
        .header("origin", "https://evil.example")
        .form(&[("_csrf", token.as_str()), ("code", "122203"), ("name", "流山市")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = operator
        .client
        .post(format!("{}/operator/municipalities/new", app.base))
        .header("sec-fetch-site", "cross-site")
        .form(&[("_csrf", token.as_str()), ("code", "122203"), ("name", "流山市")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.store().municipalities().await.unwrap().is_empty());
    // The same form from our own origin goes through.
    let r = operator
        .client
        .post(format!("{}/operator/municipalities/new", app.base))
        .header("origin", app.base.as_str())
        .form(&[("_csrf", token.as_str()), ("code", "122203"), ("name", "流山市")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

async fn an_oversize_body_is_refused(app: TestApp) {
    let b = app.browser();
    let token = b.get("/login").await.csrf();
    let mut body = format!("_csrf={token}&login_id=").into_bytes();
    body.extend(std::iter::repeat_n(b'a', 300 * 1024));
    let page = b.post_raw("/login", body, "application/x-www-form-urlencoded").await.expect_status(413);
    assert!(page.body.contains("送信された内容が大きすぎます（上限 256 KB）"), "{}", page.body);
}

async fn invalid_utf8_is_refused_not_mangled(app: TestApp) {
    let (operator, _) = app.operator().await;
    let token = operator.get("/operator/municipalities/new").await.csrf();
    let body = format!("_csrf={token}&code=122203&name=%82%A0%82%A2").into_bytes(); // Shift_JIS あい
    let page = operator
        .post_raw("/operator/municipalities/new", body, "application/x-www-form-urlencoded")
        .await
        .expect_status(400);
    assert!(page.body.contains("UTF-8"));
    let page = operator
        .post_raw("/operator/municipalities/new", b"{}".to_vec(), "application/json")
        .await
        .expect_status(415);
    assert!(page.body.contains("対応していません"));
    assert!(app.store().municipalities().await.unwrap().is_empty());
}

async fn unknown_pages_and_links_say_so_in_japanese(app: TestApp) {
    let b = app.browser();
    let page = b.get("/no/such/page").await.expect_status(404);
    assert!(page.body.contains("ページが見つかりません"));
    let page = b.get("/activate/not-a-real-link").await.expect_status(410);
    assert!(page.body.contains("このリンクは無効です"));
    b.get("/setup/not-a-real-link").await.expect_status(410);
}

async fn health_and_metrics_answer(app: TestApp) {
    let b = app.browser();
    let health = b.get("/healthz").await.expect_status(200);
    assert!(health.body.starts_with("ok "));
    assert!(health.body.contains("writer: ok"), "a write commits on this backend: {}", health.body);
    // /metrics has its own address (`metrics_listen`); see ops.rs and the CLI tests.
    let login = b.get("/login").await;
    for header in ["content-security-policy", "x-content-type-options", "referrer-policy"] {
        assert!(login.headers.contains_key(header), "{header}");
    }
    let cookie = login
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    drop(cookie);
}
