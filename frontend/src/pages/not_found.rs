use leptos::prelude::*;

/// Any address the router does not know, laid out like every other page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <section class="card">
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <a href="/" class="button primary">"Go to the home page"</a>
        </section>
    }
}
