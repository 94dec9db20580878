//! Message templates: what an admin may save as a template, checked field by field.

use chrono::{DateTime, Utc};

use super::DomainError;
use super::chat::{MessageBody, Shortcut, unknown_variables};

/// A template as typed in a form or sent to the API; `TemplateInput::parse` checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct TemplateInput {
    pub title: String,
    pub shortcut: String,
    /// The API's name for the body is `template` (the seed's field); the form's is `body`.
    #[serde(alias = "template")]
    pub body: String,
}

/// A template fit to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFields {
    pub title: Option<String>,
    pub shortcut: Option<Shortcut>,
    pub body: MessageBody,
}

impl TemplateInput {
    pub const MAX_TITLE_CHARS: usize = 200;

    /// Every field checked; all errors at once, each naming its field.
    pub fn parse(&self) -> Result<TemplateFields, Vec<DomainError>> {
        let mut errors = Vec::new();
        let title = self.title.trim();
        if title.chars().count() > Self::MAX_TITLE_CHARS {
            errors.push(DomainError::new("title", "too_long"));
        }
        let shortcut = Shortcut::parse(&self.shortcut).map_err(|e| errors.push(e)).ok().flatten();
        let body = MessageBody::parse(&self.body, false).map_err(|e| errors.push(e)).ok();
        if body.is_some() && !unknown_variables(&self.body).is_empty() {
            errors.push(DomainError::new("body", "unknown_variable"));
        }
        match body {
            Some(body) if errors.is_empty() => {
                Ok(TemplateFields { title: Some(title.to_owned()).filter(|t| !t.is_empty()), shortcut, body })
            }
            _ => Err(errors),
        }
    }
}

/// Valid fields as text again, for the form that edits them.
impl From<&TemplateFields> for TemplateInput {
    fn from(t: &TemplateFields) -> Self {
        TemplateInput {
            title: t.title.clone().unwrap_or_default(),
            shortcut: t.shortcut.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            body: t.body.as_str().to_owned(),
        }
    }
}

/// A saved template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTemplate {
    pub id: i64,
    pub fields: TemplateFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MessageTemplate {
    /// What names it in a list: its title, else its shortcut.
    pub fn label(&self) -> Option<&str> {
        self.fields.title.as_deref().or(self.fields.shortcut.as_ref().map(Shortcut::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_needs_a_body_and_only_known_variables() {
        let ok =
            TemplateInput { title: " Hello ".into(), shortcut: "/Hi".into(), body: "Hi {{client.first_name}}".into() };
        let t = ok.parse().unwrap();
        assert_eq!(t.title.as_deref(), Some("Hello"));
        assert_eq!(t.shortcut.unwrap().as_str(), "hi");

        let bad = TemplateInput { title: "x".repeat(201), shortcut: "a b".into(), body: "Hi {{client.nick}}".into() };
        let codes: Vec<_> = bad.parse().unwrap_err().into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(codes, [("title", "too_long"), ("shortcut", "invalid_shortcut"), ("body", "unknown_variable")]);
        assert_eq!(TemplateInput::default().parse().unwrap_err()[0].code, "required");
    }

    #[test]
    fn saved_fields_as_text_parse_to_the_same_fields() {
        let t = TemplateInput { title: "Hello".into(), shortcut: "hi".into(), body: "Hi {{agent.name}}".into() };
        let fields = t.parse().unwrap();
        assert_eq!(TemplateInput::from(&fields), t);
        assert_eq!(TemplateInput::from(&fields).parse().unwrap(), fields);
    }
}
