//! The manual's example 3: a master thread runs a TCP server; each connection is a child
//! thread that reads packets and passes them to the master, which logs them.
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
//! cargo run --example tcp_server -- --port 0
//! ```
#[path = "servers/cli.rs"]
mod cli;
mod support;

fn main() -> std::process::ExitCode {
    cli::main(task_thread_servers::Protocol::Packets)
}
