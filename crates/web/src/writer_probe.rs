//! The write probe behind `/healthz`, rationed: `/healthz` is public, and every probe is a
//! committed write, so a flood of health checks must not queue writes ahead of real posts on
//! SQLite's single writer. A probe that succeeded is trusted for [`WriterProbe::INTERVAL`];
//! requests arriving meanwhile (or while a probe runs) share its answer. A failing writer is
//! probed again on every check (one at a time), so recovery shows at once.

use std::time::{Duration, Instant};

use renraku_store::Store;

#[derive(Default)]
pub struct WriterProbe {
    /// When the last probe started, and whether it committed.
    last: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl std::fmt::Debug for WriterProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterProbe")
    }
}

impl WriterProbe {
    /// How long a successful probe is trusted.
    pub const INTERVAL: Duration = Duration::from_secs(5);

    /// Whether a write through the writer commits: the last answer if it is recent enough,
    /// otherwise a new probe.
    pub async fn writer_ok(&self, store: &dyn Store, now_ms: i64) -> bool {
        let arrived = Instant::now();
        let mut last = self.last.lock().await;
        if let Some((at, ok)) = *last {
            // A probe that started after this request arrived answers it, whatever it found;
            // a success is trusted for the interval.
            if at >= arrived || (ok && at.elapsed() < Self::INTERVAL) {
                return ok;
            }
        }
        let started = Instant::now();
        let ok = match store.check_writer(now_ms).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "health check failed: writes do not commit");
                false
            }
        };
        *last = Some((started, ok));
        ok
    }
}
