//! The client list as CSV: every match of a filter, streamed as it is read, and audited.

use crate::db::TenantTx;
use crate::domain::ClientQuery;
use crate::domain::custom_field::{CustomField, FieldEntity};
use crate::domain::{ClientInput, Permission, Principal};
use crate::repos::clients;
use crate::repos::{audit, custom_fields};
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
                let fields = custom_fields::list(&mut db, FieldEntity::Client, false).await?;
                let _ = tx.send(Ok(header(&fields))).await;
                let mut rows = 0_u64;
                {
                    let mut stream = std::pin::pin!(clients::export(&mut db, &query, reader, None));
                    while let Some(row) = stream.try_next().await? {
                        rows += 1;
                        if tx.send(Ok(export_line(&row, &fields))).await.is_err() {
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

/// The CSV's first line: the record's own columns, then each live custom field as
/// `custom.KEY`, then the times.
fn header(fields: &[CustomField]) -> String {
    let custom: Vec<String> = fields.iter().map(|f| format!("custom.{}", f.key)).collect();
    let header: Vec<&str> = std::iter::once("id")
        .chain(ClientInput::FIELDS)
        .chain(["contacts", "tags"])
        .chain(custom.iter().map(String::as_str))
        .chain(["created_at", "updated_at"])
        .collect();
    crate::domain::csv::line(&header)
}

/// The clients `only` as one CSV, in the export's columns (a bulk export of chosen clients).
pub(crate) async fn csv_of(db: &mut TenantTx, only: &[i64]) -> Result<String, ServiceError> {
    use futures_util::TryStreamExt;
    let fields = custom_fields::list(db, FieldEntity::Client, false).await?;
    let mut out = header(&fields);
    let query = ClientQuery::default();
    let mut stream = std::pin::pin!(clients::export(db, &query, None, Some(only)));
    while let Some(row) = stream.try_next().await? {
        out.push_str(&export_line(&row, &fields));
    }
    Ok(out)
}

/// A client's CSV line; a custom value as its field shows it (a multi-select's options
/// joined by "; ", yes/no as `true`/`false`).
fn export_line(row: &clients::ExportRow, fields: &[CustomField]) -> String {
    let c = &row.client;
    let mut cells = vec![c.id.to_string()];
    cells.extend(c.input().values().map(|v| v.unwrap_or_default().to_owned()));
    cells.extend([row.contacts.clone(), row.tags.clone()]);
    for f in fields {
        let value = c.custom.get(&f.key).map(|v| match v {
            serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join("; "),
            other => f.display(other, ("true", "false")),
        });
        cells.push(value.unwrap_or_default());
    }
    cells.extend([c.created_at.to_rfc3339(), c.updated_at.to_rfc3339()]);
    crate::domain::csv::line(&cells)
}
