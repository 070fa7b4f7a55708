//! The other delays the learned planner weighed, priced when they are read rather than when the
//! decision is made: most callers only read the delay, and pricing two alternatives costs two
//! survival look-ups with a power each plus an allocation. A recommendation keeps the plan it was
//! made from (one reference count) and the two steps; reading them prices them from that plan,
//! so they are exactly the numbers an eager computation would have given.

use crate::learn::grid::BUCKETS;
use crate::learn::planner::{mid, Plan};
use crate::recommendation::Alternative;
use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The alternatives of a recommendation: none, or the plan's steps two buckets either side of
/// the chosen one (those after the current bucket), priced on demand.
#[derive(Clone, Default)]
pub struct Alternatives {
    priced: Option<Priced>,
}

#[derive(Clone)]
struct Priced {
    plan: Arc<Plan>,
    /// Seconds since the episode's first failure at the decision.
    t: f64,
    /// The plan's buckets weighed besides the chosen one, in order (at most two).
    steps: [u16; 2],
    len: u8,
}

impl Alternatives {
    /// None.
    pub fn none() -> Alternatives {
        Alternatives::default()
    }

    /// The steps two buckets before and after `k`, those later than the current bucket `from`
    /// and other than `k`, priced from `plan` at elapsed `t` seconds when read.
    pub(crate) fn around(plan: &Arc<Plan>, t: f64, from: usize, k: usize) -> Alternatives {
        let mut steps = [0u16; 2];
        let mut len = 0u8;
        for alt in [k.saturating_sub(2), (k + 2).min(BUCKETS - 1)] {
            if alt > from && alt != k {
                steps[usize::from(len)] = alt as u16;
                len += 1;
            }
        }
        if len == 0 {
            return Alternatives::none();
        }
        Alternatives {
            priced: Some(Priced {
                plan: Arc::clone(plan),
                t,
                steps,
                len,
            }),
        }
    }

    /// How many alternatives there are.
    pub fn len(&self) -> usize {
        self.priced.as_ref().map_or(0, |p| usize::from(p.len))
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th alternative (0-based), priced now.
    pub fn get(&self, i: usize) -> Option<Alternative> {
        let p = self.priced.as_ref()?;
        if i >= usize::from(p.len) {
            return None;
        }
        let at = mid(usize::from(p.steps[i]));
        Some(Alternative {
            delay: Duration::from_secs_f64((at - p.t).max(0.0)),
            success_probability: p.plan.success_probability(p.t, at),
        })
    }

    /// Every alternative, in order, priced now.
    pub fn iter(&self) -> impl Iterator<Item = Alternative> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Every alternative, priced, in a vector.
    pub fn to_vec(&self) -> Vec<Alternative> {
        self.iter().collect()
    }
}

impl PartialEq for Alternatives {
    fn eq(&self, other: &Alternatives) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Alternatives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Alternatives {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for a in self.iter() {
            seq.serialize_element(&a)?;
        }
        seq.end()
    }
}
