//! The class's own static schedule (jittered as the strategy says): what the engine does when it
//! knows nothing, and the fallback of every learned tier.

use super::Proposal;
use crate::decide::Context;
use crate::episode::EpisodeView;
use crate::recommendation::{Reason, Tier};

pub(super) fn propose(cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Proposal {
    let immediate = cx.cp.first_retry_immediate && ep.failures <= 1;
    // An immediate retry is not paced (nor is its outcome evidence about the pace).
    let pace = cx.pace.filter(|_| !immediate);
    let factor = pace.unwrap_or(1.0);
    if pace.is_some() {
        ep.paced = factor as f32;
    }
    let (delay, nominal) = cx
        .cp
        .retry_delays(ep.failures, ep.last_delay, factor, &mut ep.rng);
    let reason = if immediate {
        Reason::FirstRetryImmediate { class: cx.class }
    } else if factor > 1.0 {
        Reason::Paced {
            class: cx.class,
            strategy: cx.cp.strategy.name(),
            retry: ep.failures,
            factor,
        }
    } else {
        Reason::Heuristic {
            class: cx.class,
            strategy: cx.cp.strategy.name(),
            retry: ep.failures,
        }
    };
    let mut p = Proposal::new(delay, Tier::Heuristic, reason);
    p.nominal = Some(nominal);
    p
}
