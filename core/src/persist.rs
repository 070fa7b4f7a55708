//! Saving, loading and merging what the engine learned.

use crate::engine::Engine;
use crate::error::Result;
use crate::learn::{LearnedModel, ModelSnapshot};
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
        let snap = Snapshot::load(path)?;
        self.restore(&snap);
        Ok(())
    }

    /// Add the file's counts to the models (processes pool what they learned).
    pub fn merge_snapshot(&self, path: &Path) -> Result<()> {
        let snap = Snapshot::load(path)?;
        self.merge(&snap);
        Ok(())
    }

    /// Replace every model with the snapshot's.
    pub fn restore(&self, snap: &Snapshot) {
        self.inner.models.clear();
        self.merge(snap);
    }

    /// Add a snapshot's counts to the models, creating the ones that do not exist.
    pub fn merge(&self, snap: &Snapshot) {
        let half_life = self.inner.policy.load().learning.half_life_episodes;
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
