use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;

use crate::api::Api;
use crate::auth::{Account, Auth};
use crate::components::{ErrorNotice, ProfileCard, RbacCard, SignInButton, TasksCard};
use crate::load::Loader;

/// Signed out: a "Sign in required" card. Signed in: profile, access and tasks.
#[component]
pub fn Dashboard() -> impl IntoView {
    let account = expect_context::<Auth>().account();
    view! {
        <h1>"Dashboard"</h1>
        {move || match account.get() {
            None => Either::Left(view! { <SignInRequired /> }),
            Some(account) => Either::Right(view! { <SignedIn account /> }),
        }}
    }
}

#[component]
fn SignInRequired() -> impl IntoView {
    view! {
        <section class="card narrow" aria-labelledby="sign-in-title">
            <h2 id="sign-in-title">"Sign in required"</h2>
            <p>"Sign in with your organization account to see your profile, your roles and your tasks."</p>
            <SignInButton />
        </section>
    }
}

#[component]
fn SignedIn(account: Account) -> impl IntoView {
    let api = expect_context::<Api>();
    let me = Loader::new(move || {
        let api = api.clone();
        async move { api.me().await }
    });
    move || match me.get() {
        None => EitherOf3::A(view! { <p class="muted" role="status">"Loading your profile…"</p> }),
        Some(Ok(me)) => EitherOf3::B(view! {
            <div class="cards">
                <ProfileCard account=account.clone() me=me.clone() />
                <RbacCard roles=me.roles.clone() />
            </div>
            <TasksCard roles=me.roles />
        }),
        Some(Err(error)) => EitherOf3::C(view! {
            <ErrorNotice message=error.to_string() retry=Callback::new(move |()| me.reload()) />
        }),
    }
}
