//! The worker process of the conformance suite's `processes` cases (and of the process
//! benchmark): a plain blocking program on [`Duplex`], told by its argument how to behave.
//! It answers `"pid"` with its process id, in every mode.
//!
//! - `echo`: answers every other request with itself; exits when its stdin ends.
//! - `crash`: exits with status 3 at the first other request, without answering it.
//! - `deaf`: echoes, but does not exit when its stdin ends, and ignores SIGTERM.
//! - `malformed`: answers the first other request with a length prefix announcing 4 GiB,
//!   then waits, deaf, to be killed.
#![forbid(unsafe_code)]

use std::io::Write;
use std::time::Duration;

use task_thread_process::{Duplex, FrameError};

fn main() -> Result<(), FrameError> {
    let mode = std::env::args().nth(1).unwrap_or_default();
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
                deaf_forever();
            }
            _ => duplex.send(&request)?,
        }
    }
    if mode == "deaf" {
        deaf_forever();
    }
    Ok(())
}

/// Never exits by itself: only SIGKILL ends it.
fn deaf_forever() -> ! {
    // Listening to SIGTERM replaces its default action (ending the process): it is ignored.
    let _ignored = async_signal::Signals::new([async_signal::Signal::Term]);
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
