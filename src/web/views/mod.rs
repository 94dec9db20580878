//! View models: what each template needs, built from domain values. `Shell` is the frame every
//! page shares (navigation, user, language, flash, CSRF token).

pub mod auth;
pub mod bulk;
pub mod chat_work;
pub mod chats;
pub mod client_imports;
pub mod clients;
pub mod companies;
pub mod custom_fields;
pub mod deals;
pub mod errors;
pub mod home;
pub mod message_templates;
pub mod notifications;
pub mod pipelines;
pub mod record_work;
pub mod settings;
pub mod tags;

use std::collections::HashMap;

use crate::domain::{Locale, Permission, Principal};
use crate::i18n::Tr;
use crate::web::flash::Flash;
use crate::web::static_files;

/// Which navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Home,
    Clients,
    Companies,
    Chats,
    Deals,
    Tasks,
    Templates,
    Settings,
}

/// The navigation: each area, where it starts, its label and icon, and the permission it needs.
const NAV: [(Area, &str, &str, &str, Option<Permission>); 8] = [
    (Area::Home, "/crm", "nav.home", "home", None),
    (Area::Clients, "/crm/clients", "nav.clients", "users", Some(Permission::ClientRead)),
    (Area::Companies, "/crm/companies", "nav.companies", "company", Some(Permission::ClientRead)),
    (Area::Chats, "/crm/chats", "nav.chats", "chat", Some(Permission::ChatRead)),
    (Area::Deals, "/crm/deals", "nav.deals", "deals", Some(Permission::DealRead)),
    (Area::Tasks, "/crm/tasks", "nav.tasks", "tasks", Some(Permission::ClientRead)),
    (Area::Templates, "/crm/instant-messages", "nav.templates", "template", Some(Permission::TemplateRead)),
    (Area::Settings, "/crm/settings", "nav.settings", "settings", None),
];

impl Area {
    /// The area a path lies in (`/crm/clients/7` is in Clients; `/crm` is Home); none for a
    /// path of no area.
    pub fn of_path(path: &str) -> Option<Area> {
        NAV.into_iter()
            .find(|(_, start, ..)| {
                path == *start || (*start != "/crm" && path.strip_prefix(start).is_some_and(|r| r.starts_with('/')))
            })
            .map(|(area, ..)| area)
    }
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    pub active: bool,
}

pub struct ShellUser {
    pub name: String,
    pub email: String,
    pub tenant_name: String,
    pub initials: String,
    pub locale: Option<Locale>,
}

pub struct Shell {
    pub tr: Tr,
    pub user: Option<ShellUser>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// The path and query of this page, to come back to after switching language.
    pub here: String,
    /// Whether the page listens for live chat updates (the user may read chats).
    pub live: bool,
    /// Whether the user keeps the tenant's tags (a tag picker links to them).
    pub manage_tags: bool,
}

impl Shell {
    /// The frame of a page for a signed-in user: navigation holds only what they may open.
    /// The frame of a signed-in page; `area` is the navigation item shown as current (none
    /// for a page of no area).
    pub fn signed_in(
        principal: &Principal,
        tr: Tr,
        csrf: String,
        flash: Option<Flash>,
        area: Option<Area>,
        here: String,
    ) -> Self {
        let nav = NAV
            .into_iter()
            .filter(|(_, _, _, _, needs)| needs.is_none_or(|p| principal.can(p)))
            .map(|(s, href, label, icon, _)| NavItem { href, label, icon, active: Some(s) == area })
            .collect();
        Self {
            tr,
            user: Some(ShellUser {
                name: principal.name.clone(),
                email: principal.email.clone(),
                tenant_name: principal.tenant_name.clone(),
                initials: initials(&principal.name),
                locale: principal.locale,
            }),
            nav,
            csrf,
            flash,
            here,
            live: principal.can(Permission::ChatRead),
            manage_tags: principal.can(Permission::TagManage),
        }
    }

    /// The frame of a page seen before sign-in (the login page, errors for visitors).
    pub fn anonymous(tr: Tr, csrf: String) -> Self {
        Self { tr, user: None, nav: Vec::new(), csrf, flash: None, here: "/".into(), live: false, manage_tags: false }
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        self.tr.t(key)
    }

    pub fn can_manage_tags(&self) -> bool {
        self.manage_tags
    }

    /// The translation of `prefix.value` (a role, an audit action…), or `value` itself if the
    /// catalog has none: values come from data, and a new one must not break the page.
    pub fn label(&self, prefix: &str, value: &str) -> String {
        let key = format!("{prefix}.{value}");
        let text = self.tr.t(&key);
        if text == key { value.to_owned() } else { text.to_owned() }
    }

    pub fn lang(&self) -> &'static str {
        self.tr.locale.as_str()
    }

    /// `?v=…` for static URLs, so browsers may cache them for a year.
    pub fn static_v(&self) -> &'static str {
        static_files::version()
    }

    /// The language picker's options: (code, native name, selected).
    pub fn locales(&self) -> Vec<(&'static str, &'static str, bool)> {
        Locale::ALL.iter().map(|l| (l.as_str(), l.native_name(), *l == self.tr.locale)).collect()
    }
}

pub(crate) fn initials(name: &str) -> String {
    // Words that start with a letter: a stranger known by a number ("+998 93…") has none, and
    // is drawn by the channel they wrote on instead.
    name.split_whitespace()
        .filter_map(|w| w.chars().next().filter(|c| c.is_alphabetic()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// Errors of a submitted form, by field, already translated.
#[derive(Default)]
pub struct FormErrors(HashMap<&'static str, &'static str>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: &'static str) {
        self.0.entry(field).or_insert(message);
    }

    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.get(field).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An E.164 phone grouped for reading: `+998 90 123 45 67`, `+7 912 345 67 89`; other
/// countries as stored.
pub fn phone(e164: &str) -> String {
    let group = |code: &str, rest: &str, sizes: &[usize]| {
        let mut out = format!("+{code}");
        let mut at = 0;
        for size in sizes {
            out.push(' ');
            out.push_str(&rest[at..at + size]);
            at += size;
        }
        out
    };
    match e164.strip_prefix('+').filter(|n| n.bytes().all(|b| b.is_ascii_digit())) {
        Some(n) if n.len() == 12 && n.starts_with("998") => group("998", &n[3..], &[2, 3, 2, 2]),
        Some(n) if n.len() == 11 && n.starts_with('7') => group("7", &n[1..], &[3, 3, 2, 2]),
        _ => e164.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PermissionSet, Role, TenantId, UserId};

    fn principal(permissions: PermissionSet) -> Principal {
        Principal {
            tenant_id: TenantId(uuid::Uuid::nil()),
            tenant_name: "Acme".into(),
            user_id: UserId(1),
            email: "a@b.test".into(),
            name: "Ann Lee".into(),
            role: Role::Viewer,
            locale: None,
            permissions,
            time_zone: crate::domain::TimeZone::UTC,
        }
    }

    #[test]
    fn navigation_hides_what_the_user_may_not_open() {
        let none = Shell::signed_in(
            &principal(PermissionSet::default()),
            Tr::new(Locale::En),
            String::new(),
            None,
            Some(Area::Home),
            "/crm".into(),
        );
        let hrefs: Vec<_> = none.nav.iter().map(|n| n.href).collect();
        assert_eq!(hrefs, ["/crm", "/crm/settings"]);

        let chats_only: PermissionSet = [Permission::ChatRead].into_iter().collect();
        let shell = Shell::signed_in(
            &principal(chats_only),
            Tr::new(Locale::En),
            String::new(),
            None,
            Some(Area::Chats),
            "/crm".into(),
        );
        let items: Vec<_> = shell.nav.iter().map(|n| (n.href, n.active)).collect();
        assert_eq!(items, [("/crm", false), ("/crm/chats", true), ("/crm/settings", false)]);
    }

    #[test]
    fn a_path_lies_in_the_area_it_starts_with() {
        assert_eq!(Area::of_path("/crm/clients/7/edit"), Some(Area::Clients));
        assert_eq!(Area::of_path("/crm/clients"), Some(Area::Clients));
        assert_eq!(Area::of_path("/crm/clientsx"), None);
        assert_eq!(Area::of_path("/crm"), Some(Area::Home));
        assert_eq!(Area::of_path("/crm/nowhere"), None);
    }

    #[test]
    fn phones_are_grouped_for_reading_where_the_pattern_is_known() {
        assert_eq!(phone("+998901234567"), "+998 90 123 45 67");
        assert_eq!(phone("+79123456789"), "+7 912 345 67 89");
        assert_eq!(phone("+14155550100"), "+14155550100");
    }

    #[test]
    fn a_name_that_is_a_number_has_no_initials() {
        assert_eq!(initials("+998901112233"), "");
        assert_eq!(initials("Ann +998"), "A");
    }

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("ada lovelace byron"), "AL");
        assert_eq!(initials("Шерзод"), "Ш");
        assert_eq!(initials(""), "");
    }
}
