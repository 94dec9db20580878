//! Creating tenants, each with its first admin.

use sqlx::PgPool;
use uuid::Uuid;

use crate::crypto::password;
use crate::db::TenantTx;
use crate::domain::{Actor, DomainEvent, Email, Password, PersonName, Role, TenantId, TenantName, UserId};
use crate::events::EventBus;
use crate::repos::auth::{self, TenantSummary};
use crate::repos::{audit, tenants, users};

use super::ServiceError;

#[derive(Clone)]
pub struct TenantService {
    pool: PgPool,
    events: EventBus,
}

pub struct NewTenant<'a> {
    pub name: &'a str,
    pub admin_email: &'a str,
    pub admin_name: &'a str,
    pub admin_password: &'a str,
}

impl TenantService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// Every tenant, oldest first (for the command line and first-run set-up).
    pub async fn list(&self) -> Result<Vec<TenantSummary>, ServiceError> {
        Ok(auth::list_tenants(&self.pool).await?)
    }

    /// Creates the tenant and its first admin in one transaction.
    pub async fn create(&self, input: NewTenant<'_>) -> Result<(TenantId, UserId), ServiceError> {
        let name = TenantName::parse(input.name)?;
        let email = Email::parse(input.admin_email)?.folded();
        let admin_name = PersonName::parse(input.admin_name)?;
        let password = Password::parse(input.admin_password)?;
        let hash = password::hash(password.expose());

        let tenant_id = TenantId(Uuid::new_v4());
        let mut tx = TenantTx::begin(&self.pool, tenant_id).await?;
        tenants::insert(&mut tx, &name).await?;
        let user_id = users::insert(
            &mut tx,
            users::NewUser { email: &email, name: &admin_name, password_hash: &hash, role: Role::Admin },
        )
        .await?;
        audit::record(
            &mut tx,
            &Actor::System,
            audit::Entry {
                action: "created",
                entity: "tenant",
                entity_id: &tenant_id.to_string(),
                summary: name.as_str(),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            &Actor::System,
            audit::Entry {
                action: "created",
                entity: "user",
                entity_id: &user_id.to_string(),
                summary: &format!("{email} (admin)"),
            },
        )
        .await?;
        // Every tenant starts with a sales pipeline (its language is English until changed).
        crate::repos::pipelines::insert_default(&mut tx, "en").await?;
        tx.commit().await?;

        self.events.publish(DomainEvent::TenantCreated { tenant_id });
        self.events.publish(DomainEvent::UserCreated { tenant_id, user_id });
        Ok((tenant_id, user_id))
    }
}
