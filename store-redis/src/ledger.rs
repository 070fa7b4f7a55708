//! Which part of each local model came from the fleet.
//!
//! A local model holds the engine's own evidence plus what it merged from the other engines.
//! The fleet must receive only the own part (each engine publishes its own cumulative evidence
//! and readers add the others'), so the ledger remembers, per model, the foreign part as it was
//! right after the last merge and the model's counters at that moment. At the next sync the
//! foreign part is decayed by the episodes the model has seen since (read off its counters, see
//! `evidence::decay_between`), the own part is the model minus it, and only the growth of the
//! fleet's evidence beyond what is already held is merged in. Engines only ever add to models,
//! never replace them, so an episode in flight never loses what it records.

use crate::evidence::{self, ModelId};
use smartretry::learn::grid::BUCKETS;
use smartretry::learn::ModelSnapshot;
use smartretry::Snapshot;
use std::collections::BTreeMap;

/// The foreign part of one model and the model's counters after it was merged.
#[derive(Debug, Clone)]
struct Held {
    foreign: ModelSnapshot,
    episodes: f64,
    scored: f64,
}

#[derive(Debug, Default)]
pub struct Ledger {
    held: BTreeMap<ModelId, Held>,
}

/// The outcome of one settlement: what to publish and what to merge locally.
#[derive(Debug)]
pub struct Settlement {
    /// This engine's own cumulative evidence.
    pub own: Snapshot,
    /// What the local models lack of the fleet's evidence (to merge into the engine).
    pub increment: Snapshot,
    held: BTreeMap<ModelId, Held>,
}

/// Portfolio episodes scored (the counter its decay is read from).
fn scored(m: &ModelSnapshot) -> f64 {
    m.portfolio.cost[0].n
}

impl Ledger {
    /// Split `local` (the engine's models now) into own and foreign parts, and find what the
    /// `others` (the sum of every other engine's own evidence) add to it. `keep` is the decay
    /// per episode, `2^(-1/half_life)`.
    pub fn settle(
        &self,
        local: &Snapshot,
        others: &BTreeMap<ModelId, ModelSnapshot>,
        keep: f64,
    ) -> Settlement {
        let local = evidence::by_id(local);
        let ids: std::collections::BTreeSet<&ModelId> = local.keys().chain(others.keys()).collect();
        let mut own = Snapshot::default();
        let mut increment = Snapshot::default();
        let mut held = BTreeMap::new();
        for id in ids {
            let zero = evidence::zero_like(id, BUCKETS);
            let current = local.get(id).unwrap_or(&zero);
            let foreign_now = match self.held.get(id) {
                Some(h) if local.contains_key(id) => evidence::decayed(
                    &h.foreign,
                    evidence::decay_between(h.episodes, current.episodes, keep),
                    evidence::decay_between(h.scored, scored(current), keep),
                ),
                // The model was evicted locally (or never merged): nothing foreign is held.
                _ => zero.clone(),
            };
            let mine = evidence::subtract(current, &foreign_now);
            if !evidence::is_empty(&mine) {
                own.models.push(mine);
            }
            let fleet = others.get(id).unwrap_or(&zero);
            let grow = evidence::subtract(fleet, &foreign_now);
            let foreign_after = evidence::add(&foreign_now, &grow);
            let (episodes, scored_after) = (
                current.episodes + grow.episodes,
                scored(current) + scored(&grow),
            );
            if !evidence::is_empty(&grow) {
                increment.models.push(grow);
            }
            if !evidence::is_empty(&foreign_after) {
                held.insert(
                    id.clone(),
                    Held {
                        foreign: foreign_after,
                        episodes,
                        scored: scored_after,
                    },
                );
            }
        }
        own.sort();
        increment.sort();
        Settlement {
            own,
            increment,
            held,
        }
    }

    /// Count everything `local` holds as foreign (a forked child: its parent publishes it).
    pub fn adopt_everything(&mut self, local: &Snapshot) {
        self.held = evidence::by_id(local)
            .into_iter()
            .map(|(id, m)| {
                let held = Held {
                    episodes: m.episodes,
                    scored: scored(&m),
                    foreign: m,
                };
                (id, held)
            })
            .collect();
    }

    /// The increment was merged into the engine: remember the foreign parts it holds now.
    pub fn commit(&mut self, settlement: Settlement) {
        self.held = settlement.held;
    }
}
