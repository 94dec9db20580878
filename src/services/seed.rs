//! Fills a database with generated tenants and clients, for benchmarks and demos.

use sqlx::PgPool;

use crate::crypto;
use crate::db::TenantTx;
use crate::domain::TenantId;
use crate::events::EventBus;
use crate::repos::seed;

use super::ServiceError;
use super::tenants::{NewTenant, TenantService};

/// Phones are `+99890` and seven digits, so a tenant holds at most this many seeded clients.
pub const MAX_CLIENTS_PER_TENANT: i64 = 9_999_999;
const BATCH: i64 = 50_000;

pub struct SeededTenant {
    pub id: TenantId,
    pub admin_email: String,
    pub admin_password: String,
}

#[derive(Clone)]
pub struct SeedService {
    pool: PgPool,
    tenants: TenantService,
}

impl SeedService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { tenants: TenantService::new(pool.clone(), events), pool }
    }

    /// Ends a seed: the planner's statistics gathered on what was written (autovacuum would
    /// take minutes to come round, and queries planned meanwhile are planned for empty tables).
    pub async fn analyze(&self) -> Result<(), ServiceError> {
        Ok(seed::analyze(&self.pool).await?)
    }

    /// Gives the first `chats` clients of `tenant` a conversation of `per_chat` messages each,
    /// in batches, calling `progress(chats done, total)` after each.
    pub async fn chats(
        &self,
        tenant: crate::domain::TenantId,
        chats: i64,
        per_chat: i32,
        mut progress: impl FnMut(i64, i64),
    ) -> Result<u64, ServiceError> {
        let per_batch = (50_000 / i64::from(per_chat.max(1))).max(1);
        let (mut done, mut messages) = (0, 0);
        while done < chats {
            let count = per_batch.min(chats - done);
            let mut tx = TenantTx::begin(&self.pool, tenant).await?;
            messages += seed::chats(&mut tx, done, count, per_chat).await?;
            tx.commit().await?;
            done += count;
            progress(done, chats);
        }
        Ok(messages)
    }

    /// Gives `tenant`'s first pipeline `deals` deals, in batches, calling `progress(done, total)`
    /// after each, and tags some of them (`deal_tags`).
    pub async fn deals(
        &self,
        tenant: TenantId,
        deals: i64,
        mut progress: impl FnMut(i64, i64),
    ) -> Result<u64, ServiceError> {
        let mut done = 0;
        while done < deals {
            let count = BATCH.min(deals - done);
            let mut tx = TenantTx::begin(&self.pool, tenant).await?;
            seed::deals(&mut tx, done + 1, count).await?;
            tx.commit().await?;
            done += count;
            progress(done, deals);
        }
        self.deal_tags(tenant).await?;
        Ok(done as u64)
    }

    /// Puts the seed's tags (Referral on one deal in 5, Hot on one in 10, VIP on one in 100)
    /// on `tenant`'s deals that do not carry them yet; makes the tags first if need be.
    pub async fn deal_tags(&self, tenant: TenantId) -> Result<u64, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let written = seed::deal_tags(&mut tx).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Puts the seed's tags (Referral on one client in 5, VIP on one in 100, Partner on one in
    /// 1,000) on `tenant`'s clients that do not carry them yet; makes the tags first if need be.
    pub async fn client_tags(&self, tenant: TenantId) -> Result<u64, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let written = seed::client_tags(&mut tx).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Gives `tenant`'s clients without one a `tier` (a select field made first if need be:
    /// Platinum for 1 in 100, Gold 9, Silver 30, Bronze 60).
    pub async fn client_tiers(&self, tenant: TenantId) -> Result<u64, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let written = seed::client_tiers(&mut tx).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Creates `tenants` tenants, each with an admin and `clients` clients (some of them
    /// tagged: `client_tags`; each with a tier: `client_tiers`), committing in batches and calling `progress(done, total)` after
    /// each.
    pub async fn run(
        &self,
        tenants: usize,
        clients: i64,
        mut progress: impl FnMut(i64, i64),
    ) -> Result<Vec<SeededTenant>, ServiceError> {
        if !(0..=MAX_CLIENTS_PER_TENANT).contains(&clients) {
            return Err(crate::domain::DomainError::new("clients", "too_many").into());
        }
        let total = clients * tenants as i64;
        let mut done = 0;
        let mut seeded = Vec::with_capacity(tenants);
        for _ in 0..tenants {
            let tag = &crypto::random_token()[..8].to_lowercase().replace(['-', '_'], "x");
            let admin_email = format!("admin@seed-{tag}.example");
            let admin_password = crypto::random_token()[..16].to_owned();
            let (id, _) = self
                .tenants
                .create(NewTenant {
                    name: &format!("Seed {tag}"),
                    admin_email: &admin_email,
                    admin_name: "Seed Admin",
                    admin_password: &admin_password,
                })
                .await?;
            let mut next = 1;
            while next <= clients {
                let count = BATCH.min(clients - next + 1);
                let mut tx = TenantTx::begin(&self.pool, id).await?;
                seed::clients(&mut tx, next, count).await?;
                tx.commit().await?;
                next += count;
                done += count;
                progress(done, total);
            }
            self.client_tags(id).await?;
            self.client_tiers(id).await?;
            seeded.push(SeededTenant { id, admin_email, admin_password });
        }
        Ok(seeded)
    }
}
