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
//!
//! Those realised means pool all time, and which schedule runs follows the verdict, which moves:
//! where one outage holds up every job, the schedule that ran during the long outages looks dear
//! whatever it did. So a veto is checked by a fair test: each finished episode is also compared
//! with the other schedule's episodes that ended about when it did (`local_gap`, from each
//! schedule's `Recent` costs). Until that comparison settles the question, a tenth of episodes
//! run the learned plan (`SETTLE_SHARE`), so that it settles within a hundred episodes or so; if
//! it finds the learned plan cheaper, the veto is lifted.

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
/// Share of episodes on the learned plan while a veto is not yet settled by `local_gap`.
pub const SETTLE_SHARE: f64 = 0.1;
/// Weight kept by each schedule's recent costs per finished episode (of either schedule): a
/// window of about 32 episodes.
const RECENT_DECAY: f32 = 31.0 / 32.0;
/// Weight of recent episodes a schedule needs for an episode to be compared with them.
const MIN_RECENT: f32 = 2.0;
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

/// One schedule's recent realised costs: their mean over about the last 32 finished episodes of
/// either schedule (`RECENT_DECAY`), so a schedule that has not run lately weighs little. Kept by
/// the process only: restored from a snapshot later, it would no longer be recent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Recent {
    weight: f32,
    mean: f32,
}

impl Recent {
    fn add(&mut self, x: f64) {
        self.weight += 1.0;
        self.mean += (x as f32 - self.mean) / self.weight;
    }

    /// The mean, once there is enough recent weight to compare with.
    fn mean(&self) -> Option<f64> {
        (self.weight >= MIN_RECENT && self.mean.is_finite()).then_some(f64::from(self.mean))
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
    /// Per finished episode with recent episodes of the other schedule to compare with: the
    /// learned plan's realised cost minus the class schedule's, the episode's own on one side
    /// and the other schedule's recent mean on the other.
    pub local_gap: Series,
    /// Each schedule's recent realised costs (not in snapshots).
    #[serde(skip)]
    pub recent: [Recent; 2],
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
    /// Vetoed, and episodes that ended at about the same time do not yet settle whether the
    /// learned plan costs more: more episodes run it (`SETTLE_SHARE`) until they do.
    pub unsettled: bool,
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
        if let Some(usual) = self.recent[ran.other().index()].mean() {
            self.local_gap.add(match ran {
                Arm::Learned => realised - usual,
                Arm::Class => usual - realised,
            });
        }
        for r in &mut self.recent {
            r.weight *= RECENT_DECAY;
        }
        self.recent[ran.index()].add(realised);
    }

    /// The evidence alone, without what only this process's recent past means (for snapshots).
    pub fn evidence(&self) -> Portfolio {
        Portfolio {
            recent: Default::default(),
            ..self.clone()
        }
    }

    /// Every series, for decay, merges and checks (one list, so none is left out of any).
    pub fn series_mut(&mut self) -> impl Iterator<Item = &mut Series> {
        self.cost
            .iter_mut()
            .chain(self.realised.iter_mut())
            .chain([&mut self.difference, &mut self.local_gap])
    }

    /// Every series, read-only, in the order of `series_mut`.
    pub fn series(&self) -> impl Iterator<Item = &Series> + Clone {
        self.cost
            .iter()
            .chain(self.realised.iter())
            .chain([&self.difference, &self.local_gap])
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
        let pooled = rc.n >= MIN_FOR_VETO && rl.n >= MIN_FOR_VETO && {
            let gap = rl.sum / rl.n - rc.sum / rc.n;
            let se = (rl.std_err(scale).powi(2) + rc.std_err(scale).powi(2)).sqrt();
            gap > Z * se
        };
        // The fair test, once it has the episodes: learned dearer, cheaper, or not yet known.
        let local = &self.local_gap;
        let local_says = (local.n >= MIN_FOR_VETO).then(|| {
            let (gap, se) = (local.sum / local.n, local.std_err(scale));
            (gap - Z * se > 0.0, gap + Z * se < 0.0)
        });
        let vetoed = better && pooled && !matches!(local_says, Some((_, true)));
        Verdict {
            preferred: if better && !vetoed {
                Arm::Learned
            } else {
                Arm::Class
            },
            class_cost: self.cost[Arm::Class.index()].mean(),
            learned_cost: self.cost[Arm::Learned.index()].mean(),
            vetoed,
            unsettled: vetoed && !matches!(local_says, Some((true, _))),
            episodes: d.n,
        }
    }

    /// The share of episodes that run the schedule `v` does not prefer: `CONTROL_SHARE`, or
    /// less where the extra cost it adds would pass `CONTROL_REGRET` of the preferred's cost.
    /// Each side's cost is read in the direction that keeps more control: the preferred
    /// schedule's the larger of its paired and realised means (and at least `floor`, one failed
    /// attempt's price: the first episodes to finish are the short ones, which can make the
    /// preferred schedule look free), the other's the smaller.
    /// While a veto is unsettled, the learned plan runs `SETTLE_SHARE` of episodes.
    pub fn control_share(&self, v: &Verdict, floor: f64) -> f64 {
        if v.unsettled {
            return SETTLE_SHARE;
        }
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

    /// A portfolio after `rounds` episodes: `episode(round, portfolio, rng)` picks the schedule
    /// and gives both costs; each is recorded (with `decay`) and passed to `seen`.
    fn run(
        (rounds, seed, decay): (usize, u64, f64),
        mut episode: impl FnMut(usize, &Portfolio, &mut SmallRng) -> (Arm, f64, f64),
        mut seen: impl FnMut(usize, Arm, &Portfolio),
    ) -> Portfolio {
        let mut p = Portfolio::default();
        let mut rng = SmallRng::seed_from_u64(seed);
        for round in 0..rounds {
            let (arm, class_cost, learned_cost) = episode(round, &p, &mut rng);
            p.record(arm, class_cost, learned_cost, decay);
            seen(round, arm, &p);
        }
        p
    }

    #[test]
    fn realised_cost_vetoes_a_plan_that_only_looks_better() {
        // On paper the learned plan saves 3 s, but when it runs it costs 40 s instead of 12 s.
        let mut late_learned = 0;
        let p = run(
            (600, 5, 0.995),
            |_, p, rng| {
                let (arm, _) = p.choose(rng, 1.0);
                let j = 0.8 + 0.4 * rng.random::<f64>();
                match arm {
                    Arm::Class => (arm, 12.0 * j, 9.0 * j),
                    Arm::Learned => (arm, 43.0 * j, 40.0 * j),
                }
            },
            |round, arm, _| late_learned += usize::from(round >= 300 && arm == Arm::Learned),
        );
        assert!(late_learned < 40, "{late_learned}");
        let v = p.verdict();
        assert_eq!(v.preferred, Arm::Class);
        // Episodes that ended at the same time confirm it: the veto is settled.
        assert!(v.vetoed && !v.unsettled, "{v:?}");
        assert!(p.is_valid());
    }

    #[test]
    fn a_veto_that_stretches_of_long_outages_caused_is_lifted() {
        // Outages shared by every job come in stretches: short ones (10 s) while the model
        // warms up on the class schedule, then long (40 s) and short in turn. On every episode
        // the learned plan costs a quarter less than the class schedule. Preferred from the
        // first long stretch, it runs its long outages while the class schedule's realised costs
        // are still those of the short stretch before, so the pooled means veto it. Pooled means
        // alone keep that veto for about 170 rounds; compared with episodes that ended at the
        // same time, the learned plan is cheaper, and the veto goes within a few dozen.
        let mut vetoed_rounds = 0;
        let p = run(
            (1_500, 9, 0.999),
            |round, p, rng| {
                let scale = if (round / 150) % 2 == 0 { 10.0 } else { 40.0 };
                let j = scale * (0.8 + 0.4 * rng.random::<f64>());
                let arm = if round < 150 {
                    Arm::Class // the model warming up
                } else {
                    p.choose(rng, 1.0).0
                };
                (arm, j, 0.75 * j)
            },
            |_, _, p| vetoed_rounds += usize::from(p.verdict().vetoed),
        );
        let v = p.verdict();
        assert!(!v.vetoed && v.preferred == Arm::Learned, "{v:?}");
        assert!(vetoed_rounds < 80, "vetoed for {vetoed_rounds} rounds");
    }

    #[test]
    fn recent_costs_stay_out_of_snapshots() {
        let mut p = Portfolio::default();
        for i in 0..50 {
            let arm = if i % 3 == 0 { Arm::Learned } else { Arm::Class };
            p.record(arm, 10.0, 8.0, 0.999);
        }
        assert!(p.local_gap.n > 0.0);
        let e = p.evidence();
        assert_eq!(e.recent, [Recent::default(); 2]);
        assert_eq!(e.local_gap, p.local_gap);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("recent"), "{json}");
        let back: Portfolio = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }
}
