//! The message template pages: the searchable list and the form that creates or edits one.

use askama::Template;

use super::{FormErrors, Shell};
use crate::domain::chat::TEMPLATE_VARIABLES;
use crate::domain::message_template::MessageTemplate;
use crate::domain::message_template::TemplateInput;
use crate::i18n::Tr;

pub struct TemplateRow {
    pub id: i64,
    pub title: String,
    pub shortcut: String,
    pub body: String,
    pub updated: String,
}

impl TemplateRow {
    pub fn new(tr: Tr, t: &MessageTemplate) -> Self {
        Self {
            id: t.id,
            title: t.fields.title.clone().unwrap_or_default(),
            shortcut: t.fields.shortcut.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            body: t.fields.body.as_str().to_owned(),
            updated: tr.datetime(&t.updated_at),
        }
    }
}

#[derive(Template)]
#[template(path = "message_templates/list.html")]
pub struct TemplatesPage {
    pub shell: Shell,
    pub q: String,
    pub rows: Vec<TemplateRow>,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "message_templates/form.html")]
pub struct TemplateFormPage {
    pub shell: Shell,
    /// `None`: a new template.
    pub id: Option<i64>,
    pub input: TemplateInput,
    pub errors: FormErrors,
}

impl TemplateFormPage {
    /// The variables of the typed text nobody can fill, as typed (`{{client.nick}}`), joined.
    pub fn unknown(&self) -> String {
        crate::domain::chat::unknown_variables(&self.input.body)
            .iter()
            .map(|v| format!("{{{{{v}}}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/crm/instant-messages/{id}"),
            None => "/crm/instant-messages".to_owned(),
        }
    }

    /// The variables a body may hold, as they are typed.
    pub fn variables(&self) -> Vec<String> {
        TEMPLATE_VARIABLES.iter().map(|v| format!("{{{{{v}}}}}")).collect()
    }
}
