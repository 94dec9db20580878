//! The clients and client_contacts tables: one client and its contacts (`search` finds many,
//! `bulk` writes many for an import).

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::TenantTx;
use crate::domain::custom_field::FieldEntity;
use crate::domain::tag::TaggedKind;
use crate::domain::{Client, ClientFields, ClientId, ClientInput, Contact, ContactId, ContactType, ContactValue};

use super::{RepoError, conflict_on};

mod bulk;
pub mod merge;
mod search;

pub use bulk::{find_duplicates, insert_contacts_many, insert_many, pin_holders};
pub use search::{ExportRow, export, list, list_visible, matching_ids, search_fold, search_patterns, visible_to};

const CLIENT_UNIQUE: &[(&str, &str)] = &[("clients_phone_key", "phone"), ("clients_pin_key", "pin")];
const CONTACT_UNIQUE: &[(&str, &str)] = &[("client_contacts_value_key", "value")];

/// A client's row as the database holds it; `into_client` parses it.
#[derive(Debug)]
struct ClientRecord {
    id: i64,
    first_name: String,
    last_name: Option<String>,
    middle_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    date_of_birth: Option<NaiveDate>,
    gender: Option<String>,
    pin: Option<String>,
    passport_series: Option<String>,
    passport_number: Option<String>,
    comments: Option<String>,
    company_id: Option<i64>,
    job_title: Option<String>,
    owner_id: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    archived_at: Option<DateTime<Utc>>,
}

impl ClientRecord {
    /// The client, every value parsed by the rules it was written under; a value they refuse
    /// means the table was changed behind our back, and is reported as such.
    fn into_client(self) -> Result<Client, RepoError> {
        let stored = ClientInput {
            first_name: Some(self.first_name),
            last_name: self.last_name,
            middle_name: self.middle_name,
            phone: self.phone,
            email: self.email,
            address: self.address,
            date_of_birth: self.date_of_birth.map(|d| d.format("%Y-%m-%d").to_string()),
            gender: self.gender,
            pin: self.pin,
            passport_series: self.passport_series,
            passport_number: self.passport_number,
            comments: self.comments,
            company_id: self.company_id.map(|c| c.to_string()),
            job_title: self.job_title,
            owner_id: self.owner_id.map(|o| o.to_string()),
            tag_ids: None,
            custom: None,
        };
        let fields = ClientFields::parse_stored(&stored).map_err(|errors| {
            let refused: Vec<String> = errors.iter().map(|e| format!("{} ({})", e.field, e.code)).collect();
            RepoError::Corrupt(format!("client {}: stored {} refused", self.id, refused.join(", ")))
        })?;
        Ok(Client {
            id: ClientId(self.id),
            fields,
            tags: Vec::new(),
            custom: Default::default(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            archived_at: self.archived_at,
        })
    }
}

/// A contact's row as the database holds it.
struct ContactRecord {
    id: i64,
    client_id: i64,
    kind: String,
    value: String,
}

impl ContactRecord {
    fn into_contact(self) -> Result<Contact, RepoError> {
        let corrupt = |e: crate::domain::DomainError| {
            RepoError::Corrupt(format!("contact {}: stored {} refused ({})", self.id, e.field, e.code))
        };
        let kind: ContactType = self.kind.parse().map_err(corrupt)?;
        let value = ContactValue::parse(kind, &self.value).map_err(corrupt)?;
        Ok(Contact { id: ContactId(self.id), client_id: ClientId(self.client_id), value })
    }
}

/// The clients of `records` with their tags and custom values, in the same order.
async fn into_clients(tx: &mut TenantTx, records: Vec<ClientRecord>) -> Result<Vec<Client>, RepoError> {
    let mut clients: Vec<Client> = records.into_iter().map(ClientRecord::into_client).collect::<Result<_, _>>()?;
    let ids: Vec<i64> = clients.iter().map(|c| c.id.0).collect();
    let mut tags = crate::repos::tags::on_each(tx, TaggedKind::Client, &ids).await?;
    let mut custom = crate::repos::custom_fields::values_of(tx, FieldEntity::Client, &ids).await?;
    for client in &mut clients {
        client.tags = tags.remove(&client.id.0).unwrap_or_default();
        client.custom = custom.remove(&client.id.0).unwrap_or_default();
    }
    Ok(clients)
}

/// One client's row with its tags.
async fn into_client(tx: &mut TenantTx, record: ClientRecord) -> Result<Client, RepoError> {
    Ok(into_clients(tx, vec![record]).await?.pop().expect("one client in, one out"))
}

fn into_contacts(records: Vec<ContactRecord>) -> Result<Vec<Contact>, RepoError> {
    records.into_iter().map(ContactRecord::into_contact).collect()
}

pub async fn insert(tx: &mut TenantTx, c: &ClientFields) -> Result<ClientId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO clients (tenant_id, first_name, last_name, middle_name, phone, email, address, date_of_birth,
                              gender, pin, passport_series, passport_number, comments, company_id, job_title,
                              owner_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        tenant,
        c.first_name,
        c.last_name,
        c.middle_name,
        c.phone.as_ref().map(|p| p.as_str()),
        c.email.as_ref().map(|e| e.as_str()),
        c.address,
        c.date_of_birth,
        c.gender.map(|g| g.as_str()),
        c.pin.as_ref().map(|p| p.as_str()),
        c.passport.as_ref().and_then(|p| p.series.as_deref()),
        c.passport.as_ref().map(|p| p.number.as_str()),
        c.comments,
        c.company_id.map(|id| id.0),
        c.job_title,
        c.owner_id.map(|o| o.0)
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CLIENT_UNIQUE))?;
    Ok(ClientId(id))
}

/// Replaces every field of a live (not archived) client.
pub async fn update(tx: &mut TenantTx, id: ClientId, c: &ClientFields) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE clients SET first_name = $3, last_name = $4, middle_name = $5, phone = $6, email = $7, address = $8,
                date_of_birth = $9, gender = $10, pin = $11, passport_series = $12, passport_number = $13,
                comments = $14, company_id = $15, job_title = $16, owner_id = $17, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL",
        tenant,
        id.0,
        c.first_name,
        c.last_name,
        c.middle_name,
        c.phone.as_ref().map(|p| p.as_str()),
        c.email.as_ref().map(|e| e.as_str()),
        c.address,
        c.date_of_birth,
        c.gender.map(|g| g.as_str()),
        c.pin.as_ref().map(|p| p.as_str()),
        c.passport.as_ref().and_then(|p| p.series.as_deref()),
        c.passport.as_ref().map(|p| p.number.as_str()),
        c.comments,
        c.company_id.map(|id| id.0),
        c.job_title,
        c.owner_id.map(|o| o.0)
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(CLIENT_UNIQUE))?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// A live client, locked for the rest of the transaction.
pub async fn get_for_update(tx: &mut TenantTx, id: ClientId) -> Result<Client, RepoError> {
    let tenant = tx.tenant_id().0;
    let record = sqlx::query_as!(
        ClientRecord,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, company_id, job_title, owner_id, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL FOR UPDATE",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    into_client(tx, record).await
}

/// A live client (an archived one is `NotFound`).
pub async fn get(tx: &mut TenantTx, id: ClientId) -> Result<Client, RepoError> {
    let client = get_any(tx, id).await?;
    if client.archived_at.is_some() { Err(RepoError::NotFound) } else { Ok(client) }
}

/// A client, archived or not (for restoring, exporting, erasing).
pub async fn get_any(tx: &mut TenantTx, id: ClientId) -> Result<Client, RepoError> {
    let tenant = tx.tenant_id().0;
    let record = sqlx::query_as!(
        ClientRecord,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, company_id, job_title, owner_id, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    into_client(tx, record).await
}

/// Archived clients, most recently archived first.
pub async fn archived(tx: &mut TenantTx, limit: i64) -> Result<Vec<Client>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        ClientRecord,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, company_id, job_title, owner_id, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND archived_at IS NOT NULL ORDER BY archived_at DESC, id DESC LIMIT $2",
        tenant,
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    into_clients(tx, rows).await
}

/// Brings back a client archived less than `within` ago.
pub async fn restore(tx: &mut TenantTx, id: ClientId, within: std::time::Duration) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let within = crate::repos::interval(within)?;
    let done = sqlx::query!(
        "UPDATE clients SET archived_at = NULL, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND archived_at > now() - $3::interval",
        tenant,
        id.0,
        within
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Deletes the client and everything of theirs, and their name from audit summaries.
pub async fn erase(tx: &mut TenantTx, id: ClientId) -> Result<(), RepoError> {
    let existed = sqlx::query_scalar!(r#"SELECT erase_client($1) AS "existed!""#, id.0).fetch_one(tx.conn()).await?;
    if existed { Ok(()) } else { Err(RepoError::NotFound) }
}

/// Purges clients archived longer than `after` ago, in every tenant; returns how many, and
/// the storage keys of the files that were theirs.
pub async fn purge_archived(pool: &sqlx::PgPool, after: std::time::Duration) -> Result<(i64, Vec<String>), RepoError> {
    let after = crate::repos::interval(after)?;
    let r = sqlx::query!(
        r#"SELECT purged AS "purged!", storage_keys AS "storage_keys!" FROM purge_archived_clients($1)"#,
        after
    )
    .fetch_one(pool)
    .await?;
    Ok((r.purged, r.storage_keys))
}

/// The client (archived or not) that holds a unique `field` (`phone` or `pin`) with `value`.
pub async fn holder_of(tx: &mut TenantTx, field: &str, value: &str) -> Result<Option<(ClientId, String)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        r#"SELECT id, first_name || coalesce(' ' || last_name, '') AS "name!" FROM clients
           WHERE tenant_id = $1 AND (($2 = 'phone' AND phone = $3) OR ($2 = 'pin' AND pin = $3))"#,
        tenant,
        field,
        value
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (ClientId(r.id), r.name)))
}

/// Hides a live client from lists and search.
pub async fn archive(tx: &mut TenantTx, id: ClientId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE clients SET archived_at = now(), updated_at = now() WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// The live client a phone number belongs to, for a message from it: a contact of `kind`
/// with that number first (its id too), then any phone or WhatsApp contact, then the client's
/// own phone.
pub async fn find_by_number(
    tx: &mut TenantTx,
    number: &str,
    kind: ContactType,
) -> Result<Option<(ClientId, Option<ContactId>)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        r#"WITH hits AS (
               SELECT k.client_id, CASE WHEN k.type = $3 THEN k.id END AS contact_id, k.type = $3 AS exact
               FROM client_contacts k WHERE k.tenant_id = $1 AND k.type IN ('phone', 'whatsapp') AND k.value = $2
               UNION ALL
               SELECT c.id, NULL, false FROM clients c WHERE c.tenant_id = $1 AND c.phone = $2
           )
           SELECT h.client_id AS "client_id!", h.contact_id FROM hits h
           JOIN clients c ON c.tenant_id = $1 AND c.id = h.client_id AND c.archived_at IS NULL
           ORDER BY h.exact DESC, h.client_id LIMIT 1"#,
        tenant,
        number,
        kind.as_str()
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (ClientId(r.client_id), r.contact_id.map(ContactId))))
}

/// The live client behind a Telegram chat: the contact a chat member wrote from with that
/// chat id, else a telegram contact holding the username or the id itself.
pub async fn find_by_telegram(
    tx: &mut TenantTx,
    chat_id: i64,
    username: Option<&str>,
) -> Result<Option<(ClientId, ContactId)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        r#"SELECT k.client_id, k.id FROM client_contacts k
           JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id AND c.archived_at IS NULL
           WHERE k.tenant_id = $1 AND k.type = 'telegram'
             AND (k.id IN (SELECT m.contact_id FROM chat_members m
                           WHERE m.tenant_id = $1 AND m.transport = 'telegram' AND m.transport_meta ->> 'chat_id' = $2)
                  OR k.value = $2 OR k.value = lower($3))
           ORDER BY (k.value = $2) DESC, k.id LIMIT 1"#,
        tenant,
        chat_id.to_string(),
        username
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (ClientId(r.client_id), ContactId(r.id))))
}

pub async fn contacts(tx: &mut TenantTx, client: ClientId) -> Result<Vec<Contact>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        ContactRecord,
        r#"SELECT id, client_id, type AS "kind", value FROM client_contacts
           WHERE tenant_id = $1 AND client_id = $2 ORDER BY type, id"#,
        tenant,
        client.0
    )
    .fetch_all(tx.conn())
    .await?;
    into_contacts(rows)
}

/// The contacts of several clients at once (for the badges of a list).
pub async fn contacts_of(tx: &mut TenantTx, clients: &[ClientId]) -> Result<Vec<Contact>, RepoError> {
    let tenant = tx.tenant_id().0;
    let clients: Vec<i64> = clients.iter().map(|c| c.0).collect();
    let rows = sqlx::query_as!(
        ContactRecord,
        r#"SELECT id, client_id, type AS "kind", value FROM client_contacts
           WHERE tenant_id = $1 AND client_id = ANY($2) ORDER BY client_id, type, id"#,
        tenant,
        &clients
    )
    .fetch_all(tx.conn())
    .await?;
    into_contacts(rows)
}

pub async fn insert_contact(tx: &mut TenantTx, client: ClientId, value: &ContactValue) -> Result<Contact, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query_as!(
        ContactRecord,
        r#"INSERT INTO client_contacts (tenant_id, client_id, type, value) VALUES ($1, $2, $3, $4)
           RETURNING id, client_id, type AS "kind", value"#,
        tenant,
        client.0,
        value.kind().as_str(),
        value.as_str()
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CONTACT_UNIQUE))?;
    row.into_contact()
}

/// Removes one contact of one client; another client's contact is `NotFound`.
pub async fn delete_contact(tx: &mut TenantTx, client: ClientId, contact: ContactId) -> Result<Contact, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        ContactRecord,
        r#"DELETE FROM client_contacts WHERE tenant_id = $1 AND client_id = $2 AND id = $3
           RETURNING id, client_id, type AS "kind", value"#,
        tenant,
        client.0,
        contact.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_contact()
}
