//! Style rules of the whole workspace that rustfmt and clippy do not enforce: every Rust
//! file opens with a `//!` header saying what it owns or proves, no line is wider than 100
//! columns (rustfmt leaves long string literals alone), a known gap names its issue (as in
//! `TODO(#12)`), and no test is ignored. One test covers every crate, so a new crate is
//! checked without being told.

use std::path::{Path, PathBuf};

fn rust_files(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_rust_file_has_a_header_fits_100_columns_and_names_its_gaps() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("the crates folder") {
        let krate = krate.expect("a crate folder").path();
        for part in ["src", "tests", "examples", "benches"] {
            rust_files(&krate.join(part), &mut files);
        }
    }
    files.sort();
    let mut complaints = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a UTF-8 source file");
        if !text.starts_with("//!") {
            complaints.push(format!("{}: no //! header", file.display()));
        }
        for (number, line) in text.lines().enumerate() {
            let at = format!("{}:{}", file.display(), number + 1);
            if line.chars().count() > 100 {
                complaints.push(format!("{at}: wider than 100 columns"));
            }
            // The marks are assembled, so that this file does not contain them itself.
            let marks = [concat!("TO", "DO"), concat!("FIX", "ME")];
            for mark in marks {
                let untracked = line.match_indices(mark).any(|(i, _)| {
                    let rest = &line[i + mark.len()..];
                    !(rest.starts_with("(#") && rest[2..].starts_with(|c: char| c.is_ascii_digit()))
                });
                if untracked {
                    complaints.push(format!("{at}: {mark} without its issue, as {mark}(#N)"));
                }
            }
            if line.trim_start().starts_with(concat!("#[", "ignore")) {
                complaints.push(format!("{at}: an ignored test"));
            }
        }
    }
    assert!(files.len() > 50, "too few sources found under {}: {files:?}", crates.display());
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}
