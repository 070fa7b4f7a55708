//! The portfolio kept the class's own schedule for this episode: the learned plan is not cheaper
//! with confidence, its realised cost vetoed it, or this is a control episode.

use super::{heuristic, Proposal};
use crate::decide::Context;
use crate::episode::EpisodeView;
use crate::learn::portfolio::{Arm, Verdict};
use crate::recommendation::{Reason, Tier};

pub(super) fn propose(cx: &Context<'_>, ep: &mut EpisodeView<'_>, verdict: Verdict) -> Proposal {
    let mut p = heuristic::propose(cx, ep);
    p.tier = Tier::Portfolio;
    p.reason = Reason::Portfolio {
        class: cx.class,
        strategy: cx.cp.strategy.name(),
        class_cost: verdict.class_cost.unwrap_or(f64::NAN),
        learned_cost: verdict.learned_cost.unwrap_or(f64::NAN),
        episodes: verdict.episodes,
        vetoed: verdict.vetoed,
        control: verdict.preferred == Arm::Learned,
    };
    p
}
