//! The real outage timeline of scenario 10: the OpenAI status-page incidents (see
//! `data/PROVENANCE.md`), parsed from CSV and merged per component into outage blocks, so the
//! simulator can ask "is this component down at t, how badly, and when does it come back?".

use crate::dist::LogNormal;
use crate::error::{Result, SimError};
use rand::Rng;

/// The incident file shipped with the crate.
pub const OPENAI_CSV: &str = include_str!("../data/incidents-openai.csv");

/// The components named in the data; an incident with no component listed affects all of them.
pub const COMPONENTS: [&str; 4] = ["API", "ChatGPT", "Playground", "Labs"];

/// One incident row.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Unix seconds.
    pub start: f64,
    /// Unix seconds; equal to `start` for incidents reported after the fact.
    pub end: f64,
    /// 0 none, 1 minor, 2 major, 3 critical, 4 maintenance.
    pub impact: u8,
    /// Indices into [`COMPONENTS`].
    pub components: Vec<usize>,
}

/// Parse the CSV (header line first). Rows with an unknown component name are errors, so a new
/// component in the data is noticed rather than silently dropped.
pub fn parse_csv(text: &str) -> Result<Vec<Incident>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |reason: String| SimError::Incident {
            line: line_no,
            reason,
        };
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() != 7 {
            return Err(err(format!("expected 7 columns, found {}", cols.len())));
        }
        let start = parse_utc(cols[2]).ok_or_else(|| err(format!("bad start {:?}", cols[2])))?;
        let end = parse_utc(cols[3]).ok_or_else(|| err(format!("bad end {:?}", cols[3])))?;
        if end < start {
            return Err(err("end before start".into()));
        }
        let impact: u8 = cols[5]
            .trim()
            .parse()
            .ok()
            .filter(|v| *v <= 4)
            .ok_or_else(|| err(format!("bad impact level {:?}", cols[5])))?;
        let mut components = Vec::new();
        for name in cols[6].split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let idx = COMPONENTS
                .iter()
                .position(|c| *c == name)
                .ok_or_else(|| err(format!("unknown component {name:?}")))?;
            components.push(idx);
        }
        if components.is_empty() {
            components = (0..COMPONENTS.len()).collect();
        }
        out.push(Incident {
            start,
            end,
            impact,
            components,
        });
    }
    Ok(out)
}

/// `YYYY-MM-DDTHH:MM:SSZ` to Unix seconds.
pub fn parse_utc(s: &str) -> Option<f64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}

/// A maximal stretch of time during which at least one incident affecting a component is open.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub start: f64,
    pub end: f64,
    /// The incidents inside, as (start, end, impact).
    pub parts: Vec<(f64, f64, u8)>,
}

/// Outage blocks per component, in simulated seconds (Unix seconds minus `epoch`).
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Unix seconds of simulated time 0.
    pub epoch: f64,
    pub blocks: Vec<Vec<Block>>,
}

impl Timeline {
    /// Build the timeline. Incidents reported with start = end get a length drawn from
    /// `unknown_length` (they were real but short, of unknown length).
    pub fn build<R: Rng + ?Sized>(
        incidents: &[Incident],
        unknown_length: &LogNormal,
        rng: &mut R,
    ) -> Timeline {
        let epoch = incidents
            .iter()
            .map(|i| i.start)
            .fold(f64::INFINITY, f64::min)
            .min(f64::MAX)
            - 86_400.0;
        let epoch = if epoch.is_finite() { epoch } else { 0.0 };
        let mut per: Vec<Vec<(f64, f64, u8)>> = vec![Vec::new(); COMPONENTS.len()];
        for inc in incidents {
            let start = inc.start - epoch;
            let mut end = inc.end - epoch;
            if end <= start {
                end = start + unknown_length.sample(rng).max(1.0);
            }
            for &c in &inc.components {
                per[c].push((start, end, inc.impact));
            }
        }
        let blocks = per
            .into_iter()
            .map(|mut v| {
                v.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut out: Vec<Block> = Vec::new();
                for (s, e, imp) in v {
                    match out.last_mut() {
                        Some(b) if s <= b.end => {
                            b.end = b.end.max(e);
                            b.parts.push((s, e, imp));
                        }
                        _ => out.push(Block {
                            start: s,
                            end: e,
                            parts: vec![(s, e, imp)],
                        }),
                    }
                }
                out
            })
            .collect();
        Timeline { epoch, blocks }
    }

    /// The block of `component` open at `t`, if any.
    pub fn block_at(&self, component: usize, t: f64) -> Option<&Block> {
        let blocks = self.blocks.get(component)?;
        let i = blocks.partition_point(|b| b.start <= t);
        let b = blocks.get(i.checked_sub(1)?)?;
        (t < b.end).then_some(b)
    }

    /// The highest impact among the incidents of `component` open at `t` (None when it is up).
    pub fn impact_at(&self, component: usize, t: f64) -> Option<u8> {
        let b = self.block_at(component, t)?;
        b.parts
            .iter()
            .filter(|(s, e, _)| *s <= t && t < *e)
            .map(|p| p.2)
            .max()
            .or(Some(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn parses_the_shipped_file() {
        let inc = parse_csv(OPENAI_CSV).unwrap();
        assert_eq!(inc.len(), 365);
        assert!(inc.iter().any(|i| i.start == i.end));
        assert_eq!(parse_utc("1970-01-02T00:00:00Z"), Some(86_400.0));
        assert_eq!(parse_utc("2021-02-09T18:00:00Z"), Some(1_612_893_600.0));
        assert!(parse_csv("h\n1,2,3").is_err());
    }

    #[test]
    fn blocks_merge_overlaps() {
        let inc = vec![
            Incident {
                start: 100_000.0,
                end: 100_600.0,
                impact: 1,
                components: vec![0],
            },
            Incident {
                start: 100_300.0,
                end: 101_000.0,
                impact: 3,
                components: vec![0],
            },
        ];
        let ln = LogNormal {
            median: 600.0,
            sigma: 0.5,
        };
        let tl = Timeline::build(&inc, &ln, &mut SmallRng::seed_from_u64(1));
        let t = |u: f64| u - tl.epoch;
        assert_eq!(tl.blocks[0].len(), 1);
        assert_eq!(
            tl.block_at(0, t(100_700.0)).map(|b| b.end),
            Some(t(101_000.0))
        );
        assert_eq!(tl.impact_at(0, t(100_400.0)), Some(3));
        assert_eq!(tl.impact_at(0, t(101_000.0)), None);
        assert_eq!(tl.impact_at(1, t(100_400.0)), None);
    }
}
