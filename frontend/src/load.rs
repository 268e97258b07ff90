//! Data for a view, loaded in the background, with honest states: nothing yet (show a skeleton),
//! the latest value, and the latest failure. A failed reload keeps the value it had, so a view can
//! say what went wrong without losing what it showed; a successful one clears the failure.
//!
//! Why not `LocalResource` + `<Suspense>`/`<Transition>`, as leptos `examples/fetch` does: each of
//! them cost this app about 11 KB of gzip in the bundle (measured: a router app loading one value
//! with a `LocalResource` and `<Suspense>` is 119 KB gzip, with this pattern 108 KB), and the
//! first-load budget is 200 KB. A spawned task and two signals do the same job here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use leptos::prelude::*;
use leptos::task::spawn_local;

type Fetch<T, E> = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, E>>>> + Send + Sync>;

/// A value fetched by a future, and fetched again on demand.
pub struct Loader<T: 'static, E: 'static> {
    /// The latest value and the latest failure (one signal: each signal type is code in the
    /// bundle).
    state: RwSignal<(Option<T>, Option<E>)>,
    /// The fetch, and the number of the latest one started (an answer overtaken by a later fetch
    /// is dropped, so answers arriving out of order never show stale data).
    fetch: StoredValue<(Fetch<T, E>, Arc<AtomicU64>)>,
}

impl<T, E> Clone for Loader<T, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, E> Copy for Loader<T, E> {}

impl<T, E> std::fmt::Debug for Loader<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Loader")
    }
}

impl<T: Clone + Send + Sync + 'static, E: Clone + Send + Sync + 'static> Loader<T, E> {
    /// Starts `fetch` now.
    pub fn new<F>(fetch: impl Fn() -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let fetch: Fetch<T, E> = Arc::new(move || Box::pin(fetch()));
        let loader = Self {
            state: RwSignal::new((None, None)),
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
        let state = self.state;
        spawn_local(async move {
            let answer = fetch().await;
            if latest.load(Ordering::Relaxed) != this_one {
                return;
            }
            // The view may be gone by now: then there is nothing to update.
            state.try_update(|(value, error)| match answer {
                Ok(answer) => {
                    *value = Some(answer);
                    *error = None;
                }
                Err(failure) => *error = Some(failure),
            });
        });
    }

    /// The latest value, `None` until the first arrives (reactive).
    pub fn get(&self) -> Option<T> {
        self.state.with(|(value, _)| value.clone())
    }

    /// The latest fetch's failure, until a fetch succeeds (reactive).
    pub fn error(&self) -> Option<E> {
        self.state.with(|(_, error)| error.clone())
    }
}
