use std::{collections::BTreeMap, sync::Mutex};

use shared::Task;

use super::types::{Scope, StoreError, StoreFuture, TaskChanges, TaskDraft, TaskStore};

/// Tasks in memory, lost on restart: for development and tests until a durable store is
/// configured. Bounded, so a client cannot grow the process without limit.
#[derive(Debug)]
pub struct MemoryStore {
    limit: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    tasks: BTreeMap<u64, Task>,
}

impl MemoryStore {
    pub const DEFAULT_LIMIT: usize = 10_000;

    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            state: Mutex::new(State::default()),
        }
    }

    fn with_state<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| StoreError::Unavailable("in-memory store poisoned by a panic".into()))?;
        f(&mut state)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_LIMIT)
    }
}

impl TaskStore for MemoryStore {
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>> {
        let result = self.with_state(|state| {
            Ok(state
                .tasks
                .values()
                .filter(|task| scope.includes(task))
                .cloned()
                .collect())
        });
        Box::pin(async move { result })
    }

    fn create(&self, draft: TaskDraft) -> StoreFuture<'_, Task> {
        let result = self.with_state(|state| {
            if state.tasks.len() >= self.limit {
                return Err(StoreError::Full { limit: self.limit });
            }
            state.next_id += 1;
            let task = draft.into_task(state.next_id);
            state.tasks.insert(task.id, task.clone());
            Ok(task)
        });
        Box::pin(async move { result })
    }

    fn update<'a>(
        &'a self,
        id: u64,
        scope: Scope<'a>,
        changes: TaskChanges,
    ) -> StoreFuture<'a, Option<Task>> {
        let result = self.with_state(|state| {
            let Some(task) = state.tasks.get_mut(&id).filter(|task| scope.includes(task)) else {
                return Ok(None);
            };
            if let Some(title) = changes.title {
                task.title = title;
            }
            if let Some(completed) = changes.completed {
                task.completed = completed;
            }
            Ok(Some(task.clone()))
        });
        Box::pin(async move { result })
    }

    fn delete(&self, id: u64) -> StoreFuture<'_, bool> {
        let result = self.with_state(|state| Ok(state.tasks.remove(&id).is_some()));
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(owner: &str) -> TaskDraft {
        TaskDraft {
            title: "t".into(),
            owner_id: owner.into(),
            owner_name: owner.to_uppercase(),
        }
    }

    #[tokio::test]
    async fn scopes_limit_what_is_seen_and_changed() {
        let store = MemoryStore::default();
        let a = store.create(draft("a")).await.expect("create");
        let b = store.create(draft("b")).await.expect("create");
        assert_eq!((a.id, b.id), (1, 2));
        assert_eq!(
            store.list(Scope::OwnedBy("a")).await.expect("list"),
            std::slice::from_ref(&a)
        );
        assert_eq!(store.list(Scope::All).await.expect("list").len(), 2);

        let done = TaskChanges {
            title: None,
            completed: Some(true),
        };
        let denied = store.update(b.id, Scope::OwnedBy("a"), done.clone()).await;
        assert_eq!(denied.expect("update"), None);
        let updated = store.update(b.id, Scope::All, done).await.expect("update");
        assert!(updated.expect("found").completed);

        assert!(store.delete(a.id).await.expect("delete"));
        assert!(!store.delete(a.id).await.expect("delete"));
        let c = store.create(draft("c")).await.expect("create");
        assert_eq!(c.id, 3, "ids are never reused");
    }

    #[tokio::test]
    async fn refuses_to_grow_past_its_limit() {
        let store = MemoryStore::new(1);
        store.create(draft("a")).await.expect("first");
        assert!(matches!(
            store.create(draft("a")).await,
            Err(StoreError::Full { limit: 1 })
        ));
    }
}
