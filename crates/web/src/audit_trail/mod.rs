//! Verifying the audit trail (G1), and anchoring it outside the database. The seals show that no
//! entry was altered or removed from the middle of a chain; what they cannot show alone — a cut
//! tail, a chain deleted whole, a head row moved back to match a cut chain — is checked here
//! against the head rows, the municipalities, and the latest checkpoint in the anchor file.
//! [`verify_trail`] is what `renraku audit verify`, the audit screens and `renraku backup verify`
//! run; [`checkpoint`] appends a checkpoint, refusing one that would bless a shortened chain.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use renraku_domain::audit::{AuditSealer, CHAIN_OPENED_DETAIL, ChainBreak, GENESIS, OPERATOR_CHAIN};
use renraku_domain::audit_action::AuditAction;
use renraku_domain::audit_anchor::{AnchorProblem, AnchorReading, ChainMark, Checkpoint};
use renraku_store::{AuditHead, AuditRecord, Store, StoreError};

mod anchors;
mod checkpoint;

pub use self::anchors::Anchors;
pub use self::checkpoint::{
    CheckpointError, CheckpointOutcome, Reanchored, checkpoint, checkpoint_now, log_outcome, reanchor,
    spawn_checkpoints,
};

/// How often the running server writes a checkpoint (when any chain moved).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// How old an entry must be for the trail to count as one that should have been anchored: the
/// checkpoint interval and ample slack for a server that was restarting. A trail with an older
/// entry and no checkpoint (the anchor file deleted, emptied, or never written) is a finding.
pub const ANCHOR_DUE: Duration = Duration::from_secs(5 * 60);

/// Something wrong with the trail. Sequence numbers only: never what an entry says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The entry's seal does not match its content.
    Altered { seq: i64 },
    /// Entries are missing from the middle (or were inserted).
    Missing { expected: i64, found: i64 },
    /// The head row says the chain is longer than its entries: the tail was cut.
    TailCut { last: i64, head: i64 },
    /// The head row's seal is not the seal of the entry it points to.
    HeadMismatch { seq: i64 },
    /// Entries without a head row.
    NoHead,
    /// A municipality (or the server) without any chain: its entries and head row were deleted.
    Vanished,
    /// The chain does not start with the entry its municipality opened it with.
    Restarted,
    /// The chain ends before the place the latest checkpoint anchored.
    BehindAnchor { last: i64, anchored: i64 },
    /// The entry at the anchored place carries another seal than the checkpoint's.
    DiffersFromAnchor { seq: i64 },
    /// A line of the anchor file is forged, altered, malformed or cut.
    Anchor(AnchorProblem),
    /// The anchor file cannot be read.
    AnchorUnreadable(String),
    /// The trail has entries old enough to have been anchored, but the anchor file is gone
    /// (`file: false`) or holds no checkpoint: it was deleted or emptied, and a cut tail could
    /// go unseen. Stays until the operator re-anchors (`renraku audit checkpoint --after-restore`).
    AnchorMissing { file: bool },
}

impl Finding {
    /// The finding in the words of the audit screen.
    pub fn japanese(&self) -> String {
        match self {
            Finding::Altered { seq } => format!("連番 {seq} の記録が改ざんされています。"),
            Finding::Missing { expected, found } => {
                format!("連番 {expected} の記録が失われています（次に見つかったのは連番 {found}）。")
            }
            Finding::TailCut { last, head } => {
                format!("連番 {last} より後の記録が失われています（最後の記録は連番 {head} のはずです）。")
            }
            Finding::HeadMismatch { seq } => {
                format!("記録の末尾情報が連番 {seq} の記録と一致しません（書き換えられています）。")
            }
            Finding::NoHead => "記録の末尾情報が削除されています。".into(),
            Finding::Vanished => "操作記録がすべて削除されています。".into(),
            Finding::Restarted => {
                "操作記録の始まりが失われています（記録が削除され、新しく始め直されています）。".into()
            }
            Finding::BehindAnchor { last, anchored } => format!(
                "連番 {last} より後の記録が失われています（チェックポイントでは連番 {anchored} まで記録されていました）。"
            ),
            Finding::DiffersFromAnchor { seq } => {
                format!("連番 {seq} の記録がチェックポイントと一致しません（記録が書き換えられています）。")
            }
            Finding::Anchor(AnchorProblem::BadSignature { line }) => {
                format!("チェックポイントファイルの {line} 行目の署名が一致しません（改ざんされています）。")
            }
            Finding::Anchor(AnchorProblem::Malformed { line }) => {
                format!("チェックポイントファイルの {line} 行目が読めません（改ざんされています）。")
            }
            Finding::Anchor(AnchorProblem::Incomplete { line }) => {
                format!("チェックポイントファイルの {line} 行目からのチェックポイントが欠けています。")
            }
            Finding::Anchor(AnchorProblem::GoesBack { line }) => format!(
                "チェックポイントファイルの {line} 行目からのチェックポイントは、それより前のチェックポイントより古いものです（古いチェックポイントが書き足されています）。"
            ),
            Finding::AnchorUnreadable(_) => "チェックポイントファイルを読めません。".into(),
            Finding::AnchorMissing { file: false } => "チェックポイントファイルがありません（削除されたおそれがあります）。末尾の記録の削除を検出できません。運用者が記録し直すまで表示されます。".into(),
            Finding::AnchorMissing { file: true } => "チェックポイントファイルにチェックポイントがありません（消去されたおそれがあります）。末尾の記録の削除を検出できません。運用者が記録し直すまで表示されます。".into(),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Altered { seq } => write!(f, "entry {seq} was altered"),
            Finding::Missing { expected, found } => {
                write!(f, "entry {expected} is missing (next found: {found})")
            }
            Finding::TailCut { last, head } => {
                write!(f, "entries after seq {last} are missing (the head row says the chain ends at {head})")
            }
            Finding::HeadMismatch { seq } => {
                write!(f, "the head row does not match entry {seq} (it was rewritten)")
            }
            Finding::NoHead => write!(f, "the chain's head row was deleted"),
            Finding::Vanished => write!(f, "the chain vanished (its entries and head row were deleted)"),
            Finding::Restarted => {
                write!(f, "the chain lost its beginning (it was deleted and started again)")
            }
            Finding::BehindAnchor { last, anchored } => {
                write!(
                    f,
                    "entries after seq {last} are missing (the latest checkpoint anchored seq {anchored})"
                )
            }
            Finding::DiffersFromAnchor { seq } => {
                write!(
                    f,
                    "entry {seq} is not the one the latest checkpoint anchored (the chain was rewritten)"
                )
            }
            Finding::Anchor(AnchorProblem::BadSignature { line }) => {
                write!(f, "line {line} of the anchor file fails its signature (tampered)")
            }
            Finding::Anchor(AnchorProblem::Malformed { line }) => {
                write!(f, "line {line} of the anchor file is not a checkpoint line (tampered)")
            }
            Finding::Anchor(AnchorProblem::Incomplete { line }) => {
                write!(
                    f,
                    "the checkpoint from line {line} of the anchor file is incomplete (lines removed or cut)"
                )
            }
            Finding::Anchor(AnchorProblem::GoesBack { line }) => {
                write!(
                    f,
                    "the checkpoint from line {line} of the anchor file is older than one before it (an old checkpoint was appended again)"
                )
            }
            Finding::AnchorUnreadable(e) => write!(f, "the anchor file cannot be read: {e}"),
            Finding::AnchorMissing { file } => write!(
                f,
                "{} although the trail has entries old enough to be anchored (deleted?): \
                 re-anchor with `renraku audit checkpoint --after-restore`",
                if *file { "the anchor file holds no checkpoint" } else { "there is no anchor file" }
            ),
        }
    }
}

fn from_break(b: ChainBreak) -> Finding {
    match b {
        ChainBreak::Altered { seq } => Finding::Altered { seq },
        ChainBreak::Gap { expected, found } => Finding::Missing { expected, found },
    }
}

/// One chain's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// A municipality's id, or [`OPERATOR_CHAIN`].
    pub chain: String,
    /// Entries whose seals were checked.
    pub entries: u64,
    /// The place the latest checkpoint anchored for this chain.
    pub anchored_seq: Option<i64>,
    pub findings: Vec<Finding>,
}

/// The verdict on the trail (or on one chain of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailReport {
    pub chains: Vec<ChainReport>,
    /// The latest valid checkpoint, if the anchor file holds one.
    pub checkpoint: Option<Checkpoint>,
    /// Whether an anchor file exists at all.
    pub anchor_file: bool,
    /// What is wrong with the anchor file itself.
    pub anchor_findings: Vec<Finding>,
}

impl TrailReport {
    pub fn intact(&self) -> bool {
        self.anchor_findings.is_empty() && self.chains.iter().all(|c| c.findings.is_empty())
    }
}

/// Which chains to verify.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every chain, every municipality, every anchored chain.
    All,
    /// One chain: a municipality's id or [`OPERATOR_CHAIN`].
    Chain(&'a str),
}

/// Verifies the trail: every chain's seals, its end against its head row, that every
/// municipality (and, once there is one, the server) still has its chain and that it starts with
/// its opening entry, and every chain against the latest checkpoint of `anchors`.
pub async fn verify_trail(
    store: &dyn Store,
    sealer: &AuditSealer,
    anchors: &Anchors,
    scope: Scope<'_>,
) -> Result<TrailReport, StoreError> {
    let mut anchor_findings = Vec::new();
    let (reading, anchor_file) = match anchors.read() {
        Ok(Some(reading)) => (reading, true),
        Ok(None) => (AnchorReading::default(), false),
        Err(e) => {
            anchor_findings.push(Finding::AnchorUnreadable(e.to_string()));
            (AnchorReading::default(), true)
        }
    };
    anchor_findings.extend(reading.problems.iter().cloned().map(Finding::Anchor));
    let checkpoint = reading.latest;
    // Read in this order while the server runs: a chain gets its head row with its first entry
    // (a municipality with its chain), so every municipality and chain listed has its head in the
    // heads read next; and entries appended after the heads were read lie beyond them.
    let municipalities: BTreeSet<String> =
        store.municipalities().await?.into_iter().map(|m| m.id.to_string()).collect();
    let listed = match scope {
        Scope::All => store.audit_chains().await?,
        Scope::Chain(_) => vec![],
    };
    let heads: BTreeMap<String, AuditHead> =
        store.audit_heads().await?.into_iter().map(|h| (h.chain.clone(), h)).collect();
    let operator = store.audit_chain(OPERATOR_CHAIN).await?;
    let operator_head = heads.get(OPERATOR_CHAIN).map_or(0, |h| h.seq);
    // Municipalities whose creation (sealed in the operator chain) opened their own chain.
    let opened: BTreeSet<&str> = operator
        .iter()
        .filter(|r| {
            r.facts.seq <= operator_head
                && r.facts.action == AuditAction::MunicipalityCreate.code()
                && r.facts.detail.split_whitespace().any(|d| d == CHAIN_OPENED_DETAIL)
        })
        .map(|r| r.facts.object_id.as_str())
        .collect();
    let chains: BTreeSet<String> = match scope {
        Scope::Chain(chain) => BTreeSet::from([chain.to_string()]),
        Scope::All => {
            let mut all: BTreeSet<String> = listed.into_iter().collect();
            all.extend(municipalities.iter().cloned());
            // A municipality deleted with its chain still shows through its sealed creation.
            all.extend(opened.iter().map(|id| id.to_string()));
            all.extend(checkpoint.iter().flat_map(|c| c.marks.iter().map(|m| m.chain.clone())));
            if !municipalities.is_empty() {
                // Every municipality's creation is an operator event.
                all.insert(OPERATOR_CHAIN.to_string());
            }
            all
        }
    };
    let mut reports = Vec::new();
    let mut oldest_ms = i64::MAX;
    for chain in chains {
        let entries =
            if chain == OPERATOR_CHAIN { operator.clone() } else { store.audit_chain(&chain).await? };
        oldest_ms = entries.iter().map(|r| r.facts.at_ms).fold(oldest_ms, i64::min);
        let must_exist = municipalities.contains(&chain)
            || opened.contains(chain.as_str())
            || (chain == OPERATOR_CHAIN && !municipalities.is_empty());
        let mark = checkpoint.as_ref().and_then(|c| c.mark(&chain));
        let mut report = check_chain(sealer, &chain, &entries, heads.get(&chain), must_exist, mark);
        if opened.contains(chain.as_str())
            && entries.first().is_some_and(|first| first.facts.action != AuditAction::AuditChainOpened.code())
        {
            report.findings.push(Finding::Restarted);
        }
        reports.push(report);
    }
    if checkpoint.is_none()
        && anchor_findings.is_empty()
        && anchors.due_before_ms.is_some_and(|due| oldest_ms < due)
    {
        anchor_findings.push(Finding::AnchorMissing { file: anchor_file });
    }
    Ok(TrailReport { chains: reports, checkpoint, anchor_file, anchor_findings })
}

/// One chain against its seals, its head row and its checkpoint mark.
fn check_chain(
    sealer: &AuditSealer,
    chain: &str,
    entries: &[AuditRecord],
    head: Option<&AuditHead>,
    must_exist: bool,
    mark: Option<&ChainMark>,
) -> ChainReport {
    let mut findings = Vec::new();
    let verified = sealer.verify(entries.iter().map(|r| (&r.facts, r.seal.as_str())));
    let count = match verified {
        Ok(n) => n,
        Err(b) => {
            findings.push(from_break(b));
            0
        }
    };
    let last = entries.last().map_or(0, |r| r.facts.seq);
    let at = |seq: i64| entries.iter().find(|r| r.facts.seq == seq);
    match head {
        None if entries.is_empty() && (must_exist || mark.is_some()) => findings.push(Finding::Vanished),
        None if !entries.is_empty() => findings.push(Finding::NoHead),
        None => {}
        Some(h) if h.seq > last => findings.push(Finding::TailCut { last, head: h.seq }),
        Some(h) => {
            let seal = if h.seq == 0 { Some(GENESIS) } else { at(h.seq).map(|r| r.seal.as_str()) };
            if seal != Some(h.seal.as_str()) {
                findings.push(Finding::HeadMismatch { seq: h.seq });
            }
        }
    }
    if let Some(m) = mark
        && !findings.contains(&Finding::Vanished)
    {
        match at(m.seq) {
            _ if last < m.seq => findings.push(Finding::BehindAnchor { last, anchored: m.seq }),
            Some(r) if r.seal != m.seal => findings.push(Finding::DiffersFromAnchor { seq: m.seq }),
            Some(_) => {}
            // Entries around the anchored place are gone: the gap is reported already.
            None => {}
        }
    }
    ChainReport { chain: chain.to_string(), entries: count, anchored_seq: mark.map(|m| m.seq), findings }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn checkpoint(at_ms: i64, seq: i64) -> Checkpoint {
        Checkpoint { at_ms, marks: vec![ChainMark { chain: "m1".into(), seq, seal: format!("{seq:064x}") }] }
    }

    /// The server's read every minute starts where the previous one stopped: a byte changed in
    /// place far back is not read again (verification, which reads the whole file, finds it).
    #[test]
    fn the_servers_read_starts_where_the_previous_one_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let anchors = Anchors::new(dir.path().join("audit-anchors.log"), b"key");
        let first = anchors.signer().lines(&checkpoint(1, 3));
        anchors.append(&first).unwrap();
        assert_eq!(anchors.read_appended().unwrap().unwrap().latest, Some(checkpoint(1, 3)));
        let len = std::fs::metadata(anchors.path()).unwrap().len();
        // The first line's last character changed in place (same length, same file).
        let mut bytes = std::fs::read(anchors.path()).unwrap();
        let at = first.lines().next().unwrap().len() - 1;
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        std::fs::OpenOptions::new()
            .write(true)
            .open(anchors.path())
            .map(|mut f| {
                std::io::Write::write_all(&mut f, &bytes).unwrap();
            })
            .unwrap();
        assert_eq!(std::fs::metadata(anchors.path()).unwrap().len(), len);
        anchors.append(&anchors.signer().lines(&checkpoint(2, 4))).unwrap();
        let appended = anchors.read_appended().unwrap().unwrap();
        assert_eq!(appended.problems, vec![], "only the new lines were read");
        assert_eq!(appended.latest, Some(checkpoint(2, 4)));
        let whole = anchors.read().unwrap().unwrap();
        assert_eq!(whole.problems, vec![AnchorProblem::BadSignature { line: 1 }]);
        // A file replaced (another inode) is read from its start again.
        let replaced = dir.path().join("new");
        std::fs::write(&replaced, anchors.signer().lines(&checkpoint(5, 9))).unwrap();
        std::fs::rename(&replaced, anchors.path()).unwrap();
        assert_eq!(anchors.read_appended().unwrap().unwrap().latest, Some(checkpoint(5, 9)));
        std::fs::remove_file(anchors.path()).unwrap();
        assert_eq!(anchors.read_appended().unwrap(), None);
    }
}
