//! The test harness: the real server on a random port, over a fresh SQLite file or a fresh
//! PostgreSQL schema, driven over HTTP like a browser (cookies, forms with their CSRF token,
//! no automatic redirects so each step can be checked).

use std::sync::Arc;

use renraku_attachments::blobs::BlobStore;
use renraku_domain::audit::AuditSealer;
use renraku_store::Store;
use renraku_store_postgres::PostgresStore;
use renraku_store_sqlite::SqliteStore;
use renraku_web::{App, AppParts, AppState, Clock, Secrets, WebConfig};

pub const MASTER_SECRET: &[u8] = b"integration-tests-master-secret-0123456789";

/// Direct access to the database, bypassing the application: what an attacker with the
/// database file or credentials could do.
pub enum Raw {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PostgresStore>),
}

impl Raw {
    pub async fn execute(&self, sqlite: &str, postgres: &str) -> u64 {
        match self {
            Raw::Sqlite(s) => s.execute_raw(sqlite).await.expect("raw sqlite"),
            Raw::Postgres(s) => s.execute_raw(postgres).await.expect("raw postgres"),
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub raw: Raw,
    /// Asks the server to shut down as SIGTERM would; `server` finishes when it has.
    pub shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
    _files: Option<tempfile::TempDir>,
    _anchors: Option<tempfile::TempDir>,
}

/// Serves `app` on `listener` the way `renraku serve` does, until the returned sender fires.
fn serve(
    listener: tokio::net::TcpListener,
    app: App,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        // The job queue's worker runs beside the server, as in `renraku serve`.
        let jobs = renraku_web::jobs::spawn(app.state.clone());
        let _ = renraku_web::serve_until(listener, &app, async move {
            let _ = rx.await;
        })
        .await;
        jobs.stop().await;
    });
    (tx, server)
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl TestApp {
    /// Starts the server, or returns `None` when PostgreSQL is not available and not required.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, None).await
    }

    /// As [`TestApp::spawn`], with the public address users would type (e.g. behind a TLS
    /// proxy) instead of the server's own.
    pub async fn spawn_with(backend: Backend, public_base_url: Option<&str>) -> Option<TestApp> {
        Self::spawn_full(backend, public_base_url, None).await
    }

    /// As [`TestApp::spawn`], keeping attachments in `blobs` (e.g. an S3 bucket) instead of a
    /// temporary directory.
    pub async fn spawn_with_blobs(backend: Backend, blobs: Arc<dyn BlobStore>) -> Option<TestApp> {
        Self::spawn_full(backend, None, Some(blobs)).await
    }

    /// A server on SQLite with its database in `dir` (e.g. a small file system).
    pub async fn spawn_sqlite_in(dir: &std::path::Path) -> TestApp {
        renraku_attachments::blobs::install_crypto_provider();
        let sealer = AuditSealer::new(&Secrets::derive(MASTER_SECRET).audit_key);
        let s = Arc::new(SqliteStore::open(&dir.join("renraku.db"), sealer).await.expect("sqlite"));
        Self::spawn_on(s.clone(), Raw::Sqlite(s), None, None, None).await
    }

    /// A server on the PostgreSQL database at `url` (e.g. a private server the test stops).
    pub async fn spawn_postgres_at(url: &str) -> TestApp {
        renraku_attachments::blobs::install_crypto_provider();
        let sealer = AuditSealer::new(&Secrets::derive(MASTER_SECRET).audit_key);
        let s = Arc::new(PostgresStore::connect(url, sealer).await.expect("postgres"));
        Self::spawn_on(s.clone(), Raw::Postgres(s), None, None, None).await
    }

    async fn spawn_full(
        backend: Backend,
        public_base_url: Option<&str>,
        blobs: Option<Arc<dyn BlobStore>>,
    ) -> Option<TestApp> {
        Self::spawn_full_wrapped(backend, public_base_url, blobs, |s| s).await
    }

    async fn spawn_full_wrapped(
        backend: Backend,
        public_base_url: Option<&str>,
        blobs: Option<Arc<dyn BlobStore>>,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> Option<TestApp> {
        renraku_attachments::blobs::install_crypto_provider();
        let secrets = Secrets::derive(MASTER_SECRET);
        let sealer = AuditSealer::new(&secrets.audit_key);
        let (store, raw, dir): (Arc<dyn Store>, Raw, _) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let s = Arc::new(
                    SqliteStore::open(&dir.path().join("renraku.db"), sealer).await.expect("sqlite"),
                );
                (s.clone(), Raw::Sqlite(s), Some(dir))
            }
            Backend::Postgres => {
                let (store, ()) = renraku_store_postgres::testing::open_isolated(&secrets.audit_key).await;
                let s = Arc::new(store?);
                (s.clone(), Raw::Postgres(s), None)
            }
        };
        Some(Self::spawn_on(wrap(store), raw, dir, public_base_url, blobs).await)
    }

    async fn spawn_on(
        store: Arc<dyn Store>,
        raw: Raw,
        dir: Option<tempfile::TempDir>,
        public_base_url: Option<&str>,
        blobs: Option<Arc<dyn BlobStore>>,
    ) -> TestApp {
        let secrets = Secrets::derive(MASTER_SECRET);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let files_dir = tempfile::tempdir().expect("files dir");
        let anchors_dir = tempfile::tempdir().expect("anchors dir");
        let blobs = match blobs {
            Some(blobs) => blobs,
            None => Arc::new(
                renraku_attachments::blobs::EncryptedDir::new(
                    files_dir.path().to_path_buf(),
                    &secrets.files_key,
                )
                .expect("blob dir"),
            ),
        };
        let config = WebConfig {
            public_base_url: public_base_url.unwrap_or(&base).parse().expect("url"),
            trust_forwarded_for: false,
            audit_anchor_path: anchors_dir.path().join("audit-anchors.log"),
        };
        // Built as `renraku serve` builds it. The server's periodic work (`App::spawn_background`:
        // audit checkpoints, the orphan sweep) is not started: the tests that need it run it
        // themselves, at the moment they choose.
        let app = App::build(AppParts { store, blobs, config, secrets, clock: Clock::default() })
            .await
            .expect("app");
        let state = app.state.clone();
        let (shutdown, server) = serve(listener, app);
        TestApp {
            base,
            state,
            raw,
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: dir,
            _files: Some(files_dir),
            _anchors: Some(anchors_dir),
        }
    }

    /// A second app instance on the same PostgreSQL database (None on SQLite, which has one).
    pub async fn second_instance(&self) -> Option<TestApp> {
        self.second_instance_with_blobs(self.state.blobs.clone()).await
    }

    /// As [`TestApp::second_instance`], with its own attachment store (its own S3 client).
    pub async fn second_instance_with_blobs(&self, blobs: Arc<dyn BlobStore>) -> Option<TestApp> {
        let Raw::Postgres(first) = &self.raw else { return None };
        let secrets = Secrets::derive(MASTER_SECRET);
        let url = renraku_store_postgres::testing::url();
        let store =
            PostgresStore::connect_in_schema(&url, first.schema(), AuditSealer::new(&secrets.audit_key))
                .await
                .expect("second instance");
        let s = Arc::new(store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let config = WebConfig {
            public_base_url: base.parse().expect("url"),
            trust_forwarded_for: false,
            audit_anchor_path: self.state.config.audit_anchor_path.clone(),
        };
        let clock = self.state.clock.clone();
        let app =
            App::build(AppParts { store: s.clone(), blobs, config, secrets, clock }).await.expect("app");
        let state = app.state.clone();
        let (shutdown, server) = serve(listener, app);
        Some(TestApp {
            base,
            state,
            raw: Raw::Postgres(s),
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: None,
            _files: None,
            _anchors: None,
        })
    }

    pub fn browser(&self) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("renraku-tests")
            .build()
            .expect("client");
        Browser { client, base: self.base.clone() }
    }

    /// The files under this instance's attachment folder (empty when files go elsewhere).
    pub fn stored_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = vec![];
        if let Some(dir) = &self._files {
            walk(dir.path(), &mut out);
        }
        out
    }

    pub fn store(&self) -> &dyn Store {
        self.state.store.as_ref()
    }

    /// The current TOTP code for a secret as the enrolment page shows it, one step after the
    /// last one used (a code is accepted only once, so each sign-in moves the clock on 30 s).
    pub fn next_code(&self, secret_text: &str) -> String {
        self.state.clock.advance_ms(30_000);
        totp_at(secret_text, self.state.clock.now_ms())
    }

    /// Follows a setup link and creates the operator; returns the operator's signed-in browser
    /// and TOTP secret.
    pub async fn operator(&self) -> (Browser, String) {
        let link = renraku_web::issue_setup_link(&self.state).await.expect("link").expect("no operator yet");
        let path = link.strip_prefix(&self.base).expect("link on this server").to_string();
        let b = self.browser();
        b.get(&path).await.expect_status(200);
        b.submit(
            &path,
            &path,
            &[
                ("login_id", "operator"),
                ("name", "運用 太郎"),
                ("kana", "うんよう たろう"),
                ("new_password", "Kanri-pass-2026"),
                ("new_password_confirm", "Kanri-pass-2026"),
            ],
        )
        .await
        .expect_redirect("/login?activated=1");
        let secret = self.sign_in_first_time(&b, "operator", "Kanri-pass-2026").await;
        (b, secret)
    }

    /// Signs the existing operator in again in a fresh browser.
    pub async fn operator_again(&self) -> (Browser, String) {
        let b = self.browser();
        let identity = self.store().identity_by_login("operator").await.unwrap().expect("operator exists");
        // The tests know the operator's secret only through the enrolment page, so reset the
        // second factor and enrol anew (as an operator who lost their phone would).
        let audit = renraku_store::AuditDraft {
            at_ms: self.state.clock.now_ms(),
            ..renraku_store::AuditDraft::new(renraku_domain::audit_action::AuditAction::UserResetSecondFactor)
        };
        self.store().set_second_factor(&identity.id, None, &[], &audit).await.unwrap();
        let secret = self.sign_in_first_time(&b, "operator", "Kanri-pass-2026").await;
        (b, secret)
    }

    /// Signs in for the first time: password, then TOTP enrolment. Returns the TOTP secret.
    pub async fn sign_in_first_time(&self, b: &Browser, login: &str, password: &str) -> String {
        b.submit("/login", "/login", &[("login_id", login), ("password", password)])
            .await
            .expect_redirect("/totp/enrol");
        let enrol = b.get("/totp/enrol").await.expect_status(200);
        let secret = between(&enrol.body, "<code id=\"totp-secret\">", "</code>").to_string();
        let code = self.next_code(&secret);
        let pending = between(&enrol.body, "name=\"pending\" value=\"", "\"").to_string();
        let done =
            b.send(&enrol, "/totp/enrol", &[("pending", &pending), ("code", &code)]).await.expect_status(200);
        assert!(done.body.contains("リカバリーコード"), "{}", done.body);
        secret
    }

    /// Signs in an enrolled person: password, then a fresh TOTP code.
    pub async fn sign_in(&self, b: &Browser, login: &str, password: &str, secret: &str) {
        b.submit("/login", "/login", &[("login_id", login), ("password", password)])
            .await
            .expect_redirect("/login/totp");
        let code = self.next_code(secret);
        b.submit("/login/totp", "/login/totp", &[("code", &code)]).await.expect_redirect("/");
    }

    /// Operator creates a municipality and its admin; the admin activates, enrols and signs
    /// in. Returns (municipality id, admin's browser, admin's TOTP secret).
    pub async fn municipality_with_admin(
        &self,
        operator: &Browser,
        code: &str,
        admin_login: &str,
    ) -> (String, Browser, String) {
        let created = operator
            .submit(
                "/operator/municipalities/new",
                "/operator/municipalities/new",
                &[("code", code), ("name", "流山市")],
            )
            .await;
        let location = created.location().expect("redirect to the municipality").to_string();
        let id = location.rsplit('/').next().expect("id").to_string();
        let issued = operator
            .submit(
                &location,
                &format!("{location}/admins"),
                &[("login_id", admin_login), ("name", "介護 花子"), ("kana", "かいご はなこ"), ("email", "")],
            )
            .await
            .expect_status(201);
        let link = activation_link(&issued.body);
        let admin = self.browser();
        self.activate(&admin, &link, "Admin-pass-2026").await;
        let secret = self.sign_in_first_time(&admin, admin_login, "Admin-pass-2026").await;
        (id, admin, secret)
    }

    pub async fn activate(&self, b: &Browser, link: &str, password: &str) {
        let path = link.strip_prefix(&self.base).expect("link on this server").to_string();
        b.get(&path).await.expect_status(200);
        b.submit(&path, &path, &[("new_password", password), ("new_password_confirm", password)])
            .await
            .expect_redirect("/login?activated=1");
    }
}

/// The typed id in `text` (a path or link the test read back), for asking the store.
pub fn id<T: renraku_store::Id>(text: &str) -> T {
    T::parse(text).unwrap_or_else(|| panic!("not a well-formed id: {text:?}"))
}

pub fn totp_at(secret_text: &str, now_ms: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_text.replace(' ', "")).expect("base32 secret");
    let t = totp_rs::Builder::new().with_secret(secret).build().expect("totp");
    t.generate((now_ms / 1000) as u64).to_string()
}

/// The activation link shown once on the "link issued" page.
/// Where a signed-out browser asking for `path` (GET) is sent: the sign-in page, with the way back.
pub fn login_for(path: &str) -> String {
    if path == "/" {
        return "/login".into();
    }
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", path).finish();
    format!("/login?{query}")
}

pub fn activation_link(body: &str) -> String {
    between(body, "<code id=\"activation-link\">", "</code>").to_string()
}

pub fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body.find(start).unwrap_or_else(|| panic!("{start} not in page:\n{body}")) + start.len();
    let len = body[from..].find(end).expect("end marker");
    &body[from..from + len]
}

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: u16,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn expect_status(self, status: u16) -> Page {
        assert_eq!(self.status, status, "unexpected status; page:\n{}", self.body);
        self
    }

    #[track_caller]
    pub fn expect_redirect_prefix(self, prefix: &str) -> Page {
        assert!(
            self.location().is_some_and(|l| l.starts_with(prefix)),
            "expected a redirect to {prefix}…, got {} {:?}: {}",
            self.status,
            self.location(),
            self.body
        );
        self
    }

    pub fn expect_redirect(self, to: &str) -> Page {
        assert!(
            (300..400).contains(&self.status),
            "expected a redirect to {to}, got {}:\n{}",
            self.status,
            self.body
        );
        assert_eq!(self.location(), Some(to));
        self
    }

    /// The value of the form field `name` as the page shows it.
    pub fn field_value(&self, name: &str) -> &str {
        between(&self.body, &format!("name=\"{name}\" type=\""), ">")
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or("")
    }

    pub fn csrf(&self) -> String {
        between(&self.body, "name=\"_csrf\" value=\"", "\"").to_string()
    }
}

impl Browser {
    pub async fn get(&self, path: &str) -> Page {
        let r = self.client.get(format!("{}{path}", self.base)).send().await.expect("GET");
        Self::page(r).await
    }

    /// GET as `static/app.js` does when a live update refreshes an open room page.
    pub async fn get_refresh(&self, path: &str) -> Page {
        let r = self.client.get(format!("{}{path}", self.base)).header("X-Renraku-Refresh", "1").send().await;
        Self::page(r.expect("GET")).await
    }

    /// Posts raw fields with no CSRF handling.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>, content_type: &str) -> Page {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        Self::page(r).await
    }

    /// Opens `page` to get its CSRF token, then posts `fields` to `action` as the form would.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(page).await.csrf();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", &token)];
        all.extend_from_slice(fields);
        let r = self.client.post(format!("{}{action}", self.base)).form(&all).send().await.expect("POST");
        Self::page(r).await
    }

    /// Posts `fields` to `action` with the CSRF token of a page already loaded.
    pub async fn send(&self, page: &Page, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = page.csrf();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", &token)];
        all.extend_from_slice(fields);
        let r = self.client.post(format!("{}{action}", self.base)).form(&all).send().await.expect("POST");
        Self::page(r).await
    }

    /// Opens `page` to get its CSRF token, then posts `fields` and `files` (each under the
    /// name `files`) to `action` as multipart, the token in the action's URL as the form has it.
    pub async fn upload(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        files: Vec<(impl Into<String>, Vec<u8>)>,
    ) -> Page {
        let token = self.get(page).await.csrf();
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        for (name, bytes) in files {
            form = form.part("files", reqwest::multipart::Part::bytes(bytes).file_name(name.into()));
        }
        let url = format!("{}{action}?_csrf={token}", self.base);
        let r = self.client.post(url).multipart(form).send().await.expect("POST");
        Self::page(r).await
    }

    async fn page(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.expect("body");
        Page { status, body, headers }
    }
}

/// Runs a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
                super::$name(app).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(app) = TestApp::spawn(Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}
