//! Companies: the searchable list, a company's page (facts, people, deals, the edit form),
//! the new-company form, and the company picker that client and deal forms share.

use std::collections::HashMap;

use askama::Template;

use crate::domain::Named;
use crate::domain::company::{Company, CompanyId, CompanyInput, Person};
use crate::i18n::Tr;
use crate::web::error::urlencode;
use crate::web::views::tags::{TagChip, TagChoice};
use crate::web::views::{FormErrors, Shell};

/// A form's choice of company: the companies offered (by name) and the one chosen (its id as
/// text, empty for none). A search box above the menu asks for more as one types.
#[derive(Default)]
pub struct CompanyPicker {
    pub chosen: String,
    pub options: Vec<(i64, String)>,
    pub error: Option<&'static str>,
}

impl CompanyPicker {
    pub fn new(chosen: &str, options: Vec<Named<CompanyId>>, error: Option<&'static str>) -> Self {
        Self {
            chosen: chosen.trim().to_owned(),
            options: options.into_iter().map(|c| (c.id.0, c.name)).collect(),
            error,
        }
    }

    /// The chosen company's id and name, when one is chosen and known.
    pub fn chosen_company(&self) -> Option<&(i64, String)> {
        self.options.iter().find(|(id, _)| id.to_string() == self.chosen)
    }
}

/// The menu's options alone, for the picker's search (htmx swaps them in).
#[derive(Template)]
#[template(path = "companies/options.html")]
pub struct CompanyOptions {
    pub tr: Tr,
    pub picker: CompanyPicker,
}

/// A row of the company list.
pub struct CompanyRow {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub owner: Option<String>,
    pub people: i64,
    pub tags: Vec<TagChip>,
    /// The values of the list's custom columns: (label, value).
    pub custom: Vec<(String, String)>,
}

impl From<&Company> for CompanyRow {
    fn from(c: &Company) -> Self {
        Self {
            id: c.id.0,
            name: c.fields.name.clone(),
            website: c.fields.website.as_ref().map(|w| w.as_str().to_owned()),
            phone: c.fields.phone.as_ref().map(|p| super::phone(p.as_str())),
            owner: c.owner.as_ref().map(|o| o.name.clone()),
            people: c.people,
            tags: TagChip::of(&c.tags),
            custom: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "companies/list.html")]
pub struct CompanyListPage {
    pub shell: Shell,
    pub rows: Vec<CompanyRow>,
    pub q: String,
    pub owner_id: Option<i64>,
    pub owners: Vec<(i64, String)>,
    /// The tags to filter by, and the one chosen.
    pub tags: Vec<TagChip>,
    pub tag_id: Option<i64>,
    /// `updated` or empty (by name).
    pub sort: String,
    pub total: i64,
    pub exact: bool,
    pub page: i64,
    pub pages: i64,
    pub can_create: bool,
    /// The bulk bar, for a reader who may run bulk actions.
    pub bulk: Option<super::bulk::BulkChoices>,
    pub views: super::bulk::ViewsBar,
    pub columns: super::custom_fields::ListColumns,
}

impl CompanyListPage {
    /// "12 companies", in the reader's language.
    pub fn found(&self) -> String {
        if self.exact {
            self.shell.tr.count("companies.found", self.total)
        } else {
            self.shell.tr.t1("companies.found_more", "count", &self.shell.tr.amount(self.total.into()))
        }
    }

    pub fn is_owner(&self, id: &i64) -> bool {
        self.owner_id == Some(*id)
    }

    pub fn is_tag(&self, id: &i64) -> bool {
        self.tag_id == Some(*id)
    }

    /// The list's filters as its address carries them (no page).
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", urlencode(&self.q)));
        }
        if let Some(o) = self.owner_id {
            parts.push(format!("owner_id={o}"));
        }
        if let Some(t) = self.tag_id {
            parts.push(format!("tag_id={t}"));
        }
        if !self.sort.is_empty() {
            parts.push(format!("sort={}", urlencode(&self.sort)));
        }
        parts.push(self.columns.query());
        parts.retain(|p| !p.is_empty());
        parts.join("&")
    }

    /// The address of page `n` of this list, with its filters.
    pub fn page_url(&self, n: &i64) -> String {
        match self.query() {
            q if q.is_empty() => format!("/crm/companies?page={n}"),
            q => format!("/crm/companies?{q}&page={n}"),
        }
    }
}

/// The company form's values (as typed, or as stored), errors and choices.
pub struct CompanyForm {
    pub values: HashMap<String, String>,
    pub errors: FormErrors,
    pub owners: Vec<(i64, String)>,
}

impl CompanyForm {
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    pub fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.get(field)
    }

    /// A company's stored fields as the form shows them.
    pub fn of(c: &Company) -> HashMap<String, String> {
        CompanyInput::from(&c.fields).into_pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

#[derive(Template)]
#[template(path = "companies/new.html")]
pub struct NewCompanyPage {
    pub shell: Shell,
    pub form: CompanyForm,
    /// The tenant's custom company fields, as inputs (none when it has none).
    pub custom: Option<super::custom_fields::CustomInputs>,
}

/// A company as its page shows it.
pub struct CompanyView {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub comments: Option<String>,
    pub owner: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub tags: Vec<TagChip>,
}

impl CompanyView {
    pub fn new(tr: Tr, c: &Company) -> Self {
        Self {
            id: c.id.0,
            name: c.fields.name.clone(),
            website: c.fields.website.as_ref().map(|w| w.as_str().to_owned()),
            phone: c.fields.phone.as_ref().map(|p| super::phone(p.as_str())),
            email: c.fields.email.as_ref().map(|e| e.as_str().to_owned()),
            address: c.fields.address.clone(),
            tax_id: c.fields.tax_id.clone(),
            comments: c.fields.comments.clone(),
            owner: c.owner.as_ref().map(|o| o.name.clone()),
            created_at: tr.datetime(&c.created_at),
            updated_at: tr.datetime(&c.updated_at),
            tags: TagChip::of(&c.tags),
        }
    }
}

/// Someone who works at the company, as its page lists them.
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub job_title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<&Person> for PersonRow {
    fn from(p: &Person) -> Self {
        Self {
            id: p.id.0,
            name: p.name.clone(),
            job_title: p.job_title.clone(),
            phone: p.phone.as_deref().map(super::phone),
            email: p.email.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "companies/show.html")]
pub struct CompanyPage {
    pub shell: Shell,
    pub company: CompanyView,
    pub people: Vec<PersonRow>,
    pub deals: Vec<super::deals::ListRow>,
    pub can_read_deals: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    pub can_add_deal: bool,
    pub form: CompanyForm,
    /// Its custom values, shown or as a form.
    pub custom: super::custom_fields::ValuesPanel,
    /// Every tag of the tenant, those the company carries ticked; why a change was refused.
    pub tag_choices: Vec<TagChoice>,
    pub tag_error: Option<&'static str>,
}
