//! Prometheus metrics. The recorder is process-wide (the `metrics` crate's design), so it is
//! installed once, however many servers a test process starts.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

pub fn install() {
    let _ = handle();
}

pub fn request(status: u16) {
    let class = match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!("renraku_http_requests_total", "status" => class).increment(1);
}

pub fn sign_in(outcome: &'static str) {
    metrics::counter!("renraku_sign_ins_total", "outcome" => outcome).increment(1);
}

/// The job queue's unfinished and dead jobs, refreshed by the worker while it is idle.
pub fn jobs(counts: &renraku_store::JobCounts) {
    for (state, n) in [("queued", counts.queued), ("running", counts.running), ("dead", counts.dead)] {
        metrics::gauge!("renraku_jobs", "state" => state).set(n as f64);
    }
}
