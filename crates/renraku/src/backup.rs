//! `renraku backup`, `renraku backup verify` and `renraku restore`: consistent copies of a
//! running installation (the database and the encrypted attachments, with a manifest of sizes
//! and SHA-256 hashes), kept in generations, checked before anyone relies on them, and put back
//! into an empty data directory. The master secret is never copied (the operator keeps it
//! apart); the database copy is in clear, so generations are readable by the server's user only.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use hmac::{Hmac, Mac as _};
use renraku_attachments::blobs::{BlobStore as _, EncryptedDir};
use renraku_domain::audit::AuditSealer;
use renraku_domain::audit_action::AuditAction;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::config::{Config, Database, ensure_private_dir, write_private};

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

fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let bytes = fs::read(dir.join(MANIFEST))
        .with_context(|| format!("{} has no {MANIFEST}: not a complete backup", dir.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a Renraku manifest", dir.display()))
}

fn manifest_mac(key: &[u8]) -> Hmac<Sha256> {
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(key) else { unreachable!("HMAC takes any key length") };
    mac
}

/// The manifest, once its signature is checked (in constant time) against the master
/// secret's key; `Err` is the problem to report.
fn signed_manifest(dir: &Path, master: &[u8]) -> anyhow::Result<Result<Manifest, String>> {
    let bytes = fs::read(dir.join(MANIFEST))
        .with_context(|| format!("{} has no {MANIFEST}: not a complete backup", dir.display()))?;
    let Ok(signature) = fs::read_to_string(dir.join(MANIFEST_MAC)) else {
        return Ok(Err(format!("{MANIFEST}: it is not signed ({MANIFEST_MAC} is missing)")));
    };
    let key = renraku_web::Secrets::derive(master).backup_key;
    let valid = hex::decode(signature.trim())
        .is_ok_and(|mac| manifest_mac(&key).chain_update(&bytes).verify_slice(&mac).is_ok());
    if !valid {
        return Ok(Err(format!(
            "{MANIFEST}: its signature does not match: the backup was changed after it was made, \
             or the master secret is not this installation's"
        )));
    }
    match serde_json::from_slice(&bytes) {
        Ok(manifest) => Ok(Ok(manifest)),
        Err(e) => Ok(Err(format!("{MANIFEST}: not a Renraku manifest ({e})"))),
    }
}

/// Every file under `dir` (relative, with `/`) that is not a regular file or that `listed`
/// does not name: nothing in a backup goes unchecked.
fn unlisted(dir: &Path, at: &Path, listed: &HashSet<&str>, problems: &mut Vec<String>) -> anyhow::Result<()> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(at)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let rel = relative(dir, &path)?;
        let kind = e.file_type()?;
        if kind.is_dir() {
            unlisted(dir, &path, listed, problems)?;
        } else if !kind.is_file() {
            problems.push(format!("{rel}: not a regular file (a link or a device has no place in a backup)"));
        } else if !listed.contains(rel.as_str()) {
            problems.push(format!("{rel}: not listed in the manifest (added after the backup was made)"));
        }
    }
    Ok(())
}

/// Every check of a backup; returns the problems (empty: intact). The manifest's signature
/// comes first: nothing else of a backup is trusted before it.
async fn verify(dir: &Path, master: &[u8]) -> anyhow::Result<Vec<String>> {
    let manifest = match signed_manifest(dir, master)? {
        Ok(manifest) => manifest,
        Err(problem) => return Ok(vec![problem]),
    };
    let mut problems = vec![];
    let database = match manifest.backend.as_str() {
        "sqlite" => SQLITE_FILE,
        "postgres" => PG_FILE,
        other => return Ok(vec![format!("unknown backend {other:?} in the manifest")]),
    };
    if !manifest.files.iter().any(|f| f.path == database) {
        problems.push(format!("the manifest does not list {database}: a backup without its database"));
    }
    let mut listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    listed.extend([MANIFEST, MANIFEST_MAC]);
    unlisted(dir, dir, &listed, &mut problems)?;
    for f in &manifest.files {
        let Some(path) = inside(dir, &f.path) else {
            problems.push(format!("{}: a path outside the backup", f.path));
            continue;
        };
        match hash_file(&path) {
            Ok((size, sha256)) if size == f.size && sha256 == f.sha256 => {}
            Ok((size, _)) if size != f.size => {
                problems.push(format!("{}: {size} bytes, the manifest says {}", f.path, f.size))
            }
            Ok(_) => problems.push(format!("{}: the content differs from the manifest (hash)", f.path)),
            Err(e) => problems.push(format!("{}: cannot read ({e})", f.path)),
        }
    }
    if !problems.is_empty() {
        // A copy that does not match its manifest is not opened any further.
        return Ok(problems);
    }
    match manifest.backend.as_str() {
        "sqlite" => verify_sqlite(dir, &manifest, master, &mut problems).await?,
        "postgres" => {
            if let Some(pg_restore) = on_path("pg_restore") {
                let out =
                    std::process::Command::new(pg_restore).arg("--list").arg(dir.join(PG_FILE)).output()?;
                if !out.status.success() {
                    problems.push(format!(
                        "{PG_FILE}: pg_restore cannot read it: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
            }
            println!(
                "note    the audit chains of a PostgreSQL dump are checked after restoring it \
                 (pg_restore into an empty database, then renraku audit verify)"
            );
        }
        other => problems.push(format!("unknown backend {other:?} in the manifest")),
    }
    Ok(problems)
}

async fn verify_sqlite(
    dir: &Path,
    manifest: &Manifest,
    master: &[u8],
    problems: &mut Vec<String>,
) -> anyhow::Result<()> {
    let db = dir.join(SQLITE_FILE);
    for p in renraku_store_sqlite::backup::integrity_problems(&db).await? {
        problems.push(format!("{SQLITE_FILE}: {p}"));
    }
    if !problems.is_empty() {
        return Ok(());
    }
    let secrets = renraku_web::Secrets::derive(master);
    // The audit chains, with the same check as `renraku audit verify`, on a scratch copy (the
    // store brings the copy's schema up to date; the backup itself stays untouched).
    let scratch = tempfile::tempdir()?;
    fs::copy(&db, scratch.path().join(SQLITE_FILE))?;
    let store = renraku_store_sqlite::SqliteStore::open(
        &scratch.path().join(SQLITE_FILE),
        AuditSealer::new(&secrets.audit_key),
    )
    .await?;
    // The live installation's checkpoints are newer than any backup, so the copy is checked
    // by its seals, head rows and municipalities only.
    let no_checkpoints =
        renraku_web::audit_trail::Anchors::new(scratch.path().join("no-checkpoints"), &secrets.anchor_key);
    if !crate::verify_chains(&store, &secrets, &no_checkpoints, None).await? {
        problems.push(
            "the audit trail is broken (see above), or the master secret is not this installation's".into(),
        );
    }
    // Every attachment the database refers to is in the backup and decrypts with the secret.
    let keys = renraku_store_sqlite::backup::attachment_keys(&db).await?;
    if manifest.attachments.starts_with("s3://") {
        println!("note    {} attachments are in {}; not checked", keys.len(), manifest.attachments);
    } else if !keys.is_empty() {
        let files = dir.join("files");
        let blobs = if files.is_dir() { Some(EncryptedDir::new(files, &secrets.files_key)?) } else { None };
        let mut unreadable = 0;
        for key in &keys {
            let ok = match &blobs {
                Some(b) => b.get(key).await.is_ok(),
                None => false,
            };
            if !ok {
                unreadable += 1;
            }
        }
        if unreadable > 0 {
            problems.push(format!(
                "{unreadable} of {} attachment files are missing or do not decrypt",
                keys.len()
            ));
        } else {
            println!("ok      {} attachment files decrypt", keys.len());
        }
    }
    Ok(())
}

pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let data_dir = config.data_dir.clone();
    match config.database() {
        Database::Sqlite(db) if db == data_dir.join(SQLITE_FILE) => {}
        Database::Sqlite(db) => bail!(
            "restore puts the database in data_dir/{SQLITE_FILE}; database_url names {} instead",
            db.display()
        ),
        Database::Postgres(_) => bail!(
            "a PostgreSQL backup is restored with pg_restore: create an empty database, run \
             `pg_restore --no-owner --dbname URL BACKUP/{PG_FILE}`, copy BACKUP/files/ to data_dir/files/ \
             (unless attachments are in S3), and give the server the same master secret"
        ),
    }
    if data_dir.exists() && fs::read_dir(&data_dir)?.next().is_some() {
        bail!(
            "refusing to restore into {}: it is not empty (restore into a new, empty directory)",
            data_dir.display()
        );
    }
    let manifest = read_manifest(&args.dir)?;
    if manifest.backend != "sqlite" {
        bail!("this is a {} backup; see `renraku restore --help`", manifest.backend);
    }
    let (master, secret_file) = match (&args.secret_key_file, config.secret_key.is_empty()) {
        (Some(file), _) => (read_secret_file(file)?, Some(fs::read_to_string(file)?)),
        (None, false) => (config.master_secret()?, None),
        (None, true) => bail!(
            "the master secret is not in the backup: give the secret.key you keep apart with \
             --secret-key-file, or set secret_key / RENRAKU_SECRET_KEY"
        ),
    };
    let problems = verify(&args.dir, &master).await?;
    if !problems.is_empty() {
        for p in &problems {
            println!("BROKEN  {p}");
        }
        bail!("the backup did not pass its checks; nothing was restored");
    }
    // Assembled next to the data directory and renamed into place, so a failed restore leaves
    // no half-filled data directory behind.
    let name = data_dir.file_name().and_then(|n| n.to_str()).context("the data directory needs a name")?;
    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let staging = parent.join(format!(".{name}.restoring-{}", std::process::id()));
    private_dir(&staging)?;
    let result = (|| -> anyhow::Result<()> {
        let mut ignored = vec![];
        copy_file(&args.dir.join(SQLITE_FILE), &staging.join(SQLITE_FILE))?;
        if args.dir.join("files").is_dir() {
            copy_tree(&args.dir.join("files"), &staging.join("files"), &staging, &mut ignored)?;
        }
        if let Some(secret) = &secret_file {
            write_private(&staging.join("secret.key"), secret.as_bytes())?;
        }
        if data_dir.exists() {
            fs::remove_dir(&data_dir)?;
        }
        fs::rename(&staging, &data_dir)?;
        Ok(())
    })();
    if let Err(e) = result {
        writable_tree(&staging).ok();
        fs::remove_dir_all(&staging).ok();
        return Err(e);
    }
    // The restored installation remembers where it came from.
    let state = crate::open(config).await?;
    let generation = args.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut audit = crate::cli_audit(None, AuditAction::BackupRestore, "backup", &generation);
    audit.detail = format!("created_at={}", manifest.created_at);
    state.store.append_audit(&audit).await?;
    println!(
        "restored the backup of {} into {}; start the server with --data-dir {}",
        manifest.created_at,
        data_dir.display(),
        data_dir.display()
    );
    // The anchor file (outside data_dir, as recommended) anchors the trail as it was before the
    // restore: checkpoints would be refused and every chain would look cut until it starts afresh.
    let anchors = config.audit_anchor_path();
    if anchors.exists() {
        println!(
            "\nThe audit anchor file {} holds checkpoints of the trail as it was before this restore, \
             newer than the backup. Before starting the server, run\n\n    \
             renraku audit checkpoint --after-restore\n\n(with the same configuration): it keeps the old \
             file under a new name and starts a fresh one from the restored trail.",
            anchors.display()
        );
    } else {
        println!(
            "\nThere is no audit anchor file at {}. Before starting the server, run\n\n    \
             renraku audit checkpoint --after-restore\n\n(with the same configuration) to anchor the \
             restored trail; until then `renraku audit verify` reports the missing checkpoints.",
            anchors.display()
        );
    }
    Ok(ExitCode::SUCCESS)
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

/// `pg_dump` in its custom format (compressed; `pg_restore` can list and pick from it).
fn dump_postgres(pg_dump: &Path, url: &str, dest: &Path) -> anyhow::Result<()> {
    let out = pg_dump_command(pg_dump, url, dest)?.output().context("cannot run pg_dump")?;
    if !out.status.success() {
        bail!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// The `pg_dump` command for `url`. Every user of the machine can read a command line (`ps`),
/// so no password goes on it: the URL's password (`user:password@` or `?password=`) travels in
/// `PGPASSWORD`, and every other query parameter whose name mentions a password is removed.
/// `sslpassword` (a client key's passphrase) has no environment variable, so it is refused.
fn pg_dump_command(pg_dump: &Path, url: &str, dest: &Path) -> anyhow::Result<std::process::Command> {
    let mut parsed = url::Url::parse(url).context("the PostgreSQL URL is not valid")?;
    let mut password =
        parsed.password().map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    let _ = parsed.set_password(None);
    // Each pair is kept as written (libpq does not read `+` as a space).
    let mut kept = vec![];
    for pair in parsed.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let Some((name, value)) = url::form_urlencoded::parse(pair.as_bytes()).next() else { continue };
        let lower = name.to_ascii_lowercase();
        if lower == "password" {
            // libpq lets a query parameter override the user-info part.
            password = Some(value.into_owned());
        } else if lower == "sslpassword" {
            bail!(
                "the database URL holds sslpassword: pg_dump could only be given it on its command line, \
                 where every user of the machine can read it. Use a client key without a passphrase \
                 (readable by the server's user only), or run pg_dump yourself (README, \"Backups\")"
            );
        } else if !lower.contains("password") {
            kept.push(pair.to_string());
        }
    }
    let query = kept.join("&");
    parsed.set_query((!query.is_empty()).then_some(query.as_str()));
    // Renraku's own schema, when the URL puts it in one (`options=-c search_path=…`).
    let schema = parsed
        .query_pairs()
        .filter(|(k, _)| k == "options")
        .find_map(|(_, v)| {
            v.split("search_path=").nth(1).map(|s| s.split([' ', ',']).next().unwrap_or("").to_string())
        })
        .filter(|s| !s.is_empty());
    let mut cmd = std::process::Command::new(pg_dump);
    cmd.arg("--format=custom").arg("--file").arg(dest).arg("--dbname").arg(parsed.as_str());
    if let Some(schema) = &schema {
        cmd.arg("--schema").arg(schema);
    }
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    Ok(cmd)
}

/// Without `pg_dump`, says what the server's settings allow and what to do; no backup is made.
async fn explain_postgres(url: &str) -> anyhow::Result<ExitCode> {
    println!("pg_dump is not on PATH, so no backup was made.");
    match renraku_store_postgres::backup::archive_settings(url).await {
        Ok(settings) => {
            println!("The PostgreSQL server reports:");
            for (name, value) in &settings {
                println!("    {name} = {}", if value.is_empty() { "(empty)" } else { value });
            }
            let get = |n: &str| settings.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()).unwrap_or("");
            let archiving = get("archive_mode") != "off"
                && (!get("archive_command").is_empty() || !get("archive_library").is_empty())
                && get("wal_level") != "minimal";
            if archiving {
                println!(
                    "WAL archiving is on: with base backups (pg_basebackup) the database can be recovered to any point in time."
                );
            } else {
                println!(
                    "WAL archiving is off: point-in-time recovery is not possible. Set wal_level = replica, \
                     archive_mode = on and an archive_command, and take base backups with pg_basebackup."
                );
            }
        }
        Err(e) => println!("The server's settings could not be read: {e:#}"),
    }
    println!(
        "Install the PostgreSQL client tools (the server's major version) so `renraku backup` can run pg_dump, \
         or back up with your own pg_dump / pg_basebackup schedule (README, \"Backups\")."
    );
    Ok(ExitCode::from(1))
}

fn on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|p| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        p.is_file()
    })
}

/// `rel` (from a manifest) inside `dir`, or `None` if it would point elsewhere.
fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    let path = Path::new(rel);
    path.components().all(|c| matches!(c, std::path::Component::Normal(_))).then(|| dir.join(path))
}

fn entry(root: &Path, path: &Path) -> anyhow::Result<FileEntry> {
    let (size, sha256) = hash_file(path)?;
    Ok(FileEntry { path: relative(root, path)?, size, sha256 })
}

fn relative(root: &Path, path: &Path) -> anyhow::Result<String> {
    let rel = path.strip_prefix(root)?;
    let parts: Vec<&str> = rel.components().filter_map(|c| c.as_os_str().to_str()).collect();
    Ok(parts.join("/"))
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Copies `from` to `to` (new, private), synced; returns its size and SHA-256.
fn copy_file(from: &Path, to: &Path) -> anyhow::Result<(u64, String)> {
    let mut src = File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut dst = create_private(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
        size += n as u64;
    }
    dst.sync_all()?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Copies the attachment tree, skipping files still being written (`*.tmp`) and files that
/// vanish while it runs; records each file in `files` relative to `root`.
fn copy_tree(from: &Path, to: &Path, root: &Path, files: &mut Vec<FileEntry>) -> anyhow::Result<()> {
    private_dir(to)?;
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let source = e.path();
        let target = to.join(e.file_name());
        let kind = e.file_type()?;
        if kind.is_dir() {
            copy_tree(&source, &target, root, files)?;
        } else if kind.is_file() && source.extension().is_none_or(|x| x != "tmp") {
            match copy_file(&source, &target) {
                Ok((size, sha256)) => files.push(FileEntry { path: relative(root, &target)?, size, sha256 }),
                Err(e)
                    if e.chain().any(|c| {
                        c.downcast_ref::<std::io::Error>()
                            .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
                    }) =>
                {
                    fs::remove_file(&target).ok();
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn create_private(path: &Path) -> anyhow::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).with_context(|| format!("cannot create {}", path.display()))
}

/// A new directory (never an existing one: a generation or a restore is assembled in a folder of
/// its own) readable by the server's user only (0700). [`ensure_private_dir`] is for folders
/// that may already exist.
fn private_dir(path: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path).with_context(|| format!("cannot create {}", path.display()))
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// A finished generation cannot be changed by mistake: files 0400, folders 0500.
fn read_only_tree(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        for e in fs::read_dir(path)? {
            read_only_tree(&e?.path())?;
        }
        set_mode(path, 0o500)
    } else {
        set_mode(path, 0o400)
    }
}

/// Undoes [`read_only_tree`] on the folders, so a generation can be removed.
fn writable_tree(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        set_mode(path, 0o700)?;
        for e in fs::read_dir(path)? {
            writable_tree(&e?.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::path::Path;

    use super::pg_dump_command;

    fn argv_and_password(url: &str) -> (String, Option<String>) {
        let cmd = pg_dump_command(Path::new("pg_dump"), url, Path::new("/backups/renraku.pgdump")).unwrap();
        let argv: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let password = cmd
            .get_envs()
            .find(|(k, _)| *k == "PGPASSWORD")
            .and_then(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()));
        (argv.join(" "), password)
    }

    #[test]
    fn no_password_reaches_the_command_line_of_pg_dump() {
        let (argv, password) =
            argv_and_password("postgres://renraku:in%20user@db.example/renraku?sslmode=require");
        assert_eq!(password.as_deref(), Some("in user"));
        assert!(argv.contains("--dbname postgres://renraku@db.example/renraku?sslmode=require"), "{argv}");

        let (argv, password) = argv_and_password(
            "postgres://renraku@db.example/renraku?password=s3cret&sslmode=require&options=-c%20search_path%3Dr1",
        );
        assert_eq!(password.as_deref(), Some("s3cret"));
        assert!(!argv.contains("s3cret") && !argv.contains("password"), "{argv}");
        assert!(argv.contains("sslmode=require") && argv.contains("--schema r1"), "{argv}");

        let (argv, _) = argv_and_password("postgres://renraku:a@db.example/renraku?PassWord=b&my_password=c");
        assert!(!argv.to_lowercase().contains("password") && !argv.contains(":a@"), "{argv}");

        let refused =
            pg_dump_command(Path::new("pg_dump"), "postgres://db.example/r?sslpassword=k3y", Path::new("x"));
        let message = format!("{:#}", refused.expect_err("refused"));
        assert!(message.contains("sslpassword") && !message.contains("k3y"), "{message}");
    }
}
