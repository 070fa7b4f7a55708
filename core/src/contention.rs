//! Contention pacing: how far apart a key's conflict retries must be, learned from whether they
//! conflict again.
//!
//! A conflict (HTTP 409, a lost optimistic-concurrency race) clears when the other writers are
//! done, so the wait that works depends on how many writers there are and how long each holds
//! the resource: milliseconds for two writers, seconds for a hundred. No fixed schedule is right
//! at every crowd size, and a recovery-time model does not apply (the next attempt's chance
//! depends on everyone else's timing). What does apply is the outcome of each conflict retry:
//! one that conflicted again says "too soon for this crowd", one that went through says "soon
//! enough". The key's pace is a factor on the class schedule's delays. Each outcome moves it part
//! of the way toward a step above (conflicted again) or below (went through) the factor that
//! retry was paced with, so it settles where about half the retries go through, and a crowd's
//! burst of outcomes moves it one step, not one step per outcome. It is shared by all the key's
//! episodes (the crowd is theirs together), read without a lock, and bounded: never below the
//! class schedule (factor 1), never above `MAX_FACTOR` times it. It is not persisted, and it
//! does not fade with time: after a storm, the next conflicts start slow and speed up as their
//! retries go through (the safe direction).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The most a key's pace may stretch its class schedule.
pub const MAX_FACTOR: f64 = 256.0;
/// What one outcome says about the right factor, relative to the factor its retry was paced
/// with: a retry that conflicted again wanted more wait (this much), one that went through might
/// have done with less. Equal steps both ways: the pace settles where half the retries go
/// through.
const STEP: f64 = std::f64::consts::SQRT_2;
/// How far one outcome moves the key's factor toward what it says (in logarithms). Outcomes of
/// retries paced alike arrive together (a crowd retries at once), so each moves the factor only
/// part of the way: a burst of them takes it one step from the pace they were made at, not one
/// step per outcome.
const GAIN: f64 = 0.25;

/// One key's pace: its factor on the class schedule, as f64 bits.
#[derive(Debug)]
pub(crate) struct Pace {
    factor: AtomicU64,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace {
            factor: AtomicU64::new(1f64.to_bits()),
        }
    }
}

impl Pace {
    /// The factor on the class schedule's delays (1 when the key has seen no contention).
    pub fn factor(&self) -> f64 {
        f64::from_bits(self.factor.load(Ordering::Relaxed))
    }

    /// A retry paced with factor `used` finished: `conflicted` again, or went through.
    pub fn retried(&self, conflicted: bool, used: f64) {
        let target = if conflicted { used * STEP } else { used / STEP };
        let _ = self
            .factor
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                let now = f64::from_bits(bits);
                let next = now * (target / now).powf(GAIN);
                Some(next.clamp(1.0, MAX_FACTOR).to_bits())
            });
    }
}

/// A key's pace in the engine's bounded map.
pub(crate) struct PaceSlot {
    pub key: Arc<str>,
    pub pace: Pace,
}

impl crate::engine::Engine {
    /// The pace of `key`'s conflict retries (1 if it has none yet).
    pub(crate) fn pace_factor(&self, key: &str) -> f64 {
        let paces = &self.inner.paces;
        paces
            .peek(paces.hash_of(key), |s| &*s.key == key, |s| s.pace.factor())
            .unwrap_or(1.0)
    }

    /// A retry of `key` after a conflict, paced with factor `used`, finished: it `conflicted`
    /// again, or went through.
    pub(crate) fn pace_retried(&self, key: &Arc<str>, conflicted: bool, used: f64) {
        let paces = &self.inner.paces;
        let (slot, _) = paces.get_or_insert_with(
            paces.hash_of(&**key),
            |s| s.key == *key,
            || PaceSlot {
                key: key.clone(),
                pace: Pace::default(),
            },
        );
        slot.pace.retried(conflicted, used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_again_stretch_the_pace_and_successes_bring_it_back() {
        let p = Pace::default();
        assert_eq!(p.factor(), 1.0);
        // Each generation of retries is paced at the factor of the time.
        for _ in 0..40 {
            let used = p.factor();
            for _ in 0..10 {
                p.retried(true, used);
            }
        }
        let crowded = p.factor();
        assert!(crowded > 16.0, "{crowded}");
        for _ in 0..40 {
            let used = p.factor();
            for _ in 0..10 {
                p.retried(false, used);
            }
        }
        assert!(p.factor() < 1.5, "{}", p.factor());
    }

    #[test]
    fn a_burst_of_outcomes_moves_the_pace_one_step_not_one_per_outcome() {
        let p = Pace::default();
        for _ in 0..1000 {
            p.retried(true, 1.0);
        }
        assert!((p.factor() - STEP).abs() < 1e-6, "{}", p.factor());
    }

    #[test]
    fn the_pace_stays_between_the_class_schedule_and_its_bound() {
        let p = Pace::default();
        for _ in 0..100 {
            p.retried(false, p.factor());
        }
        assert_eq!(p.factor(), 1.0);
        for _ in 0..10_000 {
            p.retried(true, p.factor());
        }
        assert!((p.factor() - MAX_FACTOR).abs() < 1e-9);
    }

    #[test]
    fn it_settles_where_half_the_retries_go_through() {
        let p = Pace::default();
        for _ in 0..40 {
            p.retried(true, p.factor());
        }
        let before = p.factor();
        for i in 0..2000 {
            p.retried(i % 2 == 0, p.factor());
        }
        let after = p.factor();
        assert!(
            after / before > 0.7 && after / before < 1.4,
            "{before} -> {after}"
        );
    }
}
