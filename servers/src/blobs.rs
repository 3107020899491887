//! The streaming protocol's framing: each message is a 4-byte big-endian length followed
//! by that many bytes. [`BlobDecoder`] reassembles messages from arbitrary TCP reads, and
//! refuses a length over its limit before holding a byte of that message.

use std::fmt;

/// The message the streaming server writes on connect.
pub const HELLO: &str = r#"{"message": "hello!"}"#;

/// The largest message a decoder takes unless told otherwise: 16 MiB, sixteen times the
/// manual's 1 MiB blobs, leaving blobs of several MiB room to grow. A message is held
/// whole before the master sees it, so this bounds what a client can make the server hold:
/// one partial message per connection (at most 160 MiB with the default `max_clients` of
/// 10), plus the whole ones waiting in the master's queue (its capacity, 100 by default,
/// times this: a server that takes large blobs from many clients wants a smaller queue).
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// `payload` framed: its length as 4 big-endian bytes, then the payload.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).expect("a frame holds at most 4 GiB");
    let mut framed = Vec::with_capacity(4 + payload.len());
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(payload);
    framed
}

/// Why a stream cannot be decoded further: the connection it came from should end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A length prefix announced more than the decoder's limit. Nothing of that message
    /// was kept.
    TooLarge {
        /// The length the prefix announced.
        announced: u32,
        /// The decoder's limit.
        max: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { announced, max } => write!(
                f,
                "a length prefix announcing {announced} bytes, over the limit of {max} bytes"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// What [`BlobDecoder::feed`] made of one read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fed {
    /// The blobs completed, in order: whole, whatever follows them.
    pub blobs: Vec<Vec<u8>>,
    /// A length prefix over the limit, met after those blobs: nothing after it can be
    /// decoded, and the connection should end (once the blobs are delivered).
    pub refused: Option<FrameError>,
}

/// What a decoder holds of a message not yet whole (see [`BlobDecoder::partial`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partial {
    /// Part of a length prefix: `received` of its 4 bytes.
    Prefix {
        /// Bytes of the prefix received.
        received: usize,
    },
    /// A whole prefix and part of its message.
    Frame {
        /// Bytes of the message received.
        received: usize,
        /// The message's length, as its prefix announced it.
        announced: usize,
    },
}

impl Partial {
    /// Every byte received of the unfinished message, its prefix included: what is lost if
    /// the stream ends here.
    ///
    /// ```
    /// use task_thread_servers::blobs::{frame, BlobDecoder};
    ///
    /// let mut decoder = BlobDecoder::default();
    /// decoder.feed(&frame(&[7; 100])[..14]); // the prefix and 10 of 100 bytes
    /// assert_eq!(decoder.partial().map(|p| p.bytes_lost()), Some(14));
    /// ```
    pub fn bytes_lost(&self) -> usize {
        match self {
            Partial::Prefix { received } => *received,
            Partial::Frame { received, .. } => 4 + received,
        }
    }
}

impl fmt::Display for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partial::Prefix { received } => {
                write!(f, "{received} of the 4 bytes of a length prefix")
            }
            Partial::Frame {
                received,
                announced,
            } => write!(f, "{received} of a {announced}-byte frame and its prefix"),
        }
    }
}

/// Reassembles length-prefixed blobs from reads of any size, refusing any longer than its
/// limit.
///
/// Memory follows the bytes that arrive, never the length announced: a blob's buffer grows
/// as its bytes come, doubling (so each byte is copied a bounded number of times on
/// average) but never past the announced length, so it is at most twice what arrived and
/// at most the announced length: a client announcing 4 GiB and sending 10 bytes costs 10
/// bytes, not 4 GiB. A prefix over the limit is refused at once, before any byte of its
/// message is kept; the blobs completed before it in the same read are still handed out.
///
/// ```
/// use task_thread_servers::blobs::{frame, BlobDecoder, FrameError};
///
/// let mut decoder = BlobDecoder::new(1024);
/// let stream = [frame(b"hello"), frame(b"world")].concat();
/// let (first, rest) = stream.split_at(7); // a cut inside the first blob
/// assert_eq!(decoder.feed(first).blobs, Vec::<Vec<u8>>::new());
/// assert_eq!(decoder.feed(rest).blobs, [b"hello".to_vec(), b"world".to_vec()]);
///
/// // A blob, then a hostile prefix, in one read: the blob is whole, the prefix refused.
/// let read = [frame(b"last"), u32::MAX.to_be_bytes().to_vec()].concat();
/// let fed = decoder.feed(&read);
/// assert_eq!(fed.blobs, [b"last".to_vec()]);
/// assert_eq!(fed.refused, Some(FrameError::TooLarge { announced: u32::MAX, max: 1024 }));
/// ```
#[derive(Debug)]
pub struct BlobDecoder {
    /// The largest length accepted.
    max: usize,
    /// Bytes of the current length prefix received so far.
    prefix: [u8; 4],
    prefix_len: usize,
    /// The blob being filled and its announced length, once its prefix is whole. The
    /// buffer's capacity follows what arrived, not the announced length.
    blob: Option<(Vec<u8>, usize)>,
}

impl Default for BlobDecoder {
    /// A decoder with the limit [`DEFAULT_MAX_FRAME`].
    fn default() -> Self {
        BlobDecoder::new(DEFAULT_MAX_FRAME)
    }
}

impl BlobDecoder {
    /// A decoder that refuses messages longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        BlobDecoder {
            max,
            prefix: [0; 4],
            prefix_len: 0,
            blob: None,
        }
    }

    /// Feeds one read: the blobs it completed, in order, and the refusal that makes the
    /// rest of the stream undecodable, if it met one (see [`Fed`]).
    pub fn feed(&mut self, bytes: &[u8]) -> Fed {
        let mut blobs = Vec::new();
        let refused = self.feed_into(bytes, &mut blobs).err();
        Fed { blobs, refused }
    }

    /// Decodes `bytes` into `complete` until they run out or a prefix is refused.
    fn feed_into(
        &mut self,
        mut bytes: &[u8],
        complete: &mut Vec<Vec<u8>>,
    ) -> Result<(), FrameError> {
        while !bytes.is_empty() {
            match &mut self.blob {
                None => {
                    let take = (4 - self.prefix_len).min(bytes.len());
                    self.prefix[self.prefix_len..self.prefix_len + take]
                        .copy_from_slice(&bytes[..take]);
                    self.prefix_len += take;
                    bytes = &bytes[take..];
                    if self.prefix_len == 4 {
                        self.prefix_len = 0;
                        let announced = u32::from_be_bytes(self.prefix);
                        let length = usize::try_from(announced)
                            .ok()
                            .filter(|length| *length <= self.max)
                            .ok_or(FrameError::TooLarge {
                                announced,
                                max: self.max,
                            })?;
                        self.blob = Some((Vec::new(), length));
                    }
                }
                Some((blob, length)) => {
                    let take = (*length - blob.len()).min(bytes.len());
                    if blob.capacity() - blob.len() < take {
                        // Doubling, as `Vec` grows, but never past the announced length.
                        let wanted = (2 * blob.capacity()).max(blob.len() + take).min(*length);
                        blob.reserve_exact(wanted - blob.len());
                    }
                    blob.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                }
            }
            if let Some((blob, length)) = &self.blob {
                if blob.len() == *length {
                    complete.push(self.blob.take().map(|(blob, _)| blob).unwrap_or_default());
                }
            }
        }
        Ok(())
    }

    /// What is held of a message not yet whole, if any: what a stream ending here loses.
    pub fn partial(&self) -> Option<Partial> {
        match &self.blob {
            Some((blob, announced)) => Some(Partial::Frame {
                received: blob.len(),
                announced: *announced,
            }),
            None if self.prefix_len > 0 => Some(Partial::Prefix {
                received: self.prefix_len,
            }),
            None => None,
        }
    }

    /// Bytes the decoder has reserved for the message being received: what it costs in
    /// memory, which follows the bytes received (at most twice them), not the length
    /// announced.
    pub fn reserved(&self) -> usize {
        self.blob.as_ref().map_or(0, |(blob, _)| blob.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_come_out_whole_whatever_the_cuts() {
        let blobs: Vec<Vec<u8>> = vec![vec![1; 22], vec![], (0..=255).collect(), vec![7; 3000]];
        let stream: Vec<u8> = blobs.iter().flat_map(|b| frame(b)).collect();
        for cut in [1, 2, 3, 5, 7, 64, 1000, stream.len()] {
            let mut decoder = BlobDecoder::default();
            let received: Vec<Vec<u8>> = stream
                .chunks(cut)
                .flat_map(|c| decoder.feed(c).blobs)
                .collect();
            assert_eq!(received, blobs, "cut into pieces of {cut}");
            assert_eq!(decoder.partial(), None);
        }
    }

    #[test]
    fn memory_follows_the_bytes_received_not_the_length_announced() {
        let mut decoder = BlobDecoder::new(u32::MAX as usize);
        decoder.feed(&u32::MAX.to_be_bytes());
        assert_eq!(decoder.reserved(), 0);
        decoder.feed(&[9; 1000]);
        assert!(decoder.reserved() <= 2 * 1000, "{}", decoder.reserved());
        assert_eq!(
            decoder.partial(),
            Some(Partial::Frame {
                received: 1000,
                announced: u32::MAX as usize
            })
        );
    }

    #[test]
    fn a_length_over_the_limit_is_refused_and_one_at_it_taken() {
        let mut decoder = BlobDecoder::new(3);
        assert_eq!(decoder.feed(&frame(b"abc")).blobs, [b"abc".to_vec()]);
        assert_eq!(
            decoder.feed(&frame(b"abcd")).refused,
            Some(FrameError::TooLarge {
                announced: 4,
                max: 3
            })
        );
    }

    #[test]
    fn a_cut_prefix_is_a_partial_message() {
        let mut decoder = BlobDecoder::default();
        decoder.feed(&[0, 0]);
        assert_eq!(decoder.partial(), Some(Partial::Prefix { received: 2 }));
        assert_eq!(decoder.partial().unwrap().bytes_lost(), 2);
    }

    /// What a stream decodes to, read whole: its blobs, then the error that stops it or what
    /// is left of an unfinished message. The reference the decoder is checked against.
    fn decode_whole(
        mut stream: &[u8],
        max: usize,
    ) -> (Vec<Vec<u8>>, Option<FrameError>, Option<Partial>) {
        let mut blobs = Vec::new();
        loop {
            if stream.len() < 4 {
                let partial = (!stream.is_empty()).then_some(Partial::Prefix {
                    received: stream.len(),
                });
                return (blobs, None, partial);
            }
            let announced = u32::from_be_bytes(stream[..4].try_into().unwrap());
            if announced as usize > max {
                return (blobs, Some(FrameError::TooLarge { announced, max }), None);
            }
            let length = announced as usize;
            let body = &stream[4..];
            if body.len() < length {
                let partial = Partial::Frame {
                    received: body.len(),
                    announced: length,
                };
                return (blobs, None, Some(partial));
            }
            blobs.push(body[..length].to_vec());
            stream = &body[length..];
        }
    }

    /// A piece of a stream: a well-formed blob, or a prefix announcing any length (up to
    /// 4 GiB) followed by a few bytes.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(|blob| frame(&blob)),
            1 => (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(
                |(announced, bytes)| [announced.to_be_bytes().to_vec(), bytes].concat()
            ),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        /// Any stream, cut anywhere: the decoder gives the blobs a whole read gives, the
        /// ones before an over-long prefix included, stops at the same prefix, ends with
        /// the same unfinished message, and never holds more than twice what arrived of
        /// the message it is filling, nor more than its announced length.
        #[test]
        fn any_stream_cut_anywhere_decodes_as_read_whole(
            pieces in proptest::collection::vec(piece(), 0..12),
            cuts in proptest::collection::vec(1..64usize, 1..40),
            max in prop_oneof![Just(0usize), 1..400usize, Just(DEFAULT_MAX_FRAME)],
        ) {
            let stream = pieces.concat();
            let (whole, error, left) = decode_whole(&stream, max);
            let mut decoder = BlobDecoder::new(max);
            let mut decoded = Vec::new();
            let mut rest = &stream[..];
            let mut cut = cuts.iter().cycle();
            let mut failed = None;
            while !rest.is_empty() {
                let (read, after) = rest.split_at((*cut.next().unwrap()).min(rest.len()));
                rest = after;
                let fed = decoder.feed(read);
                decoded.extend(fed.blobs);
                if fed.refused.is_some() {
                    failed = fed.refused;
                    break;
                }
                let received = decoder.partial().map_or(0, |partial| match partial {
                    Partial::Frame { received, .. } => received,
                    Partial::Prefix { .. } => 0,
                });
                prop_assert!(decoder.reserved() <= 2 * received);
                if let Some(Partial::Frame { announced, .. }) = decoder.partial() {
                    prop_assert!(decoder.reserved() <= announced);
                }
            }
            prop_assert_eq!(failed, error);
            prop_assert_eq!(decoded, whole);
            if failed.is_none() {
                prop_assert_eq!(decoder.partial(), left);
            }
        }
    }
}
