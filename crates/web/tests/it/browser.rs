//! One journey in a real headless Chromium (Debian's `chromium` and `chromium-driver`): setup
//! link → operator → municipality and admin → activation → TOTP enrolment → sign-in, with
//! screenshots of the sign-in page and the admin home at phone and desktop widths, kept in
//! `target/screenshots/`. Without chromedriver the test says it was skipped, unless
//! `RENRAKU_REQUIRE_BROWSER=1` (set by `.ci/run`) makes it fail.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::*;

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

struct Driver {
    process: tokio::process::Child,
    client: Client,
    _profile: tempfile::TempDir,
}

async fn start_browser() -> Option<Driver> {
    let required = std::env::var("RENRAKU_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(driver) = driver else {
        assert!(
            !required,
            "RENRAKU_REQUIRE_BROWSER=1 but chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "SKIPPED: chromedriver not found; install Debian's chromium and chromium-driver to run the browser test"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let process = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--lang=ja",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = String::new();
    for _ in 0..50 {
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        match builder.capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return Some(Driver { process, client, _profile: profile }),
            Err(e) => last_error = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not start: {last_error}");
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(c: &Client, name: &str, (w, h): (u32, u32)) {
    c.set_window_size(w, h).await.unwrap();
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG image");
    std::fs::write(screenshot_dir().join(format!("{name}-{w}.png")), png).unwrap();
}

async fn fill(c: &Client, id: &str, value: &str) {
    let field = c.find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("no field #{id}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn press_primary(c: &Client) {
    c.find(Locator::Css("button.primary")).await.expect("primary button").click().await.unwrap();
}

/// The text of `#id`, waiting for the page that has it.
async fn text_of(c: &Client, id: &str) -> String {
    match c.wait().at_most(Duration::from_secs(5)).for_element(Locator::Id(id)).await {
        Ok(e) => e.text().await.unwrap(),
        Err(_) => {
            let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap_or_default();
            panic!("no #{id} at {}:\n{body}", path(c).await)
        }
    }
}

/// Waits until `#id` holds `needle`: for a form that posts and comes back to the same address,
/// where the old page's element may go stale while the new one loads.
async fn wait_for_text(c: &Client, id: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(element) = c.find(Locator::Id(id)).await
            && let Ok(text) = element.text().await
        {
            if text.contains(needle) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} never showed {needle:?}; last: {last:?}");
}

/// Waits for the navigation a click started; fails with the page's text if it ends elsewhere.
async fn wait_for_path(c: &Client, expected: &str) {
    for _ in 0..50 {
        if path(c).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap_or_default();
    panic!("expected to reach {expected}, still at {}:\n{body}", path(c).await);
}

async fn path(c: &Client) -> String {
    let url = c.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

#[tokio::test]
async fn an_operator_and_an_admin_get_started_in_a_real_browser() {
    let Some(mut driver) = start_browser().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let c = &driver.client;

    // The operator follows the setup link printed at first start.
    let link = renraku_web::issue_setup_link(&app.state).await.unwrap().unwrap();
    c.goto(&link).await.unwrap();
    fill(c, "f-login_id", "operator").await;
    fill(c, "f-name", "運用 太郎").await;
    fill(c, "f-kana", "うんよう たろう").await;
    fill(c, "f-new_password", "Kanri-pass-2026").await;
    fill(c, "f-new_password_confirm", "Kanri-pass-2026").await;
    press_primary(c).await;
    wait_for_path(c, "/login?activated=1").await;

    // The sign-in page, as a phone and a PC show it.
    screenshot(c, "sign-in", PHONE).await;
    screenshot(c, "sign-in", DESKTOP).await;
    let autocomplete = c.find(Locator::Id("f-password")).await.unwrap().attr("autocomplete").await.unwrap();
    assert_eq!(autocomplete.as_deref(), Some("off"), "the browser must not keep the password");

    sign_in_and_enrol(&app, c, "operator", "Kanri-pass-2026").await;
    wait_for_path(c, "/operator").await;

    // A municipality and its first admin.
    c.goto(&format!("{}/operator/municipalities/new", app.base)).await.unwrap();
    fill(c, "f-code", "１２２２０３").await;
    fill(c, "f-name", "流山市").await;
    press_primary(c).await;
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("form[action$='/admins']"))
        .await
        .unwrap();
    fill(c, "f-login_id", "nagareyama.admin").await;
    fill(c, "f-name", "介護 花子").await;
    fill(c, "f-kana", "かいご はなこ").await;
    press_primary(c).await;
    let activation = text_of(c, "activation-link").await;
    c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    wait_for_path(c, "/login?out=1").await;

    // The admin activates the account with their own password, enrols and signs in.
    c.goto(&activation).await.unwrap();
    fill(c, "f-new_password", "Admin-pass-2026").await;
    fill(c, "f-new_password_confirm", "Admin-pass-2026").await;
    press_primary(c).await;
    wait_for_path(c, "/login?activated=1").await;
    sign_in_and_enrol(&app, c, "nagareyama.admin", "Admin-pass-2026").await;
    wait_for_path(c, "/admin").await;
    let heading = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, "流山市 管理");
    screenshot(c, "admin-home", PHONE).await;
    screenshot(c, "admin-home", DESKTOP).await;

    let _ = driver.client.clone().close().await;
    let _ = driver.process.kill().await;
}

/// Password, then the enrolment page: reads the key shown for typing by hand, computes the
/// current code like an authenticator app, confirms, and moves past the recovery codes.
async fn sign_in_and_enrol(app: &TestApp, c: &Client, login: &str, password: &str) {
    fill(c, "f-login_id", login).await;
    fill(c, "f-password", password).await;
    press_primary(c).await;
    wait_for_path(c, "/totp/enrol").await;
    let secret = text_of(c, "totp-secret").await;
    let qr = c.find(Locator::Css(".qr svg")).await;
    assert!(qr.is_ok(), "the QR code is shown");
    fill(c, "f-code", &app.next_code(&secret)).await;
    press_primary(c).await;
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("ul.codes"))
        .await
        .expect("recovery codes page");
    let codes = c.find_all(Locator::Css("ul.codes code")).await.unwrap();
    assert_eq!(codes.len(), 10, "ten recovery codes");
    c.find(Locator::Css("a.primary")).await.unwrap().click().await.unwrap();
}

/// Two members in two browsers: what one posts, with a photo, appears on the other's open page
/// without a reload, and the author sees the read count change.
#[tokio::test]
async fn a_post_appears_live_in_another_members_browser() {
    let Some(mut first) = start_browser().await else { return };
    let Some(mut second) = start_browser().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let facility = crate::admin::create_facility(&admin).await;
    let created = admin.submit("/admin/rooms/new", "/admin/rooms/new", crate::rooms::PATIENT).await;
    let room_admin = created.location().unwrap().to_string();
    let room = room_admin.rsplit('/').next().unwrap().to_string();
    for (driver, login) in [(&first, "nurse_a"), (&second, "helper_b")] {
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
        let c = &driver.client;
        c.goto(&activation_link(&issued.body)).await.unwrap();
        fill(c, "f-new_password", "Member-pass-2026").await;
        fill(c, "f-new_password_confirm", "Member-pass-2026").await;
        press_primary(c).await;
        wait_for_path(c, "/login?activated=1").await;
        sign_in_and_enrol(&app, c, login, "Member-pass-2026").await;
        wait_for_path(c, "/rooms").await;
        let identity = app.store().identity_by_login(login).await.unwrap().unwrap();
        let account = app.store().accounts_of_identity(&identity.id).await.unwrap().remove(0);
        admin
            .submit(&room_admin, &format!("{room_admin}/members"), &[("account_id", &account.id)])
            .await
            .expect_redirect(&room_admin);
    }
    let (a, b) = (&first.client, &second.client);
    let room_url = format!("{}/rooms/{room}", app.base);
    b.goto(&room_url).await.unwrap();
    a.goto(&room_url).await.unwrap();
    // Give both pages' event streams a moment to open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.find(Locator::Css("details.composer summary")).await.unwrap().click().await.unwrap();
    fill(a, "f-body", "夕方に再訪問します").await;
    // A photo from the device, as the file picker would hand it over.
    let photo_dir = tempfile::tempdir().unwrap();
    let photo = photo_dir.path().join("wound.jpg");
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 90]));
    image::DynamicImage::ImageRgb8(img).save(&photo).unwrap();
    a.find(Locator::Id("f-files")).await.unwrap().send_keys(photo.to_str().unwrap()).await.unwrap();
    press_primary(a).await;
    let appeared = b
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//section[@class='timeline']//div[@class='body'][contains(., '夕方に再訪問します')]",
        ))
        .await;
    assert!(appeared.is_ok(), "the post appears on b's page without a reload");
    let thumb = b.wait().at_most(Duration::from_secs(5)).for_element(Locator::Css("ul.files img")).await;
    assert!(thumb.is_ok(), "with its photo");
    let loaded =
        b.execute("return document.querySelector('ul.files img').naturalWidth", vec![]).await.unwrap();
    let mut width = loaded.as_u64().unwrap_or(0);
    for _ in 0..20 {
        if width > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        width = b
            .execute("return document.querySelector('ul.files img').naturalWidth", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(0);
    }
    assert_eq!(width, 64, "the thumbnail loads for the other member");
    wait_for_path(a, &format!("/rooms/{room}")).await;
    let read = a
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//a[@class='read-count'][normalize-space(.)='既読 1']"))
        .await;
    if read.is_err() {
        let since = a.find(Locator::Css("section.timeline")).await.unwrap().attr("data-since").await.unwrap();
        let counts = a.find(Locator::Css("a.read-count")).await.unwrap().text().await.unwrap();
        let chain = app
            .store()
            .audit_chain(&app.store().municipality_by_code("122203").await.unwrap().id)
            .await
            .unwrap();
        let tail: Vec<String> = chain
            .iter()
            .rev()
            .take(8)
            .map(|r| format!("{} {} {}", r.facts.at_ms, r.facts.action, r.facts.actor_login))
            .collect();
        panic!("a sees b's read receipt without a reload: since={since:?} shown={counts} audit={tail:#?}");
    }
    screenshot(b, "room-live", PHONE).await;
    screenshot(a, "room-live", DESKTOP).await;
    for d in [&mut first, &mut second] {
        let _ = d.client.clone().close().await;
        let _ = d.process.kill().await;
    }
}

/// A care manager uploads the golden plan set in Chromium, sees 第2表 and sends it; the
/// home-nursing office (another municipality) opens it in another browser and acknowledges.
#[tokio::test]
async fn a_care_plan_is_uploaded_shown_sent_and_acknowledged_in_real_browsers() {
    let Some(mut first) = start_browser().await else { return };
    let Some(mut second) = start_browser().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (operator, _) = app.operator().await;
    let (_, admin_a, _) = app.municipality_with_admin(&operator, "122203", "admin_a").await;
    let (_, admin_b, _) = app.municipality_with_admin(&operator, "122173", "admin_b").await;
    let cm_office =
        crate::careplan::facility(&admin_a, "さくら居宅介護支援事業所", "care_management", "1234567890")
            .await;
    let ns_office = crate::careplan::facility(&admin_b, "かしわ訪問看護", "home_nursing", "2234567890").await;
    for (driver, admin, office, login) in
        [(&first, &admin_a, &cm_office, "cm01"), (&second, &admin_b, &ns_office, "ns01")]
    {
        let path = format!("/admin/facilities/{office}/users/new");
        let fields = [
            ("login_id", login),
            ("name", "介護 次郎"),
            ("kana", "かいご じろう"),
            ("occupation", "care_manager"),
            ("is_manager", "on"),
            ("careplan", "on"),
        ];
        let issued = admin.submit(&path, &path, &fields).await.expect_status(201);
        let c = &driver.client;
        c.goto(&activation_link(&issued.body)).await.unwrap();
        fill(c, "f-new_password", "Careplan-pass-2026").await;
        fill(c, "f-new_password_confirm", "Careplan-pass-2026").await;
        press_primary(c).await;
        wait_for_path(c, "/login?activated=1").await;
        sign_in_and_enrol(&app, c, login, "Careplan-pass-2026").await;
        wait_for_path(c, "/rooms").await;
    }
    let (cm, ns) = (&first.client, &second.client);
    // The menu leads to the exchange; the file picker takes the four files of the set.
    cm.find(Locator::LinkText("ケアプラン連携")).await.unwrap().click().await.unwrap();
    wait_for_path(cm, "/careplan").await;
    let paths: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../careplan/tests/golden"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("_20261120093000"))
            .map(|p| p.canonicalize().unwrap().to_string_lossy().into_owned())
            .collect();
    assert_eq!(paths.len(), 4);
    cm.find(Locator::Id("f-files")).await.unwrap().send_keys(&paths.join("\n")).await.unwrap();
    press_primary(cm).await;
    let table = cm
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//section[contains(@class, 'needs-form')][h2='居宅サービス計画書(2)（第2表）']",
        ))
        .await
        .expect("第2表 is shown");
    let text = table.text().await.unwrap();
    assert!(text.contains("安全に入浴できる") && text.contains("㈱さくら訪問看護ステーション"), "{text}");
    screenshot(cm, "careplan-set-phone", (390, 844)).await;
    screenshot(cm, "careplan-set-desktop", (1280, 900)).await;
    for (form, name) in
        [("profile-form", "careplan-plan1"), ("needs-form", "careplan-needs"), ("week-form", "careplan-week")]
    {
        for (w, h) in [PHONE, DESKTOP] {
            cm.set_window_size(w, h).await.unwrap();
            let script = format!("document.querySelector('section.{form}').scrollIntoView()");
            cm.execute(&script, vec![]).await.unwrap();
            screenshot(cm, name, (w, h)).await;
        }
    }
    cm.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    let set = path(cm).await;
    press_primary(cm).await; // かしわ訪問看護 に送信する
    wait_for_text(cm, "careplan-state", "受領待ち").await;

    ns.goto(&format!("{}/careplan", app.base)).await.unwrap();
    ns.find(Locator::Css(&format!("a[href='{set}']"))).await.unwrap().click().await.unwrap();
    wait_for_path(ns, &set).await;
    press_primary(ns).await; // 受領を確認する
    wait_for_text(ns, "careplan-state", "介護 次郎 受領").await;
    cm.refresh().await.unwrap();
    wait_for_text(cm, "careplan-state", "介護 次郎 受領").await;

    let _ = first.client.clone().close().await;
    let _ = first.process.kill().await;
    let _ = second.client.clone().close().await;
    let _ = second.process.kill().await;
}

/// A care manager uploads the golden 第6表 set (UPPLAN, UPSIKYU, UPHOSOKU for 2026年12月) and sees
/// サービス利用票 as its month calendar: one column per day of 令和8年12月, the visit (131111,
/// 10:00〜11:00) counted on the 1st and the 4th and its 日割対象日 1–5 marked, the rental (171001,
/// times 9999) on the 1st with a blank 提供時間帯; the file's items stay behind 「項目一覧」.
#[tokio::test]
async fn a_service_usage_plan_is_shown_as_its_month_calendar() {
    let Some(mut driver) = start_browser().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (operator, _) = app.operator().await;
    let (_, admin_a, _) = app.municipality_with_admin(&operator, "122203", "admin_a").await;
    let (_, admin_b, _) = app.municipality_with_admin(&operator, "122173", "admin_b").await;
    let cm_office =
        crate::careplan::facility(&admin_a, "さくら居宅介護支援事業所", "care_management", "1234567890")
            .await;
    crate::careplan::facility(&admin_b, "かしわ訪問看護", "home_nursing", "2234567890").await;
    let path = format!("/admin/facilities/{cm_office}/users/new");
    let fields = [
        ("login_id", "cm01"),
        ("name", "介護 次郎"),
        ("kana", "かいご じろう"),
        ("occupation", "care_manager"),
        ("is_manager", "on"),
        ("careplan", "on"),
    ];
    let issued = admin_a.submit(&path, &path, &fields).await.expect_status(201);
    let c = &driver.client;
    c.goto(&activation_link(&issued.body)).await.unwrap();
    fill(c, "f-new_password", "Careplan-pass-2026").await;
    fill(c, "f-new_password_confirm", "Careplan-pass-2026").await;
    press_primary(c).await;
    wait_for_path(c, "/login?activated=1").await;
    sign_in_and_enrol(&app, c, "cm01", "Careplan-pass-2026").await;
    wait_for_path(c, "/rooms").await;
    c.goto(&format!("{}/careplan", app.base)).await.unwrap();
    let paths: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../careplan/tests/golden"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("_20261120093100"))
            .map(|p| p.canonicalize().unwrap().to_string_lossy().into_owned())
            .collect();
    assert_eq!(paths.len(), 3, "UPPLAN, UPSIKYU and UPHOSOKU of 2026年12月");
    c.find(Locator::Id("f-files")).await.unwrap().send_keys(&paths.join("\n")).await.unwrap();
    press_primary(c).await;
    let form = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("section.usage-form"))
        .await
        .expect("第6表 is shown as a form");
    let heading = form.find(Locator::Css("h3")).await.unwrap().prop("textContent").await.unwrap();
    assert_eq!(heading.as_deref(), Some("令和8年12月分　髙橋 花子 様"));
    let days = form.find_all(Locator::Css("table.usage-calendar thead th.day")).await.unwrap();
    assert_eq!(days.len(), 31, "one column per day of December");
    let first = days[0].prop("textContent").await.unwrap().unwrap_or_default();
    assert_eq!(first, "1火", "2026-12-01 is a Tuesday");
    let rows = form.find_all(Locator::Css("table.usage-calendar tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2, "the visit and the rental, each one row");
    let mut seen = Vec::new();
    for row in &rows {
        let service = row.find(Locator::Css("th")).await.unwrap().prop("textContent").await.unwrap();
        let time = row.find(Locator::Css("td.time")).await.unwrap().prop("textContent").await.unwrap();
        let mut counted = Vec::new();
        let mut prorated = Vec::new();
        for (i, cell) in row.find_all(Locator::Css("td.day")).await.unwrap().iter().enumerate() {
            let text = cell.prop("textContent").await.unwrap().unwrap_or_default();
            if !text.is_empty() {
                counted.push((i + 1, text));
            }
            if cell.attr("class").await.unwrap().unwrap_or_default().contains("prorated") {
                prorated.push(i + 1);
            }
        }
        seen.push((service.unwrap_or_default(), time.unwrap_or_default(), counted, prorated));
    }
    assert_eq!(
        seen,
        [
            (
                "131111".to_string(),
                "10:00〜11:00".to_string(),
                vec![(1, "1".into()), (4, "1".into())],
                vec![1, 2, 3, 4, 5]
            ),
            ("171001歩行器①型".to_string(), String::new(), vec![(1, "1".into())], vec![]),
        ]
    );
    // 第7表: the services, the kind's subtotal and the total, amounts without leading zeros.
    let labels = c.find_all(Locator::Css("table.allowance-table tbody th")).await.unwrap();
    let mut shown = Vec::new();
    for l in &labels {
        shown.push(l.prop("textContent").await.unwrap().unwrap_or_default());
    }
    assert_eq!(shown, ["131111", "種類別小計", "171001 歩行器①型", "合計"]);
    // The raw items are there for checking, folded away.
    let raw = form.find(Locator::Css("details.raw-items")).await.unwrap();
    assert_eq!(raw.attr("open").await.unwrap(), None);
    for (w, h) in [PHONE, DESKTOP] {
        c.set_window_size(w, h).await.unwrap();
        c.execute("document.querySelector('section.usage-form').scrollIntoView()", vec![]).await.unwrap();
        screenshot(c, "careplan-usage-calendar", (w, h)).await;
    }
    let _ = driver.client.clone().close().await;
    let _ = driver.process.kill().await;
}

/// A nurse opens a room's vitals in Chromium: blood pressure as one chart with its legend and
/// bands, legible on a phone (the chart fits the screen and its text is at least 11 px), and
/// the week's view after choosing it without JavaScript. Screenshots at 390 px and 1280 px.
#[tokio::test]
async fn a_nurse_reads_the_vitals_chart_on_a_phone_and_a_desktop() {
    let Some(mut driver) = start_browser().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let t = crate::rooms::team(&app).await;
    let room = &t.room;
    // Four weeks of readings up to yesterday, at 8:00 and 18:00, some outside the reference ranges.
    let jst = 9 * 3_600_000;
    let midnight = (app.state.clock.now_ms() + jst).div_euclid(86_400_000) * 86_400_000 - jst;
    for day in 0..28_i64 {
        for (hour, body) in [(8, "朝"), (18, "夕")] {
            let n = day * 2 + i64::from(hour == 18);
            let systolic = (124 + (n * 7) % 30).to_string();
            let diastolic = (70 + (n * 5) % 24).to_string();
            let pulse = (62 + (n * 11) % 46).to_string();
            let temperature = format!("{:.1}", 36.2 + ((n * 3) % 17) as f64 / 10.0);
            let spo2 = (88 + (n * 3) % 10).to_string();
            let text = format!("{body}{n}");
            crate::rooms::post(
                &t.a,
                room,
                &[
                    ("category", "vitals"),
                    ("body", &text),
                    ("systolic", &systolic),
                    ("diastolic", &diastolic),
                    ("pulse", &pulse),
                    ("temperature", &temperature),
                    ("spo2", &spo2),
                ],
            )
            .await
            .expect_redirect(&format!("/rooms/{room}"));
            let at = midnight - (28 - day) * 86_400_000 + hour * 3_600_000;
            let sql = format!("UPDATE posts SET created_at_ms = {at} WHERE body = '{text}'");
            assert_eq!(app.raw.execute(&sql, &sql).await, 1);
        }
    }
    let path = format!("/admin/facilities/{}/users/new", t.patient_facility);
    let fields =
        [("login_id", "nurse_v"), ("name", "看護 花子"), ("kana", "かんご はなこ"), ("occupation", "nurse")];
    let issued = t.admin.submit(&path, &path, &fields).await.expect_status(201);
    let c = &driver.client;
    c.goto(&activation_link(&issued.body)).await.unwrap();
    fill(c, "f-new_password", "Member-pass-2026").await;
    fill(c, "f-new_password_confirm", "Member-pass-2026").await;
    press_primary(c).await;
    wait_for_path(c, "/login?activated=1").await;
    sign_in_and_enrol(&app, c, "nurse_v", "Member-pass-2026").await;
    wait_for_path(c, "/rooms").await;
    let identity = app.store().identity_by_login("nurse_v").await.unwrap().unwrap();
    let account = app.store().accounts_of_identity(&identity.id).await.unwrap().remove(0);
    let room_admin = format!("/admin/rooms/{room}");
    t.admin
        .submit(&room_admin, &format!("{room_admin}/members"), &[("account_id", &account.id)])
        .await
        .expect_redirect(&room_admin);

    c.goto(&format!("{}/rooms/{room}/vitals", app.base)).await.unwrap();
    let captions = c.find_all(Locator::Css("figure.chart figcaption strong")).await.unwrap();
    let mut titles = Vec::new();
    for cap in captions {
        titles.push(cap.text().await.unwrap());
    }
    assert_eq!(titles, ["血圧", "脈拍", "体温", "SpO2"]);
    for (w, h) in [PHONE, DESKTOP] {
        c.set_window_size(w, h).await.unwrap();
        let sizes = c
            .execute(
                "const svg = document.querySelector('figure.chart svg'); const s = svg.getBoundingClientRect(); \
                 const t = svg.querySelector('text:not(.band-label)'); \
                 const px = parseFloat(getComputedStyle(t).fontSize) * s.width / svg.viewBox.baseVal.width; \
                 return [s.right, px, document.documentElement.scrollWidth];",
                vec![],
            )
            .await
            .unwrap();
        let sizes: Vec<f64> = sizes.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(sizes[0] <= f64::from(w), "the chart fits a {w} px screen: {sizes:?}");
        assert!(sizes[1] >= 11.0, "the chart's text stays legible at {w} px: {sizes:?}");
        assert!(sizes[2] <= f64::from(w), "the page does not scroll sideways at {w} px: {sizes:?}");
    }
    screenshot(c, "vitals-month", PHONE).await;
    screenshot(c, "vitals-month", DESKTOP).await;
    c.find(Locator::LinkText("1週間")).await.unwrap().click().await.unwrap();
    wait_for_path(c, &format!("/rooms/{room}/vitals?period=week")).await;
    screenshot(c, "vitals-week", PHONE).await;
    screenshot(c, "vitals-week", DESKTOP).await;
    // The table's dates stay on one line on a phone (the table scrolls sideways in its box).
    c.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    let heights = c
        .execute(
            "const td = document.querySelector('table.vitals td.when'); td.scrollIntoView(); \
             return [td.getBoundingClientRect().height, parseFloat(getComputedStyle(td).lineHeight)];",
            vec![],
        )
        .await
        .unwrap();
    let heights: Vec<f64> = heights.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(heights[0] < heights[1] * 2.0, "a date in the table is one line: {heights:?}");
    screenshot(c, "vitals-table", PHONE).await;
    // The room list: the room with its latest post's time and first line.
    c.goto(&format!("{}/rooms", app.base)).await.unwrap();
    let latest = c.find(Locator::Css("ul.rooms .room-latest")).await.unwrap().text().await.unwrap();
    assert!(latest.contains("夕55"), "the latest post previewed: {latest}");
    screenshot(c, "room-list", PHONE).await;
    screenshot(c, "room-list", DESKTOP).await;
    let _ = driver.client.clone().close().await;
    let _ = driver.process.kill().await;
}
