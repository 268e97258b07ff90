use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;

use crate::api::Api;
use crate::auth::{Account, Auth};
use crate::components::{ErrorNotice, ProfileCard, SignInButton, Skeleton, TasksCard};
use crate::load::Loader;

/// Signed out: a "Sign in required" card. Signed in: the tasks, with who the user is and what they
/// may do beside them (below them on a phone).
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
            <p>"Sign in with your organization account to see your tasks and what your role lets you do."</p>
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
    move || match (me.get(), me.error()) {
        (Some(me), _) => EitherOf3::A(view! {
            <div class="dashboard">
                <TasksCard roles=me.roles.clone() />
                <ProfileCard account=account.clone() me />
            </div>
        }),
        (None, Some(error)) => EitherOf3::B(view! {
            <ErrorNotice
                message=error.to_string()
                details=error.details()
                action=("Try again", Callback::new(move |()| me.reload()))
            />
        }),
        (None, None) => EitherOf3::C(view! {
            <div class="dashboard">
                <section class="card tasks">
                    <Skeleton what="Loading your tasks…" />
                </section>
            </div>
        }),
    }
}
