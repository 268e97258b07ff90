//! Where tasks live, behind [`TaskStore`] so the handlers do not care which store it is.
//!
//! The trait is async and fallible because durable stores (SQLite, PostgreSQL) are async and can
//! fail; every store error becomes a 503 (or 507 when full) in [`crate::error`].

mod memory;

use std::{fmt, future::Future, pin::Pin};

pub use memory::MemoryStore;
use shared::Task;

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or failed; the cause is logged, never sent.
    #[error("task store unavailable: {0}")]
    Unavailable(String),
    #[error("task store full ({limit} tasks)")]
    Full { limit: usize },
}

/// Which tasks an operation may see: everyone's (Admin) or one owner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    All,
    OwnedBy(&'a str),
}

impl Scope<'_> {
    pub fn includes(&self, task: &Task) -> bool {
        match self {
            Scope::All => true,
            Scope::OwnedBy(owner) => task.owner_id == *owner,
        }
    }
}

/// A validated task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDraft {
    pub title: String,
    pub owner_id: String,
    pub owner_name: String,
}

/// Validated changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub completed: Option<bool>,
}

pub trait TaskStore: Send + Sync + fmt::Debug {
    /// Tasks in `scope`, oldest first.
    fn list(&self, scope: Scope<'_>) -> StoreFuture<'_, Vec<Task>>;
    fn create(&self, draft: TaskDraft) -> StoreFuture<'_, Task>;
    /// Applies `changes` to task `id` if it is in `scope`, in one step (no window in which the
    /// owner check and the write disagree); `None` if there is no such task in scope.
    fn update<'a>(
        &'a self,
        id: u64,
        scope: Scope<'a>,
        changes: TaskChanges,
    ) -> StoreFuture<'a, Option<Task>>;
    /// Whether a task was deleted.
    fn delete(&self, id: u64) -> StoreFuture<'_, bool>;
}
