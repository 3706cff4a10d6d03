//! Message framing on fail2ban's stream socket.
//!
//! Every message (request or reply) is followed by the 17 bytes `<F2B_END_COMMAND>`.
//! A client ends its connection with `<F2B_CLOSE_COMMAND><F2B_END_COMMAND>`. Requests
//! may arrive fragmented or several in one read ([`FrameSplitter`] handles both, like
//! Python's `asynchat` with a terminator); replies are read as upstream's
//! `CSocket.receive` does ([`read_reply`]).

use std::fmt;
use std::io::{self, Read};

/// The message terminator.
pub const END: &[u8] = b"<F2B_END_COMMAND>";
/// The close marker (sent as a message of its own, followed by [`END`]).
pub const CLOSE: &[u8] = b"<F2B_CLOSE_COMMAND>";
/// Default maximum size of one message (16 MiB).
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// One complete message taken from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A pickled message (terminator removed).
    Message(Vec<u8>),
    /// The client asked to close the connection.
    Close,
}

/// A message grew beyond the allowed size without a terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameTooLarge {
    /// The limit that was exceeded.
    pub max: usize,
}

impl fmt::Display for FrameTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message exceeds the maximum size of {} bytes", self.max)
    }
}

impl std::error::Error for FrameTooLarge {}

/// Splits a byte stream into frames: feed bytes with [`push`](Self::push), take
/// complete frames with [`next_frame`](Self::next_frame). An incomplete frame is not an
/// error; it simply waits for more bytes.
#[derive(Debug)]
pub struct FrameSplitter {
    buf: Vec<u8>,
    /// Where to resume searching for the terminator (avoids rescanning).
    scanned: usize,
    max: usize,
}

impl Default for FrameSplitter {
    fn default() -> Self {
        FrameSplitter::new(DEFAULT_MAX_FRAME)
    }
}

impl FrameSplitter {
    /// A splitter refusing messages longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> FrameSplitter {
        FrameSplitter {
            buf: Vec::new(),
            scanned: 0,
            max: max_frame,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet part of a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed, or an error when
    /// the current message is already longer than the limit (the connection should
    /// then be dropped: the splitter keeps the oversize bytes).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameTooLarge> {
        let start = self.scanned.saturating_sub(END.len() - 1);
        match find(&self.buf[start..], END) {
            Some(i) => {
                let end = start + i;
                let msg: Vec<u8> = self.buf[..end].to_vec();
                self.buf.drain(..end + END.len());
                self.scanned = 0;
                if msg.len() > self.max {
                    return Err(FrameTooLarge { max: self.max });
                }
                Ok(Some(if msg == CLOSE {
                    Frame::Close
                } else {
                    Frame::Message(msg)
                }))
            }
            None => {
                self.scanned = self.buf.len();
                // The message is at least everything but a partial terminator at the end.
                let partial = (1..END.len())
                    .rev()
                    .find(|&k| self.buf.ends_with(&END[..k]))
                    .unwrap_or(0);
                if self.buf.len() - partial > self.max {
                    return Err(FrameTooLarge { max: self.max });
                }
                Ok(None)
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `message` followed by the terminator.
pub fn with_end(message: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(message.len() + END.len());
    v.extend_from_slice(message);
    v.extend_from_slice(END);
    v
}

/// The bytes a client sends to end its connection.
pub fn close_message() -> Vec<u8> {
    with_end(CLOSE)
}

/// Reads one reply as upstream's `CSocket.receive` does: until the terminator shows
/// up in the last 32 bytes received (a read returning exactly the terminator also
/// ends the reply). Returns the bytes read (the trailing terminator, if any, is
/// left in place: the unpickler stops at STOP and ignores it). End of stream before
/// that is `ConnectionReset` ("Connection reset by peer"); more than `max` bytes is
/// `InvalidData`.
pub fn read_reply<R: Read>(r: &mut R, max: usize) -> io::Result<Vec<u8>> {
    let mut msg = Vec::new();
    let mut bufsize = 1024;
    let mut chunk = vec![0u8; 32768];
    loop {
        let n = match r.read(&mut chunk[..bufsize]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "[Errno 104] Connection reset by peer",
            ));
        }
        if &chunk[..n] == END {
            break;
        }
        msg.extend_from_slice(&chunk[..n]);
        if msg.len() > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                FrameTooLarge { max },
            ));
        }
        let tail = &msg[msg.len().saturating_sub(32)..];
        if find(tail, END).is_some() {
            break;
        }
        if bufsize < 32768 {
            bufsize <<= 1;
        }
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragmented_and_pipelined() {
        let stream = [b"AAA".as_ref(), END, b"BB", END, CLOSE, END, b"CC"].concat();
        for step in 1..stream.len() {
            let mut s = FrameSplitter::new(100);
            let mut got = Vec::new();
            for part in stream.chunks(step) {
                s.push(part);
                while let Some(f) = s.next_frame().unwrap() {
                    got.push(f);
                }
            }
            assert_eq!(
                got,
                vec![
                    Frame::Message(b"AAA".to_vec()),
                    Frame::Message(b"BB".to_vec()),
                    Frame::Close
                ],
                "step {step}"
            );
            assert_eq!(s.pending(), 2);
        }
    }

    #[test]
    fn oversize() {
        let mut s = FrameSplitter::new(10);
        s.push(&[b'x'; 10]);
        s.push(&END[..16]);
        assert_eq!(s.next_frame(), Ok(None));
        let mut s = FrameSplitter::new(10);
        s.push(&[b'x'; 11]);
        assert!(s.next_frame().is_err());
        let mut s = FrameSplitter::new(10);
        s.push(&[b'x'; 11]);
        s.push(END);
        assert!(s.next_frame().is_err());
        let mut s = FrameSplitter::new(10);
        s.push(&[b'x'; 10]);
        s.push(END);
        assert_eq!(
            s.next_frame().unwrap(),
            Some(Frame::Message(vec![b'x'; 10]))
        );
    }

    #[test]
    fn reply_reader() {
        let data = with_end(b"hello");
        let got = read_reply(&mut &data[..], 1000).unwrap();
        assert_eq!(got, data);
        let err = read_reply(&mut &b"hel"[..], 1000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }
}
