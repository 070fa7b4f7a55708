//! The fleet's evidence in Redis: each engine's own cumulative evidence under its id, with a
//! sequence number, in two hashes of one namespace.
//!
//! Why cumulative per engine and not deltas to add: a push retried after a timeout (the server
//! may have applied it) would count twice if it were added; a push that replaces the engine's
//! own entry cannot. The script accepts a push only if its sequence is newer than the stored one,
//! so a late retry never rolls an entry back. Readers add the entries of every other engine:
//! addition is commutative, and reading twice changes nothing. After a flush or a restart of
//! Redis, every live engine's next push puts its whole evidence back.

use crate::config::Keys;
use crate::error::Result;
use crate::remote::Remote;
use smartretry::Snapshot;
use std::collections::{BTreeMap, HashMap};

const PUSH: &str = r"
local stored = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > stored then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  return 1
end
return 0
";

/// What the other engines published, cached by sequence so unchanged entries are not
/// downloaded again.
#[derive(Default)]
pub(crate) struct Exchange {
    others: HashMap<String, (u64, Snapshot)>,
    /// Entries that did not decode (corrupt or from a newer version), skipped.
    pub rejected: u64,
}

impl Exchange {
    /// Publish this engine's own evidence as entry `seq`. Returns whether the server took it
    /// (false: it already holds this or a newer sequence).
    pub fn push(
        remote: &mut Remote,
        keys: &Keys,
        id: &str,
        seq: u64,
        own: &Snapshot,
    ) -> Result<bool> {
        let script = redis::Script::new(PUSH);
        let payload = own.encode();
        remote.with(|c| {
            script
                .key(keys.evidence_seq())
                .key(keys.evidence())
                .arg(id)
                .arg(seq)
                .arg(payload.as_slice())
                .invoke::<i64>(c)
                .map(|taken| taken == 1)
        })
    }

    /// Every engine's sequence, including this one's (to see whether the server still holds
    /// this engine's entry).
    pub fn sequences(remote: &mut Remote, keys: &Keys) -> Result<BTreeMap<String, u64>> {
        remote.with(|c| redis::cmd("HGETALL").arg(keys.evidence_seq()).query(c))
    }

    /// Bring the cache up to date with `seqs` and return the other engines' snapshots.
    pub fn pull(
        &mut self,
        remote: &mut Remote,
        keys: &Keys,
        me: &str,
        seqs: &BTreeMap<String, u64>,
    ) -> Result<Vec<&Snapshot>> {
        self.others.retain(|id, _| seqs.contains_key(id));
        let stale: Vec<&String> = seqs
            .iter()
            .filter(|(id, seq)| {
                id.as_str() != me && self.others.get(id.as_str()).map(|e| e.0) != Some(**seq)
            })
            .map(|(id, _)| id)
            .collect();
        if !stale.is_empty() {
            let payloads: Vec<Option<Vec<u8>>> = remote.with(|c| {
                redis::cmd("HMGET")
                    .arg(keys.evidence())
                    .arg(&stale)
                    .query(c)
            })?;
            for (id, payload) in stale.into_iter().zip(payloads) {
                match payload.map(|p| Snapshot::decode(&p)) {
                    Some(Ok(snap)) => {
                        self.others.insert(id.clone(), (seqs[id], snap));
                    }
                    Some(Err(_)) => self.rejected += 1,
                    // Written between the two reads' views (or flushed): next time.
                    None => {}
                }
            }
        }
        Ok(self.others.values().map(|(_, s)| s).collect())
    }
}
