//! Clients and their contacts: find, create, edit, archive; with audit entries and events.

use chrono::Utc;
use sqlx::PgPool;

use crate::db::TenantTx;
use crate::domain::DomainError;
use crate::domain::activity::{ActivityKind, FieldChange, NewActivity, field_changes};
use crate::domain::company::CompanyId;
use crate::domain::custom_field::FieldEntity;
use crate::domain::record::RecordRef;
use crate::domain::tag::Tagged;
use crate::domain::{
    Actor, Client, ClientFields, ClientId, ClientInput, ClientQuery, Contact, ContactId, ContactType, ContactValue,
    DomainEvent, HomeCountry, Permission, Principal, UserId,
};
use crate::events::EventBus;
use crate::repos::clients;
use crate::repos::{RepoError, audit, companies, tenants};

use super::{ServiceError, custom_fields, tags};

pub(crate) mod export;
mod merge;
mod retention;

pub use retention::{ClientExport, ExportedFile, ExportedMessage, RESTORABLE_FOR};

#[derive(Clone)]
pub struct ClientService {
    pool: PgPool,
    events: EventBus,
    /// Where the client's attachments are, to erase them with the client.
    files: super::FileStore,
}

/// A page of a client list, with each client's contacts for the badges.
pub struct ClientMatches {
    pub items: Vec<(Client, Vec<Contact>)>,
    pub total: crate::domain::client::Total,
}

impl ClientService {
    pub fn new(pool: PgPool, events: EventBus, files: super::FileStore) -> Self {
        Self { pool, events, files }
    }

    /// A transaction for `by`, and whose clients alone they reach (`None`: all of the
    /// tenant's). Under `record_visibility: own`, a non-admin reaches the clients they own and
    /// those whose chat is assigned to them.
    pub(super) async fn begin(&self, by: &Principal) -> Result<(TenantTx, Option<UserId>), ServiceError> {
        // Each use case requires its own permissions first.
        super::scoped(&self.pool, by, &[]).await
    }

    /// Whether `by` may create clients (a new client's form asks before it is shown).
    pub fn authorize_create(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::ClientCreate])
    }

    /// A live client as its editing forms start from, for one who may change clients.
    pub async fn get_for_edit(&self, by: &Principal, id: ClientId) -> Result<Client, ServiceError> {
        super::require(by, &[Permission::ClientUpdate])?;
        Ok(self.get(by, id).await?.0)
    }

    pub async fn list(&self, by: &Principal, query: &ClientQuery) -> Result<ClientMatches, ServiceError> {
        super::require(by, &[Permission::ClientRead])?;
        let (mut tx, scope) = self.begin(by).await?;
        let (clients, total) = match scope {
            None => clients::list(&mut tx, query).await?,
            Some(reader) => clients::list_visible(&mut tx, query, reader).await?,
        };
        let ids: Vec<ClientId> = clients.iter().map(|c| c.id).collect();
        let mut contacts = clients::contacts_of(&mut tx, &ids).await?;
        tx.commit().await?;
        let items = clients
            .into_iter()
            .map(|c| {
                let mine = contacts.extract_if(.., |k| k.client_id == c.id).collect();
                (c, mine)
            })
            .collect();
        Ok(ClientMatches { items, total })
    }

    /// A live client with its contacts.
    pub async fn get(&self, by: &Principal, id: ClientId) -> Result<(Client, Vec<Contact>), ServiceError> {
        super::require(by, &[Permission::ClientRead])?;
        let (mut tx, scope) = self.begin(by).await?;
        let client = clients::get(&mut tx, id).await?;
        reach(&mut tx, id, scope).await?;
        let contacts = clients::contacts(&mut tx, id).await?;
        tx.commit().await?;
        Ok((client, contacts))
    }

    /// Creates a client (and any contacts given with it) in one transaction. Every invalid
    /// field is reported at once; a phone or PIN another client has names that client.
    pub async fn create(
        &self,
        by: &Principal,
        input: &ClientInput,
        contacts: &[(String, String)],
    ) -> Result<ClientId, ServiceError> {
        self.authorize_create(by)?;
        let home = self.home_country(by).await?;
        // A colleague's new client is theirs unless the input names an owner (or none).
        let mut input = input.clone();
        if input.owner_id.is_none() {
            input.owner_id = Some(by.user_id.0.to_string());
        }
        let fields = ClientFields::parse(&input, Utc::now().date_naive(), home);
        let values = parse_contacts(contacts, home);
        let (fields, values) = match (fields, values) {
            (Ok(f), Ok(v)) => (f, v),
            (f, v) => {
                let mut errors = f.err().unwrap_or_default();
                errors.extend(v.err().unwrap_or_default());
                return Err(errors.into());
            }
        };
        self.insert(by, &fields, &values, &input).await
    }

    /// Where the tenant's numbers typed without a country code belong.
    async fn home_country(&self, by: &Principal) -> Result<Option<HomeCountry>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let home = tenants::default_country(&mut tx).await?;
        tx.commit().await?;
        Ok(home)
    }

    async fn insert(
        &self,
        by: &Principal,
        fields: &ClientFields,
        values: &[ContactValue],
        input: &ClientInput,
    ) -> Result<ClientId, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        if let Some(company) = fields.company_id {
            let scope = super::owner_scope(&mut tx, by).await?;
            company_exists(&mut tx, company, scope).await?;
        }
        super::check_record_owner(&mut tx, fields.owner_id).await?;
        let id = match insert_rows(&mut tx, fields, values).await {
            Ok(id) => id,
            Err(RepoError::Conflict { field }) => {
                return Err(self.duplicate(by, field, &unique_value(fields, field)).await);
            }
            Err(e) => return Err(e.into()),
        };
        let tagged = tags::put(&mut tx, by, Tagged::Client(id), input.tag_ids.as_deref()).await?;
        custom_fields::put(&mut tx, FieldEntity::Client, id.0, input.custom.as_ref(), true).await?;
        record_created(&mut tx, &by.actor(), id, &tagged.entry_for(&fields.full_name())).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ClientCreated { tenant_id: by.tenant_id, client_id: id });
        tagged.publish(&self.events, by.tenant_id);
        Ok(id)
    }

    /// Changes the fields present in `patch` (`Some("")` clears one; `None` leaves it) and
    /// its tags (when `patch.tag_ids` is given), checks the result as a whole, and returns the
    /// client as saved.
    pub async fn update(&self, by: &Principal, id: ClientId, patch: &ClientInput) -> Result<Client, ServiceError> {
        super::require(by, &[Permission::ClientUpdate])?;
        let (mut tx, scope) = self.begin(by).await?;
        let current = clients::get_for_update(&mut tx, id).await?;
        reach(&mut tx, id, scope).await?;
        let tagged = tags::put(&mut tx, by, Tagged::Client(id), patch.tag_ids.as_deref()).await?;
        let custom = custom_fields::put(&mut tx, FieldEntity::Client, id.0, patch.custom.as_ref(), false).await?;
        let also: Vec<String> = tagged.summary().into_iter().chain(custom).collect();
        let after = current.input().overlaid(patch);
        let also = (!also.is_empty()).then(|| also.join(", "));
        match update_client(&mut tx, &by.actor(), &current, &after, scope, also).await {
            Ok(false) => return Ok(current),
            Ok(true) => {}
            Err(UpdateError::Invalid(errors)) => return Err(errors.into()),
            Err(UpdateError::Taken { field, value }) => return Err(self.duplicate(by, field, &value).await),
            Err(UpdateError::Repo(e)) => return Err(e.into()),
        }
        let saved = clients::get(&mut tx, id).await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ClientUpdated { tenant_id: by.tenant_id, client_id: id });
        tagged.publish(&self.events, by.tenant_id);
        Ok(saved)
    }

    /// Archives the client: hidden from lists and search, kept for an admin to restore.
    pub async fn archive(&self, by: &Principal, id: ClientId) -> Result<(), ServiceError> {
        super::require(by, &[Permission::ClientDelete])?;
        let (mut tx, scope) = self.begin(by).await?;
        let client = clients::get_for_update(&mut tx, id).await?;
        reach(&mut tx, id, scope).await?;
        clients::archive(&mut tx, id).await?;
        audit::record(
            &mut tx,
            &by.actor(),
            audit::Entry {
                action: "archived",
                entity: "client",
                entity_id: &id.to_string(),
                summary: &client.full_name(),
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ClientDeleted { tenant_id: by.tenant_id, client_id: id });
        Ok(())
    }

    pub async fn contacts(&self, by: &Principal, client: ClientId) -> Result<Vec<Contact>, ServiceError> {
        super::require(by, &[Permission::ClientRead])?;
        let (mut tx, scope) = self.begin(by).await?;
        clients::get(&mut tx, client).await?;
        reach(&mut tx, client, scope).await?;
        let contacts = clients::contacts(&mut tx, client).await?;
        tx.commit().await?;
        Ok(contacts)
    }

    pub async fn add_contact(
        &self,
        by: &Principal,
        client: ClientId,
        kind: &str,
        value: &str,
    ) -> Result<Contact, ServiceError> {
        super::require(by, &[Permission::ClientUpdate])?;
        let kind = kind.parse::<ContactType>()?;
        let (mut tx, scope) = self.begin(by).await?;
        let value = ContactValue::parse_in(kind, value, tenants::default_country(&mut tx).await?)?;
        clients::get_for_update(&mut tx, client).await?;
        reach(&mut tx, client, scope).await?;
        let contact = clients::insert_contact(&mut tx, client, &value).await?;
        audit::record(
            &mut tx,
            &by.actor(),
            audit::Entry {
                action: "contact_added",
                entity: "client",
                entity_id: &client.to_string(),
                summary: value.as_str(),
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ClientUpdated { tenant_id: by.tenant_id, client_id: client });
        Ok(contact)
    }

    pub async fn remove_contact(
        &self,
        by: &Principal,
        client: ClientId,
        contact: ContactId,
    ) -> Result<(), ServiceError> {
        super::require(by, &[Permission::ClientUpdate])?;
        let (mut tx, scope) = self.begin(by).await?;
        clients::get_for_update(&mut tx, client).await?;
        reach(&mut tx, client, scope).await?;
        let removed = clients::delete_contact(&mut tx, client, contact).await?;
        audit::record(
            &mut tx,
            &by.actor(),
            audit::Entry {
                action: "contact_removed",
                entity: "client",
                entity_id: &client.to_string(),
                summary: &format!("{}: {}", removed.kind(), removed.value.as_str()),
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ClientUpdated { tenant_id: by.tenant_id, client_id: client });
        Ok(())
    }

    /// Names the client that already holds `value` of the unique `field`. One the reader may not see (`record_visibility: own`) is not named: the value is taken.
    async fn duplicate(&self, by: &Principal, field: &'static str, value: &str) -> ServiceError {
        let holder = async {
            let (mut tx, scope) = self.begin(by).await?;
            let mut found = clients::holder_of(&mut tx, field, value).await?;
            if let (Some((holder, _)), Some(reader)) = (&found, scope)
                && !clients::visible_to(&mut tx, *holder, reader).await?
            {
                found = None;
            }
            tx.commit().await?;
            Ok::<_, ServiceError>(found)
        };
        match holder.await {
            Ok(Some((existing, existing_name))) => ServiceError::Duplicate { field, existing, existing_name },
            Ok(None) => ServiceError::Conflict { field },
            Err(e) => e,
        }
    }
}

/// The writes of creating a client, inside `tx`: the client, its contacts (a value given twice
/// is kept once) and the audit entry. A phone or PIN another client has is a `Conflict`.
pub(super) async fn insert_client(
    tx: &mut TenantTx,
    actor: &Actor,
    fields: &ClientFields,
    values: &[ContactValue],
) -> Result<ClientId, RepoError> {
    let id = insert_rows(tx, fields, values).await?;
    record_created(tx, actor, id, &fields.full_name()).await?;
    Ok(id)
}

/// The client's row and its contacts' (a value given twice is kept once).
async fn insert_rows(tx: &mut TenantTx, fields: &ClientFields, values: &[ContactValue]) -> Result<ClientId, RepoError> {
    let id = clients::insert(tx, fields).await?;
    // A conflict would abort the transaction, so repeats are dropped before they are sent.
    for (i, value) in values.iter().enumerate() {
        if !values[..i].iter().any(|v| v.kind() == value.kind() && v.as_str() == value.as_str()) {
            clients::insert_contact(tx, id, value).await?;
        }
    }
    Ok(id)
}

async fn record_created(tx: &mut TenantTx, actor: &Actor, id: ClientId, summary: &str) -> Result<(), RepoError> {
    let entry = audit::Entry { action: "created", entity: "client", entity_id: &id.to_string(), summary };
    audit::record(tx, actor, entry).await?;
    timeline(tx, actor, id, ActivityKind::Created, String::new()).await
}

/// Puts what happened to client `id` on its timeline, in the change's transaction.
pub(super) async fn timeline(
    tx: &mut TenantTx,
    actor: &Actor,
    id: ClientId,
    kind: ActivityKind,
    summary: String,
) -> Result<(), RepoError> {
    crate::repos::activities::record(tx, &NewActivity::new(RecordRef::Client(id), kind, actor, summary)).await?;
    Ok(())
}

pub(super) enum UpdateError {
    Invalid(Vec<crate::domain::DomainError>),
    /// Another client has this phone or PIN.
    Taken {
        field: &'static str,
        value: String,
    },
    Repo(RepoError),
}

/// The value of `fields` that a unique `field` (`phone`, `pin`) refused.
pub(super) fn unique_value(fields: &ClientFields, field: &str) -> String {
    let value = match field {
        "phone" => fields.phone.as_ref().map(|p| p.as_str()),
        "pin" => fields.pin.as_ref().map(|p| p.as_str()),
        _ => None,
    };
    value.unwrap_or_default().to_owned()
}

/// The writes of editing a client locked in `tx`: `after` checked as a whole, saved and
/// audited with the names of the fields that changed (and `also`, what else the edit did:
/// its tags). `false`: nothing changed. A new company must be one the editor reaches
/// (`scope`, under `record_visibility: own`).
pub(super) async fn update_client(
    tx: &mut TenantTx,
    actor: &Actor,
    current: &Client,
    after: &ClientInput,
    scope: Option<UserId>,
    also: Option<String>,
) -> Result<bool, UpdateError> {
    let home = tenants::default_country(tx).await.map_err(UpdateError::Repo)?;
    let fields = ClientFields::parse(after, Utc::now().date_naive(), home).map_err(UpdateError::Invalid)?;
    let names = fields.changed_from(&current.fields);
    let mut changed: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let id = current.id;
    // Old → new for the timeline; ids (company, owner) are named, not spelled out.
    let (was, now) = (ClientInput::from(&current.fields), ClientInput::from(&fields));
    let shown = names.iter().filter(|n| !n.ends_with("_id")).map(|n| (*n, was.get(n), now.get(n)));
    let entry = field_changes(RecordRef::Client(id), actor, &FieldChange::between(shown), &{
        let mut rest: Vec<String> = names.iter().filter(|n| n.ends_with("_id")).map(|n| (*n).to_owned()).collect();
        rest.extend(also.clone());
        rest
    });
    if changed.is_empty() {
        let Some(also) = also else { return Ok(false) };
        let audit_entry =
            audit::Entry { action: "updated", entity: "client", entity_id: &id.to_string(), summary: &also };
        audit::record(tx, actor, audit_entry).await.map_err(UpdateError::Repo)?;
        crate::repos::activities::record(tx, &entry).await.map_err(UpdateError::Repo)?;
        return Ok(true);
    }
    changed.extend(also);
    if fields.owner_id != current.fields.owner_id {
        super::check_record_owner(tx, fields.owner_id).await.map_err(|e| match e {
            ServiceError::Repo(e) => UpdateError::Repo(e),
            _ => UpdateError::Invalid(vec![DomainError::new("owner_id", "unknown_user")]),
        })?;
    }
    if let Some(company) = fields.company_id.filter(|c| Some(*c) != current.fields.company_id) {
        company_exists(tx, company, scope).await.map_err(|e| match e {
            ServiceError::Repo(e) => UpdateError::Repo(e),
            _ => UpdateError::Invalid(vec![DomainError::new("company_id", "unknown_company")]),
        })?;
    }
    match clients::update(tx, id, &fields).await {
        Ok(()) => {}
        Err(RepoError::Conflict { field }) => {
            return Err(UpdateError::Taken { field, value: unique_value(&fields, field) });
        }
        Err(e) => return Err(UpdateError::Repo(e)),
    }
    let audit_entry =
        audit::Entry { action: "updated", entity: "client", entity_id: &id.to_string(), summary: &changed.join(", ") };
    audit::record(tx, actor, audit_entry).await.map_err(UpdateError::Repo)?;
    crate::repos::activities::record(tx, &entry).await.map_err(UpdateError::Repo)?;
    Ok(true)
}

/// `NotFound` unless the reader (when the tenant's visibility limits them) reaches client `id`.
pub(crate) async fn reach(tx: &mut TenantTx, id: ClientId, scope: Option<UserId>) -> Result<(), ServiceError> {
    match scope {
        Some(reader) if !clients::visible_to(tx, id, reader).await? => Err(ServiceError::NotFound),
        _ => Ok(()),
    }
}

/// Refuses (422 `company_id`) a company the tenant does not have, or the reader does not reach.
async fn company_exists(tx: &mut TenantTx, id: CompanyId, scope: Option<UserId>) -> Result<(), ServiceError> {
    match companies::get(tx, id, scope).await {
        Ok(_) => Ok(()),
        Err(RepoError::NotFound) => Err(DomainError::new("company_id", "unknown_company").into()),
        Err(e) => Err(e.into()),
    }
}

fn parse_contacts(
    raw: &[(String, String)],
    home: Option<HomeCountry>,
) -> Result<Vec<ContactValue>, Vec<crate::domain::DomainError>> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for (kind, value) in raw {
        match kind.parse::<ContactType>().and_then(|k| ContactValue::parse_in(k, value, home)) {
            Ok(v) => values.push(v),
            Err(e) => errors.push(crate::domain::DomainError::new("contacts", e.code)),
        }
    }
    if errors.is_empty() { Ok(values) } else { Err(errors) }
}
