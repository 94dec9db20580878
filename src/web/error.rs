//! `AppError`: the one place that maps failures to HTTP statuses. Handlers return it; the
//! `render` middleware then shapes it for the caller: a JSON error under /api, a sign-in redirect
//! or a page in the application's look everywhere else.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;

use crate::domain::{DomainError, Locale};
use crate::i18n::{self, Tr};
use crate::services::ServiceError;
use crate::web::AppState;
use crate::web::auth::{self, RequestLocale};
use crate::web::views::errors::ErrorPage;
use crate::web::views::{Area, Shell};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign-in required")]
    SignInRequired,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF token missing or wrong")]
    CsrfRejected,
    #[error("not found")]
    NotFound,
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("invalid input")]
    Invalid(Vec<DomainError>),
    /// One invalid value in a field named by the request itself (a JSON path, a parameter).
    #[error("invalid {field}: {code}")]
    InvalidField { field: String, code: &'static str },
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    #[error("refused: {code}")]
    Refused { code: &'static str },
    #[error("too many attempts")]
    Throttled { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Box::new(e))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::SignInRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) | AppError::InvalidField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } | AppError::Refused { .. } => StatusCode::CONFLICT,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine code for JSON clients; also the i18n key suffix of the message.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::SignInRequired => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::CsrfRejected => "csrf",
            AppError::NotFound => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid(_) | AppError::InvalidField { .. } => "invalid",
            AppError::Conflict { .. } => "conflict",
            AppError::Refused { code } => code,
            AppError::Throttled { .. } => "throttled",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => AppError::Invalid(errors),
            ServiceError::Conflict { field } | ServiceError::Duplicate { field, .. } => AppError::Conflict { field },
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::Refused { code } => AppError::Refused { code },
            ServiceError::BadCredentials => AppError::SignInRequired,
            ServiceError::Throttled { retry_after_secs } => AppError::Throttled { retry_after_secs },
            // Text the database refuses (a character its encoding has no place for): the
            // caller's input, never our fault.
            ServiceError::Repo(r) if r.is_unstorable_text() => AppError::BadRequest(format!("unstorable text: {r}")),
            ServiceError::Repo(r) => AppError::internal(r),
            ServiceError::Files(f) => AppError::internal(f),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Invalid(vec![e])
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal(e)
    }
}

/// What `render` needs to shape an error response; carried as a response extension.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub code: &'static str,
    pub fields: Vec<(String, &'static str)>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            // The whole cause chain, once; the span carries the request id.
            let mut chain = cause.to_string();
            let mut source = cause.source();
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            tracing::error!(error = %chain, "request failed");
        }
        let info = ErrorInfo {
            status: self.status(),
            code: self.code(),
            fields: match &self {
                AppError::Invalid(errors) => errors.iter().map(|e| (e.path(), e.code)).collect(),
                AppError::InvalidField { field, code } => vec![(field.clone(), *code)],
                AppError::Conflict { field } => vec![((*field).to_owned(), taken_code(field))],
                _ => Vec::new(),
            },
        };
        let mut res = (info.status, info.code).into_response();
        if let AppError::Throttled { retry_after_secs } = self {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        res.extensions_mut().insert(info);
        res
    }
}

/// Turns every `ErrorInfo` response (and the router's own 404/405) into the caller's format.
pub async fn render(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let here = req.uri().path_and_query().map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let headers = req.headers().clone();
    let res = next.run(req).await;

    // Probes and scrapers get the plain answers they expect.
    if matches!(path.as_str(), "/healthz" | "/readyz" | "/metrics") {
        return res;
    }
    let info = match res.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        // Rejections from axum's extractors and the router (bad form, 405…) carry no ErrorInfo
        // and answer in plain text; pages and JSON that handlers rendered on purpose pass through.
        None if (res.status().is_client_error() || res.status().is_server_error()) && is_plain_rejection(&res) => {
            ErrorInfo {
                status: res.status(),
                code: match res.status() {
                    StatusCode::NOT_FOUND => "not_found",
                    StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
                    StatusCode::PAYLOAD_TOO_LARGE => "too_large",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                    StatusCode::UNPROCESSABLE_ENTITY => "invalid",
                    StatusCode::REQUEST_TIMEOUT => "timeout",
                    s if s.is_server_error() => "internal",
                    _ => "bad_request",
                },
                fields: Vec::new(),
            }
        }
        None => return res,
    };

    let english = Tr::new(Locale::En);
    if path.starts_with("/api/") {
        let fields: serde_json::Map<String, serde_json::Value> =
            info.fields.iter().map(|(f, code)| (f.clone(), json!([english.error(code)]))).collect();
        let mut body = json!({"error": {"code": info.code, "message": message_of(english, &info)}});
        if !fields.is_empty() {
            body["error"]["fields"] = fields.into();
        }
        let mut out = (info.status, Json(body)).into_response();
        copy_header(&res, &mut out, header::RETRY_AFTER);
        if info.status == StatusCode::UNAUTHORIZED {
            out.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return out;
    }

    if info.status == StatusCode::UNAUTHORIZED {
        let to = format!("/login?next={}", urlencode(&here));
        if headers.contains_key("hx-request") {
            let mut out = StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = HeaderValue::from_str(&to) {
                out.headers_mut().insert("hx-redirect", v);
            }
            return out;
        }
        return Redirect::to(&to).into_response();
    }

    let principal = auth::session_from_headers(&state, &headers).await;
    let locale = RequestLocale::resolve(principal.as_ref().map(|(p, _)| p), &headers);
    let tr = Tr::new(locale);
    let shell = match &principal {
        // The page of the area the address is in, not Home's.
        Some((p, token)) => {
            Shell::signed_in(p, tr, auth::csrf_for_session(&state, token), None, Area::of_path(&path), here)
        }
        None => Shell::anonymous(tr, String::new()),
    };
    let title = tr.t(error_title_key(info.status));
    let message = message_of(tr, &info);
    let page = ErrorPage { shell, status: info.status.as_u16(), title, message };
    let mut out = match askama::Template::render(&page) {
        Ok(html) => (info.status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page failed");
            (info.status, info.code).into_response()
        }
    };
    copy_header(&res, &mut out, header::RETRY_AFTER);
    out
}

/// What an error page or JSON error says: a code with a message of its own (last_admin,
/// stage_has_deals, csrf…) says exactly what went wrong; others say what their status means.
fn message_of(tr: Tr, info: &ErrorInfo) -> &'static str {
    match info.code {
        code if i18n::exists(&format!("error.{code}")) => tr.error(code),
        _ => tr.t(error_message_key(info.status)),
    }
}

/// The message code for a unique value already taken, per field: the one place a conflict
/// gets its words, for pages and the API alike.
pub fn taken_code(field: &str) -> &'static str {
    match field {
        "phone" => "phone_taken",
        "pin" => "pin_taken",
        "email" => "email_taken",
        "value" => "value_taken",
        "shortcut" => "shortcut_taken",
        "from" => "from_taken",
        "messaging_service_sid" => "messaging_service_sid_taken",
        "tax_id" => "tax_id_taken",
        "name" => "name_taken",
        _ => "taken",
    }
}

fn is_plain_rejection(res: &Response) -> bool {
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    !res.headers().contains_key(header::LOCATION)
        && !content_type.starts_with("text/html")
        && !content_type.starts_with("application/json")
}

fn copy_header(from: &Response, to: &mut Response, name: header::HeaderName) {
    if let Some(v) = from.headers().get(&name) {
        to.headers_mut().insert(name, v.clone());
    }
}

fn error_title_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        403 => "errors.403.title",
        404 => "errors.404.title",
        409 => "errors.409.title",
        429 => "errors.429.title",
        400..=499 => "errors.400.title",
        _ => "errors.500.title",
    }
}

fn error_message_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "errors.401.message",
        403 => "errors.403.message",
        404 => "errors.404.message",
        409 => "errors.409.message",
        422 => "errors.422.message",
        429 => "errors.429.message",
        400..=499 => "errors.400.message",
        _ => "errors.500.message",
    }
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
