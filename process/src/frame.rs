//! The frames on a worker's stdin and stdout: a 4-byte big-endian length, then that many
//! bytes of JSON. Read from a blocking pipe, refusing a length over the limit before
//! holding a byte of its frame, and growing the buffer only as the bytes arrive.

use std::fmt;
use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest frame taken unless told otherwise: 16 MiB.
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// How much of a frame is read at a time: the buffer grows by at most this much before
/// the bytes that fill it have arrived.
const READ_STEP: usize = 64 << 10;

/// Why a frame could not be read or written. The stream it came from cannot be read
/// further: its worker, or the worker's parent, should end.
///
/// ```
/// use task_thread_process::{read_frame, FrameError};
///
/// // A prefix announcing 4 GiB, with a limit of 1 MiB: refused before any allocation.
/// let hostile = u32::MAX.to_be_bytes();
/// let error = read_frame::<String>(&mut &hostile[..], 1 << 20).unwrap_err();
/// assert!(matches!(error, FrameError::TooLarge { announced: 4294967295, .. }));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum FrameError {
    /// A length prefix announced more than the limit. Nothing of that frame was kept.
    TooLarge {
        /// The length the prefix announced.
        announced: u32,
        /// The limit.
        max: usize,
    },
    /// A payload to write is longer than a frame can carry (4 GiB less a byte, what its
    /// 4-byte length can announce). Nothing of it was written.
    TooLong {
        /// The payload's length.
        length: usize,
    },
    /// The stream ended inside a frame.
    Truncated {
        /// Bytes of the frame (its prefix included) received before the end.
        received: usize,
    },
    /// The frame's bytes are not the JSON of the type expected (reading).
    Json(serde_json::Error),
    /// The value to send cannot be written as JSON (writing): a map whose keys are not
    /// strings, a `Serialize` implementation that fails. Nothing of it was written.
    Unserializable(serde_json::Error),
    /// Reading or writing the pipe failed.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { announced, max } => write!(
                f,
                "a length prefix announcing {announced} bytes, over the limit of {max} bytes"
            ),
            FrameError::Truncated { received } => write!(
                f,
                "the stream ended inside a frame, {received} bytes into it (prefix included)"
            ),
            FrameError::TooLong { length } => write!(
                f,
                "a payload of {length} bytes, longer than a frame can carry (4 GiB less a byte)"
            ),
            FrameError::Json(error) => write!(f, "a frame that is not the JSON expected: {error}"),
            FrameError::Unserializable(error) => {
                write!(f, "a value that cannot be written as JSON: {error}")
            }
            FrameError::Io(error) => write!(f, "the pipe failed: {error}"),
        }
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FrameError::Json(error) | FrameError::Unserializable(error) => Some(error),
            FrameError::Io(error) => Some(error),
            FrameError::TooLarge { .. }
            | FrameError::TooLong { .. }
            | FrameError::Truncated { .. } => None,
        }
    }
}

/// Writes `value` as one frame, and flushes.
///
/// ```
/// use task_thread_process::write_frame;
///
/// let mut pipe = Vec::new();
/// write_frame(&mut pipe, &"hi").unwrap();
/// assert_eq!(pipe, b"\0\0\0\x04\"hi\"");
/// ```
pub fn write_frame<T: Serialize + ?Sized>(
    writer: &mut impl Write,
    value: &T,
) -> Result<(), FrameError> {
    let payload = serde_json::to_vec(value).map_err(FrameError::Unserializable)?;
    write_payload(writer, &payload)
}

/// Writes `payload`, already JSON, as one frame, and flushes.
pub(crate) fn write_payload(writer: &mut impl Write, payload: &[u8]) -> Result<(), FrameError> {
    let length = u32::try_from(payload.len()).map_err(|_| FrameError::TooLong {
        length: payload.len(),
    })?;
    writer
        .write_all(&length.to_be_bytes())
        .and_then(|()| writer.write_all(payload))
        .and_then(|()| writer.flush())
        .map_err(FrameError::Io)
}

/// Reads one frame and decodes it: `Ok(None)` if the stream ended cleanly, between two
/// frames. Blocks until the whole frame has arrived.
///
/// ```
/// use task_thread_process::{read_frame, write_frame};
///
/// let mut pipe = Vec::new();
/// write_frame(&mut pipe, &vec![1, 2, 3]).unwrap();
/// let mut reading = &pipe[..];
/// assert_eq!(read_frame::<Vec<u8>>(&mut reading, 1024).unwrap(), Some(vec![1, 2, 3]));
/// assert_eq!(read_frame::<Vec<u8>>(&mut reading, 1024).unwrap(), None);
/// ```
pub fn read_frame<T: DeserializeOwned>(
    reader: &mut impl Read,
    max: usize,
) -> Result<Option<T>, FrameError> {
    let Some(payload) = read_payload(reader, max)? else {
        return Ok(None);
    };
    serde_json::from_slice(&payload)
        .map(Some)
        .map_err(FrameError::Json)
}

/// Reads one frame's bytes: `Ok(None)` at a clean end of the stream.
pub(crate) fn read_payload(
    reader: &mut impl Read,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut prefix = [0; 4];
    let received = read_full(reader, &mut prefix)?;
    match received {
        0 => return Ok(None),
        4 => {}
        received => return Err(FrameError::Truncated { received }),
    }
    let announced = u32::from_be_bytes(prefix);
    let length = announced as usize;
    if length > max {
        return Err(FrameError::TooLarge { announced, max });
    }
    // Grown as the bytes come, a step at a time: a prefix announcing 16 MiB followed by
    // 10 bytes costs one step, not 16 MiB.
    let mut payload = Vec::new();
    while payload.len() < length {
        let start = payload.len();
        let step = (length - start).min(READ_STEP.max(start));
        payload.resize(start + step, 0);
        let got = read_full(reader, &mut payload[start..])?;
        if got < step {
            return Err(FrameError::Truncated {
                received: 4 + start + got,
            });
        }
    }
    Ok(Some(payload))
}

/// Reads until `buffer` is full or the stream ends; how many bytes were read.
fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> Result<usize, FrameError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(FrameError::Io(error)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_cut_short_is_truncated_and_a_huge_prefix_costs_one_step() {
        let mut pipe = Vec::new();
        write_frame(&mut pipe, &"hello").unwrap();
        let cut = &pipe[..6];
        let error = read_frame::<String>(&mut &cut[..], 1024).unwrap_err();
        assert!(matches!(error, FrameError::Truncated { received: 6 }));
        // 16 MiB announced, 10 bytes sent: truncated after one step of reading.
        let lying = [(16u32 << 20).to_be_bytes().to_vec(), vec![b'x'; 10]].concat();
        let error = read_payload(&mut &lying[..], DEFAULT_MAX_FRAME).unwrap_err();
        assert!(matches!(error, FrameError::Truncated { received: 14 }));
    }

    #[test]
    fn frames_of_every_size_round_trip() {
        for size in [0, 1, READ_STEP - 1, READ_STEP, 3 * READ_STEP + 7] {
            let text = "a".repeat(size);
            let mut pipe = Vec::new();
            write_frame(&mut pipe, &text).unwrap();
            let read = read_frame::<String>(&mut &pipe[..], DEFAULT_MAX_FRAME).unwrap();
            assert_eq!(read.as_deref(), Some(text.as_str()));
        }
    }

    #[test]
    fn bytes_that_are_not_the_json_expected_are_refused() {
        let mut pipe = Vec::new();
        write_payload(&mut pipe, b"{not json").unwrap();
        let error = read_frame::<String>(&mut &pipe[..], 1024).unwrap_err();
        assert!(matches!(error, FrameError::Json(_)));
    }
}
