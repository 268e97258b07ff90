//! Data for a view, loaded in the background: `None` while the first answer is awaited, then the
//! latest answer. A reload keeps showing the current answer until the next one arrives (as
//! Leptos's `<Transition>` does).
//!
//! Why not `LocalResource` + `<Suspense>`/`<Transition>`, as leptos `examples/fetch` does: each of
//! them cost this app about 11 KB of gzip in the bundle (measured: a router app loading one value
//! with a `LocalResource` and `<Suspense>` is 119 KB gzip, with this pattern 108 KB), and the
//! first-load budget is 200 KB. A spawned task and a signal do the same job here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use leptos::prelude::*;
use leptos::task::spawn_local;

type Fetch<T> = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = T>>> + Send + Sync>;

/// A value fetched by a future, and fetched again on demand.
pub struct Loader<T: 'static> {
    value: RwSignal<Option<T>>,
    /// The fetch, and the number of the latest one started (an answer overtaken by a later fetch
    /// is dropped, so answers arriving out of order never show stale data).
    fetch: StoredValue<(Fetch<T>, Arc<AtomicU64>)>,
}

impl<T> Clone for Loader<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Loader<T> {}

impl<T> std::fmt::Debug for Loader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Loader")
    }
}

impl<T: Clone + Send + Sync + 'static> Loader<T> {
    /// Starts `fetch` now.
    pub fn new<F>(fetch: impl Fn() -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = T> + 'static,
    {
        let fetch: Fetch<T> = Arc::new(move || Box::pin(fetch()));
        let loader = Self {
            value: RwSignal::new(None),
            fetch: StoredValue::new((fetch, Arc::new(AtomicU64::new(0)))),
        };
        loader.reload();
        loader
    }

    /// Fetches again.
    pub fn reload(&self) {
        let Some((fetch, latest)) = self.fetch.try_get_value() else {
            return;
        };
        let this_one = latest.fetch_add(1, Ordering::Relaxed) + 1;
        let value = self.value;
        spawn_local(async move {
            let answer = fetch().await;
            if latest.load(Ordering::Relaxed) == this_one {
                // The view may be gone by now: then there is nothing to update.
                value.try_set(Some(answer));
            }
        });
    }

    /// The latest answer, `None` until the first arrives (reactive).
    pub fn get(&self) -> Option<T> {
        self.value.get()
    }
}
