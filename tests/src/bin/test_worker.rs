//! The worker process of the conformance suite's `processes` cases (and of the process
//! benchmark): a plain blocking program on [`Duplex`], told by its argument how to behave.
//! It answers `"pid"` with its process id, in every mode.
//!
//! - `echo`: answers every other request with itself; exits when its stdin ends.
//! - `crash`: exits with status 3 at the first other request, without answering it.
//! - `deaf`: echoes, but does not exit when its stdin ends, and ignores SIGTERM. Given a
//!   second argument, a file, it appends what it sees there, one line each: `stdin closed`,
//!   then `SIGTERM` for each SIGTERM it ignores.
//! - `malformed`: answers the first other request with a length prefix announcing 4 GiB,
//!   then waits, deaf, to be killed.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_signal::{Signal, Signals};
use futures::StreamExt;
use task_thread_process::{Duplex, FrameError};

fn main() -> Result<(), FrameError> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let events = args.next().map(PathBuf::from);
    // Deaf from the start: listening to SIGTERM replaces its default action (ending the
    // process), so one that comes before the worker reads the end of its stdin is ignored
    // too, not fatal.
    let sigterm = matches!(mode.as_str(), "deaf" | "malformed")
        .then(|| Signals::new([Signal::Term]).expect("SIGTERM can be listened to"));
    let mut duplex = Duplex::<String, String>::stdio();
    while let Some(request) = duplex.recv()? {
        if request == "pid" {
            duplex.send(&std::process::id().to_string())?;
            continue;
        }
        match mode.as_str() {
            "crash" => std::process::exit(3),
            "malformed" => {
                let mut stdout = std::io::stdout();
                let _ = stdout
                    .write_all(&u32::MAX.to_be_bytes())
                    .and_then(|()| stdout.flush());
                deaf_forever(sigterm, None);
            }
            _ => duplex.send(&request)?,
        }
    }
    if mode == "deaf" {
        record(events.as_deref(), "stdin closed");
        deaf_forever(sigterm, events.as_deref());
    }
    Ok(())
}

/// Never exits by itself: only SIGKILL ends it. Each SIGTERM is recorded in `events`.
fn deaf_forever(sigterm: Option<Signals>, events: Option<&Path>) -> ! {
    if let Some(mut sigterm) = sigterm {
        while let Some(Ok(_)) = futures::executor::block_on(sigterm.next()) {
            record(events, "SIGTERM");
        }
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Appends `event` to the file `events`, if there is one: written through at once, so
/// that it is there even if the worker is killed right after.
fn record(events: Option<&Path>, event: &str) {
    let Some(events) = events else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(events)
        .and_then(|mut file| file.write_all(format!("{event}\n").as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "test worker: cannot record {event:?} in {}: {error}",
            events.display()
        );
    }
}
