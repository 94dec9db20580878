//! A file the browser saves rather than shows: a CSV under its file name.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// `body` as the CSV file `filename` (UTF-8; the caller writes the byte-order mark Excel needs).
pub fn csv(filename: &str, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body.into(),
    )
        .into_response()
}
