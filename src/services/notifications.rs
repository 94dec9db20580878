//! Each user's notifications (the bell): read and marked read by their user alone. Other
//! services write them in their own transactions (`tell`) and announce them after commit.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::notification::{NewNotification, Notification, NotificationId};
use crate::domain::{DomainEvent, Principal, TenantId, UserId};
use crate::events::EventBus;
use crate::repos::notifications as repo;

use super::ServiceError;

/// The unread count shown stops here ("99+").
pub const UNREAD_CAP: i64 = 100;

#[derive(Clone)]
pub struct NotificationService {
    pool: PgPool,
    events: EventBus,
}

impl NotificationService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// The reader's own notifications older than `before`, newest first.
    pub async fn list(
        &self,
        by: &Principal,
        unread_only: bool,
        before: Option<NotificationId>,
        limit: i64,
    ) -> Result<Vec<Notification>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let found = repo::of(&mut tx, by.user_id, unread_only, before, limit).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// One of the reader's own notifications (another's is `NotFound`).
    pub async fn get(&self, by: &Principal, id: NotificationId) -> Result<Notification, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let found = repo::one(&mut tx, by.user_id, id).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// How many of the reader's notifications are unread (at most `UNREAD_CAP`).
    pub async fn unread(&self, by: &Principal) -> Result<i64, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let n = repo::unread(&mut tx, by.user_id, UNREAD_CAP).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Marks the reader's notifications `ids` read (all when `None`); another user's ids are
    /// left alone. Returns how many were unread.
    pub async fn mark_read(&self, by: &Principal, ids: Option<&[NotificationId]>) -> Result<u64, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let n = repo::mark_read(&mut tx, by.user_id, ids).await?;
        tx.commit().await?;
        if n > 0 {
            self.events.publish(DomainEvent::NotificationsChanged { tenant_id: by.tenant_id, user_id: by.user_id });
        }
        Ok(n)
    }
}

/// Writes `notes` in the caller's transaction; after it commits, `Told::publish` rings the bells.
pub(crate) async fn tell(tx: &mut TenantTx, notes: Vec<NewNotification>) -> Result<Told, ServiceError> {
    let mut told = Told { tenant_id: tx.tenant_id(), users: Vec::new() };
    for n in notes {
        repo::insert(tx, &n).await?;
        if !told.users.contains(&n.user_id) {
            told.users.push(n.user_id);
        }
    }
    Ok(told)
}

/// Who was told something in a transaction: announced once it commits.
#[must_use]
pub struct Told {
    tenant_id: TenantId,
    users: Vec<UserId>,
}

impl Told {
    pub fn publish(self, events: &EventBus) {
        for user_id in self.users {
            events.publish(DomainEvent::NotificationsChanged { tenant_id: self.tenant_id, user_id });
        }
    }
}
