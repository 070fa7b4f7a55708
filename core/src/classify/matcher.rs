//! What a rule looks at, and its compiled form: the matching of one rule against one failure's
//! signals, without any notion of precedence (that is the classifier's job).

use crate::class::ErrorClass;
use crate::error::{Error, Result};
use crate::failure::Failure;
use parking_lot::Mutex;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

/// What a rule looks at. Name lists compare case-insensitively.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matcher {
    /// HTTP status in `from..=to`.
    HttpStatus {
        /// Lowest status matched.
        from: u16,
        /// Highest status matched (inclusive).
        to: u16,
    },
    /// Any of these gRPC status codes.
    GrpcCode {
        /// The gRPC status codes (0..=16).
        codes: Vec<u32>,
    },
    /// Any of these errno / error-code names.
    ErrorCode {
        /// The names, e.g. "ECONNRESET", "ETIMEDOUT".
        names: Vec<String>,
    },
    /// The exception type name contains any of these fragments (so
    /// `requests.exceptions.ReadTimeout` matches `Timeout`). A heuristic: prefer `ExceptionName`.
    Exception {
        /// Fragments of the exception type name.
        contains: Vec<String>,
    },
    /// The message matches this regular expression (case-insensitive).
    Message {
        /// The regular expression.
        pattern: String,
    },
    /// The exception type name is one of these, compared with the whole name and with its last
    /// dotted (or `::`) component: `ConnectError` matches `httpx.ConnectError`, while
    /// `httpx.ConnectError` matches only that full name.
    ExceptionName {
        /// Exception type names, short or fully qualified.
        names: Vec<String>,
    },
}

/// One classification rule: when `matcher` matches, the failure is of `class`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// A short name for explanations ("http 429", "errno ECONNRESET", ...).
    pub name: String,
    /// What the rule looks at (its fields sit beside `name` and `class` in JSON).
    #[serde(flatten)]
    pub matcher: Matcher,
    /// The class a matching failure gets.
    pub class: ErrorClass,
}

impl Rule {
    /// A rule named `name`: failures that `matcher` matches are of `class`.
    pub fn new(name: impl Into<String>, matcher: Matcher, class: ErrorClass) -> Rule {
        Rule {
            name: name.into(),
            matcher,
            class,
        }
    }
}

/// The kinds of signal, most specific first: a kind that matches decides, whatever the kinds
/// after it say. `ALL[k] as usize == k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Http = 0,
    Grpc = 1,
    Code = 2,
    Exception = 3,
    Message = 4,
}

pub(crate) const KINDS: usize = 5;

impl Kind {
    pub(crate) const ALL: [Kind; KINDS] = [
        Kind::Http,
        Kind::Grpc,
        Kind::Code,
        Kind::Exception,
        Kind::Message,
    ];
}

/// A matcher prepared for fast matching (regexes compiled, names lower-cased).
#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    Http(u16, u16),
    Grpc(Vec<u32>),
    Code(Vec<String>),
    Contains(Vec<String>),
    Names(Vec<String>),
    Message(Regex),
}

/// One failure's signals. The exception name is lower-cased (its fragments are searched for)
/// only when the exception rules are reached; an error code is compared without case, so
/// reading it allocates nothing.
#[derive(Debug)]
pub(crate) struct Signals<'a> {
    pub(crate) http: Option<u16>,
    pub(crate) grpc: Option<u32>,
    pub(crate) code: Option<&'a str>,
    exception: Option<&'a str>,
    message: Option<&'a str>,
}

impl<'a> Signals<'a> {
    pub(crate) fn of(f: &'a Failure) -> Signals<'a> {
        Signals {
            http: f.http_status,
            grpc: f.grpc_code,
            code: f.error_code.as_deref(),
            exception: f.exception.as_deref(),
            message: f.message.as_deref(),
        }
    }

    /// The first of `rules` (compiled matchers of one kind with rule indices, in rule order)
    /// that these signals match. Only exception rules read the exception name: for them it is
    /// lower-cased once, for all of them.
    pub(crate) fn first_of(&self, kind: Kind, rules: &[(Compiled, usize)]) -> Option<usize> {
        let lowered = match kind {
            Kind::Exception => Some(self.exception?.to_ascii_lowercase()),
            _ => None,
        };
        rules
            .iter()
            .find(|(c, _)| c.matches(self, lowered.as_deref()))
            .map(|(_, index)| *index)
    }

    /// Whether this failure carries the signal that rules of `kind` read (no rule of a kind
    /// whose signal is absent can match, so the classifier skips them).
    pub(crate) fn has(&self, kind: Kind) -> bool {
        match kind {
            Kind::Http => self.http.is_some(),
            Kind::Grpc => self.grpc.is_some(),
            Kind::Code => self.code.is_some(),
            Kind::Exception => self.exception.is_some(),
            Kind::Message => self.message.is_some(),
        }
    }
}

/// The last component of a dotted (Python, Java) or `::` (Rust, C++) type name.
fn last_component(name: &str) -> &str {
    name.rsplit(['.', ':']).next().unwrap_or(name)
}

/// Message patterns compiled once and shared by the classifiers alive at the same time:
/// compiling the built-in rules' case-insensitive patterns was most of what creating an engine
/// cost (about 7 ms in release). A `Regex` clone shares its compiled program. Every classifier
/// holds the set it drew from, and the set goes with the last of them: a process keeps nothing
/// once its engines are gone (a C program under valgrind sees no leak). Past
/// `MAX_SHARED_PATTERNS` distinct patterns (policies generated per tenant, say), new ones are
/// compiled and not kept.
#[derive(Debug, Default)]
pub(crate) struct SharedPatterns(Mutex<HashMap<String, Regex>>);

/// The set the live classifiers share (none kept alive from here).
static LIVE_PATTERNS: Mutex<Weak<SharedPatterns>> = Mutex::new(Weak::new());
const MAX_SHARED_PATTERNS: usize = 256;

impl SharedPatterns {
    /// The set the classifiers alive now share, or a new one when none is alive.
    pub(crate) fn live() -> Arc<SharedPatterns> {
        let mut live = LIVE_PATTERNS.lock();
        if let Some(set) = live.upgrade() {
            return set;
        }
        let set = Arc::new(SharedPatterns::default());
        *live = Arc::downgrade(&set);
        set
    }

    /// `pattern` compiled case-insensitively, with a bounded program size.
    fn regex(&self, pattern: &str) -> std::result::Result<Regex, regex::Error> {
        if let Some(r) = self.0.lock().get(pattern) {
            return Ok(r.clone());
        }
        let r = RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()?;
        let mut shared = self.0.lock();
        if shared.len() < MAX_SHARED_PATTERNS {
            shared.insert(pattern.to_string(), r.clone());
        }
        Ok(r)
    }
}

fn lowered(list: &[String]) -> Vec<String> {
    list.iter().map(|n| n.to_ascii_lowercase()).collect()
}

impl Compiled {
    /// Compile a rule's matcher (a message pattern drawn from `patterns`); a bad regex, an empty
    /// range or an empty name is a typed error.
    pub(crate) fn new(rule: &Rule, patterns: &SharedPatterns) -> Result<Compiled> {
        let bad = |reason: &str| Error::InvalidRule {
            rule: rule.name.clone(),
            reason: reason.to_string(),
        };
        Ok(match &rule.matcher {
            Matcher::HttpStatus { from, to } => {
                if from > to || *to > 999 {
                    return Err(bad("http status range must satisfy from <= to <= 999"));
                }
                Compiled::Http(*from, *to)
            }
            Matcher::GrpcCode { codes } => Compiled::Grpc(codes.clone()),
            Matcher::ErrorCode { names } => Compiled::Code(lowered(names)),
            Matcher::Exception { contains } => {
                if contains.iter().any(String::is_empty) {
                    return Err(bad("exception fragments must not be empty"));
                }
                Compiled::Contains(lowered(contains))
            }
            Matcher::ExceptionName { names } => {
                if names.iter().any(String::is_empty) {
                    return Err(bad("exception names must not be empty"));
                }
                Compiled::Names(lowered(names))
            }
            Matcher::Message { pattern } => {
                Compiled::Message(patterns.regex(pattern).map_err(|e| bad(&e.to_string()))?)
            }
        })
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Compiled::Http(..) => Kind::Http,
            Compiled::Grpc(_) => Kind::Grpc,
            Compiled::Code(_) => Kind::Code,
            Compiled::Contains(_) | Compiled::Names(_) => Kind::Exception,
            Compiled::Message(_) => Kind::Message,
        }
    }

    /// Whether the signals match; `exception` is their exception name lower-cased.
    pub(crate) fn matches(&self, s: &Signals<'_>, exception: Option<&str>) -> bool {
        match self {
            Compiled::Http(lo, hi) => s.http.is_some_and(|v| (*lo..=*hi).contains(&v)),
            Compiled::Grpc(codes) => s.grpc.is_some_and(|g| codes.contains(&g)),
            Compiled::Code(names) => s
                .code
                .is_some_and(|c| names.iter().any(|n| n.eq_ignore_ascii_case(c))),
            Compiled::Contains(frags) => {
                exception.is_some_and(|e| frags.iter().any(|f| e.contains(f.as_str())))
            }
            Compiled::Names(names) => exception.is_some_and(|e| {
                let last = last_component(e);
                names.iter().any(|n| n == e || n == last)
            }),
            Compiled::Message(re) => s.message.is_some_and(|m| re.is_match(m)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_pattern_is_compiled_once_per_set_and_shared_while_the_set_lives() {
        let set = SharedPatterns::default();
        let first = set.regex("shared (pattern|test) \\d+").unwrap();
        let kept = set.0.lock().get("shared (pattern|test) \\d+").cloned();
        assert_eq!(
            kept.map(|r| r.as_str().to_string()),
            Some(first.as_str().to_string())
        );
        let again = set.regex("shared (pattern|test) \\d+").unwrap();
        assert!(again.is_match("SHARED TEST 42"), "case-insensitive");
        assert!(!again.is_match("shared test"));
        assert_eq!(set.0.lock().len(), 1);
    }

    #[test]
    fn the_live_set_is_shared_and_goes_with_its_last_holder() {
        let a = SharedPatterns::live();
        let b = SharedPatterns::live();
        assert!(Arc::ptr_eq(&a, &b));
        let weak = Arc::downgrade(&a);
        drop((a, b));
        // Other tests' classifiers may hold it for a while; once they are gone, so is the set.
        if weak.upgrade().is_none() {
            assert!(LIVE_PATTERNS.lock().upgrade().is_none());
        }
    }

    #[test]
    fn a_bad_pattern_is_an_error_and_is_not_kept() {
        let set = SharedPatterns::default();
        assert!(set.regex("unclosed (group").is_err());
        assert!(set.0.lock().is_empty());
        let rule = Rule::new(
            "bad",
            Matcher::Message {
                pattern: "unclosed (group".into(),
            },
            ErrorClass::Unavailable,
        );
        assert!(matches!(
            Compiled::new(&rule, &set),
            Err(Error::InvalidRule { .. })
        ));
    }

    #[test]
    fn the_shared_set_is_bounded() {
        let set = SharedPatterns::default();
        for i in 0..MAX_SHARED_PATTERNS + 8 {
            set.regex(&format!("bounded pattern {i}")).unwrap();
        }
        assert_eq!(set.0.lock().len(), MAX_SHARED_PATTERNS);
        let past = format!("bounded pattern {}", MAX_SHARED_PATTERNS + 7);
        assert!(set.regex(&past).unwrap().is_match(&past.to_uppercase()));
    }
}
