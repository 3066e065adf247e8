//! The anchor file: signed checkpoints of every chain, appended outside the database, and what
//! a process has read of it so far.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use renraku_domain::audit_anchor::{AnchorReader, AnchorReading, AnchorSigner};

use super::ANCHOR_DUE;
use crate::AppState;

/// The anchor file: checkpoints appended outside the database.
#[derive(Debug, Clone)]
pub struct Anchors {
    path: PathBuf,
    signer: AnchorSigner,
    /// Entries older than this should be anchored (`None`: no anchor file is expected, as for a
    /// backup checked on its own).
    pub(super) due_before_ms: Option<i64>,
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
    pub(super) fn append(&self, text: &str) -> std::io::Result<()> {
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
