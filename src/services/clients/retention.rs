//! A client's data over time: archived (hidden, restorable for 30 days), purged after, erased
//! at once on request (the right to erasure), and exported whole (the right of access).

use chrono::Utc;

use crate::db::TenantTx;
use crate::domain::{Client, ClientId, Contact, DomainEvent, Permission, Principal};
use crate::repos::audit;
use crate::repos::clients;
use crate::services::ServiceError;

use super::ClientService;

/// How long an archived client can be restored before the purge.
pub const RESTORABLE_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Everything held about one client: the right of access, as one document.
#[derive(serde::Serialize)]
pub struct ClientExport {
    pub exported_at: chrono::DateTime<Utc>,
    pub client: Client,
    pub contacts: Vec<Contact>,
    /// The conversation, oldest first (internal notes included: they are held about them too).
    pub messages: Vec<ExportedMessage>,
    pub history: Vec<crate::domain::audit::AuditEntry>,
}

/// A message as the client's export shows it; files by name, type and size.
#[derive(serde::Serialize)]
pub struct ExportedMessage {
    pub id: i64,
    pub direction: &'static str,
    pub sender: String,
    pub transport: &'static str,
    pub body: String,
    pub status: Option<&'static str>,
    pub error: Option<String>,
    pub files: Vec<ExportedFile>,
    pub created_at: chrono::DateTime<Utc>,
    pub sent_at: Option<chrono::DateTime<Utc>>,
    pub read_at: Option<chrono::DateTime<Utc>>,
}

#[derive(serde::Serialize)]
pub struct ExportedFile {
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
}

impl From<crate::domain::chat::Message> for ExportedMessage {
    fn from(m: crate::domain::chat::Message) -> Self {
        Self {
            id: m.id.0,
            direction: m.direction.as_str(),
            sender: m.sender_name,
            transport: m.transport.as_str(),
            body: m.body,
            status: m.status.map(|s| s.as_str()),
            error: m.error,
            files: m
                .attachments
                .into_iter()
                .map(|a| ExportedFile { name: a.file_name, content_type: a.content_type, size_bytes: a.size_bytes })
                .collect(),
            created_at: m.created_at,
            sent_at: m.sent_at,
            read_at: m.read_at,
        }
    }
}

impl ClientService {
    /// Archived clients, most recent first, for an admin to restore or erase.
    pub async fn archived(&self, by: &Principal) -> Result<Vec<Client>, ServiceError> {
        crate::services::require(by, &[Permission::ClientDelete])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let clients = clients::archived(&mut tx, 500).await?;
        tx.commit().await?;
        Ok(clients)
    }

    /// Restores a client archived less than 30 days ago; one archived by a merge is taken
    /// out of the survivor again.
    pub async fn restore(&self, by: &Principal, id: ClientId) -> Result<(), ServiceError> {
        crate::services::require(by, &[Permission::ClientDelete])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        // A client archived by a merge takes back what the merge moved (a restore refused
        // below rolls this back too).
        let survivor = super::merge::undo_merge(&mut tx, &by.actor(), id).await?;
        clients::restore(&mut tx, id, RESTORABLE_FOR).await?;
        let client = clients::get(&mut tx, id).await?;
        audit::record(
            &mut tx,
            &by.actor(),
            audit::Entry {
                action: "restored",
                entity: "client",
                entity_id: &id.to_string(),
                summary: &client.full_name(),
            },
        )
        .await?;
        tx.commit().await?;
        self.events.publish(DomainEvent::ClientUpdated { tenant_id: by.tenant_id, client_id: id });
        if let Some(client_id) = survivor {
            self.events.publish(DomainEvent::ClientUpdated { tenant_id: by.tenant_id, client_id });
        }
        Ok(())
    }

    /// Erases a client (archived or not) at once and for good: the right to erasure.
    pub async fn erase(&self, by: &Principal, id: ClientId) -> Result<(), ServiceError> {
        crate::services::require(by, &[Permission::ClientDelete])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let files = crate::repos::messages::storage_keys_of_client(&mut tx, id).await?;
        clients::erase(&mut tx, id).await?;
        audit::record(
            &mut tx,
            &by.actor(),
            audit::Entry { action: "erased", entity: "client", entity_id: &id.to_string(), summary: "[erased]" },
        )
        .await?;
        tx.commit().await?;
        // After the commit: a failed erase must not have lost the files of a kept client.
        self.files.delete_all(&files).await;
        self.events.publish(DomainEvent::ClientDeleted { tenant_id: by.tenant_id, client_id: id });
        Ok(())
    }

    /// Everything held about a client (archived or not), as one document: the right of access,
    /// for those who may also erase.
    pub async fn export(&self, by: &Principal, id: ClientId) -> Result<ClientExport, ServiceError> {
        crate::services::require(by, &[Permission::ClientDelete])?;
        let mut tx = TenantTx::begin(&self.pool, by.tenant_id).await?;
        let client = clients::get_any(&mut tx, id).await?;
        let contacts = clients::contacts(&mut tx, id).await?;
        let messages = crate::repos::messages::of_client(&mut tx, id).await?;
        let history = audit::for_entity(&mut tx, "client", &id.to_string()).await?;
        tx.commit().await?;
        let messages = messages.into_iter().map(ExportedMessage::from).collect();
        Ok(ClientExport { exported_at: Utc::now(), client, contacts, messages, history })
    }

    /// Purges clients archived more than 30 days ago, in every tenant.
    /// Their stored files go too, once the rows are gone.
    pub async fn purge_archived(&self) -> Result<i64, ServiceError> {
        let (purged, files) = clients::purge_archived(&self.pool, RESTORABLE_FOR).await?;
        self.files.delete_all(&files).await;
        Ok(purged)
    }
}
