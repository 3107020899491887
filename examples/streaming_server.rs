//! The manual's example 4: like `tcp_server`, but each connection first writes a hello
//! message (a 4-byte big-endian length, then `{"message": "hello!"}`) and then reassembles
//! the length-prefixed blobs its client streams; the master logs each whole blob. An empty
//! blob (length 0) carries nothing: it is counted, not passed on, and the count is logged
//! once when the connection ends. A stream cut inside a blob is logged with the bytes lost.
//!
//! Options: `--address A` (default 0.0.0.0), `--port P` (default 5002; 0 picks a free
//! port), `--pause S` (seconds between attempts to bind, default 5), `--max-clients N`
//! (default 10), `--idle-timeout S` (seconds a connection may stay silent, default 60),
//! `--max-frame BYTES` (the longest blob, default 16 MiB; `streaming_server` only),
//! `--tree-every S` (log a snapshot of the live tree every S seconds), plus `--backend` and
//! `--seconds`. Ctrl-C closes the listener and every
//! connection, then ends.
//!
//! ```text
//! cargo run --example streaming_server -- --port 0
//! ```
#[path = "servers/cli.rs"]
mod cli;
mod support;

fn main() -> std::process::ExitCode {
    cli::main(task_thread_servers::Protocol::Blobs)
}
