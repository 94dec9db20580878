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
