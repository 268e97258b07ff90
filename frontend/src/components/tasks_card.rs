use leptos::either::{Either, EitherOf5};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::{Role, Task, can_create, can_delete, can_edit, can_view_all, normalize_title};

use super::ErrorNotice;
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
    let body = if roles.is_empty() {
        Either::Left(view! { <NoRole /> })
    } else {
        Either::Right(view! { <TaskList roles /> })
    };
    view! {
        <section class="card tasks" aria-labelledby="tasks-title">
            <h2 id="tasks-title">{title}</h2>
            {body}
        </section>
    }
}

/// Why a user without a role sees no tasks.
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
    // The last failed change, shown above the list until the next change succeeds.
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let (draft, set_draft) = signal(String::new());
    // Sends a change, then reloads the list, so it always shows what the API stored.
    let apply = Callback::new(move |change: Change| {
        let api = api.clone();
        busy.set(true);
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
            let _ = problem.try_set(result.err().map(|e| e.to_string()));
            let _ = busy.try_set(false);
            tasks.reload();
        });
    });

    let controls = RowControls {
        may_edit: can_edit(&roles),
        may_delete: can_delete(&roles),
        show_owner: can_view_all(&roles),
        apply,
        busy: busy.read_only(),
    };
    view! {
        {can_create(&roles).then(|| view! { <NewTaskForm draft set_draft apply busy=busy.read_only() /> })}
        {move || problem.get().map(|message| view! { <ErrorNotice message /> })}
        {move || match tasks.get() {
            None => EitherOf5::A(view! { <p class="muted" role="status">"Loading tasks…"</p> }),
            Some(Ok(list)) if list.is_empty() => EitherOf5::B(view! { <p class="muted">"No tasks yet."</p> }),
            Some(Ok(list)) => EitherOf5::C(view! {
                <ul class="task-list">
                    {list.into_iter().map(|task| view! { <TaskRow task controls /> }).collect_view()}
                </ul>
            }),
            Some(Err(ApiFailure::Forbidden(detail))) => EitherOf5::D(view! { <NoRole detail /> }),
            Some(Err(error)) => EitherOf5::E(view! {
                <ErrorNotice message=error.to_string() retry=Callback::new(move |()| tasks.reload()) />
            }),
        }}
    }
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
            <span class="task-title">{title.clone()}</span>
            {controls.show_owner.then(|| view! {
                <span class="badge owner"><span class="visually-hidden">"Owner: "</span>{owner_name}</span>
            })}
            {controls.may_delete.then(|| view! {
                <button
                    type="button"
                    class="button danger"
                    aria-label=format!("Delete {title}")
                    disabled=busy
                    on:click=move |_| { apply.run(Change::Delete(id)); }
                >
                    "Delete"
                </button>
            })}
        </li>
    }
}
