//! The client list as CSV: every match of a filter, streamed as it is read, and audited.

use crate::db::TenantTx;
use crate::domain::ClientQuery;
use crate::domain::{ClientInput, Permission, Principal};
use crate::repos::audit;
use crate::repos::clients;
use crate::services::ServiceError;

use super::ClientService;

impl ClientService {
    /// Streams the clients matching `query` as CSV, one chunk per row after the header. The
    /// export is audited (how many rows, which filter) once it has been read to the end.
    pub fn export_csv(
        &self,
        by: &Principal,
        query: ClientQuery,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<String, ServiceError>>, ServiceError> {
        crate::services::require(by, &[Permission::ClientRead, Permission::ClientExport])?;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let (pool, by) = (self.pool.clone(), by.clone());
        tokio::spawn(async move {
            let result = async {
                use futures_util::TryStreamExt;
                let mut db = TenantTx::begin(&pool, by.tenant_id).await?;
                let reader = crate::services::owner_scope(&mut db, &by).await?;
                let header: Vec<&str> = std::iter::once("id")
                    .chain(ClientInput::FIELDS)
                    .chain(["contacts", "tags", "created_at", "updated_at"])
                    .collect();
                let _ = tx.send(Ok(crate::domain::csv::line(&header))).await;
                let mut rows = 0_u64;
                {
                    let mut stream = std::pin::pin!(clients::export(&mut db, &query, reader));
                    while let Some(row) = stream.try_next().await? {
                        rows += 1;
                        if tx.send(Ok(export_line(&row))).await.is_err() {
                            return Ok(()); // the browser went away
                        }
                    }
                }
                // The row count, and the search when there was one.
                let summary = match query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                    Some(q) => format!("{rows} · “{q}”"),
                    None => rows.to_string(),
                };
                audit::record(
                    &mut db,
                    &by.actor(),
                    audit::Entry { action: "exported", entity: "client_list", entity_id: "csv", summary: &summary },
                )
                .await?;
                db.commit().await?;
                Ok::<(), ServiceError>(())
            }
            .await;
            if let Err(e) = result {
                tracing::error!(error = %e, "client export failed");
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(rx)
    }
}

fn export_line(row: &clients::ExportRow) -> String {
    let c = &row.client;
    let fields = c.input();
    let mut cells = vec![c.id.to_string()];
    cells.extend(fields.values().map(|v| v.unwrap_or_default().to_owned()));
    cells.extend([row.contacts.clone(), row.tags.clone(), c.created_at.to_rfc3339(), c.updated_at.to_rfc3339()]);
    crate::domain::csv::line(&cells)
}
