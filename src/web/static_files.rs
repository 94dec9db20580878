//! Our CSS, script and vendored htmx and SortableJS, built into the binary (the app works offline and from
//! any directory) and served with long-lived cache headers under a content-hash version.

use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct File {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

static FILES: &[File] = &[
    File { path: "app.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../../static/app.css") },
    File {
        path: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/app.js"),
    },
    File { path: "favicon.svg", content_type: "image/svg+xml", bytes: include_bytes!("../../static/favicon.svg") },
    File {
        path: "vendor/htmx-2.0.11.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/htmx-2.0.11.min.js"),
    },
    File {
        path: "vendor/sortable-1.15.7.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/sortable-1.15.7.min.js"),
    },
    File {
        path: "vendor/htmx-ext-sse-2.2.4.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/htmx-ext-sse-2.2.4.min.js"),
    },
];

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for f in FILES {
        h.update(f.path.as_bytes());
        h.update(f.bytes);
    }
    h.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
});

/// The content hash that versions every static URL (`/static/app.css?v=…`).
pub fn version() -> &'static str {
    &VERSION
}

#[derive(serde::Deserialize)]
pub struct VersionQuery {
    v: Option<String>,
}

pub async fn serve(Path(path): Path<String>, Query(q): Query<VersionQuery>, headers: HeaderMap) -> Response {
    let Some(file) = FILES.iter().find(|f| f.path == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", version());
    // A URL with the current version never changes; one without it may, so it is revalidated.
    let cache =
        if q.v.as_deref() == Some(version()) { "public, max-age=31536000, immutable" } else { "public, max-age=300" };
    let mut res = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, file.content_type)], file.bytes).into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}
