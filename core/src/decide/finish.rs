//! The end of a decision: in live mode, count it, tell the observers, and end the episode when
//! it stops. A dry run returns the recommendation untouched by any of this.

use super::Mode;
use crate::engine::Engine;
use crate::episode::EpisodeView;
use crate::observe::{Counter, Event};
use crate::recommendation::{Action, Recommendation, Tier};
use crate::settings::Settings;
use std::time::Duration;

impl Engine {
    /// Set the action, then (live mode) count, notify, and end the episode unless retrying.
    /// `guardrail_stop`: a guardrail or the plan ended an episode that might have recovered (its
    /// schedule is scored as having wasted the rest of the horizon).
    pub(super) fn finish(
        &self,
        settings: &Settings,
        ep: &mut EpisodeView<'_>,
        rec: &mut Recommendation,
        action: Action,
        mode: Mode,
        guardrail_stop: bool,
    ) {
        rec.action = action;
        if action != Action::Retry {
            rec.delay = Duration::ZERO;
        }
        if mode == Mode::Dry {
            return;
        }
        // The learned tier counts its own decisions (`Engine::learned_stats`).
        if let Some(c) = match rec.tier {
            Tier::Heuristic => Some(Counter::Heuristic),
            Tier::Bayesian => Some(Counter::Bayesian),
            Tier::Portfolio => Some(Counter::Portfolio),
            Tier::Operator => Some(Counter::Operator),
            Tier::Guardrail => Some(Counter::Guardrail),
            Tier::Learned => None,
        } {
            self.count(c);
        }
        self.count(match action {
            Action::Retry => Counter::Retries,
            Action::GiveUp => Counter::GiveUps,
            Action::Escalate => Counter::Escalations,
        });
        if !rec.clamps.is_empty() {
            self.count(Counter::Clamps);
            for c in &rec.clamps {
                self.emit(Event::Clamp {
                    key: &ep.id.key,
                    clamp: c,
                });
            }
        }
        self.emit(Event::Decision {
            key: &ep.id.key,
            tenant: ep.id.tenant.as_deref(),
            recommendation: rec,
        });
        if action != Action::Retry {
            ep.finished = true;
            if guardrail_stop {
                self.score_finished(settings, ep, None);
            }
            self.learned_episode_end(settings, ep, None);
            self.emit(Event::Exhausted {
                key: &ep.id.key,
                tenant: ep.id.tenant.as_deref(),
                recommendation: rec,
            });
        }
    }
}
