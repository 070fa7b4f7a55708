//! Turns a scenario's generative model into the jobs of one run and the world they play in.
//! Everything is drawn from one stream seeded by (scenario, seed), so every policy sees the
//! same jobs.

use crate::dist::{exponential, seed_of, weighted_index, LogNormal};
use crate::error::Result;
use crate::incidents::{parse_csv, Timeline, OPENAI_CSV};
use crate::job::{FailureSpec, Fault, Job, Truth};
use crate::scenario::{Model, Scenario};
use crate::world::{DailyWindow, World};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// The jobs (in arrival order) and the world of one (scenario, seed).
#[derive(Debug, Clone)]
pub struct Generated {
    pub jobs: Vec<Job>,
    pub world: World,
}

/// A job before ids and warm-up flags are assigned.
struct Draft {
    arrival: f64,
    tenant: Option<String>,
    queue: Option<String>,
    fault: Fault,
    failure: FailureSpec,
    truth: Truth,
    group: u8,
    queue_depth: Option<u64>,
}

fn recovers(t0: f64, r: f64, brownout: f64, failure: &FailureSpec, group: u8) -> Draft {
    Draft {
        arrival: t0,
        tenant: None,
        queue: None,
        fault: Fault::Recovers {
            at: t0 + r,
            brownout,
        },
        failure: failure.clone(),
        truth: Truth::At(t0 + r),
        group,
        queue_depth: None,
    }
}

/// Generate `jobs` jobs (the scenario's own count when `None`) for `seed`.
pub fn generate(s: &Scenario, seed: u64, jobs: Option<usize>) -> Result<Generated> {
    let n = jobs.unwrap_or(s.jobs).max(1);
    let seed_s = seed.to_string();
    let mut rng = SmallRng::seed_from_u64(seed_of(&[&s.name, &seed_s, "jobs"]));
    let world_rng = SmallRng::seed_from_u64(seed_of(&[&s.name, &seed_s, "world"]));
    let mut world = World::new(Scenario::default_epoch(), world_rng);
    let mean_gap = 1.0 / s.arrival_rate;
    let mut clock = 0.0;
    let mut next_arrival = |rng: &mut SmallRng| {
        clock += exponential(rng, mean_gap);
        clock
    };
    let mut drafts: Vec<Draft> = Vec::with_capacity(n);
    match &s.model {
        Model::LogNormal {
            recovery,
            failure,
            brownout_share,
        } => {
            for _ in 0..n {
                let t0 = next_arrival(&mut rng);
                let r = recovery.sample(&mut rng);
                drafts.push(recovers(t0, r, *brownout_share, failure, 0));
            }
        }
        Model::Outages {
            duration,
            up,
            failure,
            brownout_share,
        } => {
            // Outage after outage; the failing jobs of each arrive while it lasts (a Poisson
            // stream on down time) and all recover at its end.
            let mut start = 0.0;
            while drafts.len() < n {
                let end = start + duration.sample(&mut rng);
                let mut t0 = start + exponential(&mut rng, mean_gap);
                while t0 < end && drafts.len() < n {
                    drafts.push(recovers(t0, end - t0, *brownout_share, failure, 0));
                    t0 += exponential(&mut rng, mean_gap);
                }
                start = end + exponential(&mut rng, *up);
            }
        }
        Model::Drift {
            before,
            after,
            shift_share,
            failure,
        } => {
            let shift = (n as f64 * shift_share).round() as usize;
            for i in 0..n {
                let t0 = next_arrival(&mut rng);
                let (d, g) = if i < shift { (before, 0) } else { (after, 1) };
                drafts.push(recovers(t0, d.sample(&mut rng), 0.0, failure, g));
            }
        }
        Model::RateLimit {
            period,
            open_share,
            retry_after,
            failure,
        } => {
            let open = period * open_share;
            let closed = period - open;
            // Arrivals at rate λ during the exhausted part of each window only: a Poisson
            // stream on "closed time", mapped back onto the clock.
            let mut closed_clock = 0.0;
            for _ in 0..n {
                closed_clock += exponential(&mut rng, mean_gap);
                let k = (closed_clock / closed).floor();
                let t0 = k * period + open + (closed_clock - k * closed);
                drafts.push(Draft {
                    arrival: t0,
                    tenant: None,
                    queue: None,
                    fault: Fault::RateWindow {
                        period: *period,
                        open,
                        retry_after: *retry_after,
                    },
                    failure: failure.clone(),
                    truth: Truth::At((k + 1.0) * period),
                    group: 0,
                    queue_depth: None,
                });
            }
        }
        Model::Blips {
            instant_share,
            slow,
            failure,
        } => {
            for _ in 0..n {
                let t0 = next_arrival(&mut rng);
                let r = if rng.random::<f64>() < *instant_share {
                    0.0
                } else {
                    slow.sample(&mut rng)
                };
                drafts.push(recovers(t0, r, 0.0, failure, 0));
            }
        }
        Model::Load {
            recovery,
            depth,
            depth_exponent,
            weekday_factor,
            days,
            failure,
        } => {
            let span = f64::from(*days) * 86_400.0;
            for _ in 0..n {
                let t0 = rng.random::<f64>() * span;
                let d = depth.sample(&mut rng).round().max(1.0);
                let (_, dow) = smartretry::learned::context::seconds_of_day(world.epoch + t0);
                let r = recovery.sample(&mut rng)
                    * (d / depth.median).powf(*depth_exponent)
                    * weekday_factor[usize::from(dow)];
                let mut draft = recovers(t0, r, 0.0, failure, 0);
                draft.queue_depth = Some(d as u64);
                drafts.push(draft);
            }
        }
        Model::Maintenance {
            start_hour,
            minutes,
            days,
            window_share,
            background,
            failure,
        } => {
            let w = DailyWindow {
                start: start_hour * 3600.0,
                len: minutes * 60.0,
            };
            world.blackout = Some(w);
            for _ in 0..n {
                let day = f64::from(rng.random_range(0..*days)) * 86_400.0;
                if rng.random::<f64>() < *window_share {
                    let t0 = day + w.start + rng.random::<f64>() * w.len;
                    let mut d = recovers(t0, day + w.start + w.len - t0, 0.0, failure, 1);
                    d.truth = Truth::At(day + w.start + w.len);
                    drafts.push(d);
                } else {
                    // Uniform over the day outside the window.
                    let x = rng.random::<f64>() * (86_400.0 - w.len);
                    let sod = if x < w.start { x } else { x + w.len };
                    let t0 = day + sod;
                    let r = background.sample(&mut rng);
                    let at = w.end_if_inside(t0 + r).unwrap_or(t0 + r);
                    drafts.push(recovers(t0, at - t0, 0.0, failure, 0));
                }
            }
        }
        Model::NoisyTenant {
            tenants,
            noisy,
            noisy_share,
            recovery,
            failure,
        } => {
            for _ in 0..n {
                let t0 = next_arrival(&mut rng);
                let r = recovery.sample(&mut rng);
                if rng.random::<f64>() < *noisy_share {
                    drafts.push(Draft {
                        arrival: t0,
                        tenant: Some(noisy.clone()),
                        queue: None,
                        fault: Fault::Never,
                        failure: failure.clone(),
                        truth: Truth::Never,
                        group: 1,
                        queue_depth: None,
                    });
                } else {
                    let mut d = recovers(t0, r, 0.0, failure, 0);
                    d.tenant = Some(tenants[rng.random_range(0..tenants.len())].clone());
                    drafts.push(d);
                }
            }
        }
        Model::Contention {
            clients,
            window,
            round_gap,
            failure,
        } => {
            world.contention_window = *window;
            for i in 0..n {
                let round = (i / *clients as usize) as f64;
                drafts.push(Draft {
                    arrival: round * round_gap,
                    tenant: None,
                    queue: None,
                    fault: Fault::Contention,
                    failure: failure.clone(),
                    truth: Truth::Unknown,
                    group: 0,
                    queue_depth: None,
                });
            }
        }
        Model::Mixed {
            recovery,
            failure,
            permanent,
        } => {
            for _ in 0..n {
                let t0 = next_arrival(&mut rng);
                let r = recovery.sample(&mut rng);
                let mut x = rng.random::<f64>();
                let mut perm = None;
                for p in permanent {
                    if x < p.share {
                        perm = Some(p);
                        break;
                    }
                    x -= p.share;
                }
                match perm {
                    Some(p) => drafts.push(Draft {
                        arrival: t0,
                        tenant: None,
                        queue: None,
                        fault: Fault::Never,
                        failure: p.failure.clone(),
                        truth: Truth::Never,
                        group: 1,
                        queue_depth: None,
                    }),
                    None => drafts.push(recovers(t0, r, 0.0, failure, 0)),
                }
            }
        }
        Model::Incidents {
            component_shares,
            fail_prob,
            unknown_length,
            failure,
        } => {
            let tl = incident_timeline(unknown_length, &mut rng)?;
            world.epoch = tl.epoch;
            world.fail_prob = fail_prob.clone();
            for _ in 0..n {
                let c = weighted_index(&mut rng, component_shares);
                let blocks = &tl.blocks[c];
                if blocks.is_empty() {
                    continue;
                }
                let lens: Vec<f64> = blocks.iter().map(|b| b.end - b.start).collect();
                let b = &blocks[weighted_index(&mut rng, &lens)];
                let t0 = b.start + rng.random::<f64>() * (b.end - b.start);
                drafts.push(Draft {
                    arrival: t0,
                    tenant: None,
                    queue: Some(format!(
                        "{}-{}",
                        s.queue,
                        crate::incidents::COMPONENTS[c].to_ascii_lowercase()
                    )),
                    fault: Fault::Incident { component: c },
                    failure: failure.clone(),
                    truth: Truth::At(b.end),
                    group: 0,
                    queue_depth: None,
                });
            }
            world.timeline = Some(Arc::new(tl));
        }
    }
    // Stable sort keeps generation order among equal arrivals (contention rounds).
    drafts.sort_by(|a, b| a.arrival.total_cmp(&b.arrival));
    let warm = (drafts.len() as f64 * s.warmup_share).round() as usize;
    let jobs = drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| Job {
            id: i as u32,
            arrival: d.arrival,
            queue: d.queue.unwrap_or_else(|| s.queue.clone()),
            tenant: d.tenant,
            fault: d.fault,
            failure: d.failure,
            truth: d.truth,
            warmup: i < warm,
            group: d.group,
            queue_depth: d.queue_depth,
        })
        .collect();
    Ok(Generated { jobs, world })
}

/// The embedded incident timeline, with unknown-length incidents drawn from `unknown_length`.
pub fn incident_timeline(unknown_length: &LogNormal, rng: &mut SmallRng) -> Result<Timeline> {
    let incidents = parse_csv(OPENAI_CSV)?;
    Ok(Timeline::build(&incidents, unknown_length, rng))
}
