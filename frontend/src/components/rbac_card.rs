use leptos::prelude::*;
use shared::{Permission, Role};

/// ✓/✗ for each permission, from the same matrix the API enforces.
#[component]
pub fn RbacCard(
    /// The user's roles, as the API reports them.
    roles: Vec<Role>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="rbac-title">
            <h2 id="rbac-title">"Access"</h2>
            <ul class="rbac">
                {rows(&roles).into_iter().map(|(label, granted)| view! {
                    <li class:granted=granted data-permission=label data-granted=granted.to_string()>
                        <span class="mark" aria-hidden="true">{if granted { "✓" } else { "✗" }}</span>
                        {label}
                        <span class="visually-hidden">{if granted { ": allowed" } else { ": not allowed" }}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The card's rows: each permission's label and whether these roles grant it, in the matrix's order.
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
