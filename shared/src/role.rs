use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// An app role defined on the API's Entra app registration and assigned to users.
///
/// The values are the exact, case-sensitive strings of the token's `roles` claim, so a role named
/// `admin` in a token is not `Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Admin,
    Editor,
    Reader,
}

impl Role {
    /// Every role, most powerful first (the order badges are shown in).
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Reader];

    /// The claim value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Editor => "Editor",
            Role::Reader => "Reader",
        }
    }

    /// The description given to the role on the app registration, shown to users as what the
    /// role lets them do.
    pub const fn description(self) -> &'static str {
        match self {
            Role::Admin => "Full access: manage all tasks and users",
            Role::Editor => "Create, read, and update own tasks",
            Role::Reader => "Read-only access to own tasks",
        }
    }

    /// The known roles among a token's `roles` claim values, without duplicates, most powerful
    /// first. Values this app does not define are dropped: they grant nothing here.
    pub fn from_claims<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Role> {
        let mut roles: Vec<Role> = values.into_iter().filter_map(|v| v.parse().ok()).collect();
        roles.sort_unstable();
        roles.dedup();
        roles
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the app roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected Admin, Editor or Reader")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_uses_the_exact_claim_values() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).expect("serialize");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(
                serde_json::from_str::<Role>(&json).expect("deserialize"),
                role
            );
        }
        assert!(serde_json::from_str::<Role>("\"admin\"").is_err());
    }

    #[test]
    fn parsing_is_case_sensitive() {
        assert_eq!("Editor".parse::<Role>(), Ok(Role::Editor));
        assert_eq!("editor".parse::<Role>(), Err(UnknownRole("editor".into())));
        assert!("Admin ".parse::<Role>().is_err());
    }

    #[test]
    fn claims_keep_known_roles_once_most_powerful_first() {
        let roles = Role::from_claims(["Reader", "Auditor", "Admin", "Reader", "admin"]);
        assert_eq!(roles, vec![Role::Admin, Role::Reader]);
        assert!(Role::from_claims([]).is_empty());
    }
}
