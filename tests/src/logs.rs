//! Captures the process's `tracing` output so cases can check what was logged.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use event_listener::Event;

static CAPTURED: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
static WRITTEN: OnceLock<Event> = OnceLock::new();

fn buffer() -> &'static Mutex<Vec<u8>> {
    CAPTURED.get_or_init(|| Mutex::new(Vec::new()))
}

/// Notified after every write to the buffer.
fn written() -> &'static Event {
    WRITTEN.get_or_init(Event::new)
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        buffer()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        written().notify(usize::MAX);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber for the whole process (once; later calls do nothing).
pub fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(|| Capture)
            .try_init();
    });
}

/// Whether one logged line contains every one of `parts`.
pub fn contains_line(parts: &[&str]) -> bool {
    line_from(&mut 0, parts)
}

/// Waits until a line containing every one of `parts` has been logged. Each look reads only
/// the lines written since the last one: other cases of the process may log a lot.
pub async fn wait_for_line(parts: &[&str]) {
    let mut from = 0;
    loop {
        let listener = written().listen();
        if line_from(&mut from, parts) {
            return;
        }
        listener.await;
    }
}

/// Whether a complete line from byte `from` on contains every one of `parts`; moves `from`
/// past the complete lines read.
fn line_from(from: &mut usize, parts: &[&str]) -> bool {
    let captured = buffer().lock().unwrap_or_else(|p| p.into_inner());
    let unread = &captured[*from..];
    let complete = unread
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |end| end + 1);
    *from += complete;
    String::from_utf8_lossy(&unread[..complete])
        .lines()
        .any(|line| parts.iter().all(|part| line.contains(part)))
}

/// How many logged lines contain every one of `parts`.
pub fn count_lines(parts: &[&str]) -> usize {
    lines_with(parts).len()
}

/// The logged lines that contain every one of `parts`, in the order they were logged.
pub fn lines_with(parts: &[&str]) -> Vec<String> {
    let captured = buffer().lock().unwrap_or_else(|p| p.into_inner());
    String::from_utf8_lossy(&captured)
        .lines()
        .filter(|line| parts.iter().all(|part| line.contains(part)))
        .map(str::to_owned)
        .collect()
}
