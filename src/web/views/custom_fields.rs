//! Custom fields as pages show them: Settings → Fields, where admins keep each kind of
//! record's fields, and the values panel of a client's, company's or deal's page.

use std::collections::HashMap;

use askama::Template;
use serde_json::Value;

use crate::domain::custom_field::{CustomField, CustomValues, FieldEntity, FieldKind, RESTORABLE_DAYS};
use crate::i18n::Tr;
use crate::web::views::settings::TabLink;
use crate::web::views::{FormErrors, Shell};

/// The label key of a field type, for menus and lists.
pub fn kind_label(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "fields.type.text",
        FieldKind::Number => "fields.type.number",
        FieldKind::Date => "fields.type.date",
        FieldKind::Boolean => "fields.type.boolean",
        FieldKind::Select => "fields.type.select",
        FieldKind::MultiSelect => "fields.type.multiselect",
        FieldKind::Url => "fields.type.url",
        FieldKind::Email => "fields.type.email",
        FieldKind::Phone => "fields.type.phone",
    }
}

/// The label key of a kind of record, as the page's tabs name it.
pub fn entity_label(entity: FieldEntity) -> &'static str {
    match entity {
        FieldEntity::Client => "fields.entity.client",
        FieldEntity::Company => "fields.entity.company",
        FieldEntity::Deal => "fields.entity.deal",
    }
}

/// A refused form of the settings page: which (`new`, `field-ID`), what was typed and why.
pub struct FailedField {
    pub form: String,
    pub typed: HashMap<String, String>,
    pub errors: FormErrors,
}

/// A removed field, as the page offers to bring it back.
pub struct RemovedRow {
    pub field: CustomField,
    /// Whole days left to bring it back.
    pub days_left: i64,
}

#[derive(Template)]
#[template(path = "settings/fields.html")]
pub struct FieldsPage {
    pub shell: Shell,
    pub tabs: Vec<TabLink>,
    pub entity: FieldEntity,
    pub fields: Vec<CustomField>,
    pub removed: Vec<RemovedRow>,
    pub failed: Option<FailedField>,
}

impl FieldsPage {
    pub fn new(
        shell: Shell,
        tabs: Vec<TabLink>,
        entity: FieldEntity,
        all: Vec<CustomField>,
        failed: Option<FailedField>,
    ) -> Self {
        let now = chrono::Utc::now();
        let (removed, fields): (Vec<_>, Vec<_>) = all.into_iter().partition(|f| f.removed_at.is_some());
        let removed = removed
            .into_iter()
            .map(|field| {
                let gone = field.removed_at.map_or(0, |at| (now - at).num_days());
                RemovedRow { days_left: (RESTORABLE_DAYS - gone).max(0), field }
            })
            .collect();
        Self { shell, tabs, entity, fields, removed, failed }
    }

    /// The kinds of record, as links: (href, label key, current).
    pub fn entity_tabs(&self) -> Vec<(String, &'static str, bool)> {
        FieldEntity::ALL
            .into_iter()
            .map(|e| (format!("/crm/settings/fields?entity={}", e.as_str()), entity_label(e), e == self.entity))
            .collect()
    }

    /// Every type, for the new field's menu: (value, label key).
    pub fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        FieldKind::ALL.into_iter().map(|k| (k.as_str(), kind_label(k))).collect()
    }

    pub fn kind_label(&self, kind: &FieldKind) -> &'static str {
        kind_label(*kind)
    }

    /// What field `name` of form `form` shows: what was typed if it was refused, else `stored`.
    pub fn value(&self, form: &str, name: &str, stored: &str) -> String {
        match &self.failed {
            Some(f) if f.form == form => f.typed.get(name).cloned().unwrap_or_default(),
            _ => stored.to_owned(),
        }
    }

    /// Whether form `form`'s box `name` is ticked: as sent if refused, else `stored`.
    pub fn ticked(&self, form: &str, name: &str, stored: bool) -> bool {
        match &self.failed {
            Some(f) if f.form == form => f.typed.contains_key(name),
            _ => stored,
        }
    }

    /// The message beside field `name` of form `form`, if it was refused for it.
    pub fn error(&self, form: &str, name: &str) -> Option<&'static str> {
        self.failed.as_ref().filter(|f| f.form == form).and_then(|f| f.errors.get(name))
    }

    pub fn options_text(&self, field: &CustomField) -> String {
        field.options.join("\n")
    }
}

/// What a refused values form sent (by key) and why each value was refused.
pub type Refused = (HashMap<String, Vec<String>>, HashMap<String, &'static str>);

/// One field of a record's values panel: its label and value as read, and as a form input.
#[derive(Clone)]
pub struct ValueRow {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The value as a person reads it ("" when none).
    pub shown: String,
    /// The value as the input holds it: text, or the options ticked.
    pub text: String,
    pub picked: Vec<String>,
    pub options: Vec<String>,
    pub error: Option<&'static str>,
}

impl ValueRow {
    pub fn is(&self, kind: &str) -> bool {
        self.kind.as_str() == kind
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            FieldKind::Number => "text",
            FieldKind::Date => "date",
            FieldKind::Url => "url",
            FieldKind::Email => "email",
            FieldKind::Phone => "tel",
            _ => "text",
        }
    }

    pub fn picked(&self, option: &str) -> bool {
        self.picked.iter().any(|p| p == option)
    }
}

/// A record's custom values: shown, and (for who may write the record) edited in one form.
#[derive(Template)]
#[template(path = "partials/custom_values.html")]
pub struct ValuesPanel {
    pub tr: Tr,
    pub csrf: String,
    /// Where the form posts.
    pub action: String,
    pub rows: Vec<ValueRow>,
    pub can_edit: bool,
    /// Opened as a form (after a refusal, or asked for).
    pub editing: bool,
}

impl ValuesPanel {
    /// The panel of a record holding `values` for `fields`; `typed` and `errors` (by key) when
    /// a change was refused.
    pub fn new(
        tr: Tr,
        csrf: String,
        action: String,
        fields: &[CustomField],
        values: &CustomValues,
        refused: Option<Refused>,
        can_edit: bool,
    ) -> Self {
        let editing = refused.is_some();
        let (typed, errors) = refused.unwrap_or_default();
        let yes_no = (tr.t("common.yes"), tr.t("common.no"));
        let rows = fields
            .iter()
            .map(|f| {
                let stored = values.get(&f.key);
                let (text, picked) = match (typed.get(&f.key), stored) {
                    (Some(t), _) => (t.first().cloned().unwrap_or_default(), t.clone()),
                    (None, Some(Value::Array(items))) => {
                        (String::new(), items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
                    }
                    (None, Some(Value::Bool(b))) => (b.to_string(), vec![b.to_string()]),
                    (None, Some(v)) => {
                        let t = f.display(v, ("true", "false"));
                        (t.clone(), vec![t])
                    }
                    (None, None) => (String::new(), Vec::new()),
                };
                ValueRow {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    kind: f.kind,
                    required: f.required,
                    shown: stored.map(|v| f.display(v, yes_no)).unwrap_or_default(),
                    text,
                    picked,
                    options: f.options.clone(),
                    error: errors.get(&f.key).copied(),
                }
            })
            .collect();
        Self { tr, csrf, action, rows, can_edit, editing }
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    /// The form's inputs.
    pub fn inputs(&self) -> CustomInputs {
        CustomInputs { tr: self.tr, rows: self.rows.clone() }
    }
}

/// Custom fields as a list's columns: those chosen (`cols=KEY` in the list's address, so a
/// saved view keeps them), in the fields' order, and what the Columns menu offers.
#[derive(Default)]
pub struct ListColumns {
    /// Every field of the list's records, to choose from.
    pub choices: Vec<ColumnChoice>,
    chosen: Vec<CustomField>,
}

/// A custom field as the Columns menu offers it.
#[derive(Clone)]
pub struct ColumnChoice {
    pub key: String,
    pub label: String,
    pub chosen: bool,
}

impl ListColumns {
    pub fn new(fields: Vec<CustomField>, cols: &[String]) -> Self {
        let choices = fields
            .iter()
            .map(|f| ColumnChoice { key: f.key.clone(), label: f.label.clone(), chosen: cols.contains(&f.key) })
            .collect();
        Self { choices, chosen: fields.into_iter().filter(|f| cols.contains(&f.key)).collect() }
    }

    /// The `cols` of the list's address, each once, from every pair of its query.
    pub fn asked(pairs: &[(String, String)]) -> Vec<String> {
        let mut cols: Vec<String> = Vec::new();
        for (_, v) in pairs.iter().filter(|(k, v)| k == "cols" && !v.is_empty()) {
            if !cols.contains(v) {
                cols.push(v.clone());
            }
        }
        cols
    }

    /// The chosen columns' headings.
    pub fn heads(&self) -> Vec<&str> {
        self.chosen.iter().map(|f| f.label.as_str()).collect()
    }

    /// A record's values for the chosen columns, as its page shows them: (label, value).
    pub fn values(&self, tr: Tr, custom: &CustomValues) -> Vec<(String, String)> {
        let yes_no = (tr.t("common.yes"), tr.t("common.no"));
        self.chosen
            .iter()
            .map(|f| (f.label.clone(), custom.get(&f.key).map(|v| f.display(v, yes_no)).unwrap_or_default()))
            .collect()
    }

    /// The chosen columns as the list's address carries them ("" for none).
    pub fn query(&self) -> String {
        self.chosen
            .iter()
            .map(|f| format!("cols={}", crate::web::error::urlencode(&f.key)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The inputs of custom values inside a form: a values panel's, or a new record's (whose
/// required fields are asked for there, as the service will).
#[derive(Template)]
#[template(path = "partials/custom_inputs.html")]
pub struct CustomInputs {
    pub tr: Tr,
    pub rows: Vec<ValueRow>,
}

impl CustomInputs {
    /// Inputs for a new record of `fields`: what was typed and why it was refused, if it was.
    pub fn new(tr: Tr, fields: &[CustomField], refused: Option<Refused>) -> Self {
        ValuesPanel::new(tr, String::new(), String::new(), fields, &CustomValues::new(), refused, true).inputs()
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }
}
