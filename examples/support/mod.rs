//! What every example shares: command-line options and log output.
#![allow(dead_code)]

use std::io::IsTerminal;
use std::time::Duration;

use task_thread::Flavour;

/// Options every example accepts: `--backend NAME` (tokio, tokio-current-thread, async-std,
/// smol; default: the first compiled in) and `--seconds N` (stop after N seconds; default:
/// run until Ctrl-C). Other `--name value` pairs are kept for the example.
pub struct Options {
    pub backend: Flavour,
    pub seconds: Option<Duration>,
    pub rest: Vec<(String, String)>,
}

impl Options {
    pub fn from_args() -> Self {
        let mut options = Options {
            backend: Flavour::default(),
            seconds: None,
            rest: Vec::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(name) = args.next() {
            let value = args
                .next()
                .unwrap_or_else(|| exit_usage(&format!("{name} needs a value")));
            match name.as_str() {
                "--backend" => {
                    options.backend = value
                        .parse()
                        .unwrap_or_else(|e| exit_usage(&format!("{e}")))
                }
                "--seconds" => {
                    let seconds: f64 = value.parse().unwrap_or_else(|_| {
                        exit_usage(&format!("--seconds {value}: not a number"))
                    });
                    options.seconds = Some(Duration::from_secs_f64(seconds));
                }
                _ if name.starts_with("--") => options.rest.push((name, value)),
                _ => exit_usage(&format!("unexpected argument '{name}'")),
            }
        }
        options
    }

    /// The value of `--name`, parsed, or `default`.
    pub fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        match self.rest.iter().find(|(n, _)| n == name) {
            Some((_, value)) => value
                .parse()
                .unwrap_or_else(|_| exit_usage(&format!("{name} {value}: not valid"))),
            None => default,
        }
    }
}

fn exit_usage(problem: &str) -> ! {
    eprintln!("error: {problem}\nusage: [--backend tokio|tokio-current-thread|async-std|smol] [--seconds N]");
    std::process::exit(2)
}

/// Prints `tracing` output to stderr; `RUST_LOG` filters it (default: info).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes would litter a log written to a file or read through a pipe.
        .with_ansi(colour_wanted())
        .init();
}

/// Whether stderr is a terminal and NO_COLOR (<https://no-color.org>) is unset or empty.
fn colour_wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
