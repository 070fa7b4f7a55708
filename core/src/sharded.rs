//! A concurrent map split into independently locked shards, so that two threads working on
//! different keys never wait for each other. Entries are `Arc`s: callers keep a handle and
//! lock only the entry they use (no global lock on the hot path).

use parking_lot::RwLock;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const SHARDS: usize = 64;

/// Entries are found by a 64-bit hash of their key and confirmed with `matches`, so lookups
/// take borrowed key parts without allocating.
pub struct ShardedMap<V> {
    shards: Vec<RwLock<HashMap<u64, Vec<Arc<V>>>>>,
    hasher: RandomState,
    len: AtomicUsize,
}

impl<V> Default for ShardedMap<V> {
    fn default() -> Self {
        ShardedMap {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            len: AtomicUsize::new(0),
        }
    }
}

impl<V> ShardedMap<V> {
    pub fn hash_of<K: Hash + ?Sized>(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    fn shard(&self, hash: u64) -> &RwLock<HashMap<u64, Vec<Arc<V>>>> {
        &self.shards[(hash >> 58) as usize % SHARDS]
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub fn get(&self, hash: u64, matches: impl Fn(&V) -> bool) -> Option<Arc<V>> {
        let shard = self.shard(hash).read();
        shard.get(&hash)?.iter().find(|v| matches(v)).cloned()
    }

    /// The entry for the key, created with `make` if absent. Returns (entry, created).
    pub fn get_or_insert_with(
        &self,
        hash: u64,
        matches: impl Fn(&V) -> bool,
        make: impl FnOnce() -> V,
    ) -> (Arc<V>, bool) {
        if let Some(v) = self.get(hash, &matches) {
            return (v, false);
        }
        let mut shard = self.shard(hash).write();
        let chain = shard.entry(hash).or_default();
        if let Some(v) = chain.iter().find(|v| matches(v)) {
            return (v.clone(), false);
        }
        let v = Arc::new(make());
        chain.push(v.clone());
        self.len.fetch_add(1, Ordering::Relaxed);
        (v, true)
    }

    /// Remove the entry of the shard holding `near_hash` that minimises `score` (eviction).
    /// Looks in the following shards if that one is empty. Returns the removed entry.
    pub fn remove_min_by_key(&self, near_hash: u64, score: impl Fn(&V) -> u64) -> Option<Arc<V>> {
        let start = (near_hash >> 58) as usize % SHARDS;
        for step in 0..SHARDS {
            let mut shard = self.shards[(start + step) % SHARDS].write();
            let score = &score;
            let victim = shard
                .iter()
                .flat_map(|(h, chain)| {
                    chain
                        .iter()
                        .enumerate()
                        .map(move |(i, v)| (*h, i, score(v)))
                })
                .min_by_key(|(_, _, s)| *s);
            if let Some((h, i, _)) = victim {
                let chain = shard.get_mut(&h)?;
                let removed = chain.swap_remove(i);
                if chain.is_empty() {
                    shard.remove(&h);
                }
                self.len.fetch_sub(1, Ordering::Relaxed);
                return Some(removed);
            }
        }
        None
    }

    /// Every entry (for snapshots and statistics); order unspecified.
    pub fn values(&self) -> Vec<Arc<V>> {
        let mut out = Vec::with_capacity(self.len());
        for shard in &self.shards {
            for chain in shard.read().values() {
                out.extend(chain.iter().cloned());
            }
        }
        out
    }

    pub fn clear(&self) {
        for shard in &self.shards {
            let mut s = shard.write();
            let n: usize = s.values().map(Vec::len).sum();
            s.clear();
            self.len.fetch_sub(n, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_evict() {
        let m: ShardedMap<(String, u64)> = ShardedMap::default();
        for i in 0..100u64 {
            let k = format!("k{i}");
            let h = m.hash_of(&k);
            let (_, created) = m.get_or_insert_with(h, |v| v.0 == k, || (k.clone(), i));
            assert!(created);
        }
        let h = m.hash_of("k5");
        assert_eq!(m.get(h, |v| v.0 == "k5").unwrap().1, 5);
        let (_, created) = m.get_or_insert_with(h, |v| v.0 == "k5", || ("k5".into(), 99));
        assert!(!created);
        assert_eq!(m.len(), 100);
        let gone = m.remove_min_by_key(h, |v| v.1).unwrap();
        assert_eq!(m.len(), 99);
        assert!(m.get(m.hash_of(&gone.0), |v| v.0 == gone.0).is_none());
        assert_eq!(m.values().len(), 99);
        m.clear();
        assert_eq!(m.len(), 0);
    }
}
