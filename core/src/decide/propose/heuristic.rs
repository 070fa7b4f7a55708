//! The class's own static schedule (jittered as the strategy says): what the engine does when it
//! knows nothing, and the fallback of every learned tier.

use super::Proposal;
use crate::decide::Context;
use crate::episode::EpisodeView;
use crate::recommendation::{Reason, Tier};

pub(super) fn propose(cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Proposal {
    let (delay, nominal) = cx.cp.retry_delays(ep.failures, ep.last_delay, &mut ep.rng);
    let reason = if cx.pace > 1.0 {
        Reason::Paced {
            class: cx.class,
            strategy: cx.cp.strategy.name(),
            retry: ep.failures,
            factor: cx.pace,
        }
    } else if cx.cp.first_retry_immediate && ep.failures <= 1 {
        Reason::FirstRetryImmediate { class: cx.class }
    } else {
        Reason::Heuristic {
            class: cx.class,
            strategy: cx.cp.strategy.name(),
            retry: ep.failures,
        }
    };
    if cx.class == crate::class::ErrorClass::Conflict && cx.policy.learning.enabled {
        ep.paced = cx.pace as f32;
    }
    let mut p = Proposal::new(delay.mul_f64(cx.pace), Tier::Heuristic, reason);
    p.nominal = Some(nominal.mul_f64(cx.pace));
    p
}
