//! Sign-in (C1, C2-TOTP, C4): setup link, activation, TOTP enrolment and codes, recovery codes,
//! lockout, session expiry and revocation, password age.

use crate::both;
use crate::helpers::*;

both!(
    the_setup_link_creates_the_operator_once,
    a_new_admin_activates_enrols_and_signs_in_with_a_real_totp_code,
    a_totp_code_cannot_be_used_twice,
    a_recovery_code_signs_in_once,
    repeated_failures_lock_the_login_id_without_revealing_it_exists,
    an_idle_session_expires_and_asks_to_sign_in_again,
    a_session_ends_at_its_absolute_limit_even_when_used,
    sessions_can_be_listed_and_revoked,
    an_expired_password_must_be_changed_first,
    a_reset_second_factor_is_enrolled_again,
    wrong_codes_lock_the_second_factor_even_after_a_right_password,
    an_old_activation_link_cannot_take_over_an_account,
    parallel_wrong_passwords_are_checked_at_most_five_times,
    common_passwords_are_refused_wherever_a_password_is_chosen,
    the_current_password_cannot_be_guessed_from_a_signed_in_session,
    a_session_is_opened_and_ended_only_with_its_audit_entry,
    signing_in_returns_to_the_page_first_asked_for_and_nowhere_else,
    a_wrong_password_says_how_many_tries_are_left,
);

#[tokio::test]
async fn cookies_are_secure_when_served_over_tls() {
    let app = TestApp::spawn_with(Backend::Sqlite, Some("https://renraku.example.jp")).await.unwrap();
    let page = app.browser().get("/login").await.expect_status(200);
    let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("__Host-renraku_csrf="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let plain = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let page = plain.browser().get("/login").await;
    let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(!cookie.contains("Secure"), "plain HTTP on 127.0.0.1 cannot use Secure cookies: {cookie}");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_not_readable_by_scripts() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (b, _) = app.operator().await;
    b.submit("/operator", "/logout", &[]).await;
    let page =
        b.submit("/login", "/login", &[("login_id", "operator"), ("password", "Kanri-pass-2026")]).await;
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("renraku_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

async fn the_setup_link_creates_the_operator_once(app: TestApp) {
    let link = renraku_web::issue_setup_link(&app.state).await.unwrap().unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_string();
    let b = app.browser();
    // A weak password is refused, next to its field, and what was typed comes back.
    let page = b
        .submit(
            &path,
            &path,
            &[
                ("login_id", "operator"),
                ("name", "運用 太郎"),
                ("kana", "うんよう たろう"),
                ("new_password", "short"),
                ("new_password_confirm", "short"),
            ],
        )
        .await
        .expect_status(422);
    assert!(page.body.contains("パスワードは10文字以上にしてください。"), "{}", page.body);
    assert_eq!(page.field_value("name"), "運用 太郎");
    assert!(!page.body.contains("short"), "passwords are never sent back");
    let fields = [
        ("login_id", "operator"),
        ("name", "運用 太郎"),
        ("kana", "うんよう たろう"),
        ("new_password", "Kanri-pass-2026"),
        ("new_password_confirm", "Kanri-pass-2026"),
    ];
    b.submit(&path, &path, &fields).await.expect_redirect("/login?activated=1");
    // Single use.
    b.get(&path).await.expect_status(410);
    assert_eq!(renraku_web::issue_setup_link(&app.state).await.unwrap(), None);
}

async fn a_new_admin_activates_enrols_and_signs_in_with_a_real_totp_code(app: TestApp) {
    let (operator, _) = app.operator().await;
    operator.get("/operator").await.expect_status(200);
    let (_, admin, secret) = app.municipality_with_admin(&operator, "122203", "nagareyama.admin").await;
    let home = admin.get("/").await.expect_redirect("/admin");
    drop(home);
    let page = admin.get("/admin").await.expect_status(200);
    assert!(page.body.contains("流山市 管理"));
    // Sign out, then in again with password and a fresh code.
    admin.submit("/admin", "/logout", &[]).await.expect_redirect("/login?out=1");
    admin.get("/admin").await.expect_redirect(&login_for("/admin"));
    app.sign_in(&admin, "nagareyama.admin", "Admin-pass-2026", &secret).await;
    admin.get("/admin").await.expect_status(200);
    // The password alone opens nothing but the second-factor page.
    let other = app.browser();
    other
        .submit("/login", "/login", &[("login_id", "NAGAREYAMA.ADMIN"), ("password", "Admin-pass-2026")])
        .await
        .expect_redirect("/login/totp");
    other.get("/admin").await.expect_redirect("/login/totp");
    other.get("/account").await.expect_redirect("/login/totp");
}

async fn a_totp_code_cannot_be_used_twice(app: TestApp) {
    let (operator, secret) = app.operator().await;
    operator.submit("/operator", "/logout", &[]).await;
    let code = app.next_code(&secret);
    for (n, expected) in [(1, 303), (2, 401)] {
        let b = app.browser();
        b.submit("/login", "/login", &[("login_id", "operator"), ("password", "Kanri-pass-2026")])
            .await
            .expect_redirect("/login/totp");
        let page = b.submit("/login/totp", "/login/totp", &[("code", &code)]).await;
        assert_eq!(page.status, expected, "attempt {n}: {}", page.body);
    }
}

async fn a_recovery_code_signs_in_once(app: TestApp) {
    let link = renraku_web::issue_setup_link(&app.state).await.unwrap().unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_string();
    let b = app.browser();
    let fields = [
        ("login_id", "operator"),
        ("name", "運用 太郎"),
        ("kana", "うんよう たろう"),
        ("new_password", "Kanri-pass-2026"),
        ("new_password_confirm", "Kanri-pass-2026"),
    ];
    b.submit(&path, &path, &fields).await;
    b.submit("/login", "/login", &[("login_id", "operator"), ("password", "Kanri-pass-2026")]).await;
    let enrol = b.get("/totp/enrol").await;
    let secret = between(&enrol.body, "<code id=\"totp-secret\">", "</code>").to_string();
    let code = app.next_code(&secret);
    let pending = between(&enrol.body, "name=\"pending\" value=\"", "\"").to_string();
    let codes_page =
        b.send(&enrol, "/totp/enrol", &[("pending", &pending), ("code", &code)]).await.expect_status(200);
    let first = between(&codes_page.body, "<li><code>", "</code>").to_string();
    b.submit("/operator", "/logout", &[]).await;
    for expected in [303, 401] {
        let b = app.browser();
        b.submit("/login", "/login", &[("login_id", "operator"), ("password", "Kanri-pass-2026")]).await;
        let page = b.submit("/login/totp", "/login/totp", &[("recovery_code", &first.to_uppercase())]).await;
        assert_eq!(page.status, expected, "{}", page.body);
    }
}

async fn repeated_failures_lock_the_login_id_without_revealing_it_exists(app: TestApp) {
    let (operator, _) = app.operator().await;
    operator.submit("/operator", "/logout", &[]).await;
    for login in ["operator", "nobody-here"] {
        let b = app.browser();
        let mut statuses = vec![];
        for _ in 0..5 {
            let page =
                b.submit("/login", "/login", &[("login_id", login), ("password", "Wrong-pass-123")]).await;
            statuses.push(page.status);
            if page.status == 401 {
                assert!(page.body.contains("ログインIDまたはパスワードが正しくありません。"));
            }
        }
        assert_eq!(statuses, [401, 401, 401, 401, 429], "{login}");
        // Locked: even the right password is refused, with the same words for both IDs.
        let page = b
            .submit("/login", "/login", &[("login_id", login), ("password", "Kanri-pass-2026")])
            .await
            .expect_status(429);
        assert!(page.body.contains("一時的にログインできません"));
    }
    // After the lock the right password works again.
    app.state.clock.advance_ms(16 * 60 * 1000);
    let b = app.browser();
    b.submit("/login", "/login", &[("login_id", "operator"), ("password", "Kanri-pass-2026")])
        .await
        .expect_redirect("/login/totp");
    let failures = app
        .store()
        .audit_entries(
            renraku_domain::audit::OPERATOR_CHAIN,
            &renraku_store::AuditFilter {
                action_prefix: Some("auth.login".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(failures.iter().filter(|r| r.facts.outcome == "failure").count() >= 8);
    assert!(failures.iter().any(|r| r.facts.outcome == "locked" && r.facts.actor_login == "nobody-here"));
}

async fn an_idle_session_expires_and_asks_to_sign_in_again(app: TestApp) {
    let (operator, _) = app.operator().await;
    operator.get("/operator").await.expect_status(200);
    app.state.clock.advance_ms(29 * 60 * 1000);
    operator.get("/operator").await.expect_status(200);
    app.state.clock.advance_ms(31 * 60 * 1000);
    operator.get("/operator").await.expect_redirect("/login?expired=1&next=%2Foperator");
    let page = operator.get("/login?expired=1").await.expect_status(200);
    assert!(page.body.contains("セッションの有効期限が切れました。"));
    // A form sent with the dead session changes nothing and says why.
    let token = page.csrf();
    let r = operator
        .client
        .post(format!("{}/operator/municipalities/new", operator.base))
        .form(&[("_csrf", token.as_str()), ("code", "122203"), ("name", "流山市")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/login?expired=1");
    assert!(app.store().municipalities().await.unwrap().is_empty());
}

async fn a_session_ends_at_its_absolute_limit_even_when_used(app: TestApp) {
    let (operator, _) = app.operator().await;
    for _ in 0..23 {
        app.state.clock.advance_ms(29 * 60 * 1000);
        operator.get("/operator").await.expect_status(200);
    }
    // 11 h 7 min so far; the twelfth hour ends the session whatever happens.
    app.state.clock.advance_ms(29 * 60 * 1000);
    operator.get("/operator").await.expect_status(200);
    app.state.clock.advance_ms(29 * 60 * 1000);
    operator.get("/operator").await.expect_redirect("/login?expired=1&next=%2Foperator");
}

async fn sessions_can_be_listed_and_revoked(app: TestApp) {
    let (first, secret) = app.operator().await;
    let second = app.browser();
    app.sign_in(&second, "operator", "Kanri-pass-2026", &secret).await;
    let page = first.get("/account").await.expect_status(200);
    assert_eq!(page.body.matches("/revoke\"").count(), 2, "two sessions listed");
    assert!(page.body.contains("この端末"));
    first
        .submit("/account", "/account/sessions/revoke-others", &[])
        .await
        .expect_redirect("/account?revoked=1");
    second.get("/operator").await.expect_redirect("/login?expired=1&next=%2Foperator");
    first.get("/operator").await.expect_status(200);
    // One's own session, revoked from the list, ends at once.
    let page = first.get("/account").await;
    let id = between(&page.body, "/account/sessions/", "/revoke").to_string();
    first
        .submit("/account", &format!("/account/sessions/{id}/revoke"), &[])
        .await
        .expect_redirect("/login?out=1");
    first.get("/operator").await.expect_redirect("/login?expired=1&next=%2Foperator");
    // Someone else's session id is not found.
    let third = app.browser();
    app.sign_in(&third, "operator", "Kanri-pass-2026", &secret).await;
    third.submit("/account", "/account/sessions/not-a-session/revoke", &[]).await.expect_status(404);
}

async fn an_expired_password_must_be_changed_first(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, secret) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let page = admin
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[
                ("min_length", "１２"),
                ("max_age_days", "30"),
                ("idle_minutes", "30"),
                ("absolute_hours", "12"),
            ],
        )
        .await
        .expect_redirect("/admin/settings?saved=1");
    drop(page);
    app.state.clock.advance_ms(31 * 86_400_000);
    app.sign_in(&admin, "admin01", "Admin-pass-2026", &secret).await;
    admin.get("/admin").await.expect_redirect("/password?expired=1");
    let page = admin.get("/password?expired=1").await.expect_status(200);
    assert!(page.body.contains("有効期間（30日）が過ぎました"));
    let short = admin
        .submit(
            "/password",
            "/password",
            &[
                ("password", "Admin-pass-2026"),
                ("new_password", "Short-pw-1"),
                ("new_password_confirm", "Short-pw-1"),
            ],
        )
        .await
        .expect_status(422);
    assert!(short.body.contains("12文字以上"));
    admin
        .submit(
            "/password",
            "/password",
            &[
                ("password", "Admin-pass-2026"),
                ("new_password", "Admin-pass-2026-new"),
                ("new_password_confirm", "Admin-pass-2026-new"),
            ],
        )
        .await
        .expect_redirect("/account?password=1");
    admin.get("/admin").await.expect_status(200);
}

async fn a_reset_second_factor_is_enrolled_again(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let facility = crate::admin::create_facility(&admin).await;
    let issued = admin
        .submit(
            &format!("/admin/facilities/{facility}/users/new"),
            &format!("/admin/facilities/{facility}/users/new"),
            &[
                ("login_id", "nurse01"),
                ("name", "看護 一郎"),
                ("kana", "かんご いちろう"),
                ("occupation", "nurse"),
                ("is_manager", "on"),
            ],
        )
        .await
        .expect_status(201);
    let nurse = app.browser();
    app.activate(&nurse, &activation_link(&issued.body), "Nurse-pass-2026").await;
    app.sign_in_first_time(&nurse, "nurse01", "Nurse-pass-2026").await;
    nurse.get("/account").await.expect_status(200);
    let user_id = app.store().identity_by_login("nurse01").await.unwrap().unwrap();
    let account = app.store().accounts_of_identity(&user_id.id).await.unwrap().remove(0);
    let done = admin
        .submit(
            &format!("/admin/facilities/{facility}"),
            &format!("/admin/users/{}/reset-second-factor", account.id),
            &[],
        )
        .await
        .expect_status(200);
    assert!(done.body.contains("二段階認証をリセット"));
    nurse.get("/account").await.expect_redirect("/login?expired=1&next=%2Faccount");
    app.sign_in_first_time(&nurse, "nurse01", "Nurse-pass-2026").await;
    nurse.get("/account").await.expect_status(200);
}

/// A facility and a member of it, created by the admin; returns the member's account id and the
/// page with their activation link.
async fn new_nurse(app: &TestApp, admin: &Browser, login: &str) -> (String, Page) {
    let facility = crate::admin::create_facility(admin).await;
    let form = format!("/admin/facilities/{facility}/users/new");
    let issued = admin
        .submit(
            &form,
            &form,
            &[
                ("login_id", login),
                ("name", "看護 一郎"),
                ("kana", "かんご いちろう"),
                ("occupation", "nurse"),
                ("is_manager", "on"),
            ],
        )
        .await
        .expect_status(201);
    let identity = app.store().identity_by_login(login).await.unwrap().unwrap();
    let account = app.store().accounts_of_identity(&identity.id).await.unwrap().remove(0);
    (account.id.to_string(), issued)
}

const SECOND_FACTOR_LOCKED: &str = "二段階認証を15分間ロックしました";

async fn wrong_codes_lock_the_second_factor_even_after_a_right_password(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (m, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let (account_id, issued) = new_nurse(&app, &admin, "nurse01").await;
    let nurse = app.browser();
    app.activate(&nurse, &activation_link(&issued.body), "Nurse-pass-2026").await;
    let secret = app.sign_in_first_time(&nurse, "nurse01", "Nurse-pass-2026").await;
    nurse.submit("/account", "/logout", &[]).await;
    // Someone who knows the password tries four codes, signs in with the password again (which
    // used to reset the count) and tries once more: the fifth wrong code locks the second factor.
    let attacker = app.browser();
    attacker
        .submit("/login", "/login", &[("login_id", "nurse01"), ("password", "Nurse-pass-2026")])
        .await
        .expect_redirect("/login/totp");
    for n in 0..4 {
        let field = if n == 3 { ("recovery_code", "abcd-efgh-ijkl") } else { ("code", "000000") };
        let page = attacker.submit("/login/totp", "/login/totp", &[field]).await.expect_status(401);
        assert!(
            page.body.contains(&format!("あと{}回間違えると15分間ロックされます", 4 - n)),
            "{}",
            page.body
        );
    }
    let attacker = app.browser();
    attacker
        .submit("/login", "/login", &[("login_id", "nurse01"), ("password", "Nurse-pass-2026")])
        .await
        .expect_redirect("/login/totp");
    let page = attacker.submit("/login/totp", "/login/totp", &[("code", "000000")]).await.expect_status(429);
    assert!(page.body.contains(SECOND_FACTOR_LOCKED), "{}", page.body);
    attacker.get("/login/totp").await.expect_redirect("/login");
    // While locked, even the right password and a right code do not get the person in.
    let page = nurse
        .submit("/login", "/login", &[("login_id", "nurse01"), ("password", "Nurse-pass-2026")])
        .await
        .expect_status(429);
    assert!(page.body.contains(SECOND_FACTOR_LOCKED), "{}", page.body);
    nurse.get("/login/totp").await.expect_redirect("/login");
    // The admin sees the lock and releases it; the release is audited.
    let list = admin.get("/admin/users").await.expect_status(200);
    assert!(list.body.contains("二段階認証ロック中"), "{}", list.body);
    let unlock = format!("/admin/users/{account_id}/unlock");
    assert!(list.body.contains(&unlock), "{}", list.body);
    let done = admin.submit("/admin/users", &unlock, &[]).await.expect_status(200);
    assert!(done.body.contains("ロックを解除しました"), "{}", done.body);
    assert!(!admin.get("/admin/users").await.body.contains("二段階認証ロック中"));
    app.sign_in(&nurse, "nurse01", "Nurse-pass-2026", &secret).await;
    nurse.get("/account").await.expect_status(200);
    let entries = app
        .store()
        .audit_entries(&m, &renraku_store::AuditFilter { limit: 500, ..Default::default() })
        .await
        .unwrap();
    let count = |action: &str, outcome: &str| {
        entries.iter().filter(|r| r.facts.action == action && r.facts.outcome == outcome).count()
    };
    assert_eq!(count("auth.second_factor", "failure"), 5);
    assert!(count("auth.second_factor", "locked") >= 2, "the lock and the refused sign-in");
    assert_eq!(count("account.unlock", "ok"), 1);
    // Without an admin, the lock runs out after 15 minutes.
    nurse.submit("/account", "/logout", &[]).await;
    for _ in 0..5 {
        let b = app.browser();
        b.submit("/login", "/login", &[("login_id", "nurse01"), ("password", "Nurse-pass-2026")]).await;
        b.submit("/login/totp", "/login/totp", &[("code", "000000")]).await;
    }
    nurse
        .submit("/login", "/login", &[("login_id", "nurse01"), ("password", "Nurse-pass-2026")])
        .await
        .expect_status(429);
    app.state.clock.advance_ms(16 * 60 * 1000);
    app.sign_in(&nurse, "nurse01", "Nurse-pass-2026", &secret).await;
}

async fn an_old_activation_link_cannot_take_over_an_account(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let (account_id, issued) = new_nurse(&app, &admin, "nurse01").await;
    let old = activation_link(&issued.body);
    let old_path = old.strip_prefix(&app.base).unwrap().to_string();
    // The attacker keeps the first link and opens its form before the link is reissued.
    let attacker = app.browser();
    let form = attacker.get(&old_path).await.expect_status(200);
    let reissued = admin
        .submit("/admin/users", &format!("/admin/users/{account_id}/activation-link"), &[])
        .await
        .expect_status(200);
    let new = activation_link(&reissued.body);
    assert_ne!(old, new);
    // Reissuing retired the first link at once…
    attacker.get(&old_path).await.expect_status(410);
    let nurse = app.browser();
    app.activate(&nurse, &new, "Nurse-pass-2026").await;
    // …and posting to it after the activation sets nothing.
    let taken = [("new_password", "Attacker-pass-2026"), ("new_password_confirm", "Attacker-pass-2026")];
    attacker.send(&form, &old_path, &taken).await.expect_status(410);
    // The new link is used up too: it cannot set the password of the now active account.
    let new_path = new.strip_prefix(&app.base).unwrap().to_string();
    attacker.send(&form, &new_path, &taken).await.expect_status(410);
    attacker
        .submit("/login", "/login", &[("login_id", "nurse01"), ("password", "Attacker-pass-2026")])
        .await
        .expect_status(401);
    app.sign_in_first_time(&nurse, "nurse01", "Nurse-pass-2026").await;
}

async fn parallel_wrong_passwords_are_checked_at_most_five_times(app: TestApp) {
    let (operator, _) = app.operator().await;
    operator.submit("/operator", "/logout", &[]).await;
    // Twenty browsers, each with its sign-in form open, send a wrong password at the same moment.
    let mut ready = vec![];
    for _ in 0..20 {
        let b = app.browser();
        let token = b.get("/login").await.csrf();
        ready.push((b, token));
    }
    let attempts = ready.iter().map(|(b, token)| {
        b.client
            .post(format!("{}/login", b.base))
            .form(&[("_csrf", token.as_str()), ("login_id", "operator"), ("password", "Wrong-pass-123")])
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 401).count() <= 4, "{statuses:?}");
    // Only five passwords were actually checked (each check is a failure in the audit trail);
    // the others were refused by the lock without being checked.
    let entries = app
        .store()
        .audit_entries(
            renraku_domain::audit::OPERATOR_CHAIN,
            &renraku_store::AuditFilter {
                action_prefix: Some("auth.login".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let checked = entries.iter().filter(|r| r.facts.outcome == "failure").count();
    let refused = entries.iter().filter(|r| r.facts.outcome == "locked").count();
    assert_eq!((checked, refused), (5, 15), "{statuses:?}");
    // The right password is refused too until the lock runs out.
    let b = app.browser();
    b.submit("/login", "/login", &[("login_id", "operator"), ("password", "Kanri-pass-2026")])
        .await
        .expect_status(429);
}

async fn common_passwords_are_refused_wherever_a_password_is_chosen(app: TestApp) {
    const COMMON: &str = "よく使われているパスワードのため使えません。";
    // Setup of the operator.
    let link = renraku_web::issue_setup_link(&app.state).await.unwrap().unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_string();
    let b = app.browser();
    let page = b
        .submit(
            &path,
            &path,
            &[
                ("login_id", "operator"),
                ("name", "運用 太郎"),
                ("kana", "うんよう たろう"),
                ("new_password", "Password123"),
                ("new_password_confirm", "Password123"),
            ],
        )
        .await
        .expect_status(422);
    assert!(page.body.contains(COMMON), "{}", page.body);
    assert_eq!(page.field_value("name"), "運用 太郎");
    drop(b);
    // Activation of a new account (full-width and upper case fold onto the list's entry).
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let (_, issued) = new_nurse(&app, &admin, "nurse01").await;
    let path = activation_link(&issued.body).strip_prefix(&app.base).unwrap().to_string();
    let nurse = app.browser();
    let common = "ＱＷＥＲＴＹ１２３４５６";
    let page = nurse
        .submit(&path, &path, &[("new_password", common), ("new_password_confirm", common)])
        .await
        .expect_status(422);
    assert!(page.body.contains(COMMON), "{}", page.body);
    // A change of one's own password.
    let page = admin
        .submit(
            "/password",
            "/password",
            &[
                ("password", "Admin-pass-2026"),
                ("new_password", "password123"),
                ("new_password_confirm", "password123"),
            ],
        )
        .await
        .expect_status(422);
    assert!(page.body.contains(COMMON), "{}", page.body);
    assert!(app.store().identity_by_login("nurse01").await.unwrap().unwrap().password_hash.is_none());
}

/// Someone who has taken over a signed-in session cannot guess the person's password on the
/// password page: wrong current passwords count against the sign-in lock of the login ID.
async fn the_current_password_cannot_be_guessed_from_a_signed_in_session(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let attempt = |current: &'static str| {
        let admin = &admin;
        async move {
            admin
                .submit(
                    "/password",
                    "/password",
                    &[
                        ("password", current),
                        ("new_password", "Kawasemi-Sora-2026"),
                        ("new_password_confirm", "Kawasemi-Sora-2026"),
                    ],
                )
                .await
        }
    };
    for i in 0..5 {
        let page =
            attempt(if i % 2 == 0 { "Guess-pass-2026" } else { "Admin-pass-2025" }).await.expect_status(422);
        assert!(page.body.contains("現在のパスワードが正しくありません"), "{}", page.body);
    }
    let locked = attempt("Admin-pass-2026").await.expect_status(429);
    assert!(locked.body.contains("15分ほど確認できません"), "{}", locked.body);
    let identity = app.store().identity_by_login("admin01").await.unwrap().unwrap();
    assert!(
        renraku_web::auth::password::verify(identity.password_hash, "Admin-pass-2026").await.unwrap(),
        "the password was not changed"
    );
    let entries = app.store().audit_chain(&identity_chain(&app, "admin01").await).await.unwrap();
    let changes: Vec<_> = entries
        .iter()
        .filter(|e| e.facts.action == "auth.password_changed")
        .map(|e| e.facts.outcome.as_str())
        .collect();
    assert_eq!(changes, ["failure", "failure", "failure", "failure", "failure", "locked"]);
}

async fn identity_chain(app: &TestApp, login: &str) -> String {
    let identity = app.store().identity_by_login(login).await.unwrap().unwrap();
    let account = app.store().accounts_of_identity(&identity.id).await.unwrap().remove(0);
    account.municipality_id.unwrap().to_string()
}

/// A session and the audit entry of the step that opened, completed or ended it commit
/// together: when the entry cannot be written, the session does not change either.
async fn a_session_is_opened_and_ended_only_with_its_audit_entry(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, secret) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let identity = app.store().identity_by_login("admin01").await.unwrap().unwrap();
    let live =
        async || app.store().sessions_of_identity(&identity.id, app.state.clock.now_ms()).await.unwrap();
    assert_eq!(live().await.len(), 1);

    // The password step: no audit entry, no session.
    crate::fault::lose_the_next_unwritten(&app, "auth.password");
    let b = app.browser();
    let refused =
        b.submit("/login", "/login", &[("login_id", "admin01"), ("password", "Admin-pass-2026")]).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert_eq!(live().await.len(), 1, "a session without its audit entry");

    // The code step: the session stays half-open.
    b.submit("/login", "/login", &[("login_id", "admin01"), ("password", "Admin-pass-2026")])
        .await
        .expect_redirect("/login/totp");
    crate::fault::lose_the_next_unwritten(&app, "auth.login");
    let code = app.next_code(&secret);
    let refused = b.submit("/login/totp", "/login/totp", &[("code", &code)]).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    b.get("/").await.expect_redirect("/login/totp");

    // Signing out: the session stays open.
    crate::fault::lose_the_next_unwritten(&app, "auth.logout");
    let refused = admin.submit("/account", "/logout", &[]).await;
    assert_eq!(refused.status, 500, "{}", refused.body);
    admin.get("/account").await.expect_status(200);
}

/// After signing in, the person lands on the page they first asked for — a path on this server
/// only: another host, a scheme or a sign-in page is ignored and the start page is used.
async fn signing_in_returns_to_the_page_first_asked_for_and_nowhere_else(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, _admin, secret) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let b = app.browser();
    let asked = b.get("/admin/users?page=2").await;
    let login = asked.location().expect("sent to sign in").to_string();
    assert_eq!(login, "/login?next=%2Fadmin%2Fusers%3Fpage%3D2");
    let form = b.get(&login).await.expect_status(200);
    assert!(form.body.contains(r#"name="next" value="/admin/users?page=2""#), "{}", form.body);
    let fields = [("login_id", "admin01"), ("password", "Admin-pass-2026"), ("next", "/admin/users?page=2")];
    let step = b.submit(&login, "/login", &fields).await;
    let step = step.location().expect("to the second factor").to_string();
    assert_eq!(step, "/login/totp?next=%2Fadmin%2Fusers%3Fpage%3D2");
    let code = app.next_code(&secret);
    b.submit(&step, "/login/totp", &[("code", &code), ("next", "/admin/users?page=2")])
        .await
        .expect_redirect("/admin/users?page=2");

    // A form sent while signed out is not a page to come back to.
    let c = app.browser();
    let page = c.get("/login").await;
    let sent = c.send(&page, "/password", &[("password", "x")]).await;
    assert!(sent.location().is_some_and(|l| !l.contains("next")), "{:?}", sent.location());
    for elsewhere in
        ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/logout", "/login/totp", "admin"]
    {
        let c = app.browser();
        let fields = [("login_id", "admin01"), ("password", "Admin-pass-2026"), ("next", elsewhere)];
        c.submit("/login", "/login", &fields).await.expect_redirect("/login/totp");
        let page = c.get(&format!("/login/totp?next={elsewhere}")).await.expect_status(200);
        assert!(!page.body.contains(r#"name="next""#), "{elsewhere}: {}", page.body);
        // The wait keeps each code its own 30-second step.
        app.state.clock.advance_ms(30_000);
        let code = app.next_code(&secret);
        c.submit("/login/totp", "/login/totp", &[("code", &code), ("next", elsewhere)])
            .await
            .expect_redirect("/");
    }
}

/// A wrong password says how many tries are left before the lock, the same for a login ID that
/// exists and one that does not (the count is per login ID either way).
async fn a_wrong_password_says_how_many_tries_are_left(app: TestApp) {
    let (operator, _) = app.operator().await;
    app.municipality_with_admin(&operator, "122203", "admin01").await;
    for login in ["admin01", "nobody99"] {
        let b = app.browser();
        let wrong = b.submit("/login", "/login", &[("login_id", login), ("password", "wrong-pass-1")]).await;
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("あと4回間違えると"), "{login}: {}", wrong.body);
        let wrong = b.submit("/login", "/login", &[("login_id", login), ("password", "wrong-pass-2")]).await;
        assert!(wrong.body.contains("あと3回間違えると"), "{login}: {}", wrong.body);
    }
}
