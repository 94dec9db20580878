//! The audit log as read: who changed what, and when.

use chrono::{DateTime, Utc};

use super::UserId;

/// One recorded change.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// `None` for the system or the command line.
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub summary: String,
    pub created_at: DateTime<Utc>,
}
