//! What the API and the SPA must agree on: the app roles, the permission matrix derived from them,
//! the rules for a task title, the routes, the error codes and the JSON shapes on the wire, the
//! format rules of the ids and hosts both sides are configured with.
//!
//! Both sides compile this crate (the API natively, the SPA to wasm32), so it depends on neither
//! axum nor web-sys: a rule changed here changes on both sides at once.

mod error;
mod permission;
mod role;
pub mod routes;
mod spa_config;
mod title;
mod validate;
mod wire;

pub use error::{ApiError, ErrorCode};
pub use permission::{Permission, can_create, can_delete, can_edit, can_list, can_view_all};
pub use role::{Role, UnknownRole};
pub use spa_config::SpaConfig;
pub use title::{TITLE_MAX_CHARS, TITLE_PATTERN, TitleError, normalize_title};
pub use validate::{is_guid, is_loopback_host, normalize_guid};
pub use wire::{Me, NewTask, Task, TaskPatch};

/// The delegated scope the SPA requests and the API requires on user tokens
/// (`api://<api-client-id>/access_as_user`).
pub const API_SCOPE: &str = "access_as_user";
