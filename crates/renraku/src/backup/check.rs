//! `renraku backup verify`: the signed manifest, every file's size and hash, the database's
//! integrity, the audit chains' seals and that every attachment decrypts.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use anyhow::Context as _;
use hmac::{Hmac, Mac as _};
use renraku_attachments::blobs::{BlobStore as _, EncryptedDir};
use renraku_domain::audit::AuditSealer;
use sha2::Sha256;

use super::files::{hash_file, inside, relative};
use super::postgres::on_path;
use super::{MANIFEST, MANIFEST_MAC, Manifest, PG_FILE, SQLITE_FILE};

pub(super) fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let bytes = fs::read(dir.join(MANIFEST))
        .with_context(|| format!("{} has no {MANIFEST}: not a complete backup", dir.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a Renraku manifest", dir.display()))
}

pub(super) fn manifest_mac(key: &[u8]) -> Hmac<Sha256> {
    let Ok(mac) = Hmac::<Sha256>::new_from_slice(key) else { unreachable!("HMAC takes any key length") };
    mac
}

/// The manifest, once its signature is checked (in constant time) against the master
/// secret's key; `Err` is the problem to report.
pub(super) fn signed_manifest(dir: &Path, master: &[u8]) -> anyhow::Result<Result<Manifest, String>> {
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
pub(super) fn unlisted(
    dir: &Path,
    at: &Path,
    listed: &HashSet<&str>,
    problems: &mut Vec<String>,
) -> anyhow::Result<()> {
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
pub(super) async fn verify(dir: &Path, master: &[u8]) -> anyhow::Result<Vec<String>> {
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

pub(super) async fn verify_sqlite(
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
