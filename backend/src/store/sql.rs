//! The statements both SQL engines run, written once in SQL both accept (`$1` placeholders,
//! `RETURNING`). Reads run on their own; writes run in the group commit's transactions
//! ([`super::batch`]), one statement per write, or one for a run of creates ([`insert_rows`]).

/// The columns of a task, in the order every query returns them.
macro_rules! task_columns {
    () => {
        "id, title, completed, owner_id, owner_name"
    };
}

pub(super) const LIST_ALL: &str = concat!("SELECT ", task_columns!(), " FROM tasks ORDER BY id");
pub(super) const LIST_OWNED: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE owner_id = $1 ORDER BY id"
);
/// Checked against `TASKS_MAX` by the writer first (the count is read once per batch). Only the
/// id comes back: the writer makes the task of its draft.
pub(super) const INSERT: &str =
    "INSERT INTO tasks (title, owner_id, owner_name) VALUES ($1, $2, $3) RETURNING id";

/// [`INSERT`] of `rows` tasks in one statement, their ids in any order (ids grow, so sorted they
/// follow the rows).
pub(super) fn insert_rows(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| format!("(${}, ${}, ${})", 3 * row + 1, 3 * row + 2, 3 * row + 3))
        .collect();
    format!(
        "INSERT INTO tasks (title, owner_id, owner_name) VALUES {} RETURNING id",
        values.join(", ")
    )
}
/// `COALESCE` keeps a column the patch does not name, inside the same statement.
pub(super) const UPDATE_ANY: &str = concat!(
    "UPDATE tasks SET title = COALESCE($1, title), completed = COALESCE($2, completed) WHERE id = $3 RETURNING ",
    task_columns!()
);
pub(super) const UPDATE_OWNED: &str = concat!(
    "UPDATE tasks SET title = COALESCE($1, title), completed = COALESCE($2, completed) WHERE id = $3 AND owner_id = $4 RETURNING ",
    task_columns!()
);
pub(super) const DELETE: &str = "DELETE FROM tasks WHERE id = $1";
/// The number of tasks, kept by triggers (migration 0002).
pub(super) const COUNT: &str = "SELECT n FROM task_count";
