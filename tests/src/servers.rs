//! The manual's TCP servers (`task-thread-servers`), end to end over loopback: real clients,
//! the master's registry, `max_clients`, closing at exit, bind retries, blob reassembly,
//! and what hostile or careless clients do: frames over the limit, silence, frames cut
//! short, empty frames, a burst of connects.

use std::net::SocketAddr;
use std::time::Duration;

use async_net::TcpStream;
use futures::{AsyncReadExt, AsyncWriteExt};
use task_thread::{start, Runtime, ThreadEnd, ThreadHandle};
use task_thread_servers::blobs::{frame, HELLO};
use task_thread_servers::{Master, OptionsError, Protocol, ServerEvent, ServerOptions};

/// What the master reports, kept until a case asks for it: events of different clients
/// interleave, and none may be lost while waiting for another.
struct Events {
    receiver: async_channel::Receiver<ServerEvent>,
    unclaimed: std::cell::RefCell<Vec<ServerEvent>>,
}

fn options(address: SocketAddr, protocol: Protocol, max_clients: usize) -> ServerOptions {
    ServerOptions {
        pause: Duration::from_millis(20),
        max_clients,
        ..ServerOptions::new(address, protocol)
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

/// Connects to the streaming server and reads its hello; returns the stream, its id on the
/// server and the client's own address as the server's log names it.
async fn greeted_client(events: &Events, address: SocketAddr) -> (TcpStream, String, String) {
    let mut client = TcpStream::connect(address).await.unwrap();
    let id = admitted(events).await;
    read_hello(&mut client).await;
    let peer = client.local_addr().unwrap().to_string();
    (client, id, peer)
}

async fn read_hello(client: &mut TcpStream) {
    let mut hello = vec![0; 4 + HELLO.len()];
    client.read_exact(&mut hello).await.unwrap();
    assert_eq!(&hello[4..], HELLO.as_bytes());
}

/// A length prefix over `max_frame` ends that connection at once, with a WARN naming the
/// peer and the length it announced; a frame at the limit is taken, also when the refused
/// prefix follows it in the same read; other clients are not disturbed. (Before, the server reserved the announced length, up to 4 GiB, and waited
/// for it.)
pub async fn streaming_server_ends_a_connection_announcing_more_than_max_frame(rt: Runtime) {
    let limited = ServerOptions {
        max_frame: 1024,
        ..options(loopback(), Protocol::Blobs, 4)
    };
    let (master, events) = start_server(&rt, limited).await;
    let address = listening(&events).await;
    let (mut bystander, bystander_id, _) = greeted_client(&events, address).await;
    let (mut hostile, id, peer) = greeted_client(&events, address).await;

    // In one write, so most likely one read: the blob is whole and delivered, then the
    // prefix is refused (found in review: the first version dropped the blob with it).
    let at_the_limit_then_hostile = [frame(&[1; 1024]), u32::MAX.to_be_bytes().to_vec()];
    hostile
        .write_all(&at_the_limit_then_hostile.concat())
        .await
        .unwrap();
    assert_eq!(received_from(&events, &id, 1024).await, [1; 1024]);
    // Bytes of the refused frame that follow: none is kept, and the server closes anyway.
    let _ = hostile.write_all(&[2; 100]).await;
    let mut rest = Vec::new();
    let _ = hostile.read_to_end(&mut rest).await; // end-of-stream, or reset by the close
    assert!(rest.is_empty());
    ended(&events, &id).await;
    crate::logs::wait_for_line(&["WARN", &peer, "4294967295 bytes", "1024"]).await;

    bystander.write_all(&frame(b"still here")).await.unwrap();
    assert_eq!(
        received_from(&events, &bystander_id, 10).await,
        b"still here"
    );
    master.terminate();
    assert_eq!(master.join().await, ThreadEnd::Stopped);
}

/// Clients that connect and send nothing are closed after the idle timeout, with a line
/// saying so, and their slots come back: with `max_clients` of 2, two silent clients no
/// longer lock out a third. Both protocols. The case waits for the server's close, not for
/// a time.
pub async fn silent_connections_are_closed_after_the_idle_timeout(rt: Runtime) {
    for protocol in [Protocol::Packets, Protocol::Blobs] {
        let impatient = ServerOptions {
            idle_timeout: Duration::from_millis(30),
            ..options(loopback(), protocol, 2)
        };
        let (master, events) = start_server(&rt, impatient).await;
        let address = listening(&events).await;
        let mut silent = Vec::new();
        for _ in 0..2 {
            let client = TcpStream::connect(address).await.unwrap();
            let id = admitted(&events).await;
            let peer = client.local_addr().unwrap().to_string();
            silent.push((client, id, peer));
        }
        for (client, id, peer) in &mut silent {
            let mut rest = Vec::new();
            client
                .read_to_end(&mut rest)
                .await
                .expect("end-of-stream, not an error");
            let hello = if protocol == Protocol::Blobs {
                frame(HELLO.as_bytes())
            } else {
                vec![]
            };
            assert_eq!(rest, hello, "{protocol:?}: only the hello, then the close");
            ended(&events, id).await;
            crate::logs::wait_for_line(&["idle", peer.as_str(), "closing"]).await;
        }
        // Their slots came back: a third client is admitted, not refused.
        let _third = TcpStream::connect(address).await.unwrap();
        admitted(&events).await;
        master.terminate();
        assert_eq!(master.join().await, ThreadEnd::Stopped);
    }
}

/// A stream that ends inside a frame, or inside a length prefix, is reported with a WARN
/// naming the peer and the bytes lost (before, the partial frame vanished silently).
pub async fn streaming_server_reports_a_frame_cut_short(rt: Runtime) {
    let (master, events) = start_server(&rt, options(loopback(), Protocol::Blobs, 4)).await;
    let address = listening(&events).await;

    let (mut cut_in_frame, id, peer) = greeted_client(&events, address).await;
    let whole = frame(&[3; 100]);
    cut_in_frame.write_all(&whole[..14]).await.unwrap(); // prefix and 10 of 100 bytes
    cut_in_frame.close().await.unwrap();
    ended(&events, &id).await;
    crate::logs::wait_for_line(&["WARN", &peer, "lost 14 bytes", "10 of a 100-byte frame"]).await;

    let (mut cut_in_prefix, id, peer) = greeted_client(&events, address).await;
    cut_in_prefix.write_all(&[0, 0]).await.unwrap();
    cut_in_prefix.close().await.unwrap();
    ended(&events, &id).await;
    crate::logs::wait_for_line(&["WARN", &peer, "lost 2 bytes", "length prefix"]).await;

    master.terminate();
    assert_eq!(master.join().await, ThreadEnd::Stopped);
}

/// Empty frames are well-formed but carry nothing: the connection counts them and says how
/// many once, at its end, instead of passing each to the master (which logged a line per
/// frame, and filled its queue: 4 bytes of input made a line of log).
pub async fn streaming_server_counts_empty_frames_instead_of_passing_them_on(rt: Runtime) {
    let (master, events) = start_server(&rt, options(loopback(), Protocol::Blobs, 4)).await;
    let address = listening(&events).await;
    let (mut client, id, peer) = greeted_client(&events, address).await;
    let empties: Vec<u8> = std::iter::repeat_n(frame(b""), 1000).flatten().collect();
    client.write_all(&empties).await.unwrap();
    client.write_all(&frame(b"last")).await.unwrap();
    client.close().await.unwrap();
    let first = next_event(&events, "Received", |e| match e {
        ServerEvent::Received(from, blob) if *from == id => Some(blob.clone()),
        _ => None,
    })
    .await;
    assert_eq!(first, b"last", "the master received an empty frame");
    ended(&events, &id).await;
    crate::logs::wait_for_line(&[&peer, "1000 empty frames"]).await;
    master.terminate();
    assert_eq!(master.join().await, ThreadEnd::Stopped);
}

/// 400 clients connect at once, all before the server may accept one (each connect is
/// started without yielding, so on a one-thread runtime the master cannot run in between):
/// the listen queue holds them all, so the kernel drops none (before, its 128 places
/// overflowed: the dropped connects waited for the client's retry, a second and more, and a
/// connect whose handshake had completed by SYN cookie could wait for ever), and every one
/// is greeted: with the old queue this case hangs until its time limit. (The kernel's
/// count of overflows is not read: it counts every listen queue on the machine, and other
/// programs' overflows failed the case in review.) 400 clients hold about 800 descriptors
/// with the server's ends, under the usual limit of 1,024 open files.
pub async fn a_burst_of_connects_is_queued_whole_and_every_client_greeted(rt: Runtime) {
    const CLIENTS: usize = 400;
    let (master, events) = start_server(&rt, options(loopback(), Protocol::Blobs, CLIENTS)).await;
    let address = listening(&events).await;
    let mut connects: Vec<_> = (0..CLIENTS)
        .map(|_| Box::pin(TcpStream::connect(address)))
        .collect();
    for connect in &mut connects {
        // The first poll makes the connect call; none of them yields to the runtime.
        if let std::task::Poll::Ready(result) = futures::poll!(connect.as_mut()) {
            result.expect("connected");
        }
    }
    let mut clients = futures::future::join_all(connects).await;
    for client in &mut clients {
        let client = client.as_mut().expect("connected");
        read_hello(client).await;
    }
    master.terminate();
    assert_eq!(master.join().await, ThreadEnd::Stopped);
}

/// With `tree_every`, the master logs its live tree: a line per thread, each connection's
/// under the master's, with its type, state and slots.
pub async fn a_server_logs_its_live_tree_on_a_timer(rt: Runtime) {
    crate::logs::capture();
    let every = ServerOptions {
        tree_every: Some(Duration::from_millis(20)),
        ..options(loopback(), Protocol::Packets, 4)
    };
    let (master, events) = start_server(&rt, every).await;
    let address = listening(&events).await;
    let client = TcpStream::connect(address).await.unwrap();
    let id = admitted(&events).await;
    let line = format!("── {id} (Connection, ");
    crate::logs::wait_for_line(&[
        &line,
        "): running; queued 0/100 from parent",
        "read running",
    ])
    .await;
    drop(client);
    master.terminate();
    assert_eq!(master.join().await, ThreadEnd::Stopped);
}

/// `tree_every: Some(0)` would log the tree without pause: the master refuses it with a
/// typed error before binding anything.
pub async fn a_server_refuses_to_log_its_tree_every_zero_seconds(rt: Runtime) {
    let every = ServerOptions {
        tree_every: Some(Duration::ZERO),
        ..options(loopback(), Protocol::Packets, 4)
    };
    let Err(task_thread::ThreadError::EnterFailed {
        end: ThreadEnd::Failed(failure),
        ..
    }) = start(&rt, Master::new(every)).await
    else {
        panic!("a master logging its tree every 0 s started");
    };
    assert_eq!(
        failure.downcast_ref::<OptionsError>(),
        Some(&OptionsError::TreeEveryZero)
    );
}
