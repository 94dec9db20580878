//! The `saved_views` table: named list filters, a user's own and those shared with the tenant.

use crate::db::TenantTx;
use crate::domain::UserId;
use crate::domain::bulk::BulkEntity;
use crate::domain::saved_view::{SavedView, ViewFields, ViewId};

use super::{RepoError, conflict_on};

const UNIQUE: &[(&str, &str)] = &[("saved_views_tenant_id_user_id_entity_name_key_key", "name")];

/// The views of list `entity` that `user` sees: their own and the shared ones, by name.
pub async fn visible(tx: &mut TenantTx, user: UserId, entity: BulkEntity) -> Result<Vec<SavedView>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        "SELECT id, user_id, name, query, shared FROM saved_views
         WHERE tenant_id = $1 AND entity = $2 AND (user_id = $3 OR shared)
         ORDER BY name_key, id",
        tenant,
        entity.as_str(),
        user.0
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SavedView {
            id: ViewId(r.id),
            user_id: UserId(r.user_id),
            entity,
            name: r.name,
            query: r.query,
            shared: r.shared,
        })
        .collect())
}

/// A new view of `user`'s (409 `name` when they have one of that name for the list).
pub async fn insert(tx: &mut TenantTx, user: UserId, f: &ViewFields) -> Result<ViewId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO saved_views (tenant_id, user_id, entity, name, name_key, query, shared)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        tenant,
        user.0,
        f.entity.as_str(),
        f.name.as_str(),
        f.name.key(),
        f.query,
        f.shared
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(UNIQUE))?;
    Ok(ViewId(id))
}

/// The owner of view `id`.
pub async fn owner(tx: &mut TenantTx, id: ViewId) -> Result<UserId, RepoError> {
    let tenant = tx.tenant_id().0;
    let user = sqlx::query_scalar!("SELECT user_id FROM saved_views WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    Ok(UserId(user))
}

pub async fn delete(tx: &mut TenantTx, id: ViewId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM saved_views WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    Ok(())
}
