//! The built-in classification rules, as data. Within one kind of signal the first matching
//! rule wins (see `classify`), so each kind lists specific rules before generic ones: exact
//! client-library exception names before name fragments, and transient fragments before
//! generic permanent names such as `TypeError` or `ValueError`.

mod clients;

use crate::class::ErrorClass::{self, *};
use crate::classify::{Matcher, Rule};

fn http(name: &str, from: u16, to: u16, class: ErrorClass) -> Rule {
    Rule::new(name, Matcher::HttpStatus { from, to }, class)
}

fn grpc(name: &str, codes: &[u32], class: ErrorClass) -> Rule {
    Rule::new(
        name,
        Matcher::GrpcCode {
            codes: codes.to_vec(),
        },
        class,
    )
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn errno(name: &str, list: &[&str], class: ErrorClass) -> Rule {
    Rule::new(name, Matcher::ErrorCode { names: names(list) }, class)
}

fn exception(name: &str, list: &[&str], class: ErrorClass) -> Rule {
    Rule::new(
        name,
        Matcher::Exception {
            contains: names(list),
        },
        class,
    )
}

fn exception_name(name: &str, list: &[&str], class: ErrorClass) -> Rule {
    Rule::new(name, Matcher::ExceptionName { names: names(list) }, class)
}

fn message(name: &str, pattern: &str, class: ErrorClass) -> Rule {
    Rule::new(
        name,
        Matcher::Message {
            pattern: pattern.into(),
        },
        class,
    )
}

pub(crate) fn default_rules() -> Vec<Rule> {
    vec![
        // HTTP
        http("http 408", 408, 408, Timeout),
        http("http 429", 429, 429, RateLimited),
        http("http 504", 504, 504, Timeout),
        http("http 502/503", 502, 503, Unavailable),
        http("http 5xx", 500, 599, ServerError),
        http("http 400", 400, 400, Validation),
        http("http 401/403", 401, 403, Auth),
        http("http 404/410", 404, 404, NotFound),
        http("http 410", 410, 410, NotFound),
        http("http 409", 409, 409, Conflict),
        http("http 422", 422, 422, Validation),
        http("http 499", 499, 499, Cancelled),
        http("http 4xx", 400, 499, ClientError),
        // gRPC status codes
        grpc("grpc DEADLINE_EXCEEDED", &[4], Timeout),
        grpc("grpc RESOURCE_EXHAUSTED", &[8], RateLimited),
        grpc("grpc UNAVAILABLE", &[14], Unavailable),
        grpc("grpc ABORTED/ALREADY_EXISTS", &[10, 6], Conflict),
        grpc("grpc INTERNAL/DATA_LOSS", &[13, 15], ServerError),
        grpc("grpc UNKNOWN", &[2], Unknown),
        grpc("grpc CANCELLED", &[1], Cancelled),
        grpc(
            "grpc INVALID_ARGUMENT/FAILED_PRECONDITION/OUT_OF_RANGE",
            &[3, 9, 11],
            Validation,
        ),
        grpc("grpc NOT_FOUND", &[5], NotFound),
        grpc("grpc PERMISSION_DENIED/UNAUTHENTICATED", &[7, 16], Auth),
        grpc("grpc UNIMPLEMENTED", &[12], ClientError),
        // errno / error-code names (POSIX, Node, undici)
        errno(
            "errno timeout",
            &[
                "ETIMEDOUT",
                "ESOCKETTIMEDOUT",
                "ETIME",
                "UND_ERR_CONNECT_TIMEOUT",
                "UND_ERR_HEADERS_TIMEOUT",
                "UND_ERR_BODY_TIMEOUT",
                "UND_ERR_SOCKET_TIMEOUT",
                "UND_ERR_REQUEST_TIMEOUT",
                "UND_ERR_TIMEOUT",
                "ERR_SOCKET_CONNECTION_TIMEOUT",
            ],
            Timeout,
        ),
        errno(
            "errno connection",
            &[
                "ECONNRESET",
                "ECONNREFUSED",
                "ECONNABORTED",
                "EPIPE",
                "ENETUNREACH",
                "EHOSTUNREACH",
                "ENETDOWN",
                "EHOSTDOWN",
                "ENOTCONN",
                "EAI_AGAIN",
                "ENOTFOUND",
                "UND_ERR_SOCKET",
                "EPROTO",
                // axios: no response at all (DNS, refused, reset, CORS in browsers)
                "ERR_NETWORK",
                // got ReadError: the stream closed before the body ended
                "ERR_STREAM_PREMATURE_CLOSE",
            ],
            Connection,
        ),
        errno(
            "errno rate limit",
            &["EBUSY", "EAGAIN", "EMFILE"],
            Unavailable,
        ),
        errno(
            "errno cancelled",
            // axios and got cancellation; undici's RequestAbortedError
            &["ECANCELED", "ABORT_ERR", "ERR_CANCELED", "UND_ERR_ABORTED"],
            Cancelled,
        ),
        errno("errno permission", &["EACCES", "EPERM"], Auth),
        // exception / error type names: client libraries by exact name first, then fragments
        // (Python, JS, Java, .NET), generic permanent names last
        clients::timeout(),
        clients::connection(),
        clients::cancelled(),
        clients::client_error(),
        exception("exception timeout", &["timeout", "timedout"], Timeout),
        exception(
            "exception connection",
            &[
                "connectionerror",
                "connectionreset",
                "connectionrefused",
                "connectionaborted",
                "remotedisconnected",
                "brokenpipe",
                "socketexception",
                "connectexception",
            ],
            Connection,
        ),
        exception(
            "exception rate limit",
            &["ratelimit", "toomanyrequests", "throttl"],
            RateLimited,
        ),
        exception(
            "exception unavailable",
            &["serviceunavailable", "unavailable"],
            Unavailable,
        ),
        exception(
            "exception cancelled",
            &["cancellederror", "aborterror", "cancellationexception"],
            Cancelled,
        ),
        exception(
            "exception auth",
            &[
                "permissionerror",
                "unauthorized",
                "forbidden",
                "authenticationerror",
                "authorizationerror",
            ],
            Auth,
        ),
        exception(
            "exception not found",
            &["notfound", "filenotfounderror", "keyerror"],
            NotFound,
        ),
        exception(
            "exception validation",
            &[
                "validationerror",
                "valueerror",
                "typeerror",
                "illegalargument",
                "invalidargument",
                "unicodedecodeerror",
                "jsondecodeerror",
            ],
            Validation,
        ),
        // messages: explicit permanent wordings first ("unavailable: invalid API key" is auth)
        message(
            "message needs a person",
            r"captcha|verify (that )?you are (a )?human|consent required|manual review|two-factor|2fa required",
            NeedsHuman,
        ),
        message(
            "message auth",
            r"unauthori[sz]ed|forbidden|permission denied|invalid (api )?key|access denied|invalid token|token expired",
            Auth,
        ),
        message(
            "message validation",
            r"validation (error|failed)|invalid (argument|parameter|request|input|payload)|malformed|unprocessable",
            Validation,
        ),
        message(
            "message rate limit",
            r"rate.?limit|too many requests|throttl|quota exceeded",
            RateLimited,
        ),
        message("message timeout", r"timed?.?out|deadline exceeded", Timeout),
        message(
            "message connection",
            r"connection (reset|refused|aborted|closed)|broken pipe|socket hang up|network (is )?unreachable|temporary failure in name resolution",
            Connection,
        ),
        message(
            "message unavailable",
            r"service unavailable|temporarily unavailable|overloaded|try again later|bad gateway|maintenance",
            Unavailable,
        ),
        message(
            "message not found",
            r"\bnot found\b|no such (file|key|object|resource)",
            NotFound,
        ),
    ]
}
