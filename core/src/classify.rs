//! Classification: ordered, configurable rules map a `Failure`'s raw signals onto an
//! `ErrorClass`. For each kind of signal (HTTP, gRPC, error code, exception, message) the first
//! matching rule wins, so specific rules go before catch-alls; across kinds, a permanent class
//! (one that is not retryable) wins over a transient one, so "503: invalid API key" is not retried.

use crate::class::ErrorClass;
use crate::error::{Error, Result};
use crate::failure::Failure;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

/// What a rule looks at. Name lists compare case-insensitively; `exception` matches when the
/// type name contains any of the fragments (so `requests.exceptions.ReadTimeout` matches `Timeout`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Matcher {
    /// HTTP status in `from..=to`.
    HttpStatus { from: u16, to: u16 },
    /// Any of these gRPC status codes.
    GrpcCode { codes: Vec<u32> },
    /// Any of these errno / error-code names.
    ErrorCode { names: Vec<String> },
    /// The exception type name contains any of these fragments.
    Exception { contains: Vec<String> },
    /// The message matches this regular expression (case-insensitive).
    Message { pattern: String },
}

/// One classification rule: when `matcher` matches, the failure is of `class`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// A short name for explanations ("http 429", "errno ECONNRESET", ...).
    pub name: String,
    #[serde(flatten)]
    pub matcher: Matcher,
    pub class: ErrorClass,
}

impl Rule {
    pub fn new(name: impl Into<String>, matcher: Matcher, class: ErrorClass) -> Rule {
        Rule {
            name: name.into(),
            matcher,
            class,
        }
    }
}

/// The outcome of classification, with the rule that decided it (for the explanation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
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

/// A matcher prepared for fast matching (regexes compiled, names lower-cased).
#[derive(Debug, Clone)]
enum Compiled {
    Http(u16, u16),
    Grpc(Vec<u32>),
    Code(Vec<String>),
    Exception(Vec<String>),
    Message(Regex),
}

/// Compiled, ordered rules, grouped by the kind of signal they read so a failure only scans the
/// rules for the signals it carries.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: Vec<Rule>,
    /// Per kind (HTTP, gRPC, error code, exception, message): (compiled matcher, rule index).
    by_kind: [Vec<(Compiled, usize)>; 5],
}

impl Classifier {
    /// Compile `rules`; a bad regex or an empty range is a typed error naming the rule.
    pub fn new(rules: Vec<Rule>) -> Result<Classifier> {
        let mut by_kind: [Vec<(Compiled, usize)>; 5] = Default::default();
        for (index, rule) in rules.iter().enumerate() {
            let bad = |reason: &str| Error::InvalidRule {
                rule: rule.name.clone(),
                reason: reason.to_string(),
            };
            let c = match &rule.matcher {
                Matcher::HttpStatus { from, to } => {
                    if from > to || *to > 999 {
                        return Err(bad("http status range must satisfy from <= to <= 999"));
                    }
                    Compiled::Http(*from, *to)
                }
                Matcher::GrpcCode { codes } => Compiled::Grpc(codes.clone()),
                Matcher::ErrorCode { names } => {
                    Compiled::Code(names.iter().map(|n| n.to_ascii_lowercase()).collect())
                }
                Matcher::Exception { contains } => {
                    if contains.iter().any(String::is_empty) {
                        return Err(bad("exception fragments must not be empty"));
                    }
                    Compiled::Exception(contains.iter().map(|n| n.to_ascii_lowercase()).collect())
                }
                Matcher::Message { pattern } => Compiled::Message(
                    RegexBuilder::new(pattern)
                        .case_insensitive(true)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| bad(&e.to_string()))?,
                ),
            };
            let kind = match c {
                Compiled::Http(..) => 0,
                Compiled::Grpc(_) => 1,
                Compiled::Code(_) => 2,
                Compiled::Exception(_) => 3,
                Compiled::Message(_) => 4,
            };
            by_kind[kind].push((c, index));
        }
        Ok(Classifier { rules, by_kind })
    }

    /// The default rules for HTTP, gRPC, errno names, common exception types and messages.
    pub fn default_rules() -> Vec<Rule> {
        crate::rules::default_rules()
    }

    /// The rules this classifier was built from, in order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }

    /// Classify a failure. An explicit `failure.class` wins; then the first permanent match; then
    /// the first match; else `unknown`.
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
        let code = failure.error_code.as_deref().map(str::to_ascii_lowercase);
        let exception = failure.exception.as_deref().map(str::to_ascii_lowercase);
        // Within one kind of signal the first (most specific) matching rule wins; across kinds,
        // a permanent class wins over a transient one.
        let mut winners: [Option<usize>; 5] = [None; 5];
        let present = [
            failure.http_status.is_some(),
            failure.grpc_code.is_some(),
            code.is_some(),
            exception.is_some(),
            failure.message.is_some(),
        ];
        for (kind, rules) in self.by_kind.iter().enumerate() {
            if !present[kind] {
                continue;
            }
            let hit = rules.iter().find(|(c, _)| match c {
                Compiled::Http(lo, hi) => failure
                    .http_status
                    .is_some_and(|s| (*lo..=*hi).contains(&s)),
                Compiled::Grpc(codes) => failure.grpc_code.is_some_and(|g| codes.contains(&g)),
                Compiled::Code(names) => {
                    code.as_ref().is_some_and(|c| names.iter().any(|n| n == c))
                }
                Compiled::Exception(frags) => exception
                    .as_ref()
                    .is_some_and(|e| frags.iter().any(|f| e.contains(f.as_str()))),
                Compiled::Message(re) => failure.message.as_deref().is_some_and(|m| re.is_match(m)),
            });
            winners[kind] = hit.map(|(_, index)| *index);
        }
        // Across kinds, rule order decides between permanent (or between transient) classes.
        let permanent = winners
            .iter()
            .flatten()
            .filter(|&&i| !self.rules[i].class.is_retryable())
            .min();
        match permanent.or_else(|| winners.iter().flatten().min()) {
            Some(&i) => Matched {
                class: self.rules[i].class,
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

impl Default for Classifier {
    fn default() -> Self {
        // The built-in rules are tested to compile; an empty classifier is the safe fallback.
        Classifier::new(Classifier::default_rules()).unwrap_or(Classifier {
            rules: Vec::new(),
            by_kind: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorClass::*;

    fn class(f: Failure) -> ErrorClass {
        Classifier::new(Classifier::default_rules())
            .unwrap()
            .classify(&f)
            .class
    }

    #[test]
    fn http_statuses() {
        for (status, want) in [
            (503, Unavailable),
            (502, Unavailable),
            (504, Timeout),
            (500, ServerError),
            (429, RateLimited),
            (408, Timeout),
            (400, Validation),
            (422, Validation),
            (401, Auth),
            (403, Auth),
            (404, NotFound),
            (409, Conflict),
            (418, ClientError),
        ] {
            assert_eq!(class(Failure::http(status)), want, "{status}");
        }
    }

    #[test]
    fn grpc_errno_exceptions_messages() {
        assert_eq!(class(Failure::grpc(14)), Unavailable);
        assert_eq!(class(Failure::grpc(4)), Timeout);
        assert_eq!(class(Failure::grpc(8)), RateLimited);
        assert_eq!(class(Failure::grpc(3)), Validation);
        assert_eq!(class(Failure::error_code("ECONNRESET")), Connection);
        assert_eq!(class(Failure::error_code("econnrefused")), Connection);
        assert_eq!(class(Failure::error_code("ETIMEDOUT")), Timeout);
        assert_eq!(class(Failure::error_code("EAI_AGAIN")), Connection);
        assert_eq!(
            class(Failure::exception("requests.exceptions.ReadTimeout")),
            Timeout
        );
        assert_eq!(
            class(Failure::exception("ConnectionResetError")),
            Connection
        );
        assert_eq!(
            class(Failure::message("Please solve the CAPTCHA")),
            NeedsHuman
        );
        assert_eq!(
            class(Failure::message(
                "upstream connect error: connection refused"
            )),
            Connection
        );
        assert_eq!(class(Failure::message("something odd")), Unknown);
        assert_eq!(class(Failure::default()), Unknown);
    }

    #[test]
    fn permanent_wins_over_transient() {
        let f = Failure::http(503).with_message("invalid API key");
        assert_eq!(class(f), Auth);
        let f = Failure::error_code("ECONNRESET").with_message("validation failed: email");
        assert_eq!(class(f), Validation);
        assert_eq!(
            class(Failure::class(Timeout).with_message("invalid api key")),
            Timeout
        );
    }

    #[test]
    fn bad_rules_are_typed_errors() {
        let bad = Rule::new(
            "broken",
            Matcher::Message {
                pattern: "(".into(),
            },
            Unknown,
        );
        assert!(matches!(
            Classifier::new(vec![bad]),
            Err(Error::InvalidRule { .. })
        ));
        let bad = Rule::new("range", Matcher::HttpStatus { from: 500, to: 400 }, Unknown);
        assert!(Classifier::new(vec![bad]).is_err());
    }

    #[test]
    fn rules_round_trip_as_json() {
        let rules = Classifier::default_rules();
        let json = serde_json::to_string(&rules).unwrap();
        let back: Vec<Rule> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rules);
        let custom: Vec<Rule> = serde_json::from_str(
            r#"[{"name":"teapot","http_status":{"from":418,"to":418},"class":"unavailable"}]"#,
        )
        .unwrap();
        assert_eq!(
            Classifier::new(custom)
                .unwrap()
                .classify(&Failure::http(418))
                .class,
            Unavailable
        );
    }
}
