//! The `sim` command line: run one seed, sweep many, merge shard summaries, benchmark.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::{Parser, Subcommand};
use sim::sweep::{self, SeedRange, Shard, Summary, SweepPlan};
use sim::{Class, Loaded, Scenario};

/// Prints a line to standard output. A closed standard output (`sim ... | head`) is not an
/// error: the rest of the output is dropped and the command still finishes its work (writes
/// its report) and exits with its own code.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Like [`say!`], without the newline.
macro_rules! say_str {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// Exit code for bad input: a malformed scenario or an unusable argument.
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a failure of the harness itself (an unwritable report, a simulator panic,
/// a determinism mismatch).
const EXIT_HARNESS: u8 = 6;

/// Deterministic simulation of a Raft key-value cluster.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate one scenario from one seed, check it, print a summary and write a report.
    ///
    /// Exit codes: 0 pass, 1 safety invariant broken, 2 bad input, 3 not linearizable,
    /// 4 liveness failure, 5 checker budget spent, 6 harness error.
    Run {
        /// The scenario file (our format or a course config).
        scenario: PathBuf,
        /// The seed; defaults to the scenario's `seed` field, else 0.
        #[arg(long)]
        seed: Option<u64>,
        /// Where the JSON report goes.
        #[arg(long, default_value = "reports")]
        report_dir: PathBuf,
        /// Write every event, one line each, to this file (`-` for standard output).
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Swarm mode: the seed chooses which fault families are on and how strong.
        #[arg(long)]
        swarm: bool,
        /// Every replica carries this planted bug (needs the `plant` feature; see `sim hunt`).
        #[arg(long, value_name = "NAME")]
        plant: Option<String>,
        /// Also write a self-contained HTML page (always written when the run fails).
        #[arg(long)]
        html: bool,
    },
    /// Run every (scenario, seed) pair on all cores and summarize.
    ///
    /// Writes runs.jsonl, summary.json and junit.xml to --out. Exit codes: 0 all passed,
    /// 1 some run failed, 2 bad input, 6 harness error (a panic or a determinism mismatch).
    Sweep(SweepArgs),
    /// Shrink a failing run to a smaller scenario that fails the same way.
    ///
    /// Writes a scripted scenario that `sim run` replays exactly and prints how much smaller
    /// it got. Exit codes: 0 shrunk, 2 bad input (or a run that passes), 6 harness error.
    Shrink {
        /// The scenario file of the failing run.
        scenario: PathBuf,
        /// The failing seed; defaults to the scenario's `seed` field, else 0.
        #[arg(long)]
        seed: Option<u64>,
        /// Swarm mode, as the failing run had it.
        #[arg(long)]
        swarm: bool,
        /// The planted bug the failing run carried (needs the `plant` feature).
        #[arg(long, value_name = "NAME")]
        plant: Option<String>,
        /// Where the shrunk scenario goes; defaults to reports/shrunk-<scenario>-seed<N>.json.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Hunt planted bugs: how many seeds until the simulator catches one (`plant` feature).
    ///
    /// `--list` names the bugs; `--plant NAME --seeds 1..N [SCENARIO...]` runs seeds in
    /// order until a run fails (exit 1) or none does (exit 0); `--table` prints the
    /// seeds-to-catch table of docs/planted.md.
    Hunt {
        /// Scenario files; defaults to the hunting grounds of the table.
        scenarios: Vec<PathBuf>,
        /// List the planted bugs, one per line with a short description.
        #[arg(long)]
        list: bool,
        /// The planted bug to hunt.
        #[arg(long, value_name = "NAME")]
        plant: Option<String>,
        /// Seeds to try, FIRST..LAST with both included.
        #[arg(long, default_value = "1..100")]
        seeds: String,
        /// Print the seeds-to-catch table for every bug and hunting ground.
        #[arg(long)]
        table: bool,
        /// Worker threads; defaults to the number of cores.
        #[arg(long)]
        jobs: Option<usize>,
        /// Swarm mode for every scenario.
        #[arg(long)]
        swarm: bool,
    },
    /// Check a history file for linearizability and explain any violation.
    ///
    /// Reads Jepsen etcd logs (a compare-and-set register), key-value logs, or a simulator
    /// report or history JSON. Exit codes: 0 linearizable (or an empty history, which gets
    /// no verdict), 2 bad input, 3 not linearizable, 5 budget spent without a verdict.
    Check {
        /// The history file.
        file: PathBuf,
        /// The file's format: jepsen, kv or sim; guessed from the content when absent.
        #[arg(long)]
        format: Option<String>,
        /// Most search steps per key before the verdict is `unknown`.
        #[arg(long, default_value_t = linearizability::Budget::default().steps_max)]
        steps_max: u64,
    },
    /// Merge shard summaries (summary.json files) into the summary of the whole sweep.
    Merge {
        /// The shards' summary.json files.
        #[arg(required = true)]
        summaries: Vec<PathBuf>,
        /// Output directory for the merged summary.json and junit.xml.
        #[arg(long, default_value = "reports/sweep")]
        out: PathBuf,
    },
    /// Measure simulation speed: events and seeds per second on 1 and 2 threads.
    Bench {
        /// Scenario files; defaults to every scenario in scenarios/.
        scenarios: Vec<PathBuf>,
        /// Seeds per scenario and thread count.
        #[arg(long, default_value_t = 200)]
        seeds: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { scenario, seed, report_dir, trace, swarm, plant, html } => {
            let plant = plant.as_deref();
            run(&scenario, seed, &report_dir, trace.as_deref(), swarm, plant, html)
        }
        Command::Sweep(args) => run_sweep(args),
        Command::Shrink { scenario, seed, swarm, plant, out } => {
            run_shrink(&scenario, seed, swarm, plant.as_deref(), out)
        }
        Command::Hunt { scenarios, list, plant, seeds, table, jobs, swarm } => {
            let jobs = jobs.unwrap_or_else(cores);
            let args = sim::plant::HuntArgs { scenarios, list, plant, seeds, table, jobs, swarm };
            match sim::plant::hunt_command(&args) {
                Ok((text, code)) => {
                    say_str!("{text}");
                    ExitCode::from(code)
                }
                Err(message) => bad_input(message),
            }
        }
        Command::Check { file, format, steps_max } => {
            run_check(&file, format.as_deref(), steps_max)
        }
        Command::Merge { summaries, out } => run_merge(&summaries, &out),
        Command::Bench { scenarios, seeds } => run_bench(scenarios, seeds),
    }
}

/// The number of cores, the default worker count.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

fn bad_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn harness_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_HARNESS)
}

/// Loads a scenario and applies the command line's `--swarm` and `--plant`.
fn load_with(path: &Path, swarm: bool, plant: Option<&str>) -> Result<Loaded, ExitCode> {
    let mut loaded = load(path)?;
    loaded.scenario.swarm |= swarm;
    if let Some(name) = plant {
        sim::plant::apply(&mut loaded.scenario, name).map_err(bad_input)?;
    }
    Ok(loaded)
}

fn load(path: &Path) -> Result<Loaded, ExitCode> {
    let loaded = Scenario::load(path).map_err(bad_input)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok(loaded)
}

// ---- run ----

fn run(
    path: &Path,
    seed: Option<u64>,
    report_dir: &Path,
    trace: Option<&Path>,
    swarm: bool,
    plant: Option<&str>,
    html: bool,
) -> ExitCode {
    let loaded = match load_with(path, swarm, plant) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let seed = seed.or(loaded.scenario.seed).unwrap_or(0);
    let shown = path.display().to_string();
    let report = match trace {
        None => sim::run(&shown, &loaded, seed),
        Some(trace_path) => match run_traced(&shown, &loaded, seed, trace_path) {
            Ok(report) => report,
            Err(error) => {
                return harness_error(format!(
                    "cannot write trace {}: {error}",
                    trace_path.display()
                ))
            }
        },
    };
    let mut report = report;
    report.replay = sim::plant::replay(&report.replay, plant);
    say_str!("{}", report.summary());
    let stem = path.file_stem().map_or("scenario".into(), |s| s.to_string_lossy());
    let report_path = report_dir.join(format!("{stem}-seed{seed}.json"));
    let written = serde_json::to_vec_pretty(&report)
        .map_err(std::io::Error::other)
        .and_then(|json| sweep::write_atomically(&report_path, &json));
    if let Err(error) = written {
        return harness_error(format!("cannot write report {}: {error}", report_path.display()));
    }
    say!("report       {}", report_path.display());
    if html || report.class != Class::Pass {
        let page_path = report_dir.join(sim::html::run_page_name(&shown, seed));
        if let Err(error) = write_run_page(&page_path, &shown, &loaded, seed, &report) {
            return harness_error(format!("cannot write {}: {error}", page_path.display()));
        }
        say!("page         {}", page_path.display());
    }
    if report.class != Class::Pass {
        say!("replay       {}", report.replay);
    }
    ExitCode::from(report.class.exit_code())
}

/// Writes the HTML page of a run. The page draws replica roles from the trace, so the run is
/// replayed with tracing on; it is deterministic, so the replay is the same run.
fn write_run_page(
    page_path: &Path,
    shown: &str,
    loaded: &Loaded,
    seed: u64,
    report: &sim::RunReport,
) -> std::io::Result<()> {
    let mut trace = Vec::new();
    let replayed = sim::run_traced(shown, loaded, seed, &mut trace)?;
    if replayed.trace_hash != report.trace_hash {
        return Err(std::io::Error::other(format!(
            "the traced replay diverged (trace hash {} vs {})",
            replayed.trace_hash, report.trace_hash
        )));
    }
    let trace = String::from_utf8_lossy(&trace);
    let page = sim::html::render_run(report, Some(&trace));
    sweep::write_atomically(page_path, page.as_bytes())
}

fn run_shrink(
    path: &Path,
    seed: Option<u64>,
    swarm: bool,
    plant: Option<&str>,
    out: Option<PathBuf>,
) -> ExitCode {
    let loaded = match load_with(path, swarm, plant) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let seed = seed.or(loaded.scenario.seed).unwrap_or(0);
    let stem = path.file_stem().map_or("scenario".into(), |s| s.to_string_lossy());
    let out =
        out.unwrap_or_else(|| PathBuf::from(format!("reports/shrunk-{stem}-seed{seed}.json")));
    let planted = plant.map_or(String::new(), |name| format!(" with --plant {name}"));
    let description = format!(
        "Shrunk by `sim shrink` from {} seed {seed}{planted}: the smallest run found that \
         fails the same way.",
        path.display()
    );
    let shrunk = match sim::shrink::shrink(&loaded, seed, &description) {
        Ok(shrunk) => shrunk,
        Err(message) => return bad_input(format!("{}: {message}", path.display())),
    };
    if let Err(error) = sweep::write_atomically(&out, shrunk.json.as_bytes()) {
        return harness_error(format!("cannot write {}: {error}", out.display()));
    }
    say_str!("{}", shrunk.summary(&out.display().to_string(), plant));
    ExitCode::SUCCESS
}

fn run_traced(
    shown: &str,
    loaded: &Loaded,
    seed: u64,
    trace_path: &Path,
) -> std::io::Result<sim::RunReport> {
    let header = "# event\ttime_us\twhat\treplica state after the event\n";
    let mut out: Box<dyn std::io::Write> = if trace_path == Path::new("-") {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(std::fs::File::create(trace_path)?))
    };
    out.write_all(header.as_bytes())?;
    let report = sim::run_traced(shown, loaded, seed, &mut out)?;
    out.flush()?;
    Ok(report)
}

// ---- sweep ----

/// The arguments of `sim sweep`.
#[derive(clap::Args)]
struct SweepArgs {
    /// Scenario files.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Seeds to run, FIRST..LAST with both included.
    #[arg(long, default_value = "1..100")]
    seeds: String,
    /// Worker threads; defaults to the number of cores.
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only slice K of N of the seed range (for CI matrices), e.g. 2/4.
    #[arg(long)]
    shard: Option<String>,
    /// Output directory; defaults to reports/sweep (reports/sweep-shard-K-of-N).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replay a sample of runs and compare their traces line by line.
    #[arg(long)]
    check_determinism: bool,
    /// Swarm mode: each seed chooses which fault families are on and how strong.
    #[arg(long)]
    swarm: bool,
    /// Every replica carries this planted bug (needs the `plant` feature; see `sim hunt`).
    #[arg(long, value_name = "NAME")]
    plant: Option<String>,
    /// Also write an HTML summary page (index.html) and pages for failing runs.
    #[arg(long)]
    html: bool,
}

/// Draws progress: a bar on a terminal, a plain line every few seconds otherwise.
struct ProgressView {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    last_line: Mutex<Instant>,
}

impl ProgressView {
    fn new(total: u64) -> ProgressView {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            let style = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} seeds, {msg}, {per_sec}, eta {eta}",
            )
            .expect("a valid template");
            bar.set_style(style);
            bar
        });
        let now = Instant::now();
        ProgressView { bar, started: now, last_line: Mutex::new(now) }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl sweep::Progress for ProgressView {
    fn update(&self, done: u64, total: u64, failures: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(format!("{failures} failures"));
            return;
        }
        let mut last = self.last_line.lock().expect("progress lock");
        if last.elapsed().as_secs() >= 5 || done == total {
            *last = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "sweep: {done}/{total} seeds, {failures} failures, {:.0} seeds/s",
                done as f64 / elapsed
            );
        }
    }
}

fn run_sweep(args: SweepArgs) -> ExitCode {
    let seeds = match SeedRange::parse(&args.seeds) {
        Ok(seeds) => seeds,
        Err(message) => return bad_input(format!("--seeds: {message}")),
    };
    let shard = match args.shard.as_deref().map(Shard::parse).transpose() {
        Ok(shard) => shard,
        Err(message) => return bad_input(format!("--shard: {message}")),
    };
    if let Some(shard) = shard.filter(|&shard| seeds.shard(shard).is_none()) {
        return bad_input(format!(
            "--shard {}/{}: seeds {seeds} hold only {} seeds, too few for {} shards",
            shard.index,
            shard.count,
            seeds.len(),
            shard.count
        ));
    }
    if args.jobs == Some(0) {
        return bad_input("--jobs 0: a sweep needs at least one thread");
    }
    let mut scenarios = Vec::new();
    for path in &args.scenarios {
        match load_with(path, args.swarm, args.plant.as_deref()) {
            Ok(loaded) => scenarios.push((path.display().to_string(), loaded)),
            Err(code) => return code,
        }
    }
    let out = args.out.unwrap_or_else(|| match shard {
        Some(shard) => {
            PathBuf::from(format!("reports/sweep-shard-{}-of-{}", shard.index, shard.count))
        }
        None => PathBuf::from("reports/sweep"),
    });
    if let Err(error) = std::fs::create_dir_all(&out) {
        return harness_error(format!("cannot create {}: {error}", out.display()));
    }
    let jobs = args.jobs.unwrap_or_else(cores);
    let runs_path = out.join("runs.jsonl");
    let plan = SweepPlan {
        scenarios: &scenarios,
        seeds,
        shard,
        jobs,
        swarm: args.swarm,
        check_determinism: args.check_determinism,
        runs_path: &runs_path,
    };
    let per_scenario = shard.map_or(Some(seeds), |s| seeds.shard(s)).map_or(0, |r| r.len());
    let progress = ProgressView::new(per_scenario * scenarios.len() as u64);
    let summary = match sweep::sweep(&plan, &progress) {
        Ok(summary) => summary,
        Err(error) => return harness_error(format!("sweep output: {error}")),
    };
    progress.finish();
    let elapsed = progress.started.elapsed().as_secs_f64();
    if let Err(code) = write_summary(&summary, &out) {
        return code;
    }
    print_summary(&summary);
    say!(
        "time         {elapsed:.2} s wall, {:.0} seeds/s on {jobs} threads",
        summary.runs as f64 / elapsed.max(1e-9)
    );
    say!("outputs      {}/{{summary.json,junit.xml,runs.jsonl}}", out.display());
    if args.html {
        match write_sweep_pages(&summary, &scenarios, &out) {
            Ok(index) => say!("page         {}", index.display()),
            Err(error) => return harness_error(format!("sweep pages: {error}")),
        }
    }
    sweep_exit_code(&summary)
}

/// How many failing runs of one failure group get their own page.
const PAGES_PER_GROUP: usize = 5;

/// Writes a page for the first few failing runs of each group and the summary page linking
/// them; returns the summary page's path.
fn write_sweep_pages(
    summary: &Summary,
    scenarios: &[(String, Loaded)],
    out: &Path,
) -> std::io::Result<PathBuf> {
    let mut pages = std::collections::BTreeMap::new();
    for group in &summary.groups {
        let failing = summary.failures.iter().filter(|f| f.signature == group.signature);
        for failure in failing.take(PAGES_PER_GROUP) {
            let Some((shown, loaded)) =
                scenarios.iter().find(|(shown, _)| *shown == failure.scenario)
            else {
                continue;
            };
            let name = sim::html::run_page_name(shown, failure.seed);
            // Two scenarios with one file name (a/x.json, b/x.json) get pages of their own.
            let stem = |path: &str| Path::new(path).file_stem().map(|s| s.to_owned());
            let same_stem = scenarios.iter().filter(|(other, _)| stem(other) == stem(shown));
            let name = match scenarios.iter().position(|(other, _)| other == shown) {
                Some(index) if same_stem.count() > 1 => format!("{}-{name}", index + 1),
                _ => name,
            };
            let mut trace = Vec::new();
            let report = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sim::run_traced(shown, loaded, failure.seed, &mut trace)
            })) {
                Ok(report) => report?,
                Err(_) => continue, // A harness panic has no report to draw.
            };
            let page = sim::html::render_run(&report, Some(&String::from_utf8_lossy(&trace)));
            sweep::write_atomically(&out.join(&name), page.as_bytes())?;
            pages.insert((failure.scenario.clone(), failure.seed), name);
        }
    }
    let index = out.join("index.html");
    sweep::write_atomically(&index, sim::html::render_sweep(summary, &pages).as_bytes())?;
    Ok(index)
}

fn sweep_exit_code(summary: &Summary) -> ExitCode {
    let mismatch = summary.determinism.as_ref().is_some_and(|d| !d.mismatches.is_empty());
    let harness = summary.failures.iter().any(|f| f.class == "harness");
    if mismatch || harness {
        ExitCode::from(EXIT_HARNESS)
    } else if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn write_summary(summary: &Summary, out: &Path) -> Result<(), ExitCode> {
    let mut json = serde_json::to_vec_pretty(summary).expect("a summary serializes");
    json.push(b'\n');
    for (name, bytes) in [("summary.json", json), ("junit.xml", sweep::junit(summary).into_bytes())]
    {
        let path = out.join(name);
        if let Err(error) = sweep::write_atomically(&path, &bytes) {
            return Err(harness_error(format!("cannot write {}: {error}", path.display())));
        }
    }
    Ok(())
}

fn print_summary(summary: &Summary) {
    let shard =
        summary.shard.map_or(String::new(), |s| format!(" (shard {}/{})", s.index, s.count));
    say!(
        "sweep        seeds {}{shard}: {} runs, {} passed",
        summary.seeds,
        summary.runs,
        summary.passed
    );
    for scenario in &summary.scenarios {
        let failed: Vec<String> =
            scenario.failed.iter().map(|(class, count)| format!("{count} {class}")).collect();
        let failed = if failed.is_empty() { "none failed".to_owned() } else { failed.join(", ") };
        say!("  {:<50} {}/{} passed; {failed}", scenario.scenario, scenario.passed, scenario.runs);
    }
    for group in &summary.groups {
        say!("failure      {} x {} [{}]", group.count, group.signature, group.class);
        say!("  first      {}", group.runs.join(" "));
        say!("  replay     {}", group.replay);
    }
    if !summary.never_fired.is_empty() {
        say!(
            "inert        configured but never fired in any run: {}",
            summary.never_fired.join(", ")
        );
    }
    if let Some(audit) = &summary.determinism {
        say!("determinism  {} runs replayed, {} mismatches", audit.checked, audit.mismatches.len());
        for mismatch in &audit.mismatches {
            say!("  MISMATCH   {mismatch}");
        }
    }
}

// ---- check ----

fn run_check(path: &Path, format: Option<&str>, steps_max: u64) -> ExitCode {
    let format = match format.map(str::parse::<linearizability::read::HistoryFormat>).transpose() {
        Ok(format) => format,
        Err(error) => return bad_input(format!("--format: {error}")),
    };
    let budget = linearizability::Budget { steps_max, ..Default::default() };
    let started = Instant::now();
    let report = match linearizability::check_path(path, format, &budget) {
        Ok(report) => report,
        Err(error) => return bad_input(error),
    };
    let elapsed = started.elapsed();
    say_str!("{}", report.render());
    say!("time         {:.3} ms wall", elapsed.as_secs_f64() * 1e3);
    match report.verdict() {
        None => {
            say!("verdict      none: the history is empty");
            ExitCode::SUCCESS
        }
        Some(linearizability::Verdict::Linearizable) => ExitCode::SUCCESS,
        Some(linearizability::Verdict::NotLinearizable) => {
            ExitCode::from(Class::Linearizability.exit_code())
        }
        Some(linearizability::Verdict::Unknown) => {
            ExitCode::from(Class::CheckerUnknown.exit_code())
        }
    }
}

// ---- merge ----

fn run_merge(paths: &[PathBuf], out: &Path) -> ExitCode {
    let mut parts = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => return bad_input(format!("{}: {error}", path.display())),
        };
        // Check the version before the shape, so an old or newer summary is named as such.
        let version = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|value| value.get("version").and_then(serde_json::Value::as_u64));
        match version {
            Some(version) if version == u64::from(sweep::SUMMARY_VERSION) => {}
            Some(version) => {
                return bad_input(format!(
                    "{}: summary version {version}; this sim reads version {}",
                    path.display(),
                    sweep::SUMMARY_VERSION
                ))
            }
            None => {
                return bad_input(format!(
                    "{}: not a sweep summary (want the summary.json object `sim sweep` writes)",
                    path.display()
                ))
            }
        }
        match serde_json::from_str::<Summary>(&text) {
            Ok(summary) => {
                if let Some(shard) = summary.shard.filter(|s| s.index == 0 || s.index > s.count) {
                    return bad_input(format!(
                        "{}: shard {}/{} is not K/N with 1 <= K <= N",
                        path.display(),
                        shard.index,
                        shard.count
                    ));
                }
                parts.push(summary);
            }
            Err(error) => {
                return bad_input(format!("{}: not a sweep summary: {error}", path.display()))
            }
        }
    }
    let merged = match sweep::merge(parts) {
        Ok(merged) => merged,
        Err(error) => return bad_input(error),
    };
    if let Err(code) = write_summary(&merged, out) {
        return code;
    }
    print_summary(&merged);
    say!("outputs      {}/{{summary.json,junit.xml}}", out.display());
    sweep_exit_code(&merged)
}

// ---- bench ----

fn run_bench(paths: Vec<PathBuf>, seeds: u64) -> ExitCode {
    let paths = if paths.is_empty() {
        let mut found: Vec<PathBuf> = std::fs::read_dir("scenarios")
            .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        found.retain(|p| p.extension().is_some_and(|e| e == "json"));
        found.sort();
        found
    } else {
        paths
    };
    if paths.is_empty() || seeds == 0 {
        return bad_input("bench needs at least one scenario and one seed");
    }
    say!(
        "{:<44} {:>10} {:>12} {:>9} {:>9} {:>11} {:>12}",
        "scenario",
        "events/run",
        "events/s",
        "seeds/s 1",
        "seeds/s 2",
        "ms/run 1",
        "virtual/wall"
    );
    for path in &paths {
        let loaded = match load(path) {
            Ok(loaded) => loaded,
            Err(code) => return code,
        };
        let shown = path.display().to_string();
        let scenarios = [(shown.clone(), loaded)];
        let mut rates = Vec::new();
        let mut totals = (0, 0);
        for jobs in [1, 2] {
            let plan = SweepPlan {
                scenarios: &scenarios,
                seeds: SeedRange { first: 1, last: seeds },
                shard: None,
                jobs,
                swarm: false,
                check_determinism: false,
                runs_path: Path::new("/dev/null"),
            };
            let started = Instant::now();
            let summary = match sweep::sweep(&plan, &Quiet) {
                Ok(summary) => summary,
                Err(error) => return harness_error(format!("bench: {error}")),
            };
            let wall = started.elapsed().as_secs_f64().max(1e-9);
            totals = (summary.scenarios[0].events, summary.scenarios[0].virtual_us);
            rates.push((seeds as f64 / wall, wall));
        }
        let (events, virtual_us) = totals;
        let wall_1 = rates[0].1;
        say!(
            "{:<44} {:>10} {:>12.0} {:>9.0} {:>9.0} {:>11.3} {:>12.0}",
            shown,
            events / seeds,
            events as f64 / wall_1,
            rates[0].0,
            rates[1].0,
            wall_1 * 1e3 / seeds as f64,
            virtual_us as f64 / 1e6 / wall_1
        );
    }
    if let Some(peak) = peak_memory_kib() {
        say!(
            "peak memory  {:.1} MiB (resident high-water mark of this process)",
            peak as f64 / 1024.0
        );
    }
    ExitCode::SUCCESS
}

struct Quiet;

impl sweep::Progress for Quiet {
    fn update(&self, _: u64, _: u64, _: u64) {}
}

/// The process's peak resident memory from /proc (Linux); `None` elsewhere.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
