//! The manual's example 4: like `tcp_server`, but each connection first writes a hello
//! message (a 4-byte big-endian length, then `{"message": "hello!"}`) and then reassembles
//! the length-prefixed blobs its client streams; the master logs each whole blob.
//!
//! Options: `--address A` (default 0.0.0.0), `--port P` (default 5002; 0 picks a free
//! port), `--pause S` (seconds between attempts to bind, default 5), `--max-clients N`
//! (default 10), plus `--backend` and `--seconds`. Ctrl-C closes the listener and every
//! connection, then ends.
//!
//! ```text
//! cargo run --example streaming_server -- --port 0
//! ```
mod servers;
mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use servers::{Master, Protocol, ServerOptions};
use task_thread::Backend;

fn main() {
    support::init_logging();
    let options = support::Options::from_args();
    let address: IpAddr = options.get("--address", IpAddr::from([0, 0, 0, 0]));
    let server = ServerOptions {
        address: SocketAddr::new(address, options.get("--port", 5002)),
        pause: Duration::from_secs_f64(options.get("--pause", 5.0)),
        max_clients: options.get("--max-clients", 10),
        protocol: Protocol::Blobs,
    };
    let end = options.backend.block_on(|rt| async move {
        tracing::info!(
            "running on {}; Ctrl-C stops",
            task_thread::Spawner::name(&rt)
        );
        let master = Master::new(server).stopping_after(options.seconds);
        task_thread::run(&rt, master).await
    });
    tracing::info!("ended: {end:?}");
}
