//! What an outside review broke on the operations side: headers and addresses the public may
//! see, limits on connections and live-update streams, shutdown, and recovery of the database
//! after a full disk or a PostgreSQL outage.

use std::io::{Read as _, Write as _};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::both;
use crate::helpers::*;
use crate::rooms::{events, next_event, post, team};

both!(
    a_back_address_with_a_line_break_is_refused_before_anything_is_saved,
    a_session_keeps_at_most_four_live_streams_open,
    open_streams_end_when_the_server_shuts_down,
);

async fn a_back_address_with_a_line_break_is_refused_before_anything_is_saved(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let c = app.store().identity_by_login("member_c").await.unwrap().unwrap();
    let c_account = app.store().accounts_of_identity(&c.id).await.unwrap().remove(0).id;
    let path = format!("/rooms/{room}");
    t.a.submit(&path, &format!("{path}/requests"), &[("kind", "add_member"), ("account_id", &c_account)])
        .await
        .expect_redirect(&format!("{path}?done=requested"));
    let queue = t.admin.get("/admin/requests").await.expect_status(200);
    let id = between(&queue.body, "action=\"/admin/requests/", "\"").to_string();
    for back in ["/admin/requests\r\nSet-Cookie: session=forged", "/admin/requests\nX: y", "/admin/\rx"] {
        let refused = t
            .admin
            .submit(
                "/admin/requests",
                &format!("/admin/requests/{id}"),
                &[("decision", "approve"), ("back", back)],
            )
            .await
            .expect_status(400);
        assert!(refused.body.contains("戻り先"), "{}", refused.body);
        assert!(!format!("{:?}", refused.headers).contains("forged"));
    }
    // Nothing was decided: the request is still waiting and c is still outside the room.
    assert!(t.admin.get("/admin/requests").await.body.contains(&id), "the request is still pending");
    assert_eq!(
        app.store()
            .authorize_room(&crate::helpers::id(&c_account), &crate::helpers::id(room))
            .await
            .unwrap()
            .map(|_| ()),
        None,
        "c was not added"
    );
    // A proper local address still works.
    t.admin
        .submit(
            "/admin/requests",
            &format!("/admin/requests/{id}"),
            &[("decision", "approve"), ("back", "/admin/requests")],
        )
        .await
        .expect_redirect("/admin/requests");
}

async fn a_session_keeps_at_most_four_live_streams_open(app: TestApp) {
    let t = team(&app).await;
    let room = &t.room;
    let mut open = vec![];
    for _ in 0..4 {
        let stream = events(&t.a, room).await;
        assert_eq!(stream.status(), 200);
        open.push(stream);
    }
    let fifth = events(&t.a, room).await;
    assert_eq!(fifth.status(), 429, "a fifth stream of one session is refused");
    let body = fifth.text().await.unwrap();
    assert!(body.contains("ライブ更新"), "{body}");
    // Another member's session has its own allowance.
    let mut b_stream = events(&t.b, room).await;
    assert_eq!(b_stream.status(), 200);
    // The open streams still work.
    post(&t.b, room, &[("category", "visit"), ("body", "上限のテスト")]).await;
    assert!(next_event(&mut open[0]).await.is_some());
    assert!(next_event(&mut b_stream).await.is_some());
    // Closing a stream frees its place (the server notices the closed connection).
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let again = events(&t.a, room).await;
        if again.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the closed stream's place was never freed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn open_streams_end_when_the_server_shuts_down(mut app: TestApp) {
    let t = team(&app).await;
    let mut stream = events(&t.a, &t.room).await;
    assert_eq!(stream.status(), 200);
    app.shutdown.take().unwrap().send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream ends when the server shuts down");
    let server = app.server.take().unwrap();
    assert!(tokio::time::timeout(Duration::from_secs(5), server).await.is_ok(), "the server stops");
}

#[tokio::test]
async fn strict_transport_security_is_sent_only_behind_https() {
    let https = TestApp::spawn_with(Backend::Sqlite, Some("https://renraku.example.jp")).await.unwrap();
    let page = https.browser().get("/login").await.expect_status(200);
    let hsts = page.headers.get("strict-transport-security").expect("HSTS behind https");
    assert!(hsts.to_str().unwrap().starts_with("max-age=31536000"), "{hsts:?}");
    let health = https.browser().get("/healthz").await;
    assert!(health.headers.contains_key("strict-transport-security"), "on every answer");
    let plain = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let page = plain.browser().get("/login").await.expect_status(200);
    assert!(!page.headers.contains_key("strict-transport-security"), "never over plain http");
}

#[tokio::test]
async fn metrics_are_not_on_the_public_address() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let b = app.browser();
    b.get("/login").await.expect_status(200);
    b.get("/metrics").await.expect_status(404);
}

/// Reads from `stream` until the server closes it; returns how long that took, or None if it
/// stayed open for `limit`.
fn closed_within(stream: &mut std::net::TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(250))).unwrap();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_idle_connections_are_closed() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let addr = app.base.trim_start_matches("http://").to_string();
    let limit = Duration::from_secs(20);
    let (slow, idle) = tokio::task::spawn_blocking(move || {
        // A request head that never ends (slowloris).
        let mut slow = std::net::TcpStream::connect(&addr).unwrap();
        slow.write_all(b"GET /login HTTP/1.1\r\nHost: renraku\r\nX-Slow: ").unwrap();
        let slow = closed_within(&mut slow, limit);
        // A kept-alive connection that sends nothing after its first request.
        let mut idle = std::net::TcpStream::connect(&addr).unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: renraku\r\n\r\n").unwrap();
        let idle = closed_within(&mut idle, limit);
        (slow, idle)
    })
    .await
    .unwrap();
    let slow = slow.expect("a request head that never ends is cut off");
    assert!(slow >= Duration::from_secs(5), "not before the timeout: {slow:?}");
    assert!(idle.is_some(), "an idle connection is closed");
}

/// Runs a command as root or as the given user, returning whether it succeeded.
fn run(cmd: &mut Command) -> bool {
    cmd.status().is_ok_and(|s| s.success())
}

/// A small file system (tmpfs) mounted for one test, unmounted afterwards.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let options = format!("size={size}");
        if run(Command::new("mount").args(["-t", "tmpfs", "-o", &options, "tmpfs"]).arg(dir.path())) {
            return Some(SmallDisk { dir });
        }
        let required =
            std::env::var_os("CI").is_some() || std::env::var_os("RENRAKU_REQUIRE_TMPFS").is_some();
        assert!(!required, "cannot mount a tmpfs (CI or RENRAKU_REQUIRE_TMPFS is set)");
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (not root?); set RENRAKU_REQUIRE_TMPFS=1 to fail instead"
        );
        None
    }

    /// Writes a file until the file system is full.
    fn fill(&self) {
        let mut file = std::fs::File::create(self.dir.path().join("filler")).unwrap();
        for size in [1 << 16, 512, 1] {
            let chunk = vec![0u8; size];
            while file.write_all(&chunk).is_ok() {}
        }
        let _ = file.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.dir.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_work_again_once_a_full_disk_has_room() {
    let Some(disk) = SmallDisk::mount("16M") else { return };
    let app = TestApp::spawn_sqlite_in(disk.dir.path()).await;
    let t = team(&app).await;
    let room = t.room.clone();
    let Raw::Sqlite(raw) = &app.raw else { unreachable!() };
    let healthz = || async { app.browser().get("/healthz").await };
    assert!(healthz().await.expect_status(200).body.contains("writer: ok"));
    // The form is open before the disk fills up (showing a room is a write too: receipts, audit).
    let form = t.a.get(&format!("/rooms/{room}")).await.expect_status(200);
    // Empty the write-ahead log so that the next write needs new space, then fill the disk.
    raw.checkpoint().await.unwrap();
    disk.fill();
    let failed = t
        .a
        .send(&form, &format!("/rooms/{room}/posts"), &[("category", "visit"), ("body", "ディスクが一杯")])
        .await;
    assert_eq!(failed.status, 500, "the write fails while the disk is full: {}", failed.body);
    disk.free();
    post(&t.a, &room, &[("category", "visit"), ("body", "空きができた後")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let page = t.b.get(&format!("/rooms/{room}")).await.expect_status(200);
    assert!(page.body.contains("空きができた後") && !page.body.contains("ディスクが一杯"));
    // /healthz says whether the writer can write (a success is trusted for the probe interval).
    tokio::time::sleep(renraku_web::WriterProbe::INTERVAL).await;
    raw.checkpoint().await.unwrap();
    disk.fill();
    let full = healthz().await.expect_status(503);
    assert!(full.body.contains("writer: failing"), "{}", full.body);
    disk.free();
    let ok = healthz().await.expect_status(200);
    assert!(ok.body.contains("writer: ok"), "{}", ok.body);
    post(&t.a, &room, &[("category", "visit"), ("body", "回復後")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    drop(t);
    drop(app);
}

/// A PostgreSQL server of the test's own, which it may stop and start.
struct PrivatePostgres {
    bin: std::path::PathBuf,
    data: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    fn start() -> Option<PrivatePostgres> {
        let required = std::env::var("RENRAKU_TEST_PG").is_ok_and(|v| v == "required");
        let bin = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|dirs| {
            dirs.filter_map(Result::ok)
                .map(|d| d.path().join("bin"))
                .filter(|b| b.join("initdb").exists())
                .max()
        });
        let Some(bin) = bin else {
            assert!(!required, "RENRAKU_TEST_PG=required but no PostgreSQL binaries in /usr/lib/postgresql");
            eprintln!("SKIPPED: no PostgreSQL binaries in /usr/lib/postgresql");
            return None;
        };
        let data = tempfile::tempdir().unwrap();
        // PostgreSQL refuses to run as root.
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if root {
            assert!(run(Command::new("chown").args(["-R", "postgres"]).arg(data.path())), "chown");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = PrivatePostgres { bin, data, port, as_postgres: root };
        let pgdata = pg.data.path().join("pgdata");
        assert!(
            pg.run("initdb", &["-A", "trust", "-U", "postgres", "-D", pgdata.to_str().unwrap()]),
            "initdb"
        );
        assert!(pg.ctl("start"), "pg_ctl start");
        Some(pg)
    }

    fn run(&self, program: &str, args: &[&str]) -> bool {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        run(cmd.args(args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()))
    }

    fn ctl(&self, action: &str) -> bool {
        let pgdata = self.data.path().join("pgdata");
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.data.path().display());
        let log = self.data.path().join("log");
        let mut args =
            vec!["-D", pgdata.to_str().unwrap(), "-w", "-l", log.to_str().unwrap(), "-o", &options];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        args.push(action);
        self.run("pg_ctl", &args)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.ctl("stop");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn live_updates_come_back_after_a_long_postgresql_outage() {
    let Some(pg) = PrivatePostgres::start() else { return };
    let app = TestApp::spawn_postgres_at(&pg.url()).await;
    let t = team(&app).await;
    let room = t.room.clone();
    let mut stream = events(&t.b, &room).await;
    assert_eq!(stream.status(), 200);
    post(&t.a, &room, &[("category", "visit"), ("body", "停止前")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    assert!(next_event(&mut stream).await.is_some(), "live updates work before the outage");
    assert!(pg.ctl("stop"), "pg_ctl stop");
    // Longer than the 30 s after which the listener used to give up for good.
    tokio::time::sleep(Duration::from_secs(40)).await;
    assert!(pg.ctl("start"), "pg_ctl start");
    // A page that connects after the outage catches up with since=.
    let before = app.state.clock.now_ms();
    post(&t.a, &room, &[("category", "visit"), ("body", "再開後")])
        .await
        .expect_redirect(&format!("/rooms/{room}"));
    let mut late =
        t.b.client.get(format!("{}/rooms/{room}/events?since={before}", app.base)).send().await.unwrap();
    assert!(next_event(&mut late).await.is_some(), "a page that connected late catches up");
    // The stream opened before the outage hears about changes made after it, through NOTIFY.
    let mut heard = false;
    for _ in 0..6 {
        post(&t.a, &room, &[("category", "visit"), ("body", "通知")])
            .await
            .expect_redirect(&format!("/rooms/{room}"));
        if next_event(&mut stream).await.is_some() {
            heard = true;
            break;
        }
    }
    assert!(heard, "the stream opened before the outage hears the post");
    drop(t);
    drop(app);
}

both!(a_flood_of_health_checks_writes_to_the_database_at_most_once_per_interval);

/// `/healthz` is public: its write probe must not let anyone queue writes ahead of real posts.
async fn a_flood_of_health_checks_writes_to_the_database_at_most_once_per_interval(app: TestApp) {
    // Every probe write leaves a row in probe_log.
    app.raw
        .execute(
            "CREATE TABLE probe_log (n INTEGER); \
             CREATE TRIGGER probe_inserted AFTER INSERT ON health_probe BEGIN INSERT INTO probe_log VALUES (1); END; \
             CREATE TRIGGER probe_updated AFTER UPDATE ON health_probe BEGIN INSERT INTO probe_log VALUES (1); END;",
            "CREATE TABLE probe_log (n INTEGER); \
             CREATE FUNCTION log_probe() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN INSERT INTO probe_log VALUES (1); RETURN NEW; END $$; \
             CREATE TRIGGER probe_log AFTER INSERT OR UPDATE ON health_probe \
             FOR EACH ROW EXECUTE FUNCTION log_probe();",
        )
        .await;
    let browser = app.browser();
    // 25 at once, then 25 one after another.
    let mut parallel = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let b = app.browser();
        parallel.spawn(async move { b.get("/healthz").await });
    }
    while let Some(page) = parallel.join_next().await {
        assert!(page.unwrap().expect_status(200).body.contains("writer: ok"));
    }
    for _ in 0..25 {
        assert!(browser.get("/healthz").await.expect_status(200).body.contains("writer: ok"));
    }
    let probes = app.raw.execute("DELETE FROM probe_log", "DELETE FROM probe_log").await;
    assert!((1..=2).contains(&probes), "50 health checks wrote {probes} times");
}
