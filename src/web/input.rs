//! Text no handler should see: a NUL character, which PostgreSQL cannot store in text. Every
//! query parameter, urlencoded form field and JSON string (and key) of a request is checked
//! before a handler runs, and the first one holding a NUL is named in a 422. Webhooks are not
//! checked here: they prove themselves first, and what providers send is cleaned instead
//! (`services::inbound`). Multipart forms check their text fields as they read them.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::web::error::AppError;

/// Paths whose requests are verified (webhooks) or carry no text of ours.
fn exempt(path: &str) -> bool {
    ["/crm/webhooks/", "/tg/", "/static/", "/media/"].iter().any(|p| path.starts_with(p))
}

pub async fn reject_nul(req: Request, next: Next) -> Response {
    if exempt(req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(field) = req.uri().query().and_then(|q| nul_in_form(q.as_bytes())) {
        return refuse(field);
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let json = content_type.starts_with("application/json");
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    if !json && !form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::web::MAX_BODY_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let offender = if json {
        // Unreadable JSON goes on to the handler, whose extractor says what is wrong with it.
        serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| nul_in_json(&v, String::new()))
    } else {
        nul_in_form(&bytes)
    };
    match offender {
        Some(field) => refuse(field),
        None => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    }
}

fn refuse(field: String) -> Response {
    AppError::InvalidField { field, code: "contains_nul" }.into_response()
}

/// The first field of an urlencoded text whose name or value holds a NUL.
fn nul_in_form(text: &[u8]) -> Option<String> {
    form_urlencoded::parse(text).find(|(k, v)| k.contains('\0') || v.contains('\0')).map(|(k, _)| k.replace('\0', ""))
}

/// The path (`contacts[0].value`) of the first string or key holding a NUL.
fn nul_in_json(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(at),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| nul_in_json(v, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if at.is_empty() { k.replace('\0', "") } else { format!("{at}.{}", k.replace('\0', "")) };
            if k.contains('\0') { Some(here) } else { nul_in_json(v, here) }
        }),
        _ => None,
    }
}

/// A multipart file of at most `limit` bytes; `None` if it is larger. The bytes past the limit
/// are read and dropped as they come (the browser gets its answer once it has sent the whole
/// form), so no more than `limit` is ever held.
pub async fn read_file(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<Option<bytes::Bytes>, axum::extract::multipart::MultipartError> {
    // The chunks as they came, joined only once the whole file is known to fit.
    let mut chunks: Vec<bytes::Bytes> = Vec::new();
    let mut size = 0usize;
    while let Some(chunk) = field.chunk().await? {
        size = size.saturating_add(chunk.len());
        if size > limit {
            chunks.clear();
            continue;
        }
        chunks.push(chunk);
    }
    if size > limit {
        return Ok(None);
    }
    let mut whole = bytes::BytesMut::with_capacity(size);
    chunks.iter().for_each(|c| whole.extend_from_slice(c));
    Ok(Some(whole.freeze()))
}

/// Refuses (422, naming `field`) a text read from a multipart form that holds a NUL.
pub fn check_text(field: &str, text: &str) -> Result<(), AppError> {
    if text.contains('\0') {
        return Err(AppError::InvalidField { field: field.to_owned(), code: "contains_nul" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_field_holding_a_nul_is_named() {
        assert_eq!(nul_in_form(b"q=ab%00c&page=1").as_deref(), Some("q"));
        assert_eq!(nul_in_form(b"q=abc&na%00me=x").as_deref(), Some("name"));
        assert_eq!(nul_in_form(b"q=abc&page=1"), None);
        let body = json!({"first_name": "Ann", "contacts": [{"type": "email", "value": "a\u{0}@b.io"}]});
        assert_eq!(nul_in_json(&body, String::new()).as_deref(), Some("contacts[0].value"));
        assert_eq!(nul_in_json(&json!({"a\u{0}b": 1}), String::new()).as_deref(), Some("ab"));
        assert_eq!(nul_in_json(&json!({"comments": "a \\u0000 written out"}), String::new()), None);
        assert_eq!(nul_in_json(&json!(["x", 1, null]), String::new()), None);
    }
}
