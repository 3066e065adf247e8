//! Where attachment bytes live. The default is a local directory with every file encrypted
//! (AES-256-GCM, key derived from the server's master secret, the file's key name as
//! associated data so a file cannot be swapped for another). Several app instances need a
//! shared store instead (an S3-compatible backend is planned behind the same trait).

use std::path::PathBuf;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use rand::RngCore as _;

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()>;
    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>>;
}

/// Files under one directory, encrypted at rest.
pub struct EncryptedDir {
    dir: PathBuf,
    cipher: Aes256Gcm,
}

impl EncryptedDir {
    pub fn new(dir: PathBuf, key: &[u8; 32]) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, cipher: Aes256Gcm::new(key.into()) })
    }

    /// Keys are ours (UUIDs and a suffix), but never let one name a path elsewhere.
    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        anyhow::ensure!(
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "invalid blob key"
        );
        Ok(self.dir.join(&key[..2.min(key.len())]).join(key))
    }
}

#[async_trait]
impl BlobStore for EncryptedDir {
    async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.path(key)?;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: bytes, aad: key.as_bytes() })
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut file = nonce.to_vec();
        file.extend_from_slice(&sealed);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write then rename, so a crash never leaves half a file under the final name.
        let tmp = path.with_extension("tmp");
        tokio::fs::write(&tmp, &file).await?;
        tokio::fs::File::open(&tmp).await?.sync_all().await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let file = tokio::fs::read(self.path(key)?).await?;
        anyhow::ensure!(file.len() >= 12, "stored file is truncated");
        let (nonce, sealed) = file.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: key.as_bytes() })
            .map_err(|_| anyhow::anyhow!("stored file does not decrypt: altered, or the key changed"))
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
    }
}
