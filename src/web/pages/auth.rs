//! Signing in and out.

use std::net::SocketAddr;

use axum::Form;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::crypto::random_token;
use crate::domain::Locale;
use crate::i18n::Tr;
use crate::services::ServiceError;
use crate::services::auth::{ClientInfo, SESSION_TTL};
use crate::web::auth::{ANON_COOKIE, RequestLocale, SESSION_COOKIE, csrf_for_visitor, session_from_headers};
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::views::Shell;
use crate::web::views::auth::LoginPage;
use crate::web::{AppState, cookies};

use super::{render, safe_return_path};

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    /// A language picked on the sign-in page itself.
    lang: Option<String>,
}

fn next_or_home(next: &str) -> &str {
    safe_return_path(next).filter(|p| p.starts_with("/crm")).unwrap_or("/crm")
}

/// Shows the sign-in form, giving the visitor the cookie its CSRF token is bound to.
pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if session_from_headers(&state, &headers).await.is_some() {
        return Ok(Redirect::to(next_or_home(&q.next)).into_response());
    }
    let picked = picked(q.lang.as_deref());
    let notice = Flash::from_headers(&headers).map(|f| f.key);
    let form = Filled { email: String::new(), next: q.next, picked };
    page(&state, &headers, StatusCode::OK, form, None, notice)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    /// The language picked on the page, if one was.
    lang: Option<String>,
}

/// A language the visitor picked themself (not one guessed from the browser).
fn picked(lang: Option<&str>) -> Option<Locale> {
    lang.and_then(|l| l.parse().ok())
}

/// What the form shows again.
struct Filled {
    email: String,
    next: String,
    picked: Option<Locale>,
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let picked = picked(form.lang.as_deref());
    let tr = Tr::new(picked.unwrap_or_else(|| RequestLocale::resolve(None, &headers)));
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let client = ClientInfo { ip: &peer.ip().to_string(), user_agent };
    let result = state.auth.sign_in(&form.email, &form.password, picked, client).await;
    let again = Filled { email: form.email, next: form.next.clone(), picked };
    match result {
        Ok(session) => {
            // A fresh session id at every sign-in; the visitor cookie has served its purpose.
            if let Some(old) = cookies::get(&headers, SESSION_COOKIE) {
                let _ = state.auth.sign_out(old).await;
            }
            let mut res = Redirect::to(next_or_home(&form.next)).into_response();
            let secure = state.config.secure_cookies();
            for cookie in [
                cookies::build(SESSION_COOKIE, &session.token, Some(SESSION_TTL.as_secs()), secure),
                cookies::clear(ANON_COOKIE),
            ] {
                res.headers_mut()
                    .append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(AppError::internal)?);
            }
            Ok(res)
        }
        Err(ServiceError::BadCredentials) => {
            let msg = tr.t("login.bad_credentials").to_owned();
            page(&state, &headers, StatusCode::UNAUTHORIZED, again, Some(msg), None)
        }
        Err(ServiceError::Throttled { retry_after_secs }) => {
            let msg = tr.t1("login.throttled", "minutes", &retry_after_secs.div_ceil(60));
            let mut res = page(&state, &headers, StatusCode::TOO_MANY_REQUESTS, again, Some(msg), None)?;
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(res)
        }
        Err(other) => Err(other.into()),
    }
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    form: Filled,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let locale = form.picked.unwrap_or_else(|| RequestLocale::resolve(None, headers));
    // Keep the visitor's cookie if it has one: a second tab's form must stay valid.
    let (anon, new_cookie) = match cookies::get(headers, ANON_COOKIE) {
        Some(a) => (a.to_owned(), None),
        None => {
            let a = random_token();
            let c = cookies::build(ANON_COOKIE, &a, None, state.config.secure_cookies());
            (a, Some(c))
        }
    };
    let view = LoginPage {
        shell: Shell::anonymous(Tr::new(locale), csrf_for_visitor(state, &anon)),
        email: form.email,
        next: form.next,
        error,
        notice,
        picked: form.picked,
    };
    let mut res = render(status, &view)?;
    // Reaching the form with a session cookie means it is stale (ended or expired): drop it.
    let stale_session = cookies::get(headers, SESSION_COOKIE).map(|_| cookies::clear(SESSION_COOKIE));
    for c in new_cookie.into_iter().chain(stale_session) {
        res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&c).map_err(AppError::internal)?);
    }
    Ok(res)
}

/// Ends the session and clears its cookie.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = cookies::get(&headers, SESSION_COOKIE) {
        state.auth.sign_out(token).await?;
    }
    let mut res = flash::redirect("/login", Flash::success("flash.signed_out"));
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookies::clear(SESSION_COOKIE)).map_err(AppError::internal)?,
    );
    Ok(res)
}

/// Signing in and out.
pub fn routes() -> Router<AppState> {
    Router::new().route("/login", get(show).post(submit)).route("/logout", post(sign_out))
}
