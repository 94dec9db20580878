//! Configuration from the environment (and `.env` when present); `.env.example` documents each variable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::crypto::SecretKey;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("cannot read or create the secret key at {path}: {source}")]
    SecretKey { path: PathBuf, source: std::io::Error },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone)]
pub struct Config {
    /// `None`: the embedded PostgreSQL under `data_dir`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub bind_addr: SocketAddr,
    /// The URL the outside world uses, without a trailing slash.
    pub public_url: String,
    pub secret_key: SecretKey,
    pub twilio_api_base: String,
    pub telegram_api_base: String,
    pub log_format: LogFormat,
    /// Where `/metrics` is served instead of `bind_addr` (`METRICS_ADDR`), if set.
    pub metrics_addr: Option<SocketAddr>,
    /// A bearer token `/metrics` requires (`METRICS_TOKEN`), if set.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url.as_ref().map(|_| "(set)"))
            .field("data_dir", &self.data_dir)
            .field("bind_addr", &self.bind_addr)
            .field("public_url", &self.public_url)
            .field("log_format", &self.log_format)
            .field("metrics_addr", &self.metrics_addr)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "(set)"))
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads `.env` (if any), then the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds the configuration from any source of variables; tests pass a map.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(get("CRM_DATA_DIR").unwrap_or_else(|| "./var".into()));
        let bind_addr: SocketAddr = get("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e: std::net::AddrParseError| ConfigError::Invalid { name: "BIND_ADDR", reason: e.to_string() })?;
        let public_url = get("PUBLIC_URL").unwrap_or_else(|| format!("http://{bind_addr}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "PUBLIC_URL",
                reason: "must start with http:// or https://".into(),
            });
        }
        let secret_key = match get("CRM_SECRET_KEY") {
            Some(raw) => SecretKey::from_config(&raw)
                .map_err(|reason| ConfigError::Invalid { name: "CRM_SECRET_KEY", reason: reason.into() })?,
            None => load_or_create_key(&data_dir)?,
        };
        let log_format = match get("LOG_FORMAT").as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    reason: format!("`{other}`: use text or json"),
                });
            }
        };
        let metrics_addr = get("METRICS_ADDR")
            .map(|a| a.parse::<SocketAddr>())
            .transpose()
            .map_err(|e| ConfigError::Invalid { name: "METRICS_ADDR", reason: e.to_string() })?;
        let metrics_token = get("METRICS_TOKEN").map(|t| t.trim().to_owned());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError::Invalid {
                name: "METRICS_TOKEN",
                reason: "must be at least 16 characters long".into(),
            });
        }
        Ok(Self {
            database_url: get("DATABASE_URL"),
            data_dir,
            bind_addr,
            public_url: public_url.trim_end_matches('/').to_owned(),
            secret_key,
            twilio_api_base: get("TWILIO_API_BASE").unwrap_or_else(|| "https://api.twilio.com".into()),
            telegram_api_base: get("TELEGRAM_API_BASE").unwrap_or_else(|| "https://api.telegram.org".into()),
            log_format,
            metrics_addr,
            metrics_token,
        })
    }

    /// Cookies get the Secure flag when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The key generated into `CRM_DATA_DIR/secret.key` on first run, readable by its owner only.
/// The file holds the key's text, which every start reads as `CRM_SECRET_KEY` would be read.
fn load_or_create_key(data_dir: &Path) -> Result<SecretKey, ConfigError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("secret.key");
    let err = |source| ConfigError::SecretKey { path: path.clone(), source };
    if let Ok(raw) = std::fs::read_to_string(&path) {
        return SecretKey::from_key_file(&raw)
            .map_err(|reason| err(std::io::Error::new(std::io::ErrorKind::InvalidData, reason)));
    }
    std::fs::create_dir_all(data_dir).map_err(err)?;
    let key = SecretKey::generate();
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(err)?;
    file.write_all(key.to_config().as_bytes()).map_err(err)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_documented_table() {
        let c = config(&[("CRM_SECRET_KEY", &"k".repeat(32))]).unwrap();
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.data_dir, PathBuf::from("./var"));
        assert_eq!(c.twilio_api_base, "https://api.twilio.com");
        assert_eq!(c.telegram_api_base, "https://api.telegram.org");
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.database_url.is_none());
        assert!(!c.secure_cookies());
    }

    #[test]
    fn an_https_public_url_makes_cookies_secure() {
        let c = config(&[("CRM_SECRET_KEY", &"k".repeat(32)), ("PUBLIC_URL", "https://crm.example.com/")]).unwrap();
        assert_eq!(c.public_url, "https://crm.example.com");
        assert!(c.secure_cookies());
    }

    #[test]
    fn a_generated_key_file_means_the_same_key_at_every_start() {
        let dir = std::env::temp_dir().join(format!("crm-config-{}", uuid::Uuid::new_v4().simple()));
        let data_dir = dir.display().to_string();
        let first = config(&[("CRM_DATA_DIR", &data_dir)]).unwrap().secret_key;
        let text = std::fs::read_to_string(dir.join("secret.key")).unwrap();
        let again = config(&[("CRM_DATA_DIR", &data_dir)]).unwrap().secret_key;
        let sealed = first.seal("channel-secrets", b"auth token");
        assert_eq!(again.open("channel-secrets", &sealed).map(|o| o.stale), Some(false));
        assert_eq!(again.sign("csrf", "session"), first.sign("csrf", "session"));
        // The file's text in CRM_SECRET_KEY is the same key.
        let from_env = config(&[("CRM_SECRET_KEY", &text)]).unwrap().secret_key;
        assert_eq!(from_env.sign("csrf", "session"), first.sign("csrf", "session"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let key = "k".repeat(32);
        for (name, value) in [
            ("BIND_ADDR", "nowhere"),
            ("LOG_FORMAT", "xml"),
            ("PUBLIC_URL", "crm.example.com"),
            ("METRICS_ADDR", "localhost"),
            ("METRICS_TOKEN", "short"),
        ] {
            match config(&[("CRM_SECRET_KEY", &key), (name, value)]) {
                Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(
            config(&[("CRM_SECRET_KEY", "short")]),
            Err(ConfigError::Invalid { name: "CRM_SECRET_KEY", .. })
        ));
    }
}
