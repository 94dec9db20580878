//! The tenants table.

use crate::db::TenantTx;
use crate::domain::TenantName;

use super::RepoError;

/// Inserts the tenant the transaction is bound to.
pub async fn insert(tx: &mut TenantTx, name: &TenantName) -> Result<(), RepoError> {
    let id = tx.tenant_id().0;
    sqlx::query!("INSERT INTO tenants (id, name) VALUES ($1, $2)", id, name.as_str()).execute(tx.conn()).await?;
    Ok(())
}
