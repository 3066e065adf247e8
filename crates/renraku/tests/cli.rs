//! The `renraku` binary as an operator uses it: first start, and the admin commands, on SQLite
//! and (when available) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use renraku_domain::audit::AuditSealer;

fn renraku(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renraku"));
    cmd.args(args).env_remove("RENRAKU_DATABASE_URL").env("RENRAKU_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run renraku")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_first_start_creates_the_database_and_prints_a_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_renraku"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "--listen", &listen, "--public-base-url", &base])
        .env("RENRAKU_LOG", "warn")
        .env_remove("RENRAKU_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let link = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix(&format!("{base}/setup/")).map(|t| format!("{base}/setup/{t}")))
        .expect("a setup link on stdout");
    renraku_attachments::blobs::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (health, setup, bogus) = rt.block_on(async {
        let get = |u: String| async move { reqwest::get(u).await.unwrap() };
        let health = get(format!("{base}/healthz")).await.text().await.unwrap();
        (health, get(link.clone()).await.status(), get(format!("{base}/setup/forged")).await.status())
    });
    // The running server anchors the audit trail outside the database by itself.
    let anchors = dir.path().join("audit-anchors.log");
    for _ in 0..100 {
        if std::fs::read_to_string(&anchors).is_ok_and(|t| t.contains("chain=operator seq=")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let anchored = std::fs::read_to_string(&anchors).unwrap_or_default();
    assert!(anchored.contains("chain=operator seq=") && anchored.contains(" chains=1 "), "{anchored}");
    assert_eq!(health, "ok sqlite\nwriter: ok\n");
    assert_eq!(setup, 200);
    assert_eq!(bogus, 410);
    for file in ["renraku.db", "renraku.db-wal", "secret.key"] {
        assert!(dir.path().join(file).exists(), "{file} (WAL mode, secret kept outside the database)");
    }
    std::thread::sleep(Duration::from_millis(50));
}

/// Runs the operator's commands against one database (given by the extra arguments).
fn operator_story(db: &[&str], tamper: impl FnOnce(&str)) {
    let with = |args: &[&str]| -> Vec<String> { db.iter().chain(args).map(|s| s.to_string()).collect() };
    let run = |args: &[&str]| {
        let all = with(args);
        renraku(&all.iter().map(String::as_str).collect::<Vec<_>>(), &[])
    };
    let created = run(&["municipality", "create", "--code", "１２２２０３", "--name", "流山市"]);
    assert!(created.status.success(), "{created:?}");
    assert!(stdout(&created).contains("created 122203 流山市"));
    let again = run(&["municipality", "create", "--code", "122203", "--name", "流山市"]);
    assert!(!again.status.success());
    let bad = run(&["municipality", "create", "--code", "12", "--name", "流山市"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("6桁"), "{bad:?}");
    let admin = run(&[
        "admin",
        "create",
        "--municipality",
        "122203",
        "--login-id",
        "admin01",
        "--name",
        "介護 花子",
        "--kana",
        "かいご はなこ",
    ]);
    assert!(admin.status.success(), "{admin:?}");
    assert!(stdout(&admin).contains("/activate/"), "an activation link, never a password");
    let facility_args =
        |care_no: &str| common::facility_args("122203", "さくら訪問看護ステーション", care_no);
    let refused = run(&facility_args("12345").iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("--care-provider-no: 10桁の数字で入力してください。"),
        "{refused:?}"
    );
    let facility = run(&facility_args("1234567890").iter().map(String::as_str).collect::<Vec<_>>());
    assert!(facility.status.success(), "{facility:?}");
    let list = stdout(&run(&["facility", "list", "--municipality", "122203"]));
    let facility_id = list.split('\t').next().unwrap().to_string();
    assert!(list.contains("managers=0"), "{list}");
    let user = run(&[
        "user",
        "create",
        "--municipality",
        "122203",
        "--facility",
        &facility_id,
        "--login-id",
        "nurse01",
        "--name",
        "看護 一郎",
        "--kana",
        "かんご いちろう",
        "--occupation",
        "nurse",
        "--manager",
    ]);
    assert!(user.status.success(), "{user:?}");
    assert!(stdout(&user).contains("/activate/"));
    assert!(stdout(&run(&["facility", "list", "--municipality", "122203"])).contains("managers=1"));
    let reset = run(&["user", "reset-second-factor", "--login-id", "admin01"]);
    assert!(reset.status.success(), "{reset:?}");
    let unknown = run(&["user", "reset-second-factor", "--login-id", "nobody"]);
    assert!(!unknown.status.success());
    let list = run(&["municipality", "list"]);
    assert!(stdout(&list).starts_with("122203\t流山市"));
    let verified = run(&["audit", "verify"]);
    assert!(verified.status.success(), "{verified:?}");
    assert!(stdout(&verified).contains("ok      122203 流山市: 5 entries intact"), "{}", stdout(&verified));
    tamper("UPDATE audit_events SET detail = 'edited' WHERE seq = 2 AND chain <> 'operator'");
    let broken = run(&["audit", "verify", "--municipality", "122203"]);
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    assert!(stdout(&broken).contains("BROKEN  122203 流山市: entry 2 was altered"), "{}", stdout(&broken));
    let operator = run(&["audit", "verify", "--municipality", "operator"]);
    assert!(operator.status.success(), "the operator's chain is untouched: {operator:?}");
    let unlock = run(&["user", "unlock", "--login-id", "nurse01"]);
    assert!(unlock.status.success(), "{unlock:?}");
    assert!(stdout(&unlock).contains("sign-in locks of nurse01 lifted"), "{unlock:?}");
    assert!(!run(&["user", "unlock", "--login-id", "nobody"]).status.success());
}

#[test]
fn operator_commands_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    operator_story(&["--data-dir", &data], |sql| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let path = dir.path().join("renraku.db");
            let store =
                renraku_store_sqlite::SqliteStore::open(&path, AuditSealer::new(b"any")).await.unwrap();
            store.execute_raw("DROP TRIGGER audit_events_append_only_update").await.unwrap();
            assert_eq!(store.execute_raw(sql).await.unwrap(), 1);
        });
    });
}

#[test]
fn operator_commands_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(common::PgSchema { store, db_url, .. }) = common::postgres_schema(&rt) else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    operator_story(&["--data-dir", &data, "--database-url", &db_url], |sql| {
        rt.block_on(async {
            store.execute_raw("DROP TRIGGER audit_events_append_only ON audit_events").await.unwrap();
            assert_eq!(store.execute_raw(sql).await.unwrap(), 1);
        });
    });
}

/// Four municipalities, each tampered with in one way by someone who can rewrite the database
/// (`raw` runs SQL past the application): `audit verify` finds all four, the one where the head
/// row was moved back to match a cut chain only through the checkpoint kept outside the database.
fn tampering_story(db: &[&str], data_dir: &std::path::Path, raw: impl Fn(&str)) {
    let run = |args: &[&str]| {
        let all: Vec<&str> = db.iter().copied().chain(args.iter().copied()).collect();
        renraku(&all, &[])
    };
    let codes = [("122203", "流山市"), ("122173", "柏市"), ("122076", "松戸市"), ("122114", "野田市")];
    let mut ids = vec![];
    for (code, name) in codes {
        assert!(run(&["municipality", "create", "--code", code, "--name", name]).status.success());
        for login in ["a", "b"] {
            let login = format!("admin{code}{login}");
            let args = ["admin", "create", "--municipality", code, "--login-id", login.as_str()];
            let created = run(&[&args[..], &["--name", "介護 花子", "--kana", "かいご はなこ"]].concat());
            assert!(created.status.success(), "{created:?}");
        }
        let list = stdout(&run(&["municipality", "list"]));
        let line = list.lines().find(|l| l.starts_with(code)).unwrap().to_string();
        ids.push(line.rsplit('\t').next().unwrap().to_string());
    }
    // Each chain now has 3 entries: its opening, and two admins.
    let checkpoint = run(&["audit", "checkpoint"]);
    assert!(checkpoint.status.success(), "{checkpoint:?}");
    let lines = stdout(&checkpoint);
    assert_eq!(lines.lines().count(), 6, "one line per chain, one closing line: {lines}");
    assert!(lines.lines().last().unwrap().contains(" chains=5 mac="), "{lines}");
    let anchors = std::fs::read_to_string(data_dir.join("audit-anchors.log")).unwrap();
    assert_eq!(anchors, lines, "appended to the anchor file");
    let verified = run(&["audit", "verify"]);
    assert!(verified.status.success(), "{}", stdout(&verified));
    assert!(
        stdout(&verified).contains("ok      122203 流山市: 3 entries intact, checkpoint at seq 3"),
        "{}",
        stdout(&verified)
    );

    let [cut, emptied, deleted, rewound] = [&ids[0], &ids[1], &ids[2], &ids[3]];
    raw(&format!("DELETE FROM audit_events WHERE chain = '{cut}' AND seq > 1"));
    raw(&format!("DELETE FROM audit_events WHERE chain = '{emptied}'"));
    raw(&format!("DELETE FROM audit_events WHERE chain = '{deleted}'"));
    raw(&format!("DELETE FROM audit_heads WHERE chain = '{deleted}'"));
    raw(&format!("DELETE FROM audit_events WHERE chain = '{rewound}' AND seq > 1"));
    raw(&format!(
        "UPDATE audit_heads SET seq = 1, seal = (SELECT seal FROM audit_events WHERE chain = '{rewound}' AND seq = 1) \
         WHERE chain = '{rewound}'"
    ));
    let broken = run(&["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    let out = stdout(&broken);
    for expected in [
        "BROKEN  122203 流山市: entries after seq 1 are missing (the head row says the chain ends at 3)",
        "BROKEN  122173 柏市: entries after seq 0 are missing (the head row says the chain ends at 3)",
        "BROKEN  122076 松戸市: the chain vanished (its entries and head row were deleted)",
        "BROKEN  122114 野田市: entries after seq 1 are missing (the latest checkpoint anchored seq 3)",
        "ok      operator:",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
    assert_eq!(out.matches("BROKEN  122114").count(), 1, "only the checkpoint sees the rewound chain: {out}");
    // The shortened chains are not anchored.
    let refused = run(&["audit", "checkpoint"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not follow on"), "{refused:?}");
    assert_eq!(std::fs::read_to_string(data_dir.join("audit-anchors.log")).unwrap(), lines);
}

#[test]
fn tampering_is_found_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tampering_story(&["--data-dir", &data], dir.path(), |sql| {
        rt.block_on(async {
            let path = dir.path().join("renraku.db");
            let store =
                renraku_store_sqlite::SqliteStore::open(&path, AuditSealer::new(b"any")).await.unwrap();
            store.execute_raw("DROP TRIGGER IF EXISTS audit_events_append_only_delete").await.unwrap();
            assert!(store.execute_raw(sql).await.unwrap() >= 1, "{sql}");
        });
    });
}

#[test]
fn tampering_is_found_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(common::PgSchema { store, db_url, .. }) = common::postgres_schema(&rt) else { return };
    rt.block_on(store.execute_raw("DROP TRIGGER audit_events_append_only ON audit_events")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    tampering_story(&["--data-dir", &data, "--database-url", &db_url], dir.path(), |sql| {
        assert!(rt.block_on(store.execute_raw(sql)).unwrap() >= 1, "{sql}");
    });
}

/// Without the master secret the trail cannot be checked; a new secret is never made for it.
#[test]
fn audit_verify_refuses_to_run_without_the_master_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    for command in ["verify", "checkpoint"] {
        let out = renraku(&["--data-dir", data, "audit", command], &[("RENRAKU_SECRET_KEY", "")]);
        assert_eq!(out.status.code(), Some(2), "{command}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no master secret"), "{command}: {err}");
        assert!(!dir.path().join("secret.key").exists(), "{command} created a secret");
    }
}

#[test]
fn the_configuration_is_printed_without_secrets() {
    let out = renraku(
        &["config"],
        &[
            ("RENRAKU_DATABASE_URL", "postgres://renraku:hunter2@db.example.jp/renraku"),
            ("RENRAKU_SECRET_KEY", "ab"),
            ("RENRAKU_LISTEN", "0.0.0.0:9000"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(!text.contains("hunter2") && text.contains("<redacted>"), "{text}");
    assert!(text.contains("0.0.0.0:9000"), "environment variables apply: {text}");
    // A password may also travel as a query parameter of the URL.
    let out = renraku(
        &["config"],
        &[(
            "RENRAKU_DATABASE_URL",
            "postgres://renraku@db.example.jp/renraku?sslmode=require&password=hunter3&sslpassword=hunter4",
        )],
    );
    let text = stdout(&out);
    assert!(!text.contains("hunter3") && !text.contains("hunter4"), "{text}");
    assert!(text.contains("sslmode=require") && text.contains("password=%3Credacted%3E"), "{text}");
}

/// Starts `renraku serve` on a free port; returns it once it listens, with its address.
fn start_server(data_dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renraku"));
    cmd.args(["--data-dir", data_dir.to_str().unwrap(), "--listen", &listen, "--public-base-url", &base])
        .env("RENRAKU_LOG", "warn")
        .env_remove("RENRAKU_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        // Keep reading so the server never blocks on a full pipe.
        for _ in BufReader::new(stdout).lines() {}
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(std::time::Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, base)
}

fn get(url: &str) -> (u16, String) {
    renraku_attachments::blobs::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

#[cfg(unix)]
#[test]
fn a_fresh_data_directory_and_its_database_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("data");
    let (mut child, base) = start_server(&data, &[]);
    assert_eq!(get(&format!("{base}/healthz")).0, 200);
    let mode = |name: &str| std::fs::metadata(data.join(name)).unwrap().permissions().mode() & 0o777;
    let modes = ["", "renraku.db", "renraku.db-wal", "renraku.db-shm", "secret.key"].map(|f| (f, mode(f)));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(modes[0].1, 0o700, "the data directory");
    for (file, mode) in &modes[1..] {
        assert_eq!(*mode, 0o600, "{file} is readable by the server's user only");
    }
}

#[test]
fn metrics_are_served_only_on_their_own_address() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let (mut child, base) = start_server(dir.path(), &[("RENRAKU_METRICS_LISTEN", &metrics)]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&metrics).is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let login = get(&format!("{base}/login"));
    let public = get(&format!("{base}/metrics"));
    let private = get(&format!("http://{metrics}/metrics"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(login.0, 200);
    assert_eq!(public.0, 404, "not on the public address");
    assert_eq!(private.0, 200);
    assert!(private.1.contains("renraku_http_requests_total"), "{}", private.1);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_within_seconds() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start_server(dir.path(), &[]);
    assert_eq!(get(&format!("{base}/healthz")).0, 200, "serving (and listening for signals)");
    // A client in the middle of a request, which the server must not wait for.
    let mut slow = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: renraku\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(8) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.is_none() {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let status = status.expect("the server exits within seconds of SIGTERM");
    assert!(status.success(), "{status:?}");
    drop(slow);
}

/// `renraku careplan check` on the golden files, a broken copy, and a path that is not there.
#[test]
fn careplan_check_reports_every_problem_and_its_exit_status_says_if_all_conform() {
    let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/../careplan/tests/golden");
    let ok = renraku(&["careplan", "check", golden], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("すべて適合（ファイル 11、送信単位 6）"), "{}", stdout(&ok));
    // What needs the service-code master is said, not silently passed (issue 10, item 15).
    assert!(
        stdout(&ok).contains("確認していない規則（全国のサービスコード表が必要なため）"),
        "{}",
        stdout(&ok)
    );
    assert!(stdout(&ok).contains("第7表 項目18「給付管理単位数」"), "{}", stdout(&ok));
    let ok_json = renraku(&["careplan", "check", "--json", golden], &[]);
    let ok_report: serde_json::Value = serde_json::from_slice(&ok_json.stdout).unwrap();
    assert_eq!(ok_report["conformant"], true);
    let not_checked = ok_report["not_checked"].as_array().unwrap();
    assert!(
        not_checked.iter().any(|r| r["item"].as_str().unwrap().contains("日割対象日")),
        "{not_checked:?}"
    );
    assert!(not_checked.iter().all(|r| !r["kinds"].as_array().unwrap().is_empty()));

    let dir = tempfile::tempdir().unwrap();
    let name = "UP2KYO_1234567890_43_2234567890_13_20261120093000.CSV";
    let bytes = std::fs::read(format!("{golden}/{name}")).unwrap();
    // 保険対象区分 Y → X on the first record.
    let broken: Vec<u8> = {
        let at = bytes.windows(3).position(|w| w == b",Y,").unwrap();
        let mut b = bytes.clone();
        b[at + 1] = b'X';
        b
    };
    std::fs::write(dir.path().join(name), broken).unwrap();
    let bad = renraku(&["careplan", "check", dir.path().to_str().unwrap()], &[]);
    assert_eq!(bad.status.code(), Some(1));
    let out = stdout(&bad);
    assert!(out.contains(&format!("{name}: 1行目 項目15「保険対象区分」:")), "{out}");
    assert!(out.contains("UP1KYO がありません"), "the incomplete set is reported too: {out}");

    let json = renraku(&["careplan", "check", "--json", dir.path().to_str().unwrap()], &[]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["conformant"], false);
    let problem = &report["files"][0]["problems"][0];
    assert_eq!(problem["line"], 1);
    assert_eq!(problem["item_no"], 15);
    assert_eq!(problem["item_name"], "保険対象区分");
    assert_eq!(report["sets"][0]["complete"], false);
    // 第2表 alone: no rule of the master concerns it.
    assert_eq!(report["not_checked"], serde_json::json!([]));

    let missing = renraku(&["careplan", "check", "/nonexistent/UP1KYO.CSV"], &[]);
    assert_eq!(missing.status.code(), Some(2));

    // 介護予防: the CSVs and the 家族構成 JPEG of a directory, in their 3.4 units.
    let yobo = renraku(&["careplan", "check", &format!("{golden}/yobo")], &[]);
    assert_eq!(yobo.status.code(), Some(0), "{}", stdout(&yobo));
    let out = stdout(&yobo);
    assert!(out.contains("UPKIHON_IMAGE_3334567890_46_4434567890_A6_20261201100000_0001.JPG: 適合"), "{out}");
    assert!(out.contains("すべて適合（ファイル 8、送信単位 3）"), "{out}");
}
