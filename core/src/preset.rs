//! Presets: where a retry lives decides its time scale. An interactive `request` waits tens of
//! milliseconds to a couple of seconds and gives up within half a minute; a `background` job
//! (queued work) waits seconds to minutes. Both are starting points: every field can still be
//! set, and learning moves from there to the dependency's own scale.

use crate::class::ErrorClass;
use crate::error::{Error, Result};
use crate::policy::ClassPolicy;
use crate::strategy::Strategy;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use std::time::Duration;

/// The named starting points of a policy, the same in every language.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// An interactive call (HTTP or RPC on a request path): sub-second backoff, 30 s deadline.
    Request,
    /// Queued jobs: backoff in seconds to minutes, no deadline of its own.
    #[default]
    Background,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 2] = [Preset::Request, Preset::Background];

    /// The snake_case name used in policy files and every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Request => "request",
            Preset::Background => "background",
        }
    }

    /// The preset with this name.
    pub fn from_name(name: &str) -> Result<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "unknown preset {name:?} (known: request, background)"
                ))
            })
    }

    /// The total time an episode may take under this preset.
    pub fn deadline(self) -> Option<Duration> {
        match self {
            Preset::Request => Some(Duration::from_secs(30)),
            Preset::Background => None,
        }
    }

    /// The class policy of `class` under this preset.
    pub fn class(self, class: ErrorClass) -> ClassPolicy {
        match self {
            Preset::Background => ClassPolicy::default_for(class),
            Preset::Request => request_class(class),
        }
    }

    /// `class`, built once per process: a policy that leaves a class to its preset reads it on
    /// every decision, and building one converts a handful of float durations.
    pub fn class_ref(self, class: ErrorClass) -> &'static ClassPolicy {
        static TABLES: LazyLock<[Vec<ClassPolicy>; 2]> = LazyLock::new(|| {
            Preset::ALL.map(|p| ErrorClass::ALL.iter().map(|&c| p.class(c)).collect())
        });
        &TABLES[self as usize][class as usize]
    }
}

/// Request-path defaults: the same shapes as the background ones, at the scale of a call.
fn request_class(class: ErrorClass) -> ClassPolicy {
    let s = Duration::from_secs_f64;
    let mut cp = ClassPolicy::default_for(class);
    // The caps leave room above the static schedule (which stays far below them within its
    // attempts) so that a learned plan can wait as long as a dependency needs, inside the deadline.
    let (max_attempts, strategy, max_delay) = match class {
        ErrorClass::Timeout => (
            3,
            Strategy::FullJitter {
                base: s(0.1),
                factor: 3.0,
            },
            s(10.0),
        ),
        // Attempts are cheap at this scale and the 30 s deadline bounds the episode: enough of
        // them that a schedule doubling from 50-100 ms covers a few seconds of outage.
        ErrorClass::Connection => (6, Strategy::full_jitter(s(0.05)), s(10.0)),
        ErrorClass::RateLimited => (4, Strategy::full_jitter(s(0.5)), s(20.0)),
        ErrorClass::Unavailable => (6, Strategy::full_jitter(s(0.1)), s(10.0)),
        ErrorClass::ServerError => (4, Strategy::full_jitter(s(0.1)), s(10.0)),
        ErrorClass::Conflict => (6, Strategy::full_jitter(s(0.01)), s(1.0)),
        ErrorClass::Unknown => (3, Strategy::full_jitter(s(0.1)), s(5.0)),
        _ => return cp,
    };
    cp.max_attempts = max_attempts;
    cp.strategy = strategy;
    cp.max_delay = max_delay;
    cp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_a_call_scale_version_of_background() {
        for class in ErrorClass::ALL {
            let (r, b) = (
                Preset::Request.class(class),
                Preset::Background.class(class),
            );
            assert_eq!(r.disposition, b.disposition, "{class}");
            assert!(r.scale() <= b.scale(), "{class}");
            r.validate(class).unwrap();
        }
        assert!(Preset::Request.class(ErrorClass::Unavailable).scale() < 1.0);
        assert_eq!(Preset::from_name("request").unwrap(), Preset::Request);
        assert!(Preset::from_name("fast").is_err());
    }
}
