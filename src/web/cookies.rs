//! Reading the Cookie header and writing Set-Cookie values with our defaults
//! (Path=/, HttpOnly, SameSite=Lax, Secure when PUBLIC_URL is https).

use axum::http::{HeaderMap, header};

/// The value of cookie `name`, if the request carries it.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// A Set-Cookie value. `max_age` of `None` makes a session cookie.
pub fn build(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

pub fn clear(name: &str) -> String {
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_several() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; crm_session=xyz; b=2".parse().unwrap());
        assert_eq!(get(&h, "crm_session"), Some("xyz"));
        assert_eq!(get(&h, "c"), None);
    }

    #[test]
    fn cookies_are_http_only_and_lax_and_secure_on_https() {
        let c = build("s", "v", Some(10), true);
        assert_eq!(c, "s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=10; Secure");
    }
}
