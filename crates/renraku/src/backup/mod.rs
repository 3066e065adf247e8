//! `renraku backup`, `renraku backup verify` and `renraku restore`: consistent copies of a
//! running installation (the database and the encrypted attachments, with a manifest of sizes
//! and SHA-256 hashes), kept in generations, checked before anyone relies on them, and put back
//! into an empty data directory. The master secret is never copied (the operator keeps it
//! apart); the database copy is in clear, so generations are readable by the server's user only.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use hmac::Mac as _;
use renraku_domain::audit_action::AuditAction;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Database, ensure_private_dir, write_private};

mod check;
mod files;
mod postgres;
mod restore;

use self::check::{manifest_mac, read_manifest, verify};
use self::files::{copy_tree, entry, private_dir, read_only_tree, set_mode, writable_tree};
use self::postgres::{dump_postgres, explain_postgres, on_path};
pub use self::restore::restore;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// Where the generations go, each in its own `renraku-YYYYMMDD-HHMMSS` folder
    /// (default: data_dir/backups).
    #[arg(long)]
    to: Option<PathBuf>,
    /// How many generations to keep (the newest); older ones are deleted.
    #[arg(long, default_value_t = 7)]
    keep: usize,
}

#[derive(clap::Subcommand)]
enum BackupCommand {
    /// Check a backup: every file's size and hash, the database's integrity, the audit chains'
    /// seals and that every attachment decrypts. Exit 1 if anything is wrong.
    Verify {
        /// The backup's folder (a `renraku-YYYYMMDD-HHMMSS` generation).
        dir: PathBuf,
        /// The master secret kept apart from the backups (default: the configured one).
        #[arg(long)]
        secret_key_file: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup's folder (a `renraku-YYYYMMDD-HHMMSS` generation).
    dir: PathBuf,
    /// The master secret kept apart from the backups; copied into the new data directory as
    /// `secret.key`. Not needed when `secret_key` is configured.
    #[arg(long)]
    secret_key_file: Option<PathBuf>,
}

/// What a backup holds, written last: a folder without it is not a backup. Signed in
/// `manifest.hmac` (HMAC-SHA256 of the file's bytes with a key derived from the master secret),
/// so someone who can write to the backups but does not hold the secret cannot change a file
/// and its hash, add a file or leave one out.
#[derive(Serialize, Deserialize)]
struct Manifest {
    /// The manifest's own format.
    format: u32,
    renraku_version: String,
    /// UTC, RFC 3339.
    created_at: String,
    created_at_ms: i64,
    /// `sqlite` or `postgres`.
    backend: String,
    /// Where the attachments were: `files/` (copied) or an S3 bucket (not copied).
    attachments: String,
    /// Always "not included": the master secret is kept apart.
    master_secret: String,
    files: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    /// Relative to the backup's folder, with `/`.
    path: String,
    size: u64,
    sha256: String,
}

const MANIFEST: &str = "manifest.json";
const MANIFEST_MAC: &str = "manifest.hmac";
const SQLITE_FILE: &str = "renraku.db";
const PG_FILE: &str = "renraku.pgdump";
const PREFIX: &str = "renraku-";

pub async fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(BackupCommand::Verify { dir, secret_key_file }) => {
            let master = master_secret(config, secret_key_file.as_deref())?;
            let problems = verify(&dir, &master).await?;
            if problems.is_empty() {
                println!("ok      {}: the backup is complete and intact", dir.display());
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &problems {
                    println!("BROKEN  {p}");
                }
                Ok(ExitCode::from(1))
            }
        }
        None => create(config, args.to, args.keep).await,
    }
}

async fn create(config: &Config, to: Option<PathBuf>, keep: usize) -> anyhow::Result<ExitCode> {
    if keep == 0 {
        bail!("--keep must be at least 1");
    }
    if let Database::Postgres(url) = config.database()
        && on_path("pg_dump").is_none()
    {
        return explain_postgres(&url).await;
    }
    let root = to.unwrap_or_else(|| config.data_dir.join("backups"));
    ensure_private_dir(&root)?;
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!("[year][month][day]-[hour][minute][second]"))
        .context("cannot format the time")?;
    let mut name = format!("{PREFIX}{stamp}");
    let mut n = 1;
    while root.join(&name).exists() || root.join(format!(".{name}.partial")).exists() {
        n += 1;
        name = format!("{PREFIX}{stamp}-{n}");
    }
    // Built under a hidden name and renamed when complete, so a half-done backup (a crash, a
    // full disk) never looks like one.
    let partial = root.join(format!(".{name}.partial"));
    private_dir(&partial)?;
    let key = renraku_web::Secrets::derive(&config.master_secret()?).backup_key;
    let manifest = match fill(config, &partial, now, &key).await {
        Ok(manifest) => manifest,
        Err(e) => {
            writable_tree(&partial).ok();
            fs::remove_dir_all(&partial).ok();
            return Err(e);
        }
    };
    let done = root.join(&name);
    fs::rename(&partial, &done).with_context(|| format!("cannot rename {}", partial.display()))?;
    File::open(&root).and_then(|d| d.sync_all()).ok();
    read_only_tree(&done)?;
    // A copy of everyone's records was made: the operator's chain says who made it, and where.
    let state = crate::open(config).await?;
    let mut audit = crate::cli_audit(None, AuditAction::BackupCreate, "backup", &name);
    audit.detail = format!("to={} backend={}", root.display(), manifest.backend);
    state.store.append_audit(&audit).await?;
    let size: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "backup written to {} ({} files, {:.1} MB)",
        done.display(),
        manifest.files.len(),
        size as f64 / 1_000_000.0
    );
    if manifest.attachments.starts_with("s3://") {
        println!("attachments are in {}", manifest.attachments);
    }
    let removed = prune(&root, keep)?;
    for old in removed {
        println!("removed the older generation {}", old.display());
    }
    println!(
        "The master secret is not in the backup: keep secret.key (or secret_key) apart, e.g. offline. \
         Without it the audit trail cannot be verified, attachments cannot be decrypted and TOTP secrets cannot be read."
    );
    Ok(ExitCode::SUCCESS)
}

/// Copies the database, then the attachments, into `partial` and writes the manifest.
async fn fill(
    config: &Config,
    partial: &Path,
    now: time::OffsetDateTime,
    key: &[u8],
) -> anyhow::Result<Manifest> {
    let mut files = vec![];
    let backend = match config.database() {
        Database::Sqlite(db) => {
            let copy = partial.join(SQLITE_FILE);
            renraku_store_sqlite::backup::snapshot(&db, &copy).await?;
            set_mode(&copy, 0o600)?;
            files.push(entry(partial, &copy)?);
            "sqlite"
        }
        Database::Postgres(url) => {
            let pg_dump = on_path("pg_dump").context("pg_dump is not on PATH")?;
            let copy = partial.join(PG_FILE);
            dump_postgres(&pg_dump, &url, &copy)?;
            set_mode(&copy, 0o600)?;
            files.push(entry(partial, &copy)?);
            "postgres"
        }
    };
    // After the database: every file a copied post refers to was written before its post was
    // committed, so it is here too (files written later are copied as well, harmlessly).
    let attachments = match config.s3() {
        Some(s3) => format!(
            "s3://{}/{} (not copied: the bucket's versioning or replication is the provider's to keep)",
            s3.bucket, s3.prefix
        ),
        None => {
            let source = config.data_dir.join("files");
            if source.is_dir() {
                copy_tree(&source, &partial.join("files"), partial, &mut files)?;
            }
            "files/".into()
        }
    };
    let manifest = Manifest {
        format: 2,
        renraku_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now.format(&time::format_description::well_known::Rfc3339).context("time")?,
        created_at_ms: (now.unix_timestamp_nanos() / 1_000_000) as i64,
        backend: backend.into(),
        attachments,
        master_secret: "not included: keep secret.key (or secret_key) apart from the backups".into(),
        files,
    };
    let bytes = serde_json::to_vec_pretty(&manifest)?;
    write_private(&partial.join(MANIFEST), &bytes)?;
    write_private(
        &partial.join(MANIFEST_MAC),
        hex::encode(manifest_mac(key).chain_update(&bytes).finalize().into_bytes()).as_bytes(),
    )?;
    Ok(manifest)
}

/// Keeps the newest `keep` complete generations under `root`; returns what it removed.
fn prune(root: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut generations = vec![];
    for e in fs::read_dir(root)? {
        let path = e?.path();
        let is_generation = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX));
        if !is_generation || !path.is_dir() {
            continue;
        }
        // Only complete generations count (and are ever removed).
        let Ok(manifest) = read_manifest(&path) else { continue };
        generations.push((manifest.created_at_ms, path));
    }
    generations.sort();
    let excess = generations.len().saturating_sub(keep);
    let mut removed = vec![];
    for (_, path) in generations.into_iter().take(excess) {
        writable_tree(&path)?;
        fs::remove_dir_all(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        removed.push(path);
    }
    Ok(removed)
}

/// The master secret for checking a backup, never a new one: configured, from a file, or the
/// data directory's `secret.key` if it exists.
fn master_secret(config: &Config, file: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    if let Some(file) = file {
        return read_secret_file(file);
    }
    if config.secret_key.is_empty() && !config.data_dir.join("secret.key").exists() {
        bail!(
            "no master secret: give the secret.key kept apart with --secret-key-file, or set secret_key / RENRAKU_SECRET_KEY"
        );
    }
    config.master_secret()
}

fn read_secret_file(file: &Path) -> anyhow::Result<Vec<u8>> {
    let text = fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let key = hex::decode(text.trim()).with_context(|| format!("{} is not hex", file.display()))?;
    anyhow::ensure!(key.len() >= 32, "{} does not hold a master secret (64 hex characters)", file.display());
    Ok(key)
}
