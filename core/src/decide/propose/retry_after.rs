//! The server's Retry-After: the best estimate of when to retry, and a floor. Every client that
//! got the same header would retry at the same instant, so the wait is spread over up to a tenth
//! more (never less than asked).

use super::{unit, Proposal};
use crate::decide::Context;
use crate::episode::EpisodeView;
use crate::recommendation::{Reason, Tier};

/// Share of the Retry-After wait added at most, as jitter.
pub const SPREAD: f64 = 0.1;

pub(super) fn propose(cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Option<Proposal> {
    let wait = cx.retry_after()?;
    let delay = wait.mul_f64(1.0 + SPREAD * unit(ep));
    let mut p = Proposal::new(delay, Tier::Heuristic, Reason::RetryAfter { wait });
    p.nominal = None; // the server's wait: no estimate of ours to quote
    Some(p)
}
