//! The task-thread manual's TCP servers (its examples 3 and 4): a [`Master`] thread runs a
//! TCP server and makes each connection a child thread, which passes what it reads to the
//! master as typed signals. The examples `tcp_server` and `streaming_server` run them from
//! the command line; the conformance suite (`task-thread-conformance`) runs them against
//! real clients on every backend, which is why they are a crate of their own.
//!
//! Networking is `async-net`: one runtime-independent implementation (its reactor is
//! `async-io`'s), so the same server code runs on tokio, async-std and smol without a
//! line per runtime, and no blocking call ever runs on a runtime's threads.
//!
//! A master on a free loopback port, stopping itself after a moment:
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Duration;
//! use task_thread::{Backend, ThreadEnd};
//! use task_thread_servers::{Master, Protocol, ServerEvent, ServerOptions};
//! use task_thread_smol::Smol;
//!
//! // Port 0: any free port; the other options at their defaults.
//! let options = ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)), Protocol::Packets);
//! let (events, observed) = async_channel::unbounded();
//! let master = Master::new(options)
//!     .with_events(events)
//!     .stopping_after(Some(Duration::from_millis(100)));
//! let report = Smol::default().block_on(|rt| async move { task_thread::run(&rt, master).await });
//! assert_eq!(*report.end(), ThreadEnd::Stopped);
//! assert!(matches!(observed.try_recv(), Ok(ServerEvent::Listening(_))));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod blobs;
mod options_error;

pub use options_error::OptionsError;

use std::net::SocketAddr;
use std::time::Duration;

use async_net::{TcpListener, TcpStream};
use futures::future::{select, Either};
use futures::{AsyncReadExt, AsyncWriteExt};
use task_thread::{
    BoxError, ChildRef, Flow, LeafThread, Next, Task, TaskCx, TaskThread, ThreadCx, ThreadEnd,
};

use blobs::{BlobDecoder, FrameError};

/// How a connection cuts what it reads into messages for the master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Each read is a packet (example 3).
    Packets,
    /// A hello message on connect, then length-prefixed blobs (example 4).
    Blobs,
}

/// What the master is told to do.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Where to listen; port 0 picks a free port.
    pub address: SocketAddr,
    /// How long to wait between two attempts to bind.
    pub pause: Duration,
    /// How many connections at most; one more is closed at once.
    pub max_clients: usize,
    /// How a connection cuts what it reads into messages.
    pub protocol: Protocol,
    /// The longest blob a connection takes ([`Protocol::Blobs`]); a longer length prefix
    /// ends that connection. See [`blobs::DEFAULT_MAX_FRAME`].
    pub max_frame: usize,
    /// How long a connection may send nothing before the server closes it, so that
    /// silent clients cannot hold every one of `max_clients` for ever.
    pub idle_timeout: Duration,
    /// How often the master logs a snapshot of its live tree (itself, its connections,
    /// their slots and queues); `None` for never. Zero is refused
    /// ([`OptionsError::TreeEveryZero`]).
    pub tree_every: Option<Duration>,
}

/// How long a connection may stay silent by default: a minute, as long as a client that
/// is merely slow or thinking would pause, and short enough that a slot held by a silent
/// client comes back within the minute.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl ServerOptions {
    /// Listening on `address` with `protocol`, everything else at its default: a pause of
    /// 5 s between attempts to bind, 10 clients, [`blobs::DEFAULT_MAX_FRAME`] and
    /// [`DEFAULT_IDLE_TIMEOUT`] (the examples' defaults).
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use std::time::Duration;
    /// use task_thread_servers::{Protocol, ServerOptions};
    ///
    /// let options = ServerOptions {
    ///     max_clients: 100,
    ///     idle_timeout: Duration::from_secs(10),
    ///     ..ServerOptions::new(SocketAddr::from(([0, 0, 0, 0], 5002)), Protocol::Blobs)
    /// };
    /// assert_eq!(options.max_frame, task_thread_servers::blobs::DEFAULT_MAX_FRAME);
    /// ```
    pub fn new(address: SocketAddr, protocol: Protocol) -> Self {
        ServerOptions {
            address,
            pause: Duration::from_secs(5),
            max_clients: 10,
            protocol,
            max_frame: blobs::DEFAULT_MAX_FRAME,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            tree_every: None,
        }
    }

    /// Whether the master accepts these options (its `enter` fails with the error if not).
    pub fn check(&self) -> Result<(), OptionsError> {
        if self.tree_every == Some(Duration::ZERO) {
            return Err(OptionsError::TreeEveryZero);
        }
        Ok(())
    }
}

/// What the master reports to an observer (a test, a dashboard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// Bound and accepting, on this address.
    Listening(SocketAddr),
    /// Binding failed; the master retries after its pause.
    BindFailed(String),
    /// A connection became the child with this id.
    Admitted(String),
    /// A connection was closed at once: `max_clients` were connected.
    Refused(SocketAddr),
    /// The child with this id ended and left the registry.
    Ended(String),
    /// A packet or a blob from the child with this id.
    Received(String, Vec<u8>),
}

/// Reads this much at most per run of a connection's reader: 64 KiB is what one read of a
/// TCP socket usually returns at most, so a busy stream costs one reschedule per 64 KiB
/// (about 16 per MiB) instead of one per 1,500-byte packet (about 700 per MiB).
pub const READ_CHUNK: usize = 64 * 1024;

/// The server: binds (retrying), accepts, and makes each connection a child thread.
pub struct Master {
    options: ServerOptions,
    events: Option<async_channel::Sender<ServerEvent>>,
    stop_after: Option<Duration>,
}

impl Master {
    /// A master that serves as `options` say, reporting to no one and running until it is
    /// terminated.
    pub fn new(options: ServerOptions) -> Self {
        Master {
            options,
            events: None,
            stop_after: None,
        }
    }

    /// Reports what happens on `events`.
    pub fn with_events(mut self, events: async_channel::Sender<ServerEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// Stops after this long (`--seconds N`).
    pub fn stopping_after(mut self, after: Option<Duration>) -> Self {
        self.stop_after = after;
        self
    }
}

fn report(events: &Option<async_channel::Sender<ServerEvent>>, event: ServerEvent) {
    if let Some(events) = events {
        let _ = events.try_send(event);
    }
}

impl TaskThread for Master {
    type Signal = ();
    type Output = ();
    type ChildOutput = Vec<u8>;

    fn id(&self) -> String {
        "master".into()
    }

    fn info(&self) -> String {
        format!("TCP server on {}", self.options.address)
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.options.check()?;
        // The first attempt is made here: an error no retry clears (no permission for the
        // port, an address not on this host) fails the master, so that the program exits
        // with a failure status instead of retrying for ever; any other (the port in use,
        // the manual's case) is retried by the task.
        let first = match listen(self.options.address) {
            Err(error) if retrying_cannot_help(&error) => {
                tracing::error!("cannot bind {}: {error}", self.options.address);
                return Err(Box::new(error));
            }
            first => Some(first),
        };
        let bind = Bind {
            options: self.options.clone(),
            events: self.events.clone(),
            first,
        };
        cx.slot("bind").re_create(bind).await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        if let Some(every) = self.options.tree_every {
            // Reads the tree without waiting for any of its threads: a busy connection
            // delays nothing.
            cx.slot("tree")
                .re_create_fn(move |task| async move {
                    task.sleep(every).await;
                    if !task.is_shutting_down() {
                        tracing::info!("the live tree:\n{}", task.thread().snapshot());
                        task.re_schedule();
                    }
                })
                .await?;
        }
        Ok(())
    }

    async fn on_child_signal(
        &mut self,
        data: Vec<u8>,
        child: &ChildRef,
        _cx: &ThreadCx<Self>,
    ) -> Flow {
        match self.options.protocol {
            Protocol::Packets => {
                tracing::info!("packet of {} bytes from {}", data.len(), child.id())
            }
            Protocol::Blobs => {
                tracing::info!("payload of {} bytes from {}", data.len(), child.id())
            }
        }
        report(
            &self.events,
            ServerEvent::Received(child.id().to_owned(), data),
        );
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _cx: &ThreadCx<Self>,
    ) -> Flow {
        tracing::info!("connection {} ended ({end:?})", child.id());
        report(&self.events, ServerEvent::Ended(child.id().to_owned()));
        Flow::Continue
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        // The tasks have ended by now, so the listener is closed; the children are
        // terminated next, which closes every connection (defect 14 of the original left
        // both open).
        tracing::info!("closing the listener and {} connections", cx.child_count());
        Ok(())
    }
}

/// Binds the listener, retrying every `pause`; then hands it to the accepting task.
struct Bind {
    options: ServerOptions,
    events: Option<async_channel::Sender<ServerEvent>>,
    /// The master's own first attempt, taken by the first run.
    first: Option<std::io::Result<TcpListener>>,
}

/// Whether binding failed for a reason that waiting does not clear: retrying is for a port
/// that another program holds for now.
fn retrying_cannot_help(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::PermissionDenied | ErrorKind::AddrNotAvailable | ErrorKind::InvalidInput
    )
}

/// How many connections the kernel queues for the master before it accepts them. Rust's
/// standard library asks for 128: a burst of connects overflowed it, and the kernel dropped
/// the rest (the client retries a second later, then 3, 7, ... seconds; a connect completed
/// by SYN cookie while the queue was full could wait for ever). 1,024 holds the bursts
/// the manual's servers are tried with; the kernel caps it at `net.core.somaxconn`
/// (4,096 by default since Linux 5.4).
pub const LISTEN_BACKLOG: i32 = 1024;

/// A listener on `address` with a queue of [`LISTEN_BACKLOG`] connections.
fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    // As the standard library does on Unix: a restarted server can bind the port while
    // connections of its previous run linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    TcpListener::try_from(std::net::TcpListener::from(socket))
}

impl Task<Master> for Bind {
    async fn run(&mut self, cx: &TaskCx<Master>) -> Next {
        let attempt = match self.first.take() {
            Some(first) => first,
            None => listen(self.options.address),
        };
        match attempt {
            Ok(listener) => {
                let address = listener.local_addr().unwrap_or(self.options.address);
                tracing::info!("listening on {address}");
                report(&self.events, ServerEvent::Listening(address));
                let accept = Accept {
                    listener,
                    options: self.options.clone(),
                    events: self.events.clone(),
                    accepted: 0,
                };
                // Waiting in `accept` holds nothing to finish: no grace at shutdown.
                let slot = cx.thread().slot("accept");
                if let Err(error) = slot.cancel_at_once().re_create(accept).await {
                    tracing::error!("cannot start accepting: {error}");
                }
                Next::Stop
            }
            Err(error) => {
                tracing::warn!(
                    "cannot bind {}: {error}; retrying in {:?}",
                    self.options.address,
                    self.options.pause
                );
                report(&self.events, ServerEvent::BindFailed(error.to_string()));
                cx.sleep(self.options.pause).await;
                Next::Reschedule
            }
        }
    }
}

/// Accepts one connection per run: a child thread, or closed at once past `max_clients`.
/// (One per run is not what made a burst slow: taking up to 64 queued ones per run measured
/// the same, 1,000 connects greeted in about 0.1 s on every runtime; the queue's length was.)
struct Accept {
    listener: TcpListener,
    options: ServerOptions,
    events: Option<async_channel::Sender<ServerEvent>>,
    accepted: u64,
}

impl Task<Master> for Accept {
    async fn run(&mut self, cx: &TaskCx<Master>) -> Next {
        let (stream, peer) = match self.listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!("accept failed: {error}");
                cx.sleep(self.options.pause).await;
                return Next::Reschedule;
            }
        };
        let master = cx.thread();
        if master.child_count() >= self.options.max_clients {
            tracing::warn!(
                "refusing {peer}: {} clients connected already (max_clients)",
                self.options.max_clients
            );
            drop(stream); // closed at once: the client sees end-of-stream (defect 15)
            report(&self.events, ServerEvent::Refused(peer));
            return Next::Reschedule;
        }
        self.accepted += 1;
        let id = format!("client-{}-{peer}", self.accepted);
        let connection = Connection {
            id: id.clone(),
            peer,
            stream: Some(stream),
            options: self.options.clone(),
        };
        match master.spawn_child(connection).await {
            Ok(_) => report(&self.events, ServerEvent::Admitted(id)),
            Err(error) => tracing::warn!("connection {id} not started: {error}"),
        }
        Next::Reschedule
    }
}

/// One connection: reads what the peer sends and passes it to the master; stops itself
/// when the peer closes or fails, stays silent past the idle timeout, or sends a frame over
/// the limit. Ending closes the connection.
struct Connection {
    id: String,
    peer: SocketAddr,
    stream: Option<TcpStream>,
    options: ServerOptions,
}

impl LeafThread for Connection {
    type Signal = ();
    type Output = Vec<u8>;

    fn id(&self) -> String {
        self.id.clone()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let mut stream = self.stream.take().ok_or("a connection enters once")?;
        if self.options.protocol == Protocol::Blobs {
            stream
                .write_all(&blobs::frame(blobs::HELLO.as_bytes()))
                .await?;
        }
        let reader = Reader {
            stream,
            peer: self.peer,
            protocol: self.options.protocol,
            idle_timeout: self.options.idle_timeout,
            decoder: BlobDecoder::new(self.options.max_frame),
            empty_frames: 0,
            buffer: vec![0; READ_CHUNK],
        };
        // A read waits on the peer, which the shutdown notice does not end: cancelled at
        // once, as the connection closes anyway.
        cx.slot("read").cancel_at_once().re_create(reader).await?;
        Ok(())
    }
}

/// Reads one chunk per run (the stream is closed when this task is dropped).
struct Reader {
    stream: TcpStream,
    peer: SocketAddr,
    protocol: Protocol,
    idle_timeout: Duration,
    decoder: BlobDecoder,
    /// Zero-length frames received: well-formed, but carrying nothing for the master, so
    /// counted and reported once at the end rather than passed on one by one (each would
    /// have been a signal and a line of log for 4 bytes of input).
    empty_frames: u64,
    buffer: Vec<u8>,
}

/// Why a connection's reader stops.
enum Closing {
    PeerClosed,
    ReadFailed(std::io::Error),
    Idle,
    Refused(FrameError),
}

impl Reader {
    /// Logs why the connection ends, with what it loses, and ends its thread.
    fn close(&self, why: Closing, cx: &TaskCx<Connection>) -> Next {
        let peer = self.peer;
        match why {
            Closing::PeerClosed => tracing::info!("peer {peer} closed"),
            Closing::ReadFailed(error) => tracing::warn!("read from {peer} failed: {error}"),
            Closing::Idle => tracing::info!(
                "{peer} idle for {:?} (idle timeout): closing",
                self.idle_timeout
            ),
            Closing::Refused(error) => tracing::warn!("{peer} sent {error}: closing"),
        }
        if let Some(partial) = self.decoder.partial() {
            tracing::warn!(
                "{peer}: stream ended mid-frame, lost {} bytes ({partial})",
                partial.bytes_lost()
            );
        }
        if self.empty_frames > 0 {
            tracing::info!("{peer} sent {} empty frames (ignored)", self.empty_frames);
        }
        cx.thread().handle().terminate();
        Next::Stop
    }
}

impl Task<Connection> for Reader {
    async fn run(&mut self, cx: &TaskCx<Connection>) -> Next {
        // Silence means no bytes at all: any read, an empty frame's too, restarts the clock.
        let read = {
            let read = std::pin::pin!(self.stream.read(&mut self.buffer));
            let idle = std::pin::pin!(cx.sleep(self.idle_timeout));
            match select(read, idle).await {
                Either::Left((read, _)) => read,
                // The sleep also ends at the thread's shutdown: then no word of idleness.
                Either::Right(_) if cx.is_shutting_down() => return Next::Stop,
                Either::Right(_) => return self.close(Closing::Idle, cx),
            }
        };
        let read = match read {
            Ok(0) => return self.close(Closing::PeerClosed, cx),
            Ok(read) => read,
            Err(error) => return self.close(Closing::ReadFailed(error), cx),
        };
        let chunk = &self.buffer[..read];
        let (messages, refused) = match self.protocol {
            Protocol::Packets => (vec![chunk.to_vec()], None),
            Protocol::Blobs => {
                let fed = self.decoder.feed(chunk);
                (fed.blobs, fed.refused)
            }
        };
        // The blobs before a refused prefix are whole: delivered, then the connection ends.
        for message in messages {
            if message.is_empty() {
                self.empty_frames += 1;
                continue;
            }
            if cx.thread().send_to_parent(message).await.is_err() {
                return Next::Stop; // the master is gone
            }
        }
        match refused {
            Some(error) => self.close(Closing::Refused(error), cx),
            None => Next::Reschedule,
        }
    }
}
