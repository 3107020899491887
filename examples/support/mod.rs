//! What every example shares: command-line options and log output.
#![allow(dead_code)]

use std::io::IsTerminal;
use std::time::Duration;

use task_thread::Flavour;

/// The options every example takes, flattened into its own command line.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// The runtime to run on: tokio (multi-thread), tokio-current-thread, async-std or smol,
    /// each when its cargo feature is on
    #[arg(long, value_name = "NAME", default_value_t = Flavour::default())]
    pub backend: Flavour,
    /// Stop after N seconds (fractions allowed) [default: run until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = seconds)]
    pub seconds: Option<Duration>,
}

/// A number of seconds, fractions allowed, as a `Duration`.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    Duration::try_from_secs_f64(seconds).map_err(|error| format!("{seconds} s: {error}"))
}

/// A number of seconds more than 0 (for a period: 0 would repeat without pause).
pub fn positive_seconds(text: &str) -> Result<Duration, String> {
    let period = seconds(text)?;
    if period.is_zero() {
        return Err("0 would repeat without pause: give more than 0".into());
    }
    Ok(period)
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
