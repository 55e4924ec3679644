//! The page of one run: verdict and replay command first, then what failed, the timeline,
//! the close-up of a violation, latency, messages, the course's figures and the rest of the
//! report as tables.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use linearizability::{KvOperation, Outcome, Verdict};
use serde_json::Value;

use super::lanes::{bands_and_markers, replica_segments};
use super::timeline::{self, describe_input, describe_outcome, Context};
use super::{charts, document, escape, json_block, millis, seconds, trace};
use crate::report::{Class, RunReport};

/// Report fields with a view of their own on this page; any other field is listed under
/// "Other report fields", so new ones show up without a change here.
const SHOWN_FIELDS: [&str; 27] = [
    "version",
    "scenario",
    "description",
    "seed",
    "class",
    "trace_hash",
    "events",
    "end_us",
    "stopped_early",
    "replicas",
    "leaders",
    "faults",
    "messages",
    "requests",
    "latency",
    "invariant_violation",
    "linearizability",
    "course",
    "warnings",
    "replay",
    "history",
    "fault_counters",
    "fault_families",
    "inert_families",
    "clock_drift_ppm",
    "swarm",
    "liveness",
];

/// Rows of the fault and leader tables before the rest is left to the JSON report.
const TABLE_ROWS_MAX: usize = 300;

pub(crate) fn render(report: &RunReport, trace_text: Option<&str>) -> String {
    // The serialized report gives robust access to fields that are still being added by
    // other work (fault library, liveness, checker details): absent means not shown.
    let value = serde_json::to_value(report).unwrap_or(Value::Null);
    let info = trace_text.map(|text| trace::parse(text, usize::from(report.replicas)));
    let segments = replica_segments(report, info.as_ref());
    let (bands, markers) = bands_and_markers(report);
    let mut highlighted = BTreeSet::new();
    let mut minimal = BTreeSet::new();
    let mut refuted_keys = BTreeSet::new();
    for key in &report.linearizability.keys {
        if let Some(violation) = &key.violation {
            highlighted.extend(violation.operation_ids.iter().copied());
            minimal.extend(minimal_ids(violation));
            refuted_keys.insert(key.key.clone());
        }
    }
    let recovery = recovery_window(&value);
    let ctx = Context {
        report,
        segments: &segments,
        bands: &bands,
        markers: &markers,
        highlighted: &highlighted,
        minimal: &minimal,
        refuted_keys: &refuted_keys,
        recovery,
    };

    let mut body = String::with_capacity(64 * 1024 + report.history.len() * 300);
    header(&mut body, report);
    what_failed(&mut body, report, &value);
    numbers(&mut body, report);
    timeline_section(&mut body, &ctx, info.as_ref());
    close_ups(&mut body, &ctx);
    latency_section(&mut body, report);
    messages_section(&mut body, report, info.as_ref());
    if let Some(course) = &report.course {
        let _ = write!(
            body,
            "<section id=\"course\"><h2>The course's figures</h2>{}\
             <p class=\"note\">Tier 0 is the bonus, 1 full credit, 2 partial, 3 none; a figure \
             reaches a tier when it is below that tier's threshold.</p></section>",
            charts::course_table(course)
        );
    }
    faults_section(&mut body, report, &value);
    leaders_section(&mut body, report);
    checker_section(&mut body, report);
    counts_section(&mut body, &value);
    other_fields(&mut body, &value);
    let _ = write!(
        body,
        "<footer>report version {} · trace hash <code>{}</code> · {} · self-contained page: \
         no scripts, no network; hover bars and marks for details</footer>",
        report.version,
        escape(&report.trace_hash),
        match &info {
            Some(info) =>
                format!("trace of {} lines read ({} not understood)", info.lines, info.skipped),
            None => "no trace given".to_owned(),
        }
    );
    let title = format!("{} seed {}: {}", report.scenario, report.seed, report.class.name());
    document(&title, &body)
}

/// The ids of the checker's minimal counterexample, read from the serialized violation so
/// that a checker without the field still works: an empty list then.
fn minimal_ids(violation: &linearizability::Violation) -> Vec<u64> {
    let value = serde_json::to_value(violation).unwrap_or(Value::Null);
    let ids = value.get("minimal").and_then(Value::as_array);
    ids.map(|ids| ids.iter().filter_map(Value::as_u64).collect()).unwrap_or_default()
}

fn recovery_window(value: &Value) -> Option<(u64, u64, bool)> {
    let liveness = value.get("liveness")?;
    if !liveness.get("skipped").is_none_or(Value::is_null) {
        return None;
    }
    Some((
        liveness.get("heal_us")?.as_u64()?,
        liveness.get("deadline_us")?.as_u64()?,
        liveness.get("recovered")?.as_bool()?,
    ))
}

fn header(body: &mut String, report: &RunReport) {
    let (badge_class, badge) = match report.class {
        Class::Pass => ("pass", "PASS".to_owned()),
        Class::CheckerUnknown => ("unknown", "UNKNOWN · checker budget spent".to_owned()),
        class => ("fail", format!("FAIL · {}", class.name())),
    };
    let _ = write!(
        body,
        "<header class=\"top\"><h1>{} <span class=\"seed\">seed {}</span></h1>\
         <span class=\"badge {badge_class}\">{}</span></header>",
        escape(&report.scenario),
        report.seed,
        escape(&badge)
    );
    if let Some(description) = &report.description {
        let _ = write!(body, "<p class=\"description\">{}</p>", escape(description));
    }
    let _ = write!(
        body,
        "<p class=\"facts\">{} replicas · {} of virtual time · {} events · \
         trace hash <code>{}</code></p>",
        report.replicas,
        seconds(report.end_us),
        report.events,
        escape(&report.trace_hash)
    );
    let _ = write!(
        body,
        "<div class=\"replay\"><span>replay</span><pre><code>{}</code></pre></div>",
        escape(&report.replay)
    );
}

fn what_failed(body: &mut String, report: &RunReport, value: &Value) {
    let mut parts = String::new();
    if let Some(failure) = &report.invariant_violation {
        let _ = write!(
            parts,
            "<p><strong>Invariant <code>{}</code> broke</strong> at event {} ({}): {}. \
             The red line on the <a href=\"#timeline-section\">timeline</a> marks it.</p>",
            escape(failure.violation.invariant),
            failure.event,
            seconds(failure.time_us),
            escape(&failure.violation.message)
        );
    }
    let refuted: Vec<_> = report
        .linearizability
        .keys
        .iter()
        .filter_map(|key| key.violation.as_ref().map(|violation| (key, violation)))
        .collect();
    for (index, (key, violation)) in refuted.iter().enumerate() {
        let _ = write!(
            parts,
            "<p><strong>Key <code>{}</code> is not linearizable</strong>{}. \
             <a href=\"#closeup-{index}\">Close-up below</a>; the operations are outlined in \
             magenta on the timeline.</p><blockquote class=\"explanation\">{}</blockquote>",
            escape(&key.key),
            violation_kind(violation).map_or(String::new(), |kind| format!(
                " <span class=\"class-tag\">{}</span>",
                escape(&kind)
            )),
            escape(&violation.explanation)
        );
        let minimal = minimal_ids(violation);
        parts.push_str(&operations_table(report, &violation.operation_ids, &minimal));
        parts.push_str(&checker_extras(violation));
    }
    if report.class == Class::Liveness || report.class == Class::CheckerUnknown {
        if let Some(diagnosis) = value.pointer("/liveness/diagnosis").and_then(Value::as_str) {
            let _ = write!(
                parts,
                "<p><strong>The cluster did not recover:</strong> {}. The recovery window is \
                 shaded on the timeline.</p>",
                escape(diagnosis)
            );
        }
        let unknown: Vec<String> = report
            .linearizability
            .keys
            .iter()
            .filter(|key| key.verdict == Verdict::Unknown)
            .map(|key| {
                let cause = serde_json::to_value(key.unknown_cause)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "unknown cause".to_owned());
                format!("<code>{}</code> ({})", escape(&key.key), escape(&cause))
            })
            .collect();
        if !unknown.is_empty() {
            let _ = write!(
                parts,
                "<p><strong>The checker could not decide</strong> {} key(s): {}</p>",
                unknown.len(),
                unknown.join(", ")
            );
        }
    }
    if let Some(reason) = &report.stopped_early {
        let _ = write!(parts, "<p>The run stopped early: {}.</p>", escape(reason));
    }
    if parts.is_empty() {
        return;
    }
    let class = if report.class == Class::Pass { "" } else { " alert" };
    let _ = write!(
        body,
        "<section class=\"what{class}\" id=\"what-failed\"><h2>What went wrong</h2>\
         {parts}</section>"
    );
}

/// The operations the checker named, then the rest of its minimal counterexample.
fn operations_table(report: &RunReport, named: &[u64], minimal: &[u64]) -> String {
    let mut out = String::from(
        "<table class=\"ops\"><tr><th>op</th><th></th><th>client</th><th>request</th>\
         <th>outcome</th><th>called</th><th>returned</th><th>latency</th></tr>",
    );
    let rest = minimal.iter().filter(|id| !named.contains(id));
    let rows = named.iter().map(|id| (id, "named")).chain(rest.map(|id| (id, "counterexample")));
    for (op, role) in rows.filter_map(|(&id, role)| Some((report.history.get(id as usize)?, role)))
    {
        let (returned, latency) = match op.return_us {
            Some(end) => (seconds(end), millis(end.saturating_sub(op.call_us))),
            None => ("never".to_owned(), "–".to_owned()),
        };
        let row_class = if role == "named" { "hl-row" } else { "mc-row" };
        let _ = write!(
            out,
            "<tr class=\"{row_class}\"><td>{}</td><td>{role}</td><td>{:04X}</td>\
             <td><code>{}</code></td><td class=\"{}\">{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            op.id,
            op.client,
            escape(&describe_input(op, 80)),
            timeline::outcome_class(op),
            escape(&describe_outcome(op, 80)),
            seconds(op.call_us),
            returned,
            latency
        );
    }
    out.push_str("</table>");
    if !minimal.is_empty() {
        out.push_str(
            "<p class=\"note\">\"named\": the operation that could not be linearized and the \
             one(s) it contradicts; \"counterexample\": the rest of the checker's minimal \
             counterexample.</p>",
        );
    }
    out
}

/// The anomaly's kind, when the checker gives one.
fn violation_kind(violation: &linearizability::Violation) -> Option<String> {
    let value = serde_json::to_value(violation).ok()?;
    value.get("kind")?.as_str().map(|kind| kind.replace('_', " "))
}

/// What the checker says beyond the explanation: its text timeline of the counterexample
/// (kept as preformatted text, since it is drawn with characters) and any other field.
fn checker_extras(violation: &linearizability::Violation) -> String {
    let Ok(Value::Object(mut extra)) = serde_json::to_value(violation) else {
        return String::new();
    };
    for shown in ["operation_ids", "explanation", "kind", "minimal"] {
        extra.remove(shown);
    }
    let mut out = String::new();
    if let Some(Value::String(text)) = extra.remove("timeline") {
        if !text.is_empty() {
            let _ = write!(
                out,
                "<h3>The checker's timeline of the counterexample</h3>\
                 <pre class=\"ascii\">{}</pre>",
                escape(&text)
            );
        }
    }
    if !extra.is_empty() {
        let _ = write!(out, "<h3>More from the checker</h3>{}", json_block(&Value::Object(extra)));
    }
    out
}

fn count_outcomes(history: &[KvOperation]) -> (usize, usize, usize) {
    let ok = history.iter().filter(|op| matches!(op.outcome, Outcome::Ok(_))).count();
    let failed = history.iter().filter(|op| op.outcome == Outcome::Failed).count();
    (ok, failed, history.len() - ok - failed)
}

fn numbers(body: &mut String, report: &RunReport) {
    let (ok, failed, unknown) = count_outcomes(&report.history);
    let m = &report.messages;
    let cards = [
        (
            "requests",
            report.history.len().to_string(),
            format!("{} operations scheduled", report.requests.operations),
        ),
        ("ok", ok.to_string(), "answered ok".to_owned()),
        ("failed", failed.to_string(), "answered fail or redirect".to_owned()),
        ("unknown", unknown.to_string(), "outcome not known".to_owned()),
        (
            "messages",
            m.sent.to_string(),
            format!("{} dropped", m.dropped_by_loss + m.dropped_by_partition),
        ),
        (
            "latency p50",
            millis(report.latency.median_us),
            format!("{} replies", report.latency.samples),
        ),
        (
            "latency p99",
            millis(report.latency.p99_us),
            format!("max {}", millis(report.latency.max_us)),
        ),
        ("leaders", report.leaders.len().to_string(), format!("{} faults", report.faults.len())),
    ];
    body.push_str("<section class=\"cards\">");
    for (name, value, sub) in cards {
        let _ = write!(
            body,
            "<div class=\"card {}\"><div class=\"name\">{name}</div><div class=\"value\">{}</div>\
             <div class=\"sub\">{}</div></div>",
            name.replace(' ', "-"),
            escape(&value),
            escape(&sub)
        );
    }
    body.push_str("</section>");
}

fn timeline_section(body: &mut String, ctx: &Context<'_>, info: Option<&trace::TraceInfo>) {
    let (svg, notes) = timeline::full(ctx);
    body.push_str("<section id=\"timeline-section\"><h2>Timeline</h2>");
    body.push_str(
        "<p class=\"legend\"><span><i class=\"sw ok\"></i>ok</span>\
         <span><i class=\"sw failed\"></i>failed (fail or redirect)</span>\
         <span><i class=\"sw unknown\"></i>unknown</span>\
         <span><i class=\"sw hl\"></i>named by the checker</span>\
         <span><i class=\"sw leader\"></i>leader</span>\
         <span><i class=\"sw candidate\"></i>candidate</span>\
         <span><i class=\"sw follower\"></i>follower</span>\
         <span><i class=\"sw down\"></i>down</span>\
         <span><i class=\"sw paused\"></i>paused</span>\
         <span><i class=\"sw band\"></i>partition or cut link</span></p>",
    );
    let _ = write!(body, "<div class=\"scroll\">{svg}</div>");
    let mut notes = notes;
    match info {
        Some(_) => notes.push(
            "Replica roles and terms come from the trace (the state after each event). Kills, \
             restarts and pauses come from the fault records."
                .to_owned(),
        ),
        None => notes.push(
            "No trace was given, so replica lanes only know who led when (from the leader \
             list): a replica is drawn leading from the moment it first led a term until \
             another replica leads or it goes down. Run with --trace for every role and term \
             change."
                .to_owned(),
        ),
    }
    for note in notes {
        let _ = write!(body, "<p class=\"note\">{}</p>", escape(&note));
    }
    body.push_str("</section>");
}

fn close_ups(body: &mut String, ctx: &Context<'_>) {
    let refuted = ctx
        .report
        .linearizability
        .keys
        .iter()
        .filter_map(|key| key.violation.as_ref().map(|violation| (key, violation)));
    for (index, (key, violation)) in refuted.enumerate() {
        let id = format!("closeup-{index}");
        let svg = timeline::close_up(ctx, &key.key, &violation.operation_ids, &format!("{id}-svg"));
        let _ = write!(
            body,
            "<section class=\"closeup\" id=\"{id}\"><h2>Close-up: key <code>{}</code></h2>\
             <aside><strong>The checker says:</strong> {}{}</aside>\
             <div class=\"scroll\">{svg}</div><p class=\"note\">Bars outlined in solid magenta \
             are the operations the checker named, dashed ones the rest of its minimal \
             counterexample; the others are this key's remaining operations in the same stretch \
             of time. Each bar runs from the call to the return; the lanes above show each \
             replica's role and term, and the dashed blue lines when a new leader took over.</p>\
             </section>",
            escape(&key.key),
            escape(&violation.explanation),
            previous_leader_note(ctx, &violation.operation_ids)
        );
    }
}

/// Names the last leader change before the named operations: the usual cause of a stale
/// read, worth a sentence even when it is too far back for the close-up to show.
fn previous_leader_note(ctx: &Context<'_>, ids: &[u64]) -> String {
    let Some(first) = ids.first().and_then(|&id| ctx.report.history.get(id as usize)) else {
        return String::new();
    };
    let start = first.call_us;
    let Some(change) = ctx.report.leaders.iter().rfind(|c| c.time_us <= start) else {
        return String::new();
    };
    format!(
        " <span class=\"note\">The last leader change before op {} was called: {} became leader \
         of term {} at {}, {} earlier.</span>",
        first.id,
        change.leader,
        change.term,
        seconds(change.time_us),
        millis(start - change.time_us)
    )
}

fn latency_section(body: &mut String, report: &RunReport) {
    let (over_time, note) =
        charts::latency_over_time(&report.history, &report.latency, report.end_us);
    let histogram = charts::latency_histogram(&report.history, &report.latency);
    let _ = write!(
        body,
        "<section id=\"latency\"><h2>Latency</h2><h3>Over time (each answered request, by the \
         time it was called; log scale)</h3>\
         <p class=\"legend\"><span><i class=\"sw ok\"></i>ok</span>\
         <span><i class=\"sw failed\"></i>failed</span>\
         <span><i class=\"sw unknown\"></i>unknown</span><span><i class=\"sw p50\"></i>p50</span>\
         <span><i class=\"sw p99\"></i>p99</span></p>{over_time}"
    );
    if let Some(note) = note {
        let _ = write!(body, "<p class=\"note\">{}</p>", escape(&note));
    }
    let _ = write!(
        body,
        "<h3>Histogram (logarithmic bins)</h3>{histogram}<p class=\"note\">Bars count the \
         history's answered requests, call to return. The p50, p99 and max lines are the \
         report's, over all {} replies (ok, fail and redirect): p50 {}, p99 {}, max {}.</p>\
         </section>",
        report.latency.samples,
        millis(report.latency.median_us),
        millis(report.latency.p99_us),
        millis(report.latency.max_us)
    );
}

fn messages_section(body: &mut String, report: &RunReport, info: Option<&trace::TraceInfo>) {
    body.push_str("<section id=\"messages\"><h2>Messages per second</h2>");
    match info {
        Some(info) => {
            let _ = write!(
                body,
                "{}{}<p class=\"note\">Deliveries per second of virtual time, counted from the \
                 trace's deliver lines (dropped messages are never delivered). Replica-to-replica \
                 messages sent in the whole run: {}.</p>",
                charts::messages_legend(),
                charts::messages_per_second(info, report.end_us),
                report.messages.sent
            );
        }
        None => {
            let seconds_total = (report.end_us as f64 / 1e6).max(1e-6);
            let _ = write!(
                body,
                "<p>{} replica-to-replica messages in {}: {:.0} per second on average.</p>\
                 <p class=\"note\">Per-second counts need the trace (sim run --trace FILE).</p>",
                report.messages.sent,
                seconds(report.end_us),
                report.messages.sent as f64 / seconds_total
            );
        }
    }
    body.push_str("</section>");
}

fn faults_section(body: &mut String, report: &RunReport, value: &Value) {
    body.push_str("<section id=\"faults\"><h2>Faults</h2>");
    if report.faults.is_empty() {
        body.push_str("<p>No fault fired.</p>");
    } else {
        body.push_str("<table><tr><th>time</th><th>kind</th><th>detail</th></tr>");
        for fault in report.faults.iter().take(TABLE_ROWS_MAX) {
            let _ = write!(
                body,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                seconds(fault.time_us),
                escape(fault.kind),
                escape(&fault.detail)
            );
        }
        body.push_str("</table>");
        if report.faults.len() > TABLE_ROWS_MAX {
            let _ = write!(
                body,
                "<p class=\"note\">{} more faults are in the JSON report.</p>",
                report.faults.len() - TABLE_ROWS_MAX
            );
        }
    }
    let parts = [
        ("swarm", "Swarm mix (families and strengths chosen for this seed)"),
        ("fault_families", "Fault families: configured and fired"),
        ("inert_families", "Configured but never fired"),
        ("fault_counters", "Fault counters (those above zero)"),
        ("clock_drift_ppm", "Clock drift per replica (ppm)"),
        ("liveness", "Liveness oracle"),
    ];
    for (field, title) in parts {
        let Some(part) = value.get(field).filter(|v| !v.is_null()) else { continue };
        let part = match (field, part) {
            // Only families that did something, or were asked to, are worth a row.
            ("fault_families", Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .filter(|item| {
                        item.get("configured").and_then(Value::as_bool) == Some(true)
                            || item.get("fired").and_then(Value::as_u64).unwrap_or(0) > 0
                    })
                    .cloned()
                    .collect(),
            ),
            ("fault_counters", Value::Object(map)) => Value::Object(
                map.iter()
                    .filter(|(_, count)| count.as_u64() != Some(0))
                    .map(|(name, count)| (name.clone(), count.clone()))
                    .collect(),
            ),
            _ => part.clone(),
        };
        let empty = match &part {
            Value::Array(items) => items.is_empty(),
            Value::Object(map) => map.is_empty(),
            _ => false,
        };
        if !empty {
            let _ = write!(body, "<h3>{}</h3>{}", escape(title), json_block(&part));
        }
    }
    body.push_str("</section>");
}

fn leaders_section(body: &mut String, report: &RunReport) {
    body.push_str("<section id=\"leaders\"><h2>Leaders</h2>");
    if report.leaders.is_empty() {
        body.push_str("<p>No replica ever led.</p></section>");
        return;
    }
    body.push_str("<table><tr><th>time</th><th>term</th><th>leader</th></tr>");
    for change in report.leaders.iter().take(TABLE_ROWS_MAX) {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            seconds(change.time_us),
            change.term,
            change.leader
        );
    }
    body.push_str("</table>");
    if report.leaders.len() > TABLE_ROWS_MAX {
        let _ = write!(
            body,
            "<p class=\"note\">{} more leader changes are in the JSON report.</p>",
            report.leaders.len() - TABLE_ROWS_MAX
        );
    }
    body.push_str("</section>");
}

fn checker_section(body: &mut String, report: &RunReport) {
    let lin = &report.linearizability;
    let count = |verdict| lin.keys.iter().filter(|k| k.verdict == verdict).count();
    let verdict = serde_json::to_value(lin.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = write!(
        body,
        "<section id=\"checker\"><h2>Linearizability</h2><p>Verdict <strong>{}</strong>: {} keys, \
         {} linearizable, {} not, {} undecided; {} search steps.</p></section>",
        escape(&verdict),
        lin.keys.len(),
        count(Verdict::Linearizable),
        count(Verdict::NotLinearizable),
        count(Verdict::Unknown),
        lin.steps
    );
}

fn counts_section(body: &mut String, value: &Value) {
    body.push_str("<section id=\"counts\"><h2>Counts</h2><div class=\"columns\">");
    for (field, title) in
        [("messages", "Messages"), ("requests", "Requests"), ("latency", "Latency (µs)")]
    {
        if let Some(part) = value.get(field) {
            let _ = write!(body, "<div><h3>{title}</h3>{}</div>", json_block(part));
        }
    }
    body.push_str("</div>");
    if let Some(Value::Array(warnings)) = value.get("warnings") {
        if !warnings.is_empty() {
            let _ = write!(
                body,
                "<h3>Warnings from reading the scenario</h3>{}",
                json_block(&Value::Array(warnings.clone()))
            );
        }
    }
    body.push_str("</section>");
}

fn other_fields(body: &mut String, value: &Value) {
    let Value::Object(map) = value else { return };
    let others: Vec<(&String, &Value)> =
        map.iter().filter(|(key, _)| !SHOWN_FIELDS.contains(&key.as_str())).collect();
    if others.is_empty() {
        return;
    }
    body.push_str("<section id=\"other\"><h2>Other report fields</h2>");
    for (key, part) in others {
        let _ = write!(body, "<h3><code>{}</code></h3>{}", escape(key), json_block(part));
    }
    body.push_str("</section>");
}
