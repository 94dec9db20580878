//! Where attachment bytes live: an `object_store` (the local filesystem under
//! `CRM_DATA_DIR/files` by default; S3-compatible storage plugs in behind the same trait).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{ObjectStore, PutPayload};

use crate::domain::TenantId;

#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
}

impl FileStore {
    /// A store in `dir`, made if missing.
    pub fn local(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(std::io::Error::other)?;
        Ok(Self { store: Arc::new(store) })
    }

    /// A fresh key for a tenant's file: tenant first, so one tenant's files can be listed,
    /// moved or erased together; random after, so keys cannot be guessed or collide.
    pub fn new_key(tenant: TenantId) -> String {
        format!("tenants/{}/attachments/{}", tenant.0, uuid::Uuid::new_v4().simple())
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), object_store::Error> {
        self.store.put(&Key::from(key), PutPayload::from_bytes(bytes)).await.map(|_| ())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, object_store::Error> {
        self.store.get(&Key::from(key)).await?.bytes().await
    }

    /// Deletes files, logging (not failing on) those that cannot go: the rows that named them
    /// are already gone, and a left-over file is found by the tenant prefix.
    pub async fn delete_all(&self, keys: &[String]) {
        for key in keys {
            match self.store.delete(&Key::from(key.as_str())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => tracing::warn!(key, error = %e, "cannot delete a stored file"),
            }
        }
    }
}

/// Expiring, signed links to attachments, for providers that fetch a message's files
/// themselves (Twilio's MediaUrl). Served without a session at `/media/{tenant}/{chat}/{attachment}`.
#[derive(Clone)]
pub struct MediaLinks {
    key: crate::crypto::SecretKey,
    public_url: String,
}

impl MediaLinks {
    /// How long a link works: long enough for a provider's retries, short enough not to matter
    /// if it leaks.
    pub const LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(24);

    pub fn new(key: crate::crypto::SecretKey, public_url: &str) -> Self {
        Self { key, public_url: public_url.trim_end_matches('/').to_owned() }
    }

    pub fn link(&self, file: MediaFile, now: chrono::DateTime<chrono::Utc>) -> String {
        let expires = (now + Self::LIFETIME).timestamp();
        let sig = self.sign(file, expires);
        format!("{}/media/{}/{}/{}?expires={expires}&sig={sig}", self.public_url, file.0.0, file.1, file.2)
    }

    /// Whether a link's signature is ours and it has not expired.
    pub fn check(&self, file: MediaFile, expires: i64, sig: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
        now.timestamp() <= expires && self.key.verify("media-link", &subject(file, expires), sig)
    }

    fn sign(&self, file: MediaFile, expires: i64) -> String {
        self.key.sign("media-link", &subject(file, expires))
    }
}

/// What a link's signature covers.
fn subject((tenant, chat, attachment): MediaFile, expires: i64) -> String {
    format!("{}:{chat}:{attachment}:{expires}", tenant.0)
}

/// An attachment as a link names it: tenant, chat, attachment id.
pub type MediaFile = (TenantId, crate::domain::chat::ChatId, i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_links_work_until_they_expire_and_only_for_their_file() {
        let links =
            MediaLinks::new(crate::crypto::SecretKey::from_config(&"k".repeat(32)).unwrap(), "https://crm.example/");
        let tenant = TenantId(uuid::Uuid::new_v4());
        let now = chrono::Utc::now();
        let chat = crate::domain::chat::ChatId(3);
        let link = links.link((tenant, chat, 7), now);
        assert!(link.starts_with(&format!("https://crm.example/media/{}/3/7?expires=", tenant.0)));
        let (expires, sig) = link.split_once("?expires=").unwrap().1.split_once("&sig=").unwrap();
        let expires: i64 = expires.parse().unwrap();
        assert!(links.check((tenant, chat, 7), expires, sig, now));
        assert!(!links.check((tenant, chat, 8), expires, sig, now));
        assert!(!links.check((tenant, crate::domain::chat::ChatId(4), 7), expires, sig, now));
        assert!(!links.check((tenant, chat, 7), expires + 1, sig, now));
        let later = now + MediaLinks::LIFETIME + chrono::TimeDelta::seconds(1);
        assert!(!links.check((tenant, chat, 7), expires, sig, later));
    }
}
