//! Writing checkpoints: the running server's every minute, the operator's on demand, and
//! [`reanchor`], starting the anchor file afresh.

use std::path::PathBuf;

use renraku_domain::audit::AuditSealer;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::audit_anchor::{AnchorReading, ChainMark, Checkpoint};
use renraku_store::{AuditDraft, AuditFilter, AuditHead, AuditRecord, Store, StoreError};

use super::{ANCHOR_DUE, Anchors, CHECKPOINT_EVERY, Finding, from_break};
use crate::AppState;

/// Why no checkpoint was written.
#[derive(Debug)]
pub enum CheckpointError {
    /// The trail contradicts the latest checkpoint (or the anchor file is damaged): anchoring it
    /// now would hide that. Each finding with its chain (`None` for the anchor file).
    Refused(Vec<(Option<String>, Finding)>),
    Failed(anyhow::Error),
}

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckpointError::Refused(findings) => {
                write!(f, "no checkpoint written, the trail does not follow on from the latest one:")?;
                for (chain, finding) in findings {
                    write!(f, "\n  {}: {finding}", chain.as_deref().unwrap_or("anchor file"))?;
                }
                Ok(())
            }
            CheckpointError::Failed(e) => write!(f, "no checkpoint written: {e:#}"),
        }
    }
}

impl From<StoreError> for CheckpointError {
    fn from(e: StoreError) -> Self {
        CheckpointError::Failed(e.into())
    }
}

/// What [`checkpoint`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// Appended: the checkpoint and its lines as written.
    Written(Checkpoint, String),
    /// No chain moved since the latest checkpoint (only when not forced).
    Unchanged,
}

/// Appends a checkpoint of every chain's head to the anchor file, after checking that every
/// chain follows on from the latest checkpoint (only the entries written since are read), so the
/// file never anchors a chain shorter than before. With `force` false, nothing is written when
/// no chain moved.
///
/// A trail with entries older than [`ANCHOR_DUE`] and no checkpoint (the file deleted or
/// emptied) is not anchored afresh: only [`reanchor`], the operator's deliberate act, does.
pub async fn checkpoint(
    store: &dyn Store,
    sealer: &AuditSealer,
    anchors: &Anchors,
    now_ms: i64,
    force: bool,
) -> Result<CheckpointOutcome, CheckpointError> {
    let reading = match anchors.read_appended() {
        Ok(r) => r,
        Err(e) => return Err(CheckpointError::Failed(e.into())),
    };
    let file = reading.is_some();
    let reading = reading.unwrap_or_default();
    if !reading.problems.is_empty() {
        return Err(CheckpointError::Refused(
            reading.problems.into_iter().map(|p| (None, Finding::Anchor(p))).collect(),
        ));
    }
    let heads = store.audit_heads().await?;
    if reading.latest.is_none() {
        let due = AuditFilter {
            until_ms: Some(now_ms - ANCHOR_DUE.as_millis() as i64),
            limit: 1,
            ..AuditFilter::default()
        };
        for h in &heads {
            if !store.audit_entries(&h.chain, &due).await?.is_empty() {
                return Err(CheckpointError::Refused(vec![(None, Finding::AnchorMissing { file })]));
            }
        }
    }
    write_checkpoint(store, sealer, anchors, now_ms, force, reading, heads).await
}

/// Writes the checkpoint of `heads` after `reading` (see [`checkpoint`]).
async fn write_checkpoint(
    store: &dyn Store,
    sealer: &AuditSealer,
    anchors: &Anchors,
    now_ms: i64,
    force: bool,
    reading: AnchorReading,
    heads: Vec<AuditHead>,
) -> Result<CheckpointOutcome, CheckpointError> {
    let mut refused = Vec::new();
    let latest = reading.latest;
    if let Some(latest) = &latest {
        for m in &latest.marks {
            if !heads.iter().any(|h| h.chain == m.chain) {
                refused.push((Some(m.chain.clone()), Finding::Vanished));
            }
        }
    }
    for h in &heads {
        let mark = latest.as_ref().and_then(|c| c.mark(&h.chain));
        if let Some(m) = mark
            && (m.seq, m.seal.as_str()) == (h.seq, h.seal.as_str())
        {
            continue;
        }
        if let Some(finding) = follows_on(store, sealer, h, mark).await? {
            refused.push((Some(h.chain.clone()), finding));
        }
    }
    if !refused.is_empty() {
        return Err(CheckpointError::Refused(refused));
    }
    let marks: Vec<ChainMark> =
        heads.into_iter().map(|h| ChainMark { chain: h.chain, seq: h.seq, seal: h.seal }).collect();
    if !force && latest.as_ref().is_some_and(|c| c.marks == marks) {
        return Ok(CheckpointOutcome::Unchanged);
    }
    let checkpoint = Checkpoint { at_ms: now_ms, marks };
    let lines = anchors.signer().lines(&checkpoint);
    let (writer, text) = (anchors.clone(), lines.clone());
    tokio::task::spawn_blocking(move || writer.append(&text))
        .await
        .map_err(|e| CheckpointError::Failed(e.into()))?
        .map_err(|e| {
            CheckpointError::Failed(anyhow::Error::new(e).context("cannot append to the anchor file"))
        })?;
    Ok(CheckpointOutcome::Written(checkpoint, lines))
}

/// Whether the chain of `head` follows on from its checkpoint `mark`: the entries since are
/// sealed in order after the anchored seal and lead to the head. A chain not yet anchored is
/// taken as far as its head's own entry (reading a whole chain is `verify`'s work, not the
/// server's every minute).
async fn follows_on(
    store: &dyn Store,
    sealer: &AuditSealer,
    head: &AuditHead,
    mark: Option<&ChainMark>,
) -> Result<Option<Finding>, StoreError> {
    let (from_seq, from_seal) = mark.map_or((head.seq, head.seal.as_str()), |m| (m.seq, m.seal.as_str()));
    if head.seq < from_seq {
        return Ok(Some(Finding::BehindAnchor { last: head.seq, anchored: from_seq }));
    }
    let entries = store.audit_chain_from(&head.chain, from_seq.max(1)).await?;
    let mut rest = entries.as_slice();
    if from_seq > 0 {
        // The anchored entry (or, for a new chain, the head's) must still be there, unchanged.
        match entries.first() {
            Some(r) if r.facts.seq == from_seq && r.seal == from_seal => rest = &entries[1..],
            Some(r) if r.facts.seq == from_seq => {
                return Ok(Some(match mark {
                    Some(_) => Finding::DiffersFromAnchor { seq: from_seq },
                    None => Finding::HeadMismatch { seq: from_seq },
                }));
            }
            _ => {
                let last = entries.first().map_or(0, |r| r.facts.seq - 1);
                return Ok(Some(match mark {
                    Some(_) => Finding::BehindAnchor { last, anchored: from_seq },
                    None => Finding::TailCut { last, head: head.seq },
                }));
            }
        }
    }
    // Entries appended after the head was read are not checked now: the next checkpoint does.
    let rest: Vec<&AuditRecord> = rest.iter().take_while(|r| r.facts.seq <= head.seq).collect();
    if let Err(b) = sealer.verify_from(from_seq, from_seal, rest.iter().map(|r| (&r.facts, r.seal.as_str())))
    {
        return Ok(Some(from_break(b)));
    }
    let end = rest.last().map_or((from_seq, from_seal), |r| (r.facts.seq, r.seal.as_str()));
    Ok(match end {
        (seq, _) if seq < head.seq => Some(Finding::TailCut { last: seq, head: head.seq }),
        (_, seal) if seal != head.seal => Some(Finding::HeadMismatch { seq: head.seq }),
        _ => None,
    })
}

/// What [`reanchor`] did.
#[derive(Debug)]
pub struct Reanchored {
    /// Where the old anchor file was moved, if there was one.
    pub archived: Option<PathBuf>,
    /// Whether the trail followed on from the old file (false right after a restore, or after
    /// the file was deleted): what was wrong, for the operator to read.
    pub findings: Vec<(Option<String>, Finding)>,
    pub checkpoint: Checkpoint,
    pub lines: String,
}

/// Starts the anchor file afresh, as the operator's deliberate act: after a restore (the old
/// file anchors a trail newer than the backup), after the file was lost, or to rotate it. The
/// old file is kept under a name with the time (never deleted), the act is recorded in the
/// operator chain with `audit` (`audit.reanchored`, the archived file's name in its detail),
/// and a checkpoint of every chain, that entry included, begins the new file.
pub async fn reanchor(
    store: &dyn Store,
    sealer: &AuditSealer,
    anchors: &Anchors,
    now_ms: i64,
    audit: &AuditDraft,
) -> Result<Reanchored, CheckpointError> {
    let failed = |e: std::io::Error| CheckpointError::Failed(e.into());
    // What the old file says about the trail, for the record.
    let findings = match checkpoint_plan(store, sealer, anchors).await {
        Ok(()) => vec![],
        Err(CheckpointError::Refused(findings)) => findings,
        Err(e) => return Err(e),
    };
    let archived = match std::fs::symlink_metadata(anchors.path()) {
        Ok(_) => {
            let name = anchors.path().file_name().map(|n| n.to_string_lossy().into_owned());
            let stamp = renraku_domain::time_jp::format_iso_jst(now_ms).replace([':', '+'], "");
            let mut to = anchors.path().with_file_name(format!(
                "{}.archived-{stamp}",
                name.as_deref().unwrap_or("audit-anchors.log")
            ));
            let mut n = 1;
            while to.exists() {
                n += 1;
                to = to.with_file_name(format!(
                    "{}.archived-{stamp}-{n}",
                    name.as_deref().unwrap_or("audit-anchors.log")
                ));
            }
            std::fs::rename(anchors.path(), &to).map_err(failed)?;
            Some(to)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(failed(e)),
    };
    let mut entry = audit.clone();
    entry.municipality_id = None;
    entry.action = AuditAction::AuditReanchored;
    entry.object_type = "audit_anchor".into();
    entry.detail = format!(
        "archived={} followed_on={}",
        archived.as_ref().and_then(|p| p.file_name()).map_or("none".into(), |n| n.to_string_lossy()),
        if findings.is_empty() { "yes" } else { "no" }
    );
    store.append_audit(&entry).await?;
    let heads = store.audit_heads().await?;
    match write_checkpoint(store, sealer, anchors, now_ms, true, AnchorReading::default(), heads).await? {
        CheckpointOutcome::Written(checkpoint, lines) => {
            Ok(Reanchored { archived, findings, checkpoint, lines })
        }
        CheckpointOutcome::Unchanged => unreachable!("a forced checkpoint is always written"),
    }
}

/// Whether [`checkpoint`] would write (without writing): the file read whole, then the chains.
async fn checkpoint_plan(
    store: &dyn Store,
    sealer: &AuditSealer,
    anchors: &Anchors,
) -> Result<(), CheckpointError> {
    let reading = anchors.read().map_err(|e| CheckpointError::Failed(e.into()))?.unwrap_or_default();
    if !reading.problems.is_empty() {
        return Err(CheckpointError::Refused(
            reading.problems.into_iter().map(|p| (None, Finding::Anchor(p))).collect(),
        ));
    }
    let heads = store.audit_heads().await?;
    let mut refused = Vec::new();
    for m in reading.latest.iter().flat_map(|c| c.marks.iter()) {
        if !heads.iter().any(|h| h.chain == m.chain) {
            refused.push((Some(m.chain.clone()), Finding::Vanished));
        }
    }
    for h in &heads {
        let mark = reading.latest.as_ref().and_then(|c| c.mark(&h.chain));
        if let Some(finding) = follows_on(store, sealer, h, mark).await? {
            refused.push((Some(h.chain.clone()), finding));
        }
    }
    if refused.is_empty() { Ok(()) } else { Err(CheckpointError::Refused(refused)) }
}

/// Writes a checkpoint of the running server now (when any chain moved, or `force`).
pub async fn checkpoint_now(state: &AppState, force: bool) -> Result<CheckpointOutcome, CheckpointError> {
    let sealer = AuditSealer::new(&state.secrets.audit_key);
    checkpoint(state.store.as_ref(), &sealer, &Anchors::of(state), state.clock.now_ms(), force).await
}

/// The running server's checkpoints: every [`CHECKPOINT_EVERY`] when any chain moved. A refused
/// checkpoint is logged (chain ids and sequence numbers only) and tried again next time.
pub fn spawn_checkpoints(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            log_outcome(checkpoint_now(&state, false).await);
        }
    })
}

/// Logs what a checkpoint attempt did.
pub fn log_outcome(outcome: Result<CheckpointOutcome, CheckpointError>) {
    match outcome {
        Ok(CheckpointOutcome::Written(c, _)) => {
            tracing::debug!(chains = c.marks.len(), "audit checkpoint written");
        }
        Ok(CheckpointOutcome::Unchanged) => {}
        Err(e) => tracing::error!("audit checkpoint: {e}"),
    }
}
