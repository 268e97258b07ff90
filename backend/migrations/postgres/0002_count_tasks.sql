-- The number of tasks, kept by a trigger, so that checking TASKS_MAX reads one row instead of
-- counting the table (a count is a scan: it grows with the table, and the writer checks at every
-- batch). The writer locks this row (FOR UPDATE) before it creates tasks, which serializes
-- creation across replicas; the trigger keeps the number right whoever writes.
-- No task is created or deleted between the count and the trigger (by a replica still running
-- the previous version during a rolling deployment): they wait for this migration to commit.
LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE task_count (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    n  BIGINT  NOT NULL CHECK (n >= 0)
);

INSERT INTO task_count (n) SELECT COUNT(*) FROM tasks;

CREATE FUNCTION task_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE task_count SET n = n + 1;
    ELSE
        UPDATE task_count SET n = n - 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_count_update AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_count_update();
