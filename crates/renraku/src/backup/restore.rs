//! `renraku restore`: a verified backup put back into an empty data directory.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use renraku_domain::audit_action::AuditAction;

use crate::config::{Config, Database, write_private};

use super::check::{read_manifest, verify};
use super::files::{copy_file, copy_tree, private_dir, writable_tree};
use super::{PG_FILE, RestoreArgs, SQLITE_FILE, read_secret_file};

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
