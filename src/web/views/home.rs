//! The home page after sign-in.

use askama::Template;

use super::Shell;
use super::settings::AuditRow;

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub greeting: String,
    /// Recent changes, for users who may read the audit log.
    pub activity: Option<Vec<AuditRow>>,
}
