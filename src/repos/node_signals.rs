//! PostgreSQL's LISTEN/NOTIFY on the `crm_events` channel: how app nodes tell each other what
//! they published (`events::relay`).

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::RepoError;

const CHANNEL: &str = "crm_events";

/// Sends `payload` (at most 8,000 bytes) to every node listening.
pub async fn notify(pool: &PgPool, payload: &str) -> Result<(), RepoError> {
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, payload).execute(pool).await?;
    Ok(())
}

/// A connection of its own that hears every node's payloads (it reconnects by itself).
pub async fn listen(pool: &PgPool) -> Result<PgListener, RepoError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
