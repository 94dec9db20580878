//! The clients and client_contacts tables.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::types::PgInterval;

use crate::db::TenantTx;
use crate::domain::{ClientFields, ClientId, ClientInput, ContactId, ContactType, ContactValue};

use super::{RepoError, Total, conflict_on};

const CLIENT_UNIQUE: &[(&str, &str)] = &[("clients_phone_key", "phone"), ("clients_pin_key", "pin")];
const CONTACT_UNIQUE: &[(&str, &str)] = &[("client_contacts_value_key", "value")];

/// A client as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Client {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub middle_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub gender: Option<String>,
    pub pin: Option<String>,
    pub passport_series: Option<String>,
    pub passport_number: Option<String>,
    pub comments: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Client {
    pub fn full_name(&self) -> String {
        crate::domain::client::full_name(&self.first_name, self.middle_name.as_deref(), self.last_name.as_deref())
    }
}

/// A stored client as input: what a form shows, and what a patch is laid over.
impl From<&Client> for ClientInput {
    fn from(c: &Client) -> Self {
        ClientInput {
            first_name: Some(c.first_name.clone()),
            last_name: c.last_name.clone(),
            middle_name: c.middle_name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            address: c.address.clone(),
            date_of_birth: c.date_of_birth.map(|d| d.format("%Y-%m-%d").to_string()),
            gender: c.gender.clone(),
            pin: c.pin.clone(),
            passport_series: c.passport_series.clone(),
            passport_number: c.passport_number.clone(),
            comments: c.comments.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Contact {
    pub id: i64,
    pub client_id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

pub async fn insert(tx: &mut TenantTx, c: &ClientFields) -> Result<ClientId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO clients (tenant_id, first_name, last_name, middle_name, phone, email, address, date_of_birth,
                              gender, pin, passport_series, passport_number, comments)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
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
        c.comments
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
                comments = $14, updated_at = now()
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
        c.comments
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(CLIENT_UNIQUE))?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// A live client, locked for the rest of the transaction.
pub async fn get_for_update(tx: &mut TenantTx, id: ClientId) -> Result<Client, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Client,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND id = $2 AND archived_at IS NULL FOR UPDATE",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)
}

/// A live client (an archived one is `NotFound`).
pub async fn get(tx: &mut TenantTx, id: ClientId) -> Result<Client, RepoError> {
    let client = get_any(tx, id).await?;
    if client.archived_at.is_some() { Err(RepoError::NotFound) } else { Ok(client) }
}

/// A client, archived or not (for restoring, exporting, erasing).
pub async fn get_any(tx: &mut TenantTx, id: ClientId) -> Result<Client, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Client,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)
}

/// Archived clients, most recently archived first.
pub async fn archived(tx: &mut TenantTx, limit: i64) -> Result<Vec<Client>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        Client,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND archived_at IS NOT NULL ORDER BY archived_at DESC, id DESC LIMIT $2",
        tenant,
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Brings back a client archived less than `within` ago.
pub async fn restore(tx: &mut TenantTx, id: ClientId, within: std::time::Duration) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let within = PgInterval::try_from(within).map_err(|e| RepoError::Corrupt(e.to_string()))?;
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
    let after = PgInterval::try_from(after).map_err(|e| RepoError::Corrupt(e.to_string()))?;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently changed first.
    #[default]
    Updated,
    Name,
}

/// A search over live clients.
#[derive(Debug, Clone, Default)]
pub struct ClientQuery {
    /// Matched against any part of the names, phone, email and PIN.
    pub q: Option<String>,
    pub created_from: Option<NaiveDate>,
    pub created_to: Option<NaiveDate>,
    pub sort: Sort,
    pub limit: i64,
    pub offset: i64,
}

/// Counts of matches stop past this: an exact count of a broad search at a million clients
/// costs far more than the page itself.
pub const COUNT_CAP: i64 = 500;

/// Live clients matching `query`, in order, and how many match: exact when the search could
/// count them (a search through its indexes counts up to ten times `COUNT_CAP`), else at
/// least so many (a walk in order stops counting at `COUNT_CAP`).
pub async fn list(tx: &mut TenantTx, query: &ClientQuery) -> Result<(Vec<Client>, Total), RepoError> {
    let tenant = tx.tenant_id().0;
    let patterns = search_patterns(query.q.as_deref().unwrap_or_default());
    let by_name = query.sort == Sort::Name;
    let limit = i32::try_from(query.limit).unwrap_or(i32::MAX);
    let offset = i32::try_from(query.offset).unwrap_or(i32::MAX);
    let cap = i32::try_from(COUNT_CAP).unwrap_or(i32::MAX);
    let found = sqlx::query!(
        r#"SELECT ids AS "ids!", total AS "total!", exact AS "exact!" FROM search_clients($1, $2, $3, $4, $5, $6, $7)"#,
        &patterns,
        query.created_from,
        query.created_to,
        by_name,
        limit,
        offset,
        cap
    )
    .fetch_optional(tx.conn())
    .await?;
    let Some(found) = found else { return Ok((Vec::new(), Total::Exact(0))) };
    let mut items = sqlx::query_as!(
        Client,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND id = ANY($2)",
        tenant,
        &found.ids
    )
    .fetch_all(tx.conn())
    .await?;
    items.sort_by_key(|c| found.ids.iter().position(|id| *id == c.id));
    let total = if found.exact { Total::Exact(found.total) } else { Total::AtLeast(found.total) };
    Ok((items, total))
}

/// One client as a CSV export row: the fields, and the contacts as `type:value; …`.
#[derive(Debug)]
pub struct ExportRow {
    pub client: Client,
    pub contacts: String,
}

/// Every live client matching `query` (no paging), in its order, as a stream: an export reads
/// the whole table anyway, so it goes through row-level security like any read.
pub fn export<'a>(
    tx: &'a mut TenantTx,
    query: &'a ClientQuery,
) -> impl futures_util::Stream<Item = Result<ExportRow, RepoError>> + 'a {
    use futures_util::TryStreamExt;
    let tenant = tx.tenant_id().0;
    let patterns = search_patterns(query.q.as_deref().unwrap_or_default());
    let by_name = query.sort == Sort::Name;
    sqlx::query!(
        r#"SELECT c.id, c.first_name, c.last_name, c.middle_name, c.phone, c.email, c.address, c.date_of_birth,
                  c.gender, c.pin, c.passport_series, c.passport_number, c.comments, c.created_at, c.updated_at,
                  c.archived_at,
                  coalesce((SELECT string_agg(k.type || ':' || k.value, '; ' ORDER BY k.type, k.id)
                            FROM client_contacts k WHERE k.tenant_id = c.tenant_id AND k.client_id = c.id), '')
                      AS "contacts!"
           FROM clients c
           WHERE c.tenant_id = $1 AND c.archived_at IS NULL
             AND c.search LIKE ALL($2::text[])
             AND ($3::date IS NULL OR c.created_at >= $3)
             AND ($4::date IS NULL OR c.created_at < $4 + 1)
           ORDER BY CASE WHEN $5 THEN lower(c.first_name) END, CASE WHEN $5 THEN lower(coalesce(c.last_name, '')) END,
                    CASE WHEN NOT $5 THEN c.updated_at END DESC, c.id"#,
        tenant,
        &patterns,
        query.created_from,
        query.created_to,
        by_name
    )
    .fetch(tx.conn())
    .map_err(RepoError::from)
    .map_ok(|r| ExportRow {
        client: Client {
            id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
            middle_name: r.middle_name,
            phone: r.phone,
            email: r.email,
            address: r.address,
            date_of_birth: r.date_of_birth,
            gender: r.gender,
            pin: r.pin,
            passport_series: r.passport_series,
            passport_number: r.passport_number,
            comments: r.comments,
            created_at: r.created_at,
            updated_at: r.updated_at,
            archived_at: r.archived_at,
        },
        contacts: r.contacts,
    })
}

/// The words searched a query is: one LIKE pattern per word, each to be found anywhere in
/// the search text (lower-cased, LIKE's wildcards escaped). A query that looks like a phone
/// number is one word without its spaces, dashes and brackets. At most 8 words.
pub fn search_patterns(q: &str) -> Vec<String> {
    let q = q.trim().to_lowercase();
    let phone_like =
        q.chars().any(|c| c.is_ascii_digit()) && q.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    let words: Vec<String> = if phone_like {
        vec![q.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()]
    } else {
        q.split_whitespace().take(8).map(str::to_owned).collect()
    };
    words
        .into_iter()
        .filter(|w| !w.is_empty())
        .map(|w| format!("%{}%", w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
        .collect()
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
        Contact,
        r#"SELECT id, client_id, type AS "kind", value FROM client_contacts
           WHERE tenant_id = $1 AND client_id = $2 ORDER BY type, id"#,
        tenant,
        client.0
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// The contacts of several clients at once (for the badges of a list).
pub async fn contacts_of(tx: &mut TenantTx, clients: &[i64]) -> Result<Vec<Contact>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        Contact,
        r#"SELECT id, client_id, type AS "kind", value FROM client_contacts
           WHERE tenant_id = $1 AND client_id = ANY($2) ORDER BY client_id, type, id"#,
        tenant,
        clients
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

pub async fn insert_contact(tx: &mut TenantTx, client: ClientId, value: &ContactValue) -> Result<Contact, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query_as!(
        Contact,
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
    Ok(row)
}

/// Removes one contact of one client; another client's contact is `NotFound`.
pub async fn delete_contact(tx: &mut TenantTx, client: ClientId, contact: ContactId) -> Result<Contact, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        Contact,
        r#"DELETE FROM client_contacts WHERE tenant_id = $1 AND client_id = $2 AND id = $3
           RETURNING id, client_id, type AS "kind", value"#,
        tenant,
        client.0,
        contact.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)
}

/// The clients that imported rows duplicate: for each of `phones` and `emails` (folded) that a
/// client has (as its own phone or email, or as a phone, WhatsApp or email contact), the key
/// (`p:+998…` or `e:name@…`), the client, and whether it is archived.
pub async fn find_duplicates(
    tx: &mut TenantTx,
    phones: &[String],
    emails: &[String],
) -> Result<Vec<(String, ClientId, bool)>, RepoError> {
    let tenant = tx.tenant_id().0;
    // No join on the whole: planned while the table still looks empty (an import's first
    // batches, before it is analysed), a join here rescans the table for every row.
    let rows = sqlx::query!(
        r#"SELECT 'p:' || m.phone AS "key!", m.id AS "id!", m.archived_at IS NOT NULL AS "archived!"
           FROM clients m WHERE m.tenant_id = $1 AND m.phone = ANY($2)
           UNION ALL
           SELECT 'e:' || m.email_folded, m.id, m.archived_at IS NOT NULL
           FROM clients m WHERE m.tenant_id = $1 AND m.email_folded = ANY($3)
           UNION ALL
           SELECT 'p:' || k.value, c.id, c.archived_at IS NOT NULL
           FROM client_contacts k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
           WHERE k.tenant_id = $1 AND k.type IN ('phone', 'whatsapp') AND k.value = ANY($2)
           UNION ALL
           SELECT 'e:' || k.value, c.id, c.archived_at IS NOT NULL
           FROM client_contacts k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
           WHERE k.tenant_id = $1 AND k.type = 'email' AND k.value = ANY($3)"#,
        tenant,
        phones,
        emails
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, ClientId(r.id), r.archived)).collect())
}

/// The clients (archived or not) holding any of `pins`.
pub async fn pin_holders(tx: &mut TenantTx, pins: &[String]) -> Result<Vec<(String, ClientId)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows =
        sqlx::query!(r#"SELECT pin AS "pin!", id FROM clients WHERE tenant_id = $1 AND pin = ANY($2)"#, tenant, pins)
            .fetch_all(tx.conn())
            .await?;
    Ok(rows.into_iter().map(|r| (r.pin, ClientId(r.id))).collect())
}

/// Inserts many clients in one statement; their ids come back in the order given. A phone
/// or PIN that is taken fails the whole statement (`Conflict`).
pub async fn insert_many(tx: &mut TenantTx, many: &[&ClientFields]) -> Result<Vec<ClientId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let col = |f: &dyn Fn(&ClientFields) -> Option<String>| many.iter().map(|c| f(c)).collect::<Vec<Option<String>>>();
    let first_names: Vec<String> = many.iter().map(|c| c.first_name.clone()).collect();
    let dates: Vec<Option<NaiveDate>> = many.iter().map(|c| c.date_of_birth).collect();
    let ids = sqlx::query_scalar!(
        r#"INSERT INTO clients (tenant_id, first_name, last_name, middle_name, phone, email, address, date_of_birth,
                                gender, pin, passport_series, passport_number, comments)
           SELECT $1, r.f, r.l, r.m, r.p, r.e, r.a, r.d, r.g, r.pin, r.ps, r.pn, r.c FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                     $8::date[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
                               WITH ORDINALITY AS r(f, l, m, p, e, a, d, g, pin, ps, pn, c, n)
           ORDER BY r.n
           RETURNING id"#,
        tenant,
        &first_names,
        &col(&|c| c.last_name.clone()) as &[Option<String>],
        &col(&|c| c.middle_name.clone()) as &[Option<String>],
        &col(&|c| c.phone.as_ref().map(|p| p.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.email.as_ref().map(|e| e.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.address.clone()) as &[Option<String>],
        &dates as &[Option<NaiveDate>],
        &col(&|c| c.gender.map(|g| g.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.pin.as_ref().map(|p| p.as_str().to_owned())) as &[Option<String>],
        &col(&|c| c.passport.as_ref().and_then(|p| p.series.clone())) as &[Option<String>],
        &col(&|c| c.passport.as_ref().map(|p| p.number.clone())) as &[Option<String>],
        &col(&|c| c.comments.clone()) as &[Option<String>]
    )
    .fetch_all(tx.conn())
    .await
    .map_err(conflict_on(CLIENT_UNIQUE))?;
    if ids.len() != many.len() {
        return Err(RepoError::Corrupt(format!("{} clients inserted of {}", ids.len(), many.len())));
    }
    Ok(ids.into_iter().map(ClientId).collect())
}

/// Inserts many contacts in one statement (each pair distinct).
pub async fn insert_contacts_many(tx: &mut TenantTx, many: &[(ClientId, &ContactValue)]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let clients: Vec<i64> = many.iter().map(|(c, _)| c.0).collect();
    let kinds: Vec<String> = many.iter().map(|(_, v)| v.kind().as_str().to_owned()).collect();
    let values: Vec<String> = many.iter().map(|(_, v)| v.as_str().to_owned()).collect();
    sqlx::query!(
        "INSERT INTO client_contacts (tenant_id, client_id, type, value)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])",
        tenant,
        &clients,
        &kinds,
        &values
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(CONTACT_UNIQUE))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::search_patterns;

    #[test]
    fn search_patterns_escape_wildcards_split_words_and_tidy_phone_fragments() {
        assert_eq!(search_patterns("Ann"), ["%ann%"]);
        assert_eq!(search_patterns(" Ivanov   Sergey "), ["%ivanov%", "%sergey%"]);
        assert_eq!(search_patterns("90 123-45"), ["%9012345%"]);
        assert_eq!(search_patterns("+998 (90)"), ["%+99890%"]);
        assert_eq!(search_patterns("50%_off"), ["%50\\%\\_off%"]);
        assert!(search_patterns("   ").is_empty());
    }
}
