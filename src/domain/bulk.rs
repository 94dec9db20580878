//! Bulk actions: one change to many clients, companies or deals, run as a background job.
//! Here: what may be asked, read from a request, and a job as it stands.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::chat::Transport;
use super::pipeline::StageId;
use super::tag::{TagId, parse_tag_ids};
use super::{DomainError, Permission, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

/// Most records one job may take.
pub const MAX_TARGETS: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkEntity {
    Clients,
    Companies,
    Deals,
}

impl BulkEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkEntity::Clients => "clients",
            BulkEntity::Companies => "companies",
            BulkEntity::Deals => "deals",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Ok(match raw.trim() {
            "clients" => BulkEntity::Clients,
            "companies" => BulkEntity::Companies,
            "deals" => BulkEntity::Deals,
            _ => return Err(DomainError::new("entity", "invalid_entity")),
        })
    }
}

/// What a job does to each record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BulkAction {
    AddTags {
        tag_ids: Vec<TagId>,
    },
    RemoveTags {
        tag_ids: Vec<TagId>,
    },
    /// `None`: no owner.
    SetOwner {
        owner_id: Option<UserId>,
    },
    MoveStage {
        stage_id: StageId,
    },
    Delete,
    Export,
    /// A message template filled in for each client (a deal's client), on `transport` or the
    /// first that reaches them, paced per transport (`Transport::pace`).
    SendTemplate {
        template_id: i64,
        transport: Option<Transport>,
    },
}

impl BulkAction {
    pub fn name(&self) -> &'static str {
        match self {
            BulkAction::AddTags { .. } => "add_tags",
            BulkAction::RemoveTags { .. } => "remove_tags",
            BulkAction::SetOwner { .. } => "set_owner",
            BulkAction::MoveStage { .. } => "move_stage",
            BulkAction::Delete => "delete",
            BulkAction::Export => "export",
            BulkAction::SendTemplate { .. } => "send_template",
        }
    }

    /// The action `name` with its `params` (a JSON object), on records of `entity`: each
    /// refusal names its field (`action`, `params.tag_ids`, …).
    pub fn parse(entity: BulkEntity, name: &str, params: &Value) -> Result<Self, DomainError> {
        let text_list = |field: &'static str| -> Result<Vec<String>, DomainError> {
            match params.get(field) {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| match v {
                        Value::Number(n) => Ok(n.to_string()),
                        Value::String(s) => Ok(s.clone()),
                        _ => Err(DomainError::new(field, "invalid_id")),
                    })
                    .collect(),
                Some(Value::String(s)) => Ok(vec![s.clone()]),
                Some(Value::Number(n)) => Ok(vec![n.to_string()]),
                _ => Err(DomainError::new(field, "required")),
            }
        };
        let tags = || -> Result<Vec<TagId>, DomainError> {
            let ids = parse_tag_ids(&text_list("tag_ids")?)?;
            if ids.is_empty() { Err(DomainError::new("tag_ids", "required")) } else { Ok(ids) }
        };
        let one_id = |field: &'static str| -> Result<Option<i64>, DomainError> {
            match params.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => {
                    n.as_i64().filter(|i| *i > 0).map(Some).ok_or(DomainError::new(field, "invalid_id"))
                }
                Some(Value::String(s)) => super::parse_id(field, s),
                Some(_) => Err(DomainError::new(field, "invalid_id")),
            }
        };
        let action = match name.trim() {
            "add_tags" => BulkAction::AddTags { tag_ids: tags()? },
            "remove_tags" => BulkAction::RemoveTags { tag_ids: tags()? },
            "set_owner" => BulkAction::SetOwner { owner_id: one_id("owner_id")?.map(UserId) },
            "move_stage" if entity == BulkEntity::Deals => BulkAction::MoveStage {
                stage_id: StageId(one_id("stage_id")?.ok_or(DomainError::new("stage_id", "required"))?),
            },
            "delete" => BulkAction::Delete,
            "export" if entity == BulkEntity::Clients => BulkAction::Export,
            "send_template" if entity != BulkEntity::Companies => BulkAction::SendTemplate {
                template_id: one_id("template_id")?.ok_or(DomainError::new("template_id", "required"))?,
                transport: match params.get("transport") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.trim().is_empty() => None,
                    Some(Value::String(s)) => match s.trim().parse::<Transport>()? {
                        Transport::Note => return Err(DomainError::new("transport", "invalid_transport")),
                        t => Some(t),
                    },
                    Some(_) => return Err(DomainError::new("transport", "invalid_transport")),
                },
            },
            _ => return Err(DomainError::new("action", "unsupported_action")),
        };
        Ok(action)
    }

    /// Everything the job's author must be allowed to do this to records of `entity`: BulkRun,
    /// and what the action itself takes (a template sent is one they may read and write).
    pub fn needs(&self, entity: BulkEntity) -> &'static [Permission] {
        use Permission::*;
        match (self, entity) {
            (BulkAction::Export, _) => &[BulkRun, ClientExport],
            (BulkAction::SendTemplate { .. }, _) => &[BulkRun, ChatCreate, TemplateRead],
            (_, BulkEntity::Deals) => &[BulkRun, DealWrite],
            (BulkAction::Delete, _) => &[BulkRun, ClientDelete],
            _ => &[BulkRun, ClientUpdate],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            _ => return None,
        })
    }

    pub fn finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed)
    }
}

/// A record a job could not change, and why (`not_found`: gone, or out of the author's reach).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub id: i64,
    pub code: String,
}

/// Most failures a job keeps by name (all are counted).
pub const MAX_FAILURES_KEPT: usize = 1_000;

/// A job as it stands.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub entity: BulkEntity,
    pub action: BulkAction,
    pub created_by: UserId,
    pub status: JobStatus,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub failures: Vec<Failure>,
    pub cursor: i64,
    /// An export's file is ready.
    pub has_result: bool,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    /// How far it is, 0 to 100.
    pub fn percent(&self) -> i64 {
        if self.total == 0 {
            if self.status.finished() { 100 } else { 0 }
        } else {
            (self.done + self.failed) * 100 / self.total
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_action_is_read_with_its_params_and_refused_by_field() {
        let tags = BulkAction::parse(BulkEntity::Clients, "add_tags", &json!({"tag_ids": [3, "4"]})).unwrap();
        assert_eq!(tags, BulkAction::AddTags { tag_ids: vec![TagId(3), TagId(4)] });
        let none = BulkAction::parse(BulkEntity::Deals, "set_owner", &json!({"owner_id": null})).unwrap();
        assert_eq!(none, BulkAction::SetOwner { owner_id: None });
        let field = |e: DomainError| (e.field, e.code);
        assert_eq!(
            field(BulkAction::parse(BulkEntity::Clients, "add_tags", &json!({})).unwrap_err()),
            ("tag_ids", "required")
        );
        assert_eq!(
            field(BulkAction::parse(BulkEntity::Clients, "move_stage", &json!({})).unwrap_err()),
            ("action", "unsupported_action")
        );
        assert_eq!(
            field(BulkAction::parse(BulkEntity::Deals, "move_stage", &json!({})).unwrap_err()),
            ("stage_id", "required")
        );
        assert_eq!(
            field(BulkAction::parse(BulkEntity::Deals, "export", &json!({})).unwrap_err()),
            ("action", "unsupported_action")
        );
        let send = BulkAction::parse(BulkEntity::Deals, "send_template", &json!({"template_id": "7"})).unwrap();
        assert_eq!(send, BulkAction::SendTemplate { template_id: 7, transport: None });
        assert_eq!(
            send.needs(BulkEntity::Deals),
            [Permission::BulkRun, Permission::ChatCreate, Permission::TemplateRead]
        );
        let by_sms = json!({"template_id": 7, "transport": "sms"});
        assert_eq!(
            BulkAction::parse(BulkEntity::Clients, "send_template", &by_sms).unwrap(),
            BulkAction::SendTemplate { template_id: 7, transport: Some(Transport::Sms) }
        );
        for (params, refused) in [
            (json!({}), ("template_id", "required")),
            (json!({"template_id": 7, "transport": "note"}), ("transport", "invalid_transport")),
            (json!({"template_id": 7, "transport": "fax"}), ("transport", "invalid_transport")),
            (json!({"template_id": 7, "transport": 3}), ("transport", "invalid_transport")),
        ] {
            assert_eq!(field(BulkAction::parse(BulkEntity::Clients, "send_template", &params).unwrap_err()), refused);
        }
        assert_eq!(
            field(BulkAction::parse(BulkEntity::Companies, "send_template", &by_sms).unwrap_err()),
            ("action", "unsupported_action")
        );
    }

    #[test]
    fn an_action_round_trips_as_stored() {
        for a in [
            BulkAction::MoveStage { stage_id: StageId(9) },
            BulkAction::SendTemplate { template_id: 4, transport: Some(Transport::Whatsapp) },
        ] {
            let stored = serde_json::to_value(&a).unwrap();
            assert_eq!(serde_json::from_value::<BulkAction>(stored).unwrap(), a);
        }
    }
}
