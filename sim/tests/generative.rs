//! Each scenario's generative model produces what its file says: sampled recovery times match
//! the stated distributions within tolerance.

use smartretry_sim::dist::{percentile, LogNormal};
use smartretry_sim::generate::generate;
use smartretry_sim::job::{Fault, Job, Truth};
use smartretry_sim::scenario::{Model, Scenario};

fn scenario(n: &str) -> Scenario {
    Scenario::select(n).unwrap().remove(0)
}

fn jobs(n: &str, count: usize) -> Vec<Job> {
    generate(&scenario(n), 7, Some(count)).unwrap().jobs
}

fn sorted(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    v
}

fn assert_lognormal(xs: &[f64], d: &LogNormal, tol: f64) {
    for p in [0.1, 0.5, 0.9] {
        let got = percentile(xs, p);
        let want = d.quantile(p);
        assert!(
            (got / want - 1.0).abs() < tol,
            "p{p}: sampled {got}, stated {want}"
        );
    }
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: {got} vs {want} ± {tol}");
}

#[test]
fn payment_outage_is_lognormal_and_mostly_6_to_12_s() {
    let s = scenario("1");
    let Model::LogNormal { recovery, .. } = s.model else {
        panic!()
    };
    let js = jobs("1", 20_000);
    let r = sorted(js.iter().filter_map(Job::recovery_delay));
    assert_lognormal(&r, &recovery, 0.03);
    let in_range = r.iter().filter(|x| (6.0..=12.0).contains(*x)).count() as f64 / r.len() as f64;
    assert!(in_range > 0.75, "{in_range}");
    // Poisson arrivals at the stated rate.
    let span = js.last().unwrap().arrival - js[0].arrival;
    close(js.len() as f64 / span, s.arrival_rate, 0.02, "arrival rate");
}

#[test]
fn rate_limit_resets_are_uniform_over_the_exhausted_half() {
    for n in ["2", "3"] {
        let js = jobs(n, 20_000);
        let r = sorted(js.iter().filter_map(Job::recovery_delay));
        for p in [0.1, 0.5, 0.9] {
            close(percentile(&r, p), 30.0 * p, 0.6, "reset quantile");
        }
        for j in &js {
            let phase = j.arrival.rem_euclid(60.0);
            assert!(
                (30.0..60.0).contains(&phase),
                "arrival in the open half: {phase}"
            );
        }
    }
}

#[test]
fn retry_after_points_at_the_reset() {
    let g = generate(&scenario("3"), 1, Some(500)).unwrap();
    let mut world = g.world.clone();
    for j in &g.jobs {
        let f = world.attempt(j, 1, j.arrival).unwrap_err();
        let ra = f.retry_after.expect("Retry-After is sent");
        assert!(world.attempt(j, 2, j.arrival + ra).is_ok());
        if let Truth::At(reset) = j.truth {
            assert!(j.arrival + ra >= reset && j.arrival + ra < reset + 1.0);
        }
    }
    let g2 = generate(&scenario("2"), 1, Some(50)).unwrap();
    let mut w2 = g2.world.clone();
    assert!(w2
        .attempt(&g2.jobs[0], 1, g2.jobs[0].arrival)
        .unwrap_err()
        .retry_after
        .is_none());
}

#[test]
fn blips_mostly_recover_at_once() {
    let s = scenario("4");
    let Model::Blips {
        instant_share,
        slow,
        ..
    } = s.model
    else {
        panic!()
    };
    let r: Vec<f64> = jobs("4", 30_000)
        .iter()
        .filter_map(Job::recovery_delay)
        .collect();
    let zero = r.iter().filter(|x| **x == 0.0).count() as f64 / r.len() as f64;
    close(zero, instant_share, 0.01, "instant share");
    assert_lognormal(&sorted(r.into_iter().filter(|x| *x > 0.0)), &slow, 0.08);
}

#[test]
fn maintenance_window_covers_20_minutes_each_night() {
    let s = scenario("5");
    let Model::Maintenance {
        window_share,
        background,
        ..
    } = s.model
    else {
        panic!()
    };
    let js = jobs("5", 20_000);
    let inside: Vec<&Job> = js.iter().filter(|j| j.group == 1).collect();
    close(
        inside.len() as f64 / js.len() as f64,
        window_share,
        0.02,
        "window share",
    );
    let r = sorted(inside.iter().filter_map(|j| j.recovery_delay()));
    for p in [0.1, 0.5, 0.9] {
        close(percentile(&r, p), 1200.0 * p, 25.0, "time to window end");
    }
    for j in &inside {
        let sod = j.arrival.rem_euclid(86_400.0);
        assert!((7200.0..8400.0).contains(&sod));
    }
    // Background recoveries: log-normal except the few that run into the window.
    let bg = sorted(
        js.iter()
            .filter(|j| j.group == 0)
            .filter_map(Job::recovery_delay),
    );
    assert_lognormal(&bg, &background, 0.06);
}

#[test]
fn drift_changes_the_distribution_at_the_shift() {
    let s = scenario("6");
    let Model::Drift {
        before,
        after,
        shift_share,
        ..
    } = s.model
    else {
        panic!()
    };
    let js = jobs("6", 20_000);
    let b = sorted(
        js.iter()
            .filter(|j| j.group == 0)
            .filter_map(Job::recovery_delay),
    );
    let a = sorted(
        js.iter()
            .filter(|j| j.group == 1)
            .filter_map(Job::recovery_delay),
    );
    close(
        a.len() as f64 / js.len() as f64,
        1.0 - shift_share,
        0.001,
        "shift",
    );
    assert_lognormal(&b, &before, 0.04);
    assert_lognormal(&a, &after, 0.04);
    // All post-shift jobs arrive after all pre-shift ones.
    let last_before = js
        .iter()
        .filter(|j| j.group == 0)
        .map(|j| j.arrival)
        .fold(0.0, f64::max);
    assert!(js
        .iter()
        .filter(|j| j.group == 1)
        .all(|j| j.arrival >= last_before));
}

#[test]
fn noisy_tenant_never_recovers() {
    let s = scenario("7");
    let Model::NoisyTenant {
        noisy_share,
        recovery,
        noisy,
        ..
    } = s.model
    else {
        panic!()
    };
    let js = jobs("7", 20_000);
    let n: Vec<&Job> = js.iter().filter(|j| j.group == 1).collect();
    close(
        n.len() as f64 / js.len() as f64,
        noisy_share,
        0.015,
        "noisy share",
    );
    assert!(n
        .iter()
        .all(|j| j.truth == Truth::Never && j.tenant.as_deref() == Some(&noisy)));
    let r = sorted(js.iter().filter_map(Job::recovery_delay));
    assert_lognormal(&r, &recovery, 0.04);
}

#[test]
fn contention_rounds_start_together_and_collide() {
    let g = generate(&scenario("8"), 0, Some(300)).unwrap();
    assert!(g.jobs[..100].iter().all(|j| j.arrival == 0.0));
    assert!(g.jobs[100..200].iter().all(|j| j.arrival == 3600.0));
    let mut w = g.world.clone();
    assert!(w.attempt(&g.jobs[0], 1, 0.0).is_ok());
    assert!(w.attempt(&g.jobs[1], 1, 0.0).is_err());
    assert!(w.attempt(&g.jobs[1], 2, 0.04).is_err());
    assert!(w.attempt(&g.jobs[1], 3, 0.2).is_ok());
}

#[test]
fn permanent_shares_match_the_file() {
    let js = jobs("9", 20_000);
    let share = |status: u16| {
        js.iter()
            .filter(|j| j.failure.http_status == Some(status))
            .count() as f64
            / js.len() as f64
    };
    close(share(422), 0.2, 0.015, "422");
    close(share(401), 0.1, 0.01, "401");
    close(share(403), 0.1, 0.01, "403");
    assert!(js
        .iter()
        .filter(|j| j.failure.http_status != Some(503))
        .all(|j| j.fault == Fault::Never && !j.failure.class.is_retryable()));
}

#[test]
fn incident_jobs_arrive_inside_outages_and_recover_at_their_end() {
    let g = generate(&scenario("10"), 3, Some(3000)).unwrap();
    let tl = g.world.timeline.clone().unwrap();
    for j in &g.jobs {
        let Fault::Incident { component } = j.fault else {
            panic!()
        };
        let b = tl.block_at(component, j.arrival).expect("inside an outage");
        assert_eq!(j.truth, Truth::At(b.end));
        assert!(tl.impact_at(component, b.end).is_none());
    }
    // Incidents reported with start = end get a short length, median 15 min as stated.
    let s = scenario("10");
    let Model::Incidents { unknown_length, .. } = s.model else {
        panic!()
    };
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(1);
    let xs = sorted((0..20_000).map(|_| unknown_length.sample(&mut rng)));
    assert_lognormal(&xs, &unknown_length, 0.04);
}

#[test]
fn brownout_lets_the_stated_share_through() {
    let s = scenario("11");
    let Model::LogNormal {
        brownout_share,
        recovery,
        ..
    } = s.model
    else {
        panic!()
    };
    let g = generate(&s, 2, Some(20_000)).unwrap();
    let mut w = g.world.clone();
    let mut ok = 0;
    let mut tried = 0;
    for j in &g.jobs {
        if let Truth::At(at) = j.truth {
            if at - j.arrival > 1.0 {
                tried += 1;
                ok += usize::from(w.attempt(j, 2, j.arrival + 0.5).is_ok());
            }
        }
    }
    close(
        ok as f64 / tried as f64,
        brownout_share,
        0.015,
        "brown-out share",
    );
    let r = sorted(g.jobs.iter().filter_map(Job::recovery_delay));
    assert_lognormal(&r, &recovery, 0.05);
}
