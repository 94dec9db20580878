//! The custom_fields table, and the `custom` values of clients, companies and deals.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::custom_field::{CustomField, CustomValues, FieldEntity, FieldId, FieldKey, FieldSpec};

use super::{RepoError, conflict_on};

const UNIQUE: &[(&str, &str)] = &[("custom_fields_tenant_id_entity_key_key", "key")];

/// The table holding records of `entity`. Static names: the only text a query here is
/// assembled from.
fn table(entity: FieldEntity) -> &'static str {
    match entity {
        FieldEntity::Client => "clients",
        FieldEntity::Company => "companies",
        FieldEntity::Deal => "deals",
    }
}

#[derive(sqlx::FromRow)]
struct FieldRecord {
    id: i64,
    entity: String,
    key: String,
    label: String,
    kind: String,
    options: serde_json::Value,
    required: bool,
    position: i32,
    removed_at: Option<DateTime<Utc>>,
}

impl FieldRecord {
    fn into_field(self) -> Result<CustomField, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("custom field {}: {what}", self.id));
        let options = match &self.options {
            serde_json::Value::Array(items) => {
                items.iter().map(|o| o.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()
            }
            _ => None,
        };
        Ok(CustomField {
            id: FieldId(self.id),
            entity: self.entity.parse().map_err(|_| corrupt("entity"))?,
            kind: self.kind.parse().map_err(|_| corrupt("kind"))?,
            options: options.ok_or_else(|| corrupt("options"))?,
            key: self.key,
            label: self.label,
            required: self.required,
            position: self.position,
            removed_at: self.removed_at,
        })
    }
}

/// The tenant's fields of `entity`, in their order; removed ones too when `with_removed`.
pub async fn list(tx: &mut TenantTx, entity: FieldEntity, with_removed: bool) -> Result<Vec<CustomField>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        FieldRecord,
        "SELECT id, entity, key, label, kind, options, required, position, removed_at FROM custom_fields
         WHERE tenant_id = $1 AND entity = $2 AND ($3 OR removed_at IS NULL) ORDER BY position, id",
        tenant,
        entity.as_str(),
        with_removed
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(FieldRecord::into_field).collect()
}

pub async fn get(tx: &mut TenantTx, id: FieldId) -> Result<CustomField, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        FieldRecord,
        "SELECT id, entity, key, label, kind, options, required, position, removed_at FROM custom_fields
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_field()
}

/// Whether the tenant has a field of `entity` (removed or not) with `key`.
pub async fn key_taken(tx: &mut TenantTx, entity: FieldEntity, key: &FieldKey) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let taken = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM custom_fields WHERE tenant_id = $1 AND entity = $2 AND key = $3) AS "taken!""#,
        tenant,
        entity.as_str(),
        key.as_str()
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(taken)
}

/// A new field, after the others of its entity (409 `key` when the key is taken).
pub async fn insert(tx: &mut TenantTx, spec: &FieldSpec, key: &FieldKey) -> Result<FieldId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO custom_fields (tenant_id, entity, key, label, kind, options, required, position)
         VALUES ($1, $2, $3, $4, $5, $6, $7,
                 (SELECT coalesce(max(position), 0) + 1 FROM custom_fields WHERE tenant_id = $1 AND entity = $2))
         RETURNING id",
        tenant,
        spec.entity.as_str(),
        key.as_str(),
        spec.label,
        spec.kind.as_str(),
        serde_json::json!(spec.options),
        spec.required
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(UNIQUE))?;
    Ok(FieldId(id))
}

/// Relabels a field, changes its options or whether it is required.
pub async fn update(tx: &mut TenantTx, id: FieldId, spec: &FieldSpec) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE custom_fields SET label = $3, options = $4, required = $5, updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        spec.label,
        serde_json::json!(spec.options),
        spec.required
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Hides a live field; its values stay in the records.
pub async fn remove(tx: &mut TenantTx, id: FieldId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE custom_fields SET removed_at = now(), updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Brings back a field removed less than `within` ago, with its values.
pub async fn restore(tx: &mut TenantTx, id: FieldId, within: std::time::Duration) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let within = super::interval(within)?;
    let done = sqlx::query!(
        "UPDATE custom_fields SET removed_at = NULL, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND removed_at > now() - $3::interval",
        tenant,
        id.0,
        within
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Deletes fields removed longer than `after` ago in every tenant, their values with them;
/// returns how many fields went.
pub async fn purge_removed(pool: &sqlx::PgPool, after: std::time::Duration) -> Result<i64, RepoError> {
    let after = super::interval(after)?;
    let purged =
        sqlx::query_scalar!(r#"SELECT purge_removed_custom_fields($1) AS "purged!""#, after).fetch_one(pool).await?;
    Ok(purged)
}

/// The values of the live fields of the records `ids` of `entity`, by record id: what
/// records show (a removed field's values stay stored, hidden, until it is purged).
pub async fn values_of(
    tx: &mut TenantTx,
    entity: FieldEntity,
    ids: &[i64],
) -> Result<HashMap<i64, CustomValues>, RepoError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT r.id, coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(r.custom) e
                                JOIN custom_fields f ON f.tenant_id = r.tenant_id AND f.entity = $3
                                                    AND f.key = e.key AND f.removed_at IS NULL), '{{}}')
         FROM {} r WHERE r.tenant_id = $1 AND r.id = ANY($2) AND r.custom <> '{{}}'",
        table(entity)
    );
    read_values(tx, entity, &sql, ids).await
}

/// Every stored value of record `id` of `entity`, removed fields' too: what a write lays its
/// changes over.
pub async fn stored_values(tx: &mut TenantTx, entity: FieldEntity, id: i64) -> Result<CustomValues, RepoError> {
    let sql = format!("SELECT r.id, r.custom FROM {} r WHERE r.tenant_id = $1 AND r.id = ANY($2)", table(entity));
    Ok(read_values(tx, entity, &sql, &[id]).await?.remove(&id).unwrap_or_default())
}

async fn read_values(
    tx: &mut TenantTx,
    entity: FieldEntity,
    sql: &str,
    ids: &[i64],
) -> Result<HashMap<i64, CustomValues>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows: Vec<(i64, serde_json::Value)> =
        sqlx::query_as(sql).bind(tenant).bind(ids).bind(entity.as_str()).fetch_all(tx.conn()).await?;
    rows.into_iter()
        .map(|(id, v)| match v {
            serde_json::Value::Object(map) => Ok((id, map)),
            _ => Err(RepoError::Corrupt(format!("{} {id}: custom", table(entity)))),
        })
        .collect()
}

/// Replaces the values of record `id` of `entity`, and marks it changed.
pub async fn set_values(
    tx: &mut TenantTx,
    entity: FieldEntity,
    id: i64,
    values: &CustomValues,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let sql = format!("UPDATE {} SET custom = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2", table(entity));
    let done = sqlx::query(&sql)
        .bind(tenant)
        .bind(id)
        .bind(serde_json::Value::Object(values.clone()))
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}
