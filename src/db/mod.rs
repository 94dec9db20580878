//! Database access: where the database is (embedded or `DATABASE_URL`), migrations, the
//! application pool, and `TenantTx`, the transaction all tenant work runs in.

pub mod embedded;

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool, Postgres, Transaction};

use crate::domain::TenantId;
use embedded::{ClusterOptions, EmbeddedError, EmbeddedPostgres};

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The database that `crm serve` and the embedded default use.
pub const EMBEDDED_DATABASE: &str = "crm";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(#[source] sqlx::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("the embedded PostgreSQL task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Where the data lives: an external server, or the private cluster this process shares.
pub struct Database {
    owner: PgConnectOptions,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL` when given; otherwise starts (or joins) the embedded cluster
    /// under `data_dir` and makes sure its database exists.
    pub async fn locate(
        database_url: Option<&str>,
        data_dir: &std::path::Path,
        cluster: ClusterOptions,
    ) -> Result<Self, DbError> {
        if let Some(url) = database_url {
            let owner: PgConnectOptions = url.parse().map_err(DbError::BadUrl)?;
            return Ok(Self { owner, embedded: None });
        }
        let dir = data_dir.to_path_buf();
        let pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir, cluster)).await??;
        if let Err(e) = create_database_if_missing(pg.connect_options("postgres"), EMBEDDED_DATABASE).await {
            let _ = tokio::task::spawn_blocking(move || pg.stop()).await;
            return Err(e);
        }
        Ok(Self { owner: pg.connect_options(EMBEDDED_DATABASE), embedded: Some(pg) })
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Applies pending migrations as the database owner.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let mut conn = self.owner.connect().await.map_err(DbError::Connect)?;
        MIGRATOR.run(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    /// The pool every query of the application runs through, as the `crm_app` role that
    /// row-level security applies to.
    pub async fn app_pool(&self, max_connections: u32) -> Result<PgPool, DbError> {
        app_pool(self.owner.clone(), max_connections).await
    }

    /// Stops the embedded cluster if this process is in charge of it.
    pub async fn shutdown(self) {
        if let Some(pg) = self.embedded {
            match tokio::task::spawn_blocking(move || pg.stop()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "stopping the embedded PostgreSQL failed"),
                Err(e) => tracing::error!(error = %e, "stopping the embedded PostgreSQL panicked"),
            }
        }
    }
}

/// A pool whose connections all act as `crm_app`, subject to row-level security.
pub async fn app_pool(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, DbError> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("SET ROLE crm_app").await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

/// Creates `name` through a maintenance connection unless it exists.
pub async fn create_database_if_missing(maintenance: PgConnectOptions, name: &str) -> Result<(), DbError> {
    let mut conn = maintenance.connect().await.map_err(DbError::Connect)?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        conn.execute(format!("CREATE DATABASE {}", quote_ident(name)).as_str()).await?;
    }
    conn.close().await?;
    Ok(())
}

/// Quotes an identifier for the few statements (CREATE DATABASE) that cannot take parameters.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A transaction bound to one tenant: `app.tenant_id` is set before anything else runs, so
/// row-level security admits that tenant's rows only. Repositories take it on every method.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant_id: TenantId,
}

impl TenantTx {
    pub async fn begin(pool: &PgPool, tenant_id: TenantId) -> Result<Self, sqlx::Error> {
        let mut tx = pool.begin().await?;
        sqlx::query!("SELECT set_config('app.tenant_id', $1, true)", tenant_id.0.to_string())
            .fetch_one(&mut *tx)
            .await?;
        Ok(Self { tx, tenant_id })
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Marks a point to return to when one step of a long transaction fails (an import row):
    /// `rollback_to_savepoint` undoes the step and leaves the transaction usable.
    pub async fn savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("SAVEPOINT step").execute(&mut *self.tx).await.map(drop)
    }

    pub async fn rollback_to_savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("ROLLBACK TO SAVEPOINT step").execute(&mut *self.tx).await.map(drop)
    }

    pub async fn release_savepoint(&mut self) -> Result<(), sqlx::Error> {
        sqlx::query("RELEASE SAVEPOINT step").execute(&mut *self.tx).await.map(drop)
    }

    /// Waits for, then holds until the transaction ends, the tenant's lock named `key`:
    /// transactions that take the same key run their critical part one at a time.
    pub async fn lock(&mut self, key: &str) -> Result<(), sqlx::Error> {
        let key = format!("{}:{key}", self.tenant_id.0);
        sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
            .fetch_one(&mut *self.tx)
            .await
            .map(drop)
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}
