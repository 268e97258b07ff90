use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::Auth;
use crate::components::SignInButton;

/// The home page: what the app shows, and the way in.
#[component]
pub fn Landing() -> impl IntoView {
    let account = expect_context::<Auth>().account();
    let call_to_action = move || {
        if account.with(Option::is_some) {
            view! { <A href="/dashboard" attr:class="button primary large">"Go to your dashboard"</A> }.into_any()
        } else {
            view! { <SignInButton class="large" /> }.into_any()
        }
    };
    view! {
        <section class="hero">
            <h1>"Sign in with Entra ID. Call an API. Keep zero secrets."</h1>
            <p class="lead">
                "A task list that adapts to your app role: Admins manage every task, Editors create "
                "and update their own, Readers read theirs."
            </p>
            {call_to_action}
        </section>
        <section class="features" aria-label="How it works">
            <Feature title="No secrets to leak">
                "The API reads its settings from Key Vault with its managed identity. There is no "
                "password, client secret or connection string anywhere in the deployment."
            </Feature>
            <Feature title="Sign-in with PKCE, in Rust">
                "This page signs you in with the authorization code flow and PKCE, written in Rust "
                "and compiled to WebAssembly. Tokens stay in this tab's session storage."
            </Feature>
            <Feature title="Roles enforced by the API">
                "Admin, Editor and Reader are app roles in Entra ID. The API checks them on every "
                "request; this page only mirrors what the API allows."
            </Feature>
            <Feature title="One build, any environment">
                "The site reads its settings from config.json when it starts, so the same build runs "
                "locally, in tests and in Azure."
            </Feature>
        </section>
    }
}

#[component]
fn Feature(
    /// The card's heading.
    title: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <article class="card feature">
            <h2>{title}</h2>
            <p>{children()}</p>
        </article>
    }
}
