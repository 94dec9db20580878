//! The deals and deal_moves tables: deals in their stages (in board order), and every move
//! between stages. Which deals a query returns is chosen by one query per shape (board column,
//! list, one deal); what a deal looks like, with its stage, client and owner, is loaded by one
//! query for all of them (`cards`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::db::TenantTx;
use crate::domain::chat::ChatId;
use crate::domain::company::CompanyId;
use crate::domain::custom_field::FieldEntity;
use crate::domain::deal::{Column, Cursor, Deal, DealFilter, DealId, DealMove, DealSort, Gap, Named};
use crate::domain::money::Amount;
use crate::domain::pipeline::{PipelineId, StageId, StageKind};
use crate::domain::tag::TaggedKind;
use crate::domain::{ClientId, Currency, UserId};

use super::RepoError;

/// A deal's fields as written.
pub struct DealRow<'a> {
    pub title: &'a str,
    pub pipeline_id: PipelineId,
    pub stage_id: StageId,
    pub value: Option<(Amount, Currency, Amount)>,
    pub client_id: Option<ClientId>,
    pub company_id: Option<CompanyId>,
    pub owner_id: Option<UserId>,
    pub expected_close_on: Option<NaiveDate>,
    pub lost_reason: Option<&'a str>,
}

struct CardRecord {
    id: i64,
    title: String,
    pipeline_id: i64,
    stage_id: i64,
    stage_name: String,
    kind: String,
    value: Option<Decimal>,
    currency: Option<String>,
    value_base: Option<Decimal>,
    client_id: Option<i64>,
    client_name: Option<String>,
    chat_id: Option<i64>,
    company_id: Option<i64>,
    company_name: Option<String>,
    owner_id: Option<i64>,
    owner_name: Option<String>,
    expected_close_on: Option<NaiveDate>,
    lost_reason: Option<String>,
    position: f64,
    stage_entered_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CardRecord {
    fn into_deal(self) -> Result<Deal, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("deal {}: stored {what} refused", self.id));
        let value = match (self.value, &self.currency) {
            (Some(v), Some(c)) => Some((
                Amount::new(v).ok_or_else(|| corrupt("value"))?,
                c.parse::<Currency>().map_err(|_| corrupt("currency"))?,
            )),
            _ => None,
        };
        let value_base = match self.value_base {
            Some(v) => Some(Amount::new(v).ok_or_else(|| corrupt("value_base"))?),
            None => None,
        };
        Ok(Deal {
            id: DealId(self.id),
            pipeline_id: PipelineId(self.pipeline_id),
            stage_id: StageId(self.stage_id),
            status: StageKind::parse(&self.kind).map_err(|_| corrupt("stage kind"))?,
            stage_name: self.stage_name,
            value,
            value_base,
            client: self.client_id.map(|id| Named { id: ClientId(id), name: self.client_name.unwrap_or_default() }),
            chat_id: self.chat_id.map(ChatId),
            company: self.company_id.map(|id| Named { id: CompanyId(id), name: self.company_name.unwrap_or_default() }),
            owner: self.owner_id.map(|id| Named { id: UserId(id), name: self.owner_name.unwrap_or_default() }),
            expected_close_on: self.expected_close_on,
            lost_reason: self.lost_reason,
            position: self.position,
            stage_entered_at: self.stage_entered_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            title: self.title,
            tags: Vec::new(),
            custom: Default::default(),
        })
    }
}

/// The deals `ids`, as cards, in the order of `ids` (missing ones left out).
async fn cards(tx: &mut TenantTx, ids: &[i64]) -> Result<Vec<Deal>, RepoError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let tenant = tx.tenant_id().0;
    // The same plan serves any ids: kept once per connection, where a custom one (which the
    // filters before this asked for) cost 2 ms of planning a request for its five joins.
    sqlx::query!("SET LOCAL plan_cache_mode = auto").execute(tx.conn()).await?;
    let rows = sqlx::query_as!(
        CardRecord,
        r#"SELECT d.id, d.title, d.pipeline_id, d.stage_id, s.name AS stage_name, s.kind,
                  d.value, d.currency, d.value_base,
                  d.client_id, concat_ws(' ', c.first_name, c.last_name) AS "client_name?", ch.id AS "chat_id?",
                  d.company_id, co.name AS "company_name?", d.owner_id, u.name AS "owner_name?",
                  d.expected_close_on, d.lost_reason, d.position, d.stage_entered_at, d.created_at, d.updated_at
           FROM deals d
           JOIN pipeline_stages s ON s.tenant_id = d.tenant_id AND s.id = d.stage_id
           LEFT JOIN clients c ON c.tenant_id = d.tenant_id AND c.id = d.client_id
           LEFT JOIN chats ch ON ch.tenant_id = d.tenant_id AND ch.client_id = d.client_id
           LEFT JOIN companies co ON co.tenant_id = d.tenant_id AND co.id = d.company_id
           LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.owner_id
           WHERE d.tenant_id = $1 AND d.id = ANY($2)"#,
        tenant,
        ids
    )
    .fetch_all(tx.conn())
    .await?;
    let mut deals: Vec<Deal> = rows.into_iter().map(CardRecord::into_deal).collect::<Result<_, _>>()?;
    let mut tags = super::tags::on_each(tx, TaggedKind::Deal, ids).await?;
    let mut custom = super::custom_fields::values_of(tx, FieldEntity::Deal, ids).await?;
    for deal in &mut deals {
        deal.tags = tags.remove(&deal.id.0).unwrap_or_default();
        deal.custom = custom.remove(&deal.id.0).unwrap_or_default();
    }
    let order: HashMap<i64, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
    deals.sort_by_key(|d| order.get(&d.id.0).copied());
    Ok(deals)
}

/// One deal; `NotFound` unless the tenant has it and `owner` (when given) owns it.
pub async fn get(tx: &mut TenantTx, id: DealId, owner: Option<UserId>) -> Result<Deal, RepoError> {
    let deal = cards(tx, &[id.0]).await?.pop().ok_or(RepoError::NotFound)?;
    match owner {
        Some(o) if deal.owner.as_ref().map(|w| w.id) != Some(o) => Err(RepoError::NotFound),
        _ => Ok(deal),
    }
}

/// Locks a deal for a change; its stage and when it entered it.
pub async fn lock(tx: &mut TenantTx, id: DealId) -> Result<(StageId, DateTime<Utc>), RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query!(
        "SELECT stage_id, stage_entered_at FROM deals WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok((StageId(r.stage_id), r.stage_entered_at))
}

pub async fn insert(tx: &mut TenantTx, row: &DealRow<'_>, position: f64) -> Result<DealId, RepoError> {
    let tenant = tx.tenant_id().0;
    let (value, currency, base) = split_value(row);
    let id = sqlx::query_scalar!(
        "INSERT INTO deals (tenant_id, title, pipeline_id, stage_id, position, value, currency, value_base,
                            client_id, owner_id, expected_close_on, lost_reason, company_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        tenant,
        row.title,
        row.pipeline_id.0,
        row.stage_id.0,
        position,
        value,
        currency,
        base,
        row.client_id.map(|c| c.0),
        row.owner_id.map(|o| o.0),
        row.expected_close_on,
        row.lost_reason,
        row.company_id.map(|c| c.0),
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(DealId(id))
}

fn split_value<'r>(row: &'r DealRow<'_>) -> (Option<Decimal>, Option<&'r str>, Option<Decimal>) {
    match &row.value {
        Some((v, c, b)) => (Some(v.value()), Some(c.as_str()), Some(b.value())),
        None => (None, None, None),
    }
}

/// Writes a deal's fields; a new stage is entered now, at `position`.
pub async fn update(
    tx: &mut TenantTx,
    id: DealId,
    row: &DealRow<'_>,
    new_position: Option<f64>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let (value, currency, base) = split_value(row);
    sqlx::query!(
        "UPDATE deals SET title = $3, pipeline_id = $4, stage_id = $5, value = $6, currency = $7, value_base = $8,
                client_id = $9, owner_id = $10, expected_close_on = $11, lost_reason = $12,
                position = coalesce($13, position), company_id = $14,
                stage_entered_at = CASE WHEN stage_id = $5 THEN stage_entered_at ELSE now() END,
                updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        row.title,
        row.pipeline_id.0,
        row.stage_id.0,
        value,
        currency,
        base,
        row.client_id.map(|c| c.0),
        row.owner_id.map(|o| o.0),
        row.expected_close_on,
        row.lost_reason,
        new_position,
        row.company_id.map(|c| c.0),
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Puts a deal at `position` of `stage` (one row written); entering a new stage starts its clock.
pub async fn place(
    tx: &mut TenantTx,
    id: DealId,
    stage: StageId,
    position: f64,
    lost_reason: Option<&str>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE deals SET position = $4, lost_reason = $5,
                stage_entered_at = CASE WHEN stage_id = $3 THEN stage_entered_at ELSE now() END,
                stage_id = $3, updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        stage.0,
        position,
        lost_reason,
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut TenantTx, id: DealId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done =
        sqlx::query!("DELETE FROM deals WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Where a card goes in `stage`: just before the deal `before` (which must be in that stage),
/// or after the last card. `moving` is left out of its neighbours.
pub async fn gap(
    tx: &mut TenantTx,
    stage: StageId,
    before: Option<DealId>,
    moving: Option<DealId>,
) -> Result<Gap, RepoError> {
    let tenant = tx.tenant_id().0;
    let moving = moving.map_or(0, |m| m.0);
    let next = match before {
        Some(b) => Some(
            sqlx::query_scalar!(
                "SELECT position FROM deals WHERE tenant_id = $1 AND id = $2 AND stage_id = $3",
                tenant,
                b.0,
                stage.0
            )
            .fetch_optional(tx.conn())
            .await?
            .ok_or(RepoError::NotFound)?,
        ),
        None => None,
    };
    let prev = sqlx::query_scalar!(
        "SELECT position FROM deals
         WHERE tenant_id = $1 AND stage_id = $2 AND id <> $3 AND ($4::float8 IS NULL OR position < $4)
         ORDER BY position DESC LIMIT 1",
        tenant,
        stage.0,
        moving,
        next,
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(Gap { prev, next })
}

/// The first position of `stage`, for a card that goes on top.
pub async fn top(tx: &mut TenantTx, stage: StageId) -> Result<Gap, RepoError> {
    let tenant = tx.tenant_id().0;
    let next = sqlx::query_scalar!(
        "SELECT position FROM deals WHERE tenant_id = $1 AND stage_id = $2 ORDER BY position LIMIT 1",
        tenant,
        stage.0
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(Gap { prev: None, next })
}

/// Spreads the 64 cards of `stage` just before position `next` out again, in their order,
/// between the card before them and `next`, when two came too close for a card between them
/// (after some fifty moves into the same gap): 64 rows written, not the stage's thousands.
pub async fn spread_before(tx: &mut TenantTx, stage: StageId, next: f64) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "WITH w AS (SELECT id, position FROM deals WHERE tenant_id = $1 AND stage_id = $2 AND position < $3
                    ORDER BY position DESC, id DESC LIMIT 65),
              lo AS (SELECT CASE WHEN count(*) = 65 THEN min(position) ELSE $3 - 1024.0 * 66 END AS p FROM w),
              moved AS (SELECT id, row_number() OVER (ORDER BY position, id) AS n
                        FROM (SELECT id, position FROM w ORDER BY position DESC, id DESC LIMIT 64) x)
         UPDATE deals d SET position = lo.p + ($3 - lo.p) / 65.0 * moved.n
         FROM moved, lo WHERE d.tenant_id = $1 AND d.id = moved.id",
        tenant,
        stage.0,
        next
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Spreads `stage`'s cards out again, in their order, when two came too close for a card
/// between them and spreading the ones nearby did not make room.
pub async fn renumber(tx: &mut TenantTx, stage: StageId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE deals d SET position = o.n * 1024
         FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n FROM deals
               WHERE tenant_id = $1 AND stage_id = $2) o
         WHERE d.tenant_id = $1 AND d.id = o.id",
        tenant,
        stage.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records a move (or, with no `from`, the stage a deal started in).
pub async fn record_move(
    tx: &mut TenantTx,
    deal: DealId,
    from: Option<(StageId, &str, DateTime<Utc>)>,
    to: (StageId, &str),
    by: Option<UserId>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO deal_moves (tenant_id, deal_id, from_stage_id, from_stage_name, to_stage_id, to_stage_name,
                                 user_id, seconds_in_previous)
         VALUES ($1, $2, $3, $4, $5, $6, $7, greatest(0, extract(epoch FROM now() - $8::timestamptz))::bigint)",
        tenant,
        deal.0,
        from.map(|f| f.0.0),
        from.map(|f| f.1),
        to.0.0,
        to.1,
        by.map(|b| b.0),
        from.map(|f| f.2),
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A deal's moves, oldest first.
pub async fn history(tx: &mut TenantTx, deal: DealId) -> Result<Vec<DealMove>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        r#"SELECT m.from_stage_id, m.from_stage_name, m.to_stage_id, m.to_stage_name,
                  m.user_id, u.name AS "user_name?", m.moved_at, m.seconds_in_previous,
                  fs.name AS "from_now?", ts.name AS "to_now?"
           FROM deal_moves m
           LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id
           LEFT JOIN pipeline_stages fs ON fs.tenant_id = m.tenant_id AND fs.id = m.from_stage_id
           LEFT JOIN pipeline_stages ts ON ts.tenant_id = m.tenant_id AND ts.id = m.to_stage_id
           WHERE m.tenant_id = $1 AND m.deal_id = $2 ORDER BY m.moved_at, m.id LIMIT 1000"#,
        tenant,
        deal.0
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DealMove {
            // A stage is named as it is called now, or as it was when it is gone.
            from: r.from_stage_name.map(|was| (r.from_stage_id.map(StageId), r.from_now.unwrap_or(was))),
            to: (r.to_stage_id.map(StageId), r.to_now.unwrap_or(r.to_stage_name)),
            by: r.user_id.map(|id| Named { id: UserId(id), name: r.user_name.unwrap_or_default() }),
            moved_at: r.moved_at,
            seconds_in_previous: r.seconds_in_previous,
        })
        .collect())
}

/// The columns of a pipeline's board for `stages` (in their order): each stage's count and
/// total of the deals `filter` (and `owner`, when given) lets through, and its first `per`
/// cards.
pub async fn board(
    tx: &mut TenantTx,
    stages: &[StageId],
    filter: &DealFilter,
    owner: Option<UserId>,
    per: usize,
) -> Result<Vec<Column>, RepoError> {
    let tenant = tx.tenant_id().0;
    custom_plans(tx).await?;
    let ids: Vec<i64> = stages.iter().map(|s| s.0).collect();
    let owner = owner.or(filter.owner_id).map(|o| o.0);
    let patterns = super::clients::search_patterns(filter.q.as_deref().unwrap_or_default());
    let tag = filter.tag_id.map(|t| t.0);
    // Without words or a tag to look for: the stages' kept totals (all owners', or one's), and
    // each column's first cards walked in board order. With them: one pass over the deals
    // that have them (`filtered_board`), counting and summing each stage's and listing its
    // first cards, as a stage walked in order may hold none of them and be read to its end.
    let (totals, card_ids): (Vec<(i64, i64, Decimal)>, Vec<i64>) = if patterns.is_empty() && tag.is_none() {
        let totals = sqlx::query!(
            r#"SELECT stage_id, sum(deal_count)::bigint AS "n!", sum(value_base_total) AS "total!"
               FROM deal_stage_totals
               WHERE tenant_id = $1 AND stage_id = ANY($2) AND ($3::bigint IS NULL OR owner_id = $3)
               GROUP BY stage_id"#,
            tenant,
            &ids,
            owner,
        )
        .fetch_all(tx.conn())
        .await?
        .into_iter()
        .map(|r| (r.stage_id, r.n, r.total))
        .collect();
        let firsts = sqlx::query_scalar!(
            r#"SELECT f.id AS "id!"
               FROM unnest($2::bigint[]) WITH ORDINALITY AS s (stage_id, n)
               CROSS JOIN LATERAL (
                   SELECT d.id, d.position FROM deals d
                   WHERE d.tenant_id = $1 AND d.stage_id = s.stage_id
                     AND ($3::bigint IS NULL OR d.owner_id = $3)
                   ORDER BY d.position, d.id LIMIT $4
               ) f
               ORDER BY s.n, f.position, f.id"#,
            tenant,
            &ids,
            owner,
            (per + 1) as i64,
        )
        .fetch_all(tx.conn())
        .await?;
        (totals, firsts)
    } else {
        let stages = filtered_board(tx, &patterns, tag, &ids, owner, None, per + 1).await?;
        let totals = stages.iter().map(|s| (s.stage_id, s.deal_count, s.value_base_total)).collect();
        (totals, stages.into_iter().flat_map(|s| s.first_ids).collect())
    };
    let mut loaded = cards(tx, &card_ids).await?;
    let mut columns = Vec::with_capacity(stages.len());
    for stage in stages {
        let (n, total) = totals.iter().find(|t| t.0 == stage.0).map_or((0, Decimal::ZERO), |t| (t.1, t.2));
        let mut deals: Vec<Deal> = Vec::new();
        loaded.retain(|d| {
            if d.stage_id == *stage {
                deals.push(d.clone());
                false
            } else {
                true
            }
        });
        let next_cursor = page_end(&mut deals, per);
        columns.push(Column {
            stage_id: *stage,
            deal_count: n,
            value_base_total: Amount::new(total).ok_or_else(|| RepoError::Corrupt("a stage's total".into()))?,
            deals,
            next_cursor,
        });
    }
    Ok(columns)
}

/// Cuts `deals` (fetched one more than `per`) to `per`; where the next page starts, if any.
fn page_end(deals: &mut Vec<Deal>, per: usize) -> Option<Cursor> {
    if deals.len() > per {
        deals.truncate(per);
        deals.last().map(Cursor::after)
    } else {
        None
    }
}

/// The next cards of a board column, after `cursor`.
pub async fn column(
    tx: &mut TenantTx,
    stage: StageId,
    cursor: Cursor,
    filter: &DealFilter,
    owner: Option<UserId>,
    per: usize,
) -> Result<(Vec<Deal>, Option<Cursor>), RepoError> {
    let tenant = tx.tenant_id().0;
    custom_plans(tx).await?;
    let owner = owner.or(filter.owner_id).map(|o| o.0);
    let patterns = super::clients::search_patterns(filter.q.as_deref().unwrap_or_default());
    let tag = filter.tag_id.map(|t| t.0);
    let ids = if patterns.is_empty() && tag.is_none() {
        sqlx::query_scalar!(
            "SELECT d.id FROM deals d
             WHERE d.tenant_id = $1 AND d.stage_id = $2 AND (d.position, d.id) > ($3, $4)
               AND ($5::bigint IS NULL OR d.owner_id = $5)
             ORDER BY d.position, d.id LIMIT $6",
            tenant,
            stage.0,
            cursor.position,
            cursor.id.0,
            owner,
            (per + 1) as i64,
        )
        .fetch_all(tx.conn())
        .await?
    } else {
        let found = filtered_board(tx, &patterns, tag, &[stage.0], owner, Some(cursor), per + 1).await?;
        found.into_iter().flat_map(|s| s.first_ids).collect()
    };
    let mut deals = cards(tx, &ids).await?;
    let next = page_end(&mut deals, per);
    Ok((deals, next))
}

/// Which deals a list or an export holds: the conditions, binding $1 tenant, $2 pipeline,
/// $3 owner, $4 the deals whose title has the words looked for (`title_matches`), $5 stage,
/// $6 client, $7 stage kind, $8 company, $9 a tag they carry (each NULL: any).
/// (The stage's kind is asked of a subquery, not a join: a join's row estimate misled the
/// planner into sorting every match instead of walking the order's index.)
const MATCHES: &str = "FROM deals d
     WHERE d.tenant_id = $1
       AND ($2::bigint IS NULL OR d.pipeline_id = $2)
       AND ($3::bigint IS NULL OR d.owner_id = $3)
       AND ($4::bigint[] IS NULL OR d.id = ANY($4))
       AND ($5::bigint IS NULL OR d.stage_id = $5)
       AND ($6::bigint IS NULL OR d.client_id = $6)
       AND ($7::text IS NULL OR d.stage_id IN (SELECT st.id FROM pipeline_stages st
                                               WHERE st.tenant_id = $1 AND st.kind = $7))
       AND ($8::bigint IS NULL OR d.company_id = $8)
       AND ($9::bigint IS NULL OR EXISTS (SELECT 1 FROM deal_tags x
                                          WHERE x.tenant_id = $1 AND x.deal_id = d.id AND x.tag_id = $9))";

/// A list counts exactly up to this many deals; past it, the count says "more than".
pub const COUNT_CAP: i64 = 1_000;

/// Plans this transaction's queries for the values they are given. A query with optional
/// filters (`$3 IS NULL OR owner_id = $3`) is otherwise planned once for any values after
/// five runs, and that plan cannot use the index of a filter that is there.
async fn custom_plans(tx: &mut TenantTx) -> Result<(), RepoError> {
    sqlx::query!("SET LOCAL plan_cache_mode = force_custom_plan").execute(tx.conn()).await?;
    Ok(())
}

/// `sql` (selecting from `MATCHES`) with the filter's values bound, in `MATCHES`' order.
fn matching<'q, O>(
    sql: &'q str,
    tenant: uuid::Uuid,
    pipeline: Option<PipelineId>,
    filter: &DealFilter,
    owner: Option<UserId>,
    matched: Option<Vec<i64>>,
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
where
    O: Send + Unpin,
    (O,): for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    sqlx::query_scalar(sql)
        .bind(tenant)
        .bind(pipeline.map(|p| p.0))
        .bind(owner.or(filter.owner_id).map(|o| o.0))
        .bind(matched)
        .bind(filter.stage_id.map(|s| s.0))
        .bind(filter.client_id.map(|c| c.0))
        .bind(filter.status.map(|s| s.as_str()))
        .bind(filter.company_id.map(|c| c.0))
        .bind(filter.tag_id.map(|t| t.0))
}

/// A page of the deals `filter` (and `owner`) lets through, in `pipeline` when given, in
/// `sort`'s order (each order has an index to walk), and how many there are: exact up to
/// `COUNT_CAP` (the flag says whether it is).
#[allow(clippy::too_many_arguments)]
pub async fn list(
    tx: &mut TenantTx,
    pipeline: Option<PipelineId>,
    filter: &DealFilter,
    owner: Option<UserId>,
    sort: DealSort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Deal>, i64, bool), RepoError> {
    let tenant = tx.tenant_id().0;
    custom_plans(tx).await?;
    let order = match sort {
        DealSort::Updated => "d.updated_at DESC, d.id DESC",
        DealSort::Value => "d.value_base DESC NULLS LAST, d.id DESC",
        DealSort::CloseOn => "d.expected_close_on ASC NULLS LAST, d.id DESC",
        DealSort::Title => "lower(d.title), d.id DESC",
    };
    // Words of the title: their matches up to the count's cap. As few as that, the list is of
    // them; more, and they are common enough that the order's index, walked with the words
    // checked row by row, soon meets a page of them (and the count says "more than").
    let matched = title_matches(tx, filter.q.as_deref(), (COUNT_CAP + 1) as i32).await?;
    if matched.as_ref().is_some_and(|m| m.len() as i64 > COUNT_CAP) {
        let patterns = super::clients::search_patterns(filter.q.as_deref().unwrap_or_default());
        // Row-level security keeps a LIKE's statistics from the planner, which then takes the
        // words for rare and reads every deal to sort a few (44 ms for "квартира" at 100,000).
        // They are known to be common: the order's index is walked, never a sort. (A tag,
        // whose statistics the planner has, may be rare: then it starts from the tag.)
        if filter.tag_id.is_none() {
            sqlx::query!("SET LOCAL enable_sort = off").execute(tx.conn()).await?;
        }
        let sql = format!("SELECT d.id {MATCHES} AND d.search LIKE ALL($12) ORDER BY {order} LIMIT $10 OFFSET $11");
        let ids: Vec<i64> = matching(&sql, tenant, pipeline, filter, owner, None)
            .bind(limit)
            .bind(offset)
            .bind(&patterns)
            .fetch_all(tx.conn())
            .await?;
        // The words alone match more than the cap; other filters too may leave fewer.
        let narrowed = pipeline.is_some()
            || owner.or(filter.owner_id).is_some()
            || filter.stage_id.is_some()
            || filter.client_id.is_some()
            || filter.status.is_some()
            || filter.company_id.is_some()
            || filter.tag_id.is_some();
        sqlx::query!("SET LOCAL enable_sort = on").execute(tx.conn()).await?;
        let counted = if narrowed {
            let sql = format!("SELECT count(*) FROM (SELECT 1 {MATCHES} AND d.search LIKE ALL($11) LIMIT $10) m");
            let n: i64 = matching(&sql, tenant, pipeline, filter, owner, None)
                .bind(COUNT_CAP + 1)
                .bind(&patterns)
                .fetch_one(tx.conn())
                .await?;
            n
        } else {
            COUNT_CAP + 1
        };
        return Ok((cards(tx, &ids).await?, counted.min(COUNT_CAP), counted <= COUNT_CAP));
    }
    let page_sql = format!("SELECT d.id {MATCHES} ORDER BY {order} LIMIT $10 OFFSET $11");
    let ids: Vec<i64> = matching(&page_sql, tenant, pipeline, filter, owner, matched.clone())
        .bind(limit)
        .bind(offset)
        .fetch_all(tx.conn())
        .await?;
    if let (Some(tag), None, None, None) = (filter.tag_id, &matched, filter.client_id, filter.company_id) {
        // A tag with filters its kept counts know (pipeline, stage, status, owner): counted
        // there, exactly, instead of reading a rare tag's whole order to find it is rare.
        let counted = tag_count(tx, tag.0, pipeline, filter, owner).await?;
        return Ok((cards(tx, &ids).await?, counted, true));
    }
    let count_sql = format!("SELECT count(*) FROM (SELECT 1 {MATCHES} LIMIT $10) m");
    let counted: i64 =
        matching(&count_sql, tenant, pipeline, filter, owner, matched).bind(COUNT_CAP + 1).fetch_one(tx.conn()).await?;
    Ok((cards(tx, &ids).await?, counted.min(COUNT_CAP), counted <= COUNT_CAP))
}

/// How many deals carry `tag` in `pipeline`, the filter's stage and status and of the owner
/// (each when given), from `deal_tag_stage_totals`.
async fn tag_count(
    tx: &mut TenantTx,
    tag: i64,
    pipeline: Option<PipelineId>,
    filter: &DealFilter,
    owner: Option<UserId>,
) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    Ok(sqlx::query_scalar!(
        r#"SELECT coalesce(sum(t.deal_count), 0)::bigint AS "n!"
           FROM deal_tag_stage_totals t JOIN pipeline_stages st ON st.tenant_id = t.tenant_id AND st.id = t.stage_id
           WHERE t.tenant_id = $1 AND t.tag_id = $2 AND ($3::bigint IS NULL OR st.pipeline_id = $3)
             AND ($4::bigint IS NULL OR t.owner_id = $4) AND ($5::bigint IS NULL OR t.stage_id = $5)
             AND ($6::text IS NULL OR st.kind = $6)"#,
        tenant,
        tag,
        pipeline.map(|p| p.0),
        owner.or(filter.owner_id).map(|o| o.0),
        filter.stage_id.map(|s| s.0),
        filter.status.map(|s| s.as_str()),
    )
    .fetch_one(tx.conn())
    .await?)
}

/// The next `limit` deals after id `after` (in id order) that `filter` (and `owner`) lets
/// through, in `pipeline` when given: an export's pages. Words of the title are checked row by
/// row: an export reads every deal in id order anyway, and nothing caps how many match.
pub async fn after(
    tx: &mut TenantTx,
    pipeline: Option<PipelineId>,
    filter: &DealFilter,
    owner: Option<UserId>,
    after: i64,
    limit: i64,
) -> Result<Vec<Deal>, RepoError> {
    let tenant = tx.tenant_id().0;
    custom_plans(tx).await?;
    let patterns = super::clients::search_patterns(filter.q.as_deref().unwrap_or_default());
    let sql = format!("SELECT d.id {MATCHES} AND d.search LIKE ALL($12) AND d.id > $10 ORDER BY d.id LIMIT $11");
    let ids: Vec<i64> = matching(&sql, tenant, pipeline, filter, owner, None)
        .bind(after)
        .bind(limit)
        .bind(&patterns)
        .fetch_all(tx.conn())
        .await?;
    cards(tx, &ids).await
}

/// The deals whose title has every word of `q` (at most `cap`; `None`: no words to look for),
/// found through the title's trigram index by `deal_title_matches()` (row-level security
/// keeps the index from a query of ours): titles are folded as client names are, so either
/// alphabet and any case find them. The list's test of whether words are rare.
async fn title_matches(tx: &mut TenantTx, q: Option<&str>, cap: i32) -> Result<Option<Vec<i64>>, RepoError> {
    let patterns = super::clients::search_patterns(q.unwrap_or_default());
    if patterns.is_empty() {
        return Ok(None);
    }
    let ids = sqlx::query_scalar!(r#"SELECT deal_title_matches($1, $2) AS "ids!""#, &patterns, cap)
        .fetch_one(tx.conn())
        .await?;
    Ok(Some(ids))
}

/// One stage of a board filtered by words of the title or a tag: how many deals pass, their
/// value, and the first of them in board order.
struct FilteredStage {
    stage_id: i64,
    deal_count: i64,
    value_base_total: Decimal,
    first_ids: Vec<i64>,
}

/// The deals of `stages` whose title has every one of `patterns` and that carry `tag` (each
/// when given; and of `owner`, after `cursor`, when given), counted and summed per stage,
/// with each stage's first `per` ids in board order, in one pass. Words go through
/// `deal_title_board()`, the title's index being one row-level security keeps from a query of
/// ours; a tag alone, through `tag_board` and the counts kept per tag.
#[allow(clippy::too_many_arguments)]
async fn filtered_board(
    tx: &mut TenantTx,
    patterns: &[String],
    tag: Option<i64>,
    stages: &[i64],
    owner: Option<i64>,
    cursor: Option<Cursor>,
    per: usize,
) -> Result<Vec<FilteredStage>, RepoError> {
    let (position, after) = (cursor.map(|c| c.position), cursor.map(|c| c.id.0));
    let mut found: Vec<FilteredStage> = if let (true, Some(tag)) = (patterns.is_empty(), tag) {
        tag_board(tx, tag, stages, owner, cursor, per).await?
    } else {
        sqlx::query_as!(
            FilteredStage,
            r#"SELECT stage_id AS "stage_id!", deal_count AS "deal_count!", value_base_total AS "value_base_total!",
                      first_ids AS "first_ids!"
               FROM deal_title_board($1, $2, $3, $4, $5, $6, $7)"#,
            patterns,
            tag,
            stages,
            owner,
            position,
            after,
            per as i32,
        )
        .fetch_all(tx.conn())
        .await?
    };
    found.sort_by_key(|s| stages.iter().position(|id| *id == s.stage_id));
    Ok(found)
}

/// A pipeline's tagged deals at most this many are read all at once to find each stage's
/// first cards; more, and each stage is walked in board order until it has them.
const RARE_TAG: i64 = 2_000;

/// `filtered_board` for a tag alone: each stage's count and sum kept in
/// `deal_tag_stage_totals` (those of the whole stage, cursor or not), and its first cards
/// (after `cursor`) either from the tag's few deals or walked in board order among many.
async fn tag_board(
    tx: &mut TenantTx,
    tag: i64,
    stages: &[i64],
    owner: Option<i64>,
    cursor: Option<Cursor>,
    per: usize,
) -> Result<Vec<FilteredStage>, RepoError> {
    let tenant = tx.tenant_id().0;
    let (position, after) = (cursor.map(|c| c.position), cursor.map(|c| c.id.0));
    let totals = sqlx::query!(
        r#"SELECT stage_id, sum(deal_count)::bigint AS "n!", sum(value_base_total) AS "total!"
           FROM deal_tag_stage_totals
           WHERE tenant_id = $1 AND tag_id = $2 AND stage_id = ANY($3) AND ($4::bigint IS NULL OR owner_id = $4)
           GROUP BY stage_id"#,
        tenant,
        tag,
        stages,
        owner,
    )
    .fetch_all(tx.conn())
    .await?;
    let tagged: i64 = totals.iter().map(|t| t.n).sum();
    let firsts: Vec<(i64, i64)> = if tagged <= RARE_TAG {
        sqlx::query!(
            r#"SELECT m.stage_id AS "stage_id!", m.id AS "id!"
               FROM (SELECT d.id, d.stage_id, d.position,
                            row_number() OVER (PARTITION BY d.stage_id ORDER BY d.position, d.id) AS rank
                     FROM deal_tags x JOIN deals d ON d.tenant_id = x.tenant_id AND d.id = x.deal_id
                     WHERE x.tenant_id = $1 AND x.tag_id = $2 AND d.stage_id = ANY($3)
                       AND ($4::bigint IS NULL OR d.owner_id = $4)
                       AND ($6::bigint IS NULL OR (d.position, d.id) > ($5, $6))) m
               WHERE m.rank <= $7
               ORDER BY m.stage_id, m.position, m.id"#,
            tenant,
            tag,
            stages,
            owner,
            position,
            after,
            per as i64,
        )
        .fetch_all(tx.conn())
        .await?
        .into_iter()
        .map(|r| (r.stage_id, r.id))
        .collect()
    } else {
        sqlx::query!(
            r#"SELECT s.stage_id AS "stage_id!", f.id AS "id!"
               FROM unnest($3::bigint[]) WITH ORDINALITY AS s (stage_id, n)
               CROSS JOIN LATERAL (
                   SELECT d.id, d.position FROM deals d
                   WHERE d.tenant_id = $1 AND d.stage_id = s.stage_id
                     AND ($4::bigint IS NULL OR d.owner_id = $4)
                     AND ($6::bigint IS NULL OR (d.position, d.id) > ($5, $6))
                     AND EXISTS (SELECT 1 FROM deal_tags x WHERE x.tenant_id = $1 AND x.deal_id = d.id AND x.tag_id = $2)
                   ORDER BY d.position, d.id LIMIT $7
               ) f
               ORDER BY s.n, f.position, f.id"#,
            tenant,
            tag,
            stages,
            owner,
            position,
            after,
            per as i64,
        )
        .fetch_all(tx.conn())
        .await?
        .into_iter()
        .map(|r| (r.stage_id, r.id))
        .collect()
    };
    Ok(stages
        .iter()
        .map(|stage| {
            let (deal_count, value_base_total) =
                totals.iter().find(|t| t.stage_id == *stage).map_or((0, Decimal::ZERO), |t| (t.n, t.total));
            FilteredStage {
                stage_id: *stage,
                deal_count,
                value_base_total,
                first_ids: firsts.iter().filter(|(s, _)| s == stage).map(|(_, id)| *id).collect(),
            }
        })
        .collect())
}

/// How many deals `stage` holds.
pub async fn count_in_stage(tx: &mut TenantTx, stage: StageId) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM deals WHERE tenant_id = $1 AND stage_id = $2"#,
        tenant,
        stage.0
    )
    .fetch_one(tx.conn())
    .await?)
}

/// How many deals `pipeline` holds.
pub async fn count_in_pipeline(tx: &mut TenantTx, pipeline: PipelineId) -> Result<i64, RepoError> {
    let tenant = tx.tenant_id().0;
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM deals WHERE tenant_id = $1 AND pipeline_id = $2"#,
        tenant,
        pipeline.0
    )
    .fetch_one(tx.conn())
    .await?)
}

/// Moves every deal of `from` to the end of `to` (same pipeline), in their order, recording
/// each move as `by`'s; how many moved.
pub async fn move_all(
    tx: &mut TenantTx,
    from: (StageId, &str),
    to: (StageId, &str),
    by: Option<UserId>,
) -> Result<u64, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "INSERT INTO deal_moves (tenant_id, deal_id, from_stage_id, from_stage_name, to_stage_id, to_stage_name,
                                 user_id, seconds_in_previous)
         SELECT tenant_id, id, $2, $3, $4, $5, $6, greatest(0, extract(epoch FROM now() - stage_entered_at))::bigint
         FROM deals WHERE tenant_id = $1 AND stage_id = $2",
        tenant,
        from.0.0,
        from.1,
        to.0.0,
        to.1,
        by.map(|b| b.0),
    )
    .execute(tx.conn())
    .await?;
    let moved = sqlx::query!(
        "UPDATE deals d SET stage_id = $3, stage_entered_at = now(), updated_at = now(),
                position = t.top + 1024 * o.n
         FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n FROM deals
               WHERE tenant_id = $1 AND stage_id = $2) o,
              (SELECT coalesce(max(position), 0) AS top FROM deals WHERE tenant_id = $1 AND stage_id = $3) t
         WHERE d.tenant_id = $1 AND d.id = o.id",
        tenant,
        from.0.0,
        to.0.0,
    )
    .execute(tx.conn())
    .await?;
    Ok(moved.rows_affected())
}

/// Gives `from`'s deals (only those of `only`, when given) to client `to`; the ids moved.
pub async fn reassign_client(
    tx: &mut TenantTx,
    from: ClientId,
    to: ClientId,
    only: Option<&[i64]>,
) -> Result<Vec<i64>, RepoError> {
    let tenant = tx.tenant_id().0;
    Ok(sqlx::query_scalar!(
        "UPDATE deals SET client_id = $3, updated_at = now()
         WHERE tenant_id = $1 AND client_id = $2 AND ($4::bigint[] IS NULL OR id = ANY($4)) RETURNING id",
        tenant,
        from.0,
        to.0,
        only
    )
    .fetch_all(tx.conn())
    .await?)
}

/// The open deals of a client, newest first (the inbox's contact panel).
pub async fn of_client(
    tx: &mut TenantTx,
    client: ClientId,
    owner: Option<UserId>,
    limit: i64,
) -> Result<Vec<Deal>, RepoError> {
    let tenant = tx.tenant_id().0;
    let ids = sqlx::query_scalar!(
        "SELECT d.id FROM deals d
         JOIN pipeline_stages s ON s.tenant_id = d.tenant_id AND s.id = d.stage_id
         WHERE d.tenant_id = $1 AND d.client_id = $2 AND s.kind = 'open'
           AND ($3::bigint IS NULL OR d.owner_id = $3)
         ORDER BY d.created_at DESC, d.id DESC LIMIT $4",
        tenant,
        client.0,
        owner.map(|o| o.0),
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    cards(tx, &ids).await
}
