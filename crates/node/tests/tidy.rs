//! Style rules for this crate that rustfmt leaves alone: each Rust file in `src` and `tests`
//! starts with a `//!` header saying what it owns or proves, and no line (comments and string
//! literals included) is wider than 100 columns.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn sources_have_module_headers_and_stay_within_100_columns() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = sources(&crate_dir.join("src"));
    files.extend(sources(&crate_dir.join("tests")));
    let mut complaints = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("utf-8 source");
        if !text.starts_with("//!") {
            complaints.push(format!("{}: missing //! header", file.display()));
        }
        let wide = text.lines().enumerate().filter(|(_, line)| line.chars().count() > 100);
        for (number, _) in wide {
            complaints.push(format!("{}:{}: over 100 columns", file.display(), number + 1));
        }
    }
    assert!(files.len() > 8, "too few sources found: {files:?}");
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}
