//! Look-ups that happen before a tenant is known, each through a named SECURITY DEFINER
//! function of the first migration: never by lifting row-level security for a request.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::db::TenantTx;
use crate::domain::{Locale, Permission, Principal, Role, TenantId, UserId};

use super::RepoError;

/// What sign-in needs to know about the account behind an email.
#[derive(Debug)]
pub struct LoginAccount {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub password_hash: String,
    pub active: bool,
}

pub async fn login_account(pool: &PgPool, email: &str) -> Result<Option<LoginAccount>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", user_id AS "user_id!", password_hash AS "password_hash!", active AS "active!"
           FROM auth_login_account($1)"#,
        email
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| LoginAccount {
        tenant_id: TenantId(r.tenant_id),
        user_id: UserId(r.user_id),
        password_hash: r.password_hash,
        active: r.active,
    }))
}

/// The user behind a live session (not expired, not idle longer than `idle`, user active).
pub async fn session_principal(
    pool: &PgPool,
    token_hash: &[u8],
    idle: Duration,
) -> Result<Option<Principal>, RepoError> {
    let idle = super::interval(idle)?;
    let row = sqlx::query_as!(
        PrincipalRow,
        r#"SELECT tenant_id AS "tenant_id!", tenant_name AS "tenant_name!", user_id AS "user_id!", email AS "email!",
                  name AS "name!", role AS "role!", locale, permissions AS "permissions!", time_zone AS "time_zone!"
           FROM auth_session_principal($1, $2)"#,
        token_hash,
        idle
    )
    .fetch_optional(pool)
    .await?;
    row.map(PrincipalRow::into_principal).transpose()
}

/// The user an unrevoked API token acts as.
pub async fn token_principal(pool: &PgPool, token_hash: &[u8]) -> Result<Option<Principal>, RepoError> {
    let row = sqlx::query_as!(
        PrincipalRow,
        r#"SELECT tenant_id AS "tenant_id!", tenant_name AS "tenant_name!", user_id AS "user_id!", email AS "email!",
                  name AS "name!", role AS "role!", locale, permissions AS "permissions!", time_zone AS "time_zone!"
           FROM auth_token_principal($1)"#,
        token_hash
    )
    .fetch_optional(pool)
    .await?;
    row.map(PrincipalRow::into_principal).transpose()
}

/// The tenant's user `user` as they act now (role, permissions, names), while active: a
/// background job acting for its author checks what they may do when it runs.
pub async fn user_principal(tx: &mut TenantTx, user: UserId) -> Result<Option<Principal>, RepoError> {
    let tenant = tx.tenant_id().0;
    let row = sqlx::query_as!(
        PrincipalRow,
        r#"SELECT u.tenant_id, t.name AS tenant_name, u.id AS user_id, u.email, u.name, u.role, u.locale,
                  ARRAY(SELECT rp.permission FROM role_permissions rp WHERE rp.role = u.role) AS "permissions!",
                  t.time_zone
           FROM users u JOIN tenants t ON t.id = u.tenant_id
           WHERE u.tenant_id = $1 AND u.id = $2 AND u.active"#,
        tenant,
        user.0
    )
    .fetch_optional(tx.conn())
    .await?;
    row.map(PrincipalRow::into_principal).transpose()
}

/// Deletes every tenant's ended sessions; returns how many.
pub async fn purge_ended_sessions(pool: &PgPool, idle: Duration) -> Result<i64, RepoError> {
    let idle = super::interval(idle)?;
    let n = sqlx::query_scalar!(r#"SELECT purge_ended_sessions($1) AS "n!""#, idle).fetch_one(pool).await?;
    Ok(n)
}

#[derive(Debug)]
pub struct TenantSummary {
    pub id: TenantId,
    pub name: String,
}

/// Every tenant, oldest first: for the command line and first-run set-up.
pub async fn list_tenants(pool: &PgPool) -> Result<Vec<TenantSummary>, RepoError> {
    let rows = sqlx::query!(r#"SELECT id AS "id!", name AS "name!" FROM list_tenants()"#).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|r| TenantSummary { id: TenantId(r.id), name: r.name }).collect())
}

struct PrincipalRow {
    tenant_id: Uuid,
    tenant_name: String,
    user_id: i64,
    email: String,
    name: String,
    role: String,
    locale: Option<String>,
    permissions: Vec<String>,
    time_zone: String,
}

impl PrincipalRow {
    fn into_principal(self) -> Result<Principal, RepoError> {
        let corrupt = |e: crate::domain::DomainError| RepoError::Corrupt(e.to_string());
        Ok(Principal {
            tenant_id: TenantId(self.tenant_id),
            tenant_name: self.tenant_name,
            user_id: UserId(self.user_id),
            email: self.email,
            name: self.name,
            role: self.role.parse::<Role>().map_err(corrupt)?,
            locale: self.locale.as_deref().map(str::parse::<Locale>).transpose().map_err(corrupt)?,
            permissions: self
                .permissions
                .iter()
                .map(|p| p.parse::<Permission>())
                .collect::<Result<_, _>>()
                .map_err(corrupt)?,
            time_zone: self.time_zone.parse().map_err(corrupt)?,
        })
    }
}
