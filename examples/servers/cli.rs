//! The command line of both server examples: options, logging, the root thread.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use task_thread::Backend;
use task_thread_servers::{Master, Protocol, ServerOptions};

use crate::support;

/// One of the manual's TCP servers: a master thread listens, each connection is a child
/// thread, and Ctrl-C closes the listener and every connection.
#[derive(clap::Parser)]
struct Cli {
    /// The address to listen on
    #[arg(long, value_name = "A", default_value = "0.0.0.0")]
    address: IpAddr,
    /// The port to listen on; 0 picks a free one
    #[arg(long, value_name = "P", default_value_t = 5002)]
    port: u16,
    /// Seconds between two attempts to bind
    #[arg(long, value_name = "S", default_value = "5", value_parser = support::seconds)]
    pause: Duration,
    /// How many connections at once; one more is closed as soon as it is accepted
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_clients: usize,
    /// The longest blob a client may send, in bytes (streaming_server); a longer length
    /// prefix ends that connection. 16 MiB: room for the manual's 1 MiB blobs and larger
    #[arg(long, value_name = "BYTES", default_value_t = task_thread_servers::blobs::DEFAULT_MAX_FRAME)]
    max_frame: usize,
    /// Seconds a connection may send nothing before it is closed, so that silent clients
    /// cannot hold every slot of --max-clients (more than 0)
    #[arg(long, value_name = "S", default_value = "60", value_parser = idle_timeout)]
    idle_timeout: Duration,
    /// Log a snapshot of the live tree (the master, each connection, their slots and
    /// queues) every S seconds (more than 0)
    #[arg(long, value_name = "S", value_parser = support::positive_seconds)]
    tree_every: Option<Duration>,
    #[command(flatten)]
    common: support::Common,
}

/// `--idle-timeout`: seconds, more than 0 (0 would close every connection as it opens).
fn idle_timeout(text: &str) -> Result<Duration, String> {
    let timeout = support::seconds(text)?;
    if timeout.is_zero() {
        return Err("0 would close every connection at once: give more than 0".into());
    }
    Ok(timeout)
}

/// Runs the master with `protocol` until Ctrl-C (or `--seconds N`); the status says how
/// the tree ended.
pub fn main(protocol: Protocol) -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    support::init_logging();
    let server = ServerOptions {
        pause: cli.pause,
        max_clients: cli.max_clients,
        max_frame: cli.max_frame,
        idle_timeout: cli.idle_timeout,
        tree_every: cli.tree_every,
        ..ServerOptions::new(SocketAddr::new(cli.address, cli.port), protocol)
    };
    let master = Master::new(server).stopping_after(cli.common.seconds);
    cli.common.backend.run(master)
}
