//! The login_failures table: recent failed sign-ins, counted per account and per address.

use std::time::Duration;

use sqlx::PgPool;

use super::RepoError;

/// A sign-in let through the throttle, counted as a failure until it succeeds.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(i64);

/// The throttle's limits: failures within `window`, per account and per address.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub window: Duration,
    pub per_email: i64,
    pub per_ip: i64,
}

/// Counts this email's and address's recent failures and, under both limits, records this
/// sign-in as one more before its password is checked (`Ticket`); `None` past a limit. Count
/// and record happen under locks of the email and the address, so parallel attempts are let
/// through one at a time and the limit holds however many arrive at once. Forgets failures
/// older than a day while at it.
pub async fn admit(pool: &PgPool, email: &str, ip: &str, limits: Limits) -> Result<Option<Ticket>, RepoError> {
    let window = super::interval(limits.window)?;
    let mut tx = pool.begin().await?;
    // Always the email first, then the address: no two sign-ins wait on each other in a circle.
    sqlx::query_scalar!(
        r#"SELECT 1 AS "locked!" FROM (SELECT pg_advisory_xact_lock(hashtextextended('sign-in email ' || $1, 0)),
                                              pg_advisory_xact_lock(hashtextextended('sign-in address ' || $2, 0))) AS locks"#,
        email,
        ip
    )
    .fetch_one(&mut *tx)
    .await?;
    let counts = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM login_failures WHERE email = $1 AND failed_at > now() - $3::interval) AS "by_email!",
             (SELECT count(*) FROM login_failures WHERE ip = $2 AND failed_at > now() - $3::interval) AS "by_ip!""#,
        email,
        ip,
        window
    )
    .fetch_one(&mut *tx)
    .await?;
    if counts.by_email >= limits.per_email || counts.by_ip >= limits.per_ip {
        return Ok(None);
    }
    let id = sqlx::query_scalar!("INSERT INTO login_failures (email, ip) VALUES ($1, $2) RETURNING id", email, ip)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM login_failures WHERE failed_at < now() - interval '1 day'").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(Ticket(id)))
}

/// The sign-in succeeded: it was no failure, and it forgives the account's earlier failures
/// (not the address's).
pub async fn succeeded(pool: &PgPool, ticket: Ticket, email: &str) -> Result<(), RepoError> {
    sqlx::query!("DELETE FROM login_failures WHERE id = $1 OR email = $2", ticket.0, email).execute(pool).await?;
    Ok(())
}
