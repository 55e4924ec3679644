//! `harness`: plays course configs against `kvnode` processes on 127.0.0.1 and prints, per
//! config, the run's record, the pass checks and the four scored figures with their tiers.
//!
//! `harness [--time-scale F] [--seed N] [--node PATH] [--kill term|kill] [--data-dirs]
//! CONFIG...`; exits 0 when every config passes, 1 when one fails, 2 on bad input.
//!
//! `harness --serve N --client-port P [--node PATH] [--data-dirs]` instead starts N replicas,
//! routes between them without loss, and forwards JSON requests sent to 127.0.0.1:P to the
//! replica named in their `dst`, and the replies back: a cluster to try by hand.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use node::harness::cluster::{fresh_work_dir, Cluster, Launch, Signal};
use node::harness::course::CourseConfig;
use node::harness::outcome::tier_name;
use node::harness::run::{run, RunOptions};
use replica::NodeId;

const USAGE: &str = "usage: harness [--time-scale F] [--seed N] [--node PATH] [--kill term|kill] \
                     [--data-dirs] CONFIG...\n       harness --serve N --client-port P \
                     [--node PATH] [--data-dirs]";

struct Args {
    time_scale: f64,
    seed: Option<u64>,
    node: PathBuf,
    kill_signal: Signal,
    data_dirs: bool,
    configs: Vec<PathBuf>,
    /// `--serve N`: replicas to serve by hand.
    serve: Option<u16>,
    client_port: u16,
}

fn parse_args() -> Result<Args, String> {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("kvnode")))
        .unwrap_or_else(|| PathBuf::from("kvnode"));
    let mut args = Args {
        time_scale: 1.0,
        seed: None,
        node: sibling,
        kill_signal: Signal::Kill,
        data_dirs: false,
        configs: Vec::new(),
        serve: None,
        client_port: 0,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(arg) = raw.next() {
        let mut value = |name: &str| raw.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--time-scale" => {
                let text = value("--time-scale")?;
                args.time_scale = text
                    .parse()
                    .ok()
                    .filter(|scale: &f64| *scale > 0.0 && scale.is_finite())
                    .ok_or(format!("bad time scale {text:?}"))?;
            }
            "--seed" => {
                let text = value("--seed")?;
                args.seed = Some(text.parse().map_err(|_| format!("bad seed {text:?}"))?);
            }
            "--node" => args.node = PathBuf::from(value("--node")?),
            "--kill" => {
                args.kill_signal = match value("--kill")?.as_str() {
                    "term" => Signal::Term,
                    "kill" => Signal::Kill,
                    other => return Err(format!("bad signal {other:?}: want term or kill")),
                }
            }
            "--data-dirs" => args.data_dirs = true,
            "--serve" => {
                let text = value("--serve")?;
                let replicas = text.parse().ok().filter(|n| (1..=21).contains(n));
                args.serve = Some(replicas.ok_or(format!("bad replica count {text:?}"))?);
            }
            "--client-port" => {
                let text = value("--client-port")?;
                args.client_port = text.parse().map_err(|_| format!("bad port {text:?}"))?;
            }
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ => args.configs.push(PathBuf::from(arg)),
        }
    }
    if args.serve.is_some() {
        return Ok(args);
    }
    if args.configs.is_empty() {
        return Err("no config given".to_owned());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("harness: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(replicas) = args.serve {
        return match serve(&args, replicas) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("harness: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let mut table = Vec::new();
    let mut all_pass = true;
    for path in &args.configs {
        let (config, warnings) = match CourseConfig::read(path) {
            Ok(read) => read,
            Err(error) => {
                eprintln!("harness: {error}");
                return ExitCode::from(2);
            }
        };
        for warning in warnings {
            eprintln!("harness: warning: {warning}");
        }
        let seed = args.seed.or(config.seed).unwrap_or(1);
        let scaled = config.time_scaled(args.time_scale);
        let work_dir = fresh_work_dir(&path.to_string_lossy());
        let launch = Launch {
            program: args.node.clone(),
            replicas: 0,
            work_dir: work_dir.clone(),
            data_dirs: args.data_dirs,
        };
        let options = RunOptions { launch, seed, kill_signal: args.kill_signal };
        println!("config       {} (time scale {}, seed {seed})", path.display(), args.time_scale);
        let outcome = match run(&scaled, &options) {
            Ok(outcome) => outcome,
            Err(error) => {
                eprintln!("harness: {}: could not run: {error}", path.display());
                return ExitCode::from(2);
            }
        };
        print!("{}", outcome.render(&scaled));
        println!("replica logs {}", work_dir.display());
        println!();
        let passed = outcome.violations(&scaled).is_empty();
        all_pass &= passed;
        let name = path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        table.push((name, outcome.figures(&scaled), passed));
    }
    println!("| config | total_msgs | failures | duplicates | median_latency | result |");
    println!("|---|---|---|---|---|---|");
    for (name, figures, passed) in table {
        let [msgs, failures, duplicates, median] = figures.values;
        let [t0, t1, t2, t3] = figures.tiers;
        println!(
            "| {name} | {msgs} ({}) | {failures} ({}) | {duplicates} ({}) | {:.3} ms ({}) | {} |",
            tier_name(t0),
            tier_name(t1),
            tier_name(t2),
            median * 1e3,
            tier_name(t3),
            if passed { "pass" } else { "FAIL" }
        );
    }
    if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Serves a cluster by hand until interrupted (the replicas share our process group, so
/// Ctrl-C stops them too).
fn serve(args: &Args, replicas: u16) -> std::io::Result<()> {
    let work_dir = fresh_work_dir("serve");
    let launch = Launch {
        program: args.node.clone(),
        replicas,
        work_dir: work_dir.clone(),
        data_dirs: args.data_dirs,
    };
    let mut cluster = Cluster::start(launch, 0)?;
    cluster.await_hellos(Duration::from_secs(5));
    let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, args.client_port))?;
    client.set_nonblocking(true)?;
    println!(
        "serving {replicas} replicas (logs and data in {}); send JSON requests to {}",
        work_dir.display(),
        client.local_addr()?
    );
    let mut last_client = None;
    let mut buffer = vec![0u8; 65_536];
    loop {
        while let Ok((length, addr)) = client.recv_from(&mut buffer) {
            last_client = Some(addr);
            let dst = serde_json::from_slice::<serde_json::Value>(&buffer[..length])
                .ok()
                .and_then(|value| value.get("dst").and_then(|dst| dst.as_str()).map(str::to_owned))
                .and_then(|dst| NodeId::parse(&dst))
                .map(|dst| usize::from(dst.0))
                .filter(|&dst| dst < cluster.len());
            match dst {
                Some(dst) => {
                    cluster.send_to(dst, &buffer[..length]);
                }
                None => eprintln!("harness: a request without a replica dst; ignored"),
            }
        }
        cluster.route_plainly_until(Instant::now() + Duration::from_millis(5), |datagram| {
            if let Some(addr) = last_client {
                let _ = client.send_to(&datagram.bytes, addr);
            }
            false
        });
        for (id, status) in cluster.reap_died() {
            eprintln!("harness: replica {id} exited: {status}");
        }
    }
}
