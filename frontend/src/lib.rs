//! The single-page app: it loads its runtime configuration, completes a sign-in if the authority
//! has just sent the browser back, then renders the router.
//!
//! Layout as in leptos-rs/start-trunk: `main.rs` only mounts [`App`]; pages in `pages/`, reusable
//! pieces in `components/`, sign-in in `auth/`, the API client in `api/`.

mod api;
pub mod auth;
mod browser;
mod codec;
mod components;
pub mod config;
mod load;
mod pages;
mod url;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::api::Api;
use crate::auth::Auth;
use crate::components::{AuthNotice, Footer, Navbar};
use crate::load::Loader;
use crate::pages::{ConfigErrorPage, Dashboard, Landing, NotFound};

// Unit tests of code that calls the browser run in it, with frontend/tests/browser.rs
// (frontend/README.md, "Tests").
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// The whole app: a configuration error page, or the site. Until one of them is ready, the static
/// shell of `index.html` stays on screen; the first of them replaces it.
#[component]
pub fn App() -> impl IntoView {
    let started = Loader::new(start);
    move || {
        let page = match (started.get(), started.error()) {
            (Some(auth), _) => Either::Left(view! { <Site auth /> }),
            (None, Some(error)) => Either::Right(view! { <ConfigErrorPage error /> }),
            (None, None) => return None,
        };
        browser::remove_shell();
        Some(page)
    }
}

/// Start-up: the configuration, then the sign-in the authority may have just answered. Both happen
/// before the router reads the address, which `complete_sign_in` rewrites.
async fn start() -> Result<Auth, config::ConfigError> {
    let auth = Auth::new(config::load().await?);
    auth.prefetch_openid_configuration();
    auth.complete_sign_in().await;
    Ok(auth)
}

#[component]
fn Site(auth: Auth) -> impl IntoView {
    provide_context(Api::new(auth.clone()));
    provide_context(auth);
    view! {
        <Router>
            <Navbar />
            <main id="main">
                <AuthNotice />
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Landing />
                    <Route path=path!("/dashboard") view=Dashboard />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}
