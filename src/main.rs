//! The `kiln` command: `kiln tour` runs the seed tour (Dask's front-page array example and a
//! few more expressions on generated data), `kiln bench` times the benchmark workloads once.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("tour") => cli::tour::run(&args[1..]),
        Some("bench") => cli::bench::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{}", cli::USAGE).into()),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln: {e}");
            ExitCode::FAILURE
        }
    }
}
