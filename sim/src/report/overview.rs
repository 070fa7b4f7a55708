//! One picture of the whole suite: per scenario, the engine's cost per job as a share of the
//! best static schedule's (below the line at 1 the engine is cheaper).

use super::plots::{bar_label, perr};
use super::summary::{Line, Verdict};
use crate::error::Result;
use plotters::prelude::*;
use std::path::Path;

/// The file name `write_all` gives the overview plot.
pub const FILE: &str = "cost-vs-best-static.svg";

/// Write the overview bar chart of `lines` to `path`.
pub fn write(lines: &[Line], path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| perr(path, e))?;
    let ratios: Vec<f64> = lines
        .iter()
        .map(|l| {
            if l.static_j > 0.0 {
                l.engine_j / l.static_j
            } else {
                1.0
            }
        })
        .collect();
    let ymax = ratios.iter().copied().fold(1.2f64, f64::max) * 1.1;
    let n = lines.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "engine's cost per job / best static schedule's (below 1: the engine is cheaper)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..n as f64, 0f64..ymax)
        .map_err(|e| perr(path, e))?;
    let numbers: Vec<u32> = lines.iter().map(|l| l.scenario).collect();
    let label = |x: &f64| bar_label(&numbers, *x);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * n + 1)
        .x_label_formatter(&label)
        .x_desc("scenario")
        .y_desc("J engine / J best static")
        .draw()
        .map_err(|e| perr(path, e))?;
    chart
        .draw_series(ratios.iter().zip(lines).enumerate().map(|(i, (v, l))| {
            let color = match l.verdict {
                Verdict::Better => RGBColor(44, 160, 44),
                Verdict::Same => RGBColor(150, 150, 150),
                Verdict::Worse => RGBColor(214, 39, 40),
            };
            Rectangle::new(
                [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, *v)],
                color.filled(),
            )
        }))
        .map_err(|e| perr(path, e))?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 1.0), (n as f64, 1.0)],
            BLACK.stroke_width(2),
        ))
        .map_err(|e| perr(path, e))?;
    root.present().map_err(|e| perr(path, e))
}
