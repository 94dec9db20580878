//! Bulk actions: one change to many clients, companies or deals, as a background job. Starting
//! one checks everything that can be checked at once (BulkRun and the permission of what it
//! does, the tags, owner or stage it names) and freezes its targets: the ids chosen, or every
//! record matching a list's filter, within the author's reach. Every node runs the bulk
//! worker (`spawn_worker`): it claims a job (SKIP LOCKED, under a run token), and works
//! through its targets a chunk per transaction, each chunk's changes, timeline entries and
//! the job's progress committed together while the run still holds its token. A node that
//! stops hands its job back; one that dies is taken over once its heartbeat is stale
//! (`STALE`), from where its last chunk committed. Records gone meanwhile are reported by id.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::{Notify, watch};

use crate::db::TenantTx;
use crate::domain::activity::{ActivityActor, ActivityKind};
use crate::domain::bulk::{BulkAction, BulkEntity, Failure, Job, JobId, JobStatus, MAX_TARGETS};
use crate::domain::chat::Transport;
use crate::domain::company::CompanyFilter;
use crate::domain::deal::{DealFilter, DealId, DealSort};
use crate::domain::pipeline::PipelineId;
use crate::domain::{ClientId, ClientQuery, DomainError, DomainEvent, Permission, Principal, Role};
use crate::events::EventBus;
use crate::repos::jobs::{self, Claim};
use crate::repos::{RepoError, audit, clients, companies, deals, message_templates, pipelines, tags};

use super::ChatService;
use super::deals::MoveTo;
use super::files::FileStore;
use super::{ServiceError, require};

/// How many records one transaction of a job changes.
pub const CHUNK: i64 = 500;
/// A running job whose node has not beaten for this long is taken over by another.
pub const STALE: Duration = Duration::from_secs(15);

/// Which records a job is for.
pub enum Targets {
    /// These ids (each once; those gone or out of reach are reported as failed).
    Ids(Vec<i64>),
    /// Every client matching a list's filter.
    Clients(ClientQuery),
    Companies(CompanyFilter),
    Deals(Option<PipelineId>, DealFilter),
}

#[derive(Clone)]
pub struct BulkService {
    pool: PgPool,
    events: EventBus,
    files: FileStore,
    /// Writes the messages of `send_template` jobs.
    chats: ChatService,
    wake: Arc<Notify>,
}

/// What a chunk of a job works with besides its records.
struct Run<'a> {
    job: &'a Job,
    /// The author as they may act now: what the job does is done as theirs.
    by: Principal,
    /// The author, as timeline entries name them.
    author: ActivityActor,
    /// For a send: the transports the tenant has.
    transports: Vec<Transport>,
}

impl BulkService {
    pub fn new(pool: PgPool, events: EventBus, files: FileStore, chats: ChatService) -> Self {
        Self { pool, events, files, chats, wake: Arc::default() }
    }

    /// The same service writing messages through `chats` (which sends through other providers).
    pub fn with_chats(mut self, chats: ChatService) -> Self {
        self.chats = chats;
        self
    }

    /// Whether `by` may run bulk actions at all: for the lists' checkboxes.
    pub fn may_run(&self, by: &Principal) -> bool {
        by.can(Permission::BulkRun)
    }

    /// Whether `by` may start `action` on records of `entity`: what a list's bar offers.
    pub fn may(&self, by: &Principal, entity: BulkEntity, action: &BulkAction) -> bool {
        action.needs(entity).iter().all(|p| by.can(*p))
    }

    /// A new job, queued (202): `action` on the records `targets` names.
    pub async fn start(
        &self,
        by: &Principal,
        entity: BulkEntity,
        targets: Targets,
        action: BulkAction,
    ) -> Result<Job, ServiceError> {
        require(by, action.needs(entity))?;
        let (mut tx, scope) = super::scoped(&self.pool, by, &[]).await?;
        check_action(&mut tx, by, &action).await?;
        if let BulkAction::SendTemplate { transport: Some(t), .. } = action
            && !self.chats.transports(by.tenant_id).await?.contains(&t)
        {
            return Err(DomainError::new("transport", "channel_not_configured").into());
        }
        let cap = MAX_TARGETS as i64 + 1;
        let mut ids = match targets {
            Targets::Ids(ids) => ids,
            Targets::Clients(query) => clients::matching_ids(&mut tx, &query, scope, cap).await?,
            Targets::Companies(filter) => {
                companies::list(&mut tx, &filter, scope, cap, 0).await?.0.into_iter().map(|c| c.id.0).collect()
            }
            Targets::Deals(pipeline, filter) => {
                deals::list(&mut tx, pipeline, &filter, scope, DealSort::Updated, cap, 0)
                    .await?
                    .0
                    .into_iter()
                    .map(|d| d.id.0)
                    .collect()
            }
        };
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(DomainError::new("ids", "no_targets").into());
        }
        if ids.len() > MAX_TARGETS {
            return Err(DomainError::new("ids", "too_many_targets").into());
        }
        // Chosen ids the author does not reach (or that are gone) are refused now, by id: the
        // worker touches only what was reachable when the job was made.
        let reachable = jobs::present(&mut tx, entity, &ids, scope).await?;
        let refused = missing(&ids, &reachable, "not_found");
        let id = jobs::insert(&mut tx, entity, &action, by.user_id, (&reachable, &refused)).await?;
        let summary = format!("{} {} × {}", action.name(), entity.as_str(), ids.len());
        let entry =
            audit::Entry { action: "started", entity: "bulk_job", entity_id: &id.0.to_string(), summary: &summary };
        audit::record(&mut tx, &by.actor(), entry).await?;
        let job = jobs::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::JobProgressed { tenant_id: by.tenant_id, job_id: id, finished: false });
        self.wake.notify_one();
        Ok(job)
    }

    /// A job, to its author or an admin.
    pub async fn get(&self, by: &Principal, id: JobId) -> Result<Job, ServiceError> {
        require(by, &[Permission::BulkRun])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let job = jobs::get(&mut tx, id).await?;
        tx.commit().await?;
        if job.created_by != by.user_id && by.role != Role::Admin {
            return Err(ServiceError::NotFound);
        }
        Ok(job)
    }

    /// An export job's file: its name and bytes.
    pub async fn result(&self, by: &Principal, id: JobId) -> Result<(String, Bytes), ServiceError> {
        let job = self.get(by, id).await?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let key = jobs::result_key(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        let bytes = self.files.get(&key).await?;
        Ok((format!("{}-{}.csv", job.entity.as_str(), id.0), bytes))
    }

    /// One claim of the worker: a job run until it ends, its token is lost, or `stop` says so.
    /// `true` when there was a job (another may wait).
    pub async fn step(&self, stop: &watch::Receiver<bool>) -> Result<bool, ServiceError> {
        let Some(claim) = jobs::claim(&self.pool, STALE).await? else { return Ok(false) };
        if let Err(e) = self.run(&claim, stop).await {
            tracing::error!(job = claim.id.0, error = %e, "bulk job failed");
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            jobs::finish(&mut tx, &claim, JobStatus::Failed, None, Some(&e.to_string())).await?;
            tx.commit().await?;
            self.announce(&claim, true);
        }
        Ok(true)
    }

    /// Runs bulk jobs for as long as the task lives, on every node.
    pub fn spawn_worker(&self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        let watching = stop.clone();
        super::polling::spawn("bulk worker", Duration::from_secs(1), Some(self.wake.clone()), stop, move || {
            let (service, watching) = (service.clone(), watching.clone());
            async move { service.step(&watching).await }
        })
    }

    fn announce(&self, claim: &Claim, finished: bool) {
        self.events.publish(DomainEvent::JobProgressed { tenant_id: claim.tenant_id, job_id: claim.id, finished });
    }

    async fn run(&self, claim: &Claim, stop: &watch::Receiver<bool>) -> Result<(), ServiceError> {
        let job = {
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            let job = jobs::get(&mut tx, claim.id).await?;
            tx.commit().await?;
            job
        };
        if job.action == BulkAction::Export {
            return self.export(claim, &job).await;
        }
        let by = self.author(claim, &job).await?;
        let transports = match job.action {
            BulkAction::SendTemplate { .. } => self.chats.transports(claim.tenant_id).await?,
            _ => Vec::new(),
        };
        let author = ActivityActor::User { id: Some(by.user_id), name: by.name.clone() };
        let run = Run { job: &job, by, author, transports };
        loop {
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            let Some(cursor) = jobs::hold(&mut tx, claim).await? else {
                return Ok(()); // another node holds it now
            };
            let items = jobs::next_items(&mut tx, claim.id, cursor, CHUNK).await?;
            let Some(&last) = items.last() else {
                jobs::finish(&mut tx, claim, JobStatus::Done, None, None).await?;
                tx.commit().await?;
                self.announce(claim, true);
                return Ok(());
            };
            let present = jobs::present(&mut tx, job.entity, &items, None).await?;
            let mut failures: Vec<Failure> = missing(&items, &present, "not_found");
            let (changed, events) = self.apply(&mut tx, &run, &present, &mut failures).await?;
            jobs::advance(&mut tx, claim, last, changed, &failures).await?;
            tx.commit().await?;
            events.into_iter().for_each(|e| self.events.publish(e));
            self.announce(claim, false);
            if *stop.borrow() {
                let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
                jobs::release(&mut tx, claim).await?;
                tx.commit().await?;
                return Ok(());
            }
        }
    }

    /// The job's author as they may act now: a job whose author has left, or may no longer
    /// do what it does, fails.
    async fn author(&self, claim: &Claim, job: &Job) -> Result<Principal, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let by = crate::repos::auth::user_principal(&mut tx, job.created_by).await?.ok_or(ServiceError::Forbidden)?;
        tx.commit().await?;
        require(&by, job.action.needs(job.entity))?;
        Ok(by)
    }

    /// An export: every target in one CSV, kept in the file store. Done again whole if its
    /// node dies first (the file is written over).
    async fn export(&self, claim: &Claim, job: &Job) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        if jobs::hold(&mut tx, claim).await?.is_none() {
            return Ok(());
        }
        let items = jobs::all_items(&mut tx, claim.id).await?;
        let present = jobs::present(&mut tx, job.entity, &items, None).await?;
        let csv = super::clients::export::csv_of(&mut tx, &present).await?;
        let key = format!("exports/{}/{}.csv", claim.tenant_id.0, claim.id.0);
        self.files.put(&key, Bytes::from(csv)).await?;
        let failures = missing(&items, &present, "not_found");
        jobs::advance(&mut tx, claim, items.last().copied().unwrap_or(0), present.len(), &failures).await?;
        jobs::finish(&mut tx, claim, JobStatus::Done, Some(&key), None).await?;
        tx.commit().await?;
        self.announce(claim, true);
        Ok(())
    }
}

/// Those of `items` not in `present`, each failed with `code`.
fn missing(items: &[i64], present: &[i64], code: &str) -> Vec<Failure> {
    let here: HashSet<i64> = present.iter().copied().collect();
    items.iter().filter(|i| !here.contains(i)).map(|&id| Failure { id, code: code.to_owned() }).collect()
}

/// What can be checked before a job is queued: the tags exist (a locked one only for admins),
/// the owner may own records, the stage exists.
async fn check_action(tx: &mut TenantTx, by: &Principal, action: &BulkAction) -> Result<(), ServiceError> {
    match action {
        BulkAction::AddTags { tag_ids } | BulkAction::RemoveTags { tag_ids } => {
            let known = tags::some(tx, tag_ids).await?;
            if known.len() != tag_ids.len() {
                return Err(DomainError::new("tag_ids", "unknown_tag").into());
            }
            if !super::tags::may_touch_locked(by) && known.iter().any(|t| t.locked) {
                return Err(DomainError::new("tag_ids", "locked_tag").into());
            }
        }
        BulkAction::SetOwner { owner_id } => super::check_record_owner(tx, *owner_id).await?,
        BulkAction::MoveStage { stage_id } => {
            let all = pipelines::list(tx).await?;
            if !all.iter().any(|p| p.stages.iter().any(|s| s.id == *stage_id)) {
                return Err(DomainError::new("stage_id", "unknown_stage").into());
            }
        }
        BulkAction::SendTemplate { template_id, .. } => match message_templates::get(tx, *template_id).await {
            Err(RepoError::NotFound) => return Err(DomainError::new("template_id", "not_found").into()),
            other => {
                other?;
            }
        },
        BulkAction::Delete | BulkAction::Export => {}
    }
    Ok(())
}

impl BulkService {
    /// Applies the job's action to `ids` (all present) in `tx`, with a timeline entry on each
    /// changed; returns how many changed, and the events to publish once `tx` commits. Records
    /// it could not change are added to `failures`.
    async fn apply(
        &self,
        tx: &mut TenantTx,
        run: &Run<'_>,
        ids: &[i64],
        failures: &mut Vec<Failure>,
    ) -> Result<(usize, Vec<DomainEvent>), ServiceError> {
        if ids.is_empty() {
            return Ok((0, Vec::new()));
        }
        let (job, author) = (run.job, &run.author);
        let entity = job.entity;
        let entry =
            |kind, summary: String| jobs::Entry { kind, actor: author, summary, data: json!({"job_id": job.id.0}) };
        match &job.action {
            BulkAction::AddTags { tag_ids } | BulkAction::RemoveTags { tag_ids } => {
                let add = matches!(job.action, BulkAction::AddTags { .. });
                let raw: Vec<i64> = tag_ids.iter().map(|t| t.0).collect();
                jobs::change_tags(tx, entity, ids, &raw, add).await?;
                let names: Vec<String> = tags::some(tx, tag_ids).await?.into_iter().map(|t| t.name).collect();
                let sign = if add { "+" } else { "−" };
                let summary =
                    format!("tags {}", names.iter().map(|n| format!("{sign}{n}")).collect::<Vec<_>>().join(" "));
                jobs::timeline(tx, entity, ids, &entry(ActivityKind::Tagged, summary)).await?;
                Ok((ids.len(), Vec::new()))
            }
            BulkAction::SetOwner { owner_id } => {
                jobs::set_owner(tx, entity, ids, *owner_id).await?;
                jobs::timeline(tx, entity, ids, &entry(ActivityKind::FieldChanged, "owner".into())).await?;
                Ok((ids.len(), Vec::new()))
            }
            BulkAction::Delete => {
                jobs::remove(tx, entity, ids).await?;
                if entity == BulkEntity::Clients {
                    jobs::timeline(tx, entity, ids, &entry(ActivityKind::FieldChanged, "archived".into())).await?;
                }
                Ok((ids.len(), Vec::new()))
            }
            BulkAction::MoveStage { stage_id } => {
                let to = MoveTo { stage_id: *stage_id, before: None, lost_reason: None };
                let mut events = Vec::new();
                for &id in ids {
                    match super::deals::move_in(tx, &run.by, DealId(id), &to, None).await {
                        Ok(moved) => events.push(moved),
                        Err(ServiceError::Invalid(refused)) => {
                            let code = refused.first().map_or("invalid", |e| e.code);
                            failures.push(Failure { id, code: code.to_owned() });
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok((events.len(), events))
            }
            BulkAction::SendTemplate { template_id, transport } => {
                let sender = (&run.by, run.transports.as_slice());
                self.send_template(tx, sender, (*template_id, *transport), (entity, ids), failures).await
            }
            BulkAction::Export => Ok((0, Vec::new())),
        }
    }

    /// A template to the client of each of `ids` (clients, or deals' clients), each client once
    /// a chunk; returns how many went and their `MessageSent` events.
    async fn send_template(
        &self,
        tx: &mut TenantTx,
        (by, configured): (&Principal, &[Transport]),
        (template_id, transport): (i64, Option<Transport>),
        (entity, ids): (BulkEntity, &[i64]),
        failures: &mut Vec<Failure>,
    ) -> Result<(usize, Vec<DomainEvent>), ServiceError> {
        let mut fail = |id: i64, code: &str| failures.push(Failure { id, code: code.to_owned() });
        let template = match message_templates::get(tx, template_id).await {
            Ok(t) => t,
            Err(RepoError::NotFound) => {
                ids.iter().for_each(|&id| fail(id, "template_deleted"));
                return Ok((0, Vec::new()));
            }
            Err(e) => return Err(e.into()),
        };
        let mut sent_to = HashSet::new();
        let mut events = Vec::new();
        // A deal's client is written to only if the author reaches the client too.
        let scope = super::owner_scope(tx, by).await?;
        for &id in ids {
            let client = match entity {
                BulkEntity::Deals => match deals::get(tx, DealId(id), None).await?.client.map(|c| c.id) {
                    Some(client) => client,
                    None => {
                        fail(id, "no_client");
                        continue;
                    }
                },
                _ => ClientId(id),
            };
            if entity == BulkEntity::Deals {
                match super::clients::reach(tx, client, scope).await {
                    Ok(()) => {}
                    Err(ServiceError::NotFound) => {
                        fail(id, "not_found");
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !sent_to.insert(client) {
                fail(id, "client_already_sent");
                continue;
            }
            match self.chats.send_template_in(tx, by, client, &template, (transport, configured)).await? {
                Ok(message) => events.push(DomainEvent::MessageSent {
                    tenant_id: by.tenant_id,
                    chat_id: message.chat_id,
                    message_id: message.id,
                }),
                Err(code) => fail(id, code),
            }
        }
        Ok((events.len(), events))
    }
}
