//! Files of a backup: copied with their hashes, private to the server's user, read-only once
//! written, and paths from a manifest kept inside the backup's folder.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use super::FileEntry;

/// `rel` (from a manifest) inside `dir`, or `None` if it would point elsewhere.
pub(super) fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    let path = Path::new(rel);
    path.components().all(|c| matches!(c, std::path::Component::Normal(_))).then(|| dir.join(path))
}

pub(super) fn entry(root: &Path, path: &Path) -> anyhow::Result<FileEntry> {
    let (size, sha256) = hash_file(path)?;
    Ok(FileEntry { path: relative(root, path)?, size, sha256 })
}

pub(super) fn relative(root: &Path, path: &Path) -> anyhow::Result<String> {
    let rel = path.strip_prefix(root)?;
    let parts: Vec<&str> = rel.components().filter_map(|c| c.as_os_str().to_str()).collect();
    Ok(parts.join("/"))
}

pub(super) fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
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
pub(super) fn copy_file(from: &Path, to: &Path) -> anyhow::Result<(u64, String)> {
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
pub(super) fn copy_tree(
    from: &Path,
    to: &Path,
    root: &Path,
    files: &mut Vec<FileEntry>,
) -> anyhow::Result<()> {
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

pub(super) fn create_private(path: &Path) -> anyhow::Result<File> {
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
pub(super) fn private_dir(path: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(path).with_context(|| format!("cannot create {}", path.display()))
}

pub(super) fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
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
pub(super) fn read_only_tree(path: &Path) -> anyhow::Result<()> {
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
pub(super) fn writable_tree(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        set_mode(path, 0o700)?;
        for e in fs::read_dir(path)? {
            writable_tree(&e?.path())?;
        }
    }
    Ok(())
}
