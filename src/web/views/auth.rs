//! The sign-in page.

use askama::Template;

use super::Shell;
use crate::domain::Locale;

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub shell: Shell,
    pub email: String,
    pub next: String,
    /// A translated message above the form (wrong credentials, throttled).
    pub error: Option<String>,
    pub notice: Option<&'static str>,
    /// The language picked on this page, carried through the form so a wrong password keeps
    /// it and signing in makes it the user's.
    pub picked: Option<Locale>,
}
