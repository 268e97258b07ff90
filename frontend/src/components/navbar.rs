use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::SignInButton;
use crate::auth::Auth;

/// Home, Dashboard (when signed in), the user's name with "Sign out", or "Sign in". On narrow
/// screens they fold behind a menu button, and open over the page rather than pushing it down.
#[component]
pub fn Navbar() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let account = auth.account();
    let (open, set_open) = signal(false);
    let close = move |_| set_open.set(false);
    // Plain links: the router handles every same-origin link's click. This one marks the page
    // the user is on.
    let path = use_location().pathname;
    let current =
        move |href: &'static str| move || path.with(|path| path == href).then_some("page");
    view! {
        <header class="site-header">
            <nav class="navbar" aria-label="Main">
                <a href="/" class="brand">"Entra ID Tasks"</a>
                <button
                    type="button"
                    class="button quiet menu-toggle"
                    aria-label="Menu"
                    aria-controls="site-menu"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| set_open.update(|open| *open = !*open)
                >
                    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
                        <path d="M3 6h18M3 12h18M3 18h18" />
                    </svg>
                </button>
                <div id="site-menu" class="menu" class:open=open>
                    <ul class="links">
                        <li><a href="/" aria-current=current("/") on:click=close>"Home"</a></li>
                        {move || account.with(Option::is_some).then(|| view! {
                            <li><a href="/dashboard" aria-current=current("/dashboard") on:click=close>"Dashboard"</a></li>
                        })}
                    </ul>
                    {move || match account.get() {
                        Some(account) => {
                            let auth = auth.clone();
                            Either::Left(view! {
                                <div class="user">
                                    <span class="user-name">{account.name}</span>
                                    <span class="user-username">{account.username}</span>
                                    <button type="button" class="button" on:click=move |_| auth.sign_out()>
                                        "Sign out"
                                    </button>
                                </div>
                            })
                        }
                        None => Either::Right(view! { <SignInButton /> }),
                    }}
                </div>
            </nav>
        </header>
    }
}
