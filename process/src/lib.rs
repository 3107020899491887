//! Worker processes as child threads of a [task-thread](https://docs.rs/task-thread) tree
//! (the original's `ipc.py`): a program in another process, in any language, that the tree
//! starts, sends to, hears from and ends as any child thread.
//!
//! - [`ProcessWorker`] is the parent's side: the handler of a
//!   [`Blocking`](task_thread::Blocking) thread that runs the program and pumps its pipes
//!   on OS threads of its own, so it runs the same on every backend (no runtime's process
//!   API: tokio's, async-process' and async-std's differ, and the pumping is blocking I/O).
//! - [`Duplex`] is the worker's side, for a plain blocking Rust program.
//!
//! # The frames
//!
//! On the worker's stdin (requests) and stdout (replies), each message is one frame: its
//! length in bytes as a 4-byte big-endian unsigned integer, then that many bytes of UTF-8
//! JSON (serde's JSON of the Rust type: a struct is an object, an enum variant
//! `{"Variant": ...}`, a `String` a string). Nothing else goes on stdout (a worker logs to
//! stderr, which is its parent's). The worker exits when its stdin ends.
//!
//! Why JSON: every language reads it with its standard library (Python's `json` and
//! `struct` are all a worker needs), and a frame can be read by eye when something goes
//! wrong. It is not the fastest format (bincode or postcard would be several times faster
//! for large binary payloads, and bytes in JSON are arrays of numbers): a process boundary
//! is for work that costs more than its messages; see BENCHMARKS.md for the cost.
//!
//! A frame longer than the reader's limit (16 MiB by default) is refused before any of it
//! is held, and the buffer of a frame within the limit grows with the bytes that arrive,
//! in steps of 64 KiB, never to the length announced: under a limit of 16 MiB, a worker
//! announcing 16 MiB and sending 10 bytes costs 64 KiB (one announcing 4 GiB is refused
//! at once; it would cost 64 KiB too under a limit of 4 GiB).
//!
//! # The worker's end, per platform
//!
//! The worker never outlives its thread: at a terminate its stdin is closed, then SIGTERM
//! and SIGKILL follow before the thread's shutdown deadline ([`ProcessWorker`]), and it is
//! always waited for. If the parent process itself dies (killed, or crashed), the pipes close
//! with it, and a worker keeping the contract (exit at the end of stdin) exits: that is
//! the guarantee on every platform. Linux's `PR_SET_PDEATHSIG` would also kill a worker
//! that does not keep it, but it needs `unsafe` code between fork and exec, which this
//! crate does not have; a program that needs it sets it on the `Command` it hands over
//! (`CommandExt::pre_exec`). On Windows there is no SIGTERM: the worker is killed
//! (`TerminateProcess`) at the SIGTERM's time.
//!
//! # A worker in Python
//!
//! ```python
//! import json, struct, sys
//!
//! def recv():
//!     prefix = sys.stdin.buffer.read(4)
//!     if len(prefix) < 4:
//!         return None  # stdin closed: the parent wants us to exit
//!     (length,) = struct.unpack(">I", prefix)
//!     return json.loads(sys.stdin.buffer.read(length))
//!
//! def send(message):
//!     payload = json.dumps(message).encode()
//!     sys.stdout.buffer.write(struct.pack(">I", len(payload)) + payload)
//!     sys.stdout.buffer.flush()
//!
//! while (request := recv()) is not None:
//!     send(request.upper())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod duplex;
mod ending;
mod error;
mod frame;
mod worker;

pub use duplex::Duplex;
pub use error::ProcessError;
pub use frame::{read_frame, write_frame, FrameError, DEFAULT_MAX_FRAME};
pub use worker::{ProcessWorker, Replies};
