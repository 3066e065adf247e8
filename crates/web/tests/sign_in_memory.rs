//! Sixty sign-ins at once must not take a gigabyte of memory: Argon2 needs 19 MiB for each
//! check, so checks wait for one of a few slots. A test binary of its own, so that nothing else
//! runs in the process whose memory it measures (the server runs in this process).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "it/helpers.rs"]
#[allow(dead_code, unused_macros)]
mod helpers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use helpers::{Backend, TestApp};

/// The resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_parallel_sign_ins_raise_resident_memory_by_less_than_100_mb() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let mut ready = vec![];
    for i in 0..60 {
        let b = app.browser();
        let token = b.get("/login").await.csrf();
        ready.push((b, token, format!("nobody{i:02}")));
    }
    let before = resident_kib();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(resident_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let attempts = ready.iter().map(|(b, token, login)| {
        b.client
            .post(format!("{}/login", b.base))
            .form(&[("_csrf", token.as_str()), ("login_id", login.as_str()), ("password", "Wrong-pass-123")])
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let rise_mib = peak.load(Ordering::Relaxed).saturating_sub(before) / 1024;
    eprintln!("resident memory rose by {rise_mib} MiB; statuses {statuses:?}");
    assert!(statuses.iter().all(|s| [401, 429, 503].contains(s)), "{statuses:?}");
    // The address lock (30 failures) stops the rest, but thirty were really checked.
    assert!(statuses.iter().filter(|s| **s == 401).count() >= 25, "{statuses:?}");
    assert!(rise_mib < 100, "resident memory rose by {rise_mib} MiB during 60 parallel sign-ins");
}
