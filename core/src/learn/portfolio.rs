//! The portfolio: which whole schedule an episode runs, the class's own (static, scaled to the
//! class) or the learned plan. The class schedule is the default; the engine leaves it only when
//! the evidence says the learned plan costs less, with confidence.
//!
//! Two kinds of evidence, kept side by side:
//! - **Paired counterfactual costs.** Every finished episode is scored for both schedules: the one
//!   that ran by what it cost, the other by what it would have cost on the same episode
//!   (`counterfactual`). The outage's own length is common to both, so their difference is
//!   precise after a few dozen episodes.
//! - **Realised costs per schedule.** A small control share of episodes runs the schedule not
//!   preferred. Realised costs are unbiased even where the model is wrong (clients that contend
//!   with each other, shapes it cannot represent); if the learned plan's realised cost is, with
//!   confidence, above the class schedule's, it is vetoed whatever the model says.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The candidate schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The class's own static schedule (the heuristic tier's).
    #[serde(alias = "heuristic")]
    Class,
    /// The learned plan.
    Learned,
}

impl Arm {
    /// Position of the arm in per-arm arrays (`Portfolio::cost`, `Portfolio::realised`).
    pub fn index(self) -> usize {
        self as usize
    }

    fn other(self) -> Arm {
        match self {
            Arm::Class => Arm::Learned,
            Arm::Learned => Arm::Class,
        }
    }
}

/// The schedule an episode runs, and whether it may still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Running {
    /// The class schedule because nothing better is known yet: the model is warming up, or the
    /// learned plan is not cheaper with confidence. Asked again at each failure, so that an
    /// episode that began before the model knew anything (every job of a batch fails within a
    /// minute, recoveries take ten) moves to the learned plan once the portfolio prefers it,
    /// instead of running the class schedule to its end.
    ClassForNow,
    /// The schedule the portfolio gave the episode for good: the one it prefers, or the other
    /// as a control episode (whose realised cost must be the schedule's alone).
    Kept(Arm),
    /// Began as `ClassForNow`, then moved to the learned plan.
    Moved,
}

impl Running {
    /// The schedule running now.
    pub fn arm(self) -> Arm {
        match self {
            Running::ClassForNow => Arm::Class,
            Running::Kept(arm) => arm,
            Running::Moved => Arm::Learned,
        }
    }

    /// The schedule whose realised costs the finished episode joins. A moved episode joins the
    /// class schedule's at what that schedule would have cost it: left out, the class
    /// schedule's realised costs would hold only the episodes short enough to end before the
    /// move, and look cheaper than it is.
    pub fn realised_as(self) -> Arm {
        match self {
            Running::Kept(arm) => arm,
            Running::ClassForNow | Running::Moved => Arm::Class,
        }
    }
}

/// Share of episodes that run the schedule not preferred, so both keep realised evidence; less
/// where that schedule costs more (`CONTROL_REGRET`).
pub const CONTROL_SHARE: f64 = 0.02;
/// The most the control episodes may add to the mean cost per episode, as a share of the
/// preferred schedule's: where the other schedule costs a hundred times more (a class schedule
/// at the wrong time scale), 2% of episodes on it would double the cost, so it runs far less.
const CONTROL_REGRET: f64 = 0.01;
/// Paired episodes needed before the learned plan can be preferred.
const MIN_PAIRED: f64 = 12.0;
/// Realised episodes each schedule needs before the realised costs can veto.
const MIN_FOR_VETO: f64 = 8.0;
/// Standard errors of margin for "better with confidence" and for a veto.
const Z: f64 = 2.0;

/// Decayed sums of one series: count, sum, sum of squares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Decayed count of values.
    pub n: f64,
    /// Decayed sum of values (seconds of cost).
    pub sum: f64,
    /// Decayed sum of squared values.
    pub sum_sq: f64,
}

impl Series {
    fn add(&mut self, x: f64) {
        self.n += 1.0;
        self.sum += x;
        self.sum_sq += x * x;
    }

    fn decay(&mut self, f: f64) {
        self.n *= f;
        self.sum *= f;
        self.sum_sq *= f;
    }

    /// The mean value; `None` before any value.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0.0).then(|| self.sum / self.n)
    }

    /// Standard error of the mean, with a floor on the variance so that a handful of identical
    /// values does not look certain.
    fn std_err(&self, scale: f64) -> f64 {
        let mean = self.sum / self.n;
        let var = (self.sum_sq / self.n - mean * mean)
            .max((0.02 * scale).powi(2))
            .max(1e-12);
        (var / self.n).sqrt()
    }

    fn merge(&mut self, o: &Series) {
        self.n += o.n.max(0.0);
        self.sum += o.sum;
        self.sum_sq += o.sum_sq.max(0.0);
    }

    fn is_valid(&self) -> bool {
        self.n.is_finite() && self.sum.is_finite() && self.sum_sq.is_finite() && self.n >= 0.0
    }
}

/// The portfolio's evidence for one model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Portfolio {
    /// Cost of each schedule per episode (realised for the one that ran, counterfactual for the
    /// other), on the same episodes.
    pub cost: [Series; 2],
    /// Per episode: learned plan's cost minus the class schedule's.
    pub difference: Series,
    /// Realised costs of the episodes each schedule actually ran.
    pub realised: [Series; 2],
}

/// Why the portfolio prefers what it prefers (for the recommendation's reason).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// The schedule the next episode should run.
    pub preferred: Arm,
    /// Mean cost per episode of the class schedule and of the learned plan, same episodes.
    pub class_cost: Option<f64>,
    /// Mean cost per episode of the learned plan, same episodes; `None` before any was scored.
    pub learned_cost: Option<f64>,
    /// The learned plan was better on paper but lost on realised cost.
    pub vetoed: bool,
    /// Effective (decayed) episodes the comparison rests on.
    pub episodes: f64,
}

impl Portfolio {
    /// Record one finished episode: the costs of both schedules on it, and which one ran.
    pub fn record(&mut self, ran: Arm, class_cost: f64, learned_cost: f64, decay: f64) {
        if !(class_cost.is_finite() && learned_cost.is_finite()) {
            return;
        }
        for s in self.series_mut() {
            s.decay(decay);
        }
        self.cost[Arm::Class.index()].add(class_cost);
        self.cost[Arm::Learned.index()].add(learned_cost);
        self.difference.add(learned_cost - class_cost);
        let realised = match ran {
            Arm::Class => class_cost,
            Arm::Learned => learned_cost,
        };
        self.realised[ran.index()].add(realised);
    }

    /// Every series, for decay, merges and checks (one list, so none is left out of any).
    pub fn series_mut(&mut self) -> impl Iterator<Item = &mut Series> {
        self.cost
            .iter_mut()
            .chain(self.realised.iter_mut())
            .chain(std::iter::once(&mut self.difference))
    }

    /// Every series, read-only, in the order of `series_mut`.
    pub fn series(&self) -> impl Iterator<Item = &Series> + Clone {
        self.cost
            .iter()
            .chain(self.realised.iter())
            .chain(std::iter::once(&self.difference))
    }

    /// Which schedule the evidence prefers, and why.
    pub fn verdict(&self) -> Verdict {
        let d = &self.difference;
        let scale = self.cost[Arm::Class.index()].mean().unwrap_or(1.0).abs();
        let better = d.n >= MIN_PAIRED && d.sum / d.n + Z * d.std_err(scale) < 0.0;
        let (rc, rl) = (
            &self.realised[Arm::Class.index()],
            &self.realised[Arm::Learned.index()],
        );
        let vetoed = rc.n >= MIN_FOR_VETO && rl.n >= MIN_FOR_VETO && {
            let gap = rl.sum / rl.n - rc.sum / rc.n;
            let se = (rl.std_err(scale).powi(2) + rc.std_err(scale).powi(2)).sqrt();
            gap > Z * se
        };
        Verdict {
            preferred: if better && !vetoed {
                Arm::Learned
            } else {
                Arm::Class
            },
            class_cost: self.cost[Arm::Class.index()].mean(),
            learned_cost: self.cost[Arm::Learned.index()].mean(),
            vetoed: better && vetoed,
            episodes: d.n,
        }
    }

    /// The share of episodes that run the schedule `v` does not prefer: `CONTROL_SHARE`, or
    /// less where the extra cost it adds would pass `CONTROL_REGRET` of the preferred's cost.
    /// Each side's cost is read in the direction that keeps more control: the preferred
    /// schedule's the larger of its paired and realised means (and at least `floor`, one failed
    /// attempt's price: the first episodes to finish are the short ones, which can make the
    /// preferred schedule look free), the other's the smaller.
    pub fn control_share(&self, v: &Verdict, floor: f64) -> f64 {
        let mean = |arm: Arm| {
            let paired = self.cost[arm.index()].mean();
            let realised = self.realised[arm.index()].mean();
            (paired, realised)
        };
        let (pref_paired, pref_realised) = mean(v.preferred);
        let (other_paired, other_realised) = mean(v.preferred.other());
        let pref = match (pref_paired, pref_realised) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b).unwrap_or(0.0),
        }
        .max(floor);
        let other = match (other_paired, other_realised) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(f64::INFINITY),
        };
        let extra = other - pref;
        if !(extra > 0.0 && pref.is_finite()) {
            return CONTROL_SHARE;
        }
        (CONTROL_REGRET * pref.max(0.0) / extra).min(CONTROL_SHARE)
    }

    /// The schedule for a new episode: the preferred one, or (with the control share) the other.
    /// `failure_cost`: the price of one failed attempt (the control share's floor of cost).
    pub fn choose<R: Rng + ?Sized>(&self, rng: &mut R, failure_cost: f64) -> (Arm, Verdict) {
        let v = self.verdict();
        let arm = if rng.random::<f64>() < self.control_share(&v, failure_cost) {
            v.preferred.other()
        } else {
            v.preferred
        };
        (arm, v)
    }

    /// Pool another portfolio's statistics.
    pub fn merge(&mut self, other: &Portfolio) {
        for (a, b) in self.series_mut().zip(other.series()) {
            a.merge(b);
        }
    }

    /// Every number finite and every count non-negative (snapshots are checked with this).
    pub fn is_valid(&self) -> bool {
        self.series().all(Series::is_valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn stays_with_the_class_schedule_until_the_learned_plan_is_better_with_confidence() {
        let mut p = Portfolio::default();
        let mut rng = SmallRng::seed_from_u64(3);
        assert_eq!(p.verdict().preferred, Arm::Class);
        // Same cost on paper: never leaves the class schedule.
        for _ in 0..200 {
            let x = 10.0 + 5.0 * rng.random::<f64>();
            p.record(Arm::Class, x, x + 0.01 * rng.random::<f64>(), 0.999);
        }
        assert_eq!(p.verdict().preferred, Arm::Class);
        // Clearly cheaper: switches.
        let mut p = Portfolio::default();
        for _ in 0..40 {
            let x = 10.0 + 5.0 * rng.random::<f64>();
            p.record(Arm::Class, x, x - 3.0, 0.999);
        }
        let v = p.verdict();
        assert_eq!(v.preferred, Arm::Learned);
        assert!(v.learned_cost.unwrap() < v.class_cost.unwrap());
    }

    #[test]
    fn a_much_dearer_control_schedule_runs_in_proportion_to_what_it_costs() {
        // The learned plan costs 0.3 s an episode; the class schedule, at the wrong time scale,
        // 40 s. 2% of episodes on it would add 0.8 s (267%); its share keeps that to 1%.
        let mut p = Portfolio::default();
        for i in 0..400 {
            let arm = if i % 10 == 0 {
                Arm::Class
            } else {
                Arm::Learned
            };
            p.record(arm, 40.0, 0.3, 0.999);
        }
        let v = p.verdict();
        assert_eq!(v.preferred, Arm::Learned);
        let share = p.control_share(&v, 0.01);
        assert!((share * (40.0 - 0.3) - 0.01 * 0.3).abs() < 1e-9, "{share}");
        let mut rng = SmallRng::seed_from_u64(11);
        let controls = (0..100_000)
            .filter(|_| p.choose(&mut rng, 0.01).0 == Arm::Class)
            .count();
        assert!(controls < 30, "{controls}");
        // Close costs keep the full control share; so does a preferred schedule that looks free
        // only because its first episodes were the short ones (the floor is one attempt's price).
        let mut q = Portfolio::default();
        for _ in 0..100 {
            q.record(Arm::Class, 10.0, 12.0, 0.999);
        }
        assert_eq!(q.control_share(&q.verdict(), 0.01), CONTROL_SHARE);
        let mut r = Portfolio::default();
        for _ in 0..100 {
            r.record(Arm::Class, 0.0, 1.0, 0.999);
        }
        assert_eq!(r.control_share(&r.verdict(), 0.0), 0.0);
        assert_eq!(r.control_share(&r.verdict(), 30.0), CONTROL_SHARE);
    }

    #[test]
    fn realised_cost_vetoes_a_plan_that_only_looks_better() {
        // On paper the learned plan saves 3 s, but when it runs it costs 40 s instead of 12 s.
        let mut p = Portfolio::default();
        let mut rng = SmallRng::seed_from_u64(5);
        let mut late_learned = 0;
        for round in 0..600 {
            let (arm, _) = p.choose(&mut rng, 1.0);
            let j = 0.8 + 0.4 * rng.random::<f64>();
            let (c, l) = match arm {
                Arm::Class => (12.0 * j, 9.0 * j),
                Arm::Learned => (43.0 * j, 40.0 * j),
            };
            p.record(arm, c, l, 0.995);
            if round >= 300 && arm == Arm::Learned {
                late_learned += 1;
            }
        }
        assert!(late_learned < 40, "{late_learned}");
        assert_eq!(p.verdict().preferred, Arm::Class);
        assert!(p.is_valid());
    }
}
