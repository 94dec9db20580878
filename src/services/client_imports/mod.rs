//! Client CSV imports: upload a file, map its columns, then a dry run or the import itself,
//! run by a background worker in batches (one transaction each, resumable, cancellable).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{Notify, watch};

use crate::db::TenantTx;
use crate::domain::client::import::{Duplicates, Encoding, Mapping, Row, Sheet, Status, Target};
use crate::domain::client::import::{Import, IssueRow};
use crate::domain::custom_field::FieldEntity;
use crate::domain::{Actor, DomainError, Permission, Principal};
use crate::events::EventBus;
use crate::repos::client_imports::{self, Claim, NewImport};
use crate::repos::{audit, custom_fields, tenants};

use super::ServiceError;

mod run;
use run::{Batch, Run};

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
        let fields = custom_fields::list(&mut tx, FieldEntity::Client, false).await?;
        let unknown = |t: &Target| matches!(t, Target::Custom(key) if !fields.iter().any(|f| f.key == key.as_str()));
        if mapping.targets().iter().any(unknown) {
            return Err(DomainError::new("mapping", "unknown_field").into());
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
        let home = tenants::default_country(&mut tx).await?;
        let fields = custom_fields::list(&mut tx, FieldEntity::Client, false).await?;
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
            home,
            fields,
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
