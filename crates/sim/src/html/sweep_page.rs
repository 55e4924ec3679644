//! The summary page of a sweep: pass and fail per scenario, failure groups by signature with
//! links to their run pages, the determinism audit, and the swarm fault mix.
//!
//! The page shows only what `summary.json` holds. Seeds per second is wall-clock data,
//! which never reaches a sweep's files (they are byte-identical across machines), so the
//! page says where to find it instead of inventing it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::svg::{num, Svg};
use super::{document, escape, json_block, seconds};
use crate::sweep::Summary;

/// Summary fields with a view of their own; any other field (fault counters, swarm
/// coverage, added later) is listed under "Fault mix coverage".
const SHOWN_FIELDS: [&str; 11] = [
    "version",
    "seeds",
    "requested_seeds",
    "shard",
    "swarm",
    "runs",
    "passed",
    "scenarios",
    "failures",
    "groups",
    "determinism",
];

/// Failing runs listed one by one before the rest is left to `summary.json`.
const FAILURES_SHOWN_MAX: usize = 500;

pub(crate) fn render(summary: &Summary, run_pages: &BTreeMap<(String, u64), String>) -> String {
    let mut body = String::with_capacity(32 * 1024);
    let failed = summary.runs - summary.passed;
    let (badge_class, badge) = match failed {
        0 => ("pass", format!("ALL {} PASSED", summary.runs)),
        n => ("fail", format!("{n} OF {} FAILED", summary.runs)),
    };
    let shard =
        summary.shard.map_or(String::new(), |s| format!(" · shard {} of {}", s.index, s.count));
    let _ = write!(
        body,
        "<header class=\"top\"><h1>Sweep <span class=\"seed\">seeds {}{}</span></h1>\
         <span class=\"badge {badge_class}\">{}</span></header>\
         <p class=\"facts\">{} scenarios · {} runs · {} passed · {} failed · \
         requested seeds {} · \
         swarm mode {}</p>",
        summary.seeds,
        escape(&shard),
        escape(&badge),
        summary.scenarios.len(),
        summary.runs,
        summary.passed,
        failed,
        summary.requested_seeds,
        if summary.swarm { "on" } else { "off" }
    );
    scenarios_section(&mut body, summary);
    groups_section(&mut body, summary, run_pages);
    failures_section(&mut body, summary, run_pages);
    determinism_section(&mut body, summary);
    speed_and_mix(&mut body, summary);
    let _ = write!(
        body,
        "<footer>summary version {} · self-contained page: no scripts, no network</footer>",
        summary.version
    );
    document(
        &format!("sweep seeds {}: {} of {} failed", summary.seeds, failed, summary.runs),
        &body,
    )
}

fn scenarios_section(body: &mut String, summary: &Summary) {
    body.push_str(
        "<section id=\"scenarios\"><h2>Pass and fail per scenario</h2>\
         <p class=\"legend\"><span><i class=\"sw ok\"></i>passed</span>\
         <span><i class=\"sw failed\"></i>failed</span></p>\
         <table class=\"scenarios\"><tr><th>scenario</th><th>passed</th><th class=\"barcol\"></th>\
         <th>failed by class</th><th>events per run</th><th>virtual time per run</th></tr>",
    );
    for totals in &summary.scenarios {
        let failed: Vec<String> =
            totals.failed.iter().map(|(class, count)| format!("{count} {class}")).collect();
        let failed = if failed.is_empty() { "none".to_owned() } else { failed.join(", ") };
        let runs = totals.runs.max(1);
        let row_class = if totals.passed < totals.runs { " class=\"failing\"" } else { "" };
        let _ = write!(
            body,
            "<tr{row_class}><td><code>{}</code></td><td>{} / {}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            escape(&totals.scenario),
            totals.passed,
            totals.runs,
            pass_bar(totals.passed, totals.runs),
            escape(&failed),
            totals.events / runs,
            seconds(totals.virtual_us / runs)
        );
    }
    body.push_str("</table></section>");
}

/// A fixed-size bar: passed in green, failed in red, with at least a sliver of red when
/// anything failed, so one failure in ten thousand is still seen.
fn pass_bar(passed: u64, runs: u64) -> String {
    let (width, height) = (220.0, 14.0);
    let mut svg = Svg::new(width, height, "", "passed and failed runs");
    let failed = runs - passed;
    let mut failed_w = if runs == 0 { 0.0 } else { width * failed as f64 / runs as f64 };
    if failed > 0 {
        failed_w = failed_w.max(3.0);
    }
    let tip = format!("{passed} passed, {failed} failed of {runs}");
    svg.rect(0.0, 0.0, width - failed_w, height, "pass-part", Some(&tip));
    if failed > 0 {
        svg.rect(width - failed_w, 0.0, failed_w, height, "fail-part", Some(&tip));
    }
    svg.finish()
        .replacen(
            "class=\"chart\"",
            &format!("class=\"mini\" width=\"{}\" height=\"{}\"", num(width), num(height)),
            1,
        )
        .replacen(" id=\"\"", "", 1)
}

/// A run's link to its page, or its name as plain text when it has none.
fn run_link(
    scenario: &str,
    seed: u64,
    text: &str,
    run_pages: &BTreeMap<(String, u64), String>,
) -> String {
    match run_pages.get(&(scenario.to_owned(), seed)) {
        Some(page) => format!("<a href=\"{}\">{}</a>", escape(page), escape(text)),
        None => escape(text),
    }
}

fn groups_section(
    body: &mut String,
    summary: &Summary,
    run_pages: &BTreeMap<(String, u64), String>,
) {
    body.push_str("<section id=\"groups\"><h2>Failure groups</h2>");
    if summary.groups.is_empty() {
        body.push_str("<p>No run failed.</p></section>");
        return;
    }
    body.push_str(
        "<p class=\"note\">Failures with the same signature (the cause, run-specific numbers left \
         out), largest group first. Linked runs have a page of their own.</p>",
    );
    for group in &summary.groups {
        let runs: Vec<String> = group
            .runs
            .iter()
            .map(|run| match run.rsplit_once('#') {
                Some((scenario, seed)) => match seed.parse::<u64>() {
                    Ok(seed) => run_link(scenario, seed, run, run_pages),
                    Err(_) => escape(run),
                },
                None => escape(run),
            })
            .collect();
        let more = match group.count as usize > group.runs.len() {
            true => format!(" and {} more", group.count as usize - group.runs.len()),
            false => String::new(),
        };
        let _ = write!(
            body,
            "<div class=\"group\"><div class=\"group-head\"><span class=\"count\">{} ×</span> \
             <code class=\"signature\">{}</code> <span class=\"class-tag {}\">{}</span></div>\
             <p class=\"runs\">{}{}</p><pre><code>{}</code></pre></div>",
            group.count,
            escape(&group.signature),
            escape(&group.class),
            escape(&group.class),
            runs.join(" "),
            more,
            escape(&group.replay)
        );
    }
    body.push_str("</section>");
}

fn failures_section(
    body: &mut String,
    summary: &Summary,
    run_pages: &BTreeMap<(String, u64), String>,
) {
    if summary.failures.is_empty() {
        return;
    }
    body.push_str(
        "<section id=\"failures\"><h2>Every failing run</h2><table><tr><th>run</th><th>class</th>\
         <th>signature</th><th>replay</th></tr>",
    );
    for failure in summary.failures.iter().take(FAILURES_SHOWN_MAX) {
        let name = format!("{}#{}", failure.scenario, failure.seed);
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            run_link(&failure.scenario, failure.seed, &name, run_pages),
            escape(&failure.class),
            escape(&failure.signature),
            escape(&failure.replay)
        );
    }
    body.push_str("</table>");
    if summary.failures.len() > FAILURES_SHOWN_MAX {
        let _ = write!(
            body,
            "<p class=\"note\">{} more failing runs are in summary.json.</p>",
            summary.failures.len() - FAILURES_SHOWN_MAX
        );
    }
    body.push_str("</section>");
}

fn determinism_section(body: &mut String, summary: &Summary) {
    let Some(audit) = &summary.determinism else { return };
    let verdict = match audit.mismatches.len() {
        0 => "every replay matched".to_owned(),
        n => format!("{n} replays differed"),
    };
    let _ = write!(
        body,
        "<section id=\"determinism\"><h2>Determinism audit</h2><p>{} runs replayed on another \
         thread and compared line by line: {}.</p>",
        audit.checked,
        escape(&verdict)
    );
    for mismatch in &audit.mismatches {
        let _ = write!(body, "<p class=\"mismatch\"><code>{}</code></p>", escape(mismatch));
    }
    body.push_str("</section>");
}

fn speed_and_mix(body: &mut String, summary: &Summary) {
    let events: u64 = summary.scenarios.iter().map(|s| s.events).sum();
    let virtual_us: u64 = summary.scenarios.iter().map(|s| s.virtual_us).sum();
    let _ = write!(
        body,
        "<section id=\"speed\"><h2>Work and speed</h2><p>{} events handled and {} of virtual \
         time simulated over {} runs.</p><p class=\"note\">Seeds per second is not in \
         summary.json: wall-clock time never reaches a sweep's files, so that they are \
         byte-identical on any machine and thread count. <code>sim sweep</code> prints it when \
         it finishes, and <code>sim bench</code> measures it.</p></section>",
        events,
        seconds(virtual_us),
        summary.runs
    );
    let value = serde_json::to_value(summary).unwrap_or(Value::Null);
    let extra: Vec<(&String, &Value)> = match &value {
        Value::Object(map) => {
            map.iter().filter(|(key, _)| !SHOWN_FIELDS.contains(&key.as_str())).collect()
        }
        _ => Vec::new(),
    };
    let _ = write!(
        body,
        "<section id=\"mix\"><h2>Swarm fault mix coverage</h2>\
         <p>Swarm mode was <strong>{}</strong> \
         for this sweep.</p>",
        if summary.swarm { "on" } else { "off" }
    );
    if extra.is_empty() {
        body.push_str(
            "<p class=\"note\">This summary carries no fault counters or mix coverage yet, so \
             there is nothing to show here; when summary.json gains them, they are listed in \
             this section as they are.</p>",
        );
    }
    for (key, part) in extra {
        let _ = write!(body, "<h3><code>{}</code></h3>{}", escape(key), json_block(part));
    }
    body.push_str("</section>");
}
