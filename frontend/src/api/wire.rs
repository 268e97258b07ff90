//! The API's bodies (types from `shared`, the same the API serializes) read from and written as
//! JSON, field by field as the API names them.

use shared::{ApiError, ErrorCode, Me, NewTask, Role, Task, TaskPatch};

use crate::json::{FromJson, JsonError, ToJson, Value, write_object};

impl FromJson for Me {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let mut me = value.into_object()?;
        Ok(Self {
            id: me.required("id")?,
            name: me.required("name")?,
            email: me.required("email")?,
            tenant_id: me.required("tenant_id")?,
            roles: me.required("roles")?,
            scopes: me.required("scopes")?,
        })
    }
}

/// The exact, case-sensitive claim value: an unknown role is an error, as in the API's own types.
impl FromJson for Role {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        String::from_json(value)?
            .parse()
            .map_err(|_| JsonError::Expected("Admin, Editor or Reader"))
    }
}

impl FromJson for Task {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let mut task = value.into_object()?;
        Ok(Self {
            id: task.required("id")?,
            title: task.required("title")?,
            completed: task.required("completed")?,
            owner_id: task.required("owner_id")?,
            owner_name: task.required("owner_name")?,
        })
    }
}

impl FromJson for ApiError {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let mut error = value.into_object()?;
        Ok(Self {
            code: ErrorCode::from_wire(&error.required::<String>("code")?),
            message: error.required("message")?,
        })
    }
}

impl ToJson for NewTask {
    fn write_json(&self, out: &mut String) {
        write_object(out, &[("title", &self.title)]);
    }
}

/// Only the fields to change: the API leaves absent fields as they are.
impl ToJson for TaskPatch {
    fn write_json(&self, out: &mut String) {
        let mut fields: Vec<(&str, &dyn ToJson)> = Vec::new();
        if let Some(title) = &self.title {
            fields.push(("title", title));
        }
        if let Some(completed) = &self.completed {
            fields.push(("completed", completed));
        }
        write_object(out, &fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    /// What the API writes (its serde derives) is what this module reads, and the other way round.
    #[test]
    fn round_trips_with_the_apis_serde_types() {
        let me = Me {
            id: "oid".into(),
            name: "Test Editor".into(),
            email: "editor@contoso.com".into(),
            tenant_id: "tid".into(),
            roles: vec![Role::Admin, Role::Reader],
            scopes: vec!["access_as_user".into()],
        };
        let text = serde_json::to_string(&me).expect("json");
        assert_eq!(json::from_str::<Me>(&text), Ok(me));

        let task = Task {
            id: u64::MAX,
            title: "Buy \"oat\" milk".into(),
            completed: true,
            owner_id: "o".into(),
            owner_name: "Ünïcode Owner".into(),
        };
        let text = serde_json::to_string(&vec![task.clone()]).expect("json");
        assert_eq!(json::from_str::<Vec<Task>>(&text), Ok(vec![task]));

        let new = NewTask {
            title: "a\nb".into(),
        };
        assert_eq!(
            json::to_string(&new),
            serde_json::to_string(&new).expect("json")
        );
        for patch in [
            TaskPatch::default(),
            TaskPatch {
                completed: Some(false),
                ..TaskPatch::default()
            },
            TaskPatch {
                title: Some("t".into()),
                completed: Some(true),
            },
        ] {
            assert_eq!(
                json::to_string(&patch),
                serde_json::to_string(&patch).expect("json")
            );
        }
    }

    #[test]
    fn roles_are_exact_claim_values() {
        let me =
            r#"{"id":"i","name":"n","email":"e","tenant_id":"t","roles":["admin"],"scopes":[]}"#;
        assert_eq!(
            json::from_str::<Me>(me),
            Err(JsonError::Field {
                field: "roles",
                expected: "Admin, Editor or Reader"
            })
        );
    }
}
