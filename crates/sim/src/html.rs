//! Self-contained HTML pages for a run report ([`render_run`]) and a sweep summary
//! ([`render_sweep`]): a failing seed is understood faster as a picture than as JSON.
//!
//! A page is one file with its CSS and SVG charts inline and no script at all, so it opens
//! offline, from an archive or a CI artifact, and reads the same with JavaScript switched
//! off; hover tooltips are SVG `<title>` elements. Pages are deterministic: the same report
//! (and trace) renders to the same bytes, because everything iterates in report order or
//! over `BTreeMap`s and numbers are printed with fixed precision.
//!
//! Long runs stay readable and small: beyond [`OPERATIONS_DRAWN_MAX`] operations the
//! timeline draws the failed, unknown and highlighted operations one by one and the rest as
//! per-client density strips, and the page says so. Charts are drawn by a small SVG writer
//! of our own (`svg`), which is less code than adapting a plotting crate to inline output.

mod charts;
mod lanes;
mod run_page;
mod svg;
mod sweep_page;
mod timeline;
mod trace;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::RunReport;
use crate::sweep::Summary;

/// Above this many operations the run timeline aggregates the ordinary (ok, not highlighted)
/// ones into density strips instead of drawing a bar each. Each drawn bar costs about 250
/// bytes with its tooltip, so this bounds the timeline near 1.5 MB.
pub const OPERATIONS_DRAWN_MAX: usize = 5_000;

/// Renders the page of one run. `trace` is the text `sim run --trace` wrote for the same run,
/// if there is one: with it the replica lanes show every role and term change and the page
/// counts messages per second; without it roles come from `report.leaders` and the faults.
pub fn render_run(report: &RunReport, trace: Option<&str>) -> String {
    run_page::render(report, trace)
}

/// Renders the summary page of a sweep. `run_pages` maps `(scenario, seed)` to the relative
/// file name of that run's page, for the runs that have one (usually the failures); the page
/// links failures and failure groups to them.
pub fn render_sweep(summary: &Summary, run_pages: &BTreeMap<(String, u64), String>) -> String {
    sweep_page::render(summary, run_pages)
}

/// The file name `sim` gives the page of a run: the scenario file's stem, the seed, `.html`
/// (beside the JSON report, which has the same stem).
pub fn run_page_name(scenario: &str, seed: u64) -> String {
    let stem = std::path::Path::new(scenario)
        .file_stem()
        .map_or_else(|| "scenario".into(), |stem| stem.to_string_lossy());
    format!("{stem}-seed{seed}.html")
}

/// Escapes text for HTML and SVG content and attribute values. Control characters other
/// than tab and newline become U+FFFD, since HTML forbids them and keys may hold anything.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Shortens `text` to at most `max` characters by cutting out its middle: simulated values
/// often differ only at the end, so both ends are kept.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max || max < 3 {
        return text.to_owned();
    }
    let keep = max - 1;
    let head: String = text.chars().take(keep - keep / 2).collect();
    let tail: String = text.chars().skip(count - keep / 2).collect();
    format!("{head}…{tail}")
}

/// Virtual microseconds as seconds with three decimals.
pub(crate) fn seconds(us: u64) -> String {
    format!("{:.3} s", us as f64 / 1e6)
}

/// Virtual microseconds as milliseconds, with fewer decimals as the number grows.
pub(crate) fn millis(us: u64) -> String {
    let ms = us as f64 / 1e3;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The style sheet shared by both pages.
const STYLE: &str = include_str!("html/style.css");

/// Wraps `body` in a complete document titled `title`.
pub(crate) fn document(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + 512);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"sim html\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>\n<main>");
    out.push_str(body);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// How many rows or items a generic JSON block shows before it says how many it left out.
const JSON_ROWS_MAX: usize = 200;

/// Renders any JSON value as plain tables and lists, for report fields this page has no
/// dedicated view of (fields other engineers add keep showing up without a page change).
pub(crate) fn json_block(value: &serde_json::Value) -> String {
    use serde_json::Value;
    let mut out = String::new();
    match value {
        Value::Object(map) if map.values().all(is_scalar) => {
            out.push_str("<table class=\"kv\">");
            for (key, value) in map {
                let _ = write!(
                    out,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    escape(key),
                    escape(&scalar(value))
                );
            }
            out.push_str("</table>");
        }
        // A map of flat records (per family, per scenario...) reads best as one table.
        Value::Object(map) if !map.is_empty() && map.values().all(is_flat_record) => {
            let mut columns: Vec<&str> = Vec::new();
            for key in map.values().filter_map(Value::as_object).flat_map(|m| m.keys()) {
                if !columns.contains(&key.as_str()) {
                    columns.push(key);
                }
            }
            out.push_str("<table><tr><th></th>");
            for column in &columns {
                let _ = write!(out, "<th>{}</th>", escape(column));
            }
            out.push_str("</tr>");
            for (name, record) in map.iter().take(JSON_ROWS_MAX) {
                let _ = write!(out, "<tr><th>{}</th>", escape(name));
                for column in &columns {
                    let cell = record.get(*column).map(scalar).unwrap_or_default();
                    let _ = write!(out, "<td>{}</td>", escape(&cell));
                }
                out.push_str("</tr>");
            }
            out.push_str("</table>");
            left_out_note(&mut out, map.len());
        }
        Value::Object(map) => {
            out.push_str("<dl class=\"json\">");
            for (key, value) in map {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(key), json_block(value));
            }
            out.push_str("</dl>");
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            let mut columns: Vec<&str> = Vec::new();
            for item in items {
                for key in item.as_object().into_iter().flat_map(|m| m.keys()) {
                    if !columns.contains(&key.as_str()) {
                        columns.push(key);
                    }
                }
            }
            out.push_str("<table><tr>");
            for column in &columns {
                let _ = write!(out, "<th>{}</th>", escape(column));
            }
            out.push_str("</tr>");
            for item in items.iter().take(JSON_ROWS_MAX) {
                out.push_str("<tr>");
                for column in &columns {
                    let cell = match item.get(*column) {
                        Some(value) if is_scalar(value) => escape(&scalar(value)),
                        Some(value) => json_block(value),
                        None => String::new(),
                    };
                    let _ = write!(out, "<td>{cell}</td>");
                }
                out.push_str("</tr>");
            }
            out.push_str("</table>");
            left_out_note(&mut out, items.len());
        }
        Value::Array(items) => {
            let shown: Vec<String> = items
                .iter()
                .take(JSON_ROWS_MAX)
                .map(|item| if is_scalar(item) { escape(&scalar(item)) } else { json_block(item) })
                .collect();
            out.push_str(if shown.is_empty() { "none" } else { "" });
            out.push_str(&shown.join(", "));
            left_out_note(&mut out, items.len());
        }
        scalar_value => out.push_str(&escape(&scalar(scalar_value))),
    }
    out
}

fn left_out_note(out: &mut String, len: usize) {
    if len > JSON_ROWS_MAX {
        let _ = write!(
            out,
            "<p class=\"note\">{} more not shown; the JSON report has them all.</p>",
            len - JSON_ROWS_MAX
        );
    }
}

fn is_flat_record(value: &serde_json::Value) -> bool {
    value.as_object().is_some_and(|map| map.values().all(is_scalar))
}

fn is_scalar(value: &serde_json::Value) -> bool {
    !matches!(value, serde_json::Value::Array(_) | serde_json::Value::Object(_))
}

/// A scalar JSON value as text: strings without their quotes, null as a dash.
fn scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => shorten(text, 400),
        serde_json::Value::Null => "–".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_quotes_and_controls() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert_eq!(escape("x\u{1}y"), "x\u{FFFD}y");
    }

    #[test]
    fn shorten_keeps_both_ends() {
        assert_eq!(shorten("abcdefghij", 20), "abcdefghij");
        assert_eq!(shorten("8129eb25fd85ed500000000000000007", 13), "8129eb…000007");
    }

    #[test]
    fn page_names_follow_the_json_report() {
        assert_eq!(run_page_name("scenarios/partition.json", 42), "partition-seed42.html");
    }

    #[test]
    fn json_blocks_render_tables() {
        let value = serde_json::json!({"a": 1, "b": "<x>"});
        assert_eq!(
            json_block(&value),
            "<table class=\"kv\"><tr><th>a</th><td>1</td></tr>\
             <tr><th>b</th><td>&lt;x&gt;</td></tr></table>"
        );
        let rows = serde_json::json!([{"family": "loss", "fired": 3}, {"family": "delay"}]);
        let html = json_block(&rows);
        assert!(html.contains("<th>family</th><th>fired</th>"), "{html}");
        assert!(html.contains("<td>delay</td><td></td>"), "{html}");
    }
}
