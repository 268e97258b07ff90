//! Bounded, expiring storage for the provider's short-lived state: pending sign-ins, codes,
//! refresh tokens and sessions.
//!
//! Every store has a fixed capacity. When it is full the oldest entry is dropped, so a client that
//! floods the provider can only push out older state, never exhaust memory.
//!
//! Entries are found by the SHA-256 of their key, and the key itself is not kept: the keys are
//! codes, refresh tokens and session cookies, so a dump of the state (its `Debug`, a core file)
//! holds nothing that could be redeemed.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Mutex, MutexGuard, PoisonError},
};

use aws_lc_rs::digest::{SHA256, digest};

/// How an entry is found: the SHA-256 of its key.
type Digest = [u8; 32];

fn digest_of(key: &str) -> Digest {
    let mut found = [0; 32];
    found.copy_from_slice(digest(&SHA256, key.as_bytes()).as_ref());
    found
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup<V> {
    Found(V),
    /// The entry existed but its lifetime is over (it is removed by the lookup).
    Expired,
    Missing,
}

#[derive(Debug)]
pub(crate) struct BoundedStore<V> {
    capacity: usize,
    inner: Mutex<Entries<V>>,
}

#[derive(Debug)]
struct Entries<V> {
    by_key: HashMap<Digest, Entry<V>>,
    /// Keys by insertion number, oldest first: what to evict when full.
    by_age: BTreeMap<u64, Digest>,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at: u64,
    seq: u64,
}

impl<V> BoundedStore<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedStore {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries {
                by_key: HashMap::new(),
                by_age: BTreeMap::new(),
                next_seq: 0,
            }),
        }
    }

    /// Stores `value` under `key` until `expires_at` (seconds since the epoch), evicting the oldest
    /// entries while the store is full.
    pub(crate) fn insert(&self, key: &str, value: V, expires_at: u64) {
        let key = digest_of(key);
        let mut entries = self.lock();
        entries.remove(&key);
        while entries.by_key.len() >= self.capacity {
            let Some((_, oldest)) = entries.by_age.pop_first() else {
                break;
            };
            entries.by_key.remove(&oldest);
        }
        let seq = entries.next_seq;
        entries.next_seq += 1;
        entries.by_age.insert(seq, key);
        entries.by_key.insert(
            key,
            Entry {
                value,
                expires_at,
                seq,
            },
        );
    }

    /// Removes the entry and returns it if it is still valid at `now`: for single-use values.
    pub(crate) fn take(&self, key: &str, now: u64) -> Lookup<V> {
        match self.lock().remove(&digest_of(key)) {
            Some(entry) if now < entry.expires_at => Lookup::Found(entry.value),
            Some(_) => Lookup::Expired,
            None => Lookup::Missing,
        }
    }

    /// Removes the entry, whatever its state.
    pub(crate) fn remove(&self, key: &str) {
        self.lock().remove(&digest_of(key));
    }

    pub(crate) fn contains(&self, key: &str, now: u64) -> bool {
        self.lock()
            .by_key
            .get(&digest_of(key))
            .is_some_and(|entry| now < entry.expires_at)
    }

    fn lock(&self) -> MutexGuard<'_, Entries<V>> {
        // A panic while holding the lock cannot leave the maps inconsistent with each other in a
        // way that matters (at worst an entry is missing from one), so keep serving.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<V: Clone> BoundedStore<V> {
    /// The value if present and still valid at `now`; an expired entry is removed.
    pub(crate) fn get(&self, key: &str, now: u64) -> Lookup<V> {
        let key = digest_of(key);
        let mut entries = self.lock();
        match entries.by_key.get(&key) {
            Some(entry) if now < entry.expires_at => Lookup::Found(entry.value.clone()),
            Some(_) => {
                entries.remove(&key);
                Lookup::Expired
            }
            None => Lookup::Missing,
        }
    }
}

impl<V> Entries<V> {
    fn remove(&mut self, key: &Digest) -> Option<Entry<V>> {
        let entry = self.by_key.remove(key)?;
        self.by_age.remove(&entry.seq);
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_a_value_once() {
        let store = BoundedStore::new(4);
        store.insert("a", 1, 100);
        assert_eq!(store.take("a", 10), Lookup::Found(1));
        assert_eq!(store.take("a", 10), Lookup::Missing);
    }

    #[test]
    fn expired_entries_are_reported_as_expired_then_gone() {
        let store = BoundedStore::new(4);
        store.insert("a", 1, 100);
        assert_eq!(store.get("a", 100), Lookup::Expired);
        assert_eq!(store.get("a", 100), Lookup::Missing);
        store.insert("b", 2, 100);
        assert!(!store.contains("b", 100));
        assert_eq!(store.take("b", 100), Lookup::Expired);
    }

    #[test]
    fn a_full_store_evicts_the_oldest_entry() {
        let store = BoundedStore::new(2);
        store.insert("a", 1, 100);
        store.insert("b", 2, 100);
        store.insert("c", 3, 100);
        assert_eq!(store.get("a", 0), Lookup::Missing);
        assert_eq!(store.get("b", 0), Lookup::Found(2));
        assert_eq!(store.get("c", 0), Lookup::Found(3));
    }

    #[test]
    fn taken_entries_free_their_place() {
        let store = BoundedStore::new(2);
        store.insert("a", 1, 100);
        store.insert("b", 2, 100);
        assert_eq!(store.take("a", 0), Lookup::Found(1));
        store.insert("c", 3, 100);
        assert_eq!(
            store.get("b", 0),
            Lookup::Found(2),
            "b must survive: a's place was free"
        );
        assert_eq!(store.get("c", 0), Lookup::Found(3));
    }

    #[test]
    fn the_keys_are_not_kept() {
        let store = BoundedStore::new(2);
        store.insert("refresh-token-hunter2", 1, 100);
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(store.get("refresh-token-hunter2", 0), Lookup::Found(1));
    }
}
