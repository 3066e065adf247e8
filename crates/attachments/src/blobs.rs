//! Where attachment bytes live: an encrypted local directory by default ([`EncryptedDir`]),
//! or an S3-compatible bucket shared by several app instances ([`S3Bucket`]). Either way every
//! file is sealed before it leaves the process (AES-256-GCM, key derived from the server's
//! master secret, the file's key name as associated data so a file cannot be swapped for
//! another): the disk or the storage provider only ever holds ciphertext.

use std::path::PathBuf;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context as _;
use async_trait::async_trait;
use object_store::ObjectStoreExt as _;
use rand::RngCore as _;

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()>;
    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>>;
    /// Removes a file (one stored for a post that was then not written); a missing file is
    /// not an error.
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Every stored file's key, with when it was written (for the sweep of files no attachment
    /// refers to). Temporary files of an unfinished write are not listed.
    async fn list(&self) -> anyhow::Result<Vec<(String, std::time::SystemTime)>>;
}

/// Makes rustls on ring the process's cryptography for outgoing HTTPS (object storage; every
/// `reqwest` client in the process, which shares one build of reqwest). Call it at start,
/// before any HTTP client is built; a second call does nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Keys are ours (UUIDs and a suffix), but never let one name a path or object elsewhere.
fn check_key(key: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "invalid blob key"
    );
    Ok(())
}

/// AES-256-GCM with a random nonce per file, stored as `nonce ‖ ciphertext+tag`.
struct Sealing(Aes256Gcm);

impl Sealing {
    fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(key.into()))
    }

    fn seal(&self, key: &str, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: bytes, aad: key.as_bytes() })
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut file = nonce.to_vec();
        file.extend_from_slice(&sealed);
        Ok(file)
    }

    fn open(&self, key: &str, file: &[u8]) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(file.len() >= 12, "stored file is truncated");
        let (nonce, sealed) = file.split_at(12);
        self.0
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: key.as_bytes() })
            .map_err(|_| anyhow::anyhow!("stored file does not decrypt: altered, or the key changed"))
    }
}

/// Files under one directory, encrypted at rest.
pub struct EncryptedDir {
    dir: PathBuf,
    sealing: Sealing,
}

impl EncryptedDir {
    pub fn new(dir: PathBuf, key: &[u8; 32]) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, sealing: Sealing::new(key) })
    }

    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        check_key(key)?;
        Ok(self.dir.join(&key[..2.min(key.len())]).join(key))
    }
}

#[async_trait]
impl BlobStore for EncryptedDir {
    async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.path(key)?;
        let file = self.sealing.seal(key, bytes)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write then rename, so a crash never leaves half a file under the final name; a write
        // that fails (disk full, the rename refused) takes its temporary file with it.
        let tmp = path.with_extension("tmp");
        let written = async {
            tokio::fs::write(&tmp, &file).await?;
            tokio::fs::File::open(&tmp).await?.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await
        };
        if let Err(e) = written.await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let file = tokio::fs::read(self.path(key)?).await?;
        self.sealing.open(key, &file)
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn list(&self) -> anyhow::Result<Vec<(String, std::time::SystemTime)>> {
        let mut out = vec![];
        let mut folders = tokio::fs::read_dir(&self.dir).await?;
        while let Some(folder) = folders.next_entry().await? {
            if !folder.file_type().await?.is_dir() {
                continue;
            }
            let mut files = tokio::fs::read_dir(folder.path()).await?;
            while let Some(file) = files.next_entry().await? {
                let name = file.file_name().to_string_lossy().into_owned();
                // `.tmp` and anything else that is not one of our keys.
                if check_key(&name).is_ok() && file.file_type().await?.is_file() {
                    out.push((name, file.metadata().await?.modified()?));
                }
            }
        }
        Ok(out)
    }
}

/// Where an S3-compatible bucket is and how to sign in to it. Empty values fall back to the
/// usual `AWS_*` environment variables (and, on AWS, to the instance's role).
#[derive(Clone, Default)]
pub struct S3Settings {
    pub bucket: String,
    /// Empty for AWS itself; otherwise the service's address, e.g. `https://s3.example.jp`.
    /// `http://` is accepted for a store on the same host or private network.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Put every object under this folder of the bucket (e.g. the installation's name).
    pub prefix: String,
}

/// Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, most Japanese clouds' object
/// storage), sealed before upload, so several app instances share attachments.
pub struct S3Bucket {
    store: object_store::aws::AmazonS3,
    prefix: String,
    sealing: Sealing,
}

impl S3Bucket {
    pub fn new(settings: &S3Settings, key: &[u8; 32]) -> anyhow::Result<Self> {
        use object_store::aws::AmazonS3Builder;
        anyhow::ensure!(!settings.bucket.is_empty(), "the S3 bucket name is empty");
        install_crypto_provider();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&settings.bucket);
        if !settings.endpoint.is_empty() {
            builder = builder
                .with_endpoint(&settings.endpoint)
                .with_allow_http(settings.endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if !settings.region.is_empty() {
            builder = builder.with_region(&settings.region);
        }
        if !settings.access_key_id.is_empty() {
            builder = builder.with_access_key_id(&settings.access_key_id);
        }
        if !settings.secret_access_key.is_empty() {
            builder = builder.with_secret_access_key(&settings.secret_access_key);
        }
        let store = builder.build().context("the S3 settings are not usable")?;
        let prefix = settings.prefix.trim_matches('/').to_string();
        Ok(Self { store, prefix, sealing: Sealing::new(key) })
    }

    fn path(&self, key: &str) -> anyhow::Result<object_store::path::Path> {
        check_key(key)?;
        let name = if self.prefix.is_empty() { key.to_string() } else { format!("{}/{key}", self.prefix) };
        object_store::path::Path::parse(name).context("invalid object name")
    }
}

#[async_trait]
impl BlobStore for S3Bucket {
    async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let file = self.sealing.seal(key, bytes)?;
        // A single PUT is atomic in S3: readers see the whole object or none.
        self.store.put(&self.path(key)?, file.into()).await.context("cannot store the file in the bucket")?;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let object =
            self.store.get(&self.path(key)?).await.context("cannot read the file from the bucket")?;
        let file = object.bytes().await.context("cannot read the file from the bucket")?;
        self.sealing.open(key, &file)
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&self.path(key)?).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e).context("cannot delete the file from the bucket"),
        }
    }

    async fn list(&self) -> anyhow::Result<Vec<(String, std::time::SystemTime)>> {
        use object_store::ObjectStore as _;
        let prefix = if self.prefix.is_empty() {
            None
        } else {
            Some(object_store::path::Path::parse(&self.prefix).context("invalid object name")?)
        };
        // Keys are flat under the prefix: one level, every page of it.
        let listing =
            self.store.list_with_delimiter(prefix.as_ref()).await.context("cannot list the bucket")?;
        Ok(listing
            .objects
            .into_iter()
            .filter_map(|o| {
                let key = o.location.filename()?.to_string();
                check_key(&key).is_ok().then(|| (key, std::time::SystemTime::from(o.last_modified)))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_encrypted_at_rest_and_bound_to_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = EncryptedDir::new(dir.path().to_path_buf(), &[9; 32]).unwrap();
        store.put("abc-1", b"photo of a pressure sore").await.unwrap();
        assert_eq!(store.get("abc-1").await.unwrap(), b"photo of a pressure sore");
        let on_disk = std::fs::read(dir.path().join("ab").join("abc-1")).unwrap();
        assert!(!on_disk.windows(5).any(|w| w == b"photo"), "nothing readable on disk");
        // Another file's content under this name does not decrypt.
        store.put("abc-2", b"other").await.unwrap();
        std::fs::copy(dir.path().join("ab").join("abc-2"), dir.path().join("ab").join("abc-1")).unwrap();
        assert!(store.get("abc-1").await.is_err());
        let other_key = EncryptedDir::new(dir.path().to_path_buf(), &[8; 32]).unwrap();
        assert!(other_key.get("abc-2").await.is_err());
        assert!(store.put("../x", b"").await.is_err());
        // A file can be removed, and removing it again is no error.
        store.delete("abc-2").await.unwrap();
        assert!(!dir.path().join("ab").join("abc-2").exists());
        store.delete("abc-2").await.unwrap();
        assert!(store.delete("../x").await.is_err());
        // What is stored can be listed, with when it was written; temporary files are not.
        std::fs::write(dir.path().join("ab").join("abc-3.tmp"), b"half").unwrap();
        let listed = store.list().await.unwrap();
        assert_eq!(listed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["abc-1"]);
        assert!(listed[0].1.elapsed().unwrap() < std::time::Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = EncryptedDir::new(dir.path().to_path_buf(), &[9; 32]).unwrap();
        // Something that is not a file already holds the name: the final rename fails.
        std::fs::create_dir_all(dir.path().join("ab").join("abc-1").join("inside")).unwrap();
        assert!(store.put("abc-1", b"photo").await.is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("ab"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["abc-1"], "no temporary file left behind");
    }
}
