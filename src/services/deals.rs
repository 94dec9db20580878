//! Deals: read with DealRead, written with DealWrite. Under the tenant's `record_visibility:
//! own`, everyone but admins reaches only the deals they own: the scope is decided here, once,
//! and every read and write below goes through it. A deal's value in the base currency is
//! frozen with the rate of when the value was set; every move between stages is recorded with
//! the time spent in the stage left. Each change is audited in its transaction and announced.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::activity::{ActivityKind, FieldChange, NewActivity, field_changes};
use crate::domain::custom_field::FieldEntity;
use crate::domain::deal::{
    BOARD_PAGE, Column, Cursor, Deal, DealFields, DealFilter, DealId, DealInput, DealMove, DealSort, Gap,
};
use crate::domain::money::{Amount, Rate};
use crate::domain::pipeline::{Pipeline, PipelineId, Stage, StageId, StageKind};
use crate::domain::record::RecordRef;
use crate::domain::tag::Tagged;
use crate::domain::{ClientId, Currency, DomainError, DomainEvent, Permission, Principal, UserId};
use crate::events::EventBus;
use crate::repos::deals::DealRow;
use crate::repos::{RepoError, audit, clients, companies, currency_rates, deals as repo, pipelines, tenants, users};

use super::ServiceError;
use super::{custom_fields, tags};

#[derive(Clone)]
pub struct DealService {
    pool: PgPool,
    events: EventBus,
}

/// Where a card is dropped: a stage, and the card it goes before (none: the column's end).
#[derive(Debug, Clone)]
pub struct MoveTo {
    pub stage_id: StageId,
    pub before: Option<DealId>,
    /// Why it was lost, when the stage is a lost one.
    pub lost_reason: Option<String>,
}

/// A pipeline's board as a reader sees it.
pub struct Board {
    pub pipeline: Pipeline,
    pub columns: Vec<Column>,
}

/// A page of a deal list.
pub struct DealPage {
    pub deals: Vec<Deal>,
    /// How many deals the list holds, exactly when `exact`, else at least this many.
    pub total: i64,
    pub exact: bool,
}

impl DealService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// A transaction for `by`, and whose deals alone they reach (`None`: all of the tenant's).
    async fn begin(&self, by: &Principal, need: Permission) -> Result<(TenantTx, Option<UserId>), ServiceError> {
        super::scoped(&self.pool, by, &[need]).await
    }

    /// Refuses (`Forbidden`) unless `by` may write deals: for a form offered before anything
    /// is sent.
    pub fn may_write(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::DealWrite])
    }

    pub async fn get(&self, by: &Principal, id: DealId) -> Result<Deal, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealRead).await?;
        let deal = repo::get(&mut tx, id, scope).await?;
        tx.commit().await?;
        Ok(deal)
    }

    /// A deal's moves between stages, oldest first.
    pub async fn history(&self, by: &Principal, id: DealId) -> Result<Vec<DealMove>, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealRead).await?;
        repo::get(&mut tx, id, scope).await?;
        let moves = repo::history(&mut tx, id).await?;
        tx.commit().await?;
        Ok(moves)
    }

    /// The board of `pipeline`: every stage with its count and total, and its first cards.
    pub async fn board(
        &self,
        by: &Principal,
        pipeline: PipelineId,
        filter: &DealFilter,
    ) -> Result<Board, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealRead).await?;
        let pipeline = pipelines::get(&mut tx, pipeline).await?;
        let stages: Vec<StageId> = pipeline.stages.iter().map(|s| s.id).collect();
        let columns = repo::board(&mut tx, &stages, filter, scope, BOARD_PAGE).await?;
        tx.commit().await?;
        Ok(Board { pipeline, columns })
    }

    /// A column's next cards after `cursor`.
    pub async fn column(
        &self,
        by: &Principal,
        pipeline: PipelineId,
        stage: StageId,
        cursor: Cursor,
        filter: &DealFilter,
    ) -> Result<(Vec<Deal>, Option<Cursor>), ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealRead).await?;
        let p = pipelines::get(&mut tx, pipeline).await?;
        if !p.stages.iter().any(|s| s.id == stage) {
            return Err(ServiceError::NotFound);
        }
        let page = repo::column(&mut tx, stage, cursor, filter, scope, BOARD_PAGE).await?;
        tx.commit().await?;
        Ok(page)
    }

    /// A page of the deals `filter` lets through.
    pub async fn list(
        &self,
        by: &Principal,
        pipeline: Option<PipelineId>,
        filter: &DealFilter,
        sort: DealSort,
        limit: i64,
        offset: i64,
    ) -> Result<DealPage, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealRead).await?;
        let (deals, total, exact) = repo::list(&mut tx, pipeline, filter, scope, sort, limit, offset).await?;
        tx.commit().await?;
        Ok(DealPage { deals, total, exact })
    }

    /// Every deal `filter` lets through (in `pipeline` when given) as CSV, in id order, with a
    /// header line of field names; amounts as decimals, times in UTC.
    pub async fn export_csv(
        &self,
        by: &Principal,
        pipeline: Option<PipelineId>,
        filter: &DealFilter,
    ) -> Result<String, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealRead).await?;
        let mut out = crate::domain::csv::line(&[
            "id",
            "title",
            "pipeline_id",
            "stage",
            "status",
            "value",
            "currency",
            "value_base",
            "client_id",
            "client",
            "company_id",
            "company",
            "owner",
            "expected_close_on",
            "lost_reason",
            "tags",
            "stage_entered_at",
            "created_at",
            "updated_at",
        ]);
        let mut last = 0;
        loop {
            let page = repo::after(&mut tx, pipeline, filter, scope, last, 1000).await?;
            let Some(end) = page.last() else { break };
            last = end.id.0;
            for d in &page {
                let text = |v: Option<String>| v.unwrap_or_default();
                out.push_str(&crate::domain::csv::line(&[
                    d.id.0.to_string(),
                    d.title.clone(),
                    d.pipeline_id.0.to_string(),
                    d.stage_name.clone(),
                    d.status.as_str().to_owned(),
                    text(d.value.map(|(a, _)| a.as_string())),
                    text(d.value.map(|(_, c)| c.as_str().to_owned())),
                    text(d.value_base.map(|a| a.as_string())),
                    text(d.client.as_ref().map(|c| c.id.0.to_string())),
                    text(d.client.as_ref().map(|c| c.name.clone())),
                    text(d.company.as_ref().map(|c| c.id.0.to_string())),
                    text(d.company.as_ref().map(|c| c.name.clone())),
                    text(d.owner.as_ref().map(|o| o.name.clone())),
                    text(d.expected_close_on.map(|c| c.to_string())),
                    text(d.lost_reason.clone()),
                    d.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join("; "),
                    d.stage_entered_at.to_rfc3339(),
                    d.created_at.to_rfc3339(),
                    d.updated_at.to_rfc3339(),
                ]));
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// A client's open deals (the conversation's contact panel), newest first.
    pub async fn of_client(&self, by: &Principal, client: ClientId) -> Result<Vec<Deal>, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealRead).await?;
        let deals = repo::of_client(&mut tx, client, scope, 20).await?;
        tx.commit().await?;
        Ok(deals)
    }

    /// Who a deal may belong to: the tenant's active users who may write deals.
    pub async fn owners(&self, by: &Principal) -> Result<Vec<(UserId, String)>, ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::DealRead).await?;
        let owners = users::record_owners(&mut tx, None).await?;
        tx.commit().await?;
        Ok(owners)
    }

    /// A new deal, on top of its stage (the pipeline's first open stage unless one is named),
    /// owned by its creator unless the input names an owner (or none).
    pub async fn create(&self, by: &Principal, input: &DealInput) -> Result<Deal, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealWrite).await?;
        let mut fields = input.apply(None).map_err(ServiceError::Invalid)?;
        if input.owner_id.is_none() {
            fields.owner_id = Some(by.user_id);
        }
        let checked = check(&mut tx, &fields, scope, None).await?;
        let row = checked.row(&fields);
        let position = repo::top(&mut tx, checked.stage.id).await?.position().unwrap_or(0.0);
        let id = repo::insert(&mut tx, &row, position).await?;
        repo::record_move(&mut tx, id, None, (checked.stage.id, &checked.stage.name), Some(by.user_id)).await?;
        let tagged = tags::put(&mut tx, by, Tagged::Deal(id), input.tag_ids.as_deref()).await?;
        custom_fields::put(&mut tx, FieldEntity::Deal, id.0, input.custom.as_ref(), true).await?;
        record(&mut tx, by, "created", id, &tagged.entry_for(&fields.title)).await?;
        timeline(&mut tx, by, id, ActivityKind::Created, checked.stage.name.clone()).await?;
        let deal = repo::get(&mut tx, id, None).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::DealCreated {
            tenant_id: by.tenant_id,
            deal_id: id,
            pipeline_id: deal.pipeline_id,
        });
        tagged.publish(&self.events, by.tenant_id);
        Ok(deal)
    }

    /// Changes what `input` names. A new stage (or pipeline) is a move: recorded, on top of
    /// its new column. The value in the base currency is frozen again only when the value or
    /// its currency changes.
    pub async fn update(&self, by: &Principal, id: DealId, input: &DealInput) -> Result<Deal, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealWrite).await?;
        // Locked first, then read within the reader's scope (404 outside it).
        let (_, entered) = repo::lock(&mut tx, id).await?;
        let before = repo::get(&mut tx, id, scope).await?;
        let current = DealFields::from(&before);
        let fields = input.apply(Some(&current)).map_err(ServiceError::Invalid)?;
        let checked = check(&mut tx, &fields, scope, Some(&current)).await?;
        let mut row = checked.row(&fields);
        if fields.value == current.value && row.value.map(|v| v.1) == before.value.map(|v| v.1) {
            // Unchanged: its worth stays as it was frozen.
            row.value = before.value.zip(before.value_base).map(|((a, c), b)| (a, c, b));
        }
        let moved = checked.stage.id != before.stage_id;
        let position =
            if moved { Some(repo::top(&mut tx, checked.stage.id).await?.position().unwrap_or(0.0)) } else { None };
        repo::update(&mut tx, id, &row, position).await?;
        if moved {
            repo::record_move(
                &mut tx,
                id,
                Some((before.stage_id, &before.stage_name, entered)),
                (checked.stage.id, &checked.stage.name),
                Some(by.user_id),
            )
            .await?;
            let summary = format!("{} → {}", before.stage_name, checked.stage.name);
            timeline(&mut tx, by, id, ActivityKind::StageMoved, summary).await?;
        }
        let tagged = tags::put(&mut tx, by, Tagged::Deal(id), input.tag_ids.as_deref()).await?;
        let mut changed: Vec<String> = changes(&current, &fields).into_iter().map(str::to_owned).collect();
        changed.extend(tagged.summary());
        changed.extend(custom_fields::put(&mut tx, FieldEntity::Deal, id.0, input.custom.as_ref(), false).await?);
        if !changed.is_empty() {
            record(&mut tx, by, "updated", id, &format!("{}: {}", fields.title, changed.join(", "))).await?;
        }
        let deal = repo::get(&mut tx, id, None).await?;
        if !changed.is_empty() {
            // Old → new for the timeline (a new stage has its own entry); names, not ids.
            let names = changes(&current, &fields);
            let worth = |d: &Deal| d.value.map(|(a, c)| format!("{} {}", a.as_string(), c.as_str()));
            let shown: Vec<(&'static str, Option<String>, Option<String>)> = names
                .iter()
                .filter_map(|n| {
                    Some(match *n {
                        "title" => ("title", Some(before.title.clone()), Some(deal.title.clone())),
                        "value" => ("value", worth(&before), worth(&deal)),
                        "client" => ("client", name_of(&before.client), name_of(&deal.client)),
                        "company" => ("company", name_of(&before.company), name_of(&deal.company)),
                        "owner" => ("owner", name_of(&before.owner), name_of(&deal.owner)),
                        "expected_close_on" => (
                            "expected_close_on",
                            before.expected_close_on.map(|d| d.to_string()),
                            deal.expected_close_on.map(|d| d.to_string()),
                        ),
                        "lost_reason" => ("lost_reason", before.lost_reason.clone(), deal.lost_reason.clone()),
                        _ => return None,
                    })
                })
                .collect();
            let shown = FieldChange::between(shown.iter().map(|(f, a, b)| (*f, a.as_deref(), b.as_deref())));
            let rest: Vec<String> = changed.iter().skip(names.len()).cloned().collect();
            if !shown.is_empty() || !rest.is_empty() {
                let entry = field_changes(RecordRef::Deal(id), by.actor(), &shown, &rest);
                crate::repos::activities::record(&mut tx, &entry).await?;
            }
        }
        tx.commit().await?;
        let tenant_id = by.tenant_id;
        tagged.publish(&self.events, tenant_id);
        if moved {
            self.events.publish(DomainEvent::DealMoved {
                tenant_id,
                deal_id: id,
                pipeline_id: deal.pipeline_id,
                from: before.stage_id,
                to: deal.stage_id,
            });
            if before.pipeline_id != deal.pipeline_id {
                // The old pipeline's boards lose it.
                self.events.publish(DomainEvent::DealDeleted {
                    tenant_id,
                    deal_id: id,
                    pipeline_id: before.pipeline_id,
                });
            }
        }
        self.events.publish(DomainEvent::DealUpdated { tenant_id, deal_id: id, pipeline_id: deal.pipeline_id });
        Ok(deal)
    }

    /// Moves a card on its pipeline's board: to another stage of the same pipeline, or to
    /// another place in its own. One row is written (its position lands between its new
    /// neighbours'); a new stage is recorded in the deal's history and audited.
    pub async fn move_to(&self, by: &Principal, id: DealId, to: &MoveTo) -> Result<Deal, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealWrite).await?;
        let moved = move_in(&mut tx, by, id, to, scope).await?;
        let deal = repo::get(&mut tx, id, None).await?;
        tx.commit().await?;
        self.events.publish(moved);
        Ok(deal)
    }

    pub async fn delete(&self, by: &Principal, id: DealId) -> Result<(), ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::DealWrite).await?;
        repo::lock(&mut tx, id).await?;
        let gone = repo::get(&mut tx, id, scope).await?;
        repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "deleted", id, &gone.title).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::DealDeleted {
            tenant_id: by.tenant_id,
            deal_id: id,
            pipeline_id: gone.pipeline_id,
        });
        Ok(())
    }
}

/// Deal `id` (within `scope`) moved by `by` to `to` in `tx`: the one way a deal changes
/// stage, for the board and for bulk jobs. It takes its place (before `to.before`, else at the
/// end) and its lost reason; when the stage changed, a history row, an audit entry and a
/// timeline entry. The `DealMoved` event to publish once `tx` commits comes back.
pub(crate) async fn move_in(
    tx: &mut TenantTx,
    by: &Principal,
    id: DealId,
    to: &MoveTo,
    scope: Option<UserId>,
) -> Result<DomainEvent, ServiceError> {
    let (from, entered) = repo::lock(tx, id).await?;
    let before = repo::get(tx, id, scope).await?;
    let pipeline = pipelines::get(tx, before.pipeline_id).await?;
    let stage = pipeline
        .stages
        .iter()
        .find(|s| s.id == to.stage_id)
        .ok_or(DomainError::new("stage_id", "stage_of_another_pipeline"))?;
    if to.before == Some(id) {
        return Err(DomainError::new("before_deal_id", "invalid_id").into());
    }
    let lost_reason = match (stage.kind, &to.lost_reason) {
        (StageKind::Lost, Some(r)) => {
            let r = r.trim();
            if r.chars().count() > crate::domain::deal::MAX_LOST_REASON {
                return Err(DomainError::new("lost_reason", "too_long").into());
            }
            (!r.is_empty()).then(|| r.to_owned()).or(before.lost_reason.clone())
        }
        (StageKind::Lost, None) => before.lost_reason.clone(),
        _ => None,
    };
    let position = place(tx, stage.id, to.before, id).await?;
    repo::place(tx, id, stage.id, position, lost_reason.as_deref()).await?;
    if from != stage.id {
        repo::record_move(tx, id, Some((from, &before.stage_name, entered)), (stage.id, &stage.name), Some(by.user_id))
            .await?;
        let summary = format!("{}: {} → {}", before.title, before.stage_name, stage.name);
        record(tx, by, "moved", id, &summary).await?;
        timeline(tx, by, id, ActivityKind::StageMoved, format!("{} → {}", before.stage_name, stage.name)).await?;
    }
    Ok(DomainEvent::DealMoved { tenant_id: by.tenant_id, deal_id: id, pipeline_id: pipeline.id, from, to: stage.id })
}

/// A position in `stage` just before `before` (or at the end), for the deal `moving`. When
/// the neighbours are too close for one between them, the column is spread out first.
async fn place(tx: &mut TenantTx, stage: StageId, before: Option<DealId>, moving: DealId) -> Result<f64, ServiceError> {
    let first = gap(tx, stage, before, moving).await?;
    if let Some(p) = first.position() {
        return Ok(p);
    }
    // Only a gap between two cards runs out: spread the cards just before it, then, if even
    // they are packed too close, the whole stage.
    if let Some(next) = first.next {
        repo::spread_before(tx, stage, next).await?;
        if let Some(p) = gap(tx, stage, before, moving).await?.position() {
            return Ok(p);
        }
    }
    repo::renumber(tx, stage).await?;
    let again = gap(tx, stage, before, moving).await?;
    again.position().ok_or_else(|| ServiceError::Repo(RepoError::Corrupt(format!("no room in stage {}", stage.0))))
}

/// The neighbours a card dropped before `before` in `stage` lands between.
async fn gap(tx: &mut TenantTx, stage: StageId, before: Option<DealId>, moving: DealId) -> Result<Gap, ServiceError> {
    repo::gap(tx, stage, before, Some(moving)).await.map_err(|e| match e {
        // The card to go before is not in that stage.
        RepoError::NotFound => DomainError::new("before_deal_id", "invalid_id").into(),
        e => e.into(),
    })
}

/// What `fields` refer to, found: the stage a deal goes in, and its value's worth.
struct Checked {
    stage: Stage,
    value: Option<(Amount, Currency, Amount)>,
}

impl Checked {
    fn row<'a>(&self, f: &'a DealFields) -> DealRow<'a> {
        DealRow {
            title: &f.title,
            pipeline_id: f.pipeline_id,
            stage_id: self.stage.id,
            value: self.value,
            client_id: f.client_id,
            company_id: f.company_id,
            owner_id: f.owner_id,
            expected_close_on: f.expected_close_on,
            // Only a lost deal says why.
            lost_reason: if self.stage.kind == StageKind::Lost { f.lost_reason.as_deref() } else { None },
        }
    }
}

/// Checks what `fields` refer to, naming every field at fault: the pipeline and its stage,
/// the client and company (a new one must be one the writer reaches, under `own`: `scope`),
/// the owner, and a rate for the value's currency. `before`: the deal's fields until now.
async fn check(
    tx: &mut TenantTx,
    fields: &DealFields,
    scope: Option<UserId>,
    before: Option<&DealFields>,
) -> Result<Checked, ServiceError> {
    // Links kept as they were are not asked again whether the writer may see them.
    let scope_client = scope.filter(|_| before.map(|b| b.client_id) != Some(fields.client_id));
    let scope_company = scope.filter(|_| before.map(|b| b.company_id) != Some(fields.company_id));
    let mut errors = Vec::new();
    let pipeline = match pipelines::get(tx, fields.pipeline_id).await {
        Ok(p) => Some(p),
        Err(RepoError::NotFound) => {
            errors.push(DomainError::new("pipeline_id", "unknown_pipeline"));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let stage = pipeline.and_then(|p| match fields.stage_id {
        Some(s) => {
            let found = p.stages.iter().find(|st| st.id == s).cloned();
            if found.is_none() {
                errors.push(DomainError::new("stage_id", "stage_of_another_pipeline"));
            }
            found
        }
        None => p.first_open_stage().cloned(),
    });
    if let Some(c) = fields.client_id {
        let seen = match scope_client {
            Some(reader) => clients::visible_to(tx, c, reader).await?,
            None => true,
        };
        match clients::get(tx, c).await {
            Ok(_) if seen => {}
            Ok(_) => errors.push(DomainError::new("client_id", "unknown_client")),
            Err(RepoError::NotFound) => errors.push(DomainError::new("client_id", "unknown_client")),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(c) = fields.company_id {
        match companies::get(tx, c, scope_company).await {
            Ok(_) => {}
            Err(RepoError::NotFound) => errors.push(DomainError::new("company_id", "unknown_company")),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(o) = fields.owner_id
        && users::record_owners(tx, Some(o)).await?.is_empty()
    {
        errors.push(DomainError::new("owner_id", "unknown_user"));
    }
    let value = match fields.value {
        None => None,
        Some(amount) => {
            let base = tenants::settings(tx).await?.base_currency;
            let currency = fields.currency.unwrap_or(base);
            let rate = if currency == base {
                Some(Rate::ONE)
            } else {
                currency_rates::list(tx).await?.into_iter().find(|(c, _)| *c == currency).map(|(_, r)| r)
            };
            match rate.and_then(|r| amount.to_base(r)) {
                Some(worth) => Some((amount, currency, worth)),
                None => {
                    errors.push(DomainError::new("currency", "no_rate"));
                    None
                }
            }
        }
    };
    match stage {
        Some(stage) if errors.is_empty() => Ok(Checked { stage, value }),
        _ => Err(ServiceError::Invalid(errors)),
    }
}

/// The names of the fields that differ, for the audit log.
fn changes(a: &DealFields, b: &DealFields) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut differs = |name, same: bool| {
        if !same {
            out.push(name)
        }
    };
    differs("title", a.title == b.title);
    differs("pipeline", a.pipeline_id == b.pipeline_id);
    differs("stage", a.stage_id == b.stage_id);
    differs("value", a.value == b.value && a.currency == b.currency);
    differs("client", a.client_id == b.client_id);
    differs("company", a.company_id == b.company_id);
    differs("owner", a.owner_id == b.owner_id);
    differs("expected_close_on", a.expected_close_on == b.expected_close_on);
    differs("lost_reason", a.lost_reason == b.lost_reason);
    out
}

async fn record(
    tx: &mut TenantTx,
    by: &Principal,
    action: &str,
    id: DealId,
    summary: &str,
) -> Result<(), ServiceError> {
    let entry = audit::Entry { action, entity: "deal", entity_id: &id.0.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await?;
    Ok(())
}

/// Puts what happened to deal `id` on its timeline, in the change's transaction.
async fn timeline(
    tx: &mut TenantTx,
    by: &Principal,
    id: DealId,
    kind: ActivityKind,
    summary: String,
) -> Result<(), RepoError> {
    crate::repos::activities::record(tx, &NewActivity::new(RecordRef::Deal(id), kind, by.actor(), summary)).await?;
    Ok(())
}

/// The name a reference shows, if it refers to anything.
fn name_of<Id>(n: &Option<crate::domain::Named<Id>>) -> Option<String> {
    n.as_ref().map(|n| n.name.clone())
}
