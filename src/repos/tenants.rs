//! The tenants table.

use crate::db::TenantTx;
use crate::domain::settings::TenantSettings;
use crate::domain::{HomeCountry, TenantName};

use super::RepoError;

/// Inserts the tenant the transaction is bound to.
pub async fn insert(tx: &mut TenantTx, name: &TenantName) -> Result<(), RepoError> {
    let id = tx.tenant_id().0;
    sqlx::query!("INSERT INTO tenants (id, name) VALUES ($1, $2)", id, name.as_str()).execute(tx.conn()).await?;
    Ok(())
}

/// The settings of the transaction's tenant.
pub async fn settings(tx: &mut TenantTx) -> Result<TenantSettings, RepoError> {
    let tenant = tx.tenant_id().0;
    let r = sqlx::query!(
        "SELECT name, default_country, base_currency, locale, time_zone, auto_assign, record_visibility
         FROM tenants WHERE id = $1",
        tenant
    )
    .fetch_one(tx.conn())
    .await?;
    let corrupt = |field: &str| RepoError::Corrupt(format!("tenant {tenant}: {field}"));
    Ok(TenantSettings {
        name: TenantName::parse(&r.name).map_err(|_| corrupt("name"))?,
        default_country: r.default_country.map(|c| c.parse()).transpose().map_err(|_| corrupt("default_country"))?,
        base_currency: r.base_currency.parse().map_err(|_| corrupt("base_currency"))?,
        locale: r.locale.parse().map_err(|_| corrupt("locale"))?,
        time_zone: r.time_zone.parse().map_err(|_| corrupt("time_zone"))?,
        auto_assign: r.auto_assign.parse().map_err(|_| corrupt("auto_assign"))?,
        record_visibility: r.record_visibility.parse().map_err(|_| corrupt("record_visibility"))?,
    })
}

/// Writes the settings of the transaction's tenant.
pub async fn save_settings(tx: &mut TenantTx, s: &TenantSettings) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!(
        "UPDATE tenants SET name = $2, default_country = $3, base_currency = $4, locale = $5, auto_assign = $6,
                record_visibility = $7, time_zone = $8
         WHERE id = $1",
        tenant,
        s.name.as_str(),
        s.default_country.map(|c| c.code()),
        s.base_currency.as_str(),
        s.locale.as_str(),
        s.auto_assign.as_str(),
        s.record_visibility.as_str(),
        s.time_zone.as_str(),
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Where the tenant's numbers typed without a country code belong (a client's form, an import).
pub async fn default_country(tx: &mut TenantTx) -> Result<Option<HomeCountry>, RepoError> {
    Ok(settings(tx).await?.default_country)
}
