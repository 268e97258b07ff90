use leptos::prelude::*;

use crate::auth::Auth;

/// The last sign-in problem (a refusal by the authority, a session that ended), until dismissed.
#[component]
pub fn AuthNotice() -> impl IntoView {
    let notice = expect_context::<Auth>().notice();
    move || {
        notice.get().map(|error| {
            view! {
                <ErrorNotice
                    message=error.to_string()
                    details=None
                    action=("Dismiss", Callback::new(move |()| notice.set(None)))
                />
            }
        })
    }
}

/// A failure, in words for the person using the app, the technical cause behind "Details", and
/// the one action that can help (try again, dismiss).
#[component]
pub fn ErrorNotice(
    /// What went wrong, as a sentence.
    message: String,
    /// The technical cause.
    details: Option<String>,
    /// A button: its label and what it does.
    #[prop(optional)]
    action: Option<(&'static str, Callback<()>)>,
) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            <div class="notice-body">
                <p class="notice-text">{message}</p>
                {details.map(|details| view! {
                    <details>
                        <summary>"Details"</summary>
                        <p class="notice-details">{details}</p>
                    </details>
                })}
            </div>
            {action.map(|(label, run)| view! {
                <button type="button" class="button" on:click=move |_| run.run(())>{label}</button>
            })}
        </div>
    }
}
