//! The streaming protocol's framing: each message is a 4-byte big-endian length followed
//! by that many bytes. [`BlobDecoder`] reassembles messages from arbitrary TCP reads.

/// The message the streaming server writes on connect.
pub const HELLO: &str = r#"{"message": "hello!"}"#;

/// `payload` framed: its length as 4 big-endian bytes, then the payload.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).expect("a frame holds at most 4 GiB");
    let mut framed = Vec::with_capacity(4 + payload.len());
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(payload);
    framed
}

/// Reassembles length-prefixed blobs from reads of any size.
///
/// Linear in the bytes received: each byte is copied once, from the read buffer into the
/// blob it belongs to (whose full size is allocated as soon as its length is known), and
/// nothing already received is copied again.
#[derive(Debug, Default)]
pub struct BlobDecoder {
    /// Bytes of the current length prefix received so far.
    prefix: [u8; 4],
    prefix_len: usize,
    /// The blob being filled, once its length is known.
    blob: Option<(Vec<u8>, usize)>,
}

impl BlobDecoder {
    /// Feeds one read; returns the blobs it completed, in order.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut complete = Vec::new();
        while !bytes.is_empty() {
            match &mut self.blob {
                None => {
                    let take = (4 - self.prefix_len).min(bytes.len());
                    self.prefix[self.prefix_len..self.prefix_len + take]
                        .copy_from_slice(&bytes[..take]);
                    self.prefix_len += take;
                    bytes = &bytes[take..];
                    if self.prefix_len == 4 {
                        let length = u32::from_be_bytes(self.prefix) as usize;
                        self.prefix_len = 0;
                        self.blob = Some((Vec::with_capacity(length), length));
                    }
                }
                Some((blob, length)) => {
                    let take = (*length - blob.len()).min(bytes.len());
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
        complete
    }

    /// Whether a blob or a length prefix is partly received.
    pub fn is_mid_blob(&self) -> bool {
        self.prefix_len > 0 || self.blob.is_some()
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
            let received: Vec<Vec<u8>> = stream.chunks(cut).flat_map(|c| decoder.feed(c)).collect();
            assert_eq!(received, blobs, "cut into pieces of {cut}");
            assert!(!decoder.is_mid_blob());
        }
    }
}
