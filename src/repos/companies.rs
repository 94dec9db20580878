//! The companies table, and the people (clients) who work at one. A company's list and search
//! go through `search` (its words folded like a client's) and an index in each order.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::client::Phone;
use crate::domain::company::{Company, CompanyFields, CompanyFilter, CompanyId, Person, Website};
use crate::domain::custom_field::FieldEntity;
use crate::domain::tag::TaggedKind;
use crate::domain::{ClientId, Email, Named, UserId};

use super::clients::search_patterns;
use super::{RepoError, conflict_on};

const UNIQUE: &[(&str, &str)] = &[("companies_tax_id_key", "tax_id")];

/// A list counts exactly up to this many companies; past it, the count says "more than".
pub const COUNT_CAP: i64 = 1_000;

struct CompanyRecord {
    id: i64,
    name: String,
    website: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    tax_id: Option<String>,
    comments: Option<String>,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    people: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CompanyRecord {
    fn into_company(self) -> Result<Company, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("company {}: stored {what} refused", self.id));
        let fields = CompanyFields {
            website: self.website.as_deref().map(Website::parse).transpose().map_err(|_| corrupt("website"))?,
            phone: self.phone.as_deref().map(Phone::parse).transpose().map_err(|_| corrupt("phone"))?,
            email: self.email.as_deref().map(Email::parse).transpose().map_err(|_| corrupt("email"))?,
            name: self.name,
            address: self.address,
            tax_id: self.tax_id,
            comments: self.comments,
            owner_id: self.owner_id.map(UserId),
        };
        Ok(Company {
            id: CompanyId(self.id),
            owner: self.owner_id.map(|id| Named { id: UserId(id), name: self.owner_name.unwrap_or_default() }),
            fields,
            people: self.people,
            created_at: self.created_at,
            updated_at: self.updated_at,
            tags: Vec::new(),
            custom: Default::default(),
        })
    }
}

/// The companies `ids`, in the order of `ids` (missing ones left out).
async fn load(tx: &mut TenantTx, ids: &[i64]) -> Result<Vec<Company>, RepoError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let tenant = tx.tenant_id().0;
    let mut rows = sqlx::query_as!(
        CompanyRecord,
        r#"SELECT co.id, co.name, co.website, co.phone, co.email, co.address, co.tax_id, co.comments,
                  co.owner_id, u.name AS "owner_name?",
                  (SELECT count(*) FROM clients c
                   WHERE c.tenant_id = co.tenant_id AND c.company_id = co.id AND c.archived_at IS NULL) AS "people!",
                  co.created_at, co.updated_at
           FROM companies co
           LEFT JOIN users u ON u.tenant_id = co.tenant_id AND u.id = co.owner_id
           WHERE co.tenant_id = $1 AND co.id = ANY($2)"#,
        tenant,
        ids
    )
    .fetch_all(tx.conn())
    .await?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    let mut tags = super::tags::on_each(tx, TaggedKind::Company, ids).await?;
    let mut custom = super::custom_fields::values_of(tx, FieldEntity::Company, ids).await?;
    rows.into_iter()
        .map(|r| {
            let mut company = r.into_company()?;
            company.tags = tags.remove(&company.id.0).unwrap_or_default();
            company.custom = custom.remove(&company.id.0).unwrap_or_default();
            Ok(company)
        })
        .collect()
}

/// One company; `NotFound` unless the tenant has it and `owner` (when given) owns it.
pub async fn get(tx: &mut TenantTx, id: CompanyId, owner: Option<UserId>) -> Result<Company, RepoError> {
    let company = load(tx, &[id.0]).await?.pop().ok_or(RepoError::NotFound)?;
    match owner {
        Some(o) if company.fields.owner_id != Some(o) => Err(RepoError::NotFound),
        _ => Ok(company),
    }
}

/// Locks a company for a change (`NotFound` when the tenant has none by that id).
pub async fn lock(tx: &mut TenantTx, id: CompanyId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!("SELECT id FROM companies WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    Ok(())
}

pub async fn insert(tx: &mut TenantTx, f: &CompanyFields) -> Result<CompanyId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO companies (tenant_id, name, website, phone, email, address, tax_id, comments, owner_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        tenant,
        f.name,
        f.website.as_ref().map(Website::as_str),
        f.phone.as_ref().map(Phone::as_str),
        f.email.as_ref().map(Email::as_str),
        f.address,
        f.tax_id,
        f.comments,
        f.owner_id.map(|o| o.0),
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(UNIQUE))?;
    Ok(CompanyId(id))
}

pub async fn update(tx: &mut TenantTx, id: CompanyId, f: &CompanyFields) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE companies SET name = $3, website = $4, phone = $5, email = $6, address = $7, tax_id = $8,
                comments = $9, owner_id = $10, updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        f.name,
        f.website.as_ref().map(Website::as_str),
        f.phone.as_ref().map(Phone::as_str),
        f.email.as_ref().map(Email::as_str),
        f.address,
        f.tax_id,
        f.comments,
        f.owner_id.map(|o| o.0),
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(UNIQUE))?;
    Ok(())
}

/// Deletes a company; its people and deals stay, no longer linked to it.
pub async fn delete(tx: &mut TenantTx, id: CompanyId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM companies WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    Ok(())
}

/// Which companies a list holds: $1 tenant, $2 search patterns (all must match), $3 owner,
/// $6 a tag they carry, $7 custom values they hold ($4 and $5 are the page's limit and offset).
const MATCHES: &str = "FROM companies co
     WHERE co.tenant_id = $1 AND co.search LIKE ALL($2::text[]) AND ($3::bigint IS NULL OR co.owner_id = $3)
       AND ($6::bigint IS NULL OR EXISTS (SELECT 1 FROM company_tags x
                                          WHERE x.tenant_id = $1 AND x.company_id = co.id AND x.tag_id = $6))
       AND co.custom @> $7";

/// A page of the companies `filter` (and `owner`) lets through, by name or most recently
/// changed first, and how many there are: exact up to `COUNT_CAP` (the flag says whether).
pub async fn list(
    tx: &mut TenantTx,
    filter: &CompanyFilter,
    owner: Option<UserId>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Company>, i64, bool), RepoError> {
    let tenant = tx.tenant_id().0;
    // Planned for the values given, so a filter that is there can use its index.
    sqlx::query!("SET LOCAL plan_cache_mode = force_custom_plan").execute(tx.conn()).await?;
    let patterns = search_patterns(filter.q.as_deref().unwrap_or_default());
    let owner = owner.or(filter.owner_id).map(|o| o.0);
    let order = if filter.recent { "co.updated_at DESC, co.id DESC" } else { "lower(co.name), co.id" };
    let page_sql = format!("SELECT co.id {MATCHES} ORDER BY {order} LIMIT $4 OFFSET $5");
    let ids: Vec<i64> = sqlx::query_scalar(&page_sql)
        .bind(tenant)
        .bind(&patterns)
        .bind(owner)
        .bind(limit)
        .bind(offset)
        .bind(filter.tag_id.map(|t| t.0))
        .bind(serde_json::Value::Object(filter.custom.clone()))
        .fetch_all(tx.conn())
        .await?;
    let count_sql = format!("SELECT count(*) FROM (SELECT 1 {MATCHES} LIMIT $4 OFFSET $5) m");
    let counted: i64 = sqlx::query_scalar(&count_sql)
        .bind(tenant)
        .bind(&patterns)
        .bind(owner)
        .bind(COUNT_CAP + 1)
        .bind(0_i64)
        .bind(filter.tag_id.map(|t| t.0))
        .bind(serde_json::Value::Object(filter.custom.clone()))
        .fetch_one(tx.conn())
        .await?;
    Ok((load(tx, &ids).await?, counted.min(COUNT_CAP), counted <= COUNT_CAP))
}

/// Companies to pick from (a form's list), by name: those whose words match `q`, at most
/// `limit`, and `also` (the one already chosen) whatever it is called.
pub async fn options(
    tx: &mut TenantTx,
    q: &str,
    owner: Option<UserId>,
    also: Option<CompanyId>,
    limit: i64,
) -> Result<Vec<Named<CompanyId>>, RepoError> {
    let tenant = tx.tenant_id().0;
    let patterns = search_patterns(q);
    let rows = sqlx::query!(
        "(SELECT id, name FROM companies
          WHERE tenant_id = $1 AND search LIKE ALL($2::text[]) AND ($3::bigint IS NULL OR owner_id = $3)
          ORDER BY lower(name), id LIMIT $4)
         UNION
         SELECT id, name FROM companies WHERE tenant_id = $1 AND id = $5
         ORDER BY 2, 1",
        tenant,
        &patterns,
        owner.map(|o| o.0),
        limit,
        also.map(|c| c.0),
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().filter_map(|r| Some(Named { id: CompanyId(r.id?), name: r.name? })).collect())
}

/// The live clients who work at `company`, by name, at most `limit`; of them only those
/// `reader` reaches when the reader is limited to their own (`clients_reached_by`).
pub async fn people(
    tx: &mut TenantTx,
    company: CompanyId,
    reader: Option<UserId>,
    limit: i64,
) -> Result<Vec<Person>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        r#"SELECT id, concat_ws(' ', first_name, middle_name, last_name) AS "name!", job_title, phone, email
           FROM clients
           WHERE tenant_id = $1 AND company_id = $2 AND archived_at IS NULL
             AND ($4::bigint IS NULL OR id IN (SELECT r FROM clients_reached_by($1, $4) r))
           ORDER BY lower(first_name), lower(coalesce(last_name, '')), id LIMIT $3"#,
        tenant,
        company.0,
        limit,
        reader.map(|r| r.0)
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Person { id: ClientId(r.id), name: r.name, job_title: r.job_title, phone: r.phone, email: r.email })
        .collect())
}
