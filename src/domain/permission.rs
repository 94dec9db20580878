//! Permissions and the built-in roles that bundle them.

use std::fmt;
use std::str::FromStr;

use super::DomainError;

/// One thing a user may do. Names match the `permissions` table and the seed documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    ClientRead,
    ClientCreate,
    ClientUpdate,
    ClientDelete,
    /// The whole list as CSV (every match, with PINs and passports).
    ClientExport,
    ChatRead,
    ChatCreate,
    ChatUpdate,
    TemplateRead,
    TemplateManage,
    ChannelManage,
    UserManage,
    /// The tenant's settings: name, country, currency, assignment, visibility, pipelines.
    SettingsManage,
    /// Pipelines and deals: to see them.
    DealRead,
    /// Deals: to create, change, move and delete them.
    DealWrite,
    /// The tenant's tags: to create, rename, recolour, lock and delete them.
    TagManage,
    /// The tenant's custom fields: to add, relabel, change, remove and bring them back.
    FieldManage,
    /// Tasks: to create, change, complete, reopen and delete them; and to write notes.
    TaskWrite,
    /// Bulk actions on lists (each still needs the permission of what it does).
    BulkRun,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ClientRead,
        Permission::ClientCreate,
        Permission::ClientUpdate,
        Permission::ClientDelete,
        Permission::ClientExport,
        Permission::ChatRead,
        Permission::ChatCreate,
        Permission::ChatUpdate,
        Permission::TemplateRead,
        Permission::TemplateManage,
        Permission::ChannelManage,
        Permission::UserManage,
        Permission::SettingsManage,
        Permission::DealRead,
        Permission::DealWrite,
        Permission::TagManage,
        Permission::FieldManage,
        Permission::TaskWrite,
        Permission::BulkRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ClientRead => "ClientRead",
            Permission::ClientCreate => "ClientCreate",
            Permission::ClientUpdate => "ClientUpdate",
            Permission::ClientDelete => "ClientDelete",
            Permission::ClientExport => "ClientExport",
            Permission::ChatRead => "ChatRead",
            Permission::ChatCreate => "ChatCreate",
            Permission::ChatUpdate => "ChatUpdate",
            Permission::TemplateRead => "TemplateRead",
            Permission::TemplateManage => "TemplateManage",
            Permission::ChannelManage => "ChannelManage",
            Permission::UserManage => "UserManage",
            Permission::SettingsManage => "SettingsManage",
            Permission::DealRead => "DealRead",
            Permission::DealWrite => "DealWrite",
            Permission::TagManage => "TagManage",
            Permission::FieldManage => "FieldManage",
            Permission::TaskWrite => "TaskWrite",
            Permission::BulkRun => "BulkRun",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl FromStr for Permission {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(DomainError::new("permission", "unknown_permission"))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The permissions a user holds, as a bit set: cheap to copy into every request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        PermissionSet(iter.into_iter().fold(0, |acc, p| acc | p.bit()))
    }
}

/// The built-in roles. Which permissions each holds lives in the `role_permissions` table
/// (seeded by the first migration); `Role::default_permissions` is the same list, used to
/// check that table and by code that runs before a database exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Agent,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Agent, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    pub fn default_permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Role::Admin => Permission::ALL.into_iter().collect(),
            Role::Agent => [
                ClientRead,
                ClientCreate,
                ClientUpdate,
                ClientExport,
                ChatRead,
                ChatCreate,
                ChatUpdate,
                TemplateRead,
                DealRead,
                DealWrite,
                TaskWrite,
                BulkRun,
            ]
            .into_iter()
            .collect(),
            Role::Viewer => [ClientRead, ChatRead, TemplateRead, DealRead].into_iter().collect(),
        }
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or(DomainError::new("role", "unknown_role"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_holds_every_permission_and_viewer_only_reads() {
        assert_eq!(Role::Admin.default_permissions().iter().count(), Permission::ALL.len());
        let viewer: Vec<_> = Role::Viewer.default_permissions().iter().collect();
        assert_eq!(
            viewer,
            [Permission::ClientRead, Permission::ChatRead, Permission::TemplateRead, Permission::DealRead]
        );
    }

    #[test]
    fn agent_cannot_delete_clients_or_manage_users() {
        let agent = Role::Agent.default_permissions();
        assert!(agent.contains(Permission::ChatCreate));
        assert!(!agent.contains(Permission::ClientDelete));
        assert!(!agent.contains(Permission::UserManage));
        assert!(!agent.contains(Permission::TemplateManage));
    }

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
