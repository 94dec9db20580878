//! Custom fields: everyone who reads clients reads the definitions; FieldManage (admins)
//! makes, relabels, changes, removes and brings back fields, each audited and announced.
//! Writing a record's values is part of writing the record (`put`, called by the record's
//! service in its transaction, with the record's own permission).

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::custom_field::{
    self, CustomField, CustomValues, FieldEntity, FieldId, FieldInput, FieldKey, MAX_FIELDS, RESTORABLE_DAYS,
};
use crate::domain::{DomainError, DomainEvent, Permission, Principal};
use crate::events::EventBus;
use crate::repos::{RepoError, audit, custom_fields as repo, tenants};

use super::{ServiceError, require};

#[derive(Clone)]
pub struct CustomFieldService {
    pool: PgPool,
    events: EventBus,
}

/// How long a removed field may be brought back.
pub fn restorable_for() -> std::time::Duration {
    std::time::Duration::from_secs(RESTORABLE_DAYS as u64 * 86_400)
}

impl CustomFieldService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    async fn begin(&self, by: &Principal, need: Permission) -> Result<TenantTx, ServiceError> {
        require(by, &[need])?;
        Ok(TenantTx::begin(&self.pool, by.tenant_id).await?)
    }

    /// The live fields of `entity`, in order: what records show, take and are filtered by.
    pub async fn list(&self, by: &Principal, entity: FieldEntity) -> Result<Vec<CustomField>, ServiceError> {
        let mut tx = self.begin(by, Permission::ClientRead).await?;
        let fields = repo::list(&mut tx, entity, false).await?;
        tx.commit().await?;
        Ok(fields)
    }

    /// Every field of `entity`, removed ones too (to bring back): the page that manages them.
    pub async fn manage(&self, by: &Principal, entity: FieldEntity) -> Result<Vec<CustomField>, ServiceError> {
        let mut tx = self.begin(by, Permission::FieldManage).await?;
        let fields = repo::list(&mut tx, entity, true).await?;
        tx.commit().await?;
        Ok(fields)
    }

    pub async fn get(&self, by: &Principal, id: FieldId) -> Result<CustomField, ServiceError> {
        let mut tx = self.begin(by, Permission::ClientRead).await?;
        let field = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(field)
    }

    /// A new field. Without a key, one is made from the label (`contract_size`, then
    /// `contract_size_2`…); a key given and taken is 409 `key`.
    pub async fn create(&self, by: &Principal, input: &FieldInput) -> Result<CustomField, ServiceError> {
        let mut tx = self.begin(by, Permission::FieldManage).await?;
        let spec = input.apply(None)?;
        if repo::list(&mut tx, spec.entity, true).await?.len() >= MAX_FIELDS {
            return Err(DomainError::new("entity", "too_many_fields").into());
        }
        let key = match &spec.key {
            Some(key) => key.clone(),
            None => {
                let base = FieldKey::from_label(&spec.label);
                let mut key = base.clone();
                let mut n = 1;
                while repo::key_taken(&mut tx, spec.entity, &key).await? {
                    n += 1;
                    key = base.numbered(n);
                }
                key
            }
        };
        let id = repo::insert(&mut tx, &spec, &key).await?;
        record(&mut tx, by, "created", id, &format!("{} ({}, {})", spec.label, key.as_str(), spec.entity.as_str()))
            .await?;
        let field = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::FieldSaved { tenant_id: by.tenant_id, field_id: id });
        Ok(field)
    }

    /// Relabels a field, changes its options or whether it is required; values stay (they are
    /// kept by key). An option taken away stays on the records that hold it until changed.
    pub async fn update(&self, by: &Principal, id: FieldId, input: &FieldInput) -> Result<CustomField, ServiceError> {
        let mut tx = self.begin(by, Permission::FieldManage).await?;
        let before = repo::get(&mut tx, id).await?;
        let spec = input.apply(Some(&before))?;
        let mut changed = Vec::new();
        if spec.label != before.label {
            changed.push(format!("{} → {}", before.label, spec.label));
        }
        if spec.options != before.options {
            changed.push(format!("options {}", spec.options.join(" / ")));
        }
        if spec.required != before.required {
            changed.push(if spec.required { "required" } else { "optional" }.to_owned());
        }
        if changed.is_empty() {
            return Ok(before);
        }
        repo::update(&mut tx, id, &spec).await?;
        record(&mut tx, by, "updated", id, &format!("{}: {}", before.key, changed.join(", "))).await?;
        let field = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::FieldSaved { tenant_id: by.tenant_id, field_id: id });
        Ok(field)
    }

    /// Removes a field: hidden from records, lists and the API, its values kept for
    /// `RESTORABLE_DAYS` days in case it is brought back.
    pub async fn remove(&self, by: &Principal, id: FieldId) -> Result<(), ServiceError> {
        let mut tx = self.begin(by, Permission::FieldManage).await?;
        let field = repo::get(&mut tx, id).await?;
        repo::remove(&mut tx, id).await?;
        record(&mut tx, by, "removed", id, &format!("{} ({})", field.label, field.key)).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::FieldRemoved { tenant_id: by.tenant_id, field_id: id });
        Ok(())
    }

    /// Brings back a field removed less than `RESTORABLE_DAYS` days ago, with its values.
    pub async fn restore(&self, by: &Principal, id: FieldId) -> Result<CustomField, ServiceError> {
        let mut tx = self.begin(by, Permission::FieldManage).await?;
        let field = repo::get(&mut tx, id).await?;
        repo::restore(&mut tx, id, restorable_for()).await?;
        record(&mut tx, by, "restored", id, &format!("{} ({})", field.label, field.key)).await?;
        let field = repo::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::FieldSaved { tenant_id: by.tenant_id, field_id: id });
        Ok(field)
    }

    /// A list's filter by custom values (`custom.tier=Gold` as `("tier", "Gold")`), each value
    /// read as its field reads it ("gold" is the option "Gold"; "yes" is true). An empty value
    /// is no filter; a key no live field of `entity` has is 422 `custom.KEY`.
    pub async fn filter(
        &self,
        by: &Principal,
        entity: FieldEntity,
        raw: &[(String, String)],
    ) -> Result<CustomValues, ServiceError> {
        if raw.iter().all(|(_, v)| v.trim().is_empty()) {
            return Ok(CustomValues::new());
        }
        let fields = self.list(by, entity).await?;
        let mut filter = CustomValues::new();
        let mut errors = Vec::new();
        for (key, value) in raw.iter().filter(|(_, v)| !v.trim().is_empty()) {
            let Some(field) = fields.iter().find(|f| f.key == *key) else {
                errors.push(DomainError::new("custom", "unknown_field").at_key(key));
                continue;
            };
            match field.check(&serde_json::Value::String(value.clone()), None) {
                Ok(Some(v)) => {
                    filter.insert(key.clone(), v);
                }
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() { Ok(filter) } else { Err(errors.into()) }
    }

    /// Deletes fields removed longer than `RESTORABLE_DAYS` days ago, in every tenant, and
    /// their values (run by housekeeping).
    pub async fn purge_removed(&self) -> Result<i64, ServiceError> {
        Ok(repo::purge_removed(&self.pool, restorable_for()).await?)
    }
}

/// Lays `patch` over the custom values of record `id` of `entity`, in the caller's
/// transaction, every value checked against its field (`None`: nothing sent, values stay).
/// `creating`: the record is new, and every required field must have a value. Returns what
/// changed, for the record's audit entry (`custom tier, size`). The caller has checked `by`
/// may write the record.
pub(crate) async fn put(
    tx: &mut TenantTx,
    entity: FieldEntity,
    id: i64,
    patch: Option<&CustomValues>,
    creating: bool,
) -> Result<Option<String>, ServiceError> {
    // A new record's required fields are asked for even when it sends no custom value.
    let empty = CustomValues::new();
    let Some(patch) = patch.or(creating.then_some(&empty)) else { return Ok(None) };
    let fields = repo::list(tx, entity, false).await?;
    let current = repo::stored_values(tx, entity, id).await?;
    let home = tenants::default_country(tx).await?;
    let after = custom_field::apply_values(&fields, &current, patch, creating, home)?;
    let changed = custom_field::changed_keys(&current, &after);
    if changed.is_empty() {
        return Ok(None);
    }
    repo::set_values(tx, entity, id, &after).await?;
    Ok(Some(format!("custom {}", changed.join(", "))))
}

async fn record(tx: &mut TenantTx, by: &Principal, action: &str, id: FieldId, summary: &str) -> Result<(), RepoError> {
    let entry = audit::Entry { action, entity: "custom_field", entity_id: &id.0.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await
}
