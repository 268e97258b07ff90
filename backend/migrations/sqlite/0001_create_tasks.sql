-- Tasks (SQLite). AUTOINCREMENT: ids only grow and are never reused, even after the newest task is
-- deleted, as in the in-memory and PostgreSQL stores. STRICT: a value of the wrong type is an error.
CREATE TABLE tasks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    completed  INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    owner_id   TEXT    NOT NULL,
    owner_name TEXT    NOT NULL
) STRICT;

-- Non-admins list their own tasks, oldest first.
CREATE INDEX tasks_by_owner ON tasks (owner_id, id);
