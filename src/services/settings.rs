//! The tenant's settings and exchange rates: read by everyone signed in to it, changed by admins
//! (SettingsManage).

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::currency::Currency;
use crate::domain::money::{Rate, RatesInput, rebase};
use crate::domain::settings::{SettingsInput, TenantSettings};
use crate::domain::{DomainError, DomainEvent, Permission, Principal};
use crate::events::EventBus;
use crate::repos::{audit, currency_rates, tenants};

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
        let mut changes = after.changes_from(&before);
        if after.base_currency != before.base_currency {
            // The rates were into the old base: seen from the new one now, or refused when
            // there is nothing to turn them with.
            let rates = currency_rates::list(&mut tx).await?;
            if !rates.is_empty() {
                let turned = rebase(&rates, before.base_currency, after.base_currency)
                    .ok_or(DomainError::new("base_currency", "base_currency_needs_rate"))?;
                currency_rates::replace(&mut tx, &turned).await?;
                changes.push(format!("rates: {}", summary(&turned)));
            }
        }
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

    /// The base currency and what one unit of each other currency is worth in it.
    pub async fn rates(&self, by: &Principal) -> Result<(Currency, Vec<(Currency, Rate)>), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let base = tenants::settings(&mut tx).await?.base_currency;
        let rates = currency_rates::list(&mut tx).await?;
        tx.commit().await?;
        Ok((base, rates))
    }

    /// Replaces the table of rates, checked whole; audited as it was and is.
    pub async fn set_rates(
        &self,
        by: &Principal,
        input: &RatesInput,
    ) -> Result<(Currency, Vec<(Currency, Rate)>), ServiceError> {
        self.authorize_manage(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let base = tenants::settings(&mut tx).await?.base_currency;
        let rates = input.parse(base)?;
        let before = currency_rates::list(&mut tx).await?;
        if before != rates {
            currency_rates::replace(&mut tx, &rates).await?;
            let entry = audit::Entry {
                action: "rates_changed",
                entity: "tenant",
                entity_id: &by.tenant_id.to_string(),
                summary: &format!("{} → {}", summary(&before), summary(&rates)),
            };
            audit::record(&mut tx, &by.actor(), entry).await?;
        }
        tx.commit().await?;
        if before != rates {
            self.events.publish(DomainEvent::SettingsChanged { tenant_id: by.tenant_id });
        }
        Ok((base, rates))
    }
}

/// Rates as an audit entry says them: `EUR 13700, USD 12500`, or `—` for none.
fn summary(rates: &[(Currency, Rate)]) -> String {
    if rates.is_empty() {
        return "—".to_owned();
    }
    rates.iter().map(|(c, r)| format!("{c} {}", r.as_string())).collect::<Vec<_>>().join(", ")
}
