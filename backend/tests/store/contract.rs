//! The `TaskStore` contract, run against every store: what the API relies on, whatever
//! `DATABASE_URL` says.

use std::{future::Future, sync::Arc};

use backend::store::{Scope, StoreError, TaskChanges, TaskStore};
use shared::Task;

use crate::support::{draft, new_postgres_database, open, postgres, settings, sqlite_at};
use backend::store::{Database, PgAuth};
use testkit::postgres::TestPostgres;

/// Runs every case, each on a fresh, empty store from `fresh(max_tasks)`.
async fn check<F, Fut>(engine: &str, mut fresh: F)
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Arc<dyn TaskStore>>,
{
    lists_oldest_first_within_the_scope(engine, fresh(100).await).await;
    updates_only_the_given_fields_within_the_scope(engine, fresh(100).await).await;
    deletes_once_and_never_reuses_ids(engine, fresh(100).await).await;
    refuses_to_grow_past_its_limit(engine, fresh(2).await).await;
    concurrent_patches_of_different_fields_both_survive(engine, fresh(100).await).await;
    a_delete_racing_updates_leaves_no_task_and_no_error(engine, fresh(100).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_meets_the_contract() {
    check("memory", |max| async move {
        open(&settings(Database::Memory, max)).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut n = 0;
    check("sqlite", |max| {
        n += 1;
        let path = dir.path().join(format!("case-{n}/tasks.db"));
        async move { open(&settings(sqlite_at(&path), max)).await }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_meets_the_contract() {
    let cluster = TestPostgres::start();
    let mut n = 0;
    check("postgres", |max| {
        n += 1;
        let url = new_postgres_database(&cluster, &format!("contract{n}"));
        async move { open(&settings(postgres(&url, PgAuth::Password), max)).await }
    })
    .await;
}

async fn lists_oldest_first_within_the_scope(engine: &str, store: Arc<dyn TaskStore>) {
    assert_eq!(store.list(Scope::All).await.expect("list"), [], "{engine}");
    let a1 = store.create(draft("alice", "first")).await.expect("create");
    let b1 = store.create(draft("bob", "second")).await.expect("create");
    let a2 = store.create(draft("alice", "third")).await.expect("create");
    assert_eq!(
        a1,
        Task {
            id: a1.id,
            title: "first".into(),
            completed: false,
            owner_id: "alice".into(),
            owner_name: "User alice".into(),
        },
        "{engine}: create answers the stored task"
    );
    assert!(a1.id < b1.id && b1.id < a2.id, "{engine}: ids grow");
    assert_eq!(
        store.list(Scope::All).await.expect("list"),
        [a1.clone(), b1.clone(), a2.clone()],
        "{engine}: everyone's, by id"
    );
    assert_eq!(
        store.list(Scope::OwnedBy("alice")).await.expect("list"),
        [a1, a2],
        "{engine}: one owner's, by id"
    );
    assert_eq!(
        store.list(Scope::OwnedBy("nobody")).await.expect("list"),
        [],
        "{engine}"
    );
}

async fn updates_only_the_given_fields_within_the_scope(engine: &str, store: Arc<dyn TaskStore>) {
    let task = store.create(draft("alice", "draft")).await.expect("create");
    let title = |t: &str| TaskChanges {
        title: Some(t.into()),
        completed: None,
    };
    let done = TaskChanges {
        title: None,
        completed: Some(true),
    };
    let renamed = store
        .update(task.id, Scope::OwnedBy("alice"), title("renamed"))
        .await
        .expect("update")
        .expect("own task found");
    assert_eq!(
        (renamed.title.as_str(), renamed.completed),
        ("renamed", false)
    );
    let completed = store
        .update(task.id, Scope::All, done.clone())
        .await
        .expect("update")
        .expect("found");
    assert_eq!(
        (completed.title.as_str(), completed.completed),
        ("renamed", true),
        "{engine}: completing keeps the title"
    );
    let unchanged = store
        .update(task.id, Scope::All, TaskChanges::default())
        .await
        .expect("update");
    assert_eq!(unchanged, Some(completed.clone()), "{engine}: empty patch");

    for (id, scope, case) in [
        (task.id, Scope::OwnedBy("bob"), "another owner's task"),
        (task.id + 1000, Scope::All, "an unknown id"),
        (u64::MAX, Scope::All, "an id past i64::MAX"),
    ] {
        let result = store.update(id, scope, title("hijacked")).await;
        assert_eq!(result.expect("update"), None, "{engine}: {case}");
    }
    assert_eq!(
        store.list(Scope::All).await.expect("list"),
        [completed],
        "{engine}: refused updates changed nothing"
    );
}

async fn deletes_once_and_never_reuses_ids(engine: &str, store: Arc<dyn TaskStore>) {
    let first = store.create(draft("alice", "one")).await.expect("create");
    let newest = store.create(draft("alice", "two")).await.expect("create");
    assert!(store.delete(newest.id).await.expect("delete"), "{engine}");
    assert!(
        !store.delete(newest.id).await.expect("delete"),
        "{engine}: twice"
    );
    assert!(
        !store.delete(u64::MAX).await.expect("delete"),
        "{engine}: huge id"
    );
    let deleted_update = store
        .update(newest.id, Scope::All, TaskChanges::default())
        .await
        .expect("update");
    assert_eq!(
        deleted_update, None,
        "{engine}: a deleted task cannot be updated"
    );
    let next = store.create(draft("alice", "three")).await.expect("create");
    assert!(
        next.id > newest.id,
        "{engine}: the newest task's id ({}) must not be reused, got {}",
        newest.id,
        next.id
    );
    assert_eq!(
        store.list(Scope::All).await.expect("list"),
        [first, next],
        "{engine}"
    );
}

async fn refuses_to_grow_past_its_limit(engine: &str, store: Arc<dyn TaskStore>) {
    let first = store.create(draft("a", "1")).await.expect("create");
    store.create(draft("a", "2")).await.expect("create");
    let refused = store.create(draft("a", "3")).await;
    assert!(
        matches!(refused, Err(StoreError::Full { limit: 2 })),
        "{engine}: {refused:?}"
    );
    assert_eq!(
        store.list(Scope::All).await.expect("list").len(),
        2,
        "{engine}"
    );
    assert!(store.delete(first.id).await.expect("delete"));
    store
        .create(draft("a", "4"))
        .await
        .expect("room again after a delete");
}

/// Two clients change different fields of one task at the same moment, many times over: both
/// changes must be there afterwards (no read-modify-write that loses the other's field).
async fn concurrent_patches_of_different_fields_both_survive(
    engine: &str,
    store: Arc<dyn TaskStore>,
) {
    let task = store.create(draft("alice", "start")).await.expect("create");
    for round in 0..40 {
        let title = format!("round {round}");
        let completed = round % 2 == 0;
        let (renamed, toggled) = tokio::join!(
            store.update(
                task.id,
                Scope::All,
                TaskChanges {
                    title: Some(title.clone()),
                    completed: None,
                },
            ),
            store.update(
                task.id,
                Scope::OwnedBy("alice"),
                TaskChanges {
                    title: None,
                    completed: Some(completed),
                },
            ),
        );
        renamed.expect("rename").expect("found");
        toggled.expect("toggle").expect("found");
        let now = store.list(Scope::All).await.expect("list");
        assert_eq!(
            (now[0].title.as_str(), now[0].completed),
            (title.as_str(), completed),
            "{engine}: round {round} lost an update"
        );
    }
}

/// A delete and updates of the same task race: every update either happened before the delete
/// (and returns the task) or finds nothing (the API's clean 404); none fails.
async fn a_delete_racing_updates_leaves_no_task_and_no_error(
    engine: &str,
    store: Arc<dyn TaskStore>,
) {
    for round in 0..20 {
        let task = store
            .create(draft("alice", "doomed"))
            .await
            .expect("create");
        let update = |n: usize| {
            store.update(
                task.id,
                Scope::All,
                TaskChanges {
                    title: Some(format!("update {n}")),
                    completed: None,
                },
            )
        };
        let (deleted, first, second) = tokio::join!(store.delete(task.id), update(1), update(2));
        assert!(deleted.expect("delete"), "{engine}: round {round}");
        for result in [first, second] {
            let outcome = result.unwrap_or_else(|e| panic!("{engine}: round {round}: {e}"));
            if let Some(updated) = outcome {
                assert_eq!(updated.id, task.id);
            }
        }
    }
    assert_eq!(store.list(Scope::All).await.expect("list"), [], "{engine}");
}
