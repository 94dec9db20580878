//! The client import pages: upload, column mapping with a dry run, progress, and the report.

use askama::Template;

use super::{FormErrors, Shell};
use crate::domain::client::import::{Counts, Import, IssueRow};
use crate::domain::client::import::{Duplicates, Encoding, Status, Target};
use crate::domain::custom_field::{CustomField, FieldKey};
use crate::i18n::Tr;

#[derive(Template)]
#[template(path = "clients/import_upload.html")]
pub struct UploadPage {
    pub shell: Shell,
    pub encodings: Vec<(&'static str, &'static str)>,
    pub encoding: &'static str,
    pub errors: FormErrors,
    pub recent: Vec<ImportSummary>,
    pub max_mb: usize,
}

impl UploadPage {
    pub fn encodings() -> Vec<(&'static str, &'static str)> {
        Encoding::ALL.iter().map(|e| (e.as_str(), encoding_label(*e))).collect()
    }
}

fn encoding_label(e: Encoding) -> &'static str {
    match e {
        Encoding::Utf8 => "import.encoding.utf8",
        Encoding::Windows1251 => "import.encoding.windows1251",
        Encoding::Windows1252 => "import.encoding.windows1252",
    }
}

/// One earlier import in the upload page's list.
pub struct ImportSummary {
    pub id: i64,
    pub file_name: String,
    pub created_by: String,
    pub created: String,
    pub status: &'static str,
    pub dry_run: bool,
    pub counts: Counts,
    pub rows_total: i32,
}

impl ImportSummary {
    pub fn new(tr: Tr, i: &Import) -> Self {
        Self {
            id: i.id,
            file_name: i.file_name.clone(),
            created_by: i.created_by.clone(),
            created: tr.datetime(&i.created_at),
            status: status_label(i.status),
            dry_run: i.dry_run,
            counts: i.counts,
            rows_total: i.rows_total,
        }
    }
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Uploaded => "import.status.uploaded",
        Status::Queued => "import.status.queued",
        Status::Running => "import.status.running",
        Status::Checked => "import.status.checked",
        Status::Done => "import.status.done",
        Status::Failed => "import.status.failed",
        Status::Cancelled => "import.status.cancelled",
    }
}

/// The label key of a column target (none for a custom field: its label is the tenant's).
pub fn target_label(t: &Target) -> &'static str {
    match t {
        Target::Ignore => "import.target.ignore",
        Target::Field(f) => match *f {
            "first_name" => "clients.first_name",
            "last_name" => "clients.last_name",
            "middle_name" => "clients.middle_name",
            "phone" => "clients.phone",
            "email" => "clients.email",
            "address" => "clients.address",
            "date_of_birth" => "clients.date_of_birth",
            "gender" => "clients.gender",
            "pin" => "clients.pin",
            "passport_series" => "clients.passport_series",
            "passport_number" => "clients.passport_number",
            _ => "clients.comments",
        },
        Target::Contact(kind) => super::clients::contact_label(kind.as_str()),
        Target::ContactList => "import.target.contacts",
        Target::Custom(_) => "",
    }
}

/// What a column target is called, in the reader's language: a custom field by its label.
pub fn target_name(tr: Tr, t: &Target, custom: &[CustomField]) -> String {
    match t {
        Target::Custom(key) => {
            custom.iter().find(|f| f.key == key.as_str()).map_or_else(|| key.as_str().to_owned(), |f| f.label.clone())
        }
        other => tr.t(target_label(other)).to_owned(),
    }
}

/// One column of the mapping form.
pub struct ColumnView {
    pub index: usize,
    pub header: String,
    pub samples: Vec<String>,
    /// The chosen target, as the form sends it.
    pub selected: String,
    pub error: Option<&'static str>,
}

/// A choice of the column picker: its value, its name, and its group: 0 none, 1 client,
/// 2 contacts, 3 custom fields.
pub struct TargetOption {
    pub value: String,
    pub label: String,
    pub group: u8,
}

/// Every choice of the column picker, the tenant's `custom` client fields last.
pub fn target_options(tr: Tr, custom: &[CustomField]) -> Vec<TargetOption> {
    let keys = custom.iter().filter_map(|f| FieldKey::parse(&f.key).ok()).map(Target::Custom);
    Target::all()
        .into_iter()
        .chain(keys)
        .map(|t| TargetOption {
            value: t.to_string(),
            label: target_name(tr, &t, custom),
            group: match t {
                Target::Ignore => 0,
                Target::Field(_) => 1,
                Target::Contact(_) | Target::ContactList => 2,
                Target::Custom(_) => 3,
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "clients/import_show.html")]
pub struct ImportPage {
    pub shell: Shell,
    pub id: i64,
    pub file_name: String,
    pub created_by: String,
    pub created: String,
    pub rows_total: i32,
    /// The mapping form, while a run may start.
    pub mapping: Option<MappingForm>,
    pub progress: Progress,
    pub report: Option<Report>,
}

pub struct MappingForm {
    pub columns: Vec<ColumnView>,
    pub options: Vec<TargetOption>,
    pub duplicates: &'static str,
    pub can_merge: bool,
    /// A problem with the mapping as a whole (the first name not mapped).
    pub error: Option<&'static str>,
    /// A dry run has checked this file: the import may go ahead.
    pub checked: bool,
}

impl MappingForm {
    /// The tenant has custom client fields to map columns to.
    pub fn has_custom(&self) -> bool {
        self.options.iter().any(|o| o.group == 3)
    }
}

/// Where a run stands; polled while it runs.
#[derive(Template)]
#[template(path = "clients/import_progress.html")]
pub struct Progress {
    pub tr: Tr,
    pub csrf: String,
    pub id: i64,
    pub status: Status,
    pub status_label: &'static str,
    pub dry_run: bool,
    pub counts: Counts,
    pub rows_total: i32,
    pub error: Option<String>,
    pub can_cancel: bool,
}

impl Progress {
    pub fn new(tr: Tr, csrf: String, import: &Import, can_cancel: bool) -> Self {
        Self {
            tr,
            csrf,
            id: import.id,
            status: import.status,
            status_label: status_label(import.status),
            dry_run: import.dry_run,
            counts: import.counts,
            rows_total: import.rows_total,
            error: import.error.clone(),
            can_cancel,
        }
    }

    pub fn running(&self) -> bool {
        self.status.in_progress()
    }

    /// Has a run (dry or not) produced figures to show?
    pub fn has_figures(&self) -> bool {
        !matches!(self.status, Status::Uploaded)
    }

    pub fn percent(&self) -> i32 {
        if self.rows_total == 0 { 0 } else { (self.counts.rows_done as i64 * 100 / self.rows_total as i64) as i32 }
    }
}

/// The rows that failed or were skipped, first ones first.
pub struct Report {
    pub rows: Vec<IssueView>,
    /// More issues than shown: the CSV has them all.
    pub truncated: bool,
}

pub struct IssueView {
    pub line: i32,
    pub outcome: &'static str,
    /// The field at fault, by its name ("" for the row as a whole).
    pub field: String,
    pub message: String,
    pub client: Option<(i64, String)>,
}

impl IssueView {
    pub fn new(tr: Tr, duplicates: Duplicates, row: &IssueRow, custom: &[CustomField]) -> Self {
        let i = &row.issue;
        let outcome = match (i.code.as_str(), duplicates) {
            ("duplicate", _) | ("duplicate_row", Duplicates::Skip) => "import.outcome.skipped",
            ("duplicate_row", Duplicates::Merge) => "import.outcome.merged",
            _ => "import.outcome.failed",
        };
        let message = match (i.code.as_str(), i.same_as_row) {
            ("pin_taken", Some(line)) => tr.t1("error.pin_same_row", "line", &line),
            (_, Some(line)) => tr.t1("error.duplicate_row", "line", &line),
            (code, None) => tr.error(code).to_owned(),
        };
        Self {
            line: i.row_no,
            outcome,
            field: i.field.as_deref().map_or_else(String::new, |f| field_name(tr, f, custom)),
            message,
            client: i.client_id.map(|id| (id.0, row.client_name.clone().unwrap_or_else(|| format!("#{id}")))),
        }
    }
}

/// The name of a field an issue names (`phone`, `contact.telegram`, `custom.tier`).
fn field_name(tr: Tr, field: &str, custom: &[CustomField]) -> String {
    let target = match field.parse::<Target>() {
        Ok(t) if t != Target::Ignore => Some(t),
        _ => field.strip_prefix("contact.").and_then(|k| k.parse().ok()).map(Target::Contact),
    };
    match (target, field) {
        (Some(t), _) => target_name(tr, &t, custom),
        (None, "passport") => tr.t("clients.passport_number").to_owned(),
        (None, _) => String::new(),
    }
}
