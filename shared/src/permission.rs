use crate::Role;

/// What a user may do with tasks, as shown on the dashboard's RBAC card and enforced by the API.
///
/// A user holding any of a permission's roles has it ("any of", as Entra app roles are meant to be
/// checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    Create,
    Read,
    Edit,
    Delete,
    ViewAll,
}

impl Permission {
    /// Every permission, in the order the dashboard lists them.
    pub const ALL: [Permission; 5] = [
        Permission::Create,
        Permission::Read,
        Permission::Edit,
        Permission::Delete,
        Permission::ViewAll,
    ];

    /// The roles that grant this permission; empty means every signed-in user has it.
    ///
    /// `Read` is granted to everyone in the matrix (a user always may read their own tasks), but
    /// the API only lists tasks for a user holding some app role: a user with no role assignment
    /// has been given no access to this app at all.
    pub const fn roles(self) -> &'static [Role] {
        match self {
            Permission::Create | Permission::Edit => &[Role::Admin, Role::Editor],
            Permission::Delete | Permission::ViewAll => &[Role::Admin],
            Permission::Read => &[],
        }
    }

    /// Whether a user with these roles has this permission.
    pub fn granted_to(self, roles: &[Role]) -> bool {
        let needed = self.roles();
        needed.is_empty() || needed.iter().any(|role| roles.contains(role))
    }

    /// The label shown on the dashboard.
    pub const fn label(self) -> &'static str {
        match self {
            Permission::Create => "Create",
            Permission::Read => "Read",
            Permission::Edit => "Edit",
            Permission::Delete => "Delete",
            Permission::ViewAll => "View all users",
        }
    }
}

/// Read own tasks: always.
pub fn can_read(roles: &[Role]) -> bool {
    Permission::Read.granted_to(roles)
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

    /// The matrix of the original app, row by row: (roles, create, read, edit, delete, view all).
    #[test]
    fn matrix_matches_the_original_app() {
        let rows: [(&[Role], [bool; 5]); 6] = [
            (&[Admin], [true, true, true, true, true]),
            (&[Editor], [true, true, true, false, false]),
            (&[Reader], [false, true, false, false, false]),
            (&[], [false, true, false, false, false]),
            (&[Reader, Editor], [true, true, true, false, false]),
            (&[Reader, Admin], [true, true, true, true, true]),
        ];
        for (roles, expected) in rows {
            let actual = [
                can_create(roles),
                can_read(roles),
                can_edit(roles),
                can_delete(roles),
                can_view_all(roles),
            ];
            assert_eq!(actual, expected, "roles {roles:?}");
            let by_enum = Permission::ALL.map(|p| p.granted_to(roles));
            assert_eq!(by_enum, expected, "Permission::ALL order, roles {roles:?}");
        }
    }
}
