use leptos::prelude::*;

use crate::auth::Auth;

/// The "Sign in" button: starts an interactive sign-in that comes back to the current page.
#[component]
pub fn SignInButton(
    /// Extra CSS classes, for where the button sits.
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <button type="button" class=format!("button primary {class}") on:click=move |_| auth.sign_in()>
            "Sign in"
        </button>
    }
}
