//! The `sim` command line: run a scenario from a seed and report.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim::{Class, Scenario};

/// Exit code for bad input: a malformed scenario or an unusable argument.
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a failure of the harness itself (for example, an unwritable report).
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { scenario, seed, report_dir, trace } => {
            run(&scenario, seed, &report_dir, trace.as_deref())
        }
    }
}

fn run(path: &Path, seed: Option<u64>, report_dir: &Path, trace: Option<&Path>) -> ExitCode {
    let loaded = match Scenario::load(path) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    for warning in &loaded.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    let seed = seed.or(loaded.scenario.seed).unwrap_or(0);
    let shown = path.display().to_string();
    let report = match trace {
        None => sim::run(&shown, &loaded, seed),
        Some(trace_path) => match run_traced(&shown, &loaded, seed, trace_path) {
            Ok(report) => report,
            Err(error) => {
                eprintln!("error: cannot write trace {}: {error}", trace_path.display());
                return ExitCode::from(EXIT_HARNESS);
            }
        },
    };
    print!("{}", report.summary());
    let stem = path.file_stem().map_or("scenario".into(), |s| s.to_string_lossy());
    let report_path = report_dir.join(format!("{stem}-seed{seed}.json"));
    if let Err(error) = write_report(&report_path, &report) {
        eprintln!("error: cannot write report {}: {error}", report_path.display());
        return ExitCode::from(EXIT_HARNESS);
    }
    println!("report       {}", report_path.display());
    if report.class != Class::Pass {
        println!("replay       {}", report.replay);
    }
    ExitCode::from(report.class.exit_code())
}

fn run_traced(
    shown: &str,
    loaded: &sim::Loaded,
    seed: u64,
    trace_path: &Path,
) -> std::io::Result<sim::RunReport> {
    let header = "# event\ttime_us\twhat\treplica state after the event\n";
    if trace_path == Path::new("-") {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        out.write_all(header.as_bytes())?;
        let report = sim::run_traced(shown, loaded, seed, &mut out)?;
        out.flush()?;
        return Ok(report);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(trace_path)?);
    out.write_all(header.as_bytes())?;
    let report = sim::run_traced(shown, loaded, seed, &mut out)?;
    out.flush()?;
    Ok(report)
}

fn write_report(path: &Path, report: &sim::RunReport) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    // Write beside and rename, so a crash never leaves a half-written report behind.
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, json)?;
    std::fs::rename(&partial, path)
}
