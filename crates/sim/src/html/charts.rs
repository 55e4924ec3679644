//! The run page's smaller charts: latency over time, the latency histogram, messages per
//! second and the course's figures against their thresholds.

use std::fmt::Write as _;

use linearizability::KvOperation;

use super::svg::{num, ticks, Scale, Svg};
use super::timeline::outcome_class;
use super::trace::{TraceInfo, MESSAGE_KINDS};
use super::{escape, millis, seconds};
use crate::report::{Course, Figure, Latency};

const WIDTH: f64 = 1200.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 18.0;
/// Above this many answered operations the latency chart draws per-column summaries
/// (minimum to maximum, and the median) instead of one dot each.
pub(crate) const LATENCY_DOTS_MAX: usize = 5_000;
/// Columns of the summarized latency chart.
const LATENCY_COLUMNS: usize = 300;
/// Bins of the latency histogram.
const HISTOGRAM_BINS: usize = 36;

/// Each answered operation's latency from call to return, with its call time and outcome.
fn answered(history: &[KvOperation]) -> Vec<(u64, u64, &'static str)> {
    history
        .iter()
        .filter_map(|op| {
            let end = op.return_us?;
            Some((op.call_us, end.saturating_sub(op.call_us).max(1), outcome_class(op)))
        })
        .collect()
}

/// A logarithmic scale over latencies in microseconds, from a power of ten below the
/// smallest to one above the largest.
fn log_scale(low_us: u64, high_us: u64, range: (f64, f64)) -> (Scale, Vec<f64>) {
    let low = (low_us.max(1) as f64).log10().floor();
    let high = (high_us.max(1) as f64).log10().ceil().max(low + 1.0);
    let decades: Vec<f64> = (low as i64..=high as i64).map(|p| p as f64).collect();
    (Scale::new((low, high), range), decades)
}

fn decade_label(power: f64) -> String {
    millis(10f64.powf(power) as u64).replace(".00 ms", " ms").replace(".0 ms", " ms")
}

/// Latency over virtual time: one dot per answered operation, on a log scale.
pub(crate) fn latency_over_time(
    history: &[KvOperation],
    latency: &Latency,
    end_us: u64,
) -> (String, Option<String>) {
    let points = answered(history);
    let height = 240.0;
    let (top, bottom) = (14.0, height - 26.0);
    let mut svg = Svg::new(WIDTH, height, "latency-time", "latency over virtual time");
    if points.is_empty() {
        svg.text(WIDTH / 2.0, height / 2.0, "middle", "tick", "no operation was answered");
        return (svg.finish(), None);
    }
    let low = points.iter().map(|p| p.1).min().unwrap_or(1);
    let high = points.iter().map(|p| p.1).max().unwrap_or(1);
    let (y, decades) = log_scale(low, high, (bottom, top));
    let x = Scale::new((0.0, end_us.max(1) as f64), (LEFT, WIDTH - RIGHT));
    for power in &decades {
        let at = y.at(*power);
        svg.line(LEFT, at, WIDTH - RIGHT, at, "gridline");
        svg.text(LEFT - 6.0, at + 4.0, "end", "tick", &decade_label(*power));
    }
    let time_ticks: Vec<f64> = ticks(0.0, end_us as f64 / 1e6, 12);
    for &tick in &time_ticks {
        let label = super::svg::seconds_label(tick, &time_ticks);
        svg.text(x.at(tick * 1e6), height - 8.0, "middle", "tick", &label);
    }
    for (value, class, name) in [(latency.median_us, "p50", "p50"), (latency.p99_us, "p99", "p99")]
    {
        if value > 0 {
            let at = y.at((value as f64).log10());
            let tip = format!("{name} of all replies: {}", millis(value));
            svg.line_tip(LEFT, at, WIDTH - RIGHT, at, &format!("quantile {class}"), &tip);
            svg.text(
                WIDTH - RIGHT - 2.0,
                at - 3.0,
                "end",
                &format!("quantile-label {class}"),
                name,
            );
        }
    }
    let note = if points.len() <= LATENCY_DOTS_MAX {
        // Ok dots first, so the rarer failed and unknown ones paint on top.
        for class in ["ok", "unknown", "failed"] {
            svg.open_group(&format!("dots {class}"));
            for (call, lat, _) in points.iter().filter(|p| p.2 == class) {
                svg.circle(x.at(*call as f64), y.at((*lat as f64).log10()), 2.0, "");
            }
            svg.close_group();
        }
        None
    } else {
        let mut columns: Vec<Vec<u64>> = vec![Vec::new(); LATENCY_COLUMNS];
        for (call, lat, _) in &points {
            let column = (*call as u128 * LATENCY_COLUMNS as u128 / u128::from(end_us.max(1)))
                .min(LATENCY_COLUMNS as u128 - 1) as usize;
            columns[column].push(*lat);
        }
        let column_us = end_us.max(1) as f64 / LATENCY_COLUMNS as f64;
        for (column, lats) in columns.iter_mut().enumerate().filter(|(_, l)| !l.is_empty()) {
            lats.sort_unstable();
            let at = x.at((column as f64 + 0.5) * column_us);
            let (min, median, max) = (lats[0], lats[lats.len() / 2], lats[lats.len() - 1]);
            let tip = format!(
                "{} answered operations called from {} to {}: min {}, median {}, max {}",
                lats.len(),
                seconds((column as f64 * column_us) as u64),
                seconds(((column + 1) as f64 * column_us) as u64),
                millis(min),
                millis(median),
                millis(max)
            );
            let (y_min, y_max) = (y.at((min as f64).log10()), y.at((max as f64).log10()));
            svg.line_tip(at, y_min, at, y_max.min(y_min - 1.0), "range", &tip);
            svg.circle(at, y.at((median as f64).log10()), 1.8, "median-dot");
        }
        Some(format!(
            "{} answered operations: more than {LATENCY_DOTS_MAX}, so each of {LATENCY_COLUMNS} \
             columns shows its operations' range (line) and median (dot) instead of a dot each.",
            points.len()
        ))
    };
    (svg.finish(), note)
}

/// The latency histogram on logarithmic bins, with the report's p50, p99 and maximum.
pub(crate) fn latency_histogram(history: &[KvOperation], latency: &Latency) -> String {
    let points = answered(history);
    let height = 220.0;
    let (top, bottom) = (22.0, height - 26.0);
    let mut svg = Svg::new(WIDTH, height, "latency-histogram", "histogram of latencies");
    if points.is_empty() {
        svg.text(WIDTH / 2.0, height / 2.0, "middle", "tick", "no operation was answered");
        return svg.finish();
    }
    let low = points.iter().map(|p| p.1).min().unwrap_or(1);
    let high = points.iter().map(|p| p.1).max().unwrap_or(1).max(latency.max_us);
    let (x, decades) = log_scale(low, high, (LEFT, WIDTH - RIGHT));
    let first = decades[0];
    let last = decades[decades.len() - 1];
    let bin_width = (last - first) / HISTOGRAM_BINS as f64;
    let mut bins = [0u64; HISTOGRAM_BINS];
    for (_, lat, _) in &points {
        let at = ((*lat as f64).log10() - first) / bin_width;
        bins[(at.max(0.0) as usize).min(HISTOGRAM_BINS - 1)] += 1;
    }
    let peak = bins.iter().copied().max().unwrap_or(1).max(1);
    let y = Scale::new((0.0, peak as f64), (bottom, top));
    for tick in ticks(0.0, peak as f64, 4) {
        let at = y.at(tick);
        svg.line(LEFT, at, WIDTH - RIGHT, at, "gridline");
        svg.text(LEFT - 6.0, at + 4.0, "end", "tick", &format!("{tick:.0}"));
    }
    for (i, power) in decades.iter().enumerate() {
        // The last label ends at the plot's edge instead of running off it.
        let anchor = if i + 1 == decades.len() { "end" } else { "middle" };
        svg.text(x.at(*power), height - 8.0, anchor, "tick", &decade_label(*power));
    }
    for (bin, &count) in bins.iter().enumerate().filter(|(_, &c)| c > 0) {
        let from = first + bin as f64 * bin_width;
        let (x0, x1) = (x.at(from), x.at(from + bin_width));
        let tip = format!(
            "{count} operations from {} to {}",
            millis(10f64.powf(from) as u64),
            millis(10f64.powf(from + bin_width) as u64)
        );
        svg.rect(
            x0 + 0.5,
            y.at(count as f64),
            x1 - x0 - 1.0,
            bottom - y.at(count as f64),
            "bin",
            Some(&tip),
        );
    }
    let marks = [
        (latency.median_us, "p50", format!("p50 {}", millis(latency.median_us))),
        (latency.p99_us, "p99", format!("p99 {}", millis(latency.p99_us))),
        (latency.max_us, "max", format!("max {}", millis(latency.max_us))),
    ];
    let mut label_end = f64::MIN;
    for (value, class, label) in marks.iter().filter(|m| m.0 > 0) {
        let at = x.at((*value as f64).log10());
        svg.line(at, top - 6.0, at, bottom, &format!("quantile {class}"));
        // Stagger labels that would overlap (p99 and max are often close).
        let row = if at - 3.0 < label_end { 1.0 } else { 0.0 };
        svg.text(
            at + 3.0,
            top - 10.0 + row * 12.0,
            "start",
            &format!("quantile-label {class}"),
            label,
        );
        label_end = at + 3.0 + label.len() as f64 * 6.2;
    }
    svg.finish()
}

/// Deliveries per second of virtual time, stacked by message type, from the trace.
pub(crate) fn messages_per_second(info: &TraceInfo, end_us: u64) -> String {
    let height = 200.0;
    let (top, bottom) = (12.0, height - 26.0);
    let mut svg = Svg::new(WIDTH, height, "messages", "messages delivered per second");
    let seconds_total = end_us.div_ceil(1_000_000).max(1);
    let peak = info.deliveries.values().map(|c| c.iter().sum::<u64>()).max().unwrap_or(0).max(1);
    let x = Scale::new((0.0, seconds_total as f64), (LEFT, WIDTH - RIGHT));
    let y = Scale::new((0.0, peak as f64), (bottom, top));
    for tick in ticks(0.0, peak as f64, 4) {
        let at = y.at(tick);
        svg.line(LEFT, at, WIDTH - RIGHT, at, "gridline");
        svg.text(LEFT - 6.0, at + 4.0, "end", "tick", &format!("{tick:.0}"));
    }
    let time_ticks = ticks(0.0, seconds_total as f64, 12);
    for &tick in &time_ticks {
        let label = super::svg::seconds_label(tick, &time_ticks);
        svg.text(x.at(tick), height - 8.0, "middle", "tick", &label);
    }
    for (&second, counts) in &info.deliveries {
        let (x0, x1) = (x.at(second as f64), x.at(second as f64 + 1.0));
        let mut base = 0u64;
        let total: u64 = counts.iter().sum();
        for (kind, &count) in MESSAGE_KINDS.iter().zip(counts).filter(|(_, &c)| c > 0) {
            let (y0, y1) = (y.at(base as f64), y.at((base + count) as f64));
            let tip = format!("second {second}: {count} {kind} of {total} deliveries");
            svg.rect(
                x0 + 0.5,
                y1,
                (x1 - x0 - 1.0).max(0.5),
                y0 - y1,
                &format!("msg {kind}"),
                Some(&tip),
            );
            base += count;
        }
    }
    svg.finish()
}

/// The legend of [`messages_per_second`], as HTML.
pub(crate) fn messages_legend() -> String {
    let mut out = String::from("<p class=\"legend\">");
    for kind in MESSAGE_KINDS {
        let name = if kind == "client" { "client requests" } else { kind };
        let _ = write!(out, "<span><i class=\"sw msg-{kind}\"></i>{name}</span>");
    }
    out.push_str("</p>");
    out
}

/// The course's four figures as a table, each with its tier and a bar showing where the
/// value falls among the thresholds.
pub(crate) fn course_table(course: &Course) -> String {
    let mut out = String::from(
        "<table class=\"course\"><tr><th>figure</th><th>value</th><th>tier</th>\
         <th>thresholds (bonus &lt; a, full &lt; b, partial &lt; c)</th>\
         <th>where it falls</th></tr>",
    );
    let rows: [(&str, &Figure, bool); 4] = [
        ("total_msgs", &course.total_msgs, false),
        ("failures", &course.failures, false),
        ("duplicates", &course.duplicates, false),
        ("median_latency", &course.median_latency, true),
    ];
    for (name, figure, is_seconds) in rows {
        let show = |v: f64| if is_seconds { format!("{:.4} s", v) } else { format!("{v}") };
        let [a, b, c] = figure.thresholds;
        let _ = write!(
            out,
            "<tr><td><code>{name}</code></td><td>{}</td>\
             <td><span class=\"tier t{tier}\">{}</span></td>\
             <td>{}, {}, {}</td><td>{}</td></tr>",
            escape(&show(figure.value)),
            tier_name(figure.tier),
            escape(&show(a)),
            escape(&show(b)),
            escape(&show(c)),
            figure_bar(figure),
            tier = figure.tier.min(3),
        );
    }
    out.push_str("</table>");
    out
}

fn tier_name(tier: u8) -> &'static str {
    match tier {
        0 => "0 bonus",
        1 => "1 full",
        2 => "2 partial",
        _ => "3 none",
    }
}

/// A small bar: the four tier zones and a mark at the value.
fn figure_bar(figure: &Figure) -> String {
    let (width, height) = (260.0, 18.0);
    let [a, b, c] = figure.thresholds;
    let top = (c * 1.25).max(figure.value * 1.05).max(1e-9);
    let x = Scale::new((0.0, top), (0.0, width));
    let mut svg = Svg::new(width, height, "", "where the value falls among the thresholds");
    let zones = [(0.0, a, "t0"), (a, b, "t1"), (b, c, "t2"), (c, top, "t3")];
    for (from, to, class) in zones {
        let (x0, x1) = (x.clamped(from), x.clamped(to));
        svg.rect(x0, 3.0, (x1 - x0).max(0.0), height - 6.0, &format!("zone {class}"), None);
    }
    let at = x.clamped(figure.value);
    svg.rect(at - 1.5, 0.0, 3.0, height, "value-mark", Some(&format!("value {}", figure.value)));
    let mut out = svg.finish();
    // A small inline chart: fixed pixel size rather than the full width.
    out = out.replacen(
        "class=\"chart\"",
        &format!("class=\"mini\" width=\"{}\" height=\"{}\"", num(width), num(height)),
        1,
    );
    out.replacen(" id=\"\"", "", 1)
}
