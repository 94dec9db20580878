//! What several aggregates ask of a client, a company or a deal alike: its name.

use crate::db::TenantTx;
use crate::domain::ClientId;
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

/// The column that names a record of `on`'s kind in the tables that belong to records
/// (`notes`, `tasks`, `activities`): a static name, the only text their queries are
/// assembled from.
pub(crate) fn column(on: RecordRef) -> &'static str {
    match on {
        RecordRef::Client(_) => "client_id",
        RecordRef::Company(_) => "company_id",
        RecordRef::Deal(_) => "deal_id",
    }
}

/// The tables whose rows a client merge carries to the survivor.
#[derive(Debug, Clone, Copy)]
pub enum Carried {
    Notes,
    Tasks,
    Activities,
}

impl Carried {
    fn table(self) -> &'static str {
        match self {
            Carried::Notes => "notes",
            Carried::Tasks => "tasks",
            Carried::Activities => "activities",
        }
    }
}

/// Moves client `from`'s rows of `what` to client `to` (a merge); returns the rows moved.
pub async fn move_client(
    tx: &mut TenantTx,
    what: Carried,
    from: ClientId,
    to: ClientId,
) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    let moved = sqlx::query_scalar(&format!(
        "UPDATE {} SET client_id = $3 WHERE tenant_id = $1 AND client_id = $2 RETURNING id",
        what.table()
    ))
    .bind(tenant)
    .bind(from.0)
    .bind(to.0)
    .fetch_all(tx.conn())
    .await?;
    Ok(moved)
}

/// Moves rows `ids` of `what` back to client `to` (a merge undone).
pub async fn move_back(tx: &mut TenantTx, what: Carried, ids: &[i64], to: ClientId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query(&format!("UPDATE {} SET client_id = $3 WHERE tenant_id = $1 AND id = ANY($2)", what.table()))
        .bind(tenant)
        .bind(ids)
        .bind(to.0)
        .execute(tx.conn())
        .await?;
    Ok(())
}
