//! Verifying the audit trail (G1), and anchoring it outside the database. The seals show that no
//! entry was altered or removed from the middle of a chain; what they cannot show alone — a cut
//! tail, a chain deleted whole, a head row moved back to match a cut chain — is checked here
//! against the head rows, the municipalities, and the latest checkpoint in the anchor file.
//! [`verify_trail`] is what `renraku audit verify`, the audit screens and `renraku backup verify`
//! run; [`checkpoint`] appends a checkpoint, refusing one that would bless a shortened chain.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use renraku_domain::audit::{AuditSealer, CHAIN_OPENED_DETAIL, ChainBreak, GENESIS, OPERATOR_CHAIN};
use renraku_domain::audit_action::AuditAction;
use renraku_domain::audit_anchor::{
    AnchorProblem, AnchorReader, AnchorReading, AnchorSigner, ChainMark, Checkpoint,
};
use renraku_store::{AuditDraft, AuditFilter, AuditHead, AuditRecord, Store, StoreError};

use crate::AppState;

/// How often the running server writes a checkpoint (when any chain moved).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// How old an entry must be for the trail to count as one that should have been anchored: the
/// checkpoint interval and ample slack for a server that was restarting. A trail with an older
/// entry and no checkpoint (the anchor file deleted, emptied, or never written) is a finding.
pub const ANCHOR_DUE: Duration = Duration::from_secs(5 * 60);

/// The anchor file: checkpoints appended outside the database.
#[derive(Debug, Clone)]
pub struct Anchors {
    path: PathBuf,
    signer: AnchorSigner,
    /// Entries older than this should be anchored (`None`: no anchor file is expected, as for a
    /// backup checked on its own).
    due_before_ms: Option<i64>,
}

impl Anchors {
    /// An anchor file that is not expected to exist (a backup's copy of the trail is checked
    /// without the live installation's newer checkpoints).
    pub fn new(path: impl Into<PathBuf>, anchor_key: &[u8]) -> Self {
        Self { path: path.into(), signer: AnchorSigner::new(anchor_key), due_before_ms: None }
    }

    /// The anchor file of a running server (or of the installation the CLI works on): a trail
    /// with entries older than [`ANCHOR_DUE`] must have a checkpoint in it.
    pub fn of(state: &AppState) -> Self {
        Self {
            due_before_ms: Some(state.clock.now_ms() - ANCHOR_DUE.as_millis() as i64),
            ..Self::new(state.config.audit_anchor_path.clone(), &state.secrets.anchor_key)
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn signer(&self) -> &AnchorSigner {
        &self.signer
    }

    /// The file as read, or `None` when there is no file yet.
    pub fn read(&self) -> std::io::Result<Option<AnchorReading>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(self.signer.read(&text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The file as read, reading only what was appended since this process last read it (the
    /// running server's checkpoints every minute: work bounded by the number of chains, not by
    /// the size of the file). The whole file is read again when it was replaced (another
    /// inode), shortened, or is read with another key. Rewrites of earlier bytes in place are
    /// for [`Anchors::read`] (every verification) to find.
    pub fn read_appended(&self) -> std::io::Result<Option<AnchorReading>> {
        use std::io::{Read as _, Seek as _};
        let mut tails = TAILS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tails.remove(&self.path);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        let id = file_id(&meta);
        let key = self.signer.fingerprint();
        let mut tail = match tails.remove(&self.path) {
            Some(t) if t.id == id && t.key == key && t.offset <= meta.len() => t,
            _ => Tail { id, key, offset: 0, reader: AnchorReader::default() },
        };
        file.seek(std::io::SeekFrom::Start(tail.offset))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        // Whole lines only: another process may be in the middle of appending.
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        tail.reader.feed(&self.signer, &String::from_utf8_lossy(&bytes[..whole]));
        tail.offset += whole as u64;
        let reading = tail.reader.reading();
        tails.insert(self.path.clone(), tail);
        Ok(Some(reading))
    }

    /// Appends `text` in one write, under an exclusive lock (several processes may append), and
    /// waits until it is on disk.
    fn append(&self, text: &str) -> std::io::Result<()> {
        use std::io::Write as _;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path)?;
        file.lock()?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    }
}

/// What a process has read of an anchor file so far ([`Anchors::read_appended`]).
struct Tail {
    id: (u64, u64),
    key: String,
    offset: u64,
    reader: AnchorReader,
}

static TAILS: LazyLock<Mutex<BTreeMap<PathBuf, Tail>>> = LazyLock::new(Default::default);

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(meta: &std::fs::Metadata) -> (u64, u64) {
    let created = meta.created().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    (0, created.map_or(0, |d| d.as_nanos() as u64))
}

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
