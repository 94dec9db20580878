//! Error pages (403, 404, 429, 500…) in the application's look.

use askama::Template;

use super::Shell;

#[derive(Template)]
#[template(path = "errors/error.html")]
pub struct ErrorPage {
    pub shell: Shell,
    pub status: u16,
    pub title: &'static str,
    pub message: &'static str,
}
