//! Saving, loading and merging what the engine learned. Every snapshot is range-checked before
//! it touches a model, and a merge is refused if the sums it would make leave the range, so a
//! loaded or merged engine never computes with infinities (NaN probabilities, then a snapshot
//! that cannot be loaded again).

use crate::engine::Engine;
use crate::error::Result;
use crate::learn::{LearnedModel, ModelSnapshot};
use crate::snapshot::check_merge;
use crate::snapshot::Snapshot;
use std::path::Path;
use std::sync::Arc;

impl Engine {
    /// Everything learned, in a deterministic order.
    pub fn snapshot(&self) -> Snapshot {
        let mut snap = Snapshot {
            models: self
                .inner
                .models
                .values()
                .iter()
                .map(|s| {
                    s.model
                        .lock()
                        .snapshot(&s.key, s.tenant.as_deref(), s.class)
                })
                .collect(),
        };
        snap.sort();
        snap
    }

    /// Write the snapshot atomically; on failure the previous file is untouched.
    pub fn save_snapshot(&self, path: &Path) -> Result<()> {
        self.snapshot().save(path)
    }

    /// Replace every model with the file's. A failed load leaves the engine as it was.
    pub fn load_snapshot(&self, path: &Path) -> Result<()> {
        self.try_restore(&Snapshot::load(path)?)
    }

    /// Add the file's counts to the models (processes pool what they learned). A failed merge
    /// leaves the engine as it was.
    pub fn merge_snapshot(&self, path: &Path) -> Result<()> {
        self.try_merge(&Snapshot::load(path)?)
    }

    /// Replace every model with the snapshot's, after checking it (`SnapshotCorrupt` if any
    /// number is out of range; nothing changes then).
    pub fn try_restore(&self, snap: &Snapshot) -> Result<()> {
        snap.validate()?;
        self.inner.models.clear();
        self.apply(snap);
        Ok(())
    }

    /// Add a snapshot's counts to the models, creating the ones that do not exist, after checking
    /// the snapshot and the sums the merge would make (`SnapshotCorrupt`; nothing changes then).
    pub fn try_merge(&self, snap: &Snapshot) -> Result<()> {
        snap.validate()?;
        for m in &snap.models {
            if let Some(current) = self.model_snapshot_of(m) {
                check_merge(&current, m)?;
            }
        }
        self.apply(snap);
        Ok(())
    }

    /// `try_restore`, ignoring a refusal (kept for callers that decoded the snapshot, which
    /// already checked it). Prefer `try_restore`.
    pub fn restore(&self, snap: &Snapshot) {
        let _ = self.try_restore(snap);
    }

    /// `try_merge`, ignoring a refusal (a refused merge changes nothing). Prefer `try_merge`.
    pub fn merge(&self, snap: &Snapshot) {
        let _ = self.try_merge(snap);
    }

    /// The current state of the model a snapshot entry would merge into, if it exists.
    fn model_snapshot_of(&self, m: &ModelSnapshot) -> Option<ModelSnapshot> {
        let models = &self.inner.models;
        // Same key parts and hash as `Engine::model`.
        let hash = models.hash_of(&(m.key.as_str(), m.tenant.as_deref(), m.class as u8));
        let slot = models.get(hash, |s| {
            *s.key == *m.key && s.tenant.as_deref() == m.tenant.as_deref() && s.class == m.class
        })?;
        let snap = slot
            .model
            .lock()
            .snapshot(&slot.key, slot.tenant.as_deref(), slot.class);
        Some(snap)
    }

    /// Merge checked models in.
    fn apply(&self, snap: &Snapshot) {
        let half_life = self
            .inner
            .settings
            .load()
            .policy
            .learning
            .half_life_episodes;
        for m in &snap.models {
            let key: Arc<str> = Arc::from(m.key.as_str());
            let tenant: Option<Arc<str>> = m.tenant.as_deref().map(Arc::from);
            let mut created = false;
            let slot = self.model(&key, tenant.as_ref(), m.class, || {
                created = true;
                LearnedModel::from_snapshot(m, half_life)
            });
            if !created {
                slot.model.lock().merge(m);
            }
        }
    }

    /// The model of (key, tenant, class), as a snapshot (for inspection).
    pub fn model_snapshot(
        &self,
        key: &str,
        tenant: Option<&str>,
        class: crate::ErrorClass,
    ) -> Option<ModelSnapshot> {
        self.snapshot()
            .models
            .into_iter()
            .find(|m| m.key == key && m.tenant.as_deref() == tenant && m.class == class)
    }
}
