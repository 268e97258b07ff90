//! Tokens already verified against the current key set, so a client repeating its token skips the
//! RSA verification (the most expensive step of a request).
//!
//! Keyed by the SHA-256 of the whole token: the token itself is not kept, and a token differing in
//! any byte is a different entry. An entry is served only before the token's `exp` (no leeway),
//! the cache lives inside one key set (a refresh starts an empty cache) and holds at most
//! `capacity` entries.

use std::{collections::HashMap, sync::Arc};

use aws_lc_rs::digest::{SHA256, digest};

use super::principal::Principal;

#[derive(Debug)]
pub struct TokenCache {
    capacity: usize,
    entries: std::sync::Mutex<HashMap<[u8; 32], Entry>>,
}

#[derive(Debug)]
struct Entry {
    principal: Arc<Principal>,
    expires_at: i64,
}

fn key(token: &str) -> [u8; 32] {
    let mut key = [0; 32];
    key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    key
}

impl TokenCache {
    /// A capacity of 0 disables the cache.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The principal of a token verified earlier, if it has not expired at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<Arc<Principal>> {
        if self.capacity == 0 {
            return None;
        }
        let key = key(token);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some(entry) if now < entry.expires_at => Some(entry.principal.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers a verified token until `expires_at` (its `exp`). When full, expired entries go
    /// first; if none has expired, the cache starts over rather than grow.
    pub fn insert(&self, token: &str, principal: Arc<Principal>, expires_at: i64, now: i64) {
        if self.capacity == 0 || expires_at <= now {
            return;
        }
        let key = key(token);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| now < entry.expires_at);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                principal,
                expires_at,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(oid: &str) -> Arc<Principal> {
        Arc::new(Principal {
            object_id: oid.into(),
            name: String::new(),
            email: String::new(),
            tenant_id: String::new(),
            roles: Vec::new(),
            scopes: Vec::new(),
        })
    }

    #[test]
    fn serves_until_exp_and_never_after() {
        let cache = TokenCache::new(4);
        cache.insert("t", principal("a"), 100, 50);
        assert_eq!(cache.get("t", 99).expect("hit").object_id, "a");
        assert!(cache.get("t", 100).is_none(), "expired exactly at exp");
        assert!(cache.get("t", 50).is_none(), "expired entry was removed");
        assert!(cache.get("u", 50).is_none(), "other token");
        cache.insert("late", principal("b"), 10, 50);
        assert!(
            cache.get("late", 5).is_none(),
            "already expired when verified"
        );
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = TokenCache::new(3);
        for i in 0..10 {
            cache.insert(&format!("token{i}"), principal("a"), 1_000, 0);
            assert!(cache.len() <= 3, "after {i}: {}", cache.len());
        }
        assert!(cache.get("token9", 1).is_some(), "the newest entry is kept");
    }

    #[test]
    fn full_cache_drops_expired_entries_first() {
        let cache = TokenCache::new(2);
        cache.insert("old", principal("a"), 10, 0);
        cache.insert("live", principal("b"), 1_000, 0);
        cache.insert("new", principal("c"), 1_000, 20);
        assert!(cache.get("live", 21).is_some(), "live entry survives");
        assert!(cache.get("new", 21).is_some());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn zero_capacity_disables_it() {
        let cache = TokenCache::new(0);
        cache.insert("t", principal("a"), 100, 0);
        assert!(cache.get("t", 1).is_none());
    }
}
