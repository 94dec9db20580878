//! Custom fields: typed fields a tenant's admins add to clients, companies or deals, and the
//! values records hold for them. A field is known by its key (fixed once made), shown by its
//! label (renamed at will: values are kept by key). Values are checked here against the
//! field's kind and options; what the browser or an API client sends is never stored as sent.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::client::Phone;
use super::company::Website;
use super::{DomainError, Email, HomeCountry};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct FieldId(pub i64);

impl std::fmt::Display for FieldId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A record's values by field key: `{"tier": "Gold", "size": 12}`.
pub type CustomValues = Map<String, Value>;

/// How long a removed field may be brought back, its values with it.
pub const RESTORABLE_DAYS: i64 = 30;
/// Most fields of one kind of record.
pub const MAX_FIELDS: usize = 50;
/// Most options of a select, and the longest option and label.
pub const MAX_OPTIONS: usize = 100;
pub const MAX_LABEL: usize = 100;
/// The longest text value.
pub const MAX_TEXT: usize = 2000;

/// The kind of record a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldEntity {
    Client,
    Company,
    Deal,
}

impl FieldEntity {
    pub const ALL: [FieldEntity; 3] = [FieldEntity::Client, FieldEntity::Company, FieldEntity::Deal];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldEntity::Client => "client",
            FieldEntity::Company => "company",
            FieldEntity::Deal => "deal",
        }
    }
}

impl FromStr for FieldEntity {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|e| e.as_str() == s.trim()).ok_or(DomainError::new("entity", "invalid_choice"))
    }
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Boolean,
    Select,
    MultiSelect,
    Url,
    Email,
    Phone,
}

impl FieldKind {
    pub const ALL: [FieldKind; 9] = [
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Date,
        FieldKind::Boolean,
        FieldKind::Select,
        FieldKind::MultiSelect,
        FieldKind::Url,
        FieldKind::Email,
        FieldKind::Phone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Boolean => "boolean",
            FieldKind::Select => "select",
            FieldKind::MultiSelect => "multiselect",
            FieldKind::Url => "url",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
        }
    }

    /// Whether values are picked from the field's options.
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::MultiSelect)
    }
}

impl FromStr for FieldKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim()).ok_or(DomainError::new("type", "invalid_choice"))
    }
}

/// A field's key: a small Latin letter, then up to 39 small letters, digits and underscores.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldKey(String);

impl FieldKey {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let key = raw.trim();
        let valid = key.len() <= 40
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid { Ok(Self(key.to_owned())) } else { Err(DomainError::new("key", "invalid_key")) }
    }

    /// A key made from a label: its Latin letters and digits, small, words joined by `_`
    /// ("Contract size" → `contract_size`); `field` when the label has none ("Размер").
    pub fn from_label(label: &str) -> Self {
        let mut key = String::new();
        for c in label.chars() {
            if c.is_ascii_alphanumeric() {
                key.push(c.to_ascii_lowercase());
            } else if !key.is_empty() && !key.ends_with('_') {
                key.push('_');
            }
        }
        let key = key.trim_matches('_').chars().take(40).collect::<String>();
        let key = key.trim_end_matches('_');
        match key.starts_with(|c: char| c.is_ascii_lowercase()) {
            true => Self(key.to_owned()),
            false if key.is_empty() => Self("field".to_owned()),
            false => Self(format!("f_{}", &key[..key.len().min(38)])),
        }
    }

    /// The key with `_n` after it (a second field labelled alike: `size_2`).
    pub fn numbered(&self, n: usize) -> Self {
        let suffix = format!("_{n}");
        Self(format!("{}{suffix}", &self.0[..self.0.len().min(40 - suffix.len())]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A field as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomField {
    pub id: FieldId,
    pub entity: FieldEntity,
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// What a select offers, in order.
    pub options: Vec<String>,
    pub required: bool,
    pub position: i32,
    /// Removed (hidden, values kept) since; brought back until `RESTORABLE_DAYS` after.
    pub removed_at: Option<DateTime<Utc>>,
}

/// What an admin sends to make or change a field; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct FieldInput {
    pub entity: Option<String>,
    pub key: Option<String>,
    pub label: Option<String>,
    pub kind: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
}

/// A field's checked definition, to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub entity: FieldEntity,
    /// `None`: made from the label when the field is created.
    pub key: Option<FieldKey>,
    pub label: String,
    pub kind: FieldKind,
    pub options: Vec<String>,
    pub required: bool,
}

impl FieldInput {
    /// The definition this input makes of `current` (a new field when `None`), every error at
    /// once. A field's entity and kind are fixed once made (its values were checked against
    /// them); its key too.
    pub fn apply(&self, current: Option<&CustomField>) -> Result<FieldSpec, Vec<DomainError>> {
        let mut errors = Vec::new();
        let entity = match (current, self.entity.as_deref()) {
            (Some(f), None) => Some(f.entity),
            (Some(f), Some(e)) if e.trim() == f.entity.as_str() => Some(f.entity),
            (Some(_), Some(_)) => {
                errors.push(DomainError::new("entity", "fixed"));
                None
            }
            (None, None) => {
                errors.push(DomainError::new("entity", "required"));
                None
            }
            (None, Some(e)) => e.parse().map_err(|e| errors.push(e)).ok(),
        };
        let kind = match (current, self.kind.as_deref()) {
            (Some(f), None) => Some(f.kind),
            (Some(f), Some(k)) if k.trim() == f.kind.as_str() => Some(f.kind),
            (Some(_), Some(_)) => {
                errors.push(DomainError::new("type", "fixed"));
                None
            }
            (None, None) => {
                errors.push(DomainError::new("type", "required"));
                None
            }
            (None, Some(k)) => k.parse().map_err(|e| errors.push(e)).ok(),
        };
        let key = match (current, self.key.as_deref().map(str::trim).filter(|k| !k.is_empty())) {
            (Some(f), Some(k)) if k != f.key => {
                errors.push(DomainError::new("key", "fixed"));
                None
            }
            (Some(_), _) | (None, None) => None,
            (None, Some(k)) => FieldKey::parse(k).map_err(|e| errors.push(e)).ok(),
        };
        let label = match (current, &self.label) {
            (Some(f), None) => f.label.clone(),
            (_, raw) => {
                let label = raw.as_deref().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
                if label.is_empty() {
                    errors.push(DomainError::new("label", "required"));
                } else if label.chars().count() > MAX_LABEL {
                    errors.push(DomainError::new("label", "too_long"));
                }
                label
            }
        };
        let options = match (current, &self.options) {
            (Some(f), None) => f.options.clone(),
            (_, raw) => {
                tidy_options(raw.as_deref().unwrap_or_default()).map_err(|e| errors.push(e)).unwrap_or_default()
            }
        };
        match kind {
            Some(k) if k.has_options() && options.is_empty() => errors.push(DomainError::new("options", "required")),
            Some(k) if !k.has_options() && !options.is_empty() => {
                errors.push(DomainError::new("options", "no_options"))
            }
            _ => {}
        }
        let required = self.required.or(current.map(|f| f.required)).unwrap_or(false);
        match (entity, kind, errors.is_empty()) {
            (Some(entity), Some(kind), true) => Ok(FieldSpec { entity, key, label, kind, options, required }),
            _ => Err(errors),
        }
    }
}

/// A select's options: trimmed, empty ones dropped, each once whatever its case, at most
/// `MAX_OPTIONS` of at most `MAX_LABEL` characters.
fn tidy_options(raw: &[String]) -> Result<Vec<String>, DomainError> {
    let mut options: Vec<String> = Vec::new();
    for o in raw {
        let o = o.split_whitespace().collect::<Vec<_>>().join(" ");
        if o.is_empty() || options.iter().any(|have| have.to_lowercase() == o.to_lowercase()) {
            continue;
        }
        if o.chars().count() > MAX_LABEL {
            return Err(DomainError::new("options", "too_long"));
        }
        options.push(o);
    }
    if options.len() > MAX_OPTIONS {
        return Err(DomainError::new("options", "too_many_options"));
    }
    Ok(options)
}

impl CustomField {
    /// The value `raw` (JSON as an API sends it, or text as a form does) checked and made
    /// canonical for this field; `None` clears it (`null`, "" or an empty list). An error
    /// names `custom.KEY`.
    pub fn check(&self, raw: &Value, home: Option<HomeCountry>) -> Result<Option<Value>, DomainError> {
        let bad = |code: &'static str| DomainError::new("custom", code).at_key(&self.key);
        let text = match raw {
            Value::Null => return Ok(None),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::Array(items) if items.is_empty() => return Ok(None),
            Value::String(s) => Some(s.trim()),
            _ => None,
        };
        let value = match self.kind {
            FieldKind::Text => {
                let s = text.ok_or_else(|| bad("must_be_string"))?;
                if s.chars().count() > MAX_TEXT {
                    return Err(bad("too_long"));
                }
                Value::String(s.to_owned())
            }
            FieldKind::Number => {
                let n = match (raw, text) {
                    (Value::Number(n), _) => n.as_f64(),
                    (_, Some(s)) => s.replace([' ', '\u{a0}'], "").replace(',', ".").parse::<f64>().ok(),
                    _ => None,
                };
                let n = n.filter(|n| n.is_finite() && n.abs() < 1e15).ok_or_else(|| bad("not_a_number"))?;
                if n.fract() == 0.0 {
                    Value::from(n as i64)
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number).ok_or_else(|| bad("not_a_number"))?
                }
            }
            FieldKind::Date => {
                let s = text.ok_or_else(|| bad("invalid_date"))?;
                // ISO, or as spreadsheets in our languages write it: 31.12.2024, 31/12/2024.
                let date = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"]
                    .iter()
                    .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
                    .ok_or_else(|| bad("invalid_date"))?;
                Value::String(date.format("%Y-%m-%d").to_string())
            }
            FieldKind::Boolean => match (raw, text.map(|t| t.to_lowercase().replace(['‘', '’', 'ʻ', '`'], "'"))) {
                (Value::Bool(b), _) => Value::Bool(*b),
                (_, Some(t)) if ["true", "1", "on", "yes", "да", "ha"].contains(&t.as_str()) => Value::Bool(true),
                (_, Some(t)) if ["false", "0", "off", "no", "нет", "yo'q"].contains(&t.as_str()) => {
                    Value::Bool(false)
                }
                _ => return Err(bad("must_be_boolean")),
            },
            FieldKind::Select => {
                let s = text.ok_or_else(|| bad("must_be_string"))?;
                Value::String(self.option(s).ok_or_else(|| bad("unknown_option"))?.to_owned())
            }
            FieldKind::MultiSelect => {
                let picked: Vec<&str> = match raw {
                    Value::Array(items) => items
                        .iter()
                        .map(|v| v.as_str().ok_or_else(|| bad("must_be_string")))
                        .collect::<Result<_, _>>()?,
                    // One option, or several as a sheet (our export) writes them: "a; b".
                    Value::String(s) if self.option(s.trim()).is_some() => vec![s.as_str()],
                    Value::String(s) => s.split(';').collect(),
                    _ => return Err(bad("must_be_string")),
                };
                let mut chosen = Vec::new();
                for p in picked.iter().filter(|p| !p.trim().is_empty()) {
                    chosen.push(self.option(p.trim()).ok_or_else(|| bad("unknown_option"))?);
                }
                // In the options' order, each once.
                let values: Vec<Value> = self
                    .options
                    .iter()
                    .filter(|o| chosen.contains(&o.as_str()))
                    .map(|o| Value::String(o.clone()))
                    .collect();
                if values.is_empty() {
                    return Ok(None);
                }
                Value::Array(values)
            }
            FieldKind::Url => {
                let s = text.ok_or_else(|| bad("invalid_url"))?;
                Value::String(Website::parse(s).map_err(|e| bad(e.code))?.as_str().to_owned())
            }
            FieldKind::Email => {
                let s = text.ok_or_else(|| bad("invalid_email"))?;
                Value::String(Email::parse(s).map_err(|e| bad(e.code))?.as_str().to_owned())
            }
            FieldKind::Phone => {
                let s = text.ok_or_else(|| bad("invalid_phone"))?;
                Value::String(Phone::parse_in(s, home).map_err(|e| bad(e.code))?.as_str().to_owned())
            }
        };
        Ok(Some(value))
    }

    /// The option `raw` names, in any case.
    fn option(&self, raw: &str) -> Option<&str> {
        let lower = raw.to_lowercase();
        self.options.iter().find(|o| o.to_lowercase() == lower).map(String::as_str)
    }

    /// A value as a person reads it: text as it is, a number without trailing zeros, yes/no
    /// by `yes_no`, a multi-select's options joined.
    pub fn display(&self, value: &Value, yes_no: (&str, &str)) -> String {
        match value {
            Value::String(s) => s.clone(),
            Value::Bool(true) => yes_no.0.to_owned(),
            Value::Bool(false) => yes_no.1.to_owned(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            _ => String::new(),
        }
    }
}

/// `current` values with `patch` laid over them, each value checked against its live field
/// in `fields`; a key no live field has is refused (`unknown_field`). When `creating`, every
/// required field must have a value; later, a required value can be changed but not cleared.
/// Values of removed fields stay as they are (hidden, and back when the field is).
pub fn apply_values(
    fields: &[CustomField],
    current: &CustomValues,
    patch: &CustomValues,
    creating: bool,
    home: Option<HomeCountry>,
) -> Result<CustomValues, Vec<DomainError>> {
    let mut out = current.clone();
    let mut errors = Vec::new();
    for (key, raw) in patch {
        let Some(field) = fields.iter().find(|f| f.removed_at.is_none() && f.key == *key) else {
            errors.push(DomainError::new("custom", "unknown_field").at_key(key));
            continue;
        };
        match field.check(raw, home) {
            Ok(Some(v)) => {
                out.insert(key.clone(), v);
            }
            Ok(None) if field.required => errors.push(DomainError::new("custom", "required").at_key(key)),
            Ok(None) => {
                out.remove(key);
            }
            Err(e) => errors.push(e),
        }
    }
    if creating {
        for f in fields.iter().filter(|f| f.removed_at.is_none() && f.required) {
            if !out.contains_key(&f.key) && !patch.contains_key(&f.key) {
                errors.push(DomainError::new("custom", "required").at_key(&f.key));
            }
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The keys whose values differ between `before` and `after`, for an audit entry.
pub fn changed_keys(before: &CustomValues, after: &CustomValues) -> Vec<String> {
    let mut keys: Vec<String> =
        before.keys().chain(after.keys()).filter(|k| before.get(*k) != after.get(*k)).cloned().collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(kind: FieldKind, options: &[&str], required: bool) -> CustomField {
        CustomField {
            id: FieldId(1),
            entity: FieldEntity::Client,
            key: "f".into(),
            label: "F".into(),
            kind,
            options: options.iter().map(|o| o.to_string()).collect(),
            required,
            position: 0,
            removed_at: None,
        }
    }

    #[test]
    fn each_kind_takes_what_people_type_and_keeps_it_canonical() {
        let check = |kind, options: &[&str], raw: Value| field(kind, options, false).check(&raw, None);
        assert_eq!(check(FieldKind::Text, &[], json!("  hello ")), Ok(Some(json!("hello"))));
        assert_eq!(check(FieldKind::Number, &[], json!("12 500,5")), Ok(Some(json!(12500.5))));
        assert_eq!(check(FieldKind::Number, &[], json!(7.0)), Ok(Some(json!(7))));
        assert_eq!(check(FieldKind::Date, &[], json!("2026-02-28")), Ok(Some(json!("2026-02-28"))));
        assert_eq!(check(FieldKind::Boolean, &[], json!("on")), Ok(Some(json!(true))));
        assert_eq!(check(FieldKind::Select, &["Gold", "Silver"], json!("gold")), Ok(Some(json!("Gold"))));
        let multi = check(FieldKind::MultiSelect, &["A", "B", "C"], json!(["c", "A", "a"]));
        assert_eq!(multi, Ok(Some(json!(["A", "C"]))), "in the options' order, each once");
        assert_eq!(check(FieldKind::Url, &[], json!("acme.uz")), Ok(Some(json!("https://acme.uz/"))));
        assert_eq!(check(FieldKind::Email, &[], json!(" a@B.UZ ")), Ok(Some(json!("a@b.uz"))));
        assert_eq!(check(FieldKind::Phone, &[], json!("+998 90 123 45 67")), Ok(Some(json!("+998901234567"))));
        assert_eq!(check(FieldKind::Text, &[], json!("")), Ok(None), "empty clears");
        assert_eq!(check(FieldKind::MultiSelect, &["A"], json!([])), Ok(None));
        // As a spreadsheet, or our own export, writes them.
        assert_eq!(check(FieldKind::Date, &[], json!("05.03.2024")), Ok(Some(json!("2024-03-05"))));
        assert_eq!(check(FieldKind::Date, &[], json!("5/3/2024")), Ok(Some(json!("2024-03-05"))));
        assert_eq!(check(FieldKind::Boolean, &[], json!("Да")), Ok(Some(json!(true))));
        assert_eq!(check(FieldKind::Boolean, &[], json!("yo‘q")), Ok(Some(json!(false))));
        assert_eq!(check(FieldKind::Boolean, &[], json!("FALSE")), Ok(Some(json!(false))));
        let sheet = check(FieldKind::MultiSelect, &["A", "B", "C"], json!("c; a"));
        assert_eq!(sheet, Ok(Some(json!(["A", "C"]))));
        let semicolon = check(FieldKind::MultiSelect, &["A; B", "C"], json!("A; B"));
        assert_eq!(semicolon, Ok(Some(json!(["A; B"]))), "an option with a semicolon in it is one option");
    }

    #[test]
    fn a_wrong_value_names_its_field_and_says_why() {
        let code = |kind, options: &[&str], raw: Value| {
            let e = field(kind, options, false).check(&raw, None).unwrap_err();
            (e.path(), e.code)
        };
        assert_eq!(code(FieldKind::Number, &[], json!("ten")), ("custom.f".to_owned(), "not_a_number"));
        assert_eq!(code(FieldKind::Date, &[], json!("31.02.2026")).1, "invalid_date");
        assert_eq!(code(FieldKind::Boolean, &[], json!("maybe")).1, "must_be_boolean");
        assert_eq!(code(FieldKind::Select, &["Gold"], json!("Bronze")).1, "unknown_option");
        assert_eq!(code(FieldKind::Text, &[], json!(5)).1, "must_be_string");
        assert_eq!(code(FieldKind::Url, &[], json!("not a url")).1, "invalid_url");
        assert_eq!(code(FieldKind::Email, &[], json!("nope")).1, "invalid_email");
        assert_eq!(code(FieldKind::Text, &[], json!("x".repeat(2001))).1, "too_long");
    }

    #[test]
    fn required_values_are_asked_for_on_creation_and_cannot_be_cleared_after() {
        let fields = [field(FieldKind::Text, &[], true)];
        let empty = CustomValues::new();
        let errors = apply_values(&fields, &empty, &empty, true, None).unwrap_err();
        assert_eq!((errors[0].path(), errors[0].code), ("custom.f".to_owned(), "required"));
        assert!(apply_values(&fields, &empty, &empty, false, None).is_ok(), "an old record is not refused");
        let set = json!({"f": "x"}).as_object().unwrap().clone();
        let cleared = json!({"f": null}).as_object().unwrap().clone();
        assert_eq!(apply_values(&fields, &set, &cleared, false, None).unwrap_err()[0].code, "required");
        let unknown = json!({"nope": 1}).as_object().unwrap().clone();
        assert_eq!(apply_values(&fields, &set, &unknown, false, None).unwrap_err()[0].path(), "custom.nope");
    }

    #[test]
    fn a_definition_is_checked_whole_and_its_kind_and_key_stay_fixed() {
        let input = FieldInput {
            entity: Some("client".into()),
            label: Some("  Contract   size ".into()),
            kind: Some("select".into()),
            options: Some(vec!["S".into(), " s ".into(), "M".into(), "".into()]),
            ..FieldInput::default()
        };
        let spec = input.apply(None).unwrap();
        assert_eq!(
            (spec.label.as_str(), spec.options.clone()),
            ("Contract size", vec!["S".to_owned(), "M".to_owned()])
        );
        let bad = FieldInput { kind: Some("select".into()), ..FieldInput::default() }.apply(None).unwrap_err();
        let named: Vec<String> = bad.iter().map(DomainError::path).collect();
        assert_eq!(named, ["entity", "label", "options"]);
        let stored =
            CustomField { kind: FieldKind::Select, options: spec.options, ..field(FieldKind::Select, &[], false) };
        let change = FieldInput { kind: Some("text".into()), key: Some("other".into()), ..FieldInput::default() };
        let codes: Vec<&str> = change.apply(Some(&stored)).unwrap_err().iter().map(|e| e.code).collect();
        assert_eq!(codes, ["fixed", "fixed"]);
        assert_eq!(FieldKey::from_label("Contract size (m²)").as_str(), "contract_size_m");
        assert_eq!(FieldKey::from_label("Размер").as_str(), "field");
        assert_eq!(FieldKey::from_label("2nd phone").as_str(), "f_2nd_phone");
        assert_eq!(FieldKey::parse("Tier").unwrap_err().code, "invalid_key");
    }
}
