//! The one place where names given by callers are checked: keys, tenants, dependencies, and the
//! name-like signals of a failure (error codes, exception type names). Every binding reaches
//! these rules through the core, so a name accepted in one language is accepted in all.

use crate::error::{Error, Result};

/// Longest key, tenant, dependency, error-code or exception name accepted, in bytes. Longer
/// values are mistakes (a whole message in the wrong field) or attacks on memory.
pub const MAX_NAME_LEN: usize = 512;

/// Why a name is not acceptable, or None when it is: empty, longer than [`MAX_NAME_LEN`] bytes,
/// or holding a control character (which would corrupt logs and metrics labels).
pub fn name_problem(s: &str) -> Option<String> {
    // The common case first, in one vectorisable pass: short printable ASCII.
    if !s.is_empty() && s.len() <= MAX_NAME_LEN && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    if s.is_empty() {
        return Some("must not be empty".to_string());
    }
    if s.len() > MAX_NAME_LEN {
        return Some(format!(
            "is {} bytes long; the limit is {MAX_NAME_LEN}",
            s.len()
        ));
    }
    if s.chars().any(char::is_control) {
        return Some(format!("{:?} contains control characters", shorten(s)));
    }
    None
}

/// Check a key, tenant or dependency name (`what` names it in the error): `Error::InvalidKey`.
pub fn check_name(what: &str, s: &str) -> Result<()> {
    match name_problem(s) {
        Some(problem) => Err(Error::InvalidKey(format!("{what} {problem}"))),
        None => Ok(()),
    }
}

/// The first 64 characters of `s`, for error messages that must stay short.
pub(crate) fn shorten(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn truncate_to(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_printable() {
        assert!(check_name("key", "payments").is_ok());
        assert!(check_name("key", "ünïcödé/queue:1").is_ok());
        assert!(check_name("key", &"k".repeat(MAX_NAME_LEN)).is_ok());
        for bad in [
            String::new(),
            "k".repeat(MAX_NAME_LEN + 1),
            "a\nb".to_string(),
            "nul\0".to_string(),
            "\u{7f}".to_string(),
            "x".repeat(1 << 20),
        ] {
            let err = check_name("dependency", &bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_KEY");
            assert!(err.to_string().len() < 200, "error stays short");
        }
    }

    #[test]
    fn truncation_keeps_utf8_valid() {
        let mut s = "é".repeat(10); // 2 bytes each
        truncate_to(&mut s, 5);
        assert_eq!(s, "éé");
        let mut short = "abc".to_string();
        truncate_to(&mut short, 5);
        assert_eq!(short, "abc");
    }
}
