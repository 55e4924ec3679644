//! `kvnode`: one replica of the key-value store as a UDP process, started the way the course
//! simulator starts `3700kvstore`: `kvnode [--data-dir DIR] <UDP port> <own id> <other ids...>`.

use std::process::ExitCode;

use node::process::{self, Options};

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("kvnode: {error}");
            return ExitCode::from(2);
        }
    };
    match process::run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kvnode {}: error: {error}", options.id);
            ExitCode::FAILURE
        }
    }
}
