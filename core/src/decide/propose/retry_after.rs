//! The server's Retry-After: the best estimate of when to retry, and a floor. Every client that
//! got the same header would retry at the same instant, so the wait is spread over up to a tenth
//! more (never less than asked). Each further failure of the episode doubles that spread, up to
//! the whole wait again: a header in whole seconds against a window that reopens every half
//! second sends a retry that waits exactly what it is told back into the closed part of the
//! window, round after round; a wider spread gets it out.

use super::{unit, Proposal};
use crate::decide::Context;
use crate::episode::EpisodeView;
use crate::recommendation::{Reason, Tier};

/// Share of the Retry-After wait added at most, as jitter, at the episode's first failure.
pub const SPREAD: f64 = 0.1;
/// The most the spread grows to: the wait again.
const MAX_SPREAD: f64 = 1.0;

/// The spread after `failures` failed attempts (1 = the first): doubled by each one after the
/// first, up to `MAX_SPREAD`.
fn spread(failures: u32) -> f64 {
    (SPREAD * 2f64.powi(failures.saturating_sub(1).min(8) as i32)).min(MAX_SPREAD)
}

pub(super) fn propose(cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Option<Proposal> {
    let wait = cx.retry_after()?;
    let delay = wait.mul_f64(1.0 + spread(ep.failures) * unit(ep));
    let mut p = Proposal::new(delay, Tier::Heuristic, Reason::RetryAfter { wait });
    p.nominal = None; // the server's wait: no estimate of ours to quote
    Some(p)
}
