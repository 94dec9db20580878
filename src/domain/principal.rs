//! Who is acting: a signed-in user (through a session or an API token), or the system itself.

use super::{Locale, Permission, PermissionSet, Role, TenantId, TimeZone, UserId};

/// A signed-in user as every request sees them, loaded in one query.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The user's chosen language; `None` follows the browser.
    pub locale: Option<Locale>,
    pub permissions: PermissionSet,
    /// The tenant's clock: what pages show times in.
    pub time_zone: TimeZone,
}

impl Principal {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    pub fn actor(&self) -> Actor {
        Actor::User { id: self.user_id, name: self.name.clone() }
    }
}

/// Who an audit entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        id: UserId,
        name: String,
    },
    /// The command line or the application itself (first-run set-up).
    System,
}

impl Actor {
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::System => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Actor::User { name, .. } => name,
            Actor::System => "system",
        }
    }
}
