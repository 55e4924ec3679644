//! Style rules of this crate that rustfmt and clippy do not enforce: every Rust file opens
//! with a `//!` header saying what it owns, and no line is wider than 100 columns (rustfmt
//! leaves long string literals alone).

use std::path::{Path, PathBuf};

fn rust_files(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_file_has_a_module_header_and_fits_100_columns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for folder in ["src", "tests", "examples"] {
        rust_files(&root.join(folder), &mut files);
    }
    files.sort();
    assert!(files.len() >= 10, "found only {files:?}");
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if !text.starts_with("//!") {
            problems.push(format!("{}: no //! header", file.display()));
        }
        for (index, line) in text.lines().enumerate() {
            if line.chars().count() > 100 {
                problems.push(format!("{}:{}: wider than 100 columns", file.display(), index + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
