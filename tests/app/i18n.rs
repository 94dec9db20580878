//! Translations: complete in every language, and the right language for each request.

use std::collections::{BTreeSet, HashMap};

use crm::domain::Role;

use crate::helpers::TestApp;

fn catalog(locale: &str) -> HashMap<String, String> {
    let path = format!("{}/locales/{locale}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_key_exists_in_every_locale() {
    let en: BTreeSet<String> = catalog("en").into_keys().collect();
    for locale in ["ru", "uz"] {
        let other: BTreeSet<String> = catalog(locale).into_keys().collect();
        let missing: Vec<_> = en.difference(&other).collect();
        let extra: Vec<_> = other.difference(&en).collect();
        assert!(missing.is_empty(), "{locale}.json lacks {missing:?}");
        assert!(extra.is_empty(), "{locale}.json has keys en.json lacks: {extra:?}");
    }
}

#[test]
fn no_translation_is_empty_and_placeholders_match() {
    let en = catalog("en");
    for locale in ["en", "ru", "uz"] {
        for (key, text) in catalog(locale) {
            assert!(!text.trim().is_empty(), "{locale}: {key} is empty");
            let wanted: BTreeSet<&str> = en[&key].split('{').skip(1).filter_map(|s| s.split('}').next()).collect();
            let found: BTreeSet<&str> = text.split('{').skip(1).filter_map(|s| s.split('}').next()).collect();
            assert_eq!(wanted, found, "{locale}: {key} placeholders");
        }
    }
}

/// Every literal key the templates and code ask for (`t("…")`, `t1("…"`) exists in en.json.
#[test]
fn every_key_used_exists() {
    let en = catalog("en");
    let root = env!("CARGO_MANIFEST_DIR");
    let mut missing = Vec::new();
    let mut stack = vec![format!("{root}/templates"), format!("{root}/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path.display().to_string());
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for pattern in ["t(\"", "t1(\""] {
                for (i, _) in text.match_indices(pattern) {
                    let key: String = text[i + pattern.len()..].chars().take_while(|c| *c != '"').collect();
                    // `count("key"`: the key names a family of plural forms.
                    let key = if text[..i].ends_with("coun") { format!("{key}.other") } else { key };
                    let looks_like_key = key.contains('.')
                        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
                    if looks_like_key && !en.contains_key(&key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
            // A domain error's code is shown through `error.<code>`.
            for (i, _) in text.match_indices("DomainError::new(\"") {
                let args: String =
                    text[i..].chars().skip_while(|c| *c != ',').skip(1).take_while(|c| *c != ')').collect();
                let code = args.trim().trim_matches('"');
                let literal = args.trim().starts_with('"');
                if literal && !en.contains_key(&format!("error.{code}")) {
                    missing.push(format!("{}: error.{code}", path.display()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "keys used but not in en.json: {missing:#?}");
}

#[tokio::test]
async fn the_browsers_language_is_used_before_sign_in() {
    let app = TestApp::spawn().await;
    let client = app.client();
    *client.accept_language.lock().unwrap() = Some("uz-UZ,uz;q=0.9,en;q=0.5".into());
    let page = client.get("/login").await;
    assert!(page.body.contains("<html lang=\"uz\">"));
    assert!(page.body.contains("Kirish"));
    *client.accept_language.lock().unwrap() = Some("de-DE".into());
    assert!(client.get("/login").await.body.contains("<html lang=\"en\">"), "English when nothing matches");
}

#[tokio::test]
async fn the_users_setting_beats_the_browser() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Agent).await;
    *client.accept_language.lock().unwrap() = Some("uz".into());
    assert!(client.get("/crm").await.body.contains("<html lang=\"uz\">"));
    client.post("/crm/locale", &[("locale", "ru"), ("back", "/crm/settings/profile")]).await;
    let page = client.get("/crm").await;
    assert!(page.body.contains("<html lang=\"ru\">"));
    assert!(page.body.contains("Настройки"));
}

#[tokio::test]
async fn switching_language_returns_to_the_same_page_and_never_off_site() {
    let app = TestApp::spawn().await;
    let client = app.sign_in_as(Role::Agent).await;
    let back = client.post("/crm/locale", &[("locale", "uz"), ("back", "/crm/settings/tokens")]).await;
    assert_eq!(back.location(), Some("/crm/settings/tokens"));
    let evil = client.post("/crm/locale", &[("locale", "en"), ("back", "https://evil.example")]).await;
    assert_eq!(evil.location(), Some("/crm"));
}

#[tokio::test]
async fn the_language_picked_on_the_sign_in_page_stays_through_a_wrong_password_and_after() {
    let app = TestApp::spawn().await;
    let creds = app.create_user(app.tenant, Role::Agent).await;
    let client = app.client();
    *client.accept_language.lock().unwrap() = Some("en".into());
    let form = client.get("/login?lang=ru").await;
    assert!(form.body.contains("<html lang=\"ru\">"));
    assert!(form.body.contains(r#"name="lang" value="ru""#), "the form carries the choice");

    let wrong = client.post("/login", &[("email", &creds.email), ("password", "wrong"), ("lang", "ru")]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("<html lang=\"ru\">"), "a wrong password keeps the language");
    assert!(wrong.body.contains("Неверная эл. почта или пароль."));
    assert!(wrong.body.contains(r#"name="lang" value="ru""#), "and the next attempt carries it again");

    let signed_in =
        client.post("/login", &[("email", &creds.email), ("password", &creds.password), ("lang", "ru")]).await;
    assert_eq!(signed_in.status, 303);
    assert!(client.get("/crm").await.body.contains("<html lang=\"ru\">"), "the choice is the user's language");

    // Kept with the user, not the browser: a later sign-in elsewhere, without choosing, is Russian too.
    let elsewhere = app.client();
    *elsewhere.accept_language.lock().unwrap() = Some("en".into());
    elsewhere.sign_in(&creds).await;
    assert!(elsewhere.get("/crm").await.body.contains("<html lang=\"ru\">"));

    // Signing in without choosing leaves a saved language alone.
    let plain = app.client();
    *plain.accept_language.lock().unwrap() = Some("uz".into());
    plain.sign_in(&creds).await;
    assert!(plain.get("/crm").await.body.contains("<html lang=\"ru\">"));
}

/// Uzbek Latin writes oʻ and gʻ with the turned comma (U+02BB) and the glottal stop with the
/// modifier apostrophe (U+02BC): one character each, not a mix of quotes.
#[test]
fn uzbek_texts_use_one_apostrophe_for_each_sound() {
    for (key, text) in catalog("uz") {
        for (i, c) in text.char_indices() {
            let before = text[..i].chars().last();
            assert!(!matches!(c, '\'' | '‘' | '’' | '`'), "uz: {key} has {c:?} in {text:?}: write ʻ after o/g, else ʼ");
            if c == 'ʼ' {
                assert!(!matches!(before, Some('o' | 'O' | 'g' | 'G')), "uz: {key}: oʻ and gʻ take ʻ, not ʼ: {text:?}");
            }
        }
    }
}
