//! report.html: the simulation as one page a browser opens: the plain summary, the overview
//! plot, then per scenario its model, table, notes and plots, the SVGs inlined so that the
//! page can be mailed or archived alone.

use super::summary::{lines, tally, J_IN_WORDS};
use super::table::{notes, rows};
use crate::error::{Result, SimError};
use crate::suite::ScenarioResult;
use std::fmt::Write;
use std::path::Path;

/// Text made safe inside HTML elements and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG written earlier into `dir`, without its XML prolog, ready to inline.
fn inline_svg(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
    let start = text.find("<svg").unwrap_or(0);
    Ok(format!(
        "<figure>{}<figcaption>{}</figcaption></figure>\n",
        &text[start..],
        escape(file)
    ))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;\
    padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;font-size:.85em}\
    td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}td:first-child,th:first-child\
    {text-align:left}figure{margin:1em 0}figure svg{max-width:100%;height:auto}\
    figcaption{font-size:.8em;color:#666}.better{color:#1a7f1a}.worse{color:#b22}";

/// Render the page; `plots` lists, per scenario number, the SVG files written into `dir`.
pub fn render(
    results: &[ScenarioResult],
    dir: &Path,
    command: &str,
    plots: &[(u32, Vec<String>)],
    overview: &str,
) -> Result<String> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>smartretry simulation report</title><style>{STYLE}</style></head><body>\n\
         <h1>smartretry simulation report</h1>\n<p>Reproduce with <code>{}</code>.</p>\n\
         <p>{}</p>\n<h2>Summary</h2>\n<ul id=\"summary\">\n",
        escape(command),
        escape(J_IN_WORDS)
    );
    let summary = lines(results);
    for l in &summary {
        let class = match l.verdict {
            super::summary::Verdict::Better => "better",
            super::summary::Verdict::Same => "same",
            super::summary::Verdict::Worse => "worse",
        };
        let _ = writeln!(h, "<li class=\"{class}\">{}</li>", escape(&l.sentence));
    }
    let _ = writeln!(
        h,
        "</ul>\n<p><strong>{}</strong></p>",
        escape(&tally(&summary))
    );
    h.push_str(&inline_svg(dir, overview)?);
    for r in results {
        let s = &r.scenario;
        let _ = writeln!(
            h,
            "<h2 id=\"scenario-{}\">{}. {}</h2>\n<p>{}</p>\n<p>c = {} s, deadline {} s.</p>",
            s.number,
            s.number,
            escape(&s.title),
            escape(s.description.trim()),
            s.c,
            s.deadline
        );
        let (head, body) = rows(r);
        h.push_str("<table><tr>");
        for cell in head {
            let _ = write!(h, "<th>{}</th>", escape(cell));
        }
        h.push_str("</tr>\n");
        for row in body {
            h.push_str("<tr>");
            for cell in row {
                let _ = write!(h, "<td>{}</td>", escape(&cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n<ul>\n");
        for n in notes(r) {
            let _ = writeln!(h, "<li>{}</li>", escape(&n));
        }
        h.push_str("</ul>\n");
        if let Some((_, files)) = plots.iter().find(|(n, _)| *n == s.number) {
            for f in files {
                h.push_str(&inline_svg(dir, f)?);
            }
        }
    }
    h.push_str("</body></html>\n");
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_covers_markup_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
