//! Validated conversions between user-supplied seconds and `Duration`, and the serde helper
//! that makes every duration in a policy file a plain number of seconds.

use crate::error::{Error, Result};
use std::time::Duration;

/// The largest duration the engine accepts anywhere: ten years. Anything above is a unit mistake.
pub const MAX_SECONDS: f64 = 10.0 * 365.0 * 24.0 * 3600.0;

/// Seconds (as given by a caller, a file or another language) to a `Duration`, rejecting NaN,
/// infinities, negatives and absurd values with a typed error naming `what` was wrong.
pub fn secs(what: &'static str, value: f64) -> Result<Duration> {
    if value.is_finite() && (0.0..=MAX_SECONDS).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::InvalidDuration {
            what,
            value,
            max: MAX_SECONDS,
        })
    }
}

/// Serde adapter: a `Duration` is written and read as a number of seconds (f64), validated.
pub mod serde_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Write the duration as seconds.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    /// Read seconds; negative, NaN, infinite or absurdly large values are errors.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        super::secs("duration", v).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for `Option<Duration>` as optional seconds.
pub mod serde_opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Write seconds, or null for `None`.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    /// Read seconds or null; bad numbers are errors.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<f64>::deserialize(d)? {
            Some(v) => super::secs("duration", v)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// Serde adapter for `Vec<Duration>` as a list of seconds.
pub mod serde_vec_secs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::time::Duration;

    /// Write a list of seconds.
    pub fn serialize<S: Serializer>(d: &[Duration], s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<f64> = d.iter().map(Duration::as_secs_f64).collect();
        v.serialize(s)
    }

    /// Read a list of seconds; any bad number is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
        Vec::<f64>::deserialize(d)?
            .into_iter()
            .map(|v| super::secs("schedule delay", v).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// A duration as policy JSON writes it: a non-negative number of seconds (its JSON Schema).
#[cfg(feature = "schema")]
pub struct Seconds;

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Seconds {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Seconds".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "number", "minimum": 0.0, "format": "seconds" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_seconds() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, MAX_SECONDS * 2.0] {
            assert!(matches!(
                secs("delay", bad),
                Err(Error::InvalidDuration { .. })
            ));
        }
        assert_eq!(secs("delay", 1.5).unwrap(), Duration::from_millis(1500));
    }
}
