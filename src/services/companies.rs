//! Companies: read with ClientRead, created, changed and deleted with the client permissions
//! (a company is a contact like a person). Under the tenant's `record_visibility: own`,
//! everyone but admins reaches only the companies they own: decided once per transaction by
//! `owner_scope`, and every read and write below goes through it. Each change is audited in
//! its transaction and announced.

use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::activity::{ActivityKind, FieldChange, NewActivity, field_changes};
use crate::domain::company::{Company, CompanyFilter, CompanyId, CompanyInput, Person};
use crate::domain::custom_field::FieldEntity;
use crate::domain::deal::{Deal, DealFilter, DealSort};
use crate::domain::record::RecordRef;
use crate::domain::tag::Tagged;
use crate::domain::{DomainEvent, Named, Permission, Principal, UserId};
use crate::events::EventBus;
use crate::repos::companies as repo;
use crate::repos::{RepoError, audit, deals, tenants, users};

use super::{ServiceError, custom_fields, tags};

#[derive(Clone)]
pub struct CompanyService {
    pool: PgPool,
    events: EventBus,
}

/// A page of a company list.
pub struct CompanyPage {
    pub companies: Vec<Company>,
    /// How many companies the list holds, exactly when `exact`, else at least this many.
    pub total: i64,
    pub exact: bool,
}

/// A company with the people who work there and its deals, as its page shows it.
pub struct CompanyView {
    pub company: Company,
    pub people: Vec<Person>,
    /// Its deals the reader may see, most recently changed first (at most `SHOWN`).
    pub deals: Vec<Deal>,
}

/// How many people and deals a company's page lists.
pub const SHOWN: i64 = 100;

impl CompanyService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events }
    }

    /// A transaction for `by`, and whose companies alone they reach (`None`: all).
    async fn begin(&self, by: &Principal, need: Permission) -> Result<(TenantTx, Option<UserId>), ServiceError> {
        super::scoped(&self.pool, by, &[need]).await
    }

    /// Refuses (`Forbidden`) unless `by` may create companies: for a form offered before
    /// anything is sent.
    pub fn may_create(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::ClientCreate])
    }

    pub async fn get(&self, by: &Principal, id: CompanyId) -> Result<Company, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientRead).await?;
        let company = repo::get(&mut tx, id, scope).await?;
        tx.commit().await?;
        Ok(company)
    }

    /// A company, and the people working there and deals with it that the reader may see.
    pub async fn view(&self, by: &Principal, id: CompanyId) -> Result<CompanyView, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientRead).await?;
        let company = repo::get(&mut tx, id, scope).await?;
        let people = repo::people(&mut tx, id, scope, SHOWN).await?;
        let deals = if by.can(Permission::DealRead) {
            let filter = DealFilter { company_id: Some(id), ..DealFilter::default() };
            deals::list(&mut tx, None, &filter, scope, DealSort::Updated, SHOWN, 0).await?.0
        } else {
            Vec::new()
        };
        tx.commit().await?;
        Ok(CompanyView { company, people, deals })
    }

    pub async fn list(
        &self,
        by: &Principal,
        filter: &CompanyFilter,
        limit: i64,
        offset: i64,
    ) -> Result<CompanyPage, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientRead).await?;
        let (companies, total, exact) = repo::list(&mut tx, filter, scope, limit, offset).await?;
        tx.commit().await?;
        Ok(CompanyPage { companies, total, exact })
    }

    /// Companies to pick from in a form, by name: those matching `q` (at most `limit`) and the
    /// one already chosen, whoever owns it (a record linked to it shows its name).
    pub async fn options(
        &self,
        by: &Principal,
        q: &str,
        chosen: Option<CompanyId>,
        limit: i64,
    ) -> Result<Vec<Named<CompanyId>>, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientRead).await?;
        let found = repo::options(&mut tx, q, scope, chosen, limit).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Who a company may belong to: the tenant's active users who may own records.
    pub async fn owners(&self, by: &Principal) -> Result<Vec<(UserId, String)>, ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::ClientRead).await?;
        let owners = users::record_owners(&mut tx, None).await?;
        tx.commit().await?;
        Ok(owners)
    }

    /// A new company, owned by its creator unless the input names an owner (or none).
    pub async fn create(&self, by: &Principal, input: &CompanyInput) -> Result<Company, ServiceError> {
        let (mut tx, _) = self.begin(by, Permission::ClientCreate).await?;
        let home = tenants::default_country(&mut tx).await?;
        let mut fields = input.apply(None, home)?;
        if input.owner_id.is_none() {
            fields.owner_id = Some(by.user_id);
        }
        super::check_record_owner(&mut tx, fields.owner_id).await?;
        let id = repo::insert(&mut tx, &fields).await?;
        let tagged = tags::put(&mut tx, by, Tagged::Company(id), input.tag_ids.as_deref()).await?;
        custom_fields::put(&mut tx, FieldEntity::Company, id.0, input.custom.as_ref(), true).await?;
        record(&mut tx, by, "created", id, &tagged.entry_for(&fields.name)).await?;
        timeline(&mut tx, by, id, ActivityKind::Created, String::new()).await?;
        let company = repo::get(&mut tx, id, None).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::CompanyCreated { tenant_id: by.tenant_id, company_id: id });
        tagged.publish(&self.events, by.tenant_id);
        Ok(company)
    }

    /// Changes what `input` names (an empty value clears a field), audited with the names of
    /// the fields that changed.
    pub async fn update(&self, by: &Principal, id: CompanyId, input: &CompanyInput) -> Result<Company, ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientUpdate).await?;
        // Locked first, then read within the reader's scope (404 outside it).
        repo::lock(&mut tx, id).await?;
        let before = repo::get(&mut tx, id, scope).await?;
        let home = tenants::default_country(&mut tx).await?;
        let fields = input.apply(Some(&before.fields), home)?;
        let names = fields.changed_from(&before.fields);
        let mut changed: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        if fields.owner_id != before.fields.owner_id {
            super::check_record_owner(&mut tx, fields.owner_id).await?;
        }
        let tagged = tags::put(&mut tx, by, Tagged::Company(id), input.tag_ids.as_deref()).await?;
        changed.extend(tagged.summary());
        changed.extend(custom_fields::put(&mut tx, FieldEntity::Company, id.0, input.custom.as_ref(), false).await?);
        if changed.is_empty() {
            return Ok(before);
        }
        repo::update(&mut tx, id, &fields).await?;
        record(&mut tx, by, "updated", id, &format!("{}: {}", fields.name, changed.join(", "))).await?;

        let company = repo::get(&mut tx, id, None).await?;
        // Old → new for the timeline; the owner by name; tags and custom values as the audit says.
        let (mut was, mut now) = (CompanyInput::from(&before.fields), CompanyInput::from(&fields));
        let texts: Vec<(&'static str, Option<String>, Option<String>)> = names
            .iter()
            .map(|n| match *n {
                "owner_id" => (
                    "owner",
                    before.owner.as_ref().map(|o| o.name.clone()),
                    company.owner.as_ref().map(|o| o.name.clone()),
                ),
                n => (n, was.field_mut(n).and_then(Option::take), now.field_mut(n).and_then(Option::take)),
            })
            .collect();
        let shown = FieldChange::between(texts.iter().map(|(f, a, b)| (*f, a.as_deref(), b.as_deref())));
        let rest: Vec<String> = changed.iter().skip(names.len()).cloned().collect();
        let entry = field_changes(RecordRef::Company(id), by.actor(), &shown, &rest);
        crate::repos::activities::record(&mut tx, &entry).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::CompanyUpdated { tenant_id: by.tenant_id, company_id: id });
        tagged.publish(&self.events, by.tenant_id);
        Ok(company)
    }

    /// Deletes a company; the people who worked there and its deals stay, unlinked.
    pub async fn delete(&self, by: &Principal, id: CompanyId) -> Result<(), ServiceError> {
        let (mut tx, scope) = self.begin(by, Permission::ClientDelete).await?;
        repo::lock(&mut tx, id).await?;
        let gone = repo::get(&mut tx, id, scope).await?;
        repo::delete(&mut tx, id).await?;
        record(&mut tx, by, "deleted", id, &gone.fields.name).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::CompanyDeleted { tenant_id: by.tenant_id, company_id: id });
        Ok(())
    }
}

async fn record(
    tx: &mut TenantTx,
    by: &Principal,
    action: &str,
    id: CompanyId,
    summary: &str,
) -> Result<(), RepoError> {
    let entry = audit::Entry { action, entity: "company", entity_id: &id.0.to_string(), summary };
    audit::record(tx, &by.actor(), entry).await
}

/// Puts what happened to company `id` on its timeline, in the change's transaction.
async fn timeline(
    tx: &mut TenantTx,
    by: &Principal,
    id: CompanyId,
    kind: ActivityKind,
    summary: String,
) -> Result<(), RepoError> {
    crate::repos::activities::record(tx, &NewActivity::new(RecordRef::Company(id), kind, by.actor(), summary)).await?;
    Ok(())
}
