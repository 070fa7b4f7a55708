//! A concurrent map split into independently locked shards, so that two threads working on
//! different keys never wait for each other. Entries are `Arc`s: callers keep a handle and
//! lock only the entry they use (no global lock on the hot path).
//!
//! A map can be bounded ([`ShardedMap::bounded`]): then each shard remembers when each entry was
//! last used and, when an insert overflows it, forgets its least recently used sixteenth in one
//! pass. Evicting in batches keeps the cost per insert constant (one scan of a shard pays for
//! many inserts) where evicting one entry per insert would scan the shard every time.

use parking_lot::RwLock;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

const SHARDS: usize = 64;
/// Share of a full shard evicted at once (1/16).
const EVICT_SHIFT: u32 = 4;

struct Entry<V> {
    value: Arc<V>,
    /// The shard's use counter when this entry was last returned (bounded maps only).
    used: AtomicU64,
}

/// The entries whose keys share a hash: almost always one, held in the table's own slot (a
/// lookup then reads no other allocation before the entry's value).
type Chain<V> = SmallVec<[Entry<V>; 1]>;

#[derive(Default)]
struct Table<V> {
    /// Keyed by the entry's hash, itself hashed once more by a fixed, cheap hasher (SipHash
    /// here cost as much as hashing the key).
    chains: HashMap<u64, Chain<V>, foldhash::fast::FixedState>,
    len: usize,
}

struct Shard<V> {
    table: RwLock<Table<V>>,
    /// Monotonic use counter: the recency order within this shard.
    tick: AtomicU64,
}

/// Entries are found by a 64-bit hash of their key and confirmed with `matches`, so lookups
/// take borrowed key parts without allocating.
pub struct ShardedMap<V> {
    shards: Vec<Shard<V>>,
    /// foldhash, seeded per map: a key's hash is 3-4 times cheaper than SipHash's, on every
    /// decision; its seed keeps the chains' layout unpredictable from outside.
    hasher: foldhash::fast::RandomState,
    len: AtomicUsize,
    /// Most entries one shard holds (usize::MAX: unbounded).
    shard_cap: usize,
}

impl<V> Default for ShardedMap<V> {
    /// An unbounded map (the caller evicts, as the engine does for models with `max_models`).
    fn default() -> Self {
        ShardedMap::with_shard_cap(usize::MAX)
    }
}

impl<V> ShardedMap<V> {
    fn with_shard_cap(shard_cap: usize) -> Self {
        ShardedMap {
            shards: (0..SHARDS)
                .map(|_| Shard {
                    table: RwLock::new(Table {
                        chains: HashMap::default(),
                        len: 0,
                    }),
                    tick: AtomicU64::new(0),
                })
                .collect(),
            hasher: foldhash::fast::RandomState::default(),
            len: AtomicUsize::new(0),
            shard_cap,
        }
    }

    /// A map of at most `max` entries (at least one per shard, so `max.max(64)`), forgetting the
    /// least recently used beyond it.
    pub fn bounded(max: usize) -> Self {
        ShardedMap::with_shard_cap((max / SHARDS).max(1))
    }

    fn is_bounded(&self) -> bool {
        self.shard_cap != usize::MAX
    }

    pub fn hash_of<K: Hash + ?Sized>(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    fn shard(&self, hash: u64) -> &Shard<V> {
        &self.shards[(hash >> 58) as usize % SHARDS]
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Mark an entry used: stamped with the shard's tick, which moves on at each insert (when an
    /// eviction may follow), so an entry read again and again between inserts is written once,
    /// not at every read (every write to a key's entry is a cache line other threads reading the
    /// same key must fetch again).
    fn touch(&self, shard: &Shard<V>, e: &Entry<V>) {
        if self.is_bounded() {
            let tick = shard.tick.load(Ordering::Relaxed);
            if e.used.load(Ordering::Relaxed) != tick {
                e.used.store(tick, Ordering::Relaxed);
            }
        }
    }

    /// Run `f` on the entry for the key under the shard's read lock, marking it used if `mark`;
    /// `f` back when the key has no entry.
    fn find<T, F: FnOnce(&Arc<V>) -> T>(
        &self,
        hash: u64,
        matches: impl Fn(&V) -> bool,
        mark: bool,
        f: F,
    ) -> Result<T, F> {
        let shard = self.shard(hash);
        let table = shard.table.read();
        let Some(e) = table
            .chains
            .get(&hash)
            .and_then(|chain| chain.iter().find(|e| matches(&e.value)))
        else {
            return Err(f);
        };
        if mark {
            self.touch(shard, e);
        }
        Ok(f(&e.value))
    }

    pub fn get(&self, hash: u64, matches: impl Fn(&V) -> bool) -> Option<Arc<V>> {
        self.find(hash, matches, true, Arc::clone).ok()
    }

    /// Run `f` on the entry for the key, if present, under the shard's read lock: no handle is
    /// cloned and the entry is not marked used (for hot read paths whose entries are marked by
    /// the writes that follow them).
    pub fn peek<T>(
        &self,
        hash: u64,
        matches: impl Fn(&V) -> bool,
        f: impl FnOnce(&V) -> T,
    ) -> Option<T> {
        self.find(hash, matches, false, |v| f(v)).ok()
    }

    /// Run `f` on the entry for the key, created with `make` if absent. A present entry is read
    /// under the shard's read lock without taking a handle on it (no reference count to move
    /// up and down on every call of a hot key); `f` must not use this map.
    pub fn with_or_insert<T>(
        &self,
        hash: u64,
        matches: impl Fn(&V) -> bool,
        make: impl FnOnce() -> V,
        f: impl FnOnce(&V) -> T,
    ) -> T {
        match self.find(hash, &matches, true, |v| f(v)) {
            Ok(out) => out,
            // Not found under the read lock: straight to the write lock (no second read).
            Err(f) => f(&self.insert_with(hash, matches, make).0),
        }
    }

    /// The entry for the key, created with `make` if absent. Returns (entry, created).
    pub fn get_or_insert_with(
        &self,
        hash: u64,
        matches: impl Fn(&V) -> bool,
        make: impl FnOnce() -> V,
    ) -> (Arc<V>, bool) {
        match self.get(hash, &matches) {
            Some(v) => (v, false),
            None => self.insert_with(hash, matches, make),
        }
    }

    /// `get_or_insert_with` once the read lock found no entry: under the write lock, the entry
    /// another thread made meanwhile, or a new one.
    fn insert_with(
        &self,
        hash: u64,
        matches: impl Fn(&V) -> bool,
        make: impl FnOnce() -> V,
    ) -> (Arc<V>, bool) {
        let shard = self.shard(hash);
        let mut table = shard.table.write();
        let chain = table.chains.entry(hash).or_default();
        if let Some(e) = chain.iter().find(|e| matches(&e.value)) {
            self.touch(shard, e);
            return (e.value.clone(), false);
        }
        let v = Arc::new(make());
        chain.push(Entry {
            value: v.clone(),
            used: AtomicU64::new(shard.tick.fetch_add(1, Ordering::Relaxed) + 1),
        });
        table.len += 1;
        self.len.fetch_add(1, Ordering::Relaxed);
        if table.len > self.shard_cap {
            self.evict(&mut table, &v);
        }
        (v, true)
    }

    /// Forget the least recently used sixteenth of a full shard (never `keep`, just inserted).
    fn evict(&self, table: &mut Table<V>, keep: &Arc<V>) {
        let mut ages: Vec<u64> = table
            .chains
            .values()
            .flatten()
            .filter(|e| !Arc::ptr_eq(&e.value, keep))
            .map(|e| e.used.load(Ordering::Relaxed))
            .collect();
        let excess = table.len.saturating_sub(self.shard_cap);
        let n = (self.shard_cap >> EVICT_SHIFT)
            .max(excess)
            .clamp(1, ages.len().max(1));
        if ages.is_empty() {
            return;
        }
        let (_, &mut cutoff, _) = ages.select_nth_unstable(n - 1);
        let mut removed = 0;
        table.chains.retain(|_, chain| {
            chain.retain(|e| {
                let old = e.used.load(Ordering::Relaxed) <= cutoff && !Arc::ptr_eq(&e.value, keep);
                removed += usize::from(old);
                !old
            });
            !chain.is_empty()
        });
        table.len -= removed;
        self.len.fetch_sub(removed, Ordering::Relaxed);
    }

    /// Remove the entry of the shard holding `near_hash` that minimises `score` (eviction).
    /// Looks in the following shards if that one is empty. Returns the removed entry.
    pub fn remove_min_by_key(&self, near_hash: u64, score: impl Fn(&V) -> u64) -> Option<Arc<V>> {
        let start = (near_hash >> 58) as usize % SHARDS;
        for step in 0..SHARDS {
            let mut table = self.shards[(start + step) % SHARDS].table.write();
            let score = &score;
            let victim = table
                .chains
                .iter()
                .flat_map(|(h, chain)| {
                    chain
                        .iter()
                        .enumerate()
                        .map(move |(i, e)| (*h, i, score(&e.value)))
                })
                .min_by_key(|(_, _, s)| *s);
            if let Some((h, i, _)) = victim {
                let chain = table.chains.get_mut(&h)?;
                let removed = chain.swap_remove(i);
                if chain.is_empty() {
                    table.chains.remove(&h);
                }
                table.len -= 1;
                self.len.fetch_sub(1, Ordering::Relaxed);
                return Some(removed.value);
            }
        }
        None
    }

    /// Every entry (for snapshots and statistics); order unspecified.
    pub fn values(&self) -> Vec<Arc<V>> {
        let mut out = Vec::with_capacity(self.len());
        for shard in &self.shards {
            for chain in shard.table.read().chains.values() {
                out.extend(chain.iter().map(|e| e.value.clone()));
            }
        }
        out
    }

    pub fn clear(&self) {
        for shard in &self.shards {
            let mut t = shard.table.write();
            let n = t.len;
            t.chains.clear();
            t.len = 0;
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

    fn insert(m: &ShardedMap<u64>, k: u64) -> bool {
        m.get_or_insert_with(m.hash_of(&k), |v| *v == k, || k).1
    }

    #[test]
    fn a_million_distinct_keys_stay_within_the_bound() {
        let m: ShardedMap<u64> = ShardedMap::bounded(6_400);
        for k in 0..1_000_000u64 {
            insert(&m, k);
            assert!(m.len() <= 6_400);
        }
        assert!(
            m.len() > 6_400 * 7 / 8,
            "evicts a sixteenth at a time: {}",
            m.len()
        );
        assert_eq!(m.values().len(), m.len());
    }

    /// Shards are picked by the hash's top bits: queue-like names must spread over them (a
    /// shard with twice its share would evict here).
    #[test]
    fn similar_names_spread_over_the_shards() {
        let m: ShardedMap<String> = ShardedMap::bounded(2 * 6_400);
        for i in 0..6_400 {
            let k = format!("orders-{i}");
            m.get_or_insert_with(m.hash_of(k.as_str()), |v| *v == k, || k.clone());
        }
        assert_eq!(m.len(), 6_400);
    }

    #[test]
    fn eviction_spares_recently_used_entries() {
        let m: ShardedMap<u64> = ShardedMap::bounded(640);
        insert(&m, 0);
        for k in 1..100_000u64 {
            // key 0 is used all the time: it must never be forgotten
            assert!(
                m.get(m.hash_of(&0u64), |v| *v == 0).is_some(),
                "lost at {k}"
            );
            insert(&m, k);
        }
        assert!(!insert(&m, 0));
    }

    #[test]
    fn with_or_insert_creates_once_and_marks_the_entry_used() {
        let m: ShardedMap<u64> = ShardedMap::bounded(640);
        let read = |k: u64| m.with_or_insert(m.hash_of(&k), |v| *v == k, || k, |v| *v);
        assert_eq!(read(0), 0);
        assert_eq!(m.len(), 1);
        let present = m.with_or_insert(
            m.hash_of(&0u64),
            |v| *v == 0,
            || panic!("made again"),
            |v| *v,
        );
        assert_eq!(present, 0);
        for k in 1..100_000u64 {
            // Read in place all the time (`peek` looks without marking), key 0 must never be
            // forgotten.
            assert!(
                m.peek(m.hash_of(&0u64), |v| *v == 0, |_| ()).is_some(),
                "lost at {k}"
            );
            assert_eq!(read(0), 0);
            insert(&m, k);
        }
        assert!(!insert(&m, 0));
    }

    #[test]
    fn entries_sharing_a_hash_chain_beyond_the_inline_slot() {
        // Every key given the same hash: one chain holds them all, each found by `matches`.
        let m = ShardedMap::<u64>::bounded(64 * 8);
        let h = 42;
        for k in 0..5u64 {
            let (v, created) = m.get_or_insert_with(h, |v| *v == k, || k);
            assert!(created && *v == k);
        }
        for k in 0..5u64 {
            assert_eq!(m.get(h, |v| *v == k).as_deref(), Some(&k));
            assert!(!m.get_or_insert_with(h, |v| *v == k, || 99).1);
        }
        assert!(m.get(h, |v| *v == 7).is_none());
        assert_eq!(m.len(), 5);
        // Removing from the middle of the chain keeps the others.
        let removed = m.remove_min_by_key(h, |v| if *v == 2 { 0 } else { 1 });
        assert_eq!(removed.as_deref(), Some(&2));
        assert!(m.get(h, |v| *v == 2).is_none());
        for k in [0, 1, 3, 4] {
            assert_eq!(m.get(h, |v| *v == k).as_deref(), Some(&k));
        }
        let mut all: Vec<u64> = m.values().iter().map(|v| **v).collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 3, 4]);
    }
}
