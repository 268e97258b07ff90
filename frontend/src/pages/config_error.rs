use leptos::prelude::*;

use crate::config::ConfigError;

/// Shown instead of the app when `/config.json` is missing or wrong: the operator must fix the
/// deployment, and needs to know exactly what to fix.
#[component]
pub fn ConfigErrorPage(
    /// What is wrong with the configuration.
    error: ConfigError,
) -> impl IntoView {
    view! {
        <main id="main" class="config-error">
            <section class="card narrow" role="alert">
                <h1>"This app is not configured"</h1>
                <p class="notice-text">{error.to_string()}</p>
                <p>
                    "The site needs a " <code>"/config.json"</code> " next to its " <code>"index.html"</code>
                    ", with " <code>"clientId"</code> ", " <code>"authority"</code> ", "
                    <code>"apiScope"</code> " and " <code>"apiBaseUrl"</code>
                    " (and optionally " <code>"redirectUri"</code> "). In Azure, deploy.sh writes it; "
                    "locally, " <code>"trunk serve"</code> " serves the file named by "
                    <code>"SPA_CONFIG_FILE"</code> " (default " <code>"frontend/config.local.json"</code> ")."
                </p>
            </section>
        </main>
    }
}
