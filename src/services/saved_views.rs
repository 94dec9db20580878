//! Saved views of the lists: anyone who reads a list keeps views of it, private or shared
//! with the tenant; a view is deleted by its owner, or by an admin.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::bulk::BulkEntity;
use crate::domain::saved_view::{SavedView, ViewFields, ViewId};
use crate::domain::{Permission, Principal, Role};
use crate::repos::saved_views as repo;

use super::{ServiceError, require};

#[derive(Clone)]
pub struct SavedViewService {
    pool: PgPool,
}

/// What reading a list of `entity` needs.
fn reads(entity: BulkEntity) -> Permission {
    match entity {
        BulkEntity::Deals => Permission::DealRead,
        BulkEntity::Clients | BulkEntity::Companies => Permission::ClientRead,
    }
}

impl SavedViewService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The views of list `entity` the reader sees: their own and the shared ones.
    pub async fn list(&self, by: &Principal, entity: BulkEntity) -> Result<Vec<SavedView>, ServiceError> {
        require(by, &[reads(entity)])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let found = repo::visible(&mut tx, by.user_id, entity).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Saves a view (409 `name` when the reader has one of that name for the list).
    pub async fn save(&self, by: &Principal, fields: &ViewFields) -> Result<ViewId, ServiceError> {
        require(by, &[reads(fields.entity)])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let id = repo::insert(&mut tx, by.user_id, fields).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes a view: its owner's, or any (a shared one left behind) for an admin.
    pub async fn delete(&self, by: &Principal, id: ViewId) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        if repo::owner(&mut tx, id).await? != by.user_id && by.role != Role::Admin {
            return Err(ServiceError::Forbidden);
        }
        repo::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
