//! Tags: everyone who reads clients reads the tenant's tags; TagManage (admins) creates,
//! renames, recolours, locks and deletes them. Putting tags on a record is part of writing
//! that record (`put`, called by the record's service in its transaction, with the record's
//! own permission): any tag the tenant has, except that a locked tag is put on and taken off
//! by admins alone. Each change is audited in its transaction and announced.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::tag::{self, Tag, TagId, TagInput, TagUse, Tagged};
use crate::domain::{DomainError, DomainEvent, Permission, Principal, Role, TenantId};
use crate::events::EventBus;
use crate::repos::{RepoError, audit, tags as repo};

use super::{ServiceError, require};

#[derive(Clone)]
pub struct TagService {
    pool: PgPool,
    events: EventBus,
}

impl TagService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    async fn begin(&self, by: &Principal, need: Permission) -> Result<TenantTx, ServiceError> {
        require(by, &[need])?;
        Ok(TenantTx::begin(&self.pool, by.tenant_id).await?)
    }

    /// The tenant's tags, by name: to show, pick and filter by.
    pub async fn list(&self, by: &Principal) -> Result<Vec<Tag>, ServiceError> {
        let mut tx = self.begin(by, Permission::ClientRead).await?;
        let tags = repo::list(&mut tx).await?;
        tx.commit().await?;
        Ok(tags)
    }

    /// The tenant's tags with how many records carry each: the page that manages them.
    pub async fn usage(&self, by: &Principal) -> Result<Vec<TagUse>, ServiceError> {
        let mut tx = self.begin(by, Permission::TagManage).await?;
        let tags = repo::usage(&mut tx).await?;
        tx.commit().await?;
        Ok(tags)
    }

    pub async fn get(&self, by: &Principal, id: TagId) -> Result<Tag, ServiceError> {
        let mut tx = self.begin(by, Permission::ClientRead).await?;
        let tag = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(tag)
    }

    /// A new tag; 409 `name` when the tenant has one of that name in any case.
    pub async fn create(&self, by: &Principal, input: &TagInput) -> Result<Tag, ServiceError> {
        let mut tx = self.begin(by, Permission::TagManage).await?;
        let fields = input.apply(None)?;
        let id = repo::insert(&mut tx, &fields).await?;
        record(&mut tx, by, "created", id, fields.name.as_str()).await?;
        let tag = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TagCreated { tenant_id: by.tenant_id, tag_id: id });
        Ok(tag)
    }

    /// Renames, recolours, locks or unlocks a tag; the records that carry it keep it (they
    /// refer to it by id).
    pub async fn update(&self, by: &Principal, id: TagId, input: &TagInput) -> Result<Tag, ServiceError> {
        let mut tx = self.begin(by, Permission::TagManage).await?;
        let before = repo::get(&mut tx, id).await?;
        let fields = input.apply(Some(&before))?;
        let mut changed = Vec::new();
        if fields.name.as_str() != before.name {
            changed.push(format!("{} → {}", before.name, fields.name.as_str()));
        }
        if fields.color != before.color {
            changed.push(format!("color {}", fields.color.as_str()));
        }
        if fields.locked != before.locked {
            changed.push(if fields.locked { "locked" } else { "unlocked" }.to_owned());
        }
        if changed.is_empty() {
            return Ok(before);
        }
        repo::update(&mut tx, id, &fields).await?;
        record(&mut tx, by, "updated", id, &format!("{}: {}", before.name, changed.join(", "))).await?;
        let tag = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TagUpdated { tenant_id: by.tenant_id, tag_id: id });
        Ok(tag)
    }

    /// Deletes a tag: one statement takes it off every record that carries it.
    pub async fn delete(&self, by: &Principal, id: TagId) -> Result<(), ServiceError> {
        let mut tx = self.begin(by, Permission::TagManage).await?;
        let gone = repo::get(&mut tx, id).await?;
        repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "deleted", id, &gone.name).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::TagDeleted { tenant_id: by.tenant_id, tag_id: id });
        Ok(())
    }
}

/// What putting tags on a record changed: the tags added and taken off.
#[derive(Debug, Default)]
pub struct TagChange {
    record: Option<Tagged>,
    pub added: Vec<Tag>,
    pub removed: Vec<Tag>,
}

impl TagChange {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// A new record's audit entry: its `name`, then what tags it got (`Flat: tags +VIP`).
    pub fn entry_for(&self, name: &str) -> String {
        match self.summary() {
            Some(tags) => format!("{name}: {tags}"),
            None => name.to_owned(),
        }
    }

    /// For the record's audit entry: `tags +VIP −Cold`.
    pub fn summary(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let added = self.added.iter().map(|t| format!("+{}", t.name));
        let removed = self.removed.iter().map(|t| format!("−{}", t.name));
        Some(format!("tags {}", added.chain(removed).collect::<Vec<_>>().join(" ")))
    }

    /// Announces each tag put on or taken off; after the transaction commits.
    pub fn publish(self, events: &EventBus, tenant_id: TenantId) {
        let Some(on) = self.record else { return };
        for t in self.added {
            events.publish(DomainEvent::TagAdded { tenant_id, tag_id: t.id, on });
        }
        for t in self.removed {
            events.publish(DomainEvent::TagRemoved { tenant_id, tag_id: t.id, on });
        }
    }
}

/// Makes `record` carry exactly the tags `raw` names (ids as sent), in the caller's
/// transaction; `None` leaves its tags as they are. A tag the tenant does not have is 422
/// `tag_ids` (`unknown_tag`); a locked one put on or taken off by anyone but an admin is 422
/// `tag_ids` (`locked_tag`). The caller has checked `by` may write the record.
pub(crate) async fn put(
    tx: &mut TenantTx,
    by: &Principal,
    record: Tagged,
    raw: Option<&[String]>,
) -> Result<TagChange, ServiceError> {
    let Some(raw) = raw else { return Ok(TagChange::default()) };
    let wanted = tag::parse_tag_ids(raw)?;
    let known = repo::some(tx, &wanted).await?;
    if known.len() != wanted.len() {
        return Err(DomainError::new("tag_ids", "unknown_tag").into());
    }
    let current = repo::on(tx, record).await?;
    let current_ids: Vec<TagId> = current.iter().map(|t| t.id).collect();
    let (added, removed) = tag::difference(&current_ids, &wanted);
    let added: Vec<Tag> = known.into_iter().filter(|t| added.contains(&t.id)).collect();
    let removed: Vec<Tag> = current.into_iter().filter(|t| removed.contains(&t.id)).collect();
    if !may_touch_locked(by) && added.iter().chain(&removed).any(|t| t.locked) {
        return Err(DomainError::new("tag_ids", "locked_tag").into());
    }
    let ids = |tags: &[Tag]| tags.iter().map(|t| t.id).collect::<Vec<_>>();
    repo::change(tx, record, &ids(&added), &ids(&removed)).await?;
    Ok(TagChange { record: Some(record), added, removed })
}

/// Whether `by` may put a locked tag on a record or take it off: admins alone.
pub fn may_touch_locked(by: &Principal) -> bool {
    by.role == Role::Admin
}

async fn record(tx: &mut TenantTx, by: &Principal, action: &str, id: TagId, summary: &str) -> Result<(), RepoError> {
    let entry = audit::Entry { action, entity: "tag", entity_id: &id.0.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await
}
