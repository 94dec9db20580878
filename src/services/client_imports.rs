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
    Actor, ClientFields, ClientId, ClientInput, ContactValue, DomainError, DomainEvent, Email, Principal, TenantId,
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

    pub async fn get(&self, tenant: TenantId, id: i64) -> Result<Import, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let import = client_imports::get(&mut tx, id).await?;
        tx.commit().await?;
        Ok(import)
    }

    pub async fn recent(&self, tenant: TenantId) -> Result<Vec<Import>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        let imports = client_imports::recent(&mut tx, 10).await?;
        tx.commit().await?;
        Ok(imports)
    }

    /// A page of the report: failed and skipped rows, in file order.
    pub async fn issues(
        &self,
        tenant: TenantId,
        id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<IssueRow>, ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        client_imports::get(&mut tx, id).await?;
        let issues = client_imports::issues(&mut tx, id, limit, offset).await?;
        tx.commit().await?;
        Ok(issues)
    }

    /// The whole report with each row's original cells, for a spreadsheet: fix and re-import.
    pub async fn report(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<(Import, Vec<(IssueRow, Vec<String>)>), ServiceError> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
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
    pub fn spawn_worker(&self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            while !*stop.borrow() {
                match service.run_next(&stop).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "client import worker"),
                }
                tokio::select! {
                    _ = service.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = stop.changed() => {}
                }
            }
        })
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
                let (input, _) = run.mapping.row(&row.cells);
                if let Ok(fields) = ClientFields::parse(&input, Utc::now().date_naive()) {
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
            let mut tx = TenantTx::begin(&self.pool, claim.tenant_id).await?;
            let mut issues = Vec::new();
            let mut events = Vec::new();
            for row in batch {
                run.row(&mut tx, row, &mut issues, &mut events).await?;
            }
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
    /// In a dry run: the line of the first row with each phone (`p:`) and email (`e:`).
    seen: HashMap<String, u32>,
}

/// What became of one row. A created or changed client is named for its event (a dry run
/// names none).
enum Outcome {
    Created(Option<ClientId>),
    Merged(Option<ClientId>),
    Skipped,
    Failed,
}

impl Run {
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

    fn remember(&mut self, fields: &ClientFields, line: u32) {
        for key in Self::keys(fields) {
            self.seen.entry(key).or_insert(line);
        }
    }

    /// Reads one row and (unless a dry run) writes it, inside a savepoint: a row that fails
    /// leaves no trace but its issue.
    async fn row(
        &mut self,
        tx: &mut TenantTx,
        row: &Row,
        issues: &mut Vec<Issue>,
        events: &mut Vec<DomainEvent>,
    ) -> Result<(), ServiceError> {
        let line = row.line as i32;
        let issue = |field: Option<&str>, code: &str| Issue {
            row_no: line,
            field: field.map(str::to_owned),
            code: code.to_owned(),
            client_id: None,
            same_as_row: None,
        };
        let (input, raw_contacts) = self.mapping.row(&row.cells);
        let fields = ClientFields::parse(&input, Utc::now().date_naive());
        let mut contacts = Vec::new();
        let mut errors: Vec<DomainError> = fields.as_ref().err().cloned().unwrap_or_default();
        for (kind, raw) in &raw_contacts {
            match ContactValue::parse(*kind, raw) {
                Ok(v) => contacts.push(v),
                Err(e) => errors.push(DomainError::new(contact_field(*kind), e.code)),
            }
        }
        self.counts.rows_done += 1;
        let fields = match fields {
            Ok(f) if errors.is_empty() => f,
            _ => {
                issues.extend(errors.iter().map(|e| issue(Some(e.field), e.code)));
                self.counts.failed += 1;
                return Ok(());
            }
        };

        tx.savepoint().await?;
        let outcome = self.write(tx, line, &input, &fields, &contacts, issues).await;
        match outcome {
            Ok(Outcome::Created(id)) => {
                tx.release_savepoint().await?;
                self.counts.created += 1;
                let tenant_id = self.claim.tenant_id;
                events.extend(id.map(|client_id| DomainEvent::ClientCreated { tenant_id, client_id }));
            }
            Ok(Outcome::Merged(id)) => {
                tx.release_savepoint().await?;
                self.counts.merged += 1;
                let tenant_id = self.claim.tenant_id;
                events.extend(id.map(|client_id| DomainEvent::ClientUpdated { tenant_id, client_id }));
            }
            Ok(Outcome::Skipped) => {
                tx.release_savepoint().await?;
                self.counts.skipped += 1;
            }
            Ok(Outcome::Failed) => {
                tx.rollback_to_savepoint().await?;
                self.counts.failed += 1;
            }
            Err(e) => return Err(e),
        }
        if self.dry_run {
            self.remember(&fields, row.line);
        }
        Ok(())
    }

    async fn write(
        &mut self,
        tx: &mut TenantTx,
        line: i32,
        input: &ClientInput,
        fields: &ClientFields,
        contacts: &[ContactValue],
        issues: &mut Vec<Issue>,
    ) -> Result<Outcome, ServiceError> {
        let issue = |field: Option<&str>, code: &str, client_id: Option<i64>| Issue {
            row_no: line,
            field: field.map(str::to_owned),
            code: code.to_owned(),
            client_id,
            same_as_row: None,
        };
        // A dry run remembers rows it did not write: an earlier row of the file may be the duplicate.
        if self.dry_run
            && let Some(first) = Self::keys(fields).iter().find_map(|k| self.seen.get(k))
        {
            issues.push(Issue { same_as_row: Some(*first as i32), ..issue(None, "duplicate_row", None) });
            return Ok(match self.duplicates {
                Duplicates::Skip => Outcome::Skipped,
                Duplicates::Merge => Outcome::Merged(None),
            });
        }
        let phone = fields.phone.as_ref().map(|p| p.as_str());
        let email = fields.email.as_ref().map(|e| e.folded());
        let existing = clients::find_duplicate(tx, phone, email.as_ref().map(Email::as_str)).await?;

        let Some((existing, archived)) = existing else {
            if let Some(pin) = &fields.pin
                && let Some((holder, _)) = clients::holder_of(tx, "pin", pin.as_str()).await?
            {
                issues.push(issue(Some("pin"), "pin_taken", Some(holder.0)));
                return Ok(Outcome::Failed);
            }
            if self.dry_run {
                return Ok(Outcome::Created(None));
            }
            return match insert_client(tx, &self.actor, fields, contacts).await {
                Ok(id) => Ok(Outcome::Created(Some(id))),
                // Another user took the phone or PIN since the look-up above.
                Err(RepoError::Conflict { field }) => {
                    let holder = holder_after_conflict(tx, field, &unique_value(fields, field)).await?;
                    issues.push(issue(Some(field), &format!("{field}_taken"), holder));
                    Ok(Outcome::Failed)
                }
                Err(e) => Err(e.into()),
            };
        };

        match self.duplicates {
            Duplicates::Skip => {
                issues.push(issue(None, "duplicate", Some(existing.0)));
                Ok(Outcome::Skipped)
            }
            Duplicates::Merge if archived => {
                issues.push(issue(None, "duplicate_archived", Some(existing.0)));
                Ok(Outcome::Failed)
            }
            Duplicates::Merge => self.merge(tx, existing, input, contacts, line, issues).await,
        }
    }

    /// Lays the row's non-empty cells over the client and adds the contacts it lacks.
    async fn merge(
        &mut self,
        tx: &mut TenantTx,
        id: ClientId,
        input: &ClientInput,
        contacts: &[ContactValue],
        line: i32,
        issues: &mut Vec<Issue>,
    ) -> Result<Outcome, ServiceError> {
        let issue = |field: &str, code: &str, client_id: Option<i64>| Issue {
            row_no: line,
            field: Some(field.to_owned()),
            code: code.to_owned(),
            client_id,
            same_as_row: None,
        };
        let current = clients::get_for_update(tx, id).await?;
        let after = overlay(&ClientInput::from(&current), input);
        if self.dry_run {
            let fields = match ClientFields::parse(&after, Utc::now().date_naive()) {
                Ok(f) => f,
                Err(errors) => {
                    issues.extend(errors.iter().map(|e| issue(e.field, e.code, None)));
                    return Ok(Outcome::Failed);
                }
            };
            if let Some(pin) = &fields.pin
                && let Some((holder, _)) = clients::holder_of(tx, "pin", pin.as_str()).await?
                && holder != id
            {
                issues.push(issue("pin", "pin_taken", Some(holder.0)));
                return Ok(Outcome::Failed);
            }
            return Ok(Outcome::Merged(None));
        }
        let changed = match update_client(tx, &self.actor, &current, &after).await {
            Ok(changed) => changed,
            Err(UpdateError::Invalid(errors)) => {
                issues.extend(errors.iter().map(|e| issue(e.field, e.code, None)));
                return Ok(Outcome::Failed);
            }
            Err(UpdateError::Taken { field, value }) => {
                let holder = holder_after_conflict(tx, field, &value).await?;
                issues.push(issue(field, &format!("{field}_taken"), holder));
                return Ok(Outcome::Failed);
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
        Ok(Outcome::Merged((changed || added).then_some(id)))
    }
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
