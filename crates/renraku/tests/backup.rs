//! `renraku backup`, `renraku backup verify` and `renraku restore` as an operator runs them:
//! a backup taken while the real server takes posts with photos holds every post acknowledged
//! before it began, restores into an empty directory with its audit trail intact and its photos
//! readable; generations are pruned and kept read-only; a flipped byte is caught; PostgreSQL is
//! backed up with pg_dump.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use renraku_attachments::blobs::{BlobStore as _, EncryptedDir};
use renraku_domain::audit::AuditSealer;
use renraku_domain::audit_action::AuditAction;
use renraku_store::AuditDraft;
use renraku_store::bench::BenchSpec;
use renraku_store::prelude::*;
use renraku_web::Secrets;
use sha2::Digest as _;

fn renraku(args: &[&str]) -> Output {
    renraku_with(args, &[])
}

fn renraku_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renraku"));
    cmd.args(args)
        .env_remove("RENRAKU_DATABASE_URL")
        .env_remove("RENRAKU_SECRET_KEY")
        .env("RENRAKU_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run renraku")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The complete generations under a backup folder, oldest first.
fn generations(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("renraku-"))
        .collect();
    found.sort();
    found
}

fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([seed, (x * 5) as u8, (y * 7) as u8]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body.find(start).unwrap_or_else(|| panic!("{start} not in {body}")) + start.len();
    &body[from..from + body[from..].find(end).unwrap()]
}

/// One acknowledged post: its text, when its request was sent and when the server answered.
struct Acked {
    body: String,
    sent: Instant,
    answered: Instant,
}

/// A signed-in member posting photos into a room, as fast as the server takes them.
async fn poster(base: String, token: String, room: String, who: usize, stop: Arc<AtomicBool>) -> Vec<Acked> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&format!("renraku_session={token}; Path=/"), &base.parse().unwrap());
    let client = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(format!("{base}/rooms/{room}")).send().await.unwrap().text().await.unwrap();
    let csrf = between(&page, "name=\"_csrf\" value=\"", "\"").to_string();
    let mut acked = vec![];
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let body = format!("バックアップ中の投稿 {who}-{i}");
        let form = reqwest::multipart::Form::new()
            .text("category", "visit")
            .text("body", body.clone())
            .part("files", reqwest::multipart::Part::bytes(png(i as u8)).file_name("IMG_0001.PNG"));
        let sent = Instant::now();
        let r = client
            .post(format!("{base}/rooms/{room}/posts?_csrf={csrf}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let answered = Instant::now();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
        acked.push(Acked { body, sent, answered });
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_write_load_restores_every_acknowledged_post_with_its_photo() {
    renraku_attachments::blobs::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let master: [u8; 32] = rand_bytes();
    std::fs::write(data.join("secret.key"), hex::encode(master)).unwrap();
    let secrets = Secrets::derive(&master);

    // A small municipality (4 members, 2 rooms) with a signed-in session per member.
    let now = renraku_web::Clock::default().now_ms();
    let (seeded, tokens) = {
        let store = renraku_store_sqlite::SqliteStore::open(
            &data.join("renraku.db"),
            AuditSealer::new(&secrets.audit_key),
        )
        .await
        .unwrap();
        let spec =
            BenchSpec { users: 4, rooms: 2, posts: 0, members_per_room: 4, reads_per_post: 0, now_ms: now };
        let seeded = store.seed_bench(&spec).await.unwrap();
        let mut tokens = vec![];
        for (account, identity, _) in &seeded.users {
            let token = hex::encode(rand_bytes());
            let session = renraku_store::NewSession {
                id: renraku_store::new_id(),
                token_hash: hex::encode(sha2::Sha256::digest(token.as_bytes())),
                identity_id: identity.clone(),
                account_id: account.clone(),
                created_at_ms: now,
                idle_timeout_ms: 3_600_000,
                expires_at_ms: now + 3_600_000,
                ip: "127.0.0.1".into(),
                user_agent: "backup-test".into(),
            };
            let audit = |action: AuditAction| AuditDraft {
                municipality_id: Some(seeded.municipality_id.clone()),
                at_ms: now,
                actor_account_id: Some(account.clone()),
                actor_login: "backup-test".into(),
                ip: "127.0.0.1".into(),
                action,
                object_type: "session".into(),
                object_id: session.id.to_string(),
                outcome: "ok".into(),
                detail: String::new(),
            };
            store.create_session(&session, &audit(AuditAction::AuthPassword)).await.unwrap();
            store.complete_second_factor(&session.id, now, &audit(AuditAction::AuthLogin)).await.unwrap();
            tokens.push(token);
        }
        (seeded, tokens)
    };

    // The real server.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_renraku"))
        .args(["--data-dir", s(&data), "--listen", &format!("127.0.0.1:{port}"), "--public-base-url", &base])
        .env_remove("RENRAKU_DATABASE_URL")
        .env("RENRAKU_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let probe = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if probe.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server came up");

    // Four members post photos continuously; the backup runs in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = vec![];
    for (who, ((_, _, rooms), token)) in seeded.users.iter().zip(&tokens).enumerate() {
        let room = rooms[who % rooms.len()].to_string();
        load.push(tokio::spawn(poster(base.clone(), token.clone(), room, who, stop.clone())));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let backups = dir.path().join("backups");
    let started = Instant::now();
    let backup = tokio::process::Command::new(env!("CARGO_BIN_EXE_renraku"))
        .args(["--data-dir", s(&data), "backup", "--to", s(&backups)])
        .env_remove("RENRAKU_DATABASE_URL")
        .env("RENRAKU_LOG", "warn")
        .output()
        .await
        .unwrap();
    let finished = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = vec![];
    for task in load {
        acked.extend(task.await.unwrap());
    }
    server.kill().await.unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
    assert!(text(&backup).contains("The master secret is not in the backup"), "{}", text(&backup));
    let before: Vec<&Acked> = acked.iter().filter(|a| a.answered < started).collect();
    let during = acked.iter().filter(|a| a.sent < finished && a.answered > started).count();
    eprintln!(
        "{} posts acknowledged before the backup, {during} in flight during its {} ms, {} in all",
        before.len(),
        (finished - started).as_millis(),
        acked.len()
    );
    assert!(!before.is_empty(), "posts were acknowledged before the backup");
    assert!(during > 0, "posts were being written while the backup ran");
    assert!(acked.iter().any(|a| a.sent > finished), "and after it");

    let [generation] = generations(&backups).try_into().unwrap();
    assert!(!generation.join("secret.key").exists(), "the master secret is never in a backup");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(generation.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["backend"], "sqlite");
    let files = manifest["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["path"] == "renraku.db"));
    assert!(
        files.iter().filter(|f| f["path"].as_str().unwrap().starts_with("files/")).count()
            >= 2 * before.len()
    );

    // Restore into an empty directory, with the secret kept apart.
    let restored = dir.path().join("restored");
    let done = renraku(&[
        "--data-dir",
        s(&restored),
        "restore",
        s(&generation),
        "--secret-key-file",
        s(&data.join("secret.key")),
    ]);
    assert!(done.status.success(), "{}", text(&done));
    #[cfg(unix)]
    {
        assert_eq!(mode(&restored), 0o700);
        assert_eq!(mode(&restored.join("renraku.db")), 0o600);
        assert_eq!(mode(&restored.join("secret.key")), 0o600);
    }
    let verified = renraku(&["--data-dir", s(&restored), "audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(text(&verified).contains("entries intact"), "{}", text(&verified));

    // Every post acknowledged before the backup began is there, with a photo that decrypts.
    let store = renraku_store_sqlite::SqliteStore::open(
        &restored.join("renraku.db"),
        AuditSealer::new(&secrets.audit_key),
    )
    .await
    .unwrap();
    let blobs = EncryptedDir::new(restored.join("files"), &secrets.files_key).unwrap();
    let (account, _, rooms) = &seeded.users[0];
    let mut posts = vec![];
    for room in rooms {
        let access = store.authorize_room(account, room).await.unwrap().expect("a member");
        posts.extend(store.timeline(&access, None, 100_000).await.unwrap());
    }
    for a in &before {
        let post = posts
            .iter()
            .find(|p| p.text.as_str() == a.body)
            .unwrap_or_else(|| panic!("acknowledged before the backup but not restored: {}", a.body));
        assert_eq!(post.attachments.len(), 1, "{}", a.body);
        let photo = blobs.get(&post.attachments[0].content_key).await.unwrap();
        assert!(photo.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
        let thumb = blobs.get(post.attachments[0].thumb_key.as_deref().unwrap()).await.unwrap();
        assert!(thumb.starts_with(&[0xFF, 0xD8, 0xFF]));
    }
    // The backup is recorded in the live installation, the restore in the restored one.
    let live = renraku_store_sqlite::SqliteStore::open(&data.join("renraku.db"), AuditSealer::new(b"read"))
        .await
        .unwrap();
    let chain = live.audit_chain(renraku_domain::audit::OPERATOR_CHAIN).await.unwrap();
    let made = chain.iter().find(|r| r.facts.action == "backup.create").expect("the backup is audited");
    assert!(made.facts.actor_login.starts_with("cli:"));
    assert_eq!(made.facts.object_id, generation.file_name().unwrap().to_str().unwrap());
    let chain = store.audit_chain(renraku_domain::audit::OPERATOR_CHAIN).await.unwrap();
    assert_eq!(chain.last().unwrap().facts.action, "backup.restore");
    // And nothing half-written: every restored post's photo is there too.
    for post in &posts {
        for file in &post.attachments {
            blobs.get(&file.content_key).await.unwrap();
        }
    }
}

fn rand_bytes() -> [u8; 32] {
    use rand::RngCore as _;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

#[test]
fn generations_are_pruned_and_read_only_and_verify_catches_a_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backups = dir.path().join("backups");
    let db = ["--data-dir", s(&data)];
    let with = |args: &[&str]| renraku(&[&db[..], args].concat());
    assert!(with(&["municipality", "create", "--code", "122203", "--name", "流山市"]).status.success());
    for round in 0..3 {
        let out = with(&["backup", "--to", s(&backups), "--keep", "2"]);
        assert!(out.status.success(), "{}", text(&out));
        if round == 2 {
            assert!(text(&out).contains("removed the older generation"), "{}", text(&out));
        }
    }
    let kept = generations(&backups);
    assert_eq!(kept.len(), 2, "{kept:?}");
    #[cfg(unix)]
    for generation in &kept {
        assert_eq!(mode(generation), 0o500, "read-only: {}", generation.display());
        assert_eq!(mode(&generation.join("renraku.db")), 0o400);
        assert_eq!(mode(&generation.join("manifest.json")), 0o400);
    }
    let older = &kept[0];
    let ok = with(&["backup", "verify", s(older)]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("entries intact"), "the audit trail is checked: {}", text(&ok));

    // Checked with another secret, the audit trail does not verify.
    let other = dir.path().join("other.key");
    std::fs::write(&other, "ab".repeat(32)).unwrap();
    let wrong = with(&["backup", "verify", s(older), "--secret-key-file", s(&other)]);
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(text(&wrong).contains("BROKEN"), "{}", text(&wrong));

    // A flipped byte in the copied database.
    let copy = older.join("renraku.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut bytes = std::fs::read(&copy).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x01;
    std::fs::write(&copy, bytes).unwrap();
    let broken = with(&["backup", "verify", s(older)]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    assert!(
        text(&broken).contains("BROKEN  renraku.db: the content differs from the manifest"),
        "{}",
        text(&broken)
    );

    // A backup with a missing manifest is not a backup.
    let none = with(&["backup", "verify", s(&data)]);
    assert!(!none.status.success());
    assert!(text(&none).contains("not a complete backup"), "{}", text(&none));

    // Restore refuses a data directory that is not empty, and a broken backup.
    let newer = &kept[1];
    let secret = data.join("secret.key");
    let refused = renraku(&["--data-dir", s(&data), "restore", s(newer), "--secret-key-file", s(&secret)]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("is not empty"), "{}", text(&refused));
    let target = dir.path().join("target");
    let refused = renraku(&["--data-dir", s(&target), "restore", s(older), "--secret-key-file", s(&secret)]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("nothing was restored"), "{}", text(&refused));
    assert!(!target.exists(), "nothing half-restored");
    let refused = renraku(&["--data-dir", s(&target), "restore", s(newer)]);
    assert!(text(&refused).contains("--secret-key-file"), "the secret is asked for: {}", text(&refused));
    let restored = renraku(&["--data-dir", s(&target), "restore", s(newer), "--secret-key-file", s(&secret)]);
    assert!(restored.status.success(), "{}", text(&restored));
    let list = renraku(&["--data-dir", s(&target), "municipality", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).starts_with("122203\t流山市"), "{}", text(&list));
}

#[test]
fn a_postgres_backup_is_a_pg_dump_and_without_pg_dump_the_server_settings_are_reported() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(common::PgSchema { schema, db_url, .. }) = common::postgres_schema(&rt) else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backups = dir.path().join("backups");
    let db = ["--data-dir", s(&data), "--database-url", &db_url];
    let with = |args: &[&str], env: &[(&str, &str)]| renraku_with(&[&db[..], args].concat(), env);
    assert!(with(&["municipality", "create", "--code", "122203", "--name", "流山市"], &[]).status.success());

    // Without pg_dump on PATH: no backup, and the server's archiving settings explained.
    let without = with(&["backup", "--to", s(&backups)], &[("PATH", "/nonexistent")]);
    assert_eq!(without.status.code(), Some(1), "{}", text(&without));
    let said = text(&without);
    assert!(said.contains("pg_dump is not on PATH, so no backup was made."), "{said}");
    assert!(said.contains("wal_level = ") && said.contains("archive_mode = "), "{said}");
    assert!(!backups.exists() || generations(&backups).is_empty());

    let Some(pg_restore) =
        ["/usr/bin/pg_restore", "/usr/local/bin/pg_restore"].into_iter().find(|p| Path::new(p).exists())
    else {
        eprintln!("SKIPPED: the PostgreSQL client tools are not installed");
        return;
    };
    let out = with(&["backup", "--to", s(&backups)], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let [generation] = generations(&backups).try_into().unwrap();
    let dump = generation.join("renraku.pgdump");
    let listed = Command::new(pg_restore).arg("--list").arg(&dump).output().unwrap();
    assert!(listed.status.success(), "{}", text(&listed));
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains(&format!("TABLE DATA {schema} audit_events")), "{listing}");
    let verified = with(&["backup", "verify", s(&generation)], &[]);
    assert!(verified.status.success(), "{}", text(&verified));
}

/// Makes a finished generation writable again, as someone with write access to the backups can.
#[cfg(unix)]
fn unlock(generation: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(generation, std::fs::Permissions::from_mode(0o700)).unwrap();
    for e in std::fs::read_dir(generation).unwrap() {
        let path = e.unwrap().path();
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// Rewrites manifest.json as `change` says; `key` re-signs it (someone who holds the key).
fn rewrite_manifest(generation: &Path, key: Option<&[u8]>, change: impl FnOnce(&mut serde_json::Value)) {
    use hmac::Mac as _;
    let path = generation.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    change(&mut manifest);
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    if let Some(key) = key {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(&bytes);
        std::fs::write(generation.join("manifest.hmac"), hex::encode(mac.finalize().into_bytes())).unwrap();
    }
}

#[test]
#[cfg(unix)]
fn a_backup_changed_after_it_was_made_is_refused_by_verify_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backups = dir.path().join("backups");
    let with = |args: &[&str]| renraku(&[&["--data-dir", s(&data)][..], args].concat());
    assert!(with(&["municipality", "create", "--code", "122203", "--name", "流山市"]).status.success());
    for _ in 0..3 {
        let out = with(&["backup", "--to", s(&backups)]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let [changed, extra, no_db] = generations(&backups).try_into().unwrap();
    let secret = data.join("secret.key");
    let master = hex::decode(std::fs::read_to_string(&secret).unwrap().trim()).unwrap();
    let refused = |generation: &Path, why: &str| {
        let verified = with(&["backup", "verify", s(generation)]);
        assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
        assert!(text(&verified).contains(why), "{why}: {}", text(&verified));
        let target =
            dir.path().join(format!("restored-{}", generation.file_name().unwrap().to_str().unwrap()));
        let restored =
            renraku(&["--data-dir", s(&target), "restore", s(generation), "--secret-key-file", s(&secret)]);
        assert!(!restored.status.success(), "{}", text(&restored));
        assert!(text(&restored).contains(why), "{why}: {}", text(&restored));
        assert!(text(&restored).contains("nothing was restored"), "{}", text(&restored));
        assert!(!target.exists(), "nothing restored");
    };

    // A row changed in the copied database, and the manifest's hash rewritten to match.
    unlock(&changed);
    let db = changed.join("renraku.db");
    let sqlite = Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE municipalities SET name = '乗っ取り市'")
        .output()
        .expect("the sqlite3 command-line tool");
    assert!(sqlite.status.success(), "{}", text(&sqlite));
    let bytes = std::fs::read(&db).unwrap();
    rewrite_manifest(&changed, None, |m| {
        let entry =
            m["files"].as_array_mut().unwrap().iter_mut().find(|f| f["path"] == "renraku.db").unwrap();
        entry["size"] = bytes.len().into();
        entry["sha256"] = hex::encode(sha2::Sha256::digest(&bytes)).into();
    });
    refused(&changed, "manifest.json: its signature does not match");

    // A file the manifest does not list, even with the manifest itself untouched.
    unlock(&extra);
    std::fs::create_dir_all(extra.join("files")).unwrap();
    std::fs::write(extra.join("files/planted"), b"not from this installation").unwrap();
    refused(&extra, "files/planted: not listed in the manifest");

    // A manifest that leaves the database out (signed by the key's holder: still refused).
    unlock(&no_db);
    std::fs::remove_file(no_db.join("renraku.db")).unwrap();
    let key = hmac_key(&master);
    rewrite_manifest(&no_db, Some(&key), |m| {
        m["files"].as_array_mut().unwrap().retain(|f| f["path"] != "renraku.db");
    });
    refused(&no_db, "the manifest does not list renraku.db");
}

/// The manifest's key, derived from the master secret as the server derives it.
fn hmac_key(master: &[u8]) -> Vec<u8> {
    Secrets::derive(master).backup_key.to_vec()
}

/// After a restore, the anchor file kept outside the data directory holds checkpoints newer than
/// the backup: every checkpoint is refused and every chain looks cut. The operator re-anchors
/// deliberately; the old file is kept, the act is audited, and checkpoints work again.
#[test]
fn after_a_restore_the_operator_re_anchors_and_checkpoints_resume() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backups = dir.path().join("backups");
    let anchors = dir.path().join("anchors").join("audit-anchors.log");
    let env = [("RENRAKU_AUDIT_ANCHOR_PATH", s(&anchors))];
    let live = |args: &[&str]| renraku_with(&[&["--data-dir", s(&data)][..], args].concat(), &env);
    assert!(live(&["municipality", "create", "--code", "122203", "--name", "流山市"]).status.success());
    assert!(live(&["audit", "checkpoint"]).status.success());
    let backup = live(&["backup", "--to", s(&backups)]);
    assert!(backup.status.success(), "{}", text(&backup));
    // The live installation goes on, and its checkpoints with it.
    let admin = live(&[
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
    assert!(admin.status.success(), "{}", text(&admin));
    assert!(live(&["audit", "checkpoint"]).status.success());
    let before = std::fs::read_to_string(&anchors).unwrap();

    let [generation] = generations(&backups).try_into().unwrap();
    let restored = dir.path().join("restored");
    let back = |args: &[&str]| renraku_with(&[&["--data-dir", s(&restored)][..], args].concat(), &env);
    let done = back(&["restore", s(&generation), "--secret-key-file", s(&data.join("secret.key"))]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("renraku audit checkpoint --after-restore"), "{}", text(&done));
    // The old checkpoints are ahead of the restored trail.
    let verified = back(&["audit", "verify"]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified));
    let refused = back(&["audit", "checkpoint"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));

    let reanchored = back(&["audit", "checkpoint", "--after-restore"]);
    assert!(reanchored.status.success(), "{}", text(&reanchored));
    let archived: Vec<PathBuf> = std::fs::read_dir(anchors.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("audit-anchors.log.archived-"))
        .collect();
    assert_eq!(archived.len(), 1, "{archived:?}");
    assert_eq!(std::fs::read_to_string(&archived[0]).unwrap(), before, "the old file is kept as it was");
    assert!(text(&reanchored).contains(archived[0].file_name().unwrap().to_str().unwrap()));
    let verified = back(&["audit", "verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
    let again = back(&["audit", "checkpoint"]);
    assert!(again.status.success(), "{}", text(&again));
    // The act is in the operator chain, by the operator at the command line.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let chain = rt.block_on(async {
        let store =
            renraku_store_sqlite::SqliteStore::open(&restored.join("renraku.db"), AuditSealer::new(b"read"))
                .await
                .unwrap();
        store.audit_chain(renraku_domain::audit::OPERATOR_CHAIN).await.unwrap()
    });
    let entry = chain.iter().find(|r| r.facts.action == "audit.reanchored").expect("re-anchoring is audited");
    assert!(entry.facts.actor_login.starts_with("cli:"));
    assert!(
        entry.facts.detail.contains(archived[0].file_name().unwrap().to_str().unwrap()),
        "{}",
        entry.facts.detail
    );
}
