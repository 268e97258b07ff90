-- The number of tasks, kept by triggers, so that checking TASKS_MAX reads one row instead of
-- counting the table (a count is a scan: it grows with the table, and the writer checks at every
-- batch). The triggers keep it right whoever writes, including an operator with the sqlite3 shell.
CREATE TABLE task_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL CHECK (n >= 0)
) STRICT;

INSERT INTO task_count (id, n) SELECT 1, COUNT(*) FROM tasks;

CREATE TRIGGER task_count_insert AFTER INSERT ON tasks
BEGIN
    UPDATE task_count SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER task_count_delete AFTER DELETE ON tasks
BEGIN
    UPDATE task_count SET n = n - 1 WHERE id = 1;
END;
