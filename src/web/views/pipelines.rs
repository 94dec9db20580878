//! Settings → Pipelines: each pipeline with its stages in order, every one editable in place,
//! ordered with "earlier/later" buttons (keyboard-friendly), and forms to add more.

use std::collections::HashMap;

use askama::Template;

use crate::domain::pipeline::{Pipeline, StageKind};
use crate::web::views::settings::TabLink;
use crate::web::views::{FormErrors, Shell};

#[derive(Template)]
#[template(path = "settings/pipelines.html")]
pub struct PipelinesPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub pipelines: Vec<PipelineView>,
    /// The form that was refused, what was typed in it and why.
    pub failed: Option<Failed>,
}

pub struct PipelineView {
    pub id: i64,
    pub name: String,
    pub stages: Vec<StageView>,
    /// A tenant keeps one pipeline at least.
    pub can_delete: bool,
}

pub struct StageView {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub probability: u8,
    pub color: String,
    pub first: bool,
    pub last: bool,
}

/// A refused form: which one (`new`, `pipeline-ID`, `add-ID`, `stage-ID`), its fields as typed,
/// and each field's message.
pub struct Failed {
    pub form: String,
    pub typed: HashMap<String, String>,
    pub errors: FormErrors,
}

impl PipelineView {
    pub fn of(list: Vec<Pipeline>) -> Vec<PipelineView> {
        let many = list.len() > 1;
        list.into_iter()
            .map(|p| {
                let n = p.stages.len();
                PipelineView {
                    id: p.id.0,
                    name: p.name,
                    can_delete: many,
                    stages: p
                        .stages
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| StageView {
                            id: s.id.0,
                            name: s.name,
                            kind: s.kind.as_str(),
                            probability: s.probability,
                            color: s.color.as_str().to_owned(),
                            first: i == 0,
                            last: i + 1 == n,
                        })
                        .collect(),
                }
            })
            .collect()
    }
}

impl PipelinesPage {
    /// The kinds a stage may have: value and label key.
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        StageKind::ALL.into_iter().map(|k| (k.as_str(), kind_label(k.as_str()))).collect()
    }

    /// What field `field` of form `form` shows: what was typed there if it was refused, else
    /// `stored`.
    pub fn value(&self, form: &str, field: &str, stored: &str) -> String {
        match &self.failed {
            Some(f) if f.form == form => f.typed.get(field).cloned().unwrap_or_default(),
            _ => stored.to_owned(),
        }
    }

    /// The message beside field `field` of form `form`, if it was refused for it.
    pub fn error(&self, form: &str, field: &str) -> Option<&'static str> {
        self.failed.as_ref().filter(|f| f.form == form).and_then(|f| f.errors.get(field))
    }

    /// A refusal of form `form` about no one field (say, "a pipeline needs an open stage").
    pub fn form_error(&self, form: &str) -> Option<&'static str> {
        self.error(form, "stages").or_else(|| self.error(form, "pipeline"))
    }
}

/// The label key of a stage kind.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "won" => "pipelines.kind.won",
        "lost" => "pipelines.kind.lost",
        _ => "pipelines.kind.open",
    }
}
