//! [`Principal`]: the caller, as a validated token describes them.

use shared::{Me, Permission, Role};

use super::jwt::Claims;

/// The caller, as the validated token describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `oid`: owner id of the caller's tasks.
    pub object_id: String,
    pub name: String,
    pub email: String,
    pub tenant_id: String,
    /// The app roles this API defines that the caller holds, most powerful first.
    pub roles: Vec<Role>,
    pub scopes: Vec<String>,
}

impl Principal {
    pub fn from_claims(claims: Claims) -> Self {
        Principal {
            object_id: claims.oid,
            name: claims.name.unwrap_or_default(),
            email: claims
                .preferred_username
                .or(claims.upn)
                .or(claims.unique_name)
                .unwrap_or_default(),
            tenant_id: claims.tid,
            roles: Role::from_claims(claims.roles.iter().flatten().map(String::as_str)),
            scopes: claims
                .scp
                .iter()
                .flat_map(|scp| scp.split_ascii_whitespace())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether the caller holds any of `roles` (an empty list requires none).
    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.is_empty() || roles.iter().any(|role| self.roles.contains(role))
    }

    pub fn may(&self, permission: Permission) -> bool {
        permission.granted_to(&self.roles)
    }

    pub fn me(&self) -> Me {
        Me {
            id: self.object_id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            tenant_id: self.tenant_id.clone(),
            roles: self.roles.clone(),
            scopes: self.scopes.clone(),
        }
    }
}
