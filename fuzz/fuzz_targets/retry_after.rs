//! The Retry-After parser takes header text straight from the network: any string, at any
//! clock reading, must give a value or a typed error, never a panic.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use smartretry::parse_retry_after;
use std::time::Duration;

#[derive(Arbitrary, Debug)]
enum Header {
    /// Raw text as it came off the wire.
    Raw(String),
    /// Delta-seconds, including huge, fractional and padded forms.
    Delta {
        whole: u64,
        frac: Option<u32>,
        pad: u8,
    },
    /// An IMF-fixdate built from parts, each possibly out of range.
    Date {
        day: u8,
        month: u8,
        year: u32,
        h: u8,
        m: u8,
        s: u8,
        weekday: u8,
    },
}

const DAYS: [&str; 8] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Xyz"];
const MONTHS: [&str; 13] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo",
];

fuzz_target!(|input: (Header, u64)| {
    let (header, now) = input;
    let text = match header {
        Header::Raw(s) => s,
        Header::Delta { whole, frac, pad } => {
            let spaces = " ".repeat(usize::from(pad % 4));
            match frac {
                Some(f) => format!("{spaces}{whole}.{f}{spaces}"),
                None => format!("{spaces}{whole}{spaces}"),
            }
        }
        Header::Date {
            day,
            month,
            year,
            h,
            m,
            s,
            weekday,
        } => format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            DAYS[usize::from(weekday) % DAYS.len()],
            day,
            MONTHS[usize::from(month) % MONTHS.len()],
            year,
            h,
            m,
            s
        ),
    };
    // Any clock reading up to the year ~2500 (the engine's clocks are UNIX-epoch durations).
    let now = Duration::from_secs(now % 17_000_000_000);
    let _ = parse_retry_after(&text, now);
});
