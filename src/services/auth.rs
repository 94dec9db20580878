//! Signing in and out, sessions, API tokens, and throttling of failed sign-ins.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;

use crate::crypto::{self, password};
use crate::db::TenantTx;
use crate::domain::{Actor, DomainEvent, Locale, Principal, TenantId, UserId};
use crate::events::EventBus;
use crate::repos::{api_tokens, audit, auth, login_failures, sessions, users};

use super::ServiceError;

/// An absolute limit on a session's life, whatever its activity.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// A session unused this long has ended.
pub const SESSION_IDLE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Failed sign-ins are counted over this window…
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// …and past this many for one account, or this many from one address, sign-in waits.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;

/// Where a sign-in comes from, for the session record and the throttle.
pub struct ClientInfo<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// A new session: the cookie value is known only to the browser (the database keeps its hash).
pub struct NewSession {
    pub token: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
}

pub struct NewApiToken {
    pub id: i64,
    /// Shown once, never stored.
    pub token: String,
}

#[derive(Clone)]
pub struct AuthService {
    pool: PgPool,
    events: EventBus,
}

impl AuthService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// Checks the password and opens a fresh session. Unknown emails, wrong passwords and
    /// deactivated accounts all answer `BadCredentials`, in the same time.
    /// Opens a session for the right email and password of an active user. A language the
    /// person `picked` on the sign-in page becomes their language.
    pub async fn sign_in(
        &self,
        email: &str,
        pass: &str,
        picked: Option<Locale>,
        client: ClientInfo<'_>,
    ) -> Result<NewSession, ServiceError> {
        let email = email.trim().to_lowercase();
        let limits = login_failures::Limits {
            window: THROTTLE_WINDOW,
            per_email: MAX_FAILURES_PER_ACCOUNT,
            per_ip: MAX_FAILURES_PER_ADDRESS,
        };
        let Some(ticket) = login_failures::admit(&self.pool, &email, client.ip, limits).await? else {
            return Err(ServiceError::Throttled { retry_after_secs: THROTTLE_WINDOW.as_secs() });
        };

        let account = auth::login_account(&self.pool, &email).await?;
        let verified = match &account {
            Some(a) => {
                let (pass, hash) = (pass.to_owned(), a.password_hash.clone());
                tokio::task::spawn_blocking(move || password::verify(&pass, &hash)).await.unwrap_or(false)
            }
            None => {
                let pass = pass.to_owned();
                let _ = tokio::task::spawn_blocking(move || password::burn_time(&pass)).await;
                false
            }
        };
        // A failure stays counted: its ticket is its record.
        let Some(account) = account.filter(|a| verified && a.active) else {
            return Err(ServiceError::BadCredentials);
        };
        login_failures::succeeded(&self.pool, ticket, &email).await?;

        let token = crypto::random_token();
        let mut tx = TenantTx::begin(&self.pool, account.tenant_id).await?;
        sessions::insert(
            &mut tx,
            sessions::NewSession {
                token_hash: &crypto::token_hash(&token),
                user_id: account.user_id,
                expires_at: Utc::now() + SESSION_TTL,
                user_agent: truncate(client.user_agent, 300),
                ip: client.ip,
            },
        )
        .await?;
        if picked.is_some() {
            users::set_locale(&mut tx, account.user_id, picked).await?;
        }
        tx.commit().await?;
        Ok(NewSession { token, tenant_id: account.tenant_id, user_id: account.user_id })
    }

    /// Ends the session with this cookie value, if it is live.
    pub async fn sign_out(&self, session_token: &str) -> Result<(), ServiceError> {
        let hash = crypto::token_hash(session_token);
        if let Some(principal) = auth::session_principal(&self.pool, &hash, SESSION_IDLE).await? {
            let mut tx = TenantTx::begin(&self.pool, principal.tenant_id).await?;
            sessions::delete(&mut tx, &hash).await?;
            tx.commit().await?;
            let (tenant_id, user_id) = (principal.tenant_id, principal.user_id);
            self.events.publish(DomainEvent::SessionsEnded { tenant_id, user_id });
        }
        Ok(())
    }

    pub async fn session_principal(&self, session_token: &str) -> Result<Option<Principal>, ServiceError> {
        Ok(auth::session_principal(&self.pool, &crypto::token_hash(session_token), SESSION_IDLE).await?)
    }

    pub async fn api_principal(&self, api_token: &str) -> Result<Option<Principal>, ServiceError> {
        Ok(auth::token_principal(&self.pool, &crypto::token_hash(api_token)).await?)
    }

    /// Creates an API token for `user`. The token is returned once; only its hash is kept.
    pub async fn create_api_token(
        &self,
        tenant: TenantId,
        user: UserId,
        name: &str,
        actor: &Actor,
    ) -> Result<NewApiToken, ServiceError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(crate::domain::DomainError::new("name", "required").into());
        }
        if name.chars().count() > 100 {
            return Err(crate::domain::DomainError::new("name", "too_long").into());
        }
        let token = format!("crm_{}", crypto::random_token());
        let prefix: String = token.chars().take(12).collect();
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let id = api_tokens::insert(&mut tx, user, name, &crypto::token_hash(&token), &prefix).await?;
        audit::record(
            &mut tx,
            actor,
            audit::Entry { action: "created", entity: "api_token", entity_id: &id.to_string(), summary: name },
        )
        .await?;
        tx.commit().await?;
        Ok(NewApiToken { id, token })
    }

    pub async fn list_api_tokens(
        &self,
        principal: &Principal,
    ) -> Result<Vec<crate::domain::user::ApiToken>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, principal.tenant_id).await?;
        let tokens = api_tokens::list_for_user(&mut tx, principal.user_id).await?;
        tx.commit().await?;
        Ok(tokens)
    }

    /// Revokes one of the principal's own tokens.
    pub async fn revoke_api_token(&self, principal: &Principal, id: i64) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, principal.tenant_id).await?;
        let name = api_tokens::revoke(&mut tx, principal.user_id, id).await?;
        audit::record(
            &mut tx,
            &principal.actor(),
            audit::Entry { action: "revoked", entity: "api_token", entity_id: &id.to_string(), summary: &name },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets sessions that have ended (expired or idle too long), in every tenant.
    pub async fn purge_ended_sessions(&self) -> Result<i64, ServiceError> {
        Ok(auth::purge_ended_sessions(&self.pool, SESSION_IDLE).await?)
    }

    /// The tenant and user behind an email, for the command line.
    pub async fn account_by_email(&self, email: &str) -> Result<Option<(TenantId, UserId)>, ServiceError> {
        let account = auth::login_account(&self.pool, &email.trim().to_lowercase()).await?;
        Ok(account.map(|a| (a.tenant_id, a.user_id)))
    }
}

fn truncate(s: &str, max_chars: usize) -> &str {
    s.char_indices().nth(max_chars).map_or(s, |(i, _)| &s[..i])
}
