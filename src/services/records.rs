//! What notes, tasks and timelines ask before touching a client, a company or a deal: may
//! this reader see it (its kind's read permission, and the tenant's `record_visibility`), and
//! may they write on it.

use crate::db::TenantTx;
use crate::domain::record::RecordRef;
use crate::domain::{Permission, Principal, UserId};
use crate::repos::{RepoError, companies, deals, records};

use super::{ServiceError, require};

/// The permission to read records of `on`'s kind.
pub fn read_permission(on: RecordRef) -> Permission {
    match on {
        RecordRef::Deal(_) => Permission::DealRead,
        RecordRef::Client(_) | RecordRef::Company(_) => Permission::ClientRead,
    }
}

/// The permission to write on records of `on`'s kind (its fields, its notes).
pub fn write_permission(on: RecordRef) -> Permission {
    match on {
        RecordRef::Deal(_) => Permission::DealWrite,
        RecordRef::Client(_) | RecordRef::Company(_) => Permission::ClientUpdate,
    }
}

/// `on`'s name, when `by` may read it and reaches it (`scope`: whose records alone they
/// reach); else `Forbidden` or `NotFound`.
pub(crate) async fn reach(
    tx: &mut TenantTx,
    by: &Principal,
    scope: Option<UserId>,
    on: RecordRef,
) -> Result<String, ServiceError> {
    require(by, &[read_permission(on)])?;
    let name = records::name(tx, on).await?;
    match (on, scope) {
        (_, None) => {}
        (RecordRef::Client(id), Some(_)) => super::clients::reach(tx, id, scope).await?,
        (RecordRef::Company(id), Some(_)) => drop(companies::get(tx, id, scope).await?),
        (RecordRef::Deal(id), Some(_)) => drop(deals::get(tx, id, scope).await?),
    }
    Ok(name)
}

/// Like `reach`, for a record named in input: one the reader cannot see is 422 on its field
/// (`unknown_client`, `unknown_company`, `unknown_deal`), not 404.
pub(crate) async fn reach_named(
    tx: &mut TenantTx,
    by: &Principal,
    scope: Option<UserId>,
    on: RecordRef,
) -> Result<String, ServiceError> {
    match reach(tx, by, scope, on).await {
        Err(ServiceError::NotFound | ServiceError::Repo(RepoError::NotFound)) => {
            let (field, code) = match on {
                RecordRef::Client(_) => ("client_id", "unknown_client"),
                RecordRef::Company(_) => ("company_id", "unknown_company"),
                RecordRef::Deal(_) => ("deal_id", "unknown_deal"),
            };
            Err(crate::domain::DomainError::new(field, code).into())
        }
        other => other,
    }
}
