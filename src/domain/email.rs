//! Email addresses, for clients and staff alike.

use std::fmt;

use super::DomainError;

/// An email address: trimmed, shaped like `local@domain.tld`, its domain lower-cased (domains
/// are case-insensitive; local parts, strictly, are not, so they keep what people typed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let email = raw.trim();
        if email.is_empty() {
            return Err(DomainError::new("email", "required"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(DomainError::new("email", "invalid_email"));
        };
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if !valid {
            return Err(DomainError::new("email", "invalid_email"));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address wholly lower-cased: staff sign in case-insensitively, so theirs is kept so.
    pub fn folded(&self) -> Email {
        Email(self.0.to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_is_lower_cased_and_the_local_part_kept() {
        assert_eq!(Email::parse("  Ann.Lee@Example.COM ").unwrap().as_str(), "Ann.Lee@example.com");
        assert_eq!(Email::parse("Ann.Lee@Example.COM").unwrap().folded().as_str(), "ann.lee@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_the_field_named() {
        for bad in ["", "ann", "ann@", "@x.io", "ann@localhost", "a b@x.io", "ann@x..io", "a@b@c.io"] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
        }
    }
}
