//! `renraku bench`: builds a synthetic municipality (2,000 users, 5,000 rooms, 1,000,000 posts
//! by default), starts the real server as a child process on it, and drives it over loopback
//! with concurrent simulated users doing a realistic mix of actions. Prints throughput and
//! p50/p95/p99 latency per action and the server's peak resident memory. See
//! `docs/PERFORMANCE.md` for how to read and reproduce the figures.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use renraku_domain::audit::AuditSealer;
use renraku_domain::audit_action::AuditAction;
use renraku_store::bench::{BenchData, BenchSpec, JAPANESE_NOTES, Rng};
use renraku_store::{AuditDraft, NewSession, Store, new_id};
use renraku_web::{Clock, Secrets};
use sha2::Digest as _;

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 2_000)]
    users: usize,
    #[arg(long, default_value_t = 5_000)]
    rooms: usize,
    #[arg(long, default_value_t = 1_000_000)]
    posts: usize,
    /// Simulated users acting at the same time.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// How long to drive the server, in seconds (after the warm-up).
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Seconds of load before measuring starts (caches fill, connections open).
    #[arg(long, default_value_t = 10)]
    warmup: u64,
    /// Mean pause between one simulated user's actions, in milliseconds (0: as fast as possible).
    #[arg(long, default_value_t = 1_000)]
    think_ms: u64,
    /// `sqlite` (a fresh file under --bench-dir) or a `postgres://` URL (a fresh schema in it).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Where the SQLite file and the server's secret key go.
    #[arg(long, default_value = "target/bench")]
    bench_dir: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Action {
    OpenRoom,
    ScrollOlder,
    MarkRead,
    Post,
    Reply,
}

impl Action {
    const ALL: [Action; 5] =
        [Action::OpenRoom, Action::ScrollOlder, Action::MarkRead, Action::Post, Action::Reply];

    fn label(self) -> &'static str {
        match self {
            Action::OpenRoom => "open room",
            Action::ScrollOlder => "scroll older",
            Action::MarkRead => "mark read",
            Action::Post => "post",
            Action::Reply => "reply",
        }
    }

    /// 50 % open, 15 % scroll, 15 % mark read, 10 % post, 10 % reply.
    fn pick(dice: u64) -> Action {
        match dice % 100 {
            0..50 => Action::OpenRoom,
            50..65 => Action::ScrollOlder,
            65..80 => Action::MarkRead,
            80..90 => Action::Post,
            _ => Action::Reply,
        }
    }
}

fn random_bytes() -> [u8; 32] {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes())
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.bench_dir)?;
    let dir = std::fs::canonicalize(&args.bench_dir)?;
    let secret_path = dir.join("secret.key");
    if !secret_path.exists() {
        std::fs::write(&secret_path, hex::encode(random_bytes()))?;
    }
    let master = hex::decode(std::fs::read_to_string(&secret_path)?.trim())?;
    let secrets = Secrets::derive(&master);
    let sealer = AuditSealer::new(&secrets.audit_key);
    let spec = BenchSpec {
        users: args.users,
        rooms: args.rooms,
        posts: args.posts,
        members_per_room: 6,
        reads_per_post: 2,
        now_ms: Clock::default().now_ms(),
    };
    println!(
        "Renraku benchmark: {} users, {} rooms, {} posts; {} simulated users for {} s after {} s of warm-up, think time {} ms",
        spec.users, spec.rooms, spec.posts, args.concurrency, args.duration, args.warmup, args.think_ms
    );
    let started = Instant::now();
    let mut cleanup: Option<renraku_store_postgres::PostgresStore> = None;
    let (store, data, server_url): (Arc<dyn Store>, BenchData, String) = if args.database == "sqlite" {
        let path = dir.join("bench.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = renraku_store_sqlite::SqliteStore::open(&path, sealer).await?;
        let data = store.seed_bench(&spec).await?;
        store.checkpoint().await?;
        (Arc::new(store), data, format!("sqlite://{}", path.display()))
    } else if args.database.starts_with("postgres") {
        let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
        let store =
            renraku_store_postgres::PostgresStore::connect_in_schema(&args.database, &schema, sealer).await?;
        let data = store.seed_bench(&spec).await?;
        store.analyze().await?;
        let sep = if args.database.contains('?') { '&' } else { '?' };
        cleanup = Some(
            renraku_store_postgres::PostgresStore::connect_in_schema(
                &args.database,
                &schema,
                AuditSealer::new(&secrets.audit_key),
            )
            .await?,
        );
        (Arc::new(store), data, format!("{}{sep}options=-c%20search_path%3D{schema}", args.database))
    } else {
        bail!("--database is `sqlite` or a postgres:// URL");
    };
    println!("seeded in {:.1} s ({})", started.elapsed().as_secs_f64(), store.backend());

    // A signed-in session per user, as if each had passed both factors.
    let now = Clock::default().now_ms();
    let mut tokens = Vec::with_capacity(data.users.len());
    for (account, identity, _) in &data.users {
        let token = random_token();
        let session = NewSession {
            id: new_id(),
            token_hash: hex::encode(sha2::Sha256::digest(token.as_bytes())),
            identity_id: identity.clone(),
            account_id: account.clone(),
            created_at_ms: now,
            idle_timeout_ms: 4 * 3_600_000,
            expires_at_ms: now + 24 * 3_600_000,
            ip: "127.0.0.1".into(),
            user_agent: "renraku-bench".into(),
        };
        let audit = |action: AuditAction| AuditDraft {
            municipality_id: Some(data.municipality_id.clone()),
            at_ms: now,
            actor_account_id: Some(account.clone()),
            actor_login: "bench".into(),
            ip: "127.0.0.1".into(),
            action,
            object_type: "session".into(),
            object_id: session.id.to_string(),
            outcome: "ok".into(),
            detail: String::new(),
        };
        store.create_session(&session, &audit(AuditAction::AuthPassword)).await?;
        store.complete_second_factor(&session.id, now, &audit(AuditAction::AuthLogin)).await?;
        tokens.push(token);
    }

    // The real server, as a separate process, so its memory is its own.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--data-dir", &dir.display().to_string(), "--database-url", &server_url])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--public-base-url", &base, "serve"])
        .env("RENRAKU_LOG", "error")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log"))?)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server")?;
    let pid = server.id().unwrap_or(0);
    let probe = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if probe.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !up {
        bail!("the server did not come up");
    }

    let measure_from = Instant::now() + Duration::from_secs(args.warmup);
    let deadline = measure_from + Duration::from_secs(args.duration);
    let mut tasks = vec![];
    for vu in 0..args.concurrency {
        let user = vu % data.users.len();
        let rooms: Vec<String> = data.users[user].2.iter().map(ToString::to_string).collect();
        let token = tokens[user].clone();
        let base = base.clone();
        let think = args.think_ms;
        tasks.push(tokio::spawn(async move {
            simulate(vu as u64, base, token, rooms, measure_from, deadline, think).await
        }));
    }
    let mut latencies: HashMap<Action, Vec<u32>> = HashMap::new();
    let mut errors: HashMap<Action, usize> = HashMap::new();
    for task in tasks {
        let (l, e) = task.await??;
        for (action, mut v) in l {
            latencies.entry(action).or_default().append(&mut v);
        }
        for (action, n) in e {
            *errors.entry(action).or_default() += n;
        }
    }
    let (peak_kb, rss_kb) = memory_of(pid);
    let _ = server.kill().await;
    if let Some(pg) = cleanup {
        pg.drop_own_schema().await?;
    }

    println!();
    println!(
        "{:<13} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "action", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "errors"
    );
    for action in Action::ALL {
        let mut v = latencies.remove(&action).unwrap_or_default();
        v.sort_unstable();
        let pct = |p: f64| {
            v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .map(|us| *us as f64 / 1000.0)
                .unwrap_or(0.0)
        };
        println!(
            "{:<13} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7}",
            action.label(),
            v.len(),
            v.len() as f64 / args.duration as f64,
            pct(0.50),
            pct(0.95),
            pct(0.99),
            errors.get(&action).copied().unwrap_or(0)
        );
    }
    println!();
    println!("server resident memory: peak {} MB, at the end {} MB", peak_kb / 1024, rss_kb / 1024);
    Ok(())
}

/// VmHWM and VmRSS of a process, in kB (Linux).
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

type Results = (HashMap<Action, Vec<u32>>, HashMap<Action, usize>);

fn between<'a>(body: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = body.find(start)? + start.len();
    let len = body[from..].find(end)?;
    Some(&body[from..from + len])
}

/// One simulated user: signed in, moving between their rooms until the deadline.
async fn simulate(
    seed: u64,
    base: String,
    token: String,
    rooms: Vec<String>,
    measure_from: Instant,
    deadline: Instant,
    think_ms: u64,
) -> anyhow::Result<Results> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let url: reqwest::Url = base.parse()?;
    jar.add_cookie_str(&format!("renraku_session={token}; Path=/"), &url);
    let client = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()?;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut latencies: HashMap<Action, Vec<u32>> = HashMap::new();
    let mut errors: HashMap<Action, usize> = HashMap::new();
    // The page's CSRF token, and what the user last saw.
    let first = client.get(format!("{base}/rooms")).send().await?.text().await?;
    let csrf = between(&first, "name=\"_csrf\" value=\"", "\"").unwrap_or_default().to_string();
    let mut cursor: HashMap<String, String> = HashMap::new();
    let mut seen_post: HashMap<String, String> = HashMap::new();
    if think_ms > 0 {
        tokio::time::sleep(Duration::from_millis(rng.next_u64() % think_ms)).await;
    }
    while Instant::now() < deadline {
        let room = rooms[(rng.next_u64() % rooms.len() as u64) as usize].clone();
        let mut action = Action::pick(rng.next_u64());
        if (action == Action::ScrollOlder && !cursor.contains_key(&room))
            || (action == Action::Reply && !seen_post.contains_key(&room))
        {
            action = Action::OpenRoom;
        }
        let note = JAPANESE_NOTES[(rng.next_u64() % JAPANESE_NOTES.len() as u64) as usize];
        let started = Instant::now();
        let response = match action {
            Action::OpenRoom => client.get(format!("{base}/rooms/{room}")).send().await,
            Action::ScrollOlder => {
                client.get(format!("{base}/rooms/{room}?before={}", cursor[&room])).send().await
            }
            Action::MarkRead => {
                client
                    .post(format!("{base}/rooms/{room}/read"))
                    .form(&[("_csrf", csrf.as_str())])
                    .send()
                    .await
            }
            Action::Post => {
                client
                    .post(format!("{base}/rooms/{room}/posts"))
                    .form(&[
                        ("_csrf", csrf.as_str()),
                        ("category", "visit"),
                        ("importance", "normal"),
                        ("body", note),
                    ])
                    .send()
                    .await
            }
            Action::Reply => {
                client
                    .post(format!("{base}/rooms/{room}/posts/{}/replies", seen_post[&room]))
                    .form(&[("_csrf", csrf.as_str()), ("body", "承知しました。")])
                    .send()
                    .await
            }
        };
        let ok = match response {
            Ok(r) if r.status().is_success() || r.status().is_redirection() => {
                if matches!(action, Action::OpenRoom | Action::ScrollOlder) {
                    let body = r.text().await.unwrap_or_default();
                    if let Some(before) = between(&body, "?before=", "\"") {
                        cursor.insert(room.clone(), before.to_string());
                    }
                    if let Some(post) = between(&body, "id=\"post-", "\"") {
                        seen_post.insert(room.clone(), post.to_string());
                    }
                } else {
                    let _ = r.bytes().await;
                }
                true
            }
            Ok(r) => {
                let _ = r.bytes().await;
                false
            }
            Err(_) => false,
        };
        let elapsed = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        if started < measure_from {
            // Warm-up: not counted.
        } else if ok {
            latencies.entry(action).or_default().push(elapsed);
        } else {
            *errors.entry(action).or_default() += 1;
        }
        if think_ms > 0 {
            // Exponentially distributed pauses around the mean, as independent users make.
            let u = (rng.next_u64() % 1_000_000) as f64 / 1_000_000.0;
            let pause = (-(1.0 - u).ln() * think_ms as f64).min(think_ms as f64 * 5.0);
            tokio::time::sleep(Duration::from_millis(pause as u64)).await;
        }
    }
    Ok((latencies, errors))
}
