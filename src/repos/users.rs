//! The users table: staff accounts of one tenant.

use chrono::{DateTime, Utc};

use crate::db::TenantTx;
use crate::domain::{Email, Locale, Permission, PersonName, Role, UserId};

use super::{RepoError, conflict_on};

const UNIQUE: &[(&str, &str)] = &[("users_email_key", "email")];

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub locale: Option<Locale>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a PersonName,
    pub password_hash: &'a str,
    pub role: Role,
}

pub async fn insert(tx: &mut TenantTx, user: NewUser<'_>) -> Result<UserId, RepoError> {
    let tenant = tx.tenant_id().0;
    let id = sqlx::query_scalar!(
        "INSERT INTO users (tenant_id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        tenant,
        user.email.as_str(),
        user.name.as_str(),
        user.password_hash,
        user.role.as_str()
    )
    .fetch_one(tx.conn())
    .await
    .map_err(conflict_on(UNIQUE))?;
    Ok(UserId(id))
}

struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    locale: Option<String>,
    active: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;
    fn try_from(r: UserRow) -> Result<Self, RepoError> {
        let corrupt = |e: crate::domain::DomainError| RepoError::Corrupt(e.to_string());
        Ok(User {
            id: UserId(r.id),
            email: r.email,
            name: r.name,
            role: r.role.parse().map_err(corrupt)?,
            locale: r.locale.as_deref().map(str::parse).transpose().map_err(corrupt)?,
            active: r.active,
            created_at: r.created_at,
        })
    }
}

/// Every user of the tenant with how many live sessions each has: active users first, then
/// by name.
pub async fn list_with_session_counts(tx: &mut TenantTx) -> Result<Vec<(User, i64)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        r#"SELECT u.id, u.email, u.name, u.role, u.locale, u.active, u.created_at,
                  (SELECT count(*) FROM sessions s
                    WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id AND s.expires_at > now()) AS "sessions!"
           FROM users u WHERE u.tenant_id = $1 ORDER BY u.active DESC, lower(u.name), u.id"#,
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|r| {
            let user = UserRow {
                id: r.id,
                email: r.email,
                name: r.name,
                role: r.role,
                locale: r.locale,
                active: r.active,
                created_at: r.created_at,
            };
            Ok((User::try_from(user)?, r.sessions))
        })
        .collect()
}

/// Locks the user's row for the rest of the transaction, so two admins changing roles at once
/// cannot both remove "the other" last admin.
pub async fn get_for_update(tx: &mut TenantTx, id: UserId) -> Result<User, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query_as!(
        UserRow,
        "SELECT id, email, name, role, locale, active, created_at FROM users
         WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        id.0
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(RepoError::NotFound)?;
    row.try_into()
}

/// Active admins of the tenant, locking their rows for the rest of the transaction.
pub async fn lock_active_admins(tx: &mut TenantTx) -> Result<Vec<UserId>, RepoError> {
    let tenant = tx.tenant_id().0;
    let ids = sqlx::query_scalar!(
        "SELECT id FROM users WHERE tenant_id = $1 AND active AND role = 'admin' ORDER BY id FOR UPDATE",
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

pub async fn set_role(tx: &mut TenantTx, id: UserId, role: Role) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE users SET role = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        role.as_str()
    )
    .execute(tx.conn())
    .await?;
    found(done.rows_affected())
}

pub async fn set_active(tx: &mut TenantTx, id: UserId, active: bool) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE users SET active = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        active
    )
    .execute(tx.conn())
    .await?;
    found(done.rows_affected())
}

pub async fn set_profile(
    tx: &mut TenantTx,
    id: UserId,
    name: &PersonName,
    locale: Option<Locale>,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE users SET name = $3, locale = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        name.as_str(),
        locale.map(|l| l.as_str())
    )
    .execute(tx.conn())
    .await?;
    found(done.rows_affected())
}

pub async fn set_locale(tx: &mut TenantTx, id: UserId, locale: Option<Locale>) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE users SET locale = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        locale.map(|l| l.as_str())
    )
    .execute(tx.conn())
    .await?;
    found(done.rows_affected())
}

pub async fn password_hash(tx: &mut TenantTx, id: UserId) -> Result<String, RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query_scalar!("SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(RepoError::NotFound)
}

pub async fn set_password_hash(tx: &mut TenantTx, id: UserId, hash: &str) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let done = sqlx::query!(
        "UPDATE users SET password_hash = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        hash
    )
    .execute(tx.conn())
    .await?;
    found(done.rows_affected())
}

fn found(rows: u64) -> Result<(), RepoError> {
    if rows == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Active users whose role may write in chats (so chats may be assigned to them), by name;
/// only `one` when given.
pub async fn chat_workers(tx: &mut TenantTx, one: Option<UserId>) -> Result<Vec<(UserId, String)>, RepoError> {
    active_with(tx, Permission::ChatCreate, one).await
}

/// Active users whose role may write deals (so records may be theirs), by name; only `one`
/// when given.
pub async fn record_owners(tx: &mut TenantTx, one: Option<UserId>) -> Result<Vec<(UserId, String)>, RepoError> {
    active_with(tx, Permission::DealWrite, one).await
}

/// Active users whose role holds `permission`, by name; only `one` when given.
async fn active_with(
    tx: &mut TenantTx,
    permission: Permission,
    one: Option<UserId>,
) -> Result<Vec<(UserId, String)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        "SELECT u.id, u.name FROM users u
         WHERE u.tenant_id = $1 AND u.active AND ($2::bigint IS NULL OR u.id = $2)
           AND EXISTS (SELECT 1 FROM role_permissions p WHERE p.role = u.role AND p.permission = $3)
         ORDER BY lower(u.name), u.id",
        tenant,
        one.map(|u| u.0),
        permission.as_str()
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (UserId(r.id), r.name)).collect())
}

/// Whether the user marked themself away (signed in, but not to be given new chats).
pub async fn away(tx: &mut TenantTx, id: UserId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query_scalar!("SELECT away FROM users WHERE tenant_id = $1 AND id = $2", tenant, id.0)
        .fetch_optional(tx.conn())
        .await?;
    r.ok_or(RepoError::NotFound)
}

/// Marks the user away or back; `false` when it already was so.
pub async fn set_away(tx: &mut TenantTx, id: UserId, away: bool) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let done =
        sqlx::query!("UPDATE users SET away = $3 WHERE tenant_id = $1 AND id = $2 AND away <> $3", tenant, id.0, away)
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The next agent in turn for a new chat: of the active users who may write in chats, are not
/// away and were seen within `present` on a live session, the one given a chat longest ago
/// (never first), who is marked as given one now. The tenant's round-robin lock is held until
/// the transaction ends, so two nodes picking at once take turns and never pick the same
/// person for the same turn.
pub async fn take_turn(tx: &mut TenantTx, present: std::time::Duration) -> Result<Option<(UserId, String)>, RepoError> {
    let tenant = tx.tenant_id().0;
    tx.lock("round-robin").await?;
    let present = present.as_secs_f64();
    let next = sqlx::query!(
        "UPDATE users SET last_assigned_at = clock_timestamp()
         WHERE tenant_id = $1 AND id = (
             SELECT u.id FROM users u
             WHERE u.tenant_id = $1 AND u.active AND NOT u.away
               AND EXISTS (SELECT 1 FROM role_permissions p WHERE p.role = u.role AND p.permission = 'ChatCreate')
               AND EXISTS (SELECT 1 FROM sessions s WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id
                           AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2))
             ORDER BY u.last_assigned_at NULLS FIRST, u.id
             LIMIT 1)
         RETURNING id, name",
        tenant,
        present
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(next.map(|r| (UserId(r.id), r.name)))
}

/// Who may be given a task: active users whose role may write tasks, by name; only `one`
/// when given.
pub async fn task_assignees(tx: &mut TenantTx, one: Option<UserId>) -> Result<Vec<(UserId, String)>, RepoError> {
    active_with(tx, Permission::TaskWrite, one).await
}

/// Every active user of the tenant, by name, with their email: who a note may mention.
pub async fn mentionable(tx: &mut TenantTx) -> Result<Vec<crate::domain::note::Mentionable>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!(
        "SELECT id, name, email FROM users WHERE tenant_id = $1 AND active ORDER BY lower(name), id",
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| crate::domain::note::Mentionable { id: UserId(r.id), name: r.name, email: r.email })
        .collect())
}

/// Whether `id` has a live Telegram link (a chat with a bot the tenant still has).
pub async fn telegram_linked(tx: &mut TenantTx, id: UserId) -> Result<bool, RepoError> {
    let tenant = tx.tenant_id().0;
    let linked = sqlx::query_scalar!(
        r#"SELECT (telegram_chat_id IS NOT NULL AND telegram_channel_id IS NOT NULL) AS "linked!"
           FROM users WHERE tenant_id = $1 AND id = $2"#,
        tenant,
        id.0
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(linked)
}

/// Gives `id` a one-time code to link Telegram with, good for `valid`; an earlier one lapses.
pub async fn set_telegram_code(
    tx: &mut TenantTx,
    id: UserId,
    code: &str,
    valid: std::time::Duration,
) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    let valid = super::interval(valid)?;
    sqlx::query!(
        "UPDATE users SET telegram_link_code = $3, telegram_link_expires_at = now() + $4 WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0,
        code,
        valid
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Links the active user whose live code is `code` to Telegram chat `chat` of the bot of
/// `channel`, using the code up: the user and their language (else the tenant's), or `None`
/// for no such code.
pub async fn link_telegram(
    tx: &mut TenantTx,
    code: &str,
    channel: crate::domain::channel::ChannelId,
    chat: i64,
) -> Result<Option<(UserId, String)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query!(
        r#"UPDATE users SET telegram_chat_id = $4, telegram_channel_id = $3,
                          telegram_link_code = NULL, telegram_link_expires_at = NULL
         WHERE tenant_id = $1 AND telegram_link_code = $2 AND telegram_link_expires_at > now() AND active
         RETURNING id, coalesce(locale, (SELECT t.locale FROM tenants t WHERE t.id = tenant_id)) AS "locale!""#,
        tenant,
        code,
        channel.0,
        chat
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (UserId(r.id), r.locale)))
}

/// Unlinks `id` from Telegram; their pending notifications there are called off.
pub async fn unlink_telegram(tx: &mut TenantTx, id: UserId) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE users SET telegram_chat_id = NULL, telegram_channel_id = NULL, telegram_link_code = NULL,
                          telegram_link_expires_at = NULL
         WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    sqlx::query!(
        "UPDATE notifications SET telegram_state = NULL, telegram_due_at = NULL
         WHERE tenant_id = $1 AND user_id = $2 AND telegram_state = 'pending'",
        tenant,
        id.0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
