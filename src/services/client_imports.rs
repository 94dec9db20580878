//! Client CSV imports: upload a file, map its columns, then a dry run or the import itself,
//! run by a background worker in batches (one transaction each, resumable, cancellable).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::{Notify, watch};

use crate::db::TenantTx;
use crate::domain::client::import::{Duplicates, Encoding, Mapping, Row, Sheet, Status};
use crate::domain::{
    Actor, ClientFields, ClientId, ClientInput, ContactValue, DomainError, DomainEvent, Permission, Principal,
};
use crate::events::EventBus;
use crate::repos::client_imports::{self, Claim, Counts, Import, Issue, IssueRow, NewImport};
use crate::repos::{RepoError, audit, clients};

use super::ServiceError;
use super::clients::{UpdateError, insert_client, overlay, unique_value, update_client};

/// Rows per transaction: large enough to be quick, small enough that progress moves.
const BATCH: usize = 500;
/// A running import whose worker has not reported for this long is taken over.
const STALE_AFTER: Duration = Duration::from_secs(60);
/// Finished imports are deleted (file and report) after a week.
pub const KEPT_FOR: Duration = Duration::from_secs(7 * 24 * 3600);
const SAMPLE_ROWS: usize = 5;

#[derive(Clone)]
pub struct ClientImportService {
    pool: PgPool,
    events: EventBus,
    /// Wakes the worker when a run is queued.
    wake: Arc<Notify>,
}

impl ClientImportService {
    pub fn new(pool: PgPool, events: EventBus) -> Self {
        Self { pool, events, wake: Arc::new(Notify::new()) }
    }

    /// Reads an uploaded file and keeps it for mapping. Nothing is imported yet.
    pub async fn upload(
        &self,
        by: &Principal,
        file_name: &str,
        bytes: &[u8],
        encoding: Encoding,
    ) -> Result<i64, ServiceError> {
        self.authorize(by)?;
        let text = encoding.decode(bytes)?;
        let sheet = Sheet::parse(&text)?;
        let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(255).collect();
        let file_name = if file_name.trim().is_empty() { "clients.csv".to_owned() } else { file_name };
        let sample: Vec<Vec<String>> = sheet.rows.iter().take(SAMPLE_ROWS).map(|r| r.cells.clone()).collect();
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let id = client_imports::insert(
            &mut tx,
            NewImport {
                created_by: by.user_id,
                file_name: &file_name,
                content: &text,
                header: &sheet.header,
                sample: &sample,
                rows_total: sheet.rows.len() as i32,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Whether `by` may import clients (its pages ask before they show anything).
    pub fn authorize(&self, by: &Principal) -> Result<(), ServiceError> {
        super::require(by, &[Permission::ClientCreate])
    }

    pub async fn get(&self, by: &Principal, id: i64) -> Result<Import, ServiceError> {
        self.authorize(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let import = client_imports::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(import)
    }

    pub async fn recent(&self, by: &Principal) -> Result<Vec<Import>, ServiceError> {
        self.authorize(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let imports = client_imports::recent(&mut tx, 10).await?;
        tx.commit().await?;
        Ok(imports)
    }

    /// A page of the report: failed and skipped rows, in file order.
    pub async fn issues(
        &self,
        by: &Principal,
        id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<IssueRow>, ServiceError> {
        self.authorize(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        client_imports::get(&mut tx, id).await?;
        let issues = client_imports::issues(&mut tx, id, limit, offset).await?;
        tx.commit().await?;
        Ok(issues)
    }

    /// The whole report with each row's original cells, for a spreadsheet: fix and re-import.
    pub async fn report(
        &self,
        by: &Principal,
        id: i64,
    ) -> Result<(Import, Vec<(IssueRow, Vec<String>)>), ServiceError> {
        self.authorize(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let import = client_imports::get(&mut tx, id).await?;
        let issues = client_imports::issues(&mut tx, id, i64::MAX, 0).await?;
        let content = client_imports::content(&mut tx, id).await?;
        tx.commit().await?;
        let sheet = Sheet::parse(&content)?;
        let cells: HashMap<u32, &Row> = sheet.rows.iter().map(|r| (r.line, r)).collect();
        let rows = issues
            .into_iter()
            .map(|i| {
                let row = cells.get(&(i.issue.row_no as u32)).map(|r| r.cells.clone()).unwrap_or_default();
                (i, row)
            })
            .collect();
        Ok((import, rows))
    }

    /// Queues a dry run or the import itself with `mapping`. An import that is not waiting
    /// (running, or finished) is refused.
    pub async fn start(
        &self,
        by: &Principal,
        id: i64,
        mapping: &Mapping,
        duplicates: Duplicates,
        dry_run: bool,
    ) -> Result<(), ServiceError> {
        self.authorize(by)?;
        // Merging into existing clients changes them.
        if duplicates == Duplicates::Merge {
            super::require(by, &[Permission::ClientUpdate])?;
        }
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let import = client_imports::get(&mut tx, id).await?;
        if mapping.targets().len() != import.header.len() {
            return Err(DomainError::new("mapping", "invalid_choice").into());
        }
        if !client_imports::queue(&mut tx, id, &mapping.encode(), duplicates, dry_run).await? {
            return Err(ServiceError::Refused { code: "import_not_waiting" });
        }
        tx.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Stops a queued or running import; batches already written stay.
    pub async fn cancel(&self, by: &Principal, id: i64) -> Result<(), ServiceError> {
        self.authorize(by)?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let import = client_imports::get(&mut tx, id).await?;
        if !client_imports::cancel(&mut tx, id).await? {
            return Err(ServiceError::Refused { code: "import_not_running" });
        }
        if !import.dry_run {
            let summary = format!("{}: cancelled", import.file_name);
            let entry = audit::Entry {
                action: "cancelled",
                entity: "client_import",
                entity_id: &id.to_string(),
                summary: &summary,
            };
            audit::record(&mut tx, &by.actor(), entry).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes finished imports older than a week, in every tenant.
    pub async fn purge_finished(&self) -> Result<i64, ServiceError> {
        Ok(client_imports::purge(&self.pool, KEPT_FOR).await?)
    }

    /// Runs queued imports until `stop` turns true; then the run in hand is handed back after
    /// its current batch, for the next start to resume.
    pub fn spawn_worker(&self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let (service, stopped) = (self.clone(), stop.clone());
        super::polling::spawn(
            "client import worker",
            Duration::from_secs(5),
            Some(self.wake.clone()),
            stop,
            move || {
                let (service, stopped) = (service.clone(), stopped.clone());
                async move { service.run_next(&stopped).await }
            },
        )
    }

    /// Claims one queued import and runs it. `false`: there was none.
    pub async fn run_next(&self, stop: &watch::Receiver<bool>) -> Result<bool, ServiceError> {
        let Some(claim) = client_imports::claim(&self.pool, STALE_AFTER).await? else {
            return Ok(false);
        };
        tracing::info!(tenant = %claim.tenant_id.0, import = claim.id, "client import started");
        if let Err(e) = self.run(&claim, stop).await {
            tracing::error!(import = claim.id, error = %e, "client import failed");
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            client_imports::fail(&mut tx, &claim, &e.to_string()).await?;
            tx.commit().await?;
        }
        Ok(true)
    }

    async fn run(&self, claim: &Claim, stop: &watch::Receiver<bool>) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        let plan = client_imports::plan(&mut tx, claim).await?;
        tx.commit().await?;
        let sheet = Sheet::parse(&plan.content)?;
        let mapping = Mapping::decode(&plan.mapping).map_err(|e| DomainError::new("mapping", e.code))?;
        let mut run = Run {
            claim: *claim,
            actor: Actor::User { id: plan.user_id, name: plan.user_name },
            mapping,
            duplicates: plan.duplicates,
            dry_run: plan.dry_run,
            counts: plan.counts,
            seen: HashMap::new(),
        };
        let done = plan.counts.rows_done as usize;
        if run.dry_run {
            // Duplicates within the file are remembered, not written: recall the rows before a resume.
            for row in &sheet.rows[..done.min(sheet.rows.len())] {
                if let Ok((_, fields, _)) = run.parse(row) {
                    run.remember(&fields, row.line);
                }
            }
        }
        let rest = sheet.rows.get(done..).unwrap_or_default();
        let batches: Vec<&[Row]> = if rest.is_empty() { vec![&[]] } else { rest.chunks(BATCH).collect() };
        let last = batches.len() - 1;
        for (i, batch) in batches.into_iter().enumerate() {
            if *stop.borrow() && i < last {
                self.hand_back(claim).await?;
                return Ok(());
            }
            if !run.dry_run && client_imports::refresh_statistics(&self.pool).await? {
                tracing::debug!(import = claim.id, "client tables analysed");
            }
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            let Batch { issues, events, .. } = run.batch(&mut tx, batch).await?;
            let finished = (i == last).then_some(if run.dry_run { Status::Checked } else { Status::Done });
            if finished.is_some() && !run.dry_run {
                let c = run.counts;
                let summary = format!(
                    "{} rows: {} created, {} merged, {} skipped, {} failed",
                    c.rows_done, c.created, c.merged, c.skipped, c.failed
                );
                let entry = audit::Entry {
                    action: "imported",
                    entity: "client_import",
                    entity_id: &claim.id.to_string(),
                    summary: &summary,
                };
                audit::record(&mut tx, &run.actor, entry).await?;
            }
            if !client_imports::advance(&mut tx, claim, run.counts, &issues, finished).await? {
                tracing::info!(import = claim.id, "client import cancelled or taken over; batch rolled back");
                return Ok(());
            }
            tx.commit().await?;
            for event in events {
                self.events.publish(event);
            }
        }
        tracing::info!(import = claim.id, rows = run.counts.rows_done, "client import finished");
        Ok(())
    }

    /// Gives a run back to the queue (at shutdown), to resume where it stopped.
    async fn hand_back(&self, claim: &Claim) -> Result<(), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
        client_imports::release(&mut tx, claim).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One run in progress.
struct Run {
    claim: Claim,
    actor: Actor,
    mapping: Mapping,
    duplicates: Duplicates,
    dry_run: bool,
    counts: Counts,
    /// The line of the first row of this run with each phone (`p:`), email (`e:`) and PIN
    /// (`n:`) that is to become a new client: rows a dry run never writes, and rows of this
    /// batch not written yet.
    seen: HashMap<String, u32>,
}

/// A row that is to become a new client.
struct NewClient {
    line: u32,
    fields: ClientFields,
    contacts: Vec<ContactValue>,
}

/// What one batch produced: its report lines, the events to publish after commit, and the
/// new clients not inserted yet.
#[derive(Default)]
struct Batch {
    issues: Vec<Issue>,
    events: Vec<DomainEvent>,
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
    fn remember(&mut self, fields: &ClientFields, line: u32) {
        let pin = fields.pin.as_ref().map(|p| format!("n:{}", p.as_str()));
        for key in keys(fields).into_iter().chain(pin) {
            self.seen.entry(key).or_insert(line);
        }
    }

    /// One row as a valid client, or every reason it is not.
    fn parse(&self, row: &Row) -> Result<(ClientInput, ClientFields, Vec<ContactValue>), Vec<DomainError>> {
        let (input, raw_contacts) = self.mapping.row(&row.cells);
        let fields = ClientFields::parse(&input, Utc::now().date_naive());
        let mut errors: Vec<DomainError> = fields.as_ref().err().cloned().unwrap_or_default();
        let mut contacts = Vec::new();
        for (kind, raw) in &raw_contacts {
            match ContactValue::parse(*kind, raw) {
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
    async fn batch(&mut self, tx: &mut TenantTx, rows: &[Row]) -> Result<Batch, ServiceError> {
        let mut out = Batch::default();
        let mut valid = Vec::new();
        for row in rows {
            self.counts.rows_done += 1;
            match self.parse(row) {
                Ok(parsed) => valid.push((row.line, parsed)),
                Err(errors) => {
                    out.issues.extend(errors.iter().map(|e| issue(row.line, Some(e.field), e.code)));
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
                        out.issues.push(Issue { client_id: Some(id.0), ..issue(line, None, "duplicate") });
                        self.counts.skipped += 1;
                    }
                    Duplicates::Merge if archived => {
                        out.issues.push(Issue { client_id: Some(id.0), ..issue(line, None, "duplicate_archived") });
                        self.counts.failed += 1;
                    }
                    Duplicates::Merge => {
                        self.flush(tx, &mut out).await?;
                        if self.merge(tx, id, line, &input, &contacts, &mut out).await? {
                            // What the merge wrote is what later rows of the batch may repeat.
                            let merged = clients::get(tx, id).await?;
                            if let Ok(now) = ClientFields::parse(&ClientInput::from(&merged), Utc::now().date_naive()) {
                                existing.extend(keys(&now).into_iter().map(|k| (k, (id, false))));
                            }
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
                    out.issues.push(Issue { client_id: Some(holder.0), ..issue(line, Some("pin"), "pin_taken") });
                    self.counts.failed += 1;
                    continue;
                }
                if let Some(&first) = self.seen.get(&format!("n:{}", pin.as_str())) {
                    out.issues.push(Issue { same_as_row: Some(first as i32), ..issue(line, Some("pin"), "pin_taken") });
                    self.counts.failed += 1;
                    continue;
                }
            }
            self.remember(&fields, line);
            self.counts.created += 1;
            out.pending.push(NewClient { line, fields, contacts });
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
                    match insert_client(tx, &self.actor, &c.fields, &c.contacts).await {
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
        let after = overlay(&ClientInput::from(&current), input);
        if self.dry_run {
            let fields = match ClientFields::parse(&after, Utc::now().date_naive()) {
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
                out.issues.push(Issue { client_id: Some(holder.0), ..issue(line, Some("pin"), "pin_taken") });
                return Ok(None);
            }
            return Ok(Some(false));
        }
        let changed = match update_client(tx, &self.actor, &current, &after).await {
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
            if have.iter().any(|k| k.kind == value.kind().as_str() && k.value == value.as_str()) {
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
async fn holder_after_conflict(tx: &mut TenantTx, field: &str, value: &str) -> Result<Option<i64>, ServiceError> {
    tx.rollback_to_savepoint().await?;
    tx.savepoint().await?;
    Ok(clients::holder_of(tx, field, value).await?.map(|(holder, _)| holder.0))
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
