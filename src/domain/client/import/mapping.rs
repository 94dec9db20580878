//! Which client field each column of a sheet fills (`Target`, `Mapping`, guessed from English,
//! Russian or Uzbek headers), and one row turned into client input.

use std::fmt;
use std::str::FromStr;

use crate::domain::DomainError;
use crate::domain::client::{ClientInput, ContactType};
use crate::domain::custom_field::FieldKey;

/// Where one column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Ignore,
    /// A client field, one of `ClientInput::FIELDS`.
    Field(&'static str),
    /// A contact of one type.
    Contact(ContactType),
    /// Contacts as our own export writes them: `type:value; type:value`.
    ContactList,
    /// A custom field of clients, by key (checked against the tenant's fields, and each
    /// value against its field, when the import runs).
    Custom(FieldKey),
}

impl Target {
    /// Every choice a column offers, in the order a picker lists them.
    pub fn all() -> Vec<Target> {
        let mut all = vec![Target::Ignore];
        all.extend(ClientInput::importable().map(Target::Field));
        all.extend(ContactType::ALL.iter().map(|&t| Target::Contact(t)));
        all.push(Target::ContactList);
        all
    }

    /// A best guess from a column's header, in English, Russian or Uzbek, or in our export's
    /// own names; `custom` are the tenant's client fields (key, label), found by either.
    pub fn guess(header: &str, custom: &[(FieldKey, String)]) -> Target {
        if let Some(key) = header.trim().strip_prefix("custom.")
            && let Some((key, _)) = custom.iter().find(|(k, _)| k.as_str() == key)
        {
            return Target::Custom(key.clone());
        }
        let folded = header.trim().to_lowercase();
        if let Some((key, _)) =
            custom.iter().find(|(k, label)| label.trim().to_lowercase() == folded || k.as_str() == folded)
        {
            return Target::Custom(key.clone());
        }
        let key: String = header
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        const NAMES: &[(&str, &[&str])] = &[
            ("first_name", &["first name", "firstname", "name", "given name", "имя", "ism"]),
            ("last_name", &["last name", "lastname", "surname", "family name", "фамилия", "familiya"]),
            ("middle_name", &["middle name", "patronymic", "отчество", "otasining ismi", "sharif"]),
            ("phone", &["phone", "mobile", "tel", "telephone", "phone number", "телефон", "telefon", "tel raqam"]),
            ("email", &["email", "e mail", "mail", "почта", "электронная почта", "elektron pochta"]),
            ("address", &["address", "адрес", "manzil"]),
            ("date_of_birth", &["date of birth", "birthday", "birth date", "dob", "дата рождения", "tug ilgan sana"]),
            ("gender", &["gender", "sex", "пол", "jins"]),
            ("pin", &["pin", "tin", "inn", "pinfl", "tax id", "инн", "пинфл", "stir", "jshshir"]),
            ("passport_series", &["passport series", "серия паспорта", "серия", "pasport seriyasi"]),
            ("passport_number", &["passport number", "passport", "номер паспорта", "паспорт", "pasport raqami"]),
            ("comments", &["comments", "comment", "notes", "note", "комментарий", "примечание", "izoh"]),
            ("job_title", &["job title", "position", "title", "role", "должность", "позиция", "lavozim"]),
        ];
        if let Some(field) = ClientInput::importable().find(|f| f.replace('_', " ") == key) {
            return Target::Field(field);
        }
        if let Some((field, _)) = NAMES.iter().find(|(_, names)| names.contains(&key.as_str())) {
            return Target::Field(field);
        }
        match key.as_str() {
            "telegram" | "tg" | "телеграм" | "телеграмм" => Target::Contact(ContactType::Telegram),
            "whatsapp" | "ватсап" | "вотсап" => Target::Contact(ContactType::Whatsapp),
            "contacts" | "контакты" | "kontaktlar" => Target::ContactList,
            _ => Target::Ignore,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Ignore => Ok(()),
            Target::Field(name) => f.write_str(name),
            Target::Contact(kind) => write!(f, "contact:{kind}"),
            Target::ContactList => f.write_str("contacts"),
            Target::Custom(key) => write!(f, "custom.{}", key.as_str()),
        }
    }
}

impl FromStr for Target {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || DomainError::new("mapping", "invalid_choice");
        if let Some(key) = s.strip_prefix("custom.") {
            return FieldKey::parse(key).map(Target::Custom).map_err(|_| invalid());
        }
        Target::all().into_iter().find(|t| t.to_string() == s).ok_or_else(invalid)
    }
}

/// One target per column of a sheet, checked: the first name is mapped, and no client field
/// (or custom field) is mapped twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping(Vec<Target>);

/// A mapping refused, naming the column (by index) at fault, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    pub column: Option<usize>,
    pub code: &'static str,
}

impl Mapping {
    pub fn new(targets: Vec<Target>) -> Result<Self, MappingError> {
        for (i, t) in targets.iter().enumerate() {
            if matches!(t, Target::Field(_) | Target::Custom(_)) && targets[..i].contains(t) {
                return Err(MappingError { column: Some(i), code: "import_mapped_twice" });
            }
        }
        if !targets.contains(&Target::Field("first_name")) {
            return Err(MappingError { column: None, code: "import_first_name_unmapped" });
        }
        Ok(Self(targets))
    }

    /// The guess for every column of `header` (the first name is not guaranteed), with the
    /// tenant's `custom` client fields (key, label).
    pub fn guess(header: &[String], custom: &[(FieldKey, String)]) -> Vec<Target> {
        let mut targets: Vec<Target> = Vec::new();
        for h in header {
            let t = Target::guess(h, custom);
            // A field claimed by an earlier column is left for the user to place.
            let taken = matches!(t, Target::Field(_) | Target::Custom(_)) && targets.contains(&t);
            targets.push(if taken { Target::Ignore } else { t });
        }
        targets
    }

    pub fn targets(&self) -> &[Target] {
        &self.0
    }

    /// Stored form: one target per column, comma-separated.
    pub fn encode(&self) -> String {
        self.0.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    }

    pub fn decode(stored: &str) -> Result<Self, MappingError> {
        let targets = stored
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<Target>, _>>()
            .map_err(|_| MappingError { column: None, code: "invalid_choice" })?;
        Self::new(targets)
    }

    /// One row as client input (custom values as text, in `custom`) and contacts `(type, raw
    /// value)`. Cells are read as spreadsheets write them: `31.12.1990` is a date, `M`/`Ж` a
    /// gender.
    pub fn row(&self, cells: &[String]) -> (ClientInput, Vec<(ContactType, String)>) {
        let mut input = ClientInput::default();
        let mut contacts = Vec::new();
        for (target, cell) in self.0.iter().zip(cells) {
            let cell = crate::domain::csv::unguarded(cell.trim());
            if cell.is_empty() {
                continue;
            }
            match target {
                Target::Ignore => {}
                Target::Field(field) => {
                    let value = match *field {
                        "date_of_birth" => spreadsheet_date(cell),
                        "gender" => spreadsheet_gender(cell),
                        _ => cell.to_owned(),
                    };
                    *input.field_mut(field).expect("a mapping targets a client field") = Some(value);
                }
                Target::Contact(kind) => contacts.push((*kind, cell.to_owned())),
                Target::Custom(key) => {
                    let values = input.custom.get_or_insert_with(Default::default);
                    values.insert(key.as_str().to_owned(), serde_json::Value::String(cell.to_owned()));
                }
                Target::ContactList => {
                    for item in cell.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                        let (kind, value) = item.split_once(':').unwrap_or(("other", item));
                        let kind = kind.trim().parse().unwrap_or(ContactType::Other);
                        contacts.push((kind, value.trim().to_owned()));
                    }
                }
            }
        }
        (input, contacts)
    }
}

/// `DD.MM.YYYY` and `DD/MM/YYYY` as ISO dates; anything else unchanged (and checked later).
fn spreadsheet_date(cell: &str) -> String {
    let parts: Vec<&str> = cell.split(['.', '/']).collect();
    match parts.as_slice() {
        [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => cell.to_owned(),
    }
}

fn spreadsheet_gender(cell: &str) -> String {
    match cell.to_lowercase().as_str() {
        "m" | "male" | "man" | "м" | "муж" | "мужской" | "erkak" => "male".into(),
        "f" | "female" | "woman" | "ж" | "жен" | "женский" | "ayol" => "female".into(),
        other => other.to_owned(),
    }
}
