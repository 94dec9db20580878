//! The currency_rates table: what one unit of each currency is worth in the tenant's base.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::db::TenantTx;
use crate::domain::currency::Currency;
use crate::domain::money::Rate;

use super::RepoError;

/// The tenant's rates, by currency code.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<(Currency, Rate)>, RepoError> {
    let tenant = tx.tenant_id().0;
    let rows = sqlx::query!("SELECT currency, rate FROM currency_rates WHERE tenant_id = $1 ORDER BY currency", tenant)
        .fetch_all(tx.conn())
        .await?;
    rows.into_iter()
        .map(|r| {
            let corrupt = || RepoError::Corrupt(format!("currency rate {}: stored value refused", r.currency));
            Ok((Currency::from_str(&r.currency).map_err(|_| corrupt())?, Rate::new(r.rate).ok_or_else(corrupt)?))
        })
        .collect()
}

/// Replaces the whole table with `rates`.
pub async fn replace(tx: &mut TenantTx, rates: &[(Currency, Rate)]) -> Result<(), RepoError> {
    let tenant = tx.tenant_id().0;
    sqlx::query!("DELETE FROM currency_rates WHERE tenant_id = $1", tenant).execute(tx.conn()).await?;
    let codes: Vec<String> = rates.iter().map(|(c, _)| c.as_str().to_owned()).collect();
    let values: Vec<Decimal> = rates.iter().map(|(_, r)| r.value()).collect();
    sqlx::query!(
        "INSERT INTO currency_rates (tenant_id, currency, rate)
         SELECT $1, c, r FROM unnest($2::text[], $3::numeric[]) AS t (c, r)",
        tenant,
        &codes,
        &values
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
