//! A bucket that is one engine's part of a retry budget shared by a fleet of processes.
//!
//! Asking a shared bucket (Redis, say) before every retry would put a network round trip into
//! every decision. Instead each engine *leases*: its bucket holds tokens taken from the fleet's
//! bucket in batches, and a backend (see [`super::BudgetBackend`]) runs *rounds* off the
//! decision path: [`RetryBudget::begin_lease`] says what to send (credits earned here since the
//! last round, tokens wanted), the fleet's bucket applies it atomically, and
//! [`RetryBudget::finish_lease`] puts the answer in.
//!
//! - Ratio and AWS budgets: retries are paid from the leased tokens; the fleet's bucket refills
//!   (ratio floor) and receives the credits (ratio per request, AWS refunds). The fleet spends
//!   at most what its bucket handed out: it never exceeds the budget, it can only lag behind
//!   it by what sits in idle leases.
//! - gRPC throttling is a level, not a stock: the bucket mirrors the fleet's level as of the last
//!   round plus its own failures and successes since, and sends those in the next round.
//! - Alone (before the first round, or when a round fails) the bucket is a local bucket with
//!   `share` of the configuration (capacity and refill scaled), so a fleet of `1/share`
//!   processes stays within the budget without the fleet's bucket. What it holds alone is owed
//!   to the fleet at the next round (sent as a negative credit), so joining or returning never
//!   brings extra tokens.

use super::{BudgetConfig, RetryBudget};
use std::time::Duration;

/// The sharing state of a bucket (present only on shared buckets).
#[derive(Debug, Clone)]
pub(crate) struct Sharing {
    share: f64,
    /// Leasing from the fleet (the last round succeeded), or alone on the local share.
    online: bool,
    /// Credits earned while leasing, not yet sent (thousandths; gRPC failures are negative).
    pending: i64,
    /// Tokens the bucket made itself while alone (its starting share, its local refills), not
    /// yet owed to the fleet: the next round sends them as a debt.
    minted: i64,
    /// Tokens a round tops the bucket up to (thousandths).
    target: i64,
    /// Below this the backend is asked for an early round.
    low_water: i64,
    /// An early round was asked for since the last round began.
    asked: bool,
    /// A round succeeded once (a new bucket asks for its first round at once).
    ever_online: bool,
}

/// What one round sends to the fleet's bucket. Keep it to resend it unchanged if the round's
/// answer was lost: a backend that applies each round once (by a sequence) then counts nothing
/// twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRequest {
    /// Thousandths to add to the fleet's bucket: credits earned here, or (negative) gRPC
    /// failures and what the bucket held alone and now owes.
    pub credit: i64,
    /// Thousandths wanted from the fleet's bucket (0 for gRPC throttling).
    pub want: i64,
}

/// The fleet's answer to a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseAnswer {
    /// Thousandths handed to this engine (ratio and AWS budgets).
    pub granted: i64,
    /// Thousandths the fleet's bucket holds after the round (gRPC: the level to mirror).
    pub level: i64,
}

fn to_milli(tokens: f64) -> i64 {
    super::bucket::to_milli(tokens)
}

impl RetryBudget {
    /// This engine's bucket of a budget shared by a fleet in which it may use `share` (0..=1)
    /// alone. It starts alone, full with its share, until the first round.
    pub fn shared(config: BudgetConfig, share: f64, now: Duration) -> RetryBudget {
        let share = if share > 0.0 && share <= 1.0 {
            share
        } else {
            1.0
        };
        let local = to_milli(config.scaled(share).capacity()).max(0);
        let grpc = matches!(config, BudgetConfig::Grpc { .. });
        let mut b = RetryBudget::new(config, now);
        b.capacity = local;
        b.milli = local;
        b.sharing = Some(Box::new(Sharing {
            share,
            online: false,
            pending: 0,
            minted: if grpc { 0 } else { local },
            target: local,
            low_water: local / 2,
            asked: false,
            ever_online: false,
        }));
        b
    }

    /// Whether the bucket is part of a fleet's budget.
    pub fn is_shared(&self) -> bool {
        self.sharing.is_some()
    }

    /// Whether the bucket leases from the fleet now (false: alone, on its local share).
    pub fn is_leasing(&self) -> bool {
        self.sharing.as_ref().is_some_and(|s| s.online)
    }

    fn is_grpc(&self) -> bool {
        matches!(self.config, BudgetConfig::Grpc { .. })
    }

    /// Set a credit aside for the fleet (true: the bucket does not keep it). gRPC credits are
    /// also applied here, to the mirrored level.
    pub(super) fn credit_to_fleet(&mut self, milli: i64) -> bool {
        let grpc = self.is_grpc();
        match self.sharing.as_mut() {
            Some(s) if s.online => {
                s.pending = s.pending.saturating_add(milli);
                !grpc
            }
            _ => false,
        }
    }

    /// Count tokens a local refill added (they are owed to the fleet).
    pub(super) fn note_minted(&mut self, milli: i64) {
        if let Some(s) = self.sharing.as_mut() {
            s.minted = s.minted.saturating_add(milli);
        }
    }

    /// How much of the configured refill this bucket does itself.
    pub(super) fn refill_share(&self) -> f64 {
        match &self.sharing {
            None => 1.0,
            Some(s) if s.online => 0.0,
            Some(s) => s.share,
        }
    }

    /// Whether the bucket needs an early round and has not asked for one since the last round
    /// began (asking marks it): its leased tokens ran low, or it never had a round (a new
    /// bucket). The engine then tells its backend, once per round.
    pub fn wants_lease(&mut self) -> bool {
        let low = self.milli < self.sharing.as_ref().map_or(0, |s| s.low_water);
        let grpc = self.is_grpc();
        match self.sharing.as_mut() {
            Some(s) if !s.asked && (!s.ever_online || (s.online && !grpc && low)) => {
                s.asked = true;
                true
            }
            _ => false,
        }
    }

    /// Begin a round: what to send to the fleet's bucket (None: not a shared bucket). The
    /// credits it carries leave the bucket; keep the request until it is answered.
    pub fn begin_lease(&mut self) -> Option<LeaseRequest> {
        let grpc = self.is_grpc();
        let held = self.milli;
        let s = self.sharing.as_mut()?;
        s.asked = false;
        let pending = std::mem::take(&mut s.pending);
        let owed = std::mem::take(&mut s.minted);
        Some(LeaseRequest {
            credit: pending.saturating_sub(owed),
            want: if grpc {
                0
            } else {
                s.target.saturating_sub(held).max(0)
            },
        })
    }

    /// The fleet answered a round (this one, or an earlier one resent): lease from now on.
    /// Tokens made alone since the round began are sent as a debt by the next round.
    pub fn finish_lease(&mut self, answer: LeaseAnswer) {
        let grpc = self.is_grpc();
        let full = to_milli(self.config.capacity()).max(0);
        let Some(s) = self.sharing.as_mut() else {
            return;
        };
        s.online = true;
        s.ever_online = true;
        let pending = s.pending;
        self.capacity = full;
        if grpc {
            self.milli = answer.level.saturating_add(pending).clamp(0, full);
        } else {
            self.add(answer.granted.max(0));
        }
    }

    /// A round failed (the fleet cannot be reached): go on alone with the local share. Credits
    /// set aside since the round began are kept here; those the round carried stay with the
    /// request, to be resent.
    pub fn lease_failed(&mut self) {
        let grpc = self.is_grpc();
        let Some(s) = self.sharing.as_mut() else {
            return;
        };
        if !s.online {
            return;
        }
        s.online = false;
        let (share, pending) = (s.share, std::mem::take(&mut s.pending));
        self.capacity = to_milli(self.config.scaled(share).capacity()).max(0);
        if grpc {
            self.milli = ((self.milli as f64) * share).round() as i64;
        } else {
            self.add(pending);
        }
        self.milli = self.milli.clamp(0, self.capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::ErrorClass;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn alone_a_shared_bucket_is_its_local_share() {
        let config = BudgetConfig::Ratio {
            ratio: 0.0,
            min_per_sec: 8.0,
            capacity: 16.0,
        };
        let mut b = RetryBudget::shared(config, 0.25, Duration::ZERO);
        assert!(!b.is_leasing());
        assert_eq!(b.tokens(), 4.0);
        for _ in 0..4 {
            assert!(b
                .try_spend(ErrorClass::Unavailable, Duration::ZERO)
                .is_some());
        }
        assert!(b
            .try_spend(ErrorClass::Unavailable, Duration::ZERO)
            .is_none());
        // A quarter of 8 per second.
        assert!(b.try_spend(ErrorClass::Unavailable, SEC).is_some());
        assert!(b.try_spend(ErrorClass::Unavailable, SEC).is_some());
        assert!(b.try_spend(ErrorClass::Unavailable, SEC).is_none());
    }

    #[test]
    fn leasing_pays_from_grants_and_sends_credits_and_debts() {
        let config = BudgetConfig::Ratio {
            ratio: 0.5,
            min_per_sec: 8.0,
            capacity: 16.0,
        };
        let mut b = RetryBudget::shared(config, 0.25, Duration::ZERO);
        b.try_spend(ErrorClass::Unavailable, Duration::ZERO);
        assert!(b.wants_lease(), "a new bucket asks for its first round");
        // Alone it made its 4 tokens: the first round owes them and tops up to 4.
        let r = b.begin_lease().unwrap();
        assert_eq!((r.credit, r.want), (-4000, 1000));
        b.finish_lease(LeaseAnswer {
            granted: 1000,
            level: 0,
        });
        assert!(b.is_leasing());
        assert_eq!(b.tokens(), 4.0);
        // No local refill while leasing; request credits go to the fleet.
        b.on_request(10 * SEC);
        assert_eq!(b.tokens(), 4.0);
        for _ in 0..3 {
            assert!(b.try_spend(ErrorClass::Unavailable, 10 * SEC).is_some());
        }
        assert!(b.wants_lease());
        assert!(!b.wants_lease(), "asked once per round");
        let r = b.begin_lease().unwrap();
        assert_eq!((r.credit, r.want), (500, 3000));
        // The fleet is gone: alone again, on the local share.
        b.lease_failed();
        assert!(!b.is_leasing());
        assert_eq!(b.tokens(), 1.0);
        // Alone for 10 s: it refills 3 tokens (to its share, 4), which it owes next round.
        b.on_request(20 * SEC);
        assert_eq!(b.tokens(), 4.0);
        // The resent round is answered.
        assert_eq!(r.credit, 500);
        b.finish_lease(LeaseAnswer {
            granted: 0,
            level: 0,
        });
        assert!(b.is_leasing());
        assert_eq!(b.begin_lease().unwrap().credit, -3000);
    }

    #[test]
    fn grpc_mirrors_the_fleet_level() {
        let mut b = RetryBudget::shared(BudgetConfig::grpc(10.0, 0.5), 0.5, Duration::ZERO);
        assert_eq!(b.tokens(), 5.0);
        let r = b.begin_lease().unwrap();
        assert_eq!((r.credit, r.want), (0, 0));
        b.finish_lease(LeaseAnswer {
            granted: 0,
            level: 6000,
        });
        assert_eq!(b.tokens(), 6.0);
        b.on_failure(true);
        assert_eq!(b.tokens(), 5.0);
        assert!(b.try_spend(ErrorClass::Unavailable, SEC).is_none());
        b.on_success(None);
        assert_eq!(b.begin_lease().unwrap().credit, -500);
    }
}
