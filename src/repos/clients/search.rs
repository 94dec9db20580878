//! Finding clients: the search over live clients (through `search_clients()`, see
//! docs/architecture.md "Client search"), its order and count, and the CSV export's stream.

use crate::db::TenantTx;
use crate::domain::UserId;
use crate::domain::client::{COUNT_CAP, Client, ClientId, ClientQuery, ClientSort, Total};

use super::{ClientRecord, into_clients};
use crate::repos::RepoError;

/// A page of a search's ids, in order, and how many matched (`exact`, or at least so many).
struct Found {
    ids: Vec<i64>,
    total: i64,
    exact: bool,
}

/// Live clients matching `query`, in order, and how many match: exact when the search could
/// count them (a search through its indexes counts up to twenty times `COUNT_CAP`), else at
/// least so many (a walk in order stops counting at `COUNT_CAP`).
pub async fn list(tx: &mut TenantTx, query: &ClientQuery) -> Result<(Vec<Client>, Total), RepoError> {
    let tenant = tx.tenant_id().0;
    let patterns = search_patterns(query.q.as_deref().unwrap_or_default());
    let by_name = query.sort == ClientSort::Name;
    let limit = i32::try_from(query.limit).unwrap_or(i32::MAX);
    let offset = i32::try_from(query.offset).unwrap_or(i32::MAX);
    let cap = i32::try_from(COUNT_CAP).unwrap_or(i32::MAX);
    let custom = (!query.custom.is_empty()).then(|| serde_json::Value::Object(query.custom.clone()));
    let found = match (query.tag_id, custom) {
        (tag, Some(custom)) => sqlx::query_as!(
            Found,
            r#"SELECT ids AS "ids!", total AS "total!", exact AS "exact!"
               FROM search_custom_clients($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
            custom,
            tag.map(|t| t.0),
            &patterns,
            query.created_from,
            query.created_to,
            by_name,
            limit,
            offset,
            cap
        )
        .fetch_optional(tx.conn())
        .await?,
        (None, None) => sqlx::query_as!(
            Found,
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
        .await?,
        (Some(tag), None) => sqlx::query_as!(
            Found,
            r#"SELECT ids AS "ids!", total AS "total!", exact AS "exact!"
               FROM search_tagged_clients($1, $2, $3, $4, $5, $6, $7, $8)"#,
            tag.0,
            &patterns,
            query.created_from,
            query.created_to,
            by_name,
            limit,
            offset,
            cap
        )
        .fetch_optional(tx.conn())
        .await?,
    };
    let Some(found) = found else { return Ok((Vec::new(), Total::Exact(0))) };
    let mut records = sqlx::query_as!(
        ClientRecord,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, company_id, job_title, owner_id, created_at, updated_at, archived_at
         FROM clients WHERE tenant_id = $1 AND id = ANY($2)",
        tenant,
        &found.ids
    )
    .fetch_all(tx.conn())
    .await?;
    records.sort_by_key(|c| found.ids.iter().position(|id| *id == c.id));
    let items = into_clients(tx, records).await?;
    let total = if found.exact { Total::Exact(found.total) } else { Total::AtLeast(found.total) };
    Ok((items, total))
}

/// Which clients a reader under `record_visibility: own` reaches ($1 tenant, $5 the reader):
/// the database's `clients_reached_by`, the rule's one definition.
const OWN: &str = "m.id IN (SELECT r FROM clients_reached_by($1, $5) r)";

/// `list` for a reader who reaches only their own clients (`OWN`): their book is read in
/// order and counted exactly up to `COUNT_CAP`, words matched as the search does.
pub async fn list_visible(
    tx: &mut TenantTx,
    query: &ClientQuery,
    reader: UserId,
) -> Result<(Vec<Client>, Total), RepoError> {
    let tenant = tx.tenant_id().0;
    let patterns = search_patterns(query.q.as_deref().unwrap_or_default());
    let matches = format!(
        "FROM clients m WHERE m.tenant_id = $1 AND m.archived_at IS NULL AND m.search LIKE ALL($2::text[])
           AND ($3::date IS NULL OR m.created_at >= $3) AND ($4::date IS NULL OR m.created_at < $4 + 1) AND {OWN}
           AND ($8::bigint IS NULL OR EXISTS (SELECT 1 FROM client_tags g
                                              WHERE g.tenant_id = m.tenant_id AND g.client_id = m.id AND g.tag_id = $8))
           AND m.custom @> $9"
    );
    let order = if query.sort == ClientSort::Name {
        "lower(m.first_name), lower(coalesce(m.last_name, '')), m.id"
    } else {
        "m.updated_at DESC, m.id DESC"
    };
    let custom = serde_json::Value::Object(query.custom.clone());
    let page_sql = format!("SELECT m.id {matches} ORDER BY {order} LIMIT $6 OFFSET $7");
    let ids: Vec<i64> = own_book(&page_sql, (tenant, &patterns, query, reader, &custom), (query.limit, query.offset))
        .fetch_all(tx.conn())
        .await?;
    let count_sql = format!("SELECT count(*) FROM (SELECT 1 {matches} LIMIT $6 OFFSET $7) c");
    let counted: i64 = own_book(&count_sql, (tenant, &patterns, query, reader, &custom), (COUNT_CAP + 1, 0))
        .fetch_one(tx.conn())
        .await?;
    let mut records = sqlx::query_as!(
        ClientRecord,
        "SELECT id, first_name, last_name, middle_name, phone, email, address, date_of_birth, gender, pin,
                passport_series, passport_number, comments, company_id, job_title, owner_id, created_at, updated_at,
                archived_at
         FROM clients WHERE tenant_id = $1 AND id = ANY($2)",
        tenant,
        &ids
    )
    .fetch_all(tx.conn())
    .await?;
    records.sort_by_key(|c| ids.iter().position(|id| *id == c.id));
    let total = if counted > COUNT_CAP { Total::AtLeast(COUNT_CAP) } else { Total::Exact(counted) };
    Ok((into_clients(tx, records).await?, total))
}

/// `sql` over `list_visible`'s matches with their values bound: $1 tenant, $2 patterns, $3
/// and $4 the creation window, $5 the reader, $6 and $7 the limit and offset, $8 the tag, $9
/// the custom values.
fn own_book<'q>(
    sql: &'q str,
    (tenant, patterns, query, reader, custom): (
        uuid::Uuid,
        &'q [String],
        &'q ClientQuery,
        UserId,
        &'q serde_json::Value,
    ),
    (limit, offset): (i64, i64),
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, i64, sqlx::postgres::PgArguments> {
    sqlx::query_scalar(sql)
        .bind(tenant)
        .bind(patterns)
        .bind(query.created_from)
        .bind(query.created_to)
        .bind(reader.0)
        .bind(limit)
        .bind(offset)
        .bind(query.tag_id.map(|t| t.0))
        .bind(custom)
}

/// Whether `reader` reaches client `id` under `record_visibility: own`: they own it, or its
/// chat is assigned to them.
pub async fn visible_to(tx: &mut TenantTx, id: ClientId, reader: UserId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let seen = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM clients_reached_by($1, $3) r WHERE r = $2) AS "seen!""#,
        tenant,
        id.0,
        reader.0
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(seen)
}

/// The ids of the live clients matching `query` that `reader` (when given) reaches, in id
/// order, at most `cap`: the targets of a bulk action on "all that match".
pub async fn matching_ids(
    tx: &mut TenantTx,
    query: &ClientQuery,
    reader: Option<UserId>,
    cap: i64,
) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    let patterns = search_patterns(query.q.as_deref().unwrap_or_default());
    let ids = sqlx::query_scalar!(
        r#"SELECT c.id FROM clients c
           WHERE c.tenant_id = $1 AND c.archived_at IS NULL
             AND c.search LIKE ALL($2::text[])
             AND ($3::date IS NULL OR c.created_at >= $3)
             AND ($4::date IS NULL OR c.created_at < $4 + 1)
             AND ($5::bigint IS NULL OR c.id IN (SELECT r FROM clients_reached_by($1, $5) r))
             AND ($6::bigint IS NULL OR EXISTS (SELECT 1 FROM client_tags g
                                                WHERE g.tenant_id = c.tenant_id AND g.client_id = c.id AND g.tag_id = $6))
             AND c.custom @> $7
           ORDER BY c.id LIMIT $8"#,
        tenant,
        &patterns,
        query.created_from,
        query.created_to,
        reader.map(|r| r.0),
        query.tag_id.map(|t| t.0),
        serde_json::Value::Object(query.custom.clone()),
        cap
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(ids)
}

/// One client as a CSV export row: the fields, the contacts as `type:value; …` and the tags'
/// names as `VIP; Wholesale`.
#[derive(Debug)]
pub struct ExportRow {
    pub client: Client,
    pub contacts: String,
    pub tags: String,
}

/// Every live client matching `query` (no paging) that `reader` (when given) reaches, in its
/// order, as a stream: an export reads
/// the whole table anyway, so it goes through row-level security like any read. `only`
/// narrows it to those clients (a bulk export of chosen ones).
pub fn export<'a>(
    tx: &'a mut TenantTx,
    query: &'a ClientQuery,
    reader: Option<UserId>,
    only: Option<&'a [i64]>,
) -> impl futures_util::Stream<Item = Result<ExportRow, RepoError>> + 'a {
    use futures_util::TryStreamExt;
    let tenant = tx.tenant_id().0;
    let patterns = search_patterns(query.q.as_deref().unwrap_or_default());
    let by_name = query.sort == ClientSort::Name;
    sqlx::query!(
        r#"SELECT c.id, c.first_name, c.last_name, c.middle_name, c.phone, c.email, c.address, c.date_of_birth,
                  c.gender, c.pin, c.passport_series, c.passport_number, c.comments, c.company_id, c.job_title,
                  c.owner_id, c.created_at, c.updated_at, c.archived_at, c.custom,
                  coalesce((SELECT string_agg(k.type || ':' || k.value, '; ' ORDER BY k.type, k.id)
                            FROM client_contacts k WHERE k.tenant_id = c.tenant_id AND k.client_id = c.id), '')
                      AS "contacts!",
                  coalesce((SELECT string_agg(t.name, '; ' ORDER BY t.name_key)
                            FROM client_tags g JOIN tags t ON t.tenant_id = g.tenant_id AND t.id = g.tag_id
                            WHERE g.tenant_id = c.tenant_id AND g.client_id = c.id), '') AS "tags!"
           FROM clients c
           WHERE c.tenant_id = $1 AND c.archived_at IS NULL
             AND c.search LIKE ALL($2::text[])
             AND ($3::date IS NULL OR c.created_at >= $3)
             AND ($4::date IS NULL OR c.created_at < $4 + 1)
             AND ($6::bigint IS NULL OR c.id IN (SELECT r FROM clients_reached_by($1, $6) r))
             AND ($7::bigint IS NULL OR EXISTS (SELECT 1 FROM client_tags g
                                                WHERE g.tenant_id = c.tenant_id AND g.client_id = c.id AND g.tag_id = $7))
             AND c.custom @> $8
             AND ($9::bigint[] IS NULL OR c.id = ANY($9))
           ORDER BY CASE WHEN $5 THEN lower(c.first_name) END, CASE WHEN $5 THEN lower(coalesce(c.last_name, '')) END,
                    CASE WHEN NOT $5 THEN c.updated_at END DESC, c.id"#,
        tenant,
        &patterns,
        query.created_from,
        query.created_to,
        by_name,
        reader.map(|r| r.0),
        query.tag_id.map(|t| t.0),
        serde_json::Value::Object(query.custom.clone()),
        only
    )
    .fetch(tx.conn())
    .map_err(RepoError::from)
    .and_then(|r| async move {
        let client = ClientRecord {
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
            company_id: r.company_id,
            job_title: r.job_title,
            owner_id: r.owner_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            archived_at: r.archived_at,
        }
        .into_client()?;
        let custom = match r.custom {
            serde_json::Value::Object(map) => map,
            _ => return Err(RepoError::Corrupt(format!("client {}: custom", client.id))),
        };
        Ok(ExportRow { client: Client { custom, ..client }, contacts: r.contacts, tags: r.tags })
    })
}

/// The words searched a query is: one LIKE pattern per word, each to be found anywhere in
/// the search text (lower-cased and folded as it is, LIKE's wildcards escaped). A query that
/// looks like a phone number is one word without its spaces, dashes and brackets. At most 8
/// words.
pub fn search_patterns(q: &str) -> Vec<String> {
    let q = search_fold(&q.trim().to_lowercase());
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

/// Lower-case text as a search compares it, whatever alphabet it was typed in: Cyrillic letters
/// in Latin (Uzbek Latin where the two differ), x and q as h and k, accents and apostrophes
/// dropped ("Ўктам", "Oʻktam" → "oktam"). Letter by letter, so a word within a text stays
/// within it. The stored side is `search_fold()` of migration 0022; a test holds the two equal.
pub fn search_fold(lowered: &str) -> String {
    let mut folded = String::with_capacity(lowered.len());
    for c in lowered.chars() {
        let latin = match c {
            'а' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ғ' | 'ğ' => "g",
            'д' => "d",
            'е' | 'э' | 'è' | 'é' | 'ê' | 'ë' => "e",
            'ё' => "yo",
            'ж' => "j",
            'з' => "z",
            'и' | 'ì' | 'í' | 'î' | 'ï' => "i",
            'й' | 'ы' | 'ý' => "y",
            'к' | 'қ' | 'q' => "k",
            'л' => "l",
            'м' => "m",
            'н' | 'ñ' => "n",
            'о' | 'ў' | 'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ù' | 'ú' | 'û' | 'ü' => "u",
            'ф' => "f",
            'х' | 'ҳ' | 'x' => "h",
            'ц' => "ts",
            'ч' => "ch",
            'ш' | 'щ' | 'ş' => "sh",
            'ю' => "yu",
            'я' => "ya",
            'ç' => "c",
            'ъ' | 'ь' | 'ʻ' | 'ʼ' | '\'' | '‘' | '’' | '`' => "",
            other => {
                folded.push(other);
                continue;
            }
        };
        folded.push_str(latin);
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::{search_fold, search_patterns};

    #[test]
    fn search_fold_brings_both_alphabets_to_one() {
        assert_eq!(search_fold("мадина"), "madina");
        assert_eq!(search_fold("madina"), "madina");
        assert_eq!(search_fold("ўктам oʻktam o'ktam"), "oktam oktam oktam");
        assert_eq!(search_fold("хуршид xurshid"), "hurshid hurshid");
        assert_eq!(search_fold("қодиров qodirov"), "kodirov kodirov");
        assert_eq!(search_fold("шахзод чингиз юсупова"), "shahzod chingiz yusupova");
        assert_eq!(search_fold("josé +998 90"), "jose +998 90");
    }

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
