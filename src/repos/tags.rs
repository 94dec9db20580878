//! The tags table, and the tables that put tags on records (`client_tags`, `company_tags`,
//! `deal_tags`, `chat_tags`: one per kind of record, with foreign keys both ways).

use std::collections::HashMap;

use crate::db::TenantTx;
use crate::domain::pipeline::Color;
use crate::domain::tag::{Tag, TagFields, TagId, TagUse, Tagged, TaggedKind};

use super::{RepoError, conflict_on};

const UNIQUE: &[(&str, &str)] = &[("tags_tenant_id_name_key_key", "name")];

/// The table that puts tags on records of `kind`, and its column naming the record. Static
/// names: the only text a query here is assembled from.
fn table(kind: TaggedKind) -> (&'static str, &'static str) {
    match kind {
        TaggedKind::Client => ("client_tags", "client_id"),
        TaggedKind::Company => ("company_tags", "company_id"),
        TaggedKind::Deal => ("deal_tags", "deal_id"),
        TaggedKind::Chat => ("chat_tags", "chat_id"),
    }
}

struct TagRecord {
    id: i64,
    name: String,
    color: String,
    locked: bool,
}

impl TagRecord {
    fn into_tag(self) -> Result<Tag, RepoError> {
        let color = Color::parse(&self.color).map_err(|_| RepoError::Corrupt(format!("tag {}: colour", self.id)))?;
        Ok(Tag { id: TagId(self.id), name: self.name, color, locked: self.locked })
    }
}

/// The tenant's tags, by name.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<Tag>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        TagRecord,
        "SELECT id, name, color, locked FROM tags WHERE tenant_id = $1 ORDER BY name_key, id",
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(TagRecord::into_tag).collect()
}

/// The tenant's tags, by name, each with how many records of each kind carry it.
pub async fn usage(tx: &mut TenantTx) -> Result<Vec<TagUse>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        r#"SELECT t.id, t.name, t.color, t.locked,
                  (SELECT count(*) FROM client_tags x WHERE x.tenant_id = t.tenant_id AND x.tag_id = t.id) AS "clients!",
                  (SELECT count(*) FROM company_tags x WHERE x.tenant_id = t.tenant_id AND x.tag_id = t.id) AS "companies!",
                  (SELECT count(*) FROM deal_tags x WHERE x.tenant_id = t.tenant_id AND x.tag_id = t.id) AS "deals!",
                  (SELECT count(*) FROM chat_tags x WHERE x.tenant_id = t.tenant_id AND x.tag_id = t.id) AS "chats!"
           FROM tags t WHERE t.tenant_id = $1 ORDER BY t.name_key, t.id"#,
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|r| {
            let tag = TagRecord { id: r.id, name: r.name, color: r.color, locked: r.locked }.into_tag()?;
            Ok(TagUse { tag, clients: r.clients, companies: r.companies, deals: r.deals, chats: r.chats })
        })
        .collect()
}

pub async fn get(tx: &mut TenantTx, id: TagId) -> Result<Tag, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        TagRecord,
        "SELECT id, name, color, locked FROM tags WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_tag()
}

/// The tags among `ids` the tenant has, by name.
pub async fn some(tx: &mut TenantTx, ids: &[TagId]) -> Result<Vec<Tag>, RepoError> {
    let tenant = tx.tenant_id().0;
    let ids: Vec<i64> = ids.iter().map(|t| t.0).collect();
    let rows = sqlx::query_as!(
        TagRecord,
        "SELECT id, name, color, locked FROM tags WHERE tenant_id = $1 AND id = ANY($2) ORDER BY name_key, id",
        tenant,
        &ids
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(TagRecord::into_tag).collect()
}

/// A new tag (409 `name` when the tenant has one of that name in any case).
pub async fn insert(tx: &mut TenantTx, f: &TagFields) -> Result<TagId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO tags (tenant_id, name, name_key, color, locked) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        tenant,
        f.name.as_str(),
        f.name.key(),
        f.color.as_str(),
        f.locked
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(UNIQUE))?;
    Ok(TagId(id))
}

pub async fn update(tx: &mut TenantTx, id: TagId, f: &TagFields) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE tags SET name = $3, name_key = $4, color = $5, locked = $6, updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        f.name.as_str(),
        f.name.key(),
        f.color.as_str(),
        f.locked
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(UNIQUE))?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Deletes a tag, which takes it off every record in the same statement (the foreign keys
/// cascade).
pub async fn delete(tx: &mut TenantTx, id: TagId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done =
        sqlx::query!("DELETE FROM tags WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// The tags `record` carries, by name.
pub async fn on(tx: &mut TenantTx, record: Tagged) -> Result<Vec<Tag>, RepoError> {
    Ok(on_each(tx, record.kind(), &[record.id()]).await?.remove(&record.id()).unwrap_or_default())
}

/// The tags each of `ids` (records of `kind`) carries, by name; records without tags are
/// left out.
pub async fn on_each(tx: &mut TenantTx, kind: TaggedKind, ids: &[i64]) -> Result<HashMap<i64, Vec<Tag>>, RepoError> {
    let mut found: HashMap<i64, Vec<Tag>> = HashMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    let tenant = tx.tenant_id().0;
    let (table, column) = table(kind);
    let rows: Vec<(i64, i64, String, String, bool)> = sqlx::query_as(&format!(
        "SELECT x.{column}, t.id, t.name, t.color, t.locked
         FROM {table} x JOIN tags t ON t.tenant_id = x.tenant_id AND t.id = x.tag_id
         WHERE x.tenant_id = $1 AND x.{column} = ANY($2)
         ORDER BY t.name_key, t.id"
    ))
    .bind(tenant)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    for (record, id, name, color, locked) in rows {
        found.entry(record).or_default().push(TagRecord { id, name, color, locked }.into_tag()?);
    }
    Ok(found)
}

/// Puts `added` on `record` and takes `removed` off it.
pub async fn change(tx: &mut TenantTx, record: Tagged, added: &[TagId], removed: &[TagId]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let (table, column) = table(record.kind());
    let added: Vec<i64> = added.iter().map(|t| t.0).collect();
    let removed: Vec<i64> = removed.iter().map(|t| t.0).collect();
    if !added.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO {table} (tenant_id, {column}, tag_id) SELECT $1, $2, unnest($3::bigint[])
             ON CONFLICT DO NOTHING"
        ))
        .bind(tenant)
        .bind(record.id())
        .bind(&added)
        .execute(tx.conn())
        .await?;
    }
    if !removed.is_empty() {
        sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1 AND {column} = $2 AND tag_id = ANY($3)"))
            .bind(tenant)
            .bind(record.id())
            .bind(&removed)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}
