//! The custom values panel of a client's, company's or deal's page: built for the reader, and
//! its form read back into values (checked by the record's service, like any write).

use std::collections::HashMap;

use serde_json::Value;

use crate::domain::DomainError;
use crate::domain::custom_field::{CustomValues, FieldEntity, FieldKind};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
pub use crate::web::views::custom_fields::Refused;
use crate::web::views::custom_fields::{CustomInputs, ValuesPanel};

/// Which form a company's or deal's page shows open, after a refusal or when asked: one at a
/// time.
pub enum Reopened {
    Nothing,
    /// The record's edit form, as typed, with its errors.
    Form(HashMap<String, String>, crate::web::views::FormErrors),
    /// The tag picker, with why the tags were refused.
    Tags(&'static str),
    /// The custom values form: asked for (`None`), or refused.
    Custom(Option<Refused>),
}

impl Reopened {
    /// `?edit=custom` opens the values form.
    pub fn asked(edit: Option<&String>) -> Self {
        if edit.is_some_and(|e| e == "custom") { Reopened::Custom(None) } else { Reopened::Nothing }
    }

    /// What `panel` takes: whether the values form is open, and what was refused in it.
    pub fn custom(&mut self) -> (bool, Option<Refused>) {
        match std::mem::replace(self, Reopened::Nothing) {
            Reopened::Custom(refused) => (true, refused),
            other => {
                *self = other;
                (false, None)
            }
        }
    }
}

/// The panel of a record of `entity` holding `values`, posting to `action`; open as a form
/// when `editing` or refused.
pub async fn panel(
    state: &AppState,
    me: &CurrentUser,
    (entity, action): (FieldEntity, String),
    values: &CustomValues,
    can_edit: bool,
    (editing, refused): (bool, Option<Refused>),
) -> Result<ValuesPanel, AppError> {
    let fields = state.custom_fields.list(&me.principal, entity).await?;
    let refused = refused.or_else(|| editing.then(Default::default));
    Ok(ValuesPanel::new(me.tr, me.csrf.clone(), action, &fields, values, refused, can_edit))
}

/// The values a panel's form sent (`custom.KEY`, once per ticked option of a multi-select),
/// as the record's service takes them: each field sent, a multi-select as its list.
pub async fn sent(
    state: &AppState,
    me: &CurrentUser,
    entity: FieldEntity,
    form: &[(String, String)],
) -> Result<(CustomValues, HashMap<String, Vec<String>>), AppError> {
    let fields = state.custom_fields.list(&me.principal, entity).await?;
    let mut typed: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in form {
        if let Some(key) = name.strip_prefix("custom.") {
            typed.entry(key.to_owned()).or_default().push(value.clone());
        }
    }
    let mut values = CustomValues::new();
    for (key, sent) in &typed {
        let multi = fields.iter().any(|f| f.key == *key && f.kind == FieldKind::MultiSelect);
        let value = match multi {
            true => Value::Array(sent.iter().filter(|v| !v.is_empty()).map(|v| Value::String(v.clone())).collect()),
            false => Value::String(sent.first().cloned().unwrap_or_default()),
        };
        values.insert(key.clone(), value);
    }
    for list in typed.values_mut() {
        list.retain(|v| !v.is_empty());
    }
    Ok((values, typed))
}

/// The custom inputs of a new record of `entity` (`None` when the tenant has no such fields),
/// with what was typed and why it was refused when it was.
pub async fn new_inputs(
    state: &AppState,
    me: &CurrentUser,
    entity: FieldEntity,
    refused: Option<Refused>,
) -> Result<Option<CustomInputs>, AppError> {
    let fields = state.custom_fields.list(&me.principal, entity).await?;
    Ok((!fields.is_empty()).then(|| CustomInputs::new(me.tr, &fields, refused)))
}

/// A new record's form as sent: its own fields (the last value of each), and its custom
/// values with what was typed.
pub async fn new_record(
    state: &AppState,
    me: &CurrentUser,
    entity: FieldEntity,
    form: &[(String, String)],
) -> Result<(HashMap<String, String>, CustomValues, HashMap<String, Vec<String>>), AppError> {
    let own = form.iter().filter(|(k, _)| !k.starts_with("custom.")).cloned().collect();
    let (values, typed) = sent(state, me, entity, form).await?;
    Ok((own, values, typed))
}

/// What a refused new record's custom inputs show: what was typed, and why each value was
/// refused.
pub fn refused(
    me: &CurrentUser,
    typed: HashMap<String, Vec<String>>,
    error: &crate::services::ServiceError,
) -> Refused {
    let reasons = match error {
        crate::services::ServiceError::Invalid(errors) => reasons(me, errors),
        _ => HashMap::new(),
    };
    (typed, reasons)
}

/// Why each value was refused, by key, in the reader's language.
pub fn reasons(me: &CurrentUser, errors: &[DomainError]) -> HashMap<String, &'static str> {
    errors.iter().filter_map(|e| e.key.as_ref().map(|k| (k.clone(), me.tr.error(e.code)))).collect()
}
