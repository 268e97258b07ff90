use leptos::prelude::*;
use shared::{Permission, Role};

/// ✓/✗ for each permission, from the same matrix the API enforces: a user with no role has none.
#[component]
pub fn AccessList(
    /// The user's roles, as the API reports them.
    roles: Vec<Role>,
) -> impl IntoView {
    view! {
        <h3 id="access-title">"What you can do"</h3>
        <ul class="rbac" aria-labelledby="access-title">
            {rows(&roles).into_iter().map(|(label, granted)| view! {
                <li class:granted=granted data-permission=label data-granted=granted.to_string()>
                    <span class="mark" aria-hidden="true">{if granted { "✓" } else { "✗" }}</span>
                    {label}
                    <span class="visually-hidden">{if granted { ": allowed" } else { ": not allowed" }}</span>
                </li>
            }).collect_view()}
        </ul>
    }
}

/// The list's rows: each permission's label and whether these roles grant it, in the matrix's order.
fn rows(roles: &[Role]) -> [(&'static str, bool); 5] {
    Permission::ALL.map(|permission| (permission.label(), permission.granted_to(roles)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_as_shown_for_each_role() {
        let table = |roles: &[Role]| rows(roles).map(|(_, granted)| granted);
        assert_eq!(
            rows(&[Role::Editor]).map(|(label, _)| label),
            ["Create", "Read", "Edit", "Delete", "View all users"]
        );
        assert_eq!(table(&[Role::Admin]), [true; 5]);
        assert_eq!(table(&[Role::Editor]), [true, true, true, false, false]);
        assert_eq!(table(&[Role::Reader]), [false, true, false, false, false]);
        assert_eq!(table(&[]), [false; 5]);
    }
}
