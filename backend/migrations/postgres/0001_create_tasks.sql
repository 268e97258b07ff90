-- Tasks (PostgreSQL). Identity ids only grow and are never reused, as in the other stores.
CREATE TABLE tasks (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      TEXT    NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    completed  BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id   TEXT    NOT NULL,
    owner_name TEXT    NOT NULL
);

-- Non-admins list their own tasks, oldest first.
CREATE INDEX tasks_by_owner ON tasks (owner_id, id);
