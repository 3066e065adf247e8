//! The sweep of attachment files no attachment refers to. A post whose database write failed
//! with an unknown outcome keeps its files (the post may have been saved and hold them); if it
//! was in fact not saved, nothing refers to them. Once they are older than [`ORPHAN_GRACE`] — far
//! longer than any post takes to write — the sweep removes them. It runs as a job of the queue
//! ([`crate::jobs`]), so one instance sweeps at a time and a failed sweep is tried again.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use renraku_attachments::blobs::BlobStore;
use renraku_store::Store;

/// How old an unreferenced file must be before it is removed: a file is stored before its post
/// is written, so a younger one may belong to a post being written now.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(24 * 60 * 60);
/// How often the running server sweeps (a job of the queue, [`crate::jobs::ORPHAN_SWEEP`]).
pub const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// Removes the files written before `now - grace` that no attachment refers to; returns how
/// many. The files are listed before the references are read, so a file whose post was written
/// meanwhile is seen as referred to.
pub async fn sweep(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    now: SystemTime,
    grace: Duration,
) -> anyhow::Result<usize> {
    let cutoff = now.checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
    let old: Vec<String> = blobs
        .list()
        .await?
        .into_iter()
        .filter(|(_, written)| *written < cutoff)
        .map(|(key, _)| key)
        .collect();
    if old.is_empty() {
        return Ok(0);
    }
    let referred: HashSet<String> = store.attachment_keys().await?.into_iter().collect();
    let mut removed = 0;
    for key in old.iter().filter(|k| !referred.contains(*k)) {
        blobs.delete(key).await?;
        removed += 1;
    }
    Ok(removed)
}
