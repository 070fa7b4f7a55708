//! Model snapshots: a versioned file with a checksum, written atomically (temp file, fsync,
//! rename) so a failed save never destroys the previous one, and mergeable so processes can pool
//! what they learned.
//!
//! Format: one header line `smartretry-snapshot v1 crc32=<8 hex> len=<bytes>` then the JSON body.
//! - `check`: the range of every number, on load and on merge.
//! - `file`: saving and loading files safely (unique temp names, regular files only, a size
//!   limit).

mod check;
mod file;

pub(crate) use check::check_merge;
pub use check::{MAX_COUNT, MAX_SUM};
pub use file::{MAX_SNAPSHOT_BYTES, ORPHAN_AGE};

use crate::error::{Error, Result};
use crate::learn::ModelSnapshot;
use serde::{Deserialize, Serialize};

const MAGIC: &str = "smartretry-snapshot";
/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Everything the engine has learned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Models sorted by (key, tenant, class), so the same state always gives the same bytes.
    pub models: Vec<ModelSnapshot>,
}

impl Snapshot {
    /// Sort the models by (key, tenant, class), the order snapshots are written in.
    pub fn sort(&mut self) {
        self.models
            .sort_by(|a, b| (&a.key, &a.tenant, a.class).cmp(&(&b.key, &b.tenant, b.class)));
    }

    /// Serialise with header and checksum.
    pub fn encode(&self) -> Vec<u8> {
        let body = serde_json::to_vec(self).unwrap_or_default();
        let crc = crc32fast::hash(&body);
        let mut out = format!(
            "{MAGIC} v{FORMAT_VERSION} crc32={crc:08x} len={}\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        out
    }

    /// Parse and verify; anything truncated, corrupt, foreign or from a newer version is a typed
    /// error.
    pub fn decode(bytes: &[u8]) -> Result<Snapshot> {
        let corrupt = |m: &str| Error::SnapshotCorrupt(m.to_string());
        let nl = bytes
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| corrupt("no header line (not a smartretry snapshot, or truncated)"))?;
        let header =
            std::str::from_utf8(&bytes[..nl]).map_err(|_| corrupt("header is not UTF-8"))?;
        let mut parts = header.split(' ');
        if parts.next() != Some(MAGIC) {
            return Err(corrupt("not a smartretry snapshot (bad magic)"));
        }
        let version: u32 = parts
            .next()
            .and_then(|v| v.strip_prefix('v'))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("bad version field"))?;
        if version > FORMAT_VERSION || version == 0 {
            return Err(Error::SnapshotVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let crc = parts
            .next()
            .and_then(|v| v.strip_prefix("crc32="))
            .and_then(|v| u32::from_str_radix(v, 16).ok())
            .ok_or_else(|| corrupt("bad checksum field"))?;
        let len: usize = parts
            .next()
            .and_then(|v| v.strip_prefix("len="))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("bad length field"))?;
        let body = &bytes[nl + 1..];
        if body.len() != len {
            return Err(corrupt(&format!(
                "body is {} bytes, header says {len} (truncated or appended to)",
                body.len()
            )));
        }
        if crc32fast::hash(body) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        let snap: Snapshot = serde_json::from_slice(body).map_err(|e| corrupt(&e.to_string()))?;
        snap.validate()?;
        Ok(snap)
    }

    /// Every model's names, shapes and numbers in range (see `check`).
    pub fn validate(&self) -> Result<()> {
        self.models.iter().try_for_each(check::check_model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::ErrorClass;
    use crate::learn::grid::BUCKETS;
    use crate::learn::hazard::Interval;
    use crate::learn::portfolio::Portfolio;

    fn sample() -> Snapshot {
        Snapshot {
            models: vec![ModelSnapshot {
                key: "payments".into(),
                tenant: None,
                class: ErrorClass::Unavailable,
                episodes: 3.5,
                survived: vec![1.25; BUCKETS],
                intervals: vec![Interval {
                    from: 2,
                    to: 9,
                    weight: 0.75,
                }],
                retry_failures: 2.0,
                expected_failures: 3.0,
                portfolio: Portfolio::default(),
            }],
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let s = sample();
        let bytes = s.encode();
        assert_eq!(Snapshot::decode(&bytes).unwrap(), s);
        assert_eq!(Snapshot::decode(&bytes).unwrap().encode(), bytes);
    }

    #[test]
    fn corrupt_inputs_are_typed_errors() {
        let bytes = sample().encode();
        let truncated = &bytes[..bytes.len() - 10];
        assert!(matches!(
            Snapshot::decode(truncated),
            Err(Error::SnapshotCorrupt(_))
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 5;
        flipped[last] ^= 0x01;
        assert!(matches!(
            Snapshot::decode(&flipped),
            Err(Error::SnapshotCorrupt(_))
        ));
        assert!(matches!(
            Snapshot::decode(b"hello"),
            Err(Error::SnapshotCorrupt(_))
        ));
        assert!(matches!(
            Snapshot::decode(b""),
            Err(Error::SnapshotCorrupt(_))
        ));
        let newer = String::from_utf8(bytes.clone())
            .unwrap()
            .replacen(" v1 ", " v9 ", 1);
        assert!(matches!(
            Snapshot::decode(newer.as_bytes()),
            Err(Error::SnapshotVersion {
                found: 9,
                supported: 1
            })
        ));
        // well-formed but semantically bad: negative counts, re-checksummed
        let mut bad = sample();
        bad.models[0].survived[0] = -1.0;
        assert!(matches!(
            Snapshot::decode(&bad.encode()),
            Err(Error::SnapshotCorrupt(_))
        ));
    }

    #[test]
    fn failed_save_keeps_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.snap");
        sample().save(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        // saving into a folder that does not exist fails and leaves the old file alone
        let missing = dir.path().join("nope").join("model.snap");
        assert!(matches!(sample().save(&missing), Err(Error::Io { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(Snapshot::load(&path).unwrap(), sample());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }
}
