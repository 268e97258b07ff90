use leptos::prelude::*;
use shared::{Me, Role};

use super::AccessList;
use crate::auth::Account;

/// Who is signed in and what they may do: name and e-mail from the ID token, roles as the API
/// sees them, and the permissions those roles grant. The dashboard's side panel.
#[component]
pub fn ProfileCard(
    /// The signed-in user, from the ID token.
    account: Account,
    /// The API's view of the user.
    me: Me,
) -> impl IntoView {
    let email = if account.username.is_empty() {
        me.email
    } else {
        account.username
    };
    view! {
        <section class="card profile" aria-labelledby="profile-title">
            <div class="profile-head">
                <span class="avatar" aria-hidden="true">{initials(&account.name)}</span>
                <div>
                    <h2 id="profile-title">{account.name}</h2>
                    <p class="muted email">{email}</p>
                </div>
            </div>
            <dl class="facts">
                <dt>{if me.roles.len() > 1 { "Roles" } else { "Role" }}</dt>
                <dd class="badges">
                    {me.roles.iter().map(|role| view! {
                        <span class=badge_class(*role) title=role.description()>{role.as_str()}</span>
                    }).collect_view()}
                    {me.roles.is_empty().then_some("No role assigned")}
                </dd>
            </dl>
            <AccessList roles=me.roles />
        </section>
    }
}

/// The badge's classes: its colour comes from `role-admin`, `role-editor` or `role-reader`.
fn badge_class(role: Role) -> &'static str {
    match role {
        Role::Admin => "badge role-admin",
        Role::Editor => "badge role-editor",
        Role::Reader => "badge role-reader",
    }
}

/// Up to two initials: of the first and last words of the name. Only ASCII letters are
/// upper-cased here; the avatar's CSS (`text-transform`) upper-cases the others, because Rust's
/// Unicode case tables would add 24 KB to the bundle for this one use.
fn initials(name: &str) -> String {
    let mut words = name.split_whitespace();
    let first = words.next().and_then(|w| w.chars().next());
    let last = words.next_back().and_then(|w| w.chars().next());
    first
        .into_iter()
        .chain(last)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_first_and_last_names() {
        assert_eq!(initials("Test Editor"), "TE");
        assert_eq!(initials("ada lovelace byron"), "AB");
        assert_eq!(initials("Cher"), "C");
        assert_eq!(initials("  Émile  Zola "), "ÉZ");
        assert_eq!(initials("émile zola"), "éZ");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn badge_classes_match_the_stylesheet() {
        let css = include_str!("../../style.css");
        for role in Role::ALL {
            let class = badge_class(role);
            assert_eq!(
                class,
                format!("badge role-{}", role.as_str().to_ascii_lowercase())
            );
            let selector = class.replace(' ', ".");
            assert!(css.contains(&format!(".{selector}")), "{selector}");
        }
    }
}
