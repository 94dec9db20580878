//! Secrets: the server key, random tokens, and the hashes and MACs made from them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The server's secret key (`CRM_SECRET_KEY`): signs CSRF tokens and links, and encrypts
/// channel credentials at rest.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn generate() -> Self {
        Self(random_bytes(32))
    }

    /// Any string of at least 32 characters; the generated form is 43 base64url characters.
    pub fn from_config(raw: &str) -> Result<Self, &'static str> {
        let raw = raw.trim();
        if raw.len() < 32 {
            return Err("must be at least 32 characters long");
        }
        Ok(Self(raw.as_bytes().to_vec()))
    }

    pub fn to_config(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }

    /// HMAC-SHA256 of `message` under this key, base64url.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Encrypts `plain` for storage (ChaCha20-Poly1305 under a key derived for `purpose`):
    /// a random nonce, then the ciphertext and its tag.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.derive(purpose).into());
        let nonce = random_bytes(12);
        let sealed = cipher
            .encrypt(nonce.as_slice().into(), Payload { msg: plain, aad: purpose.as_bytes() })
            .expect("ChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        [nonce, sealed].concat()
    }

    /// What `seal` made for `purpose`; `None` if it was made under another key or purpose, or
    /// has been tampered with.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let (nonce, data) = sealed.split_at_checked(12)?;
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.derive(purpose).into());
        cipher.decrypt(nonce.into(), Payload { msg: data, aad: purpose.as_bytes() }).ok()
    }

    /// A 256-bit key for one purpose, so no two uses of the server key share one.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(b"derive\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    buf
}

/// A fresh unguessable token (256 bits), base64url.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(32))
}

/// What is stored in place of a session or API token: its SHA-256.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Argon2id password hashing with the crate's recommended parameters.
pub mod password {
    use argon2::Argon2;
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};

    pub fn hash(password: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 accepts passwords of any length up to 2^32 bytes")
            .to_string()
    }

    pub fn verify(password: &str, stored: &str) -> bool {
        PasswordHash::new(stored)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    }

    /// Spends the time a real verification would, so an unknown email answers no faster than a
    /// wrong password.
    pub fn burn_time(password: &str) {
        static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash("timing equaliser"));
        let _ = verify(password, &DUMMY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = password::hash("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(password::verify("correct horse battery", &h));
        assert!(!password::verify("wrong horse battery", &h));
        assert!(!password::verify("anything", "not a hash"));
    }

    #[test]
    fn signatures_depend_on_key_purpose_and_message() {
        let k = SecretKey::from_config(&"a".repeat(32)).unwrap();
        let other = SecretKey::from_config(&"b".repeat(32)).unwrap();
        assert_eq!(k.sign("csrf", "x"), k.sign("csrf", "x"));
        assert_ne!(k.sign("csrf", "x"), k.sign("csrf", "y"));
        assert_ne!(k.sign("csrf", "x"), k.sign("flash", "x"));
        assert_ne!(k.sign("csrf", "x"), other.sign("csrf", "x"));
    }

    #[test]
    fn sealed_secrets_open_only_under_their_key_and_purpose() {
        let k = SecretKey::from_config(&"a".repeat(32)).unwrap();
        let other = SecretKey::from_config(&"b".repeat(32)).unwrap();
        let sealed = k.seal("channel", b"auth token");
        assert_ne!(k.seal("channel", b"auth token"), sealed, "a fresh nonce each time");
        assert_eq!(k.open("channel", &sealed).as_deref(), Some(&b"auth token"[..]));
        assert_eq!(other.open("channel", &sealed), None);
        assert_eq!(k.open("session", &sealed), None);
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(k.open("channel", &tampered), None);
        assert_eq!(k.open("channel", &sealed[..5]), None);
    }

    #[test]
    fn tokens_are_unique_and_hash_to_32_bytes() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
    }
}
