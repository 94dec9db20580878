//! The tenant's settings: read by everyone signed in to it, changed by admins (SettingsManage).

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::settings::{SettingsInput, TenantSettings};
use crate::domain::{DomainEvent, Permission, Principal};
use crate::events::EventBus;
use crate::repos::{audit, tenants};

use super::ServiceError;

#[derive(Clone)]
pub struct SettingsService {
    pool: PgPool,
    events: EventBus,
}

impl SettingsService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// Whether `by` may change the settings (the page asks before it offers the form).
    pub fn authorize_manage(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::SettingsManage])
    }

    pub async fn get(&self, by: &Principal) -> Result<TenantSettings, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let settings = tenants::settings(&mut tx).await?;
        tx.commit().await?;
        Ok(settings)
    }

    /// Applies `input` whole or not at all; the change is audited field by field.
    pub async fn update(&self, by: &Principal, input: &SettingsInput) -> Result<TenantSettings, ServiceError> {
        self.authorize_manage(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let before = tenants::settings(&mut tx).await?;
        let after = before.with(input)?;
        let changes = after.changes_from(&before);
        if !changes.is_empty() {
            tenants::save_settings(&mut tx, &after).await?;
            let entry = audit::Entry {
                action: "settings_changed",
                entity: "tenant",
                entity_id: &by.tenant_id.to_string(),
                summary: &changes.join("; "),
            };
            audit::record(&mut tx, &by.actor(), entry).await?;
        }
        tx.commit().await?;
        if !changes.is_empty() {
            self.events.publish(DomainEvent::SettingsChanged { tenant_id: by.tenant_id });
        }
        Ok(after)
    }
}
