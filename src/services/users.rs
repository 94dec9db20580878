//! Managing staff users: adding, roles, deactivation, and each user's own profile.

use sqlx::PgPool;

use crate::crypto::password;
use crate::db::TenantTx;
use crate::domain::channel::{ChannelId, ChannelKind};
use crate::domain::{
    Actor, DomainError, DomainEvent, Email, Locale, Password, Permission, PersonName, Principal, Role, TenantId, UserId,
};
use crate::events::EventBus;
use crate::repos::users::{self, User};
use crate::repos::{audit, sessions};

use super::ServiceError;

#[derive(Clone)]
pub struct UserService {
    pool: PgPool,
    events: EventBus,
}

/// How long a code to link Telegram with stays good.
pub const TELEGRAM_CODE_VALID: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Where a user stands with Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegramLink {
    /// Their notifications also go to their Telegram.
    Linked,
    /// Not linked; the tenant's bot `bot` (its username) can be linked to.
    Available { bot: String },
    /// The tenant has no Telegram bot to link to.
    NoBot,
}

/// What an admin types to add a user; parsed by `UserService::create`.
pub struct NewUserInput<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    pub role: &'a str,
}

/// A user as the users page lists them.
pub struct UserSummary {
    pub user: User,
    pub live_sessions: i64,
}

impl UserService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// Validates every field at once, so a form can show all its errors together.
    pub async fn create(
        &self,
        tenant: TenantId,
        actor: &Actor,
        input: NewUserInput<'_>,
    ) -> Result<UserId, ServiceError> {
        let email = Email::parse(input.email).map(|e| e.folded());
        let name = PersonName::parse(input.name);
        let pass = Password::parse(input.password);
        let role = input.role.parse::<Role>();
        let (email, name, pass, role) = match (email, name, pass, role) {
            (Ok(e), Ok(n), Ok(p), Ok(r)) => (e, n, p, r),
            (e, n, p, r) => {
                let errors: Vec<DomainError> = [e.err(), n.err(), p.err(), r.err()].into_iter().flatten().collect();
                return Err(errors.into());
            }
        };
        self.insert(tenant, actor, &email, &name, &pass, role).await
    }

    async fn insert(
        &self,
        tenant: TenantId,
        actor: &Actor,
        email: &Email,
        name: &PersonName,
        pass: &Password,
        role: Role,
    ) -> Result<UserId, ServiceError> {
        let hash = {
            let p = pass.expose().to_owned();
            tokio::task::spawn_blocking(move || password::hash(&p))
                .await
                .map_err(|e| ServiceError::Repo(crate::repos::RepoError::Corrupt(e.to_string())))?
        };
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let id = users::insert(&mut tx, users::NewUser { email, name, password_hash: &hash, role }).await?;
        audit::record(
            &mut tx,
            actor,
            audit::Entry {
                action: "created",
                entity: "user",
                entity_id: &id.to_string(),
                summary: &format!("{email} ({role})"),
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::UserCreated { tenant_id: tenant, user_id: id });
        Ok(id)
    }

    /// Adds a user to `by`'s tenant: `create` for one who may manage users.
    pub async fn add(&self, by: &Principal, input: NewUserInput<'_>) -> Result<UserId, ServiceError> {
        self.authorize_manage(by)?;
        self.create(by.tenant_id, &by.actor(), input).await
    }

    /// Whether `by` may manage the tenant's users (their forms ask before they are shown).
    pub fn authorize_manage(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::UserManage])
    }

    pub async fn list(&self, by: &Principal) -> Result<Vec<UserSummary>, ServiceError> {
        self.authorize_manage(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let all = users::list_with_session_counts(&mut tx).await?;
        tx.commit().await?;
        Ok(all.into_iter().map(|(user, live_sessions)| UserSummary { user, live_sessions }).collect())
    }

    /// Changes a user's role. The tenant always keeps at least one active admin.
    pub async fn change_role(&self, by: &Principal, id: UserId, role: &str) -> Result<(), ServiceError> {
        self.authorize_manage(by)?;
        let role = role.parse::<Role>()?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let admins = users::lock_active_admins(&mut tx).await?;
        let user = users::get_for_update(&mut tx, id).await?;
        if user.role == role {
            return Ok(());
        }
        if role != Role::Admin && admins == [id] {
            return Err(ServiceError::Refused { code: "last_admin" });
        }
        users::set_role(&mut tx, id, role).await?;
        audit::record(
            &mut tx,
            &by.actor(),
            audit::Entry {
                action: "role_changed",
                entity: "user",
                entity_id: &id.to_string(),
                summary: &format!("{}: {} → {}", user.email, user.role, role),
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::UserRoleChanged { tenant_id: by.tenant_id, user_id: id, role });
        Ok(())
    }

    /// Deactivating ends all of the user's sessions at once; their API tokens stop working too.
    pub async fn set_active(&self, by: &Principal, id: UserId, active: bool) -> Result<(), ServiceError> {
        self.authorize_manage(by)?;
        if !active && id == by.user_id {
            return Err(ServiceError::Refused { code: "deactivate_self" });
        }
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let admins = users::lock_active_admins(&mut tx).await?;
        let user = users::get_for_update(&mut tx, id).await?;
        if user.active == active {
            return Ok(());
        }
        if !active && admins == [id] {
            return Err(ServiceError::Refused { code: "last_admin" });
        }
        users::set_active(&mut tx, id, active).await?;
        if !active {
            sessions::delete_for_user(&mut tx, id, None).await?;
        }
        audit::record(
            &mut tx,
            &by.actor(),
            audit::Entry {
                action: if active { "reactivated" } else { "deactivated" },
                entity: "user",
                entity_id: &id.to_string(),
                summary: &user.email,
            },
        )
        .await?;
        tx.commit().await?;
        let (tenant_id, user_id) = (by.tenant_id, id);
        self.events.publish(if active {
            DomainEvent::UserReactivated { tenant_id, user_id }
        } else {
            DomainEvent::UserDeactivated { tenant_id, user_id }
        });
        Ok(())
    }

    /// Whether the user is marked away (not given new chats by round robin).
    pub async fn away(&self, me: &Principal) -> Result<bool, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        let away = users::away(&mut tx, me.user_id).await?;
        tx.commit().await?;
        Ok(away)
    }

    /// Where the user stands with Telegram: linked, or the bot they could link to (the
    /// username of the tenant's first enabled Telegram bot), or neither.
    pub async fn telegram(&self, me: &Principal) -> Result<TelegramLink, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        let linked = users::telegram_linked(&mut tx, me.user_id).await?;
        let bot = crate::repos::channels::list(&mut tx)
            .await?
            .into_iter()
            .filter(|c| c.enabled && c.kind == ChannelKind::Telegram)
            .find_map(|c| c.bot_username);
        tx.commit().await?;
        Ok(match (linked, bot) {
            (true, _) => TelegramLink::Linked,
            (false, Some(bot)) => TelegramLink::Available { bot },
            (false, None) => TelegramLink::NoBot,
        })
    }

    /// A one-time code for the user to send the tenant's bot as `/start CODE` (good for
    /// `TELEGRAM_CODE_VALID`), with the bot's username. `Refused` (409 `no_telegram_bot`) when
    /// the tenant has no bot.
    pub async fn telegram_code(&self, me: &Principal) -> Result<(String, String), ServiceError> {
        let TelegramLink::Available { bot } = self.telegram(me).await? else {
            return Err(ServiceError::Refused { code: "no_telegram_bot" });
        };
        let code = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        users::set_telegram_code(&mut tx, me.user_id, &code, TELEGRAM_CODE_VALID).await?;
        tx.commit().await?;
        Ok((code, bot))
    }

    /// Links the user whose live code `text` carries (`/start CODE`, as the bot of `channel`
    /// received it from Telegram chat `chat`), audited: the language to greet them in, or
    /// `None` when the text is no such code (a client's `/start`, then).
    pub async fn link_telegram(
        &self,
        tenant: TenantId,
        channel: ChannelId,
        text: &str,
        chat: i64,
    ) -> Result<Option<Locale>, ServiceError> {
        let Some(code) = text.trim().strip_prefix("/start ").map(str::trim).filter(|c| c.len() == 16) else {
            return Ok(None);
        };
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let Some((user, locale)) = users::link_telegram(&mut tx, code, channel, chat).await? else {
            return Ok(None);
        };
        let entry =
            audit::Entry { action: "telegram_linked", entity: "user", entity_id: &user.to_string(), summary: "" };
        audit::record(&mut tx, &Actor::System, entry).await?;
        tx.commit().await?;
        Ok(Some(locale.parse().unwrap_or_default()))
    }

    /// Unlinks the user's Telegram, audited; what was still to go there is called off.
    pub async fn unlink_telegram(&self, me: &Principal) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        users::unlink_telegram(&mut tx, me.user_id).await?;
        let entry = audit::Entry {
            action: "telegram_unlinked",
            entity: "user",
            entity_id: &me.user_id.to_string(),
            summary: &me.email,
        };
        audit::record(&mut tx, &me.actor(), entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the user away or available again, audited.
    pub async fn set_away(&self, me: &Principal, away: bool) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        if users::set_away(&mut tx, me.user_id, away).await? {
            let entry = audit::Entry {
                action: if away { "marked_away" } else { "marked_available" },
                entity: "user",
                entity_id: &me.user_id.to_string(),
                summary: &me.email,
            };
            audit::record(&mut tx, &me.actor(), entry).await?;
        }
        tx.commit().await?;
        self.events.publish(DomainEvent::ProfileUpdated { tenant_id: me.tenant_id, user_id: me.user_id });
        Ok(())
    }

    /// The user's own name and language.
    pub async fn update_profile(&self, me: &Principal, name: &str, locale: Option<Locale>) -> Result<(), ServiceError> {
        let name = PersonName::parse(name)?;
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        users::set_profile(&mut tx, me.user_id, &name, locale).await?;
        audit::record(
            &mut tx,
            &me.actor(),
            audit::Entry {
                action: "profile_updated",
                entity: "user",
                entity_id: &me.user_id.to_string(),
                summary: &me.email,
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ProfileUpdated { tenant_id: me.tenant_id, user_id: me.user_id });
        Ok(())
    }

    /// The language switch in the navigation: no audit entry, it is a display preference.
    pub async fn set_locale(&self, me: &Principal, locale: Option<Locale>) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        users::set_locale(&mut tx, me.user_id, locale).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the user's own password after checking the current one, and ends their other
    /// sessions (`keep_session` is the hash of the one making the change).
    pub async fn change_password(
        &self,
        me: &Principal,
        current: &str,
        new: &str,
        keep_session: Option<&[u8]>,
    ) -> Result<(), ServiceError> {
        let new = Password::parse(new).map_err(|e| DomainError::new("new_password", e.code))?;
        let mut tx = TenantTx::begin(&self.pool, me.tenant_id).await?;
        let stored = users::password_hash(&mut tx, me.user_id).await?;
        let (current, new_plain) = (current.to_owned(), new.expose().to_owned());
        let (ok, hash) =
            tokio::task::spawn_blocking(move || (password::verify(&current, &stored), password::hash(&new_plain)))
                .await
                .map_err(|e| ServiceError::Repo(crate::repos::RepoError::Corrupt(e.to_string())))?;
        if !ok {
            return Err(DomainError::new("current_password", "wrong_password").into());
        }
        users::set_password_hash(&mut tx, me.user_id, &hash).await?;
        sessions::delete_for_user(&mut tx, me.user_id, keep_session).await?;
        audit::record(
            &mut tx,
            &me.actor(),
            audit::Entry {
                action: "password_changed",
                entity: "user",
                entity_id: &me.user_id.to_string(),
                summary: &me.email,
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::SessionsEnded { tenant_id: me.tenant_id, user_id: me.user_id });
        Ok(())
    }

    /// Adds a user from the command line: `tenant` is the one named, or the only one.
    pub async fn create_from_cli(
        &self,
        tenant: TenantId,
        email: &str,
        name: &str,
        password: &str,
        role: &str,
    ) -> Result<UserId, ServiceError> {
        let email = Email::parse(email)?.folded();
        let name = PersonName::parse(name)?;
        let pass = Password::parse(password)?;
        let role = role.parse::<Role>()?;
        self.insert(tenant, &Actor::System, &email, &name, &pass, role).await
    }
}
