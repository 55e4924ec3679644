//! The timeline over virtual time: fault bands and markers, leader changes, one lane per
//! replica (role and term, down, paused) and one lane per client (each operation a bar from
//! invocation to completion, coloured by outcome), plus the close-up of a violation.

use std::collections::{BTreeMap, BTreeSet};

use linearizability::{KvInput, KvOperation, Outcome};

use super::lanes::{Band, Marker, Segment, Shade};
use super::svg::{ticks, Scale, Svg};
use super::trace::Role;
use super::{millis, seconds, shorten, OPERATIONS_DRAWN_MAX};
use crate::report::RunReport;

/// Drawing width in SVG units; the SVG scales to the page.
const WIDTH: f64 = 1200.0;
/// Room for lane names on the left.
const LEFT: f64 = 122.0;
const RIGHT: f64 = 18.0;
/// Height of one replica lane.
const REPLICA_LANE: f64 = 16.0;
/// Height of one row of operation bars, and the most rows a client lane stacks before
/// overlapping bars share the last row.
const OP_ROW: f64 = 7.0;
const OP_ROWS_MAX: usize = 3;
/// Narrowest bar drawn, in SVG units, so that a 1 ms operation in a 60 s run still shows.
const BAR_MIN: f64 = 1.6;
/// Density buckets per lane when operations are aggregated.
const BUCKETS: usize = 240;
/// Rows in the close-up before further operations are left out.
const CLOSE_UP_ROWS_MAX: usize = 30;
/// Approximate width of one character of 11-unit text, for placing labels without overlap.
const CHAR_WIDTH: f64 = 6.2;

/// Everything the timeline draws, prepared once per page.
pub(crate) struct Context<'a> {
    pub(crate) report: &'a RunReport,
    pub(crate) segments: &'a [Vec<Segment>],
    pub(crate) bands: &'a [Band],
    pub(crate) markers: &'a [Marker],
    /// Operation ids the checker named.
    pub(crate) highlighted: &'a BTreeSet<u64>,
    /// Operation ids of the checker's minimal counterexample (when it gives one), drawn
    /// with a lighter outline than the named ones.
    pub(crate) minimal: &'a BTreeSet<u64>,
    /// Keys the checker refuted.
    pub(crate) refuted_keys: &'a BTreeSet<String>,
    /// From the liveness oracle, when it judged: the heal and the recovery deadline.
    pub(crate) recovery: Option<(u64, u64, bool)>,
}

/// The full-run timeline and the notes the page must show beside it (what was aggregated).
pub(crate) fn full(ctx: &Context<'_>) -> (String, Vec<String>) {
    let report = ctx.report;
    let window = (0, report.end_us.max(1));
    let scale = Scale::new((window.0 as f64, window.1 as f64), (LEFT, WIDTH - RIGHT));
    let mut notes = Vec::new();

    let clients = by_client(&report.history);
    let detailed = detailed_operations(ctx, &mut notes);
    let lanes: Vec<ClientLane<'_>> = clients
        .iter()
        .map(|(client, ops)| ClientLane::pack(*client, ops, &detailed, report.end_us))
        .collect();

    let replicas_top = 86.0;
    let replicas_bottom = replicas_top + ctx.segments.len() as f64 * (REPLICA_LANE + 4.0);
    let clients_top = replicas_bottom + 14.0;
    let clients_bottom = clients_top + lanes.iter().map(|lane| lane.height() + 4.0).sum::<f64>();
    let height = clients_bottom + 26.0;
    let mut svg = Svg::new(WIDTH, height, "timeline", "timeline of the run over virtual time");

    draw_grid(&mut svg, &scale, window, 24.0, clients_bottom, 14.0);
    draw_bands(&mut svg, &scale, ctx, window, 24.0, clients_bottom);
    draw_recovery(&mut svg, &scale, ctx, 24.0, clients_bottom);
    draw_violation_marks(&mut svg, &scale, ctx, 24.0, clients_bottom);
    draw_fault_lane(&mut svg, &scale, ctx, window, 24.0);
    draw_leader_lane(&mut svg, &scale, ctx, window, 62.0, clients_bottom);
    draw_replica_lanes(&mut svg, &scale, ctx, window, replicas_top);

    let mut y = clients_top;
    for lane in &lanes {
        lane.draw(&mut svg, &scale, ctx, y);
        y += lane.height() + 4.0;
    }
    if let Some(failure) = &report.invariant_violation {
        let x = scale.at(failure.time_us as f64);
        let tip = format!(
            "invariant {} broke at event {} ({}): {}",
            failure.violation.invariant,
            failure.event,
            seconds(failure.time_us),
            failure.violation.message
        );
        svg.line_tip(x, 24.0, x, clients_bottom, "safety-line", &tip);
        svg.text(x - 4.0, 20.0, "end", "safety-label", failure.violation.invariant);
    }
    draw_axis_labels(&mut svg, &scale, window, clients_bottom + 16.0);
    (svg.finish(), notes)
}

/// Operations per client, in history order.
fn by_client(history: &[KvOperation]) -> BTreeMap<u64, Vec<&KvOperation>> {
    let mut clients: BTreeMap<u64, Vec<&KvOperation>> = BTreeMap::new();
    for op in history {
        clients.entry(op.client).or_default().push(op);
    }
    clients
}

/// Which operations get a bar of their own: all of them when the history is small enough,
/// else the highlighted ones, then failed and unknown ones and those on refuted keys, up to
/// [`OPERATIONS_DRAWN_MAX`].
fn detailed_operations(ctx: &Context<'_>, notes: &mut Vec<String>) -> Option<BTreeSet<u64>> {
    let history = &ctx.report.history;
    if history.len() <= OPERATIONS_DRAWN_MAX {
        return None;
    }
    let mut chosen: BTreeSet<u64> = ctx.highlighted.union(ctx.minimal).copied().collect();
    let notable = history
        .iter()
        .filter(|op| !matches!(op.outcome, Outcome::Ok(_)) || ctx.refuted_keys.contains(&op.key));
    for op in notable {
        if chosen.len() >= OPERATIONS_DRAWN_MAX {
            break;
        }
        chosen.insert(op.id);
    }
    notes.push(format!(
        "The history has {} operations, more than the {} this page draws one by one: {} are \
         drawn as bars (every operation the checker named, then failed and unknown ones and \
         those on refuted keys, by id), and the other {} are aggregated into {} density \
         strips per client lane (darker is more operations; hover for counts).",
        history.len(),
        OPERATIONS_DRAWN_MAX,
        chosen.len(),
        history.len() - chosen.len(),
        BUCKETS
    ));
    Some(chosen)
}

/// One client's lane: its operations packed into rows so that overlapping ones (retries
/// after an unknown outcome) do not hide each other.
struct ClientLane<'a> {
    client: u64,
    count: usize,
    rows: usize,
    /// Bars: (operation, row).
    bars: Vec<(&'a KvOperation, usize)>,
    /// Aggregated operations: per outcome class, per bucket, a count.
    density: BTreeMap<&'static str, Vec<u32>>,
}

impl<'a> ClientLane<'a> {
    fn pack(
        client: u64,
        ops: &[&'a KvOperation],
        detailed: &Option<BTreeSet<u64>>,
        end_us: u64,
    ) -> ClientLane<'a> {
        let mut row_ends: Vec<u64> = Vec::new();
        let mut bars = Vec::new();
        let mut density: BTreeMap<&'static str, Vec<u32>> = BTreeMap::new();
        let mut sorted: Vec<&KvOperation> = ops.to_vec();
        sorted.sort_by_key(|op| (op.call_us, op.id));
        for op in sorted {
            if detailed.as_ref().is_some_and(|chosen| !chosen.contains(&op.id)) {
                let bucket = (op.call_us as u128 * BUCKETS as u128 / u128::from(end_us.max(1)))
                    .min(BUCKETS as u128 - 1) as usize;
                density.entry(outcome_class(op)).or_insert_with(|| vec![0; BUCKETS])[bucket] += 1;
                continue;
            }
            let end = op.return_us.unwrap_or(end_us).max(op.call_us);
            let row = match row_ends.iter().position(|&row_end| row_end < op.call_us) {
                Some(row) => row,
                None if row_ends.len() < OP_ROWS_MAX => {
                    row_ends.push(0);
                    row_ends.len() - 1
                }
                None => OP_ROWS_MAX - 1,
            };
            row_ends[row] = row_ends[row].max(end);
            bars.push((op, row));
        }
        ClientLane { client, count: ops.len(), rows: row_ends.len().max(1), bars, density }
    }

    fn height(&self) -> f64 {
        self.rows as f64 * (OP_ROW + 2.0) + 4.0
    }

    fn draw(&self, svg: &mut Svg, scale: &Scale, ctx: &Context<'_>, top: f64) {
        let height = self.height();
        svg.rect(LEFT, top, WIDTH - RIGHT - LEFT, height, "lane-bg", None);
        svg.text_tip(
            LEFT - 8.0,
            top + height / 2.0 + 4.0,
            "end",
            "lane-name",
            &format!("client {:04X}", self.client),
            &format!("client {:04X}: {} operations", self.client, self.count),
        );
        let end_us = ctx.report.end_us;
        if !self.density.is_empty() {
            let peak = self.density.values().flatten().copied().max().unwrap_or(1).max(1);
            let bucket_us = end_us.max(1) as f64 / BUCKETS as f64;
            for (class, counts) in &self.density {
                for (bucket, &count) in counts.iter().enumerate().filter(|(_, &c)| c > 0) {
                    let start = bucket as f64 * bucket_us;
                    let x = scale.at(start);
                    let w = scale.at(start + bucket_us) - x;
                    let opacity = 0.2 + 0.8 * f64::from(count) / f64::from(peak);
                    let tip = format!(
                        "{count} {class} operations called between {} and {}",
                        seconds(start as u64),
                        seconds((start + bucket_us) as u64)
                    );
                    let attrs = format!(" opacity=\"{opacity:.2}\"");
                    svg.rect_with(
                        x,
                        top + 2.0,
                        w,
                        height - 4.0,
                        &format!("agg {class}"),
                        &attrs,
                        Some(&tip),
                    );
                }
            }
        }
        // Highlighted bars last, so nothing paints over them.
        let mut order: Vec<&(&KvOperation, usize)> = self.bars.iter().collect();
        order.sort_by_key(|(op, _)| {
            (ctx.highlighted.contains(&op.id), ctx.minimal.contains(&op.id))
        });
        for (op, row) in order {
            let x = scale.at(op.call_us as f64);
            let end = op.return_us.unwrap_or(end_us).max(op.call_us);
            let w = (scale.at(end as f64) - x).max(BAR_MIN);
            let y = top + 2.0 + *row as f64 * (OP_ROW + 2.0);
            let mut class = format!("op {}", outcome_class(op));
            if op.return_us.is_none() {
                class.push_str(" open");
            }
            let mut attrs = String::new();
            if ctx.highlighted.contains(&op.id) {
                class.push_str(" hl");
                attrs = format!(" id=\"op-{}\"", op.id);
            } else if ctx.minimal.contains(&op.id) {
                class.push_str(" mc");
            } else if ctx.refuted_keys.contains(&op.key) {
                class.push_str(" same-key");
            }
            svg.rect_with(x, y, w, OP_ROW, &class, &attrs, Some(&operation_tip(op)));
        }
    }
}

/// `ok`, `failed` or `unknown`: the CSS class and the legend's word for an outcome.
pub(crate) fn outcome_class(op: &KvOperation) -> &'static str {
    match op.outcome {
        Outcome::Ok(_) => "ok",
        Outcome::Failed => "failed",
        Outcome::Unknown => "unknown",
    }
}

/// What an operation asked, briefly: `get k`, `put k = v`, `append k += v`.
pub(crate) fn describe_input(op: &KvOperation, max: usize) -> String {
    let key = shorten(&op.key, max);
    match &op.input {
        KvInput::Get => format!("get {key}"),
        KvInput::Put(value) => format!("put {key} = {}", shorten(value, max)),
        KvInput::Append(value) => format!("append {key} += {}", shorten(value, max)),
    }
}

/// What came of an operation: `ok`, `ok: value` for a read, `failed`, `unknown`.
pub(crate) fn describe_outcome(op: &KvOperation, max: usize) -> String {
    match (&op.outcome, &op.input) {
        (Outcome::Ok(value), KvInput::Get) => format!("ok: {}", shorten(value, max)),
        (Outcome::Ok(_), _) => "ok".to_owned(),
        (Outcome::Failed, _) => "failed".to_owned(),
        (Outcome::Unknown, _) if op.return_us.is_none() => "unknown (never answered)".to_owned(),
        (Outcome::Unknown, _) => "unknown".to_owned(),
    }
}

/// The tooltip of an operation's bar.
pub(crate) fn operation_tip(op: &KvOperation) -> String {
    let returned = match op.return_us {
        Some(end) => {
            format!(", returned {} ({})", seconds(end), millis(end.saturating_sub(op.call_us)))
        }
        None => ", never returned".to_owned(),
    };
    format!(
        "op {} · client {:04X}\n{} → {}\ncalled {}{returned}",
        op.id,
        op.client,
        describe_input(op, 48),
        describe_outcome(op, 48),
        seconds(op.call_us)
    )
}

fn draw_grid(
    svg: &mut Svg,
    scale: &Scale,
    window: (u64, u64),
    top: f64,
    bottom: f64,
    label_y: f64,
) {
    svg.open_group("grid");
    let ticks = time_ticks(window);
    for &tick in &ticks {
        let x = scale.at(tick);
        svg.line(x, top, x, bottom, "gridline");
        svg.text(x, label_y, "middle", "tick", &tick_label(tick, &ticks));
    }
    svg.close_group();
}

fn draw_axis_labels(svg: &mut Svg, scale: &Scale, window: (u64, u64), y: f64) {
    let ticks = time_ticks(window);
    for &tick in &ticks {
        svg.text(scale.at(tick), y, "middle", "tick", &tick_label(tick, &ticks));
    }
    svg.text(LEFT - 8.0, y, "end", "tick", "virtual time");
}

fn time_ticks(window: (u64, u64)) -> Vec<f64> {
    ticks(window.0 as f64, window.1 as f64, 12)
}

/// A tick's label in seconds, with as many decimals as the ticks' spacing needs.
fn tick_label(tick_us: f64, ticks_us: &[f64]) -> String {
    let ticks_s: Vec<f64> = ticks_us.iter().take(2).map(|t| t / 1e6).collect();
    super::svg::seconds_label(tick_us / 1e6, &ticks_s)
}

fn draw_bands(
    svg: &mut Svg,
    scale: &Scale,
    ctx: &Context<'_>,
    window: (u64, u64),
    top: f64,
    bottom: f64,
) {
    svg.open_group("bands");
    for band in ctx.bands.iter().filter(|b| b.end_us >= window.0 && b.start_us <= window.1) {
        let x = scale.clamped(band.start_us as f64);
        let w = (scale.clamped(band.end_us as f64) - x).max(1.0);
        let tip = format!(
            "{} from {} to {}: {}\nended by {}",
            band.kind,
            seconds(band.start_us),
            seconds(band.end_us),
            band.detail,
            band.ended_by
        );
        svg.rect(x, top, w, bottom - top, "band", Some(&tip));
        if w > band.kind.len() as f64 * CHAR_WIDTH + 6.0 {
            svg.text(x + 4.0, top + 11.0, "start", "band-label", &band.kind);
        }
    }
    svg.close_group();
}

fn draw_recovery(svg: &mut Svg, scale: &Scale, ctx: &Context<'_>, top: f64, bottom: f64) {
    let Some((heal_us, deadline_us, recovered)) = ctx.recovery else { return };
    let x = scale.clamped(heal_us as f64);
    let w = (scale.clamped(deadline_us as f64) - x).max(1.0);
    let class = if recovered { "recovery" } else { "recovery failed" };
    let tip = format!(
        "liveness: faults healed at {}; the cluster had to recover by {}: {}",
        seconds(heal_us),
        seconds(deadline_us),
        if recovered { "it did" } else { "it did not" }
    );
    svg.rect(x, top, w, bottom - top, class, Some(&tip));
}

/// A tinted column over each operation the checker named, so a violation is seen before
/// any bar is read.
fn draw_violation_marks(svg: &mut Svg, scale: &Scale, ctx: &Context<'_>, top: f64, bottom: f64) {
    for op in ctx.highlighted.iter().filter_map(|&id| ctx.report.history.get(id as usize)) {
        let end = op.return_us.unwrap_or(ctx.report.end_us);
        let x = scale.at(op.call_us as f64);
        let w = (scale.at(end as f64) - x).max(3.0);
        let tip = format!("named by the checker: {}", operation_tip(op));
        svg.rect(x - 1.0, top, w + 2.0, bottom - top, "violation-span", Some(&tip));
    }
}

/// The labels of the fault lane: the checker's operations first, so they are never crowded
/// out, then the fault markers in time order.
fn violation_labels(ctx: &Context<'_>) -> Vec<(u64, String, String)> {
    ctx.highlighted
        .iter()
        .filter_map(|&id| ctx.report.history.get(id as usize))
        .map(|op| (op.call_us, format!("✖ op {}", op.id), operation_tip(op)))
        .collect()
}

fn draw_fault_lane(svg: &mut Svg, scale: &Scale, ctx: &Context<'_>, window: (u64, u64), top: f64) {
    svg.text(LEFT - 8.0, top + 22.0, "end", "lane-name", "faults");
    svg.open_group("markers");
    let in_window = |time_us: u64| time_us >= window.0 && time_us <= window.1;
    // Label rows: the x where each row's last label ends. A label that fits nowhere is left
    // out; its mark keeps the tooltip.
    let mut label_ends = [f64::MIN; 2];
    let mut place = |svg: &mut Svg, x: f64, label: &str, class: &str, tip: &str| {
        let width = label.chars().count() as f64 * CHAR_WIDTH;
        let row = label_ends.iter().position(|&end| x + 3.0 > end + 4.0);
        if let Some(row) = row.filter(|_| x + 3.0 + width < WIDTH) {
            svg.text_tip(x + 3.0, top + 13.0 + row as f64 * 14.0, "start", class, label, tip);
            label_ends[row] = x + 3.0 + width;
        }
    };
    for (time_us, label, tip) in violation_labels(ctx).into_iter().filter(|l| in_window(l.0)) {
        place(svg, scale.at(time_us as f64), &label, "violation-label", &tip);
    }
    for marker in ctx.markers.iter().filter(|m| in_window(m.time_us)) {
        let x = scale.at(marker.time_us as f64);
        let tip = format!("{} at {}: {}", marker.kind, seconds(marker.time_us), marker.detail);
        let class = format!("marker {}", marker_class(&marker.kind));
        svg.line_tip(x, top + 2.0, x, top + 34.0, &class, &tip);
        place(svg, x, &marker.kind, "marker-label", &tip);
    }
    svg.close_group();
}

/// Known node faults get their own colour; every other kind is drawn the same neutral way.
fn marker_class(kind: &str) -> &'static str {
    match kind {
        "kill_leader" | "kill_non_leader" | "crash" | "kill" => "down",
        "restart" | "resume" | "heal" => "up",
        "pause" => "paused",
        _ => "other",
    }
}

fn draw_leader_lane(
    svg: &mut Svg,
    scale: &Scale,
    ctx: &Context<'_>,
    window: (u64, u64),
    top: f64,
    bottom: f64,
) {
    svg.text(LEFT - 8.0, top + 12.0, "end", "lane-name", "new leader");
    svg.open_group("leaders");
    let mut label_end = f64::MIN;
    for change in
        ctx.report.leaders.iter().filter(|c| c.time_us >= window.0 && c.time_us <= window.1)
    {
        let x = scale.at(change.time_us as f64);
        let tip = format!(
            "{} became leader of term {} at {}",
            change.leader,
            change.term,
            seconds(change.time_us)
        );
        svg.line_tip(x, top, x, bottom, "leader-line", &tip);
        let label = format!("{} t{}", change.leader, change.term);
        if x + 3.0 > label_end + 4.0 {
            svg.text_tip(x + 3.0, top + 12.0, "start", "leader-label", &label, &tip);
            label_end = x + 3.0 + label.len() as f64 * CHAR_WIDTH;
        }
    }
    svg.close_group();
}

/// Replica lanes: a box per stretch of role and term. Stretches narrower than a unit are
/// merged into one box coloured by the most telling role among them, so churny runs draw
/// at most about one box per unit of width.
fn draw_replica_lanes(
    svg: &mut Svg,
    scale: &Scale,
    ctx: &Context<'_>,
    window: (u64, u64),
    top: f64,
) {
    for (index, segments) in ctx.segments.iter().enumerate() {
        let y = top + index as f64 * (REPLICA_LANE + 4.0);
        let name = format!("{index:04X}");
        svg.text(
            LEFT - 8.0,
            y + REPLICA_LANE / 2.0 + 4.0,
            "end",
            "lane-name",
            &format!("replica {name}"),
        );
        let visible: Vec<&Segment> =
            segments.iter().filter(|s| s.end_us > window.0 && s.start_us < window.1).collect();
        let mut i = 0;
        while i < visible.len() {
            let first = visible[i];
            let x = scale.clamped(first.start_us as f64);
            let mut j = i;
            let mut end_x = scale.clamped(first.end_us as f64);
            // Merge only neighbours that are narrow too: a wide one keeps its own box (and
            // its own colour), or one blip would recolour a long stretch.
            while end_x - x < 1.0 && j + 1 < visible.len() {
                let next = visible[j + 1];
                let next_end = scale.clamped(next.end_us as f64);
                if next_end - scale.clamped(next.start_us as f64) >= 1.0 {
                    break;
                }
                j += 1;
                end_x = next_end;
            }
            let run = &visible[i..=j];
            draw_segment_run(svg, &name, run, x, end_x, y);
            i = j + 1;
        }
    }
}

fn draw_segment_run(svg: &mut Svg, name: &str, run: &[&Segment], x: f64, end_x: f64, y: f64) {
    let w = (end_x - x).max(0.5);
    let first = run[0];
    let last = run[run.len() - 1];
    if run.len() == 1 {
        let tip = format!(
            "{name}: {} from {} to {}",
            shade_words(&first.shade),
            seconds(first.start_us),
            seconds(first.end_us)
        );
        svg.rect(x, y, w, REPLICA_LANE, shade_class(&first.shade), Some(&tip));
        if let Shade::Up { term: Some(term), .. } = first.shade {
            let label = format!("t{term}");
            if w > label.len() as f64 * CHAR_WIDTH + 4.0 {
                svg.text(x + 3.0, y + REPLICA_LANE - 4.0, "start", "term-label", &label);
            }
        }
        return;
    }
    let shown = run.iter().map(|s| &s.shade).max_by_key(|shade| shade_rank(shade)).expect("a run");
    let terms: Vec<u64> = run
        .iter()
        .filter_map(|s| match s.shade {
            Shade::Up { term, .. } => term,
            _ => None,
        })
        .collect();
    let term_range = match (terms.iter().min(), terms.iter().max()) {
        (Some(low), Some(high)) if low != high => format!(", terms {low} to {high}"),
        (Some(term), _) => format!(", term {term}"),
        _ => String::new(),
    };
    let tip = format!(
        "{name}: {} changes from {} to {}{term_range}; zoom in (or see the trace) for each",
        run.len(),
        seconds(first.start_us),
        seconds(last.end_us)
    );
    svg.rect(x, y, w, REPLICA_LANE, &format!("{} busy", shade_class(shown)), Some(&tip));
}

/// Which shade wins when several are merged into one box: the one a reader must not miss.
fn shade_rank(shade: &Shade) -> u8 {
    match shade {
        Shade::Down => 5,
        Shade::Up { role: Role::Leader, .. } => 4,
        Shade::Up { role: Role::Candidate, .. } => 3,
        Shade::Paused => 2,
        Shade::Up { role: Role::Other(_), .. } => 1,
        Shade::Up { role: Role::Follower, .. } => 0,
    }
}

pub(crate) fn shade_class(shade: &Shade) -> &'static str {
    match shade {
        Shade::Down => "seg down",
        Shade::Paused => "seg paused",
        Shade::Up { role: Role::Leader, .. } => "seg leader",
        Shade::Up { role: Role::Candidate, .. } => "seg candidate",
        Shade::Up { role: Role::Follower, .. } => "seg follower",
        Shade::Up { role: Role::Other(_), .. } => "seg other",
    }
}

fn shade_words(shade: &Shade) -> String {
    match shade {
        Shade::Down => "down (killed or crashed)".to_owned(),
        Shade::Paused => "paused".to_owned(),
        Shade::Up { role, term: Some(term) } => format!("{} in term {term}", role.name()),
        Shade::Up { role, term: None } => role.name().to_owned(),
    }
}

/// The close-up of one refuted key: the operations on it around the ones the checker named,
/// one row each with its label, over the replica lanes of the same stretch of time.
pub(crate) fn close_up(ctx: &Context<'_>, key: &str, ids: &[u64], id: &str) -> String {
    let history = &ctx.report.history;
    let named: Vec<&KvOperation> = ids.iter().filter_map(|&i| history.get(i as usize)).collect();
    let end_us = ctx.report.end_us.max(1);
    let start = named.iter().map(|op| op.call_us).min().unwrap_or(0);
    let end = named.iter().map(|op| op.return_us.unwrap_or(end_us)).max().unwrap_or(end_us);
    let span = (end - start).max(2_000);
    let mut window = (start.saturating_sub(span / 3), (end + span / 3).min(end_us));
    // Bring the leader change just before the violation into view, when it is near: it is
    // the usual suspect for a stale read.
    if let Some(change) = ctx.report.leaders.iter().rfind(|c| c.time_us <= end) {
        if change.time_us < window.0 && start - change.time_us <= 4 * span {
            window.0 = change.time_us.saturating_sub(span / 6);
        }
    }
    let scale = Scale::new((window.0 as f64, window.1 as f64), (LEFT, WIDTH - RIGHT));
    let mut rows: Vec<&KvOperation> = history
        .iter()
        .filter(|op| op.key == key)
        .filter(|op| op.call_us <= window.1 && op.return_us.unwrap_or(end_us) >= window.0)
        .collect();
    let wanted = |op: &KvOperation| ids.contains(&op.id) || ctx.minimal.contains(&op.id);
    rows.sort_by_key(|op| (!wanted(op), op.call_us, op.id));
    let left_out = rows.len().saturating_sub(CLOSE_UP_ROWS_MAX);
    rows.truncate(CLOSE_UP_ROWS_MAX);
    rows.sort_by_key(|op| (op.call_us, op.id));

    let replicas_top = 62.0;
    let ops_top = replicas_top + ctx.segments.len() as f64 * (REPLICA_LANE + 4.0) + 12.0;
    let row_height = 20.0;
    let bottom = ops_top + rows.len() as f64 * row_height + 4.0;
    let height = bottom + 24.0 + if left_out > 0 { 14.0 } else { 0.0 };
    let mut svg = Svg::new(WIDTH, height, id, &format!("close-up of key {key}"));
    draw_grid(&mut svg, &scale, window, 24.0, bottom, 14.0);
    draw_bands(&mut svg, &scale, ctx, window, 24.0, bottom);
    draw_leader_lane(&mut svg, &scale, ctx, window, 30.0, bottom);
    draw_replica_lanes(&mut svg, &scale, ctx, window, replicas_top);
    svg.text(LEFT - 8.0, ops_top + 12.0, "end", "lane-name", "operations on");
    svg.text(LEFT - 8.0, ops_top + 26.0, "end", "lane-name", "this key");
    for (row, op) in rows.iter().enumerate() {
        let y = ops_top + row as f64 * row_height;
        let x = scale.clamped(op.call_us as f64);
        let end_x = scale.clamped(op.return_us.unwrap_or(end_us) as f64);
        let w = (end_x - x).max(BAR_MIN);
        let named = ids.contains(&op.id);
        let mark = match (named, ctx.minimal.contains(&op.id)) {
            (true, _) => " hl",
            (false, true) => " mc",
            (false, false) => "",
        };
        let class = format!("op {}{mark}", outcome_class(op));
        svg.rect(x, y + 4.0, w, 11.0, &class, Some(&operation_tip(op)));
        let label = format!(
            "op {} · {:04X} · {} → {}",
            op.id,
            op.client,
            describe_input(op, 0).split_whitespace().next().unwrap_or(""),
            close_up_value(op)
        );
        let class = if named { "op-label named" } else { "op-label" };
        let label_w = label.chars().count() as f64 * CHAR_WIDTH;
        if x + w + 6.0 + label_w < WIDTH - 2.0 {
            svg.text(x + w + 6.0, y + 13.5, "start", class, &label);
        } else {
            svg.text(x - 6.0, y + 13.5, "end", class, &label);
        }
    }
    if left_out > 0 {
        let note = format!("{left_out} more operations on this key in this stretch are not shown");
        svg.text(LEFT, bottom + 30.0, "start", "tick", &note);
    }
    draw_axis_labels(&mut svg, &scale, window, bottom + 16.0);
    svg.finish()
}

/// The value an operation wrote or read, shortened for a label; both ends are kept because
/// simulated values often differ only in their last digits.
fn close_up_value(op: &KvOperation) -> String {
    let value = match (&op.input, &op.outcome) {
        (KvInput::Put(value) | KvInput::Append(value), outcome) => {
            format!("{} ({})", shorten(value, 15), outcome_word(outcome))
        }
        (KvInput::Get, Outcome::Ok(value)) => format!("read {}", shorten(value, 15)),
        (KvInput::Get, outcome) => outcome_word(outcome).to_owned(),
    };
    value
}

fn outcome_word(outcome: &Outcome<String>) -> &'static str {
    match outcome {
        Outcome::Ok(_) => "ok",
        Outcome::Failed => "failed",
        Outcome::Unknown => "unknown",
    }
}
