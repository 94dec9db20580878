//! What several aggregates ask of a client, a company or a deal alike: its name.

use crate::db::TenantTx;
use crate::domain::record::RecordRef;

use super::RepoError;

/// The record's name as its page shows it (a client's full name, a company's name, a deal's
/// title); `NotFound` when the tenant has no such record.
pub async fn name(tx: &mut TenantTx, on: RecordRef) -> Result<String, RepoError> {
    let tenant = tx.tenant_id().0;
    let name = match on {
        RecordRef::Client(id) => sqlx::query_scalar!(
            r#"SELECT concat_ws(' ', first_name, last_name) AS "name!" FROM clients WHERE tenant_id = $1 AND id = $2"#,
            tenant,
            id.0
        )
        .fetch_optional(tx.conn())
        .await?,
        RecordRef::Company(id) => {
            sqlx::query_scalar!("SELECT name FROM companies WHERE tenant_id = $1 AND id = $2", tenant, id.0)
                .fetch_optional(tx.conn())
                .await?
        }
        RecordRef::Deal(id) => {
            sqlx::query_scalar!("SELECT title FROM deals WHERE tenant_id = $1 AND id = $2", tenant, id.0)
                .fetch_optional(tx.conn())
                .await?
        }
    };
    name.ok_or(RepoError::NotFound)
}
