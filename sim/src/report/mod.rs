//! Everything a person reads: the terminal table, the plain summary, the Markdown and HTML
//! reports, the SVG plots, and the decision-quality figures computed from the results.

pub mod figures;
pub mod html;
pub mod markdown;
pub mod output;
pub mod overview;
pub mod plots;
pub mod replay_md;
pub mod summary;
pub mod table;

/// A number of seconds (or any quantity) in a short human form; "-" for NaN.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x.abs() >= 100_000.0 {
        format!("{:.0}k", x / 1000.0)
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A share as a percentage; "-" for NaN.
pub fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}
