//! [`Duplex`]: the worker's end, for a plain blocking Rust program.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::frame::{read_frame, write_frame, FrameError, DEFAULT_MAX_FRAME};

/// A worker process's end of the pipes to its parent (the original's `ipc.Duplex`): it
/// receives `In`s from its stdin and sends `Out`s to its stdout, one frame each (see the
/// crate's docs for the format). Blocking, no runtime: a worker is an ordinary program.
///
/// The contract a worker keeps: when [`recv`](Self::recv) gives `Ok(None)` (its parent
/// closed its stdin: it is ending, or it died) the worker exits. Its parent then sees it
/// end cleanly; one that does not is sent SIGTERM, then SIGKILL. Nothing but frames may
/// be written to stdout: log to stderr.
///
/// ```no_run
/// use task_thread_process::Duplex;
///
/// // A worker that answers each number with its square, until its parent closes stdin.
/// fn main() -> Result<(), task_thread_process::FrameError> {
///     let mut duplex = Duplex::<u64, u64>::stdio();
///     while let Some(n) = duplex.recv()? {
///         duplex.send(&(n * n))?;
///     }
///     Ok(())
/// }
/// ```
pub struct Duplex<In, Out> {
    input: Box<dyn Read + Send>,
    output: Box<dyn Write + Send>,
    max_frame: usize,
    types: PhantomData<fn(Out) -> In>,
}

impl<In: DeserializeOwned, Out: Serialize> Duplex<In, Out> {
    /// Over this process's stdin and stdout.
    #[must_use]
    pub fn stdio() -> Self {
        Self::new(BufReader::new(io::stdin()), BufWriter::new(io::stdout()))
    }

    /// Over any pair of byte streams (a test's buffers, a socket).
    pub fn new(input: impl Read + Send + 'static, output: impl Write + Send + 'static) -> Self {
        Duplex {
            input: Box::new(input),
            output: Box::new(output),
            max_frame: DEFAULT_MAX_FRAME,
            types: PhantomData,
        }
    }

    /// The largest frame `recv` takes (default [`DEFAULT_MAX_FRAME`]).
    #[must_use]
    pub fn with_max_frame(mut self, max_frame: usize) -> Self {
        self.max_frame = max_frame;
        self
    }

    /// The next message from the parent, waiting for it; `Ok(None)` once stdin is closed
    /// (the worker should exit then).
    pub fn recv(&mut self) -> Result<Option<In>, FrameError> {
        read_frame(&mut self.input, self.max_frame)
    }

    /// Sends `message` to the parent, flushed at once.
    pub fn send(&mut self, message: &Out) -> Result<(), FrameError> {
        write_frame(&mut self.output, message)
    }
}

impl<In, Out> std::fmt::Debug for Duplex<In, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Duplex")
            .field("max_frame", &self.max_frame)
            .finish_non_exhaustive()
    }
}
