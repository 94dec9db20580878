//! Secrets: the server key, random tokens, and the hashes and MACs made from them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The server's secret key (`CRM_SECRET_KEY`): signs CSRF tokens, and will encrypt channel
/// credentials at rest.
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
    fn tokens_are_unique_and_hash_to_32_bytes() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
    }
}
