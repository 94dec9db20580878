//! Who is asking: the session cookie and the `CurrentUser` extractor, permission checks, the
//! request's language, and CSRF protection for every state-changing browser request.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::crypto;
use crate::domain::{Locale, Principal};
use crate::i18n::Tr;
use crate::web::AppState;
use crate::web::cookies;
use crate::web::error::AppError;
use crate::web::flash::Flash;
use crate::web::views::{Area, Shell};

pub const SESSION_COOKIE: &str = "crm_session";
/// A random value given to visitors before sign-in, so the login form has a CSRF token too.
pub const ANON_COOKIE: &str = "crm_anon";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a session: an HMAC of its cookie, so no state is needed to check it and a
/// token is worthless once the session ends.
pub fn csrf_for_session(state: &AppState, session_token: &str) -> String {
    state.config.secret_key.sign("csrf", &csrf_subject(CsrfHolder::Session, session_token))
}

pub fn csrf_for_visitor(state: &AppState, anon: &str) -> String {
    state.config.secret_key.sign("csrf", &csrf_subject(CsrfHolder::Visitor, anon))
}

/// Whose cookie a CSRF token is bound to.
#[derive(Clone, Copy)]
enum CsrfHolder {
    Session,
    Visitor,
}

fn csrf_subject(holder: CsrfHolder, cookie: &str) -> String {
    match holder {
        CsrfHolder::Session => format!("session:{cookie}"),
        CsrfHolder::Visitor => format!("visitor:{cookie}"),
    }
}

/// The signed-in user behind the request's session cookie, if any, with that cookie's value.
pub async fn session_from_headers(state: &AppState, headers: &HeaderMap) -> Option<(Principal, String)> {
    let token = cookies::get(headers, SESSION_COOKIE)?;
    match state.auth.session_principal(token).await {
        Ok(Some(p)) => Some((p, token.to_owned())),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "session look-up failed");
            None
        }
    }
}

/// The request's language: the user's setting, else the browser's Accept-Language, else English.
pub struct RequestLocale;

impl RequestLocale {
    pub fn resolve(principal: Option<&Principal>, headers: &HeaderMap) -> Locale {
        principal
            .and_then(|p| p.locale)
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Locale::from_accept_language)
            })
            .unwrap_or_default()
    }
}

/// A signed-in staff member, with what a page needs to draw its frame. Extracting it from a
/// request without a live session answers "sign in" (a redirect to /login for pages).
pub struct CurrentUser {
    pub principal: Principal,
    pub session_token: String,
    pub csrf: String,
    pub tr: Tr,
    pub flash: Option<Flash>,
    pub here: String,
}

impl CurrentUser {
    pub fn shell(&self, area: Area) -> Shell {
        Shell::signed_in(&self.principal, self.tr, self.csrf.clone(), self.flash.clone(), Some(area), self.here.clone())
    }

    pub fn session_hash(&self) -> Vec<u8> {
        crypto::token_hash(&self.session_token)
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (principal, session_token) =
            session_from_headers(state, &parts.headers).await.ok_or(AppError::SignInRequired)?;
        let tr = Tr::new(RequestLocale::resolve(Some(&principal), &parts.headers)).on_clock(principal.time_zone);
        Ok(Self {
            csrf: csrf_for_session(state, &session_token),
            flash: Flash::from_headers(&parts.headers),
            here: parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            principal,
            session_token,
            tr,
        })
    }
}

/// Paths whose callers prove themselves otherwise: API tokens, webhook signatures.
fn exempt_from_csrf(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/crm/webhooks/") || path.starts_with("/tg/")
}

/// Refuses (403, nothing changed) any unsafe-method browser request whose CSRF token — the
/// `X-CSRF-Token` header (htmx), the `_csrf` form field, or for an upload `?_csrf=` — does
/// not match its cookie.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) || exempt_from_csrf(req.uri().path()) {
        return next.run(req).await;
    }
    // A token bound to the session, or (before sign-in) to the visitor cookie. A browser may
    // hold both for a moment: a stale session cookie on the login page.
    let subjects: Vec<String> = [
        cookies::get(req.headers(), SESSION_COOKIE).map(|s| csrf_subject(CsrfHolder::Session, s)),
        cookies::get(req.headers(), ANON_COOKIE).map(|a| csrf_subject(CsrfHolder::Visitor, a)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let key = state.config.secret_key.clone();
    let matches = |sent: &str| subjects.iter().any(|subject| key.verify("csrf", subject, sent));
    if subjects.is_empty() {
        return AppError::CsrfRejected.into_response();
    }

    if let Some(sent) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if matches(sent) { next.run(req).await } else { AppError::CsrfRejected.into_response() };
    }

    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // An upload (multipart) without JavaScript carries its token in the form's action URL:
    // reading it from the body would mean buffering the whole file first. Request logs hold
    // paths only, never queries.
    if content_type.starts_with("multipart/form-data") {
        let sent = req.uri().query().and_then(|q| form_field(q.as_bytes(), CSRF_FIELD));
        return if sent.is_some_and(|s| matches(&s)) {
            next.run(req).await
        } else {
            AppError::CsrfRejected.into_response()
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return AppError::CsrfRejected.into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::web::MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => return AppError::BadRequest("form too large".into()).into_response(),
    };
    let sent = form_field(&bytes, CSRF_FIELD);
    if !sent.is_some_and(|s| matches(&s)) {
        return AppError::CsrfRejected.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The first value of `name` in an urlencoded body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_form_field_with_percent_escapes() {
        assert_eq!(form_field(b"a=1&_csrf=ab%2Dc&x=", "_csrf").as_deref(), Some("ab-c"));
        assert_eq!(form_field(b"email=a%40b.io&name=Ann+Lee", "name").as_deref(), Some("Ann Lee"));
        assert_eq!(form_field(b"a=1", "_csrf"), None);
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn api_and_webhooks_are_exempt_and_pages_are_not() {
        assert!(exempt_from_csrf("/api/v1/clients"));
        assert!(exempt_from_csrf("/tg/webhook"));
        assert!(!exempt_from_csrf("/crm/settings/users"));
        assert!(!exempt_from_csrf("/login"));
    }
}
