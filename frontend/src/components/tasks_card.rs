use leptos::either::{Either, EitherOf5};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::{
    ErrorCode, Role, Task, can_create, can_delete, can_edit, can_list, can_view_all,
    normalize_title,
};

use super::{ErrorNotice, Skeleton};
use crate::api::{Api, ApiFailure};
use crate::load::Loader;

/// "All Tasks" (Admin) or "My Tasks": the list, with the controls the user's roles allow.
#[component]
pub fn TasksCard(
    /// The user's roles, as the API reports them.
    roles: Vec<Role>,
) -> impl IntoView {
    let title = if can_view_all(&roles) {
        "All Tasks"
    } else {
        "My Tasks"
    };
    // The API lists tasks only for users with a role; for others it would only answer 403.
    let body = if can_list(&roles) {
        Either::Left(view! { <TaskList roles /> })
    } else {
        Either::Right(view! { <NoRole /> })
    };
    view! {
        <section class="card tasks" aria-labelledby="tasks-title">
            <h2 id="tasks-title">{title}</h2>
            {body}
        </section>
    }
}

/// Why a user without a role sees no tasks, and who can change that.
#[component]
fn NoRole(
    /// The API's own words, when it refused.
    #[prop(optional)]
    detail: Option<String>,
) -> impl IntoView {
    view! {
        <div class="notice info" role="status">
            <p>
                <strong>"No role assigned."</strong>
                " Your account can sign in, but it has no role in this app, so there are no tasks "
                "to show. Ask an administrator to assign you the Admin, Editor or Reader role."
            </p>
            {detail.map(|detail| view! { <p class="muted">{detail}</p> })}
        </div>
    }
}

/// What to say when there are no tasks: what this user can do next.
fn empty_text(roles: &[Role]) -> &'static str {
    if can_view_all(roles) {
        "No tasks yet. Add the first one above: the tasks of every user appear here."
    } else if can_create(roles) {
        "No tasks yet. Add your first task above."
    } else {
        "No tasks yet. Readers see the tasks they own; to create tasks, ask an administrator for \
         the Editor role."
    }
}

/// A change to the task list, sent to the API.
#[derive(Debug, Clone)]
enum Change {
    Add(String),
    SetCompleted(u64, bool),
    Delete(u64),
}

#[component]
fn TaskList(roles: Vec<Role>) -> impl IntoView {
    let api = expect_context::<Api>();
    let tasks = Loader::new({
        let api = api.clone();
        move || {
            let api = api.clone();
            async move { api.tasks().await }
        }
    });
    // The last failed change, until the next change. It is shown instead of a failed reload, so
    // one failure is one alert; the list stays as it was.
    let change_failed = RwSignal::new(None::<ApiFailure>);
    let busy = RwSignal::new(false);
    let (draft, set_draft) = signal(String::new());
    // Sends a change; once the API has it, reloads the list, so it shows what the API stored.
    let apply = Callback::new(move |change: Change| {
        let api = api.clone();
        busy.set(true);
        change_failed.set(None);
        spawn_local(async move {
            let result = match change {
                Change::Add(title) => api
                    .create_task(title)
                    .await
                    .map(|_| set_draft.set(String::new())),
                Change::SetCompleted(id, completed) => {
                    api.set_completed(id, completed).await.map(drop)
                }
                Change::Delete(id) => api.delete_task(id).await,
            };
            let _ = busy.try_set(false);
            match result {
                Ok(()) => tasks.reload(),
                Err(failure) => {
                    let _ = change_failed.try_set(Some(failure));
                }
            }
        });
    });
    let alert = move || match (change_failed.get(), tasks.error()) {
        (Some(failure), _) => Some(view! {
            <ErrorNotice
                message=failure.to_string()
                details=failure.details()
                action=("Dismiss", Callback::new(move |()| change_failed.set(None)))
            />
        }),
        (None, Some(failure)) if !is_forbidden(&failure) => Some(view! {
            <ErrorNotice
                message=failure.to_string()
                details=failure.details()
                action=("Try again", Callback::new(move |()| tasks.reload()))
            />
        }),
        _ => None,
    };

    let controls = RowControls {
        may_edit: can_edit(&roles),
        may_delete: can_delete(&roles),
        show_owner: can_view_all(&roles),
        apply,
        busy: busy.read_only(),
    };
    let empty = empty_text(&roles);
    view! {
        {can_create(&roles).then(|| view! { <NewTaskForm draft set_draft apply busy=busy.read_only() /> })}
        {alert}
        {move || match (tasks.get(), tasks.error()) {
            (Some(list), _) if list.is_empty() => EitherOf5::A(view! { <p class="empty">{empty}</p> }),
            (Some(list), _) => EitherOf5::B(view! {
                <ul class="task-list">
                    {list.into_iter().map(|task| view! { <TaskRow task controls /> }).collect_view()}
                </ul>
            }),
            (None, Some(ApiFailure::Refused { code: ErrorCode::Forbidden, message, .. })) => {
                EitherOf5::C(view! { <NoRole detail=message /> })
            }
            // The alert above says what failed, with "Try again".
            (None, Some(_)) => EitherOf5::D(()),
            (None, None) => EitherOf5::E(view! { <Skeleton what="Loading tasks…" /> }),
        }}
    }
}

fn is_forbidden(failure: &ApiFailure) -> bool {
    matches!(
        failure,
        ApiFailure::Refused {
            code: ErrorCode::Forbidden,
            ..
        }
    )
}

/// The "New task" field and its "Add" button. The title is checked with the API's own rule before
/// it is sent.
#[component]
fn NewTaskForm(
    /// The text being typed.
    draft: ReadSignal<String>,
    /// Cleared once the task is created.
    set_draft: WriteSignal<String>,
    /// Sends the new task.
    apply: Callback<Change>,
    /// Whether a change is being sent.
    busy: ReadSignal<bool>,
) -> impl IntoView {
    let (invalid, set_invalid) = signal(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match normalize_title(&draft.get_untracked()) {
            Ok(title) => {
                set_invalid.set(None);
                apply.run(Change::Add(title));
            }
            Err(error) => set_invalid.set(Some(format!("The {error}."))),
        }
    };
    view! {
        <form class="new-task" on:submit=submit>
            <label for="new-task">"New task"</label>
            <div class="row">
                <input
                    id="new-task"
                    type="text"
                    autocomplete="off"
                    prop:value=draft
                    on:input:target=move |ev| set_draft.set(ev.target().value())
                    aria-invalid=move || invalid.with(Option::is_some).to_string()
                    aria-describedby="new-task-error"
                />
                <button type="submit" class="button primary" disabled=busy>
                    "Add"
                </button>
            </div>
            <p id="new-task-error" class="field-error" role="alert">{invalid}</p>
        </form>
    }
}

/// What a row may offer, from the user's roles, and the changes it dispatches.
#[derive(Clone, Copy)]
struct RowControls {
    may_edit: bool,
    may_delete: bool,
    show_owner: bool,
    apply: Callback<Change>,
    busy: ReadSignal<bool>,
}

#[component]
fn TaskRow(task: Task, controls: RowControls) -> impl IntoView {
    let Task {
        id,
        title,
        completed,
        owner_name,
        ..
    } = task;
    let RowControls { apply, busy, .. } = controls;
    let status = if controls.may_edit {
        Either::Left(view! {
            <input
                type="checkbox"
                prop:checked=completed
                aria-label=format!("Mark {title} complete")
                disabled=busy
                on:change=move |_| { apply.run(Change::SetCompleted(id, !completed)); }
            />
        })
    } else {
        Either::Right(view! {
            <span class="status" class:done=completed>
                {if completed { "✓ Done" } else { "○ Open" }}
            </span>
        })
    };
    view! {
        <li class="task" class:done=completed>
            {status}
            <span class="task-text">
                <span class="task-title">{title.clone()}</span>
                {controls.show_owner.then(|| view! {
                    <span class="owner"><span class="visually-hidden">"Owner: "</span>{owner_name}</span>
                })}
            </span>
            {controls.may_delete.then(|| view! { <DeleteButton id title apply busy /> })}
        </li>
    }
}

/// Delete in two steps: the first press asks, the second (on the same button, where the focus
/// already is) deletes; "Cancel" backs out.
#[component]
fn DeleteButton(
    id: u64,
    title: String,
    apply: Callback<Change>,
    busy: ReadSignal<bool>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let label = move || {
        if confirming.get() {
            format!("Confirm: delete {title}")
        } else {
            format!("Delete {title}")
        }
    };
    view! {
        <span class="delete">
            <button
                type="button"
                class=move || if confirming.get() { "button danger" } else { "button quiet danger" }
                aria-label=label
                disabled=busy
                on:click=move |_| {
                    if confirming.get_untracked() {
                        apply.run(Change::Delete(id));
                    } else {
                        confirming.set(true);
                    }
                }
            >
                {move || if confirming.get() { "Confirm" } else { "Delete" }}
            </button>
            {move || confirming.get().then(|| view! {
                <button type="button" class="button quiet" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            })}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each role is told what it can do next.
    #[test]
    fn empty_lists_say_what_comes_next() {
        assert!(empty_text(&[Role::Admin]).contains("every user"));
        assert!(empty_text(&[Role::Editor]).contains("Add your first task"));
        assert!(empty_text(&[Role::Reader]).contains("ask an administrator"));
    }
}
