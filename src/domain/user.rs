//! Staff users: their ids, names and password rules.

use std::fmt;

use chrono::{DateTime, Utc};

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A person's display name: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::new("name", "required"));
        }
        if name.chars().count() > 100 {
            return Err(DomainError::new("name", "too_long"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy: 10 to 128 characters, not only one repeated
/// character. Long passphrases beat composition rules (NIST SP 800-63B).
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(DomainError::new("password", "password_too_short"));
        }
        if chars > 128 {
            return Err(DomainError::new("password", "too_long"));
        }
        let mut it = raw.chars();
        let first = it.next();
        if it.all(|c| Some(c) == first) {
            return Err(DomainError::new("password", "password_too_weak"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// A user's API token as listed: its name and the first characters, never the token.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_must_be_long_and_not_one_repeated_character() {
        assert_eq!(Password::parse("short").unwrap_err().code, "password_too_short");
        assert_eq!(Password::parse("aaaaaaaaaaaa").unwrap_err().code, "password_too_weak");
        assert!(Password::parse("correct horse battery").is_ok());
    }
}
