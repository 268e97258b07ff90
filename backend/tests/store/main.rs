//! The task stores against real engines: one contract for every store (in memory, SQLite in a
//! temporary folder, PostgreSQL in a throwaway cluster), then what only durable stores promise:
//! the group commit (writes sharing a transaction keep their own meaning and fail together only
//! when the batch fails), data and ids that outlive the process, migrations that are idempotent
//! and safe when replicas start together, no lost update, and (PostgreSQL) passwords that are
//! refreshed tokens.

mod batch;
mod contract;
mod postgres;
mod sqlite;
mod support;
