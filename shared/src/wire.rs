//! The API's JSON bodies. Request types refuse unknown fields, so a misspelt field is an error
//! rather than silently ignored.

use serde::{Deserialize, Serialize};

use crate::Role;

/// `GET /api/me`: who the API thinks the caller is, from the access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The user's object id in the tenant (`oid`).
    pub id: String,
    /// Display name (`name`).
    pub name: String,
    /// Sign-in name: `preferred_username` (v2 tokens) or `upn` / `unique_name` (v1 tokens).
    pub email: String,
    /// The tenant that issued the token (`tid`).
    pub tenant_id: String,
    /// The app roles this API defines that the user holds.
    pub roles: Vec<Role>,
    /// Delegated scopes granted to the SPA (`scp`, space-separated in the token).
    pub scopes: Vec<String>,
}

/// A task as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: u64,
    pub title: String,
    pub completed: bool,
    /// Object id (`oid`) of the user who created the task.
    pub owner_id: String,
    /// Display name of that user when they created it.
    pub owner_name: String,
}

/// `POST /api/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// At most 200 characters, not blank, no control characters; trimmed before it is stored.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::title::title_schema))]
    pub title: String,
}

/// `PATCH /api/tasks/{id}`: the fields to change; absent fields are left as they are.
///
/// An explicit `null` is refused rather than read as "no change": a client sending
/// `{"title": null}` most likely meant to clear or set something, and silently doing nothing
/// would hide its bug.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::title::title_schema))]
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub completed: Option<bool>,
}

/// An optional field that, when present, must hold a `T`: serde's own error ("invalid type:
/// null, expected a string") names the field, where `Option<T>` would take `null` as absent.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_refuse_unknown_fields() {
        let err = serde_json::from_str::<NewTask>(r#"{"title":"a","owner_id":"x"}"#)
            .expect_err("unknown field must fail");
        assert!(err.to_string().contains("owner_id"), "{err}");
        assert!(serde_json::from_str::<TaskPatch>(r#"{"done":true}"#).is_err());
    }

    #[test]
    fn patch_fields_are_optional() {
        let patch: TaskPatch = serde_json::from_str(r#"{"completed":true}"#).expect("valid");
        assert_eq!(
            patch,
            TaskPatch {
                title: None,
                completed: Some(true)
            }
        );
        assert_eq!(
            serde_json::to_string(&patch).expect("serialize"),
            r#"{"completed":true}"#
        );
    }

    #[test]
    fn patch_fields_are_not_nullable() {
        for body in [r#"{"title":null}"#, r#"{"completed":null}"#] {
            let err = serde_json::from_str::<TaskPatch>(body).expect_err(body);
            assert!(err.to_string().contains("null"), "{body}: {err}");
        }
    }

    #[test]
    fn title_must_be_a_string() {
        assert!(serde_json::from_str::<NewTask>(r#"{"title":42}"#).is_err());
        assert!(serde_json::from_str::<NewTask>(r#"{}"#).is_err());
    }
}
