//! `check_file` end to end on files written here: the simulator's JSON in both shapes, format
//! sniffing, empty files, and read errors that name the file, the line and the problem.

use std::path::PathBuf;

use linearizability::read::{HistoryFormat, ReadErrorKind};
use linearizability::{check_file, FileCheckOptions, Verdict};

/// Writes `text` to a fresh file in cargo's scratch folder for integration tests.
fn write(name: &str, text: &str) -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("linearizability-files");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const STALE_READ: &str = r#"[
  {"id": 1, "client": 1, "key": "k1", "input": {"put": "a"}, "call_us": 0, "return_us": 100,
   "outcome": {"ok": ""}},
  {"id": 2, "client": 2, "key": "k1", "input": {"put": "b"}, "call_us": 200, "return_us": 300,
   "outcome": {"ok": ""}},
  {"id": 3, "client": 3, "key": "k1", "input": "get", "call_us": 400, "return_us": 500,
   "outcome": {"ok": "a"}},
  {"id": 4, "client": 1, "key": "k2", "input": {"append": "x"}, "call_us": 0, "return_us": null,
   "outcome": "unknown"}
]"#;

#[test]
fn simulator_json_array_and_object_give_the_same_report() {
    let array = check_file(&write("array.json", STALE_READ), &FileCheckOptions::default()).unwrap();
    let wrapped_text = format!("{{\"seed\": 42, \"history\": {STALE_READ}}}");
    let wrapped =
        check_file(&write("object.json", &wrapped_text), &FileCheckOptions::default()).unwrap();
    assert_eq!(array.format, HistoryFormat::SimJson);
    assert_eq!(array.operations, 4);
    assert_eq!(array.report, wrapped.report);
    let report = array.report.unwrap();
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    let (key, violation) = report.violation().unwrap();
    assert_eq!(key, "k1");
    assert_eq!(violation.operation_ids, vec![3, 2]);
    // Simulator times are microseconds.
    assert!(violation.explanation.contains("[400us, 500us]"), "{}", violation.explanation);
}

#[test]
fn log_formats_are_sniffed_and_use_line_numbers() {
    let jepsen = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                  INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                  INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                  INFO  jepsen.util - 1\t:ok\t:read\tnil\n";
    let file = check_file(&write("stale.log", jepsen), &FileCheckOptions::default()).unwrap();
    assert_eq!(file.format, HistoryFormat::JepsenRegister);
    let report = file.report.unwrap();
    let (key, violation) = report.violation().unwrap();
    assert_eq!(key, "register");
    assert_eq!(violation.operation_ids, vec![3, 1]);
    assert!(violation.explanation.contains("[line 3, line 4]"), "{}", violation.explanation);

    let kv = "{:process 0, :type :invoke, :f :put, :key \"a\", :value \"1\"}\n\
              {:process 0, :type :ok, :f :put, :key \"a\", :value \"1\"}\n";
    let file = check_file(&write("kv.txt", kv), &FileCheckOptions::default()).unwrap();
    assert_eq!(file.format, HistoryFormat::KvLog);
    assert_eq!(file.report.unwrap().verdict, Verdict::Linearizable);
}

#[test]
fn an_empty_file_has_no_verdict() {
    let file = check_file(&write("empty.log", ""), &FileCheckOptions::default()).unwrap();
    assert_eq!(file.format, HistoryFormat::JepsenRegister);
    assert_eq!(file.operations, 0);
    assert_eq!(file.report, None);
}

#[test]
fn read_errors_name_file_line_and_problem() {
    let path = write("bad.log", "INFO  jepsen.util - 0\t:invoke\t:cas\t[1 two]\n");
    let error = check_file(&path, &FileCheckOptions::default()).unwrap_err();
    assert_eq!(error.path, path);
    assert_eq!(error.line, Some(1));
    assert_eq!(
        error.to_string(),
        format!("{}:1: expected a pair like [1 2], found \"[1 two]\"", path.display())
    );

    let path = write("bad.json", "[\n  {\"id\": 1}\n]");
    let error = check_file(&path, &FileCheckOptions::default()).unwrap_err();
    assert_eq!(error.line, Some(2));
    assert!(error.to_string().contains("missing field `client`"), "{error}");

    let path = write("prose.txt", "hello\n");
    let error = check_file(&path, &FileCheckOptions::default()).unwrap_err();
    assert_eq!(error.kind, ReadErrorKind::UnknownFormat);

    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-file.json");
    let error = check_file(&missing, &FileCheckOptions::default()).unwrap_err();
    assert!(matches!(error.kind, ReadErrorKind::Io { .. }), "{error}");
}

#[test]
fn check_path_forces_a_format_and_renders_what_the_cli_prints() {
    use linearizability::{check_path, Budget};
    let path = write("stale.json", STALE_READ);
    // The same file, sniffed and forced, gives the same report.
    let sniffed = check_path(&path, None, &Budget::default()).unwrap();
    let forced = check_path(&path, Some("sim".parse().unwrap()), &Budget::default()).unwrap();
    assert_eq!(sniffed, forced);
    assert_eq!(forced.verdict(), Some(Verdict::NotLinearizable));
    // Forced to the wrong format, it is a read error naming the line.
    let error = check_path(&path, Some(HistoryFormat::KvLog), &Budget::default()).unwrap_err();
    assert_eq!(error.line, Some(1), "{error}");
    assert!("csv".parse::<HistoryFormat>().is_err());

    let text = forced.render();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("file {} (sim, 4 operations)", path.display()));
    assert_eq!(lines[1], "key \"k1\": NOT linearizable, 3 operations, 3 steps, memo peak 2");
    assert!(lines[2].starts_with("key \"k2\": linearizable, 1 operations"), "{text}");
    assert!(lines[3].starts_with("total: NOT linearizable, 2 keys, "), "{text}");
    assert!(text.contains("stale read on key \"k1\""), "{text}");
    assert!(text.lines().all(|line| line.chars().count() <= 100), "{text}");
    assert!(text.lines().count() <= 25, "{text}");
}
