//! One queue learning over a few hundred failure episodes: a payment API whose 503 outages last
//! 6-12 s. The engine starts on the heuristic tier, then its learned plan takes over and retries
//! about once, near the right moment. Runs on a manual clock: no real waiting.

use smartretry::{Clock, Engine, Failure, ManualClock, Policy, Tier};
use std::time::Duration;

fn main() -> Result<(), smartretry::Error> {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let mut policy = Policy::from_json(
        r#"{"classes":{"unavailable":{"max_attempts":12,"max_delay":60}},"deadline":600}"#,
    )?;
    policy.learning.failure_cost = Some(Duration::from_secs(5));
    let engine = Engine::with_clock(policy, clock.clone())?;
    // Deterministic pseudo-random outage lengths in 6..12 s.
    let mut x: u64 = 42;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut tries, mut waited) = (0u32, 0.0f64);
    for episode in 1..=300 {
        let outage = 6.0 + 6.0 * next();
        let mut ep = engine.begin("payments", None)?;
        let start = clock.now();
        loop {
            let up = (clock.now() - start).as_secs_f64() >= outage && ep.attempts() > 0;
            if up {
                engine.on_success(&mut ep)?;
                break;
            }
            let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
            if [1, 2, 10, 30, 100, 300].contains(&episode)
                || (episode % 50 == 0 && ep.attempts() == 1)
            {
                println!("episode {episode:>3} attempt {}: {rec}", ep.attempts());
            }
            if !rec.should_retry() {
                break;
            }
            clock.advance(rec.delay);
        }
        tries += ep.attempts();
        waited += (clock.now() - start).as_secs_f64() - outage;
        if episode % 100 == 0 {
            println!(
                "-- episodes {:>3}-{:>3}: {:.2} attempts per job, {:.1} s waited past recovery on average",
                episode - 99,
                episode,
                f64::from(tries) / 100.0,
                waited / 100.0
            );
            tries = 0;
            waited = 0.0;
        }
        clock.advance(Duration::from_secs(60));
    }
    let stats = engine.stats();
    println!(
        "decisions: {} heuristic, {} bayesian; {} episodes, {} successes",
        stats.decisions_heuristic, stats.decisions_bayesian, stats.episodes, stats.successes
    );
    let _ = Tier::Bayesian;
    Ok(())
}
