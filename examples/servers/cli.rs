//! The command line of both server examples: options, logging, the root thread.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use task_thread::Backend;

use crate::servers::{Master, Protocol, ServerOptions};
use crate::support;

/// Runs the master with `protocol` until Ctrl-C (or `--seconds N`); the status says how
/// the tree ended.
pub fn main(protocol: Protocol) -> ExitCode {
    support::init_logging();
    let options = support::Options::from_args();
    let address: IpAddr = options.get("--address", IpAddr::from([0, 0, 0, 0]));
    let server = ServerOptions {
        address: SocketAddr::new(address, options.get("--port", 5002)),
        pause: Duration::from_secs_f64(options.get("--pause", 5.0)),
        max_clients: options.get("--max-clients", 10),
        protocol,
    };
    let master = Master::new(server).stopping_after(options.seconds);
    options.backend.run(master)
}
