//! The server's keys, all derived from one master secret that lives outside the database (in
//! the data directory or the environment), so a copy of the database alone cannot forge an
//! audit chain, a CSRF token or read a TOTP secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub struct Secrets {
    pub audit_key: [u8; 32],
    pub csrf_key: [u8; 32],
    pub totp_key: [u8; 32],
    pub recovery_key: [u8; 32],
    pub files_key: [u8; 32],
    /// Signs the audit checkpoints kept outside the database (not the seal key: a checkpoint
    /// line can never pass for a seal).
    pub anchor_key: [u8; 32],
    /// Signs a backup's manifest, so a backup changed by someone without the master secret is
    /// refused by `backup verify` and `restore`.
    pub backup_key: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    /// Derives the keys from the master secret (at least 32 bytes).
    pub fn derive(master: &[u8]) -> Self {
        Self {
            audit_key: derive(master, b"renraku audit chain v1"),
            csrf_key: derive(master, b"renraku csrf v1"),
            totp_key: derive(master, b"renraku totp secret encryption v1"),
            recovery_key: derive(master, b"renraku recovery codes v1"),
            files_key: derive(master, b"renraku attachment encryption v1"),
            anchor_key: derive(master, b"renraku audit checkpoints v1"),
            backup_key: derive(master, b"renraku backup manifest v1"),
        }
    }
}

fn derive(master: &[u8], purpose: &[u8]) -> [u8; 32] {
    hmac(master, purpose)
}

pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { unreachable!("HMAC takes any key length") };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// SHA-256 as lowercase hex: how one-time link and session secrets are stored.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(Sha256::digest(data))
}

/// A fresh random secret for a link or a cookie: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
