//! The manual's TCP servers (`task-thread-servers`), end to end over loopback: real clients,
//! the master's registry, `max_clients`, closing at exit, bind retries, blob reassembly.

use std::net::SocketAddr;
use std::time::Duration;

use async_net::TcpStream;
use futures::{AsyncReadExt, AsyncWriteExt};
use task_thread::{start, Runtime, ThreadEnd, ThreadHandle};
use task_thread_servers::blobs::{frame, HELLO};
use task_thread_servers::{Master, Protocol, ServerEvent, ServerOptions};

/// What the master reports, kept until a case asks for it: events of different clients
/// interleave, and none may be lost while waiting for another.
struct Events {
    receiver: async_channel::Receiver<ServerEvent>,
    unclaimed: std::cell::RefCell<Vec<ServerEvent>>,
}

fn options(address: SocketAddr, protocol: Protocol, max_clients: usize) -> ServerOptions {
    ServerOptions {
        address,
        pause: Duration::from_millis(20),
        max_clients,
        protocol,
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn start_server(rt: &Runtime, options: ServerOptions) -> (ThreadHandle<Master>, Events) {
    let (report, receiver) = async_channel::unbounded();
    let master = start(rt, Master::new(options).with_events(report))
        .await
        .unwrap();
    let events = Events {
        receiver,
        unclaimed: Default::default(),
    };
    (master, events)
}

/// The first event, in order of arrival, that `wanted` accepts; the others stay for later.
async fn next_event<T>(
    events: &Events,
    what: &str,
    wanted: impl Fn(&ServerEvent) -> Option<T>,
) -> T {
    let mut unclaimed = events.unclaimed.take();
    if let Some(index) = unclaimed.iter().position(|e| wanted(e).is_some()) {
        let event = unclaimed.remove(index);
        events.unclaimed.replace(unclaimed);
        return wanted(&event).expect("checked just above");
    }
    loop {
        let event = events
            .receiver
            .recv()
            .await
            .unwrap_or_else(|_| panic!("no event {what}"));
        match wanted(&event) {
            Some(found) => {
                events.unclaimed.replace(unclaimed);
                return found;
            }
            None => unclaimed.push(event),
        }
    }
}

async fn listening(events: &Events) -> SocketAddr {
    next_event(events, "Listening", |e| match e {
        ServerEvent::Listening(address) => Some(*address),
        _ => None,
    })
    .await
}

async fn admitted(events: &Events) -> String {
    next_event(events, "Admitted", |e| match e {
        ServerEvent::Admitted(id) => Some(id.clone()),
        _ => None,
    })
    .await
}

/// Collects what the master received from `id` until it adds up to `expected` bytes.
async fn received_from(events: &Events, id: &str, expected: usize) -> Vec<u8> {
    let mut data = Vec::new();
    while data.len() < expected {
        let part = next_event(events, "Received", |e| match e {
            ServerEvent::Received(from, part) if from == id => Some(part.clone()),
            _ => None,
        })
        .await;
        data.extend(part);
    }
    data
}

async fn ended(events: &Events, id: &str) {
    next_event(events, "Ended", |e| match e {
        ServerEvent::Ended(gone) if gone == id => Some(()),
        _ => None,
    })
    .await
}

/// Reads until end-of-stream; returns how many bytes came before it.
async fn read_to_end(stream: &mut TcpStream) -> usize {
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .await
        .expect("end-of-stream, not an error");
    rest.len()
}

/// Clients connect, send and leave: the registry grows to 2 and shrinks again; exactly
/// `max_clients` are admitted and the next is closed at once (defect 15); after `join` the
/// listener and every connection are closed (defect 14).
pub async fn tcp_server_admits_up_to_max_clients_and_closes_everything_at_exit(rt: Runtime) {
    let (master, events) = start_server(&rt, options(loopback(), Protocol::Packets, 2)).await;
    let address = listening(&events).await;

    let mut first = TcpStream::connect(address).await.unwrap();
    let first_id = admitted(&events).await;
    let mut second = TcpStream::connect(address).await.unwrap();
    let second_id = admitted(&events).await;

    first.write_all(b"from the first").await.unwrap();
    second.write_all(b"from the second").await.unwrap();
    assert_eq!(
        received_from(&events, &first_id, 14).await,
        b"from the first"
    );
    assert_eq!(
        received_from(&events, &second_id, 15).await,
        b"from the second"
    );

    let mut refused = TcpStream::connect(address).await.unwrap();
    next_event(&events, "Refused", |e| {
        matches!(e, ServerEvent::Refused(_)).then_some(())
    })
    .await;
    assert_eq!(read_to_end(&mut refused).await, 0);

    drop(first);
    ended(&events, &first_id).await;
    drop(second);
    ended(&events, &second_id).await;

    // Both left the registry: a client is admitted again.
    let mut last = TcpStream::connect(address).await.unwrap();
    admitted(&events).await;
    master.terminate();
    assert_eq!(master.join().await, ThreadEnd::Stopped);
    assert_eq!(
        read_to_end(&mut last).await,
        0,
        "a connected client sees end-of-stream"
    );
    let late = TcpStream::connect(address).await;
    assert!(late.is_err(), "a client was accepted after join");
}

/// A port already bound makes the master retry every pause, and succeed once it is free.
pub async fn tcp_server_retries_binding_until_the_port_is_free(rt: Runtime) {
    let blocker = async_net::TcpListener::bind(loopback()).await.unwrap();
    let address = blocker.local_addr().unwrap();
    let (master, events) = start_server(&rt, options(address, Protocol::Packets, 1)).await;
    for _ in 0..2 {
        next_event(&events, "BindFailed", |e| {
            matches!(e, ServerEvent::BindFailed(_)).then_some(())
        })
        .await;
    }
    drop(blocker);
    assert_eq!(listening(&events).await, address);
    let _client = TcpStream::connect(address).await.unwrap();
    admitted(&events).await;
    master.terminate();
    master.join().await;
}

/// 22, 68 and 1,024 bytes, then 50 blobs of 1 MiB, each with its own content.
fn blobs() -> Vec<Vec<u8>> {
    let sizes = [22, 68, 1024]
        .into_iter()
        .chain(std::iter::repeat_n(1 << 20, 50));
    sizes
        .enumerate()
        .map(|(i, size)| {
            let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (i as u64 + 1);
            let mut blob = Vec::with_capacity(size + 8);
            while blob.len() < size {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                blob.extend_from_slice(&state.to_le_bytes());
            }
            blob.truncate(size);
            blob
        })
        .collect()
}

/// The streaming server says hello, then reassembles blobs cut at arbitrary places (a blob
/// over many writes, several blobs and part of the next in one, a length prefix split) and
/// hands the master exactly those blobs, in order; terminating it then ends everything.
pub async fn streaming_server_reassembles_every_blob_exactly(rt: Runtime) {
    let (master, events) = start_server(&rt, options(loopback(), Protocol::Blobs, 4)).await;
    let address = listening(&events).await;
    let mut client = TcpStream::connect(address).await.unwrap();
    let id = admitted(&events).await;

    let mut length = [0; 4];
    client.read_exact(&mut length).await.unwrap();
    let mut hello = vec![0; u32::from_be_bytes(length) as usize];
    client.read_exact(&mut hello).await.unwrap();
    assert_eq!(hello, HELLO.as_bytes());

    let blobs = blobs();
    let stream: Vec<u8> = blobs.iter().flat_map(|blob| frame(blob)).collect();
    let cuts = [1, 3, 2, 4099, 70_001, 5, 333_333, 7];
    let mut sent = 0;
    for cut in cuts.iter().cycle() {
        if sent == stream.len() {
            break;
        }
        let end = (sent + cut).min(stream.len());
        client.write_all(&stream[sent..end]).await.unwrap();
        sent = end;
    }
    for (i, expected) in blobs.iter().enumerate() {
        let blob = next_event(&events, "Received", |e| match e {
            ServerEvent::Received(from, blob) if *from == id => Some(blob.clone()),
            _ => None,
        })
        .await;
        assert!(
            blob == *expected,
            "blob {i} ({} bytes) differs",
            expected.len()
        );
    }
    master.terminate();
    assert_eq!(master.join().await, ThreadEnd::Stopped);
    assert_eq!(read_to_end(&mut client).await, 0);
}
