//! Secrets: the server key, random tokens, and the hashes and MACs made from them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The server's secret key (`CRM_SECRET_KEY`, or the `secret.key` file the first run writes):
/// signs CSRF tokens and links, and encrypts channel credentials at rest.
///
/// The key is the text as written, whichever of the two places it comes from, so a key copied
/// from the file into the variable means the same. Until December 2026 a generated key meant its
/// decoded bytes on the first run and its text on every later one; a key read from the file
/// therefore also opens and verifies (never seals or signs) under that first reading, so data
/// from either reading stays readable (`Opened::stale` says when to seal it again).
#[derive(Clone)]
pub struct SecretKey {
    current: Vec<u8>,
    /// The other reading of a generated key file, accepted for what was made under it.
    previous: Option<Vec<u8>>,
}

/// What `SecretKey::open` found inside a sealed value.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    pub plain: Vec<u8>,
    /// Sealed under the key's previous reading: seal it again.
    pub stale: bool,
}

impl SecretKey {
    /// The minimum length of a configured key, in bytes.
    pub const MIN_LEN: usize = 32;

    /// A fresh random key: 256 bits as 43 base64url characters, its text being the key.
    pub fn generate() -> Self {
        Self { current: random_token().into_bytes(), previous: None }
    }

    /// `CRM_SECRET_KEY`: any string of at least 32 bytes, used as it is (trimmed).
    pub fn from_config(raw: &str) -> Result<Self, &'static str> {
        let raw = raw.trim();
        if raw.len() < Self::MIN_LEN {
            return Err("must be at least 32 characters long");
        }
        Ok(Self { current: raw.as_bytes().to_vec(), previous: None })
    }

    /// The generated key file's text: the key is that text, as with `from_config`; when the text
    /// is the base64url of 32 bytes (what every generated file holds), those bytes are the
    /// previous reading.
    pub fn from_key_file(text: &str) -> Result<Self, &'static str> {
        let mut key = Self::from_config(text)?;
        key.previous = URL_SAFE_NO_PAD.decode(text.trim()).ok().filter(|bytes| bytes.len() == 32);
        Ok(key)
    }

    /// A key of exactly these bytes (tests make data sealed under the old reading with it).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self { current: bytes, previous: None }
    }

    /// The text that means this key in `CRM_SECRET_KEY` or the key file.
    pub fn to_config(&self) -> String {
        String::from_utf8_lossy(&self.current).into_owned()
    }

    /// Whether anything may still be sealed or signed under a previous reading of the key.
    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    fn readings(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.current.as_slice()).chain(self.previous.as_deref())
    }

    /// HMAC-SHA256 of `message` under this key, base64url.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.current, purpose, message))
    }

    /// Whether `signature` is what `sign` gives (under either reading of the key), compared in
    /// constant time.
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        let mut ok = false;
        for key in self.readings() {
            ok |= constant_time_eq(&URL_SAFE_NO_PAD.encode(mac(key, purpose, message)), signature);
        }
        ok
    }

    /// Encrypts `plain` for storage (ChaCha20-Poly1305 under a key derived for `purpose`):
    /// a random nonce, then the ciphertext and its tag.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&derive(&self.current, purpose).into());
        let nonce = random_bytes(12);
        let sealed = cipher
            .encrypt(nonce.as_slice().into(), Payload { msg: plain, aad: purpose.as_bytes() })
            .expect("ChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        [nonce, sealed].concat()
    }

    /// What `seal` made for `purpose` (under either reading of the key); `None` if it was made
    /// under another key or purpose, or has been tampered with.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Option<Opened> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let (nonce, data) = sealed.split_at_checked(12)?;
        self.readings().enumerate().find_map(|(i, key)| {
            let cipher = chacha20poly1305::ChaCha20Poly1305::new(&derive(key, purpose).into());
            let plain = cipher.decrypt(nonce.into(), Payload { msg: data, aad: purpose.as_bytes() }).ok()?;
            Some(Opened { plain, stale: i > 0 })
        })
    }
}

fn mac(key: &[u8], purpose: &str, message: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A 256-bit key for one purpose, so no two uses of the server key share one.
fn derive(key: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"derive\0");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
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
        assert_eq!(k.open("channel", &sealed), Some(Opened { plain: b"auth token".to_vec(), stale: false }));
        assert_eq!(other.open("channel", &sealed), None);
        assert_eq!(k.open("session", &sealed), None);
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(k.open("channel", &tampered), None);
        assert_eq!(k.open("channel", &sealed[..5]), None);
    }

    /// The key file as the first run wrote it: the base64url of 32 random bytes.
    fn key_file() -> (String, Vec<u8>) {
        let bytes = random_bytes(32);
        (URL_SAFE_NO_PAD.encode(&bytes), bytes)
    }

    #[test]
    fn a_generated_key_means_the_same_read_back_from_its_text() {
        let key = SecretKey::generate();
        let text = key.to_config();
        assert_eq!(text.len(), 43);
        for again in [SecretKey::from_config(&text).unwrap(), SecretKey::from_key_file(&text).unwrap()] {
            assert_eq!(again.sign("csrf", "x"), key.sign("csrf", "x"));
            let opened = again.open("channel", &key.seal("channel", b"token")).unwrap();
            assert_eq!(opened, Opened { plain: b"token".to_vec(), stale: false });
        }
    }

    #[test]
    fn a_key_file_opens_what_either_reading_sealed_and_seals_under_its_text() {
        let (text, bytes) = key_file();
        let first_run = SecretKey::from_bytes(bytes);
        let later_runs = SecretKey::from_config(&text).unwrap();
        let key = SecretKey::from_key_file(&text).unwrap();
        assert!(key.has_previous());

        let old = key.open("channel", &first_run.seal("channel", b"sealed on the first run")).unwrap();
        assert_eq!(old, Opened { plain: b"sealed on the first run".to_vec(), stale: true });
        let new = key.open("channel", &later_runs.seal("channel", b"sealed after a restart")).unwrap();
        assert_eq!(new, Opened { plain: b"sealed after a restart".to_vec(), stale: false });

        // What it seals and signs is the text's: every later start reads it so.
        assert!(later_runs.open("channel", &key.seal("channel", b"x")).is_some());
        assert!(first_run.open("channel", &key.seal("channel", b"x")).is_none());
        assert_eq!(key.sign("csrf", "m"), later_runs.sign("csrf", "m"));
        // Tokens and links signed under either reading still verify; nothing else does.
        assert!(key.verify("csrf", "m", &first_run.sign("csrf", "m")));
        assert!(key.verify("csrf", "m", &later_runs.sign("csrf", "m")));
        assert!(!key.verify("csrf", "m", &first_run.sign("csrf", "n")));
        assert!(!key.verify("link", "m", &first_run.sign("csrf", "m")));
    }

    #[test]
    fn a_configured_key_has_one_reading_only() {
        let (text, bytes) = key_file();
        let key = SecretKey::from_config(&text).unwrap();
        assert!(!key.has_previous());
        assert!(key.open("channel", &SecretKey::from_bytes(bytes).seal("channel", b"x")).is_none());
        assert!(!SecretKey::from_key_file(&"a".repeat(40)).unwrap().has_previous(), "not base64 of 32 bytes");
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
