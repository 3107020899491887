//! [`ProcessWorker`]: a worker process as the handler of a blocking thread.

use std::collections::VecDeque;
use std::io::{BufReader, BufWriter};
use std::marker::PhantomData;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::Serialize;
use task_thread::{BlockingLink, BlockingThread, BoxError, ThreadConfig};

use crate::ending::{self, lock, Deadlines, Ended, SharedChild};
use crate::error::ProcessError;
use crate::frame::{read_payload, write_payload, FrameError, DEFAULT_MAX_FRAME};

/// How the worker answers, which says which requests were in flight when it died.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replies {
    /// Exactly one frame per request, in order (the default): a request written and not
    /// answered when the worker dies is handed back to the undelivered hook.
    OnePerRequest,
    /// Any number of frames, whenever the worker likes: only a request whose writing
    /// failed is handed back.
    Free,
}

/// A program run as a child thread: each signal from the parent is written to its stdin
/// as a frame, each frame it writes to its stdout comes up as the thread's output, and
/// its exit is the thread's end. Wrap it in [`Blocking`](task_thread::Blocking) to start
/// it; the frames are a 4-byte big-endian length and JSON (see the crate's docs).
///
/// - **Its end.** Exiting by itself with success ends the thread `Stopped`; with a failure
///   (a non-zero code, a signal: a crash) `Failed` with [`ProcessError::Exited`]. A frame
///   that cannot be read (over the limit, not the JSON expected, cut short) kills it at
///   once: `Failed` with [`ProcessError::Protocol`]. Nothing of it reaches the parent's
///   tree but its end: a crash never hangs the parent.
/// - **Terminate.** Its stdin is closed (a worker exits when it reads the end of its
///   input: [`Duplex::recv`](crate::Duplex::recv) gives `None`); the steps after that are
///   placed before the thread's shutdown deadline ([`BlockingLink::shutdown_deadline`]:
///   its [`shutdown_budget`](ThreadConfig::shutdown_budget) from the terminate, or its
///   parent's deadline if sooner): if it has not exited after two fifths of the time left
///   it gets SIGTERM, and SIGKILL after four fifths ([`ProcessError::Killed`]), the last
///   fifth left to reap it, so that its thread ends as killed, not forced. A sooner
///   deadline that comes while it ends (its parent's cascade) brings the steps left
///   forward. It is always waited for (no zombie). If the thread is forced with no
///   deadline given first (a force down the tree, its runtime dropping it), it is killed
///   at once, before the thread's end is recorded (on the runtime's thread, which does
///   not wait for it to die), and reaped by the handler's OS thread right after. On Unix
///   it runs in a process group of its own, so that a Ctrl-C at the terminal reaches its
///   parent alone, which ends it in this order; the signals go to that whole group, and
///   once the worker has exited, whatever is left of its group is killed before it is
///   reaped (a shell running the real worker without `exec`, a helper holding its
///   stdout). A process of its that leaves the group (`setsid`, `setpgid`) escapes all of
///   this.
/// - **In flight.** With [`Replies::OnePerRequest`], requests written and not answered
///   when the worker dies, then the signals never written, go to the undelivered hook
///   ([`on_undelivered`](Self::on_undelivered)), in the order sent; so do, first, the
///   requests whose reply the parent's queue refused (its overflow policy
///   [`Reject`](task_thread::OverflowPolicy::Reject) and the queue full, or the thread's
///   end), and those JSON cannot write (never sent: an error says why, and the worker
///   goes on with the next): a request is either answered to the parent or handed back,
///   once. With [`Replies::Free`] such a reply is logged as an error and dropped.
/// - **What it costs.** Three OS threads while the worker runs (the handler's, which waits
///   for the end and ends the process, and one per pipe, so that a worker that stops
///   reading its stdin blocks a write, never its own end), and the process. A worker that
///   hands its stdout to a process that left its group (see above) and outlives it keeps
///   the reading thread (and so the thread's end) waiting until that process closes it:
///   the thread is then forced at its budget's end, and the reading thread left behind.
///
/// ```no_run
/// use std::process::Command;
/// use task_thread::{Blocking, BoxError, ChildRef, Flow, TaskThread, ThreadCx};
/// use task_thread_process::ProcessWorker;
///
/// struct Master;
///
/// impl TaskThread for Master {
///     type Signal = ();
///     type Output = ();
///     type ChildOutput = String; // the worker's replies
///
///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
///         let mut python = Command::new("python3");
///         python.arg("worker.py");
///         let worker = ProcessWorker::<String, String>::new("upper", python);
///         let worker = cx.spawn_child(Blocking::new(worker)).await?;
///         let _ = worker.send("hello".into()).await;
///         Ok(())
///     }
///
///     async fn on_child_signal(&mut self, reply: String, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
///         tracing::info!("the worker says {reply}");
///         Flow::Continue
///     }
/// }
/// ```
pub struct ProcessWorker<Req, Resp> {
    id: String,
    command: Command,
    config: ThreadConfig,
    max_frame: usize,
    replies: Replies,
    undelivered: Box<dyn FnMut(Vec<Req>) + Send>,
    reply: PhantomData<fn() -> Resp>,
}

impl<Req, Resp> ProcessWorker<Req, Resp>
where
    Req: Serialize + Send + 'static,
    Resp: DeserializeOwned + Send + 'static,
{
    /// A worker with the thread id `id` that runs `command` (its stdin and stdout become
    /// the pipes; its stderr is the parent's, for its logs).
    pub fn new(id: impl Into<String>, command: Command) -> Self {
        ProcessWorker {
            id: id.into(),
            command,
            config: ThreadConfig::default(),
            max_frame: DEFAULT_MAX_FRAME,
            replies: Replies::OnePerRequest,
            undelivered: Box::new(|requests: Vec<Req>| {
                tracing::warn!(
                    count = requests.len(),
                    "requests undelivered to the worker process"
                );
            }),
            reply: PhantomData,
        }
    }

    /// The thread's settings (its budget bounds the worker's end, see above; so does its
    /// parent's).
    #[must_use]
    pub fn with_config(mut self, config: ThreadConfig) -> Self {
        self.config = config;
        self
    }

    /// The largest frame taken from the worker (default 16 MiB).
    #[must_use]
    pub fn with_max_frame(mut self, max_frame: usize) -> Self {
        self.max_frame = max_frame;
        self
    }

    /// How the worker answers (default [`Replies::OnePerRequest`]).
    #[must_use]
    pub fn with_replies(mut self, replies: Replies) -> Self {
        self.replies = replies;
        self
    }

    /// What to do with the requests the worker never answered or never got (default: log
    /// how many). Called in up to two batches, each in the order sent: the requests handed
    /// back by the exchange (answered in vain, not writable, in flight when the worker
    /// ended), on the worker's OS thread as it ends; then the signals never written to the
    /// worker, from the thread's shutdown on a runtime thread. Keep it short and
    /// non-blocking: the second call holds up the thread's end on the runtime.
    #[must_use]
    pub fn on_undelivered(mut self, hook: impl FnMut(Vec<Req>) + Send + 'static) -> Self {
        self.undelivered = Box::new(hook);
        self
    }
}

impl<Req, Resp> BlockingThread for ProcessWorker<Req, Resp>
where
    Req: Serialize + Send + 'static,
    Resp: DeserializeOwned + Send + 'static,
{
    type Signal = Req;
    type Output = Resp;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn config(&self) -> ThreadConfig {
        self.config
    }

    fn run(&mut self, link: &BlockingLink<Req, Resp>) -> Result<(), BoxError> {
        let program = self.command.get_program().to_string_lossy().into_owned();
        // A group of its own: a Ctrl-C at the terminal reaches the parent alone, which
        // ends its workers in order, within its budget.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut self.command, 0);
        let mut child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|source| ProcessError::Spawn { program, source })?;
        tracing::info!(thread = %self.id, pid = child.id(), "worker process started");
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = ending::kill(child);
            return Err(
                ProcessError::Io(std::io::Error::other("the worker's pipes are missing")).into(),
            );
        };
        let child: SharedChild = Arc::new(Mutex::new(ending::Worker::new(child)));
        // Forced (no deadline reached it first, or this OS thread missed it), the thread
        // ends without waiting for this OS thread: the worker is killed then, before the
        // thread's end is recorded, and reaped here.
        let release = child.clone();
        link.on_abandon(move || ending::kill_abandoned(&release));
        let exchange = Exchange {
            link,
            in_flight: Mutex::new(VecDeque::new()),
            handed_back: Mutex::new(Vec::new()),
            broken: Mutex::new(None),
            ended_first: AtomicBool::new(false),
            max_frame: self.max_frame,
            replies: self.replies,
        };
        let budget = self.config.shutdown_budget;
        let ended = std::thread::scope(|scope| {
            // Each direction on a thread of its own: a worker that stops reading its stdin
            // blocks a write, not the end of the worker.
            let started = std::thread::Builder::new()
                .name(format!("{}-stdout", self.id))
                .spawn_scoped(scope, || exchange.read(stdout))
                .and_then(|_| {
                    std::thread::Builder::new()
                        .name(format!("{}-stdin", self.id))
                        .spawn_scoped(scope, || exchange.write(stdin))
                });
            if let Err(error) = started {
                tracing::error!(thread = %self.id, "no thread to talk to the worker: {error}");
                link.close();
            }
            // Terminated, or the worker's stdout ended, or its stdin broke.
            link.wait_stopping();
            let mut deadlines = if lock(&exchange.broken).is_some() {
                Deadlines::now()
            } else {
                Deadlines::toward(link.shutdown_deadline(), budget)
            };
            // Once the worker is gone, its pipes are closed, and both threads end.
            let ended = ending::end(&child, &mut deadlines, link);
            if ended.is_err() {
                // Waiting failed: killed all the same, or the reader would wait for ever.
                let _ = lock(&child).kill();
            }
            ended
        });
        // Those answered in vain first: they were sent before those still in flight.
        let mut handed_back = exchange
            .handed_back
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        handed_back.extend(
            exchange
                .in_flight
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
        );
        if !handed_back.is_empty() {
            (self.undelivered)(handed_back);
        }
        let asked_to_stop = !exchange.ended_first.load(Ordering::Acquire);
        let broken = exchange
            .broken
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        let outcome = match (ended.map_err(ProcessError::Io)?, broken) {
            (Ended::Exited(status) | Ended::Killed(_, status), Some(error)) => {
                Err(ProcessError::Protocol { error, status })
            }
            (Ended::Exited(status), None) if status.success() => Ok(()),
            (Ended::Exited(status), None) => Err(ProcessError::Exited { status }),
            (Ended::Killed(by, status), None) if asked_to_stop => {
                Err(ProcessError::Killed { by, status })
            }
            (Ended::Killed(_, status), None) => Err(ProcessError::Exited { status }),
        };
        tracing::info!(thread = %self.id, "worker process ended: {outcome:?}");
        outcome.map_err(Into::into)
    }

    fn on_undelivered(&mut self, signals: Vec<Req>) {
        (self.undelivered)(signals);
    }
}

/// The two directions of the pipes, each on its own OS thread.
struct Exchange<'a, Req, Resp> {
    link: &'a BlockingLink<Req, Resp>,
    /// Requests written (or being written) and not answered yet.
    in_flight: Mutex<VecDeque<Req>>,
    /// Requests handed back before the end, in order: answered, their reply refused by the
    /// parent's queue (its overflow policy `Reject`, or the thread ending); or never
    /// written, JSON cannot write them. Handed back with those in flight.
    handed_back: Mutex<Vec<Req>>,
    /// What the worker sent that could not be read.
    broken: Mutex<Option<FrameError>>,
    /// The worker closed its stdout before the thread asked it to stop.
    ended_first: AtomicBool,
    max_frame: usize,
    replies: Replies,
}

impl<Req: Serialize, Resp: DeserializeOwned> Exchange<'_, Req, Resp> {
    /// Writes each signal to the worker's stdin, until the thread stops or the worker is
    /// gone; then closes its stdin (dropped with the writer).
    fn write(&self, stdin: ChildStdin) {
        let mut stdin = BufWriter::new(stdin);
        while let Some(request) = self.link.recv() {
            // Written as JSON first: one that cannot be is handed back, never in flight
            // (the worker would not answer it), and the worker goes on with the next.
            let payload = match serde_json::to_vec(&request) {
                Ok(payload) => payload,
                Err(error) => {
                    let error = FrameError::Unserializable(error);
                    tracing::error!("a request is handed back, not sent to the worker: {error}");
                    lock(&self.handed_back).push(request);
                    continue;
                }
            };
            // Kept until answered: a worker dying now hands it back.
            lock(&self.in_flight).push_back(request);
            match write_payload(&mut stdin, &payload) {
                Ok(()) if self.replies == Replies::Free => {
                    lock(&self.in_flight).pop_back();
                }
                Ok(()) => {}
                // The worker has closed its stdin (it died, most likely): end it.
                Err(error) => {
                    tracing::warn!("a request could not be written to the worker: {error}");
                    self.link.close();
                    break;
                }
            }
        }
    }

    /// Sends each frame of the worker's stdout up to the parent, until it ends or breaks
    /// the protocol; then wakes the writer.
    fn read(&self, stdout: ChildStdout) {
        let mut stdout = BufReader::new(stdout);
        loop {
            let reply = read_payload(&mut stdout, self.max_frame).and_then(|payload| {
                payload
                    .map(|payload| {
                        serde_json::from_slice::<Resp>(&payload).map_err(FrameError::Json)
                    })
                    .transpose()
            });
            match reply {
                Ok(Some(reply)) => {
                    // The request stays in flight until its reply is in the parent's
                    // queue: one whose reply is refused there goes back to the hook.
                    let sent = self.link.send(reply);
                    let answered = (self.replies == Replies::OnePerRequest)
                        .then(|| lock(&self.in_flight).pop_front())
                        .flatten();
                    if let Err(lost) = sent {
                        tracing::error!(
                            "a reply of the worker process did not reach the parent ({lost}): \
                             {}",
                            if answered.is_some() {
                                "its request is handed back"
                            } else {
                                "dropped"
                            }
                        );
                        lock(&self.handed_back).extend(answered);
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::error!("the worker process broke the protocol: {error}");
                    *lock(&self.broken) = Some(error);
                    break;
                }
            }
        }
        self.ended_first
            .store(!self.link.is_stopping(), Ordering::Release);
        self.link.close();
    }
}
