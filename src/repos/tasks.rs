//! The `tasks` and `task_categories` tables, and the two passes every node runs over them:
//! reminders that came due, and tasks that went overdue.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::pipeline::Color;
use crate::domain::record::RecordRef;
use crate::domain::task::{
    Category, CategoryFields, CategoryId, Priority, Task, TaskFields, TaskFilter, TaskId, TaskStatus,
};
use crate::domain::{Named, TenantId, UserId};

use super::{RepoError, conflict_on};

const CATEGORY_UNIQUE: &[(&str, &str)] = &[("task_categories_tenant_id_name_key_key", "name")];

struct CategoryRecord {
    id: i64,
    name: String,
    color: String,
    note_required: bool,
}

impl CategoryRecord {
    fn into_category(self) -> Result<Category, RepoError> {
        let color = Color::parse(&self.color).map_err(|_| RepoError::Corrupt(format!("category {}", self.id)))?;
        Ok(Category { id: CategoryId(self.id), name: self.name, color, note_required: self.note_required })
    }
}

pub async fn categories(tx: &mut TenantTx) -> Result<Vec<Category>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query_as!(
        CategoryRecord,
        "SELECT id, name, color, note_required FROM task_categories WHERE tenant_id = $1 ORDER BY name_key, id",
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter().map(CategoryRecord::into_category).collect()
}

pub async fn category(tx: &mut TenantTx, id: CategoryId) -> Result<Category, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_as!(
        CategoryRecord,
        "SELECT id, name, color, note_required FROM task_categories WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?
    .into_category()
}

pub async fn insert_category(tx: &mut TenantTx, f: &CategoryFields) -> Result<CategoryId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO task_categories (tenant_id, name, name_key, color, note_required) VALUES ($1, $2, $3, $4, $5)
         RETURNING id",
        tenant,
        f.name.as_str(),
        f.name.key(),
        f.color.as_str(),
        f.note_required
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(CATEGORY_UNIQUE))?;
    Ok(CategoryId(id))
}

pub async fn update_category(tx: &mut TenantTx, id: CategoryId, f: &CategoryFields) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE task_categories SET name = $3, name_key = $4, color = $5, note_required = $6
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        f.name.as_str(),
        f.name.key(),
        f.color.as_str(),
        f.note_required
    )
    .execute(tx.conn())
    .await
    .map_err(conflict_on(CATEGORY_UNIQUE))?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Deletes a category; its tasks stay, without one.
pub async fn delete_category(tx: &mut TenantTx, id: CategoryId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!("DELETE FROM task_categories WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

#[derive(sqlx::FromRow)]
struct TaskRecord {
    id: i64,
    title: String,
    description: String,
    priority: String,
    category_id: Option<i64>,
    category_name: Option<String>,
    category_color: Option<String>,
    category_note_required: Option<bool>,
    due_at: Option<DateTime<Utc>>,
    remind_at: Option<DateTime<Utc>>,
    reminded_at: Option<DateTime<Utc>>,
    overdue_at: Option<DateTime<Utc>>,
    assignee_user_id: Option<i64>,
    assignee_name: Option<String>,
    created_by: Option<i64>,
    created_by_name: Option<String>,
    client_id: Option<i64>,
    company_id: Option<i64>,
    deal_id: Option<i64>,
    record_name: Option<String>,
    done_at: Option<DateTime<Utc>>,
    done_by: Option<i64>,
    done_by_name: Option<String>,
    done_note: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TaskRecord {
    fn into_task(self) -> Result<Task, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("task {}: {what}", self.id));
        let priority = Priority::parse(&self.priority).map_err(|_| corrupt("priority"))?;
        let record = match (self.client_id, self.company_id, self.deal_id) {
            (None, None, None) => None,
            (c, co, d) => Some(RecordRef::from_columns(c, co, d).ok_or_else(|| corrupt("record"))?),
        };
        let category = match (self.category_id, self.category_name, self.category_color) {
            (Some(id), Some(name), Some(color)) => Some(
                CategoryRecord { id, name, color, note_required: self.category_note_required.unwrap_or(false) }
                    .into_category()?,
            ),
            _ => None,
        };
        let named = |id: Option<i64>, name: Option<String>| {
            id.map(|id| Named { id: UserId(id), name: name.unwrap_or_default() })
        };
        Ok(Task {
            id: TaskId(self.id),
            fields: TaskFields {
                title: self.title,
                description: self.description,
                priority,
                category_id: self.category_id.map(CategoryId),
                due_at: self.due_at,
                remind_at: self.remind_at,
                assignee_id: self.assignee_user_id.map(UserId),
                record,
            },
            category,
            assignee: named(self.assignee_user_id, self.assignee_name),
            created_by: named(self.created_by, self.created_by_name),
            record: record.map(|r| (r, self.record_name.unwrap_or_default())),
            reminded_at: self.reminded_at,
            overdue_at: self.overdue_at,
            done_at: self.done_at,
            done_by: named(self.done_by, self.done_by_name),
            done_note: self.done_note,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The columns of a task as `TaskRecord` reads them, from `tasks t`.
const SELECT: &str = "SELECT t.id, t.title, t.description, t.priority, t.category_id, g.name AS category_name,
        g.color AS category_color, g.note_required AS category_note_required, t.due_at, t.remind_at, t.reminded_at,
        t.overdue_at, t.assignee_user_id, a.name AS assignee_name, t.created_by, b.name AS created_by_name,
        t.client_id, t.company_id, t.deal_id,
        coalesce(concat_ws(' ', c.first_name, c.last_name), co.name, d.title) AS record_name,
        t.done_at, t.done_by, x.name AS done_by_name, t.done_note, t.created_at, t.updated_at
    FROM tasks t
    LEFT JOIN task_categories g ON g.tenant_id = t.tenant_id AND g.id = t.category_id
    LEFT JOIN users a ON a.tenant_id = t.tenant_id AND a.id = t.assignee_user_id
    LEFT JOIN users b ON b.tenant_id = t.tenant_id AND b.id = t.created_by
    LEFT JOIN users x ON x.tenant_id = t.tenant_id AND x.id = t.done_by
    LEFT JOIN clients c ON c.tenant_id = t.tenant_id AND c.id = t.client_id
    LEFT JOIN companies co ON co.tenant_id = t.tenant_id AND co.id = t.company_id
    LEFT JOIN deals d ON d.tenant_id = t.tenant_id AND d.id = t.deal_id";

/// Task `id`, when `reader` (if given) reaches it: their own (assigned to them or made by them).
pub async fn get(tx: &mut TenantTx, id: TaskId, reader: Option<UserId>) -> Result<Task, RepoError> {
    let tenant = tx.tenant_id().0;
    let row: Option<TaskRecord> = sqlx::query_as(&format!(
        "{SELECT} WHERE t.tenant_id = $1 AND t.id = $2
           AND ($3::bigint IS NULL OR t.assignee_user_id = $3 OR t.created_by = $3)"
    ))
    .bind(tenant)
    .bind(id.0)
    .bind(reader.map(|r| r.0))
    .fetch_optional(tx.conn())
    .await?;
    row.ok_or(RepoError::NotFound)?.into_task()
}

/// Locks task `id` for the rest of the transaction.
pub async fn lock(tx: &mut TenantTx, id: TaskId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!("SELECT id FROM tasks WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)?;
    Ok(())
}

/// A page of tasks matching `filter` that `reader` (if given) reaches: open ones soonest due
/// first (those without a due time last), done ones latest done first. With the total.
pub async fn list(
    tx: &mut TenantTx,
    filter: &TaskFilter,
    reader: Option<UserId>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Task>, i64), RepoError> {
    let tenant = tx.tenant_id().0;
    let (status, order) = match filter.status {
        TaskStatus::Open => ("t.done_at IS NULL", "t.due_at NULLS LAST, t.id"),
        TaskStatus::Overdue => ("t.done_at IS NULL AND t.due_at <= now()", "t.due_at, t.id"),
        TaskStatus::Done => ("t.done_at IS NOT NULL", "t.done_at DESC, t.id DESC"),
        TaskStatus::All => ("true", "t.done_at IS NOT NULL, t.due_at NULLS LAST, t.id"),
    };
    let record = match filter.record {
        Some(on) => format!(" AND t.{} = $5", super::records::column(on)),
        None => " AND $5::bigint IS NULL".to_owned(),
    };
    let conds = format!(
        "t.tenant_id = $1 AND {status}{record}
         AND ($2::bigint IS NULL OR t.assignee_user_id = $2)
         AND ($3::timestamptz IS NULL OR t.due_at < $3)
         AND ($4::bigint IS NULL OR t.assignee_user_id = $4 OR t.created_by = $4)"
    );
    let record_id = filter.record.map(RecordRef::id);
    let rows: Vec<TaskRecord> = sqlx::query_as(&format!("{SELECT} WHERE {conds} ORDER BY {order} LIMIT $6 OFFSET $7"))
        .bind(tenant)
        .bind(filter.assignee_id.map(|u| u.0))
        .bind(filter.due_before)
        .bind(reader.map(|r| r.0))
        .bind(record_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(tx.conn())
        .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM tasks t WHERE {conds}"))
        .bind(tenant)
        .bind(filter.assignee_id.map(|u| u.0))
        .bind(filter.due_before)
        .bind(reader.map(|r| r.0))
        .bind(record_id)
        .fetch_one(tx.conn())
        .await?;
    Ok((rows.into_iter().map(TaskRecord::into_task).collect::<Result<_, _>>()?, total))
}

pub async fn insert(tx: &mut TenantTx, f: &TaskFields, by: UserId) -> Result<TaskId, RepoError> {
    let tenant = tx.tenant_id().0;
    let (client, company, deal) = f.record.map_or((None, None, None), RecordRef::columns);
    let id = sqlx::query_scalar!(
        "INSERT INTO tasks (tenant_id, title, description, priority, category_id, due_at, remind_at, assignee_user_id,
                            created_by, client_id, company_id, deal_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        tenant,
        f.title,
        f.description,
        f.priority.as_str(),
        f.category_id.map(|c| c.0),
        f.due_at,
        f.remind_at,
        f.assignee_id.map(|u| u.0),
        by.0,
        client,
        company,
        deal
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(TaskId(id))
}

/// Writes a task's fields. A due time moved clears its overdue mark, and a reminder time
/// moved clears its reminded mark: each fires again at the new time.
pub async fn update(tx: &mut TenantTx, id: TaskId, f: &TaskFields) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let (client, company, deal) = f.record.map_or((None, None, None), RecordRef::columns);
    let done = sqlx::query!(
        "UPDATE tasks SET title = $3, description = $4, priority = $5, category_id = $6,
                overdue_at = CASE WHEN due_at IS DISTINCT FROM $7 THEN NULL ELSE overdue_at END,
                reminded_at = CASE WHEN remind_at IS DISTINCT FROM $8 THEN NULL ELSE reminded_at END,
                due_at = $7, remind_at = $8, assignee_user_id = $9, client_id = $10, company_id = $11, deal_id = $12,
                updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        f.title,
        f.description,
        f.priority.as_str(),
        f.category_id.map(|c| c.0),
        f.due_at,
        f.remind_at,
        f.assignee_id.map(|u| u.0),
        client,
        company,
        deal
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Marks a task done by `by` with `note`, or open again (`None`).
pub async fn set_done(tx: &mut TenantTx, id: TaskId, done: Option<(UserId, &str)>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let changed = sqlx::query!(
        "UPDATE tasks SET done_at = CASE WHEN $3::bigint IS NULL THEN NULL ELSE now() END, done_by = $3,
                done_note = $4, updated_at = now()
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        done.map(|(u, _)| u.0),
        done.map_or("", |(_, n)| n)
    )
    .execute(tx.conn())
    .await?;
    if changed.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

pub async fn delete(tx: &mut TenantTx, id: TaskId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done =
        sqlx::query!("DELETE FROM tasks WHERE tenant_id = $1 AND id = $2", tenant, id.0).execute(tx.conn()).await?;
    if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Fires up to `limit` due reminders across tenants, each once whichever node asks (see
/// `fire_due_reminders`): returns who was told, by tenant.
pub async fn fire_due_reminders(pool: &PgPool, limit: i32) -> Result<Vec<(TenantId, UserId)>, RepoError> {
    let rows =
        sqlx::query!(r#"SELECT tenant_id AS "tenant_id!", user_id AS "user_id!" FROM fire_due_reminders($1)"#, limit)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| (TenantId(r.tenant_id), UserId(r.user_id))).collect())
}

/// Marks up to `limit` tasks overdue across tenants, each once (see `mark_overdue_tasks`).
pub async fn mark_overdue(pool: &PgPool, limit: i32) -> Result<Vec<(TenantId, TaskId, Option<UserId>)>, RepoError> {
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", task_id AS "task_id!", assignee_user_id FROM mark_overdue_tasks($1)"#,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (TenantId(r.tenant_id), TaskId(r.task_id), r.assignee_user_id.map(UserId))).collect())
}
