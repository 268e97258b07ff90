use leptos::prelude::*;

/// Placeholder rows the height of what is loading, so nothing jumps when it arrives; screen
/// readers hear what is being loaded. `index.html` draws the same rows before the app starts.
#[component]
pub fn Skeleton(
    /// What is loading, as a status message ("Loading tasks…").
    what: &'static str,
) -> impl IntoView {
    view! {
        <div class="skeleton" aria-busy="true">
            <p class="visually-hidden" role="status">{what}</p>
            <span class="bone"></span>
            <span class="bone"></span>
            <span class="bone"></span>
        </div>
    }
}
