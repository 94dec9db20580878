//! What a list offers for bulk actions, and a bulk job's page (its progress, what failed, its file).

use askama::Template;

use crate::domain::bulk::{BulkEntity, Failure, Job};
use crate::web::views::Shell;

/// Where the list of `entity` is (the deals' list, not their board).
pub fn list_path(entity: BulkEntity) -> &'static str {
    match entity {
        BulkEntity::Clients => "/crm/clients",
        BulkEntity::Companies => "/crm/companies",
        BulkEntity::Deals => "/crm/deals/list",
    }
}

/// The choices of a list's bulk bar.
#[derive(Clone, Default)]
pub struct BulkChoices {
    pub tags: Vec<(i64, String)>,
    pub owners: Vec<(i64, String)>,
    /// Stages a deal may be moved to: (id, name, with its pipeline's when there are several).
    pub stages: Vec<(i64, String)>,
    pub can_delete: bool,
    pub can_export: bool,
    /// Templates the reader may send to each client (none: they may not write to clients).
    pub templates: Vec<(i64, String)>,
    /// The transports the tenant can send on: (name, label key).
    pub transports: Vec<(&'static str, &'static str)>,
    /// The list's filter as its address carries it: "all that match" means these.
    pub filter: String,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "jobs/show.html")]
pub struct JobPage {
    pub shell: Shell,
    pub job: Job,
    /// Where the list the job came from is.
    pub back: String,
}

impl JobPage {
    pub fn action_label(&self) -> &'static str {
        self.shell.tr.t(match self.job.action.name() {
            "add_tags" => "bulk.add_tags",
            "remove_tags" => "bulk.remove_tags",
            "set_owner" => "bulk.set_owner",
            "move_stage" => "bulk.move_stage",
            "delete" => "bulk.delete",
            "send_template" => "bulk.send_template",
            _ => "bulk.export",
        })
    }

    pub fn status_label(&self) -> &'static str {
        self.shell.tr.t(match self.job.status.as_str() {
            "queued" => "bulk.status.queued",
            "running" => "bulk.status.running",
            "done" => "bulk.status.done",
            _ => "bulk.status.failed",
        })
    }

    pub fn progress(&self) -> String {
        self.shell
            .tr
            .t("bulk.progress")
            .replace("{done}", &self.job.done.to_string())
            .replace("{total}", &self.job.total.to_string())
            .replace("{failed}", &self.job.failed.to_string())
    }

    pub fn shown_failures(&self) -> &[Failure] {
        &self.job.failures[..self.job.failures.len().min(50)]
    }

    pub fn failure_text(&self, f: &Failure) -> String {
        let code = match f.code.as_str() {
            "not_found" => "bulk.failure.not_found",
            "stage_of_another_pipeline" => "bulk.failure.other_pipeline",
            "no_contact" => "bulk.failure.no_contact",
            "no_client" => "bulk.failure.no_client",
            "client_already_sent" => "bulk.failure.client_already_sent",
            "unfilled_variables" => "bulk.failure.unfilled_variables",
            "template_deleted" => "bulk.failure.template_deleted",
            _ => "bulk.failure.other",
        };
        format!("#{}: {}", f.id, self.shell.tr.t(code))
    }
}

/// A saved view as a list's menu shows it.
pub struct ViewRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub shared: bool,
    /// The reader may delete it (theirs, or they are an admin).
    pub deletable: bool,
}

/// A list's saved views, and what saving the one on screen takes.
#[derive(Default)]
pub struct ViewsBar {
    pub rows: Vec<ViewRow>,
    pub entity: &'static str,
    /// The list's query string now.
    pub query: String,
    pub csrf: String,
}
