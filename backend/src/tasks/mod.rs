//! `/api/tasks`: the task routes, their role rules and their OpenAPI descriptions.
//!
//! Role rules (from the original app, status codes corrected): Admin sees, edits and deletes every
//! task; Editor creates and edits their own; Reader lists their own. Another user's task is
//! answered 404 to non-admins, so its existence is not revealed.

use axum::{Extension, Json, extract::State, http::StatusCode};
use shared::{NewTask, Permission, Task, TaskPatch, normalize_title, routes::TASK, routes::TASKS};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    access::{Authorized, CreateTasks, DeleteTasks, EditTasks, ListTasks},
    auth::Principal,
    error::{AppError, AppJson, AppPath, BodyRefusals, ServerFailures, TokenRefusals},
    state::AppState,
    store::{Scope, TaskChanges, TaskDraft},
    telemetry::CreatedTask,
};

/// Behind the authentication layer.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, remove))
}

/// Admin: every task; anyone else: their own.
fn scope(principal: &Principal) -> Scope<'_> {
    if principal.may(Permission::ViewAll) {
        Scope::All
    } else {
        Scope::OwnedBy(&principal.object_id)
    }
}

/// List tasks: Admin all (with their owners), Editor and Reader their own.
#[utoipa::path(
    get, path = TASKS, tag = "tasks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Tasks, oldest first", body = [Task]),
        TokenRefusals, ServerFailures,
    )
)]
pub async fn list(
    caller: Authorized<ListTasks>,
    State(state): State<AppState>,
) -> Result<Json<Vec<Task>>, AppError> {
    Ok(Json(state.store.list(scope(&caller)).await?))
}

/// Create a task owned by the caller: Admin or Editor.
#[utoipa::path(
    post, path = TASKS, tag = "tasks",
    security(("bearer" = [])),
    request_body = NewTask,
    responses(
        (status = 201, description = "The new task", body = Task),
        (status = 507, description = "The store holds `TASKS_MAX` tasks (`store_full`)", body = shared::ApiError),
        TokenRefusals, BodyRefusals, ServerFailures,
    )
)]
pub async fn create(
    caller: Authorized<CreateTasks>,
    State(state): State<AppState>,
    AppJson(new): AppJson<NewTask>,
) -> Result<(StatusCode, Extension<CreatedTask>, Json<Task>), AppError> {
    let draft = TaskDraft {
        title: normalize_title(&new.title)?,
        owner_id: caller.object_id.clone(),
        owner_name: caller.name.clone(),
    };
    let task = state.store.create(draft).await?;
    Ok((
        StatusCode::CREATED,
        Extension(CreatedTask(task.id)),
        Json(task),
    ))
}

/// Change a task's title or completion: Admin any task, Editor their own.
#[utoipa::path(
    patch, path = TASK, tag = "tasks",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "Task id")),
    request_body = TaskPatch,
    responses(
        (status = 200, description = "The updated task", body = Task),
        (status = 404, description = "No such task (or another user's, for an Editor)", body = shared::ApiError),
        TokenRefusals, BodyRefusals, ServerFailures,
    )
)]
pub async fn update(
    caller: Authorized<EditTasks>,
    State(state): State<AppState>,
    AppPath(id): AppPath<u64>,
    AppJson(patch): AppJson<TaskPatch>,
) -> Result<Json<Task>, AppError> {
    let changes = TaskChanges {
        title: patch.title.as_deref().map(normalize_title).transpose()?,
        completed: patch.completed,
    };
    let task = state.store.update(id, scope(&caller), changes).await?;
    Ok(Json(task.ok_or(AppError::TaskNotFound)?))
}

/// Delete a task: Admin.
#[utoipa::path(
    delete, path = TASK, tag = "tasks",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "Task id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The task id is not an unsigned integer", body = shared::ApiError),
        (status = 404, description = "No such task", body = shared::ApiError),
        TokenRefusals, ServerFailures,
    )
)]
pub async fn remove(
    _caller: Authorized<DeleteTasks>,
    State(state): State<AppState>,
    AppPath(id): AppPath<u64>,
) -> Result<StatusCode, AppError> {
    if state.store.delete(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::TaskNotFound)
    }
}
