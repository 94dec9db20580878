//! The sign-in page.

use askama::Template;

use super::Shell;

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub shell: Shell,
    pub email: String,
    pub next: String,
    /// A translated message above the form (wrong credentials, throttled).
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}
