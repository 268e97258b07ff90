use leptos::prelude::*;
use leptos_router::components::A;

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
    view! {
        <header class="site-header">
            <nav class="navbar" aria-label="Main">
                <A href="/" attr:class="brand">"Entra ID Tasks"</A>
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
                        <li><A href="/" on:click=close>"Home"</A></li>
                        {move || account.with(Option::is_some).then(|| view! {
                            <li><A href="/dashboard" on:click=close>"Dashboard"</A></li>
                        })}
                    </ul>
                    {move || match account.get() {
                        Some(account) => {
                            let auth = auth.clone();
                            view! {
                                <div class="user">
                                    <span class="user-name">{account.name}</span>
                                    <span class="user-username">{account.username}</span>
                                    <button type="button" class="button" on:click=move |_| auth.sign_out()>
                                        "Sign out"
                                    </button>
                                </div>
                            }
                            .into_any()
                        }
                        None => view! { <SignInButton /> }.into_any(),
                    }}
                </div>
            </nav>
        </header>
    }
}
