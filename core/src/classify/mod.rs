//! Classification: ordered, configurable rules map a `Failure`'s raw signals, and those of the
//! errors that caused it, onto an `ErrorClass`.
//!
//! The most specific signal wins. Kinds of signal rank HTTP status, then gRPC code, then
//! errno / error code, then exception type name, then message; the first kind that any rule
//! matches decides, looking through the whole cause chain. Within a kind, the first matching
//! rule (in rule order) wins, wherever in the chain it matches, so rules go from specific to
//! generic. Thus undici's `TypeError: fetch failed` with cause code `ECONNREFUSED` is
//! `connection` (the code outranks the name), and `503` with message "invalid API key" is
//! `unavailable` (the status outranks the message).

mod lookup;
mod matcher;
#[cfg(test)]
mod tests;

pub use matcher::{Matcher, Rule};

use crate::class::ErrorClass;
use crate::error::Result;
use crate::failure::Failure;
use lookup::Lookup;
use matcher::{Compiled, Kind, SharedPatterns, Signals, KINDS};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The outcome of classification, with the rule that decided it (for the explanation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// The failure's class.
    pub class: ErrorClass,
    /// The deciding rule's name, "explicit" when the caller gave the class, "default" when no
    /// rule matched.
    pub rule: String,
}

/// The outcome of classification as the engine uses it: the class and the index of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Matched {
    pub class: ErrorClass,
    pub rule: Option<usize>,
    pub explicit: bool,
}

/// Compiled, ordered rules, grouped by the kind of signal they read.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: Vec<Rule>,
    /// Per kind, most specific kind first: (compiled matcher, rule index), in rule order.
    by_kind: [Vec<(Compiled, usize)>; KINDS],
    /// The first HTTP, gRPC and error-code rule for each value, found in one step.
    lookup: Lookup,
    /// The compiled message patterns this classifier shares with the others alive, kept alive.
    _patterns: Arc<SharedPatterns>,
}

impl Classifier {
    /// Compile `rules`; a bad regex or an empty range is a typed error naming the rule.
    pub fn new(rules: Vec<Rule>) -> Result<Classifier> {
        let patterns = SharedPatterns::live();
        let mut by_kind: [Vec<(Compiled, usize)>; KINDS] = Default::default();
        for (index, rule) in rules.iter().enumerate() {
            let c = Compiled::new(rule, &patterns)?;
            by_kind[c.kind() as usize].push((c, index));
        }
        Ok(Classifier {
            lookup: Lookup::new(by_kind.iter().flatten()),
            rules,
            by_kind,
            _patterns: patterns,
        })
    }

    /// The default rules for HTTP, gRPC, errno names, common client libraries' exception types
    /// and messages.
    pub fn default_rules() -> Vec<Rule> {
        crate::rules::default_rules()
    }

    /// The rules this classifier was built from, in order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// Classify a failure: an explicit `failure.class` wins; then the most specific signal in
    /// the chain (see the module doc); else `unknown`.
    pub fn classify(&self, failure: &Failure) -> Classification {
        let m = self.matched(failure);
        Classification {
            class: m.class,
            rule: self.rule_name(m).to_string(),
        }
    }

    /// The deciding rule's name for explanations.
    pub(crate) fn rule_name(&self, m: Matched) -> &str {
        match m.rule {
            Some(i) => self.rules.get(i).map_or("rule", |r| r.name.as_str()),
            None if m.explicit => "explicit",
            None => "default",
        }
    }

    /// Classification without building the rule's name (the hot path).
    pub(crate) fn matched(&self, failure: &Failure) -> Matched {
        if let Some(class) = failure.class {
            return Matched {
                class,
                rule: None,
                explicit: true,
            };
        }
        // Most failures have no cause: their one set of signals stays on the stack.
        let single: [Signals<'_>; 1];
        let many: Vec<Signals<'_>>;
        let chain: &[Signals<'_>] = if failure.causes.is_empty() {
            single = [Signals::of(failure)];
            &single
        } else {
            many = failure.chain().map(Signals::of).collect();
            &many
        };
        // Within a kind, the first rule in rule order that any signal of the chain matches:
        // the least of each signal's first rule.
        let hit = Kind::ALL
            .into_iter()
            .find_map(|kind| chain.iter().filter_map(|s| self.first_rule(kind, s)).min());
        match hit.and_then(|i| self.rules.get(i).map(|r| (i, r.class))) {
            Some((i, class)) => Matched {
                class,
                rule: Some(i),
                explicit: false,
            },
            None => Matched {
                class: ErrorClass::Unknown,
                rule: None,
                explicit: false,
            },
        }
    }
}

impl Classifier {
    /// The first rule of `kind` (in rule order) that one failure's signals match.
    fn first_rule(&self, kind: Kind, s: &Signals<'_>) -> Option<usize> {
        let scan = || s.first_of(kind, &self.by_kind[kind as usize]);
        match kind {
            Kind::Http => self.lookup.http(s.http?),
            Kind::Grpc => self.lookup.grpc(s.grpc?).unwrap_or_else(|()| scan()),
            Kind::Code => self.lookup.code(s.code?).unwrap_or_else(|()| scan()),
            Kind::Exception | Kind::Message => {
                if !s.has(kind) {
                    return None;
                }
                scan()
            }
        }
    }
}

impl Default for Classifier {
    fn default() -> Self {
        // The built-in rules are tested to compile; an empty classifier is the safe fallback.
        Classifier::new(Classifier::default_rules()).unwrap_or(Classifier {
            rules: Vec::new(),
            by_kind: Default::default(),
            lookup: Lookup::new(std::iter::empty()),
            _patterns: SharedPatterns::live(),
        })
    }
}
