use leptos::prelude::*;
use leptos_router::components::A;

/// Any address the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href="/">"Go to the home page"</A>
        </section>
    }
}
