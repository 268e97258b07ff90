//! What every store offers and what it is given: the [`TaskStore`] trait and its vocabulary
//! (scopes, drafts, changes, errors). A leaf, so the stores and the module that picks one can all
//! use it without importing each other.

use std::{fmt, future::Future, pin::Pin};

use shared::Task;

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or failed; the cause is logged, never sent.
    #[error("task store unavailable: {0}")]
    Unavailable(String),
    #[error("task store full ({limit} tasks)")]
    Full { limit: usize },
}

/// The store could not be opened at start-up (unreachable, not writable, migration failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot open the task store: {0}")]
pub struct OpenError(pub String);

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

impl TaskDraft {
    /// The task this draft becomes once stored as `id` (a new task is not completed).
    pub fn into_task(self, id: u64) -> Task {
        Task {
            id,
            title: self.title,
            completed: false,
            owner_id: self.owner_id,
            owner_name: self.owner_name,
        }
    }
}

/// Validated changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub completed: Option<bool>,
}

pub trait TaskStore: Send + Sync + fmt::Debug {
    /// Tasks in `scope`, oldest first.
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>>;
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
