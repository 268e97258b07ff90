//! The schema, per engine (their dialects differ), embedded in the binary and applied at
//! start-up by sqlx's migrator: applied migrations are recorded in `_sqlx_migrations` and checked
//! against their checksum, never re-run. Add a migration by appending to a list; never edit one
//! that has shipped.

use sqlx::{
    SqlSafeStr,
    migrate::{Migration, MigrationType, Migrator},
};

/// (version, description, SQL).
type Step = (i64, &'static str, &'static str);

const SQLITE: [Step; 2] = [
    (
        1,
        "create tasks",
        include_str!("../../migrations/sqlite/0001_create_tasks.sql"),
    ),
    (
        2,
        "count tasks",
        include_str!("../../migrations/sqlite/0002_count_tasks.sql"),
    ),
];

const POSTGRES: [Step; 2] = [
    (
        1,
        "create tasks",
        include_str!("../../migrations/postgres/0001_create_tasks.sql"),
    ),
    (
        2,
        "count tasks",
        include_str!("../../migrations/postgres/0002_count_tasks.sql"),
    ),
];

pub(super) fn sqlite() -> Migrator {
    migrator(&SQLITE)
}

pub(super) fn postgres() -> Migrator {
    migrator(&POSTGRES)
}

fn migrator(steps: &[Step]) -> Migrator {
    Migrator::with_migrations(
        steps
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}
