//! One import run: rows read in batches of `BATCH`, each batch's clients, contacts, audit
//! entries, report lines and counters written in one transaction, only while the run still
//! holds its token; conflicts with other writers retried row by row.

use std::collections::HashMap;

use chrono::Utc;

use crate::db::TenantTx;
use crate::domain::client::import::{Counts, Issue};
use crate::domain::client::import::{Duplicates, Mapping, Row};
use crate::domain::custom_field::{self, CustomField, CustomValues, FieldEntity};
use crate::domain::{Actor, ClientFields, ClientId, ClientInput, ContactValue, DomainError, DomainEvent, HomeCountry};
use crate::repos::client_imports::Claim;
use crate::repos::{RepoError, audit, clients, custom_fields};
use crate::services::ServiceError;
use crate::services::clients::{UpdateError, insert_client, unique_value, update_client};

/// One run in progress.
pub(super) struct Run {
    pub(super) claim: Claim,
    pub(super) actor: Actor,
    pub(super) mapping: Mapping,
    pub(super) duplicates: Duplicates,
    pub(super) dry_run: bool,
    pub(super) counts: Counts,
    /// The line of the first row of this run with each phone (`p:`), email (`e:`) and PIN
    /// (`n:`) that is to become a new client: rows a dry run never writes, and rows of this
    /// batch not written yet.
    pub(super) seen: HashMap<String, u32>,
    /// Where numbers without a country code belong (the tenant's setting).
    pub(super) home: Option<HomeCountry>,
    /// The tenant's live custom fields of clients: what mapped custom columns are checked by.
    pub(super) fields: Vec<CustomField>,
}

/// A row that is to become a new client.
struct NewClient {
    line: u32,
    fields: ClientFields,
    contacts: Vec<ContactValue>,
    custom: CustomValues,
}

/// What one batch produced: its report lines, the events to publish after commit, and the
/// new clients not inserted yet.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) issues: Vec<Issue>,
    pub(super) events: Vec<DomainEvent>,
    pending: Vec<NewClient>,
}

fn issue(line: u32, field: Option<&str>, code: &str) -> Issue {
    Issue {
        row_no: line as i32,
        field: field.map(str::to_owned),
        code: code.to_owned(),
        client_id: None,
        same_as_row: None,
    }
}

/// The keys a row is a duplicate by: its phone and its email.
fn keys(fields: &ClientFields) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(p) = &fields.phone {
        keys.push(format!("p:{}", p.as_str()));
    }
    if let Some(e) = &fields.email {
        keys.push(format!("e:{}", e.folded().as_str()));
    }
    keys
}

impl Run {
    pub(super) fn remember(&mut self, fields: &ClientFields, line: u32) {
        let pin = fields.pin.as_ref().map(|p| format!("n:{}", p.as_str()));
        for key in keys(fields).into_iter().chain(pin) {
            self.seen.entry(key).or_insert(line);
        }
    }

    /// One row as a valid client, or every reason it is not. Its custom values come back
    /// checked and canonical in the input's `custom` (whether the new client lacks a required
    /// one is known only once the row is known to make one).
    pub(super) fn parse(&self, row: &Row) -> Result<(ClientInput, ClientFields, Vec<ContactValue>), Vec<DomainError>> {
        let (mut input, raw_contacts) = self.mapping.row(&row.cells);
        let fields = ClientFields::parse(&input, Utc::now().date_naive(), self.home);
        let mut errors: Vec<DomainError> = fields.as_ref().err().cloned().unwrap_or_default();
        if let Some(raw) = &input.custom {
            match custom_field::apply_values(&self.fields, &CustomValues::new(), raw, false, self.home) {
                Ok(values) => input.custom = Some(values),
                Err(refused) => errors.extend(refused),
            }
        }
        let mut contacts = Vec::new();
        for (kind, raw) in &raw_contacts {
            match ContactValue::parse_in(*kind, raw, self.home) {
                Ok(v) => contacts.push(v),
                Err(e) => errors.push(DomainError::new(contact_field(*kind), e.code)),
            }
        }
        match fields {
            Ok(fields) if errors.is_empty() => Ok((input, fields, contacts)),
            _ => Err(errors),
        }
    }

    /// Reads a batch of rows and writes it: one look-up of the duplicates and PINs of all its
    /// rows, new clients inserted together, merges one by one. A dry run writes nothing.
    pub(super) async fn batch(&mut self, tx: &mut TenantTx, rows: &[Row]) -> Result<Batch, ServiceError> {
        let mut out = Batch::default();
        let mut valid = Vec::new();
        for row in rows {
            self.counts.rows_done += 1;
            match self.parse(row) {
                Ok(parsed) => valid.push((row.line, parsed)),
                Err(errors) => {
                    out.issues.extend(errors.iter().map(|e| issue(row.line, Some(&e.path()), e.code)));
                    self.counts.failed += 1;
                }
            }
        }
        let (mut phones, mut emails, mut pins) = (Vec::new(), Vec::new(), Vec::new());
        for (_, (_, fields, _)) in &valid {
            phones.extend(fields.phone.as_ref().map(|p| p.as_str().to_owned()));
            emails.extend(fields.email.as_ref().map(|e| e.folded().as_str().to_owned()));
            pins.extend(fields.pin.as_ref().map(|p| p.as_str().to_owned()));
        }
        let mut existing: HashMap<String, (ClientId, bool)> = HashMap::new();
        for (key, id, archived) in clients::find_duplicates(tx, &phones, &emails).await? {
            // A live client is the duplicate rather than an archived one with the same key.
            let held = existing.entry(key).or_insert((id, archived));
            if held.1 && !archived {
                *held = (id, archived);
            }
        }
        let holders: HashMap<String, ClientId> = clients::pin_holders(tx, &pins).await?.into_iter().collect();

        for (line, (input, fields, contacts)) in valid {
            let row_keys = keys(&fields);
            if let Some(&(id, archived)) = row_keys.iter().find_map(|k| existing.get(k)) {
                match self.duplicates {
                    Duplicates::Skip => {
                        out.issues.push(Issue { client_id: Some(id), ..issue(line, None, "duplicate") });
                        self.counts.skipped += 1;
                    }
                    Duplicates::Merge if archived => {
                        out.issues.push(Issue { client_id: Some(id), ..issue(line, None, "duplicate_archived") });
                        self.counts.failed += 1;
                    }
                    Duplicates::Merge => {
                        self.flush(tx, &mut out).await?;
                        if self.merge(tx, id, line, &input, &contacts, &mut out).await? {
                            // What the merge wrote is what later rows of the batch may repeat.
                            let merged = clients::get(tx, id).await?;
                            existing.extend(keys(&merged.fields).into_iter().map(|k| (k, (id, false))));
                        }
                    }
                }
                continue;
            }
            if let Some(&first) = row_keys.iter().find_map(|k| self.seen.get(k)) {
                // An earlier row of this run that is not in the database (yet).
                match self.duplicates {
                    Duplicates::Skip => {
                        out.issues
                            .push(Issue { same_as_row: Some(first as i32), ..issue(line, None, "duplicate_row") });
                        self.counts.skipped += 1;
                    }
                    Duplicates::Merge if self.dry_run => {
                        out.issues
                            .push(Issue { same_as_row: Some(first as i32), ..issue(line, None, "duplicate_row") });
                        self.counts.merged += 1;
                    }
                    Duplicates::Merge => {
                        self.flush(tx, &mut out).await?;
                        let found = clients::find_duplicates(tx, &phones_of(&fields), &emails_of(&fields)).await?;
                        match found.iter().min_by_key(|(_, _, archived)| *archived) {
                            Some(&(_, id, _)) => {
                                self.merge(tx, id, line, &input, &contacts, &mut out).await?;
                            }
                            None => {
                                // The earlier row failed when written after all.
                                out.issues.push(Issue {
                                    same_as_row: Some(first as i32),
                                    ..issue(line, None, "duplicate_row")
                                });
                                self.counts.failed += 1;
                            }
                        }
                    }
                }
                continue;
            }
            if let Some(pin) = &fields.pin {
                if let Some(holder) = holders.get(pin.as_str()) {
                    out.issues.push(Issue { client_id: Some(*holder), ..issue(line, Some("pin"), "pin_taken") });
                    self.counts.failed += 1;
                    continue;
                }
                if let Some(&first) = self.seen.get(&format!("n:{}", pin.as_str())) {
                    out.issues.push(Issue { same_as_row: Some(first as i32), ..issue(line, Some("pin"), "pin_taken") });
                    self.counts.failed += 1;
                    continue;
                }
            }
            let custom = input.custom.clone().unwrap_or_default();
            let lacking: Vec<&CustomField> =
                self.fields.iter().filter(|f| f.required && !custom.contains_key(&f.key)).collect();
            if !lacking.is_empty() {
                out.issues.extend(lacking.iter().map(|f| issue(line, Some(&format!("custom.{}", f.key)), "required")));
                self.counts.failed += 1;
                continue;
            }
            self.remember(&fields, line);
            self.counts.created += 1;
            // A new client is its importer's, as one made by hand is its maker's.
            let mut fields = fields;
            if let Actor::User { id, .. } = &self.actor {
                fields.owner_id = Some(*id);
            }
            out.pending.push(NewClient { line, fields, contacts, custom });
        }
        self.flush(tx, &mut out).await?;
        Ok(out)
    }

    /// Inserts the pending new clients, their contacts and audit entries, a few statements for
    /// all. If another user took one of their phones or PINs meanwhile, they go one by one and
    /// only that row fails.
    async fn flush(&mut self, tx: &mut TenantTx, out: &mut Batch) -> Result<(), ServiceError> {
        let pending = std::mem::take(&mut out.pending);
        if pending.is_empty() || self.dry_run {
            return Ok(());
        }
        let tenant_id = self.claim.tenant_id;
        tx.savepoint().await?;
        match self.insert_all(tx, &pending).await {
            Ok(ids) => {
                tx.release_savepoint().await?;
                out.events.extend(ids.into_iter().map(|client_id| DomainEvent::ClientCreated { tenant_id, client_id }));
            }
            Err(RepoError::Conflict { .. }) => {
                tx.rollback_to_savepoint().await?;
                for c in pending {
                    tx.savepoint().await?;
                    let inserted = match insert_client(tx, &self.actor, &c.fields, &c.contacts).await {
                        Ok(id) => custom_fields::set_values(tx, FieldEntity::Client, id.0, &c.custom).await.map(|_| id),
                        Err(e) => Err(e),
                    };
                    match inserted {
                        Ok(client_id) => {
                            tx.release_savepoint().await?;
                            out.events.push(DomainEvent::ClientCreated { tenant_id, client_id });
                        }
                        Err(RepoError::Conflict { field }) => {
                            let holder = holder_after_conflict(tx, field, &unique_value(&c.fields, field)).await?;
                            tx.release_savepoint().await?;
                            let code = format!("{field}_taken");
                            out.issues.push(Issue { client_id: holder, ..issue(c.line, Some(field), &code) });
                            self.counts.created -= 1;
                            self.counts.failed += 1;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    async fn insert_all(&self, tx: &mut TenantTx, pending: &[NewClient]) -> Result<Vec<ClientId>, RepoError> {
        let fields: Vec<&ClientFields> = pending.iter().map(|c| &c.fields).collect();
        let ids = clients::insert_many(tx, &fields).await?;
        let mut contacts: Vec<(ClientId, &ContactValue)> = Vec::new();
        for (id, c) in ids.iter().zip(pending) {
            for (i, v) in c.contacts.iter().enumerate() {
                if !c.contacts[..i].iter().any(|w| w.kind() == v.kind() && w.as_str() == v.as_str()) {
                    contacts.push((*id, v));
                }
            }
        }
        if !contacts.is_empty() {
            clients::insert_contacts_many(tx, &contacts).await?;
        }
        for (id, c) in ids.iter().zip(pending).filter(|(_, c)| !c.custom.is_empty()) {
            custom_fields::set_values(tx, FieldEntity::Client, id.0, &c.custom).await?;
        }
        let id_texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let names: Vec<String> = pending.iter().map(|c| c.fields.full_name()).collect();
        let entries: Vec<audit::Entry> = id_texts
            .iter()
            .zip(&names)
            .map(|(id, name)| audit::Entry { action: "created", entity: "client", entity_id: id, summary: name })
            .collect();
        audit::record_many(tx, &self.actor, &entries).await?;
        Ok(ids)
    }

    /// Lays the row's non-empty cells over client `id` and adds the contacts it lacks, in a
    /// savepoint of its own. `true`: merged (or, in a dry run, would be).
    async fn merge(
        &mut self,
        tx: &mut TenantTx,
        id: ClientId,
        line: u32,
        input: &ClientInput,
        contacts: &[ContactValue],
        out: &mut Batch,
    ) -> Result<bool, ServiceError> {
        tx.savepoint().await?;
        let merged = self.merge_in_savepoint(tx, id, line, input, contacts, out).await;
        match merged {
            Ok(Some(changed)) => {
                tx.release_savepoint().await?;
                self.counts.merged += 1;
                if changed {
                    out.events.push(DomainEvent::ClientUpdated { tenant_id: self.claim.tenant_id, client_id: id });
                }
                Ok(true)
            }
            Ok(None) => {
                tx.rollback_to_savepoint().await?;
                tx.release_savepoint().await?;
                self.counts.failed += 1;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// `Some(changed)` when merged; `None` when the merged client would be invalid (the
    /// reasons are in `out`).
    async fn merge_in_savepoint(
        &mut self,
        tx: &mut TenantTx,
        id: ClientId,
        line: u32,
        input: &ClientInput,
        contacts: &[ContactValue],
        out: &mut Batch,
    ) -> Result<Option<bool>, ServiceError> {
        let current = clients::get_for_update(tx, id).await?;
        let after = current.input().overlaid(input);
        if self.dry_run {
            let fields = match ClientFields::parse(&after, Utc::now().date_naive(), self.home) {
                Ok(f) => f,
                Err(errors) => {
                    out.issues.extend(errors.iter().map(|e| issue(line, Some(e.field), e.code)));
                    return Ok(None);
                }
            };
            if let Some(pin) = &fields.pin
                && let Some((holder, _)) = clients::holder_of(tx, "pin", pin.as_str()).await?
                && holder != id
            {
                out.issues.push(Issue { client_id: Some(holder), ..issue(line, Some("pin"), "pin_taken") });
                return Ok(None);
            }
            return Ok(Some(false));
        }
        // Custom values the row names are laid over the client's, like its other cells.
        let custom = match input.custom.as_ref().filter(|c| !c.is_empty()) {
            None => None,
            Some(values) => {
                match super::super::custom_fields::put(tx, FieldEntity::Client, id.0, Some(values), false).await {
                    Ok(summary) => summary,
                    Err(ServiceError::Invalid(errors)) => {
                        out.issues.extend(errors.iter().map(|e| issue(line, Some(&e.path()), e.code)));
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let changed = match update_client(tx, &self.actor, &current, &after, None, custom).await {
            Ok(changed) => changed,
            Err(UpdateError::Invalid(errors)) => {
                out.issues.extend(errors.iter().map(|e| issue(line, Some(e.field), e.code)));
                return Ok(None);
            }
            Err(UpdateError::Taken { field, value }) => {
                let holder = holder_after_conflict(tx, field, &value).await?;
                let code = format!("{field}_taken");
                out.issues.push(Issue { client_id: holder, ..issue(line, Some(field), &code) });
                return Ok(None);
            }
            Err(UpdateError::Repo(e)) => return Err(e.into()),
        };
        let mut have = clients::contacts(tx, id).await?;
        let mut added = false;
        for value in contacts {
            if have.iter().any(|k| k.value == *value) {
                continue;
            }
            have.push(clients::insert_contact(tx, id, value).await?);
            let summary = format!("{}: {}", value.kind(), value.as_str());
            let entry = audit::Entry {
                action: "contact_added",
                entity: "client",
                entity_id: &id.to_string(),
                summary: &summary,
            };
            audit::record(tx, &self.actor, entry).await?;
            added = true;
        }
        Ok(Some(changed || added))
    }
}

fn phones_of(fields: &ClientFields) -> Vec<String> {
    fields.phone.iter().map(|p| p.as_str().to_owned()).collect()
}

fn emails_of(fields: &ClientFields) -> Vec<String> {
    fields.email.iter().map(|e| e.folded().as_str().to_owned()).collect()
}

/// The client holding a phone or PIN whose write just failed: the row's savepoint is rolled
/// back (the failed write aborted the transaction) and set again before the look-up.
async fn holder_after_conflict(tx: &mut TenantTx, field: &str, value: &str) -> Result<Option<ClientId>, ServiceError> {
    tx.rollback_to_savepoint().await?;
    tx.savepoint().await?;
    Ok(clients::holder_of(tx, field, value).await?.map(|(holder, _)| holder))
}

/// The report's name for a contact column's field.
fn contact_field(kind: crate::domain::ContactType) -> &'static str {
    use crate::domain::ContactType::*;
    match kind {
        Email => "contact.email",
        Phone => "contact.phone",
        Telegram => "contact.telegram",
        Whatsapp => "contact.whatsapp",
        Other => "contact.other",
    }
}
