//! The test users: four defaults (one per app role, plus one with none), or a TOML/JSON file.
//!
//! Object ids are stable, so an API's data (task owners are `oid`s) survives provider restarts.

use std::{collections::HashSet, path::Path, str::FromStr};

use serde::Deserialize;
use shared::Role;
use uuid::Uuid;

const MAX_USERS: usize = 100;
const MAX_NAME_CHARS: usize = 32;
/// Entra's limit for a user principal name.
const MAX_USERNAME_CHARS: usize = 113;
const MAX_DISPLAY_NAME_CHARS: usize = 256;

/// Namespace for object ids derived from user names when a users file gives none.
const OID_NAMESPACE: Uuid = Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_0ff1);

/// A user who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    name: String,
    username: String,
    display_name: String,
    oid: Uuid,
    roles: Vec<Role>,
}

impl User {
    /// The short name (`editor`), accepted as `login_hint`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The user principal name (`editor@dev.localhost`): `upn`/`unique_name` in v1 tokens,
    /// `preferred_username` in v2 and ID tokens; also accepted as `login_hint`.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The `name` claim ("Test Editor").
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The object id: `oid` in every token.
    pub fn oid(&self) -> Uuid {
        self.oid
    }

    /// The app roles assigned to the user: the `roles` claim of access tokens.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }
}

/// The validated set of test users: 1 to 100 users, names, user names and object ids unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Users(Vec<User>);

impl Default for Users {
    /// admin (Admin), editor (Editor), reader (Reader) and guest (no role), `@dev.localhost`.
    fn default() -> Self {
        let user = |name: &str, display_name: &str, oid: u128, roles: &[Role]| User {
            name: name.to_owned(),
            username: format!("{name}@dev.localhost"),
            display_name: display_name.to_owned(),
            oid: Uuid::from_u128(oid),
            roles: roles.to_vec(),
        };
        Users(vec![
            user(
                "admin",
                "Test Admin",
                0x7e57_0000_0000_4000_8000_0000_0000_00a1,
                &[Role::Admin],
            ),
            user(
                "editor",
                "Test Editor",
                0x7e57_0000_0000_4000_8000_0000_0000_00a2,
                &[Role::Editor],
            ),
            user(
                "reader",
                "Test Reader",
                0x7e57_0000_0000_4000_8000_0000_0000_00a3,
                &[Role::Reader],
            ),
            user(
                "guest",
                "Test Guest",
                0x7e57_0000_0000_4000_8000_0000_0000_00a4,
                &[],
            ),
        ])
    }
}

/// Why a users file was refused; the message names the file and the field to fix.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read users file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("users file {path}: the name must end in .toml or .json")]
    Format { path: String },
    #[error("users file {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("users file {path}: {field}: {problem}")]
    Invalid {
        path: String,
        field: String,
        problem: String,
    },
}

/// The file's shape: `[[users]]` tables in TOML, `{"users": [...]}` in JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    users: Vec<UserEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    username: String,
    display_name: String,
    oid: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

impl Users {
    /// Reads a users file, TOML or JSON by its extension.
    pub fn load(path: &Path) -> Result<Self, UsersError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
            path: shown.clone(),
            source,
        })?;
        match path.extension().and_then(|ext| ext.to_str()) {
            Some("toml") => Users::from_toml(&shown, &text),
            Some("json") => Users::from_json(&shown, &text),
            _ => Err(UsersError::Format { path: shown }),
        }
    }

    /// Parses TOML text; `path` is only used in error messages.
    pub fn from_toml(path: &str, text: &str) -> Result<Self, UsersError> {
        let file: UsersFile = toml::from_str(text).map_err(|err| {
            let line = err
                .span()
                .map(|span| text[..span.start].matches('\n').count() + 1);
            UsersError::Syntax {
                path: path.to_owned(),
                message: match line {
                    Some(line) => format!("line {line}: {}", err.message().trim()),
                    None => err.message().trim().to_owned(),
                },
            }
        })?;
        Users::validate(path, file)
    }

    /// Parses JSON text; `path` is only used in error messages.
    pub fn from_json(path: &str, text: &str) -> Result<Self, UsersError> {
        let file: UsersFile = serde_json::from_str(text).map_err(|err| UsersError::Syntax {
            path: path.to_owned(),
            message: err.to_string(),
        })?;
        Users::validate(path, file)
    }

    fn validate(path: &str, file: UsersFile) -> Result<Self, UsersError> {
        let invalid = |field: String, problem: String| UsersError::Invalid {
            path: path.to_owned(),
            field,
            problem,
        };
        if file.users.is_empty() || file.users.len() > MAX_USERS {
            return Err(invalid(
                "users".into(),
                format!(
                    "list between 1 and {MAX_USERS} users (found {})",
                    file.users.len()
                ),
            ));
        }
        let mut names = HashSet::new();
        let mut usernames = HashSet::new();
        let mut oids = HashSet::new();
        let mut users = Vec::with_capacity(file.users.len());
        for (index, entry) in file.users.into_iter().enumerate() {
            let field = |name: &str| format!("users[{index}].{name}");
            let user = entry
                .into_user()
                .map_err(|(name, problem)| invalid(field(name), problem))?;
            if !names.insert(user.name.clone()) {
                return Err(invalid(
                    field("name"),
                    format!("{:?} is used twice", user.name),
                ));
            }
            if !usernames.insert(user.username.to_ascii_lowercase()) {
                return Err(invalid(
                    field("username"),
                    format!("{:?} is used twice", user.username),
                ));
            }
            if !oids.insert(user.oid) {
                return Err(invalid(field("oid"), format!("{} is used twice", user.oid)));
            }
            users.push(user);
        }
        Ok(Users(users))
    }

    /// The user a `login_hint` names: short name or user name, ignoring ASCII case.
    pub fn find(&self, hint: &str) -> Option<&User> {
        self.0.iter().find(|user| {
            user.name.eq_ignore_ascii_case(hint) || user.username.eq_ignore_ascii_case(hint)
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &User> {
        self.0.iter()
    }
}

impl UserEntry {
    /// The user, or the field at fault and what is wrong with it.
    fn into_user(self) -> Result<User, (&'static str, String)> {
        let UserEntry {
            name,
            username,
            display_name,
            oid,
            roles,
        } = self;
        let name_ok = !name.is_empty()
            && name.chars().count() <= MAX_NAME_CHARS
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if !name_ok {
            return Err((
                "name",
                format!(
                    "{name:?} must be 1 to {MAX_NAME_CHARS} characters of a-z, 0-9, '-', '_', '.'"
                ),
            ));
        }
        let username_ok = username.chars().count() <= MAX_USERNAME_CHARS
            && username.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            })
            && !username
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if !username_ok {
            return Err((
                "username",
                format!(
                    "{username:?} must look like user@domain (at most {MAX_USERNAME_CHARS} characters, no spaces)"
                ),
            ));
        }
        let display_name_ok = !display_name.trim().is_empty()
            && display_name.chars().count() <= MAX_DISPLAY_NAME_CHARS
            && !display_name.chars().any(char::is_control);
        if !display_name_ok {
            return Err((
                "display_name",
                format!(
                    "{display_name:?} must be 1 to {MAX_DISPLAY_NAME_CHARS} characters, not blank, no control characters"
                ),
            ));
        }
        let oid = match oid {
            Some(text) => {
                Uuid::from_str(&text).map_err(|_| ("oid", format!("{text:?} is not a GUID")))?
            }
            None => Uuid::new_v5(&OID_NAMESPACE, username.to_ascii_lowercase().as_bytes()),
        };
        let mut parsed_roles = Vec::with_capacity(roles.len());
        for role in &roles {
            let role = Role::from_str(role).map_err(|err| ("roles", err.to_string()))?;
            if parsed_roles.contains(&role) {
                return Err(("roles", format!("{role} is listed twice")));
            }
            parsed_roles.push(role);
        }
        Ok(User {
            name,
            username,
            display_name,
            oid,
            roles: parsed_roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_one_user_per_role_and_a_guest() {
        let users = Users::default();
        let summary: Vec<(&str, &str, &str, &[Role])> = users
            .iter()
            .map(|u| (u.name(), u.username(), u.display_name(), u.roles()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "admin",
                    "admin@dev.localhost",
                    "Test Admin",
                    &[Role::Admin][..]
                ),
                (
                    "editor",
                    "editor@dev.localhost",
                    "Test Editor",
                    &[Role::Editor][..]
                ),
                (
                    "reader",
                    "reader@dev.localhost",
                    "Test Reader",
                    &[Role::Reader][..]
                ),
                ("guest", "guest@dev.localhost", "Test Guest", &[][..]),
            ]
        );
        assert_eq!(
            users.find("Editor@Dev.Localhost").map(User::oid),
            Some(Uuid::from_u128(0x7e57_0000_0000_4000_8000_0000_0000_00a2))
        );
        assert_eq!(users.find("EDITOR").map(User::name), Some("editor"));
        assert!(users.find("nobody").is_none());
    }

    #[test]
    fn a_toml_file_without_oids_gets_stable_ones() {
        let text = r#"
            [[users]]
            name = "alice"
            username = "alice@example.test"
            display_name = "Alice"
            roles = ["Editor", "Reader"]
        "#;
        let first = Users::from_toml("u.toml", text).expect("valid");
        let second = Users::from_toml("u.toml", text).expect("valid");
        assert_eq!(first, second);
        let alice = first.find("alice").expect("alice");
        assert_eq!(alice.roles(), [Role::Editor, Role::Reader]);
        assert_ne!(alice.oid(), Uuid::nil());
    }

    #[test]
    fn json_files_have_the_same_shape() {
        let text = r#"{"users": [{"name": "bob", "username": "bob@example.test",
            "display_name": "Bob", "oid": "00000000-0000-4000-8000-000000000b0b"}]}"#;
        let users = Users::from_json("u.json", text).expect("valid");
        let bob = users.find("bob@example.test").expect("bob");
        assert_eq!(
            bob.oid().to_string(),
            "00000000-0000-4000-8000-000000000b0b"
        );
        assert!(bob.roles().is_empty());
    }
}
