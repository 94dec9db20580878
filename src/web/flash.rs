//! One-shot messages shown on the page after a redirect ("User added"), carried in a short-lived
//! cookie that names a translation key, so they survive the redirect and are shown translated.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::i18n;
use crate::web::cookies;

pub const COOKIE: &str = "crm_flash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
}

#[derive(Debug, Clone)]
pub struct Flash {
    pub kind: FlashKind,
    /// A key of the locale catalogs.
    pub key: &'static str,
}

impl Flash {
    pub fn success(key: &'static str) -> Self {
        Self { kind: FlashKind::Success, key }
    }

    pub fn error(key: &'static str) -> Self {
        Self { kind: FlashKind::Error, key }
    }

    pub fn css_class(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "flash flash-success",
            FlashKind::Error => "flash flash-error",
        }
    }

    /// Reads the flash a previous response left, if it names a real message.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<Flash> {
        let raw = cookies::get(headers, COOKIE)?;
        let (kind, key) = raw.split_once(':')?;
        let kind = match kind {
            "s" => FlashKind::Success,
            "e" => FlashKind::Error,
            _ => return None,
        };
        i18n::catalog(crate::domain::Locale::En).get_key_value(key).map(|(k, _)| Flash { kind, key: k.as_str() })
    }
}

/// A 303 redirect that shows `flash` on the page it leads to.
pub fn redirect(to: &str, flash: Flash) -> Response {
    let kind = match flash.kind {
        FlashKind::Success => "s",
        FlashKind::Error => "e",
    };
    let cookie = cookies::build(COOKIE, &format!("{kind}:{}", flash.key), Some(60), false);
    let mut res = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Clears the flash cookie once a page (not a redirect) has been answered, so it shows once.
pub async fn clear_after_display(req: Request, next: Next) -> Response {
    let had_flash = cookies::get(req.headers(), COOKIE).is_some();
    let mut res = next.run(req).await;
    let sets_flash = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|c| c.starts_with(&format!("{COOKIE}="))));
    if had_flash
        && !res.status().is_redirection()
        && !sets_flash
        && let Ok(v) = HeaderValue::from_str(&cookies::clear(COOKIE))
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_message_keys_are_accepted_from_the_cookie() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::COOKIE, "crm_flash=s:flash.signed_out".parse().unwrap());
        assert_eq!(Flash::from_headers(&headers).map(|f| f.key), Some("flash.signed_out"));
        headers.insert(header::COOKIE, "crm_flash=s:<script>".parse().unwrap());
        assert!(Flash::from_headers(&headers).is_none());
    }
}
