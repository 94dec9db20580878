//! Reading the audit log (writing happens inside each service's own transaction).

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::audit::AuditEntry;
use crate::domain::{Permission, Principal};
use crate::repos::audit;

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
    /// For those who manage users (the audit log says who did what).
    pub async fn list(
        &self,
        by: &Principal,
        entity: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> Result<AuditPage, ServiceError> {
        super::require(by, &[Permission::UserManage])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let (items, total) = audit::list(&mut tx, entity, per_page, (page.max(1) - 1) * per_page).await?;
        let entities = audit::entities(&mut tx).await?;
        tx.commit().await?;
        Ok(AuditPage { items, total, entities })
    }

    /// What happened lately, without the routine (each message sent): Home's glance.
    pub async fn recent(&self, by: &Principal, limit: i64) -> Result<Vec<AuditEntry>, ServiceError> {
        super::require(by, &[Permission::UserManage])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let items = audit::recent(&mut tx, &["message_sent"], limit).await?;
        tx.commit().await?;
        Ok(items)
    }
}
