//! What the durable stores (SQLite, PostgreSQL) share: each reads its own way, and both write
//! through the group commit ([`super::batch`]). One [`TaskStore`] for the two, so the write path
//! is written once.

use std::fmt;

use shared::Task;

use super::{
    batch::Writer,
    types::{Scope, StoreFuture, TaskChanges, TaskDraft, TaskStore},
};

/// How a durable store reads.
pub trait Reads: Send + Sync + fmt::Debug {
    /// Tasks in `scope`, oldest first.
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>>;
}

/// A durable store: `R` reads, the group commit writes.
#[derive(Debug)]
pub struct DurableStore<R> {
    reads: R,
    writer: Writer,
}

impl<R> DurableStore<R> {
    pub(super) fn new(reads: R, writer: Writer) -> Self {
        Self { reads, writer }
    }
}

impl<R: Reads> TaskStore for DurableStore<R> {
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>> {
        self.reads.list(scope)
    }

    fn create(&self, draft: TaskDraft) -> StoreFuture<'_, Task> {
        Box::pin(self.writer.create(draft))
    }

    fn update<'a>(
        &'a self,
        id: u64,
        scope: Scope<'a>,
        changes: TaskChanges,
    ) -> StoreFuture<'a, Option<Task>> {
        Box::pin(self.writer.update(id, scope, changes))
    }

    fn delete(&self, id: u64) -> StoreFuture<'_, bool> {
        Box::pin(self.writer.delete(id))
    }
}
