use leptos::prelude::*;

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                "A reference app: Microsoft Entra ID sign-in in Rust and WebAssembly, an API that "
                "enforces app roles, and an Azure deployment without a single secret."
            </p>
        </footer>
    }
}
