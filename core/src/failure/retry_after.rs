//! Retry-After, parsed and bounded in one place so every binding honours it the same way.

use crate::error::{Error, Result};
use std::time::{Duration, UNIX_EPOCH};

/// The longest wait a Retry-After can ask for: one day. Longer values (a header of `2592000`, an
/// HTTP-date thousands of years ahead) are **clamped** to this, not rejected: the server's
/// meaning ("wait a long time") is kept, and the deadline and max-delay guardrails then give up
/// instead of hammering, while no caller ever sees a wait that overflows a timer or a date type.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// A Retry-After given in seconds by a caller: NaN, infinite or negative is
/// `Error::InvalidDuration`; above [`MAX_RETRY_AFTER`] it is clamped.
pub fn retry_after_secs(secs: f64) -> Result<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(Error::InvalidDuration {
            what: "Retry-After",
            value: secs,
            max: MAX_RETRY_AFTER.as_secs_f64(),
        });
    }
    Ok(clamp_retry_after_secs(secs))
}

fn clamp_retry_after_secs(secs: f64) -> Duration {
    if secs >= MAX_RETRY_AFTER.as_secs_f64() {
        MAX_RETRY_AFTER
    } else {
        Duration::from_secs_f64(secs)
    }
}

/// Parse an HTTP Retry-After value: delta-seconds ("120", leniently "1.5") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now` (time since the Unix epoch, from the
/// engine's clock). A date in the past means "now"; anything beyond [`MAX_RETRY_AFTER`] is
/// clamped to it. Anything else (empty, negative, words) is `Error::InvalidRetryAfter`.
pub fn parse_retry_after(value: &str, now: Duration) -> Result<Duration> {
    let invalid = || Error::InvalidRetryAfter(crate::names::shorten(value).to_string());
    let v = value.trim();
    if v.is_empty() || v.len() > 64 {
        return Err(invalid());
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = v.parse().map_err(|_| invalid())?;
        return if secs.is_finite() {
            Ok(clamp_retry_after_secs(secs))
        } else {
            Err(invalid())
        };
    }
    let at = httpdate::parse_http_date(v).map_err(|_| invalid())?;
    let at = at.duration_since(UNIX_EPOCH).map_err(|_| invalid())?;
    Ok(at.saturating_sub(now).min(MAX_RETRY_AFTER))
}

/// Serde adapter for `Failure::retry_after`: optional seconds; negative values are rejected and
/// values above [`MAX_RETRY_AFTER`] clamped, as for [`retry_after_secs`].
pub(crate) mod serde_retry_after {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    /// Written as any optional number of seconds.
    pub use crate::time::serde_opt_secs::serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<f64>::deserialize(d)? {
            Some(v) => super::retry_after_secs(v)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT

    #[test]
    fn delta_and_date() {
        let p = |v| parse_retry_after(v, NOW).unwrap();
        assert_eq!(p("120"), Duration::from_secs(120));
        assert_eq!(p(" 1.5 "), Duration::from_millis(1500));
        assert_eq!(p("Wed, 21 Oct 2015 07:29:00 GMT"), Duration::from_secs(60));
        // a date in the past: retry now
        assert_eq!(p("Wed, 21 Oct 2015 07:00:00 GMT"), Duration::ZERO);
        for bad in ["", "soon", "-5", "1e400", "Wed, 99 Foo 2015", "1.2.3", "."] {
            assert!(
                matches!(
                    parse_retry_after(bad, NOW),
                    Err(Error::InvalidRetryAfter(_))
                ),
                "{bad}"
            );
        }
    }

    /// Regression (issue 10): 30 days made Node's timer wrap to 1 ms; a date 8,000 years ahead
    /// overflowed Python's sleep. Both are clamped to one day.
    #[test]
    fn long_waits_are_clamped_to_one_day() {
        let p = |v| parse_retry_after(v, NOW).unwrap();
        assert_eq!(p("2592000"), MAX_RETRY_AFTER);
        assert_eq!(p("86400"), MAX_RETRY_AFTER);
        assert_eq!(p("86399"), Duration::from_secs(86_399));
        assert_eq!(p("99999999999999999999999999999999"), MAX_RETRY_AFTER);
        assert_eq!(p("Fri, 31 Dec 9999 23:59:59 GMT"), MAX_RETRY_AFTER);
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", Duration::ZERO).unwrap(),
            MAX_RETRY_AFTER
        );
        // a huge input is rejected without being echoed back whole
        let long = "9".repeat(1 << 20);
        let err = parse_retry_after(&long, NOW).unwrap_err();
        assert!(err.to_string().len() < 200);
    }

    #[test]
    fn seconds_from_callers() {
        assert_eq!(retry_after_secs(2.5).unwrap(), Duration::from_millis(2500));
        assert_eq!(retry_after_secs(1e300).unwrap(), MAX_RETRY_AFTER);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -0.001] {
            assert_eq!(
                retry_after_secs(bad).unwrap_err().code(),
                "INVALID_DURATION"
            );
        }
    }
}
