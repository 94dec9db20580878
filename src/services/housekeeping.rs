//! Periodic clean-up across tenants, run by `crm serve`: ended sessions, archived clients
//! past their 30 days, client imports finished a week ago, and custom fields removed 30 days
//! ago (with their values).

use std::time::Duration;

use super::{AuthService, ClientImportService, ClientService, CustomFieldService};

/// Runs every clean-up now and then every `every`, for as long as the returned task lives.
pub fn spawn(
    auth: AuthService,
    clients: ClientService,
    imports: ClientImportService,
    fields: CustomFieldService,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            report("ended sessions", auth.purge_ended_sessions().await);
            report("archived clients", clients.purge_archived().await);
            report("finished client imports", imports.purge_finished().await);
            report("removed custom fields", fields.purge_removed().await);
        }
    })
}

fn report(what: &str, result: Result<i64, super::ServiceError>) {
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "purged {what}"),
        Err(e) => tracing::warn!(error = %e, "purging {what} failed"),
    }
}
