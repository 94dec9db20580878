//! Reading the audit log (writing happens inside each service's own transaction).

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::TenantId;
use crate::repos::audit::{self, AuditEntry};

use super::ServiceError;

#[derive(Clone)]
pub struct AuditService {
    pool: PgPool,
}

pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: i64,
    /// The entity kinds present in the log, for the filter.
    pub entities: Vec<String>,
}

impl AuditService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Newest first; `page` counts from 1.
    pub async fn list(
        &self,
        tenant: TenantId,
        entity: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> Result<AuditPage, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let (items, total) = audit::list(&mut tx, entity, per_page, (page.max(1) - 1) * per_page).await?;
        let entities = audit::entities(&mut tx).await?;
        tx.commit().await?;
        Ok(AuditPage { items, total, entities })
    }
}
