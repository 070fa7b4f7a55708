//! Classifier tests: precedence, cause chains, and the built-in rules on real client errors.

use super::*;
use crate::error::Error;
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
fn the_most_specific_signal_wins() {
    // a status or a code outranks a message, whatever the message says
    let f = Failure::http(503).with_message("invalid API key");
    assert_eq!(class(f), Unavailable);
    let f = Failure::error_code("ECONNRESET").with_message("validation failed: email");
    assert_eq!(class(f), Connection);
    // a code outranks an exception name, which outranks a message
    let f = Failure::exception("TypeError").with_message("fetch failed");
    assert_eq!(class(f), Validation);
    let f = Failure::exception("KeyError").with_message("connection reset by peer");
    assert_eq!(class(f), NotFound);
    // among messages, an explicit permanent wording beats a transient one
    assert_eq!(
        class(Failure::message("service unavailable: invalid API key")),
        Auth
    );
    assert_eq!(
        class(Failure::class(Timeout).with_message("invalid api key")),
        Timeout
    );
    // an unmatched code falls through to the next kind
    let f = Failure::error_code("ERR_BAD_RESPONSE").with_cause(Failure::exception("ReadTimeout"));
    assert_eq!(class(f), Timeout);
}

/// Regression (issue 10): Node `retry(() => fetch(url))` gave up at once on ECONNREFUSED,
/// because undici's `TypeError: fetch failed` was `validation`.
#[test]
fn undici_fetch_failed_reads_its_cause() {
    let fetch_failed = |cause: Failure| {
        Failure::exception("TypeError")
            .with_message("fetch failed")
            .with_cause(cause)
    };
    let rule = |f: &Failure| Classifier::default().classify(f).rule;
    let f = fetch_failed(Failure::error_code("ECONNREFUSED").with_message("connect ECONNREFUSED"));
    assert_eq!(class(f.clone()), Connection);
    assert_eq!(rule(&f), "errno connection");
    for (code, want) in [
        ("ECONNRESET", Connection),
        ("UND_ERR_SOCKET", Connection),
        ("UND_ERR_CONNECT_TIMEOUT", Timeout),
        ("UND_ERR_HEADERS_TIMEOUT", Timeout),
        ("UND_ERR_BODY_TIMEOUT", Timeout),
    ] {
        assert_eq!(
            class(fetch_failed(Failure::error_code(code))),
            want,
            "{code}"
        );
    }
    // a cause of a cause is read too (AggregateError of two refused addresses)
    let nested = Failure::exception("AggregateError")
        .with_cause(Failure::error_code("ECONNREFUSED"))
        .with_cause(Failure::error_code("ECONNREFUSED"));
    assert_eq!(class(fetch_failed(nested)), Connection);
    // without a cause, a bare TypeError is still a programming error
    assert_eq!(class(Failure::exception("TypeError")), Validation);
}

#[test]
fn a_specific_cause_beats_a_generic_name_on_top() {
    // Python: `raise ValueError(...) from httpx.ConnectError(...)`
    let f = Failure::exception("ValueError").with_cause(Failure::exception("httpx.ConnectError"));
    assert_eq!(class(f), Connection);
    // urllib3 MaxRetryError whose reason is a read timeout
    let f = Failure::exception("urllib3.exceptions.MaxRetryError")
        .with_cause(Failure::exception("urllib3.exceptions.ReadTimeoutError"));
    assert_eq!(class(f), Timeout);
    // a status deep in the chain outranks every name
    let f = Failure::exception("RuntimeError")
        .with_cause(Failure::exception("HTTPStatusError").with_cause(Failure::http(429)));
    assert_eq!(class(f), RateLimited);
}

#[test]
fn python_clients() {
    for (name, want) in [
        ("requests.exceptions.ConnectionError", Connection),
        ("requests.exceptions.ConnectTimeout", Timeout),
        ("requests.exceptions.ReadTimeout", Timeout),
        ("requests.exceptions.Timeout", Timeout),
        ("requests.exceptions.ChunkedEncodingError", Connection),
        ("httpx.ConnectError", Connection),
        ("httpx.ConnectTimeout", Timeout),
        ("httpx.ReadTimeout", Timeout),
        ("httpx.WriteTimeout", Timeout),
        ("httpx.PoolTimeout", Timeout),
        ("httpx.RemoteProtocolError", Connection),
        ("aiohttp.client_exceptions.ClientConnectorError", Connection),
        ("aiohttp.ServerDisconnectedError", Connection),
        ("aiohttp.ServerTimeoutError", Timeout),
        ("urllib3.exceptions.NewConnectionError", Connection),
        ("urllib3.exceptions.MaxRetryError", Connection),
        ("urllib3.exceptions.ProtocolError", Connection),
        ("urllib3.exceptions.ReadTimeoutError", Timeout),
        ("urllib3.exceptions.ConnectTimeoutError", Timeout),
        ("ConnectionRefusedError", Connection),
        ("asyncio.CancelledError", Cancelled),
        ("requests.exceptions.MissingSchema", ClientError),
    ] {
        assert_eq!(class(Failure::exception(name)), want, "{name}");
    }
    // status-carrying errors are classified by their status
    for name in [
        "requests.exceptions.HTTPError",
        "httpx.HTTPStatusError",
        "aiohttp.ClientResponseError",
    ] {
        assert_eq!(
            class(Failure::exception(name).with_cause(Failure::http(503))),
            Unavailable
        );
        let mut f = Failure::http(404);
        f.exception = Some(name.into());
        assert_eq!(class(f), NotFound, "{name}");
    }
}

#[test]
fn node_clients() {
    let axios = |code: &str| {
        let mut f = Failure::exception("AxiosError");
        f.error_code = Some(code.into());
        f
    };
    assert_eq!(class(axios("ECONNABORTED")), Connection);
    assert_eq!(class(axios("ERR_NETWORK")), Connection);
    assert_eq!(class(axios("ETIMEDOUT")), Timeout);
    assert_eq!(class(axios("ERR_CANCELED")), Cancelled);
    let mut f = axios("ERR_BAD_RESPONSE");
    f.http_status = Some(502);
    assert_eq!(class(f), Unavailable);
    let got = |name: &str, code: &str| {
        let mut f = Failure::exception(name);
        f.error_code = Some(code.into());
        f
    };
    assert_eq!(class(got("RequestError", "ECONNREFUSED")), Connection);
    assert_eq!(class(got("TimeoutError", "ETIMEDOUT")), Timeout);
    let mut f = got("HTTPError", "ERR_NON_2XX_3XX_RESPONSE");
    f.http_status = Some(429);
    assert_eq!(class(f), RateLimited);
    assert_eq!(class(Failure::exception("AbortError")), Cancelled);
    assert_eq!(class(Failure::exception("TimeoutError")), Timeout);
    assert_eq!(class(Failure::exception("HeadersTimeoutError")), Timeout);
    assert_eq!(class(Failure::exception("SocketError")), Connection);
}

#[test]
fn names_match_whole_or_by_last_component_only() {
    let rules = vec![Rule::new(
        "exact",
        Matcher::ExceptionName {
            names: vec!["ConnectError".into(), "pkg.Special".into()],
        },
        Connection,
    )];
    let c = Classifier::new(rules).unwrap();
    let of = |n: &str| c.classify(&Failure::exception(n)).class;
    assert_eq!(of("httpx.ConnectError"), Connection);
    assert_eq!(of("connecterror"), Connection);
    assert_eq!(of("crate::net::ConnectError"), Connection);
    assert_eq!(of("pkg.Special"), Connection);
    assert_eq!(of("Special"), Unknown);
    assert_eq!(of("httpx.ConnectErrorX"), Unknown);
    assert_eq!(of("ConnectError."), Unknown);
}

#[test]
fn classification_never_panics_on_odd_input() {
    let c = Classifier::default();
    for f in [
        Failure::http(0),
        Failure::http(u16::MAX),
        Failure::grpc(u32::MAX),
        Failure::exception(""),
        Failure::exception("..."),
        Failure::exception("::"),
        Failure::error_code("\u{0}"),
        Failure::message("x".repeat(1 << 20)),
    ] {
        let _ = c.classify(&f);
    }
    // a chain far deeper than the bound is read only to the bound
    let mut deep = Failure::error_code("ECONNRESET");
    for _ in 0..1000 {
        deep = Failure::exception("Wrapper").with_cause(deep);
    }
    assert_eq!(c.classify(&deep).class, Unknown);
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

/// The classifier pairs `by_kind[k]` with `Kind::ALL[k]` to skip kinds a failure has no signal
/// for: the two orders must agree.
#[test]
fn kinds_are_listed_in_index_order() {
    for (i, kind) in super::matcher::Kind::ALL.iter().enumerate() {
        assert_eq!(*kind as usize, i);
    }
}

/// An error code matches its rule whatever its case, and a failure with only a message still
/// reaches the message rules past the kinds it has no signal for.
#[test]
fn codes_ignore_case_and_absent_kinds_are_skipped() {
    let c = Classifier::default();
    let lower = c.classify(&Failure::error_code("econnreset"));
    let upper = c.classify(&Failure::error_code("ECONNRESET"));
    assert_eq!(lower, upper);
    assert_eq!(upper.class, ErrorClass::Connection);
    let by_message = c.classify(&Failure::message("connection reset by peer"));
    assert_ne!(by_message.rule, "default", "{by_message:?}");
}

/// The classifier as a plain scan: for each kind in order, the first rule (in rule order) that
/// any signal of the chain matches. The lookup tables must find the same rule.
fn matched_by_scan(c: &Classifier, f: &Failure) -> Option<usize> {
    let chain: Vec<Signals<'_>> = f.chain().map(Signals::of).collect();
    c.by_kind.iter().zip(Kind::ALL).find_map(|(rules, kind)| {
        rules
            .iter()
            .find(|(m, _)| {
                chain
                    .iter()
                    .any(|s| s.first_of(kind, &[(m.clone(), 0)]).is_some())
            })
            .map(|(_, index)| *index)
    })
}

proptest::proptest! {
    #[test]
    fn the_lookup_tables_find_the_rule_a_scan_finds(
        signals in proptest::collection::vec(
            (
                proptest::option::of(0u16..1100),
                proptest::option::of(0u32..40),
                proptest::option::of(proptest::sample::select(vec![
                    "ECONNRESET", "econnreset", "ETIMEDOUT", "EAI_AGAIN", "EPIPE", "E_NOT_A_CODE",
                    "a-code-much-longer-than-sixty-four-bytes-which-the-table-does-not-hold-at-all",
                ])),
                proptest::option::of(proptest::sample::select(vec![
                    "requests.exceptions.ReadTimeout", "ConnectionResetError", "TypeError",
                ])),
                proptest::option::of(proptest::sample::select(vec![
                    "connection refused", "Please solve the CAPTCHA", "quota exceeded", "ok",
                ])),
            ),
            1..4,
        ),
        custom_rules in proptest::bool::ANY,
    ) {
        let mut rules = Classifier::default_rules();
        if custom_rules {
            // Overlapping rules ahead of the built-in ones, and a code with a long name.
            rules.insert(0, Rule::new("5xx first", Matcher::HttpStatus { from: 500, to: 599 }, Unknown));
            rules.insert(0, Rule::new("grpc 30", Matcher::GrpcCode { codes: vec![30, 14] }, Timeout));
            rules.insert(0, Rule::new("long code", Matcher::ErrorCode {
                names: vec!["A-CODE-MUCH-LONGER-THAN-SIXTY-FOUR-BYTES-WHICH-THE-TABLE-DOES-NOT-HOLD-AT-ALL".into(), "EPIPE".into()],
            }, Connection));
        }
        let c = Classifier::new(rules).unwrap();
        let mut failure: Option<Failure> = None;
        for (http, grpc, code, exception, message) in signals.into_iter().rev() {
            let mut f = Failure {
                http_status: http,
                grpc_code: grpc,
                error_code: code.map(str::to_string),
                exception: exception.map(str::to_string),
                message: message.map(str::to_string),
                ..Failure::default()
            };
            if let Some(cause) = failure.take() {
                f = f.with_cause(cause);
            }
            failure = Some(f);
        }
        let failure = failure.unwrap();
        proptest::prop_assert_eq!(c.matched(&failure).rule, matched_by_scan(&c, &failure));
    }
}
