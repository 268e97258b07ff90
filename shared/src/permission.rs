use crate::Role;

/// What a user may do with tasks, as the dashboard's "What you can do" list shows and the API enforces.
///
/// A user holding any of a permission's roles has it ("any of", as Entra app roles are meant to be
/// checked). A user with no role of this app has no permission at all: the API answers their task
/// requests 403, and the dashboard shows every row as not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    Create,
    /// List tasks: their own, or everyone's with [`Permission::ViewAll`].
    List,
    Edit,
    Delete,
    ViewAll,
}

impl Permission {
    /// Every permission, in the order the dashboard lists them.
    pub const ALL: [Permission; 5] = [
        Permission::Create,
        Permission::List,
        Permission::Edit,
        Permission::Delete,
        Permission::ViewAll,
    ];

    /// The roles that grant this permission (never empty: every permission needs some role).
    pub const fn roles(self) -> &'static [Role] {
        match self {
            Permission::List => &Role::ALL,
            Permission::Create | Permission::Edit => &[Role::Admin, Role::Editor],
            Permission::Delete | Permission::ViewAll => &[Role::Admin],
        }
    }

    /// Whether a user with these roles has this permission.
    pub fn granted_to(self, roles: &[Role]) -> bool {
        self.roles().iter().any(|role| roles.contains(role))
    }

    /// The label shown on the dashboard.
    pub const fn label(self) -> &'static str {
        match self {
            Permission::Create => "Create",
            Permission::List => "Read",
            Permission::Edit => "Edit",
            Permission::Delete => "Delete",
            Permission::ViewAll => "View all users",
        }
    }
}

/// List own tasks: any role of this app.
pub fn can_list(roles: &[Role]) -> bool {
    Permission::List.granted_to(roles)
}

/// Create tasks: Admin or Editor.
pub fn can_create(roles: &[Role]) -> bool {
    Permission::Create.granted_to(roles)
}

/// Edit tasks (Admin any task, Editor their own): Admin or Editor.
pub fn can_edit(roles: &[Role]) -> bool {
    Permission::Edit.granted_to(roles)
}

/// Delete any task: Admin.
pub fn can_delete(roles: &[Role]) -> bool {
    Permission::Delete.granted_to(roles)
}

/// See every user's tasks with their owners: Admin.
pub fn can_view_all(roles: &[Role]) -> bool {
    Permission::ViewAll.granted_to(roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Admin, Editor, Reader};

    /// The matrix of the original app, row by row: (roles, create, list, edit, delete, view all).
    /// A user without a role gets nothing: the API lists no tasks for them.
    #[test]
    fn matrix_matches_the_original_app() {
        let rows: [(&[Role], [bool; 5]); 6] = [
            (&[Admin], [true, true, true, true, true]),
            (&[Editor], [true, true, true, false, false]),
            (&[Reader], [false, true, false, false, false]),
            (&[], [false, false, false, false, false]),
            (&[Reader, Editor], [true, true, true, false, false]),
            (&[Reader, Admin], [true, true, true, true, true]),
        ];
        for (roles, expected) in rows {
            let actual = [
                can_create(roles),
                can_list(roles),
                can_edit(roles),
                can_delete(roles),
                can_view_all(roles),
            ];
            assert_eq!(actual, expected, "roles {roles:?}");
            let by_enum = Permission::ALL.map(|p| p.granted_to(roles));
            assert_eq!(by_enum, expected, "Permission::ALL order, roles {roles:?}");
        }
    }

    #[test]
    fn every_permission_needs_a_role() {
        for permission in Permission::ALL {
            assert!(!permission.roles().is_empty(), "{permission:?}");
        }
    }
}
