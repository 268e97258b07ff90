use leptos::prelude::*;

use crate::auth::Auth;

/// The last sign-in problem (a refusal by the authority, a session that ended), until dismissed.
#[component]
pub fn AuthNotice() -> impl IntoView {
    let notice = expect_context::<Auth>().notice();
    move || {
        notice.get().map(|error| {
            view! {
                <div class="notice error" role="alert">
                    <p class="notice-text">{error.to_string()}</p>
                    <button type="button" class="button" on:click=move |_| notice.set(None)>
                        "Dismiss"
                    </button>
                </div>
            }
        })
    }
}

/// A failed call, in words, with a way to try again when that can help.
#[component]
pub fn ErrorNotice(
    /// What went wrong, as a sentence.
    message: String,
    /// Repeats the failed call.
    #[prop(optional, into)]
    retry: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            <p class="notice-text">{message}</p>
            {retry.map(|retry| view! {
                <button type="button" class="button" on:click=move |_| retry.run(())>
                    "Try again"
                </button>
            })}
        </div>
    }
}
