//! SVG plots (plotters, SVG backend only): per scenario, the cost per job J per policy, the
//! distribution of time to success per policy, failed attempts per job per policy, and the
//! engine's learned recovery curve against the true one.

use crate::error::{Result, SimError};
use crate::suite::ScenarioResult;
use plotters::prelude::*;
use std::path::Path;

const COLORS: [RGBColor; 9] = [
    RGBColor(120, 120, 120),
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(255, 127, 14),
    RGBColor(0, 0, 0),
    RGBColor(23, 190, 207),
];

/// The name under bar `i` of a bar chart whose bars span `[i, i + 1)`: axis ticks fall at every
/// half unit, and only the centre ones get a name.
pub(super) fn bar_label(names: &[impl ToString], x: f64) -> String {
    let i = x.floor() as usize;
    if (x - x.floor() - 0.5).abs() < 1e-6 {
        names.get(i).map_or(String::new(), ToString::to_string)
    } else {
        String::new()
    }
}

pub(super) fn perr(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Plot {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Write the plots of one scenario into `dir`; returns the file names.
pub fn write(r: &ScenarioResult, dir: &Path) -> Result<Vec<String>> {
    let n = r.scenario.number;
    let mut files = Vec::new();
    let f = format!("{n:02}-cost.svg");
    cost(r, &dir.join(&f))?;
    files.push(f);
    let f = format!("{n:02}-time-to-success.svg");
    tts_cdf(r, &dir.join(&f))?;
    files.push(f);
    let f = format!("{n:02}-failed-attempts.svg");
    wasted(r, &dir.join(&f))?;
    files.push(f);
    if !r.recovery_sample.is_empty() {
        let f = format!("{n:02}-recovery-curve.svg");
        curve(r, &dir.join(&f))?;
        files.push(f);
    }
    Ok(files)
}

/// Empirical CDF points of a sorted sample, thinned to at most ~400 points.
fn ecdf(sorted: &[f64], floor: f64) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let step = (n / 400).max(1);
    let mut pts: Vec<(f64, f64)> = (0..n)
        .step_by(step)
        .map(|i| (sorted[i].max(floor), (i + 1) as f64 / n as f64))
        .collect();
    if let Some(last) = sorted.last() {
        pts.push((last.max(floor), 1.0));
    }
    pts
}

/// The decade just below the smallest positive value (at least 0.01 s), so log axes start
/// where the data does.
fn log_floor(xs: impl Iterator<Item = f64>) -> f64 {
    let min = xs.filter(|x| *x > 0.0).fold(f64::INFINITY, f64::min);
    if min.is_finite() {
        10f64.powf(min.log10().floor()).max(0.01)
    } else {
        0.01
    }
}

fn tts_cdf(r: &ScenarioResult, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| perr(path, e))?;
    let floor = log_floor(r.policies.iter().flat_map(|p| p.tts.iter().copied()));
    let xmax = r
        .policies
        .iter()
        .flat_map(|p| p.tts.iter().copied())
        .fold(1.0f64, f64::max)
        * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{}: time to success (steady state, successful jobs)",
                r.scenario.name
            ),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((floor..xmax).log_scale(), 0f64..1f64)
        .map_err(|e| perr(path, e))?;
    chart
        .configure_mesh()
        .x_desc("seconds since the first failure (log)")
        .y_desc("share of successful jobs done")
        .draw()
        .map_err(|e| perr(path, e))?;
    for (i, p) in r.policies.iter().enumerate() {
        if p.tts.is_empty() {
            continue;
        }
        let mut xs = p.tts.clone();
        xs.sort_by(f64::total_cmp);
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(ecdf(&xs, floor), color.stroke_width(2)))
            .map_err(|e| perr(path, e))?
            .label(p.kind.label())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| perr(path, e))?;
    root.present().map_err(|e| perr(path, e))
}

/// J, the headline score, per policy.
fn cost(r: &ScenarioResult, path: &Path) -> Result<()> {
    let vals: Vec<f64> = r.policies.iter().map(|p| p.steady.j).collect();
    bars(
        r,
        path,
        &format!(
            "{}: cost per job J, seconds (steady state; lower is better)",
            r.scenario.name
        ),
        "J (s)",
        &vals,
        Some(clip_height(&vals)),
    )
}

/// Four times the median J: a policy far above it (no retry at all, say) is drawn clipped and
/// labelled with its value, so that it does not flatten the bars a reader compares.
fn clip_height(vals: &[f64]) -> f64 {
    let mut finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
    finite.sort_by(f64::total_cmp);
    finite
        .get(finite.len() / 2)
        .map_or(1.0, |m| 4.0 * m.max(1e-9))
}

fn wasted(r: &ScenarioResult, path: &Path) -> Result<()> {
    let vals: Vec<f64> = r.policies.iter().map(|p| p.steady.failed).collect();
    bars(
        r,
        path,
        &format!(
            "{}: failed attempts per job (steady state)",
            r.scenario.name
        ),
        "failed attempts per job",
        &vals,
        None,
    )
}

/// One bar per policy (in the policies' order and colours); NaN draws as 0. Bars above `clip`
/// stop at it and carry their value as text.
pub(super) fn bars(
    r: &ScenarioResult,
    path: &Path,
    caption: &str,
    y_desc: &str,
    values: &[f64],
    clip: Option<f64>,
) -> Result<()> {
    let root = SVGBackend::new(path, (900, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| perr(path, e))?;
    let names: Vec<&str> = r.policies.iter().map(|p| p.kind.label()).collect();
    let vals: Vec<f64> = values
        .iter()
        .map(|v| if v.is_nan() { 0.0 } else { *v })
        .collect();
    let top = vals.iter().copied().fold(0.0f64, f64::max);
    let clip = clip.filter(|c| *c < top).unwrap_or(f64::INFINITY);
    let ymax = top.min(clip).max(1e-9) * 1.15;
    let n = names.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..n as f64, 0f64..ymax)
        .map_err(|e| perr(path, e))?;
    let label = |x: &f64| bar_label(&names, *x);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * n + 1)
        .x_label_formatter(&label)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| perr(path, e))?;
    chart
        .draw_series(vals.iter().enumerate().map(|(i, v)| {
            let color = COLORS[i % COLORS.len()];
            Rectangle::new(
                [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, v.min(clip))],
                color.filled(),
            )
        }))
        .map_err(|e| perr(path, e))?;
    chart
        .draw_series(
            vals.iter()
                .enumerate()
                .filter(|(_, v)| **v > clip)
                .map(|(i, v)| {
                    Text::new(
                        format!("{} (clipped)", super::num(*v)),
                        (i as f64 + 0.15, clip * 1.07),
                        ("sans-serif", 13),
                    )
                }),
        )
        .map_err(|e| perr(path, e))?;
    root.present().map_err(|e| perr(path, e))
}

fn curve(r: &ScenarioResult, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| perr(path, e))?;
    let sample = &r.recovery_sample;
    let floor = log_floor(sample.iter().copied());
    let xmax = sample.last().copied().unwrap_or(1.0).max(1.0) * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{}: P(recovered by t), true vs learned", r.scenario.name),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((floor..xmax).log_scale(), 0f64..1f64)
        .map_err(|e| perr(path, e))?;
    chart
        .configure_mesh()
        .x_desc("seconds since the episode began (log)")
        .y_desc("P(recovered)")
        .draw()
        .map_err(|e| perr(path, e))?;
    let black = RGBColor(0, 0, 0);
    chart
        .draw_series(LineSeries::new(ecdf(sample, floor), black.stroke_width(3)))
        .map_err(|e| perr(path, e))?
        .label("true (seed 0's jobs)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], black.stroke_width(3)));
    let learned = [
        RGBColor(255, 127, 14),
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
    ];
    for (i, p) in r.policies.iter().filter(|p| p.curve.is_some()).enumerate() {
        let Some(c) = &p.curve else { continue };
        let color = learned[i % learned.len()];
        let pts: Vec<(f64, f64)> = c
            .iter()
            .map(|(t, pr)| (t.max(floor).min(xmax), pr.clamp(0.0, 1.0)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(|e| perr(path, e))?
            .label(format!("learned by {}", p.kind.label()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| perr(path, e))?;
    root.present().map_err(|e| perr(path, e))
}
