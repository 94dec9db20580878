//! The login_failures table: recent failed sign-ins, counted per account and per address.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::types::PgInterval;

use super::RepoError;

/// Failures within `window` for this email and for this address.
pub async fn count_recent(pool: &PgPool, email: &str, ip: &str, window: Duration) -> Result<(i64, i64), RepoError> {
    let window = PgInterval::try_from(window).map_err(|e| RepoError::Corrupt(e.to_string()))?;
    let row = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM login_failures WHERE email = $1 AND failed_at > now() - $3::interval) AS "by_email!",
             (SELECT count(*) FROM login_failures WHERE ip = $2 AND failed_at > now() - $3::interval) AS "by_ip!""#,
        email,
        ip,
        window
    )
    .fetch_one(pool)
    .await?;
    Ok((row.by_email, row.by_ip))
}

/// Records a failure, and forgets failures older than a day while at it.
pub async fn record(pool: &PgPool, email: &str, ip: &str) -> Result<(), RepoError> {
    let mut tx = pool.begin().await?;
    sqlx::query!("INSERT INTO login_failures (email, ip) VALUES ($1, $2)", email, ip).execute(&mut *tx).await?;
    sqlx::query!("DELETE FROM login_failures WHERE failed_at < now() - interval '1 day'").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A successful sign-in forgives the account's earlier failures (not the address's).
pub async fn clear_for_email(pool: &PgPool, email: &str) -> Result<(), RepoError> {
    sqlx::query!("DELETE FROM login_failures WHERE email = $1", email).execute(pool).await?;
    Ok(())
}
