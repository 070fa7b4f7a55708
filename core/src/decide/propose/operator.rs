//! An operator's fixed delay for this queue, tenant or class: used exactly as set (only the
//! guardrails still apply). Operators choose it knowingly, so it is not jittered.

use super::Proposal;
use crate::decide::Context;
use crate::recommendation::{Reason, Tier};

pub(super) fn propose(cx: &Context<'_>) -> Option<Proposal> {
    let d = cx.fixed?;
    Some(Proposal::new(
        d,
        Tier::Operator,
        Reason::Override { delay: d },
    ))
}
