//! `Engine::explain`: one decision taken apart for an operator: what every tier would propose
//! at that step (not only the one that decided), and the recommendation with every clamp the
//! guardrails applied. A dry run: nothing is recorded.

use super::{heuristic, operator, retry_after, Proposal};
use crate::decide::Mode;
use crate::engine::Engine;
use crate::episode::Episode;
use crate::error::Result;
use crate::failure::Failure;
use crate::monitor::{Explanation, TierProposal};
use crate::settings::Settings;

fn shown(tier: &'static str, p: Proposal) -> TierProposal {
    TierProposal {
        tier,
        delay: p.delay.map(|d| d.as_secs_f64()),
        reason: p.reason.to_string(),
        success_probability: p.success_probability,
    }
}

impl Engine {
    /// Explain the decision at failed attempt `attempt` (1-based) of the schedule `failure`
    /// would get if every attempt failed, for (key, tenant). Changes nothing.
    pub fn explain(
        &self,
        key: &str,
        tenant: Option<&str>,
        failure: &Failure,
        attempt: u32,
    ) -> Result<Explanation> {
        let steps = self.preview(key, tenant, failure, attempt.max(1) as usize)?;
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        let mut ep = self.new_episode(policy, key, tenant);
        let mut now = self.now();
        for rec in steps.iter().take(steps.len().saturating_sub(1)) {
            let c = self.fail_step(&settings, &mut ep, failure, now, Mode::Dry);
            let _ = self.decide(&settings, &mut ep.view(), failure, &c, now, Mode::Dry);
            now += rec.delay;
            ep.st.last_delay = rec.delay;
        }
        let c = self.fail_step(&settings, &mut ep, failure, now, Mode::Dry);
        let proposals = self.tier_proposals(&settings, &ep, failure, c.class, now);
        let recommendation = self.decide(&settings, &mut ep.view(), failure, &c, now, Mode::Dry);
        Ok(Explanation {
            proposals,
            recommendation,
        })
    }

    /// What each tier would propose, from `settings` (the same snapshot the explanation's
    /// recommendation is decided with).
    fn tier_proposals(
        &self,
        settings: &Settings,
        ep: &Episode,
        failure: &Failure,
        class: crate::class::ErrorClass,
        now: std::time::Duration,
    ) -> Vec<TierProposal> {
        let policy = &*settings.policy;
        // Each tier proposes from the same state: its own copy of it.
        let mut st = ep.st.clone();
        let cx = self.context(
            settings,
            &ep.view_of(&mut st),
            class,
            failure,
            now,
            Mode::Dry,
        );
        let mut out = Vec::new();
        if let Some(p) = operator::propose(&cx) {
            out.push(shown("operator", p));
        }
        if let Some(p) = retry_after::propose(&cx, &mut ep.view_of(&mut ep.st.clone())) {
            out.push(shown("retry_after", p));
        }
        if cx.learning() && ep.id.models.is_some() {
            out.push(shown(
                "learned",
                self.propose_learned(&cx, &mut ep.view_of(&mut ep.st.clone())),
            ));
            // The class schedule competes with the plan only in a portfolio, or while learning.
            let learning = ep.id.models.as_ref().is_some_and(|m| {
                m.primary.model.lock().episodes() < f64::from(policy.learning.min_episodes)
            });
            if policy.learning.portfolio || learning {
                if let Some(p) =
                    self.propose_portfolio(&cx, &mut ep.view_of(&mut ep.st.clone()), None)
                {
                    out.push(shown("portfolio", p));
                }
            }
        }
        out.push(shown(
            "heuristic",
            heuristic::propose(&cx, &mut ep.view_of(&mut ep.st.clone())),
        ));
        out
    }
}
