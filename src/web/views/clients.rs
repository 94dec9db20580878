//! The client pages: the searchable list, the create form, and a client's tabs with sections
//! that edit in place.

use askama::Template;

use super::companies::CompanyPicker;
use super::custom_fields::ListColumns;
use super::custom_fields::ValuesPanel;
use super::tags::{TagChip, TagChoice};
use super::{FormErrors, Shell};
use crate::domain::{Client, ClientId, ClientInput, Contact, ContactType, Gender, HomeCountry, Phone};
use crate::i18n::Tr;

/// One row of the client list.
pub struct ClientRow {
    pub id: i64,
    pub name: String,
    pub phone: String,
    pub email: String,
    /// Contact types present, each once, for the badges: (type, label key).
    pub badges: Vec<(&'static str, &'static str)>,
    pub tags: Vec<TagChip>,
    pub updated: String,
    /// The values of the list's custom columns: (label, value).
    pub custom: Vec<(String, String)>,
}

impl ClientRow {
    /// A row of the list, with the values of its custom `columns`.
    pub fn new(tr: Tr, c: &Client, contacts: &[Contact], columns: &ListColumns) -> Self {
        let badges = ContactType::ALL
            .into_iter()
            .filter(|t| contacts.iter().any(|k| k.kind() == *t))
            .map(|t| (t.as_str(), contact_label(t.as_str())))
            .collect();
        Self {
            id: c.id.0,
            name: c.full_name(),
            phone: c.fields.phone.as_ref().map(|p| super::phone(p.as_str())).unwrap_or_default(),
            email: c.fields.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
            badges,
            tags: TagChip::of(&c.tags),
            updated: tr.datetime(&c.updated_at),
            custom: columns.values(tr, &c.custom),
        }
    }
}

/// The list's filters, as they stand in the URL.
#[derive(Clone, Default, serde::Deserialize)]
pub struct ListFilters {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub sort: String,
    /// Only clients carrying this tag (its id).
    #[serde(default)]
    pub tag_id: String,
    pub page: Option<i64>,
    /// Only clients holding these custom values (`custom.KEY=value` in the URL), by key.
    #[serde(skip)]
    pub custom: Vec<(String, String)>,
    /// The custom fields shown as columns (`cols=KEY`, once per field), by key.
    #[serde(skip)]
    pub cols: Vec<String>,
}

impl ListFilters {
    /// The URL of this list on another page, keeping every filter.
    pub fn url(&self, page: i64) -> String {
        let mut parts = Vec::new();
        let filters =
            [("q", &self.q), ("from", &self.from), ("to", &self.to), ("sort", &self.sort), ("tag_id", &self.tag_id)];
        for (k, v) in filters {
            if !v.is_empty() {
                parts.push(format!("{k}={}", crate::web::error::urlencode(v)));
            }
        }
        for (key, value) in self.custom.iter().filter(|(_, v)| !v.is_empty()) {
            parts.push(format!("custom.{key}={}", crate::web::error::urlencode(value)));
        }
        for key in &self.cols {
            parts.push(format!("cols={}", crate::web::error::urlencode(key)));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() { "/crm/clients".into() } else { format!("/crm/clients?{}", parts.join("&")) }
    }

    /// Keeps the `custom.KEY` filters and the `cols` of the URL's query (`pairs`, every pair
    /// of it).
    pub fn take_custom(&mut self, pairs: Vec<(String, String)>) {
        self.cols = ListColumns::asked(&pairs);
        self.custom =
            pairs.into_iter().filter_map(|(k, v)| k.strip_prefix("custom.").map(|key| (key.to_owned(), v))).collect();
    }

    /// The value the list is filtered by for custom field `key` ("" when none).
    pub fn custom_value(&self, key: &str) -> &str {
        self.custom.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    /// Whether any filter narrows the list (an empty list then means none found).
    pub fn narrows(&self) -> bool {
        !(self.q.is_empty() && self.from.is_empty() && self.to.is_empty() && self.tag_id.is_empty())
            || self.custom.iter().any(|(_, v)| !v.is_empty())
    }

    /// This list's filter as a query string (no page): what "all that match" means.
    pub fn query_string(&self) -> String {
        self.url(1).split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default()
    }

    /// The CSV export of this list (every match, every page).
    pub fn export_url(&self) -> String {
        self.url(1).replacen("/crm/clients", "/crm/clients/export.csv", 1)
    }
}

#[derive(Template)]
#[template(path = "clients/list.html")]
pub struct ClientsPage {
    pub shell: Shell,
    pub results: ClientResults,
    pub can_create: bool,
    pub can_see_archived: bool,
    /// May download the whole list (ClientExport).
    pub can_export: bool,
    /// The tags to filter by.
    pub tags: Vec<TagChip>,
    /// The custom fields a list can be filtered by (selects and yes/no).
    pub custom_filters: Vec<CustomFilter>,
}

/// A custom field as a filter of the list: a menu of its options.
pub struct CustomFilter {
    pub key: String,
    pub label: String,
    /// (value, label) of each choice; yes/no ones are translated.
    pub choices: Vec<(String, String)>,
}

impl ClientsPage {
    pub fn is_tag(&self, id: &i64) -> bool {
        self.results.filters.tag_id == id.to_string()
    }
}

pub struct ArchivedRow {
    pub id: i64,
    pub name: String,
    pub archived: String,
    /// Whole days left to restore; 0 means the next purge takes the client.
    pub days_left: i64,
}

#[derive(Template)]
#[template(path = "clients/archived.html")]
pub struct ArchivedPage {
    pub shell: Shell,
    pub rows: Vec<ArchivedRow>,
}

/// The part of the list page that search replaces as people type.
#[derive(Template)]
#[template(path = "clients/results.html")]
pub struct ClientResults {
    pub tr: Tr,
    pub filters: ListFilters,
    pub rows: Vec<ClientRow>,
    pub total: i64,
    /// False when counting stopped early: "`total` or more".
    pub total_exact: bool,
    pub page: i64,
    pub has_next: bool,
    pub errors: FormErrors,
    /// The bulk bar, for a reader who may run bulk actions.
    pub bulk: Option<super::bulk::BulkChoices>,
    /// The saved views of the list.
    pub views: super::bulk::ViewsBar,
    /// The custom fields shown as columns, and those the Columns menu offers.
    pub columns: ListColumns,
}

impl ClientResults {
    pub fn page_url(&self, page: i64) -> String {
        self.filters.url(page)
    }
}

/// How an input is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    Tel,
    Email,
    Date,
    Gender,
    Textarea,
    /// A company, picked from the tenant's (`Field::picker`).
    Company,
    /// One of a list (`Field::choices`), such as the colleague who owns the client.
    Choice,
}

pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: InputKind,
    pub value: String,
    pub required: bool,
    pub error: Option<&'static str>,
    /// A phone field's example: as written in the tenant's country, else international.
    pub placeholder: &'static str,
    /// A company field's choices (the page loads them).
    pub picker: Option<CompanyPicker>,
    /// A choice field's options, (value, label), loaded by the page.
    pub choices: Vec<(String, String)>,
}

impl Field {
    pub fn is(&self, kind: &str) -> bool {
        matches!(
            (kind, self.kind),
            ("text", InputKind::Text)
                | ("tel", InputKind::Tel)
                | ("email", InputKind::Email)
                | ("date", InputKind::Date)
                | ("gender", InputKind::Gender)
                | ("textarea", InputKind::Textarea)
                | ("company", InputKind::Company)
                | ("choice", InputKind::Choice)
        )
    }

    /// The gender options: (value, label key).
    pub fn genders(&self) -> [(&'static str, &'static str); 3] {
        Gender::ALL.map(|g| (g.as_str(), gender_label(g.as_str())))
    }

    /// The value as shown (not edited): phones grouped for reading.
    pub fn display(&self) -> String {
        if self.kind == InputKind::Tel { super::phone(&self.value) } else { self.value.clone() }
    }

    /// A choice field's chosen option's label, when one is chosen.
    pub fn chosen_label(&self) -> Option<&str> {
        self.choices.iter().find(|(v, _)| *v == self.value).map(|(_, l)| l.as_str())
    }

    /// A company field's chosen company (id, name), when it is known.
    pub fn company(&self) -> Option<&(i64, String)> {
        self.picker.as_ref().and_then(CompanyPicker::chosen_company)
    }

    /// The label key of a gender field's value.
    pub fn gender_label(&self) -> &'static str {
        gender_label(&self.value)
    }
}

/// The label key of a contact type.
pub fn contact_label(kind: &str) -> &'static str {
    match kind {
        "email" => "contact.email",
        "phone" => "contact.phone",
        "telegram" => "contact.telegram",
        "whatsapp" => "contact.whatsapp",
        _ => "contact.other",
    }
}

fn gender_label(value: &str) -> &'static str {
    match value {
        "male" => "gender.male",
        "female" => "gender.female",
        _ => "gender.other",
    }
}

/// The parts of a profile that are edited one at a time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Section {
    Personal,
    Work,
    Passport,
    Tax,
    Notes,
}

impl Section {
    pub const ALL: [Section; 5] = [Section::Personal, Section::Work, Section::Passport, Section::Tax, Section::Notes];

    pub fn slug(self) -> &'static str {
        match self {
            Section::Personal => "personal",
            Section::Work => "work",
            Section::Passport => "passport",
            Section::Tax => "tax",
            Section::Notes => "notes",
        }
    }

    pub fn from_slug(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.slug() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Personal => "clients.section.personal",
            Section::Work => "clients.section.work",
            Section::Passport => "clients.section.passport",
            Section::Tax => "clients.section.tax",
            Section::Notes => "clients.section.notes",
        }
    }

    /// The fields of this section, filled from `input`; a phone's example is written as in
    /// `home` (the tenant's country), when it has one.
    pub fn fields(self, input: &ClientInput, errors: &FormErrors, home: Option<HomeCountry>) -> Vec<Field> {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let f = |name: &'static str, label, kind, value: String, required| Field {
            name,
            label,
            kind,
            // A stored phone is edited as the profile shows it; what was typed stays as typed.
            value: if kind == InputKind::Tel { super::phone(&value) } else { value },
            required,
            error: errors.get(name),
            placeholder: if kind == InputKind::Tel {
                home.map_or("+998 90 123 45 67", HomeCountry::example)
            } else {
                ""
            },
            picker: None,
            choices: Vec::new(),
        };
        match self {
            Section::Personal => vec![
                f("first_name", "clients.first_name", InputKind::Text, v(&input.first_name), true),
                f("middle_name", "clients.middle_name", InputKind::Text, v(&input.middle_name), false),
                f("last_name", "clients.last_name", InputKind::Text, v(&input.last_name), false),
                f("phone", "clients.phone", InputKind::Tel, v(&input.phone), false),
                f("email", "clients.email", InputKind::Email, v(&input.email), false),
                f("date_of_birth", "clients.date_of_birth", InputKind::Date, v(&input.date_of_birth), false),
                f("gender", "clients.gender", InputKind::Gender, v(&input.gender), false),
                f("address", "clients.address", InputKind::Text, v(&input.address), false),
            ],
            Section::Work => vec![
                f("company_id", "clients.company", InputKind::Company, v(&input.company_id), false),
                f("job_title", "clients.job_title", InputKind::Text, v(&input.job_title), false),
                f("owner_id", "clients.owner", InputKind::Choice, v(&input.owner_id), false),
            ],
            Section::Passport => vec![
                f("passport_series", "clients.passport_series", InputKind::Text, v(&input.passport_series), false),
                f("passport_number", "clients.passport_number", InputKind::Text, v(&input.passport_number), false),
            ],
            Section::Tax => vec![f("pin", "clients.pin", InputKind::Text, v(&input.pin), false)],
            Section::Notes => vec![f("comments", "clients.comments", InputKind::Textarea, v(&input.comments), false)],
        }
    }
}

/// A duplicate phone or PIN, with the client who has it.
pub struct Duplicate {
    pub field: &'static str,
    pub client_id: i64,
    pub client_name: String,
}

/// One profile section: shown, or (when `editing`) as a form.
#[derive(Template)]
#[template(path = "clients/section.html")]
pub struct SectionView {
    pub tr: Tr,
    pub csrf: String,
    pub client_id: ClientId,
    pub section: Section,
    pub fields: Vec<Field>,
    pub editing: bool,
    pub can_edit: bool,
    pub duplicate: Option<Duplicate>,
    /// Just saved: the client's name and "updated" time, for the page's header to follow.
    pub saved: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "clients/new.html")]
pub struct NewClientPage {
    pub shell: Shell,
    pub sections: Vec<(Section, Vec<Field>)>,
    pub duplicate: Option<Duplicate>,
    /// The tenant's custom client fields, as inputs (none when it has none).
    pub custom: Option<super::custom_fields::CustomInputs>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ClientTab {
    Profile,
    Contacts,
    Actions,
}

pub struct ContactRow {
    pub id: i64,
    pub kind: String,
    pub label: &'static str,
    /// As shown (a phone grouped the way the profile shows it).
    pub value: String,
    /// Where a click on it goes: a call, a chat in WhatsApp or Telegram, an email ("" if
    /// nowhere, such as a Telegram user known only by number).
    pub href: String,
}

impl From<&Contact> for ContactRow {
    fn from(c: &Contact) -> Self {
        let kind = c.kind().as_str();
        let stored = c.value.as_str();
        let value = if matches!(c.kind(), ContactType::Phone | ContactType::Whatsapp) {
            super::phone(stored)
        } else {
            stored.to_owned()
        };
        Self {
            id: c.id.0,
            kind: kind.to_owned(),
            label: contact_label(kind),
            value,
            href: contact_href(c.kind(), stored),
        }
    }
}

impl ContactRow {
    /// Every way to reach a client: their phone, then their contacts (a phone contact that
    /// repeats the phone, once).
    pub fn ways_to_reach(phone: Option<&Phone>, contacts: &[Contact]) -> Vec<ContactRow> {
        let phone_row = phone.map(|p| ContactRow {
            id: 0,
            kind: ContactType::Phone.as_str().to_owned(),
            label: contact_label(ContactType::Phone.as_str()),
            value: super::phone(p.as_str()),
            href: contact_href(ContactType::Phone, p.as_str()),
        });
        let repeats =
            |c: &Contact| c.kind() == ContactType::Phone && phone.is_some_and(|p| p.as_str() == c.value.as_str());
        phone_row.into_iter().chain(contacts.iter().filter(|c| !repeats(c)).map(ContactRow::from)).collect()
    }
}

/// The link a contact opens, from its stored value ("" if none).
pub fn contact_href(kind: ContactType, stored: &str) -> String {
    let digits = || stored.chars().filter(char::is_ascii_digit).collect::<String>();
    match kind {
        ContactType::Phone => format!("tel:{stored}"),
        ContactType::Whatsapp => format!("https://wa.me/{}", digits()),
        // A numeric id is a user without a username: no public link reaches them.
        ContactType::Telegram if stored.bytes().all(|b| b.is_ascii_digit()) => String::new(),
        ContactType::Telegram => format!("https://t.me/{stored}"),
        ContactType::Email => format!("mailto:{stored}"),
        ContactType::Other if stored.starts_with("https://") || stored.starts_with("http://") => stored.to_owned(),
        ContactType::Other => String::new(),
    }
}

/// Another client who may be the same person, offered for merging.
pub struct Twin {
    pub id: ClientId,
    pub name: String,
    pub archived: bool,
}

/// A client the merge picker found: who, and a phone or email to tell namesakes apart.
pub struct MergeCandidate {
    pub id: ClientId,
    pub name: String,
    pub detail: String,
}

impl From<&Client> for MergeCandidate {
    fn from(c: &Client) -> Self {
        let detail = match (&c.fields.phone, &c.fields.email) {
            (Some(phone), _) => super::phone(phone.as_str()),
            (None, Some(email)) => email.as_str().to_owned(),
            (None, None) => String::new(),
        };
        Self { id: c.id, name: c.full_name(), detail }
    }
}

#[derive(Template)]
#[template(path = "clients/show.html")]
pub struct ClientPage {
    pub shell: Shell,
    pub id: ClientId,
    pub name: String,
    pub tab: ClientTab,
    pub sections: Vec<SectionView>,
    pub contacts: Vec<ContactRow>,
    /// The contact types to pick from: (value, label key).
    pub contact_types: Vec<(&'static str, &'static str)>,
    pub new_contact_type: String,
    pub new_contact_value: String,
    pub contact_errors: FormErrors,
    pub can_edit: bool,
    pub can_delete: bool,
    /// May open the client's conversation (ChatRead).
    pub can_chat: bool,
    /// May merge another client into this one (ClientUpdate and ClientDelete).
    pub can_merge: bool,
    /// The merge picker's search, and what it found (`None` before a search).
    pub merge_q: String,
    pub merge_candidates: Option<Vec<MergeCandidate>>,
    /// Clients sharing a number or contact with this one: maybe the same person.
    pub twins: Vec<Twin>,
    /// Its custom values, shown or as a form.
    pub custom: ValuesPanel,
    /// The tags it carries; every tag of the tenant to pick from, and why a change was refused.
    pub tags: Vec<TagChip>,
    pub tag_choices: Vec<TagChoice>,
    pub tag_error: Option<&'static str>,
    pub created: String,
    pub updated: String,
}
