//! An import as it is read: the file's head, how far its run got, and its report's lines.

use chrono::{DateTime, Utc};

use super::{Duplicates, Status};
use crate::domain::ClientId;

/// An import as the pages show it (the file itself is read apart, by `content`).
#[derive(Debug, Clone)]
pub struct Import {
    pub id: i64,
    pub created_by: String,
    pub file_name: String,
    pub header: Vec<String>,
    pub sample: Vec<Vec<String>>,
    pub rows_total: i32,
    pub mapping: Option<String>,
    pub duplicates: Duplicates,
    pub dry_run: bool,
    pub status: Status,
    pub error: Option<String>,
    pub counts: Counts,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// How far a run got: rows read, and what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows_done: i32,
    pub created: i32,
    pub merged: i32,
    pub skipped: i32,
    pub failed: i32,
}

/// One line of a report: a field of a row that failed, or a row that duplicates a client (or,
/// in a dry run, an earlier row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub row_no: i32,
    pub field: Option<String>,
    pub code: String,
    pub client_id: Option<ClientId>,
    pub same_as_row: Option<i32>,
}

/// An issue with the name of the client it points at, for the report.
#[derive(Debug, Clone)]
pub struct IssueRow {
    pub issue: Issue,
    pub client_name: Option<String>,
}
