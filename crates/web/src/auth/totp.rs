//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock
//! skew either way) and single-use recovery codes. Secrets are kept encrypted with the server's
//! key (XChaCha20-Poly1305); recovery codes are kept as keyed hashes.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use totp_rs::{Algorithm, Builder, Totp};

use crate::secrets::hmac;

pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Renraku";

pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

/// Encrypts a TOTP secret for storage: nonce ‖ ciphertext.
pub fn seal(key: &[u8; 32], secret: &[u8]) -> anyhow::Result<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), secret)
        .map_err(|_| anyhow::anyhow!("encryption failed"))?;
    Ok([nonce.as_slice(), &ciphertext].concat())
}

pub fn open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(24);
    XChaCha20Poly1305::new(key.into()).decrypt(XNonce::from_slice(nonce), ciphertext).ok()
}

pub fn totp(secret: &[u8], login_id: &str) -> anyhow::Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_account_name(login_id)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP set-up failed: {e:?}"))
}

/// The time step the code belongs to, if it is valid at `now_ms` (±30 s).
pub fn check(totp: &Totp, code: &str, now_ms: i64) -> Option<i64> {
    let code: String = renraku_domain::text::normalize(code).chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(now_ms / 1000).ok()?;
    totp.check(&code, now).and_then(|step| i64::try_from(step).ok())
}

/// The otpauth:// URL as an inline SVG QR code, for authenticator apps to scan.
pub fn qr_svg(totp: &Totp) -> anyhow::Result<String> {
    let url = totp.to_url().map_err(|e| anyhow::anyhow!("otpauth URL: {e:?}"))?;
    let code = qrcode::QrCode::new(url.as_bytes())?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build())
}

/// The secret as base32, for typing into an app by hand, in groups of four.
pub fn secret_for_humans(totp: &Totp) -> String {
    let b32 = totp.secret().to_base32();
    b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// Fresh recovery codes such as `k7m2-9xq4-p3vd`, from an alphabet without look-alikes.
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 12];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let chars: Vec<char> =
                bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
            chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

/// The stored form of a recovery code; case, width and dashes do not matter when typed.
pub fn recovery_code_hash(key: &[u8; 32], code: &str) -> String {
    let canonical: String = renraku_domain::text::normalize(code)
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    hex::encode(hmac(key, canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key() {
        let secret = new_secret();
        let sealed = seal(&[7; 32], &secret).unwrap();
        assert_eq!(open(&[7; 32], &sealed), Some(secret));
        assert_eq!(open(&[8; 32], &sealed), None);
        assert_eq!(open(&[7; 32], &sealed[..10]), None);
    }

    #[test]
    fn codes_are_accepted_one_step_either_side() {
        let t = totp(&[1; 20], "nurse01").unwrap();
        let now_ms = 1_795_413_840_000;
        let code = t.generate((now_ms / 1000) as u64).to_string();
        assert!(check(&t, &code, now_ms).is_some());
        assert!(check(&t, &code, now_ms + 30_000).is_some());
        assert!(check(&t, &code, now_ms + 90_000).is_none());
        let full_width: String =
            code.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect();
        assert!(check(&t, &full_width, now_ms).is_some());
        assert!(check(&t, "12345", now_ms).is_none());
        assert!(check(&t, "abcdef", now_ms).is_none());
    }

    #[test]
    fn recovery_codes_match_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes[0].len(), 14);
        let h = recovery_code_hash(&[1; 32], &codes[0]);
        assert_eq!(recovery_code_hash(&[1; 32], &codes[0].to_uppercase().replace('-', " ")), h);
        assert_ne!(recovery_code_hash(&[2; 32], &codes[0]), h);
    }
}
