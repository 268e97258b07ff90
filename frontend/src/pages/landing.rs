use leptos::either::Either;
use leptos::prelude::*;

use crate::auth::Auth;
use crate::components::SignInButton;

/// The hero's heading and lead. `index.html` shows the same words, in the same place, before the
/// app starts: the first paint is the page, and it does not change when the app takes over.
const HERO_TITLE: &str = "Sign in with Entra ID. Call an API. Keep zero secrets.";
const HERO_LEAD: &str = "A task list that adapts to your app role: Admins manage every task, \
                         Editors create and update their own, Readers read theirs.";

/// The home page: what the app shows, and the way in.
#[component]
pub fn Landing() -> impl IntoView {
    let account = expect_context::<Auth>().account();
    let call_to_action = move || {
        if account.with(Option::is_some) {
            Either::Left(
                view! { <a href="/dashboard" class="button primary large">"Go to your dashboard"</a> },
            )
        } else {
            Either::Right(view! { <SignInButton class="large" /> })
        }
    };
    view! {
        <section class="hero">
            <h1>{HERO_TITLE}</h1>
            <p class="lead">{HERO_LEAD}</p>
            {call_to_action}
        </section>
        <section class="features" aria-label="How it works">
            <article class="card feature">
                <h2>"No secrets to leak"</h2>
                <p>
                    "The API reads its settings from Key Vault with its managed identity. There is no "
                    "password, client secret or connection string anywhere in the deployment."
                </p>
            </article>
            <article class="card feature">
                <h2>"Sign-in with PKCE, in Rust"</h2>
                <p>
                    "This page signs you in with the authorization code flow and PKCE, written in Rust "
                    "and compiled to WebAssembly. Tokens stay in this tab's session storage."
                </p>
            </article>
            <article class="card feature">
                <h2>"Roles enforced by the API"</h2>
                <p>
                    "Admin, Editor and Reader are app roles in Entra ID. The API checks them on every "
                    "request; this page only mirrors what the API allows."
                </p>
            </article>
            <article class="card feature">
                <h2>"One build, any environment"</h2>
                <p>
                    "The site reads its settings from config.json when it starts, so the same build runs "
                    "locally, in tests and in Azure."
                </p>
            </article>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The static shell paints the hero before the app starts; it must be the app's hero.
    #[test]
    fn index_html_shows_the_same_hero() {
        let index = include_str!("../../../index.html");
        for text in [HERO_TITLE, HERO_LEAD] {
            assert!(index.contains(text), "index.html lacks {text:?}");
        }
    }
}
