//! Tasks and their categories. Everyone who reads clients reads tasks (under `record_visibility:
//! own`, agents reach the tasks given to them or made by them); TaskWrite creates, changes,
//! completes, reopens and deletes them; admins (SettingsManage) keep the categories. A task
//! about a record goes on that record's timeline as it is made, done and reopened.
//!
//! Every node runs the task clock (`spawn_task_clock`): it fires due reminders into their
//! users' notifications and marks tasks overdue, each exactly once however many nodes run it
//! (the database locks what it claims, `SKIP LOCKED`), and what came due while every node was
//! down at the first pass after a start.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::db::TenantTx;
use crate::domain::activity::{ActivityKind, NewActivity};
use crate::domain::notification::{NewNotification, NotificationKind};
use crate::domain::task::{
    Category, CategoryId, CategoryInput, MAX_TEXT, Task, TaskFields, TaskFilter, TaskId, TaskInput,
};
use crate::domain::{DomainError, DomainEvent, Permission, Principal, UserId};
use crate::events::EventBus;
use crate::repos::{RepoError, activities, audit, tasks as repo, users};

use super::ServiceError;
use super::notifications::{Told, tell};
use super::records::reach_named;

/// How many reminders, or overdue tasks, one pass of the clock takes.
const CLOCK_BATCH: i32 = 1000;

#[derive(Clone)]
pub struct TaskService {
    pool: PgPool,
    events: EventBus,
}

/// A page of a task list.
pub struct TaskPage {
    pub tasks: Vec<Task>,
    pub total: i64,
}

impl TaskService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    async fn begin(&self, by: &Principal, need: Permission) -> Result<(TenantTx, Option<UserId>), ServiceError> {
        super::scoped(&self.pool, by, &[need]).await
    }

    /// Whether `by` may create and change tasks: for forms offered before anything is sent.
    pub fn may_write(&self, by: &Principal) -> bool {
        by.can(Permission::TaskWrite)
    }

    pub async fn categories(&self, by: &Principal) -> Result<Vec<Category>, ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::ClientRead).await?;
        let found = repo::categories(&mut tx).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// A new category; 409 `name` when the tenant has one of that name in any case.
    pub async fn create_category(&self, by: &Principal, input: &CategoryInput) -> Result<Category, ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::SettingsManage).await?;
        let fields = input.apply(None)?;
        let id = repo::insert_category(&mut tx, &fields).await?;
        record(&mut tx, by, "created", "task_category", id.0, fields.name.as_str()).await?;
        let made = repo::category(&mut tx, id).await?;
        tx.commit().await?;
        Ok(made)
    }

    pub async fn update_category(
        &self,
        by: &Principal,
        id: CategoryId,
        input: &CategoryInput,
    ) -> Result<Category, ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::SettingsManage).await?;
        let before = repo::category(&mut tx, id).await?;
        let fields = input.apply(Some(&before))?;
        repo::update_category(&mut tx, id, &fields).await?;
        record(&mut tx, by, "updated", "task_category", id.0, fields.name.as_str()).await?;
        let after = repo::category(&mut tx, id).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes a category; its tasks stay, without one.
    pub async fn delete_category(&self, by: &Principal, id: CategoryId) -> Result<(), ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::SettingsManage).await?;
        let gone = repo::category(&mut tx, id).await?;
        repo::delete_category(&mut tx, id).await?;
        record(&mut tx, by, "deleted", "task_category", id.0, &gone.name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who a task may be given to: active users who may write tasks, by name.
    pub async fn assignees(&self, by: &Principal) -> Result<Vec<(UserId, String)>, ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::ClientRead).await?;
        let found = users::task_assignees(&mut tx, None).await?;
        tx.commit().await?;
        Ok(found)
    }

    pub async fn list(
        &self,
        by: &Principal,
        filter: &TaskFilter,
        limit: i64,
        offset: i64,
    ) -> Result<TaskPage, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientRead).await?;
        if let Some(on) = filter.record {
            super::records::reach(&mut tx, by, scope, on).await?;
        }
        let (tasks, total) = repo::list(&mut tx, filter, scope, limit, offset).await?;
        tx.commit().await?;
        Ok(TaskPage { tasks, total })
    }

    pub async fn get(&self, by: &Principal, id: TaskId) -> Result<Task, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientRead).await?;
        let task = repo::get(&mut tx, id, scope).await?;
        tx.commit().await?;
        Ok(task)
    }

    /// A new task, given to its author unless the input names someone (or no one, with an
    /// empty `assignee_id`). Whoever it is given to, other than its author, is told.
    pub async fn create(&self, by: &Principal, input: &TaskInput) -> Result<Task, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::TaskWrite).await?;
        let mut fields = input.apply(None, by.time_zone)?;
        if input.assignee_id.is_none() {
            fields.assignee_id = Some(by.user_id);
        }
        self.check(&mut tx, by, scope, &fields, None).await?;
        let id = repo::insert(&mut tx, &fields, by.user_id).await?;
        if let Some(on) = fields.record {
            let entry = NewActivity::new(on, ActivityKind::TaskCreated, by.actor(), fields.title.clone())
                .with(json!({"task_id": id.0}));
            activities::record(&mut tx, &entry).await?;
        }
        record(&mut tx, by, "created", "task", id.0, &fields.title).await?;
        let told = assigned(&mut tx, by, id, &fields, None).await?;
        let task = repo::get(&mut tx, id, None).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TaskCreated { tenant_id: by.tenant_id, task_id: id });
        told.publish(&self.events);
        Ok(task)
    }

    /// Changes what `input` names; a new assignee (other than the one changing it) is told.
    pub async fn update(&self, by: &Principal, id: TaskId, input: &TaskInput) -> Result<Task, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::TaskWrite).await?;
        repo::lock(&mut tx, id).await?;
        let before = repo::get(&mut tx, id, scope).await?;
        let fields = input.apply(Some(&before.fields), by.time_zone)?;
        if fields == before.fields {
            return Ok(before);
        }
        self.check(&mut tx, by, scope, &fields, Some(&before.fields)).await?;
        repo::update(&mut tx, id, &fields).await?;
        record(&mut tx, by, "updated", "task", id.0, &fields.title).await?;
        let told = assigned(&mut tx, by, id, &fields, before.fields.assignee_id).await?;
        let task = repo::get(&mut tx, id, None).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TaskUpdated { tenant_id: by.tenant_id, task_id: id });
        told.publish(&self.events);
        Ok(task)
    }

    /// Marks a task done, with a note saying how it went; a task whose category asks for one
    /// is refused without it (422 `note`, `note_required`). Done already: left as it is.
    pub async fn complete(&self, by: &Principal, id: TaskId, note: &str) -> Result<Task, ServiceError> {
        let note = note.trim();
        if note.chars().count() > MAX_TEXT {
            return Err(DomainError::new("note", "too_long").into());
        }
        let (mut tx, scope) = self.begin(by, Permission::TaskWrite).await?;
        repo::lock(&mut tx, id).await?;
        let task = repo::get(&mut tx, id, scope).await?;
        if task.is_done() {
            return Ok(task);
        }
        if note.is_empty() && task.category.as_ref().is_some_and(|c| c.note_required) {
            return Err(DomainError::new("note", "note_required").into());
        }
        repo::set_done(&mut tx, id, Some((by.user_id, note))).await?;
        self.on_timeline(&mut tx, by, &task, ActivityKind::TaskDone, note).await?;
        record(&mut tx, by, "completed", "task", id.0, &task.fields.title).await?;
        let task = repo::get(&mut tx, id, None).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TaskCompleted { tenant_id: by.tenant_id, task_id: id });
        Ok(task)
    }

    /// Opens a done task again. Open already: left as it is.
    pub async fn reopen(&self, by: &Principal, id: TaskId) -> Result<Task, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::TaskWrite).await?;
        repo::lock(&mut tx, id).await?;
        let task = repo::get(&mut tx, id, scope).await?;
        if !task.is_done() {
            return Ok(task);
        }
        repo::set_done(&mut tx, id, None).await?;
        self.on_timeline(&mut tx, by, &task, ActivityKind::TaskReopened, "").await?;
        record(&mut tx, by, "reopened", "task", id.0, &task.fields.title).await?;
        let task = repo::get(&mut tx, id, None).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TaskUpdated { tenant_id: by.tenant_id, task_id: id });
        Ok(task)
    }

    pub async fn delete(&self, by: &Principal, id: TaskId) -> Result<(), ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::TaskWrite).await?;
        repo::lock(&mut tx, id).await?;
        let gone = repo::get(&mut tx, id, scope).await?;
        repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "deleted", "task", id.0, &gone.fields.title).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TaskDeleted { tenant_id: by.tenant_id, task_id: id });
        Ok(())
    }

    /// What the database must confirm of a task's fields: the category exists, the assignee
    /// may be given tasks, and the reader reaches the record it is about. What did not change
    /// from `before` is not asked again (an assignee since deactivated stays).
    async fn check(
        &self,
        tx: &mut TenantTx,
        by: &Principal,
        scope: Option<UserId>,
        f: &TaskFields,
        before: Option<&TaskFields>,
    ) -> Result<(), ServiceError> {
        let mut errors = Vec::new();
        if let Some(c) = f.category_id.filter(|c| Some(*c) != before.and_then(|b| b.category_id)) {
            match repo::category(tx, c).await {
                Err(RepoError::NotFound) => errors.push(DomainError::new("category_id", "unknown_category")),
                other => drop(other?),
            }
        }
        if let Some(u) = f.assignee_id.filter(|u| Some(*u) != before.and_then(|b| b.assignee_id))
            && users::task_assignees(tx, Some(u)).await?.is_empty()
        {
            errors.push(DomainError::new("assignee_id", "unknown_user"));
        }
        if let Some(on) = f.record.filter(|r| Some(*r) != before.and_then(|b| b.record)) {
            match reach_named(tx, by, scope, on).await {
                Err(ServiceError::Invalid(e)) => errors.extend(e),
                other => drop(other?),
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors.into()) }
    }

    async fn on_timeline(
        &self,
        tx: &mut TenantTx,
        by: &Principal,
        task: &Task,
        kind: ActivityKind,
        note: &str,
    ) -> Result<(), ServiceError> {
        if let Some(on) = task.fields.record {
            let entry = NewActivity::new(on, kind, by.actor(), task.fields.title.clone())
                .with(json!({"task_id": task.id.0, "note": note}));
            activities::record(tx, &entry).await?;
        }
        Ok(())
    }

    /// One pass of the task clock: fires the reminders that came due and marks the tasks
    /// that went overdue, each once whichever node gets it, then announces them. `true` when
    /// a batch was full, so more may be due.
    pub async fn tick(&self) -> Result<bool, ServiceError> {
        let fired = repo::fire_due_reminders(&self.pool, CLOCK_BATCH).await?;
        let mut rung = fired.to_vec();
        rung.sort_by_key(|(t, u)| (t.0, u.0));
        rung.dedup();
        for (tenant_id, user_id) in rung {
            self.events.publish(DomainEvent::NotificationsChanged { tenant_id, user_id });
        }
        let overdue = repo::mark_overdue(&self.pool, CLOCK_BATCH).await?;
        for (tenant_id, task_id, assignee) in &overdue {
            self.events.publish(DomainEvent::TaskOverdue {
                tenant_id: *tenant_id,
                task_id: *task_id,
                assignee: *assignee,
            });
        }
        let full = CLOCK_BATCH as usize;
        Ok(fired.len() == full || overdue.len() == full)
    }

    /// Runs the task clock every `every`, for as long as the task lives, on every node.
    pub fn spawn_task_clock(&self, every: Duration, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        super::polling::spawn("task clock", every, None, stop, move || {
            let service = service.clone();
            async move { service.tick().await }
        })
    }
}

/// Tells a task's assignee it was given to them, unless they gave it themself or had it already.
async fn assigned(
    tx: &mut TenantTx,
    by: &Principal,
    id: TaskId,
    f: &TaskFields,
    before: Option<UserId>,
) -> Result<Told, ServiceError> {
    let notes = match f.assignee_id {
        Some(user_id) if user_id != by.user_id && Some(user_id) != before => vec![NewNotification {
            user_id,
            kind: NotificationKind::TaskAssigned,
            data: json!({"task_id": id.0, "title": f.title, "by": by.name, "due_at": f.due_at}),
            url: format!("/crm/tasks?task={}", id.0),
        }],
        _ => Vec::new(),
    };
    tell(tx, notes).await
}

async fn record(
    tx: &mut TenantTx,
    by: &Principal,
    action: &str,
    entity: &str,
    id: i64,
    summary: &str,
) -> Result<(), RepoError> {
    let entry = audit::Entry { action, entity, entity_id: &id.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await
}
