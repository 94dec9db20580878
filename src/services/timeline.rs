//! Every record's timeline, read by whoever reads the record. Entries are written by the
//! services of the changes they tell of, in those changes' transactions (`repos::activities`).

use sqlx::PgPool;

use crate::domain::Principal;
use crate::domain::activity::{Activity, ActivityId, ActivityKind};
use crate::domain::record::RecordRef;
use crate::repos::activities;

use super::ServiceError;
use super::records::reach;

/// How many entries a page of a timeline holds.
pub const PAGE: i64 = 30;

#[derive(Clone)]
pub struct TimelineService {
    pool: PgPool,
}

impl TimelineService {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Up to `limit` of `on`'s entries older than `before`, newest first; of `kind` alone when given.
    pub async fn page(
        &self,
        by: &Principal,
        on: RecordRef,
        kind: Option<ActivityKind>,
        before: Option<ActivityId>,
        limit: i64,
    ) -> Result<Vec<Activity>, ServiceError> {
        let (mut tx, scope) = super::scoped(&self.pool, by, &[]).await?;
        reach(&mut tx, by, scope, on).await?;
        let found = activities::page(&mut tx, on, kind, before, limit).await?;
        tx.commit().await?;
        Ok(found)
    }
}
