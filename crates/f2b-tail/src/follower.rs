//! One followed log file (upstream `FileContainer`, plus keeping the descriptor open so a
//! rotated-away file is drained before switching): complete lines only, positions, the SHA-1
//! first-line hash, and rotation detection (shrunk, inode changed, first line changed).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha1::{Digest, Sha1};

use crate::{Encoding, LogLine, RotationReason, StartPos, TailEvent};

/// Bytes read at a time (memory bound; a poll still reads up to the end of the file).
const READ_CHUNK: usize = 1 << 20;

/// `(mtime s, mtime ns, inode, size)` of a path and of the open descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Signature {
    path: Option<(i64, i64, u64, u64)>,
    fd: Option<(i64, i64, u64, u64)>,
}

struct OpenFile {
    file: File,
    dev: u64,
    ino: u64,
    /// Offset of the first unconsumed byte (start of an incomplete line, or EOF).
    pos: u64,
    /// SHA-1 hex of the first line including `\n`; empty if none is complete yet.
    hash: String,
}

/// A follower for one path. Drive it with [`FileFollower::poll`].
pub struct FileFollower {
    path: Arc<PathBuf>,
    start: Option<StartPos>,
    encoding: Encoding,
    file: Option<OpenFile>,
    missing_reported: bool,
    decode_warned: bool,
    caught_up: bool,
}

impl std::fmt::Debug for FileFollower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileFollower")
            .field("path", &self.path)
            .field("pos", &self.position())
            .finish_non_exhaustive()
    }
}

/// SHA-1 hex of the first line of `file` including its `\n`; empty when
/// the file has no complete first line.
fn first_line_hash(file: &mut File) -> io::Result<String> {
    file.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(String::new());
        }
        if let Some(i) = chunk[..n].iter().position(|&b| b == b'\n') {
            buf.extend_from_slice(&chunk[..=i]);
            return Ok(sha1_hex(&buf));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// SHA-1 hex of the first line of the file at `path` (what fail2ban stores in its database);
/// empty when the file cannot be opened or has no complete first line.
pub fn path_first_line_hash(path: &std::path::Path) -> String {
    File::open(path)
        .and_then(|mut f| first_line_hash(&mut f))
        .unwrap_or_default()
}

/// Hex SHA-1 of `data` (the hash fail2ban stores for a log file's first line).
pub fn sha1_hex(data: &[u8]) -> String {
    let d = Sha1::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl FileFollower {
    /// A follower for `path`; `start` decides where the first opening starts reading.
    pub fn new(path: impl AsRef<Path>, start: StartPos, encoding: Encoding) -> Self {
        FileFollower {
            path: Arc::new(path.as_ref().to_path_buf()),
            start: Some(start),
            encoding,
            file: None,
            missing_reported: false,
            decode_warned: false,
            caught_up: false,
        }
    }

    /// The followed path.
    pub fn path(&self) -> &Arc<PathBuf> {
        &self.path
    }

    /// Current read position (bytes consumed), if the file is open.
    pub fn position(&self) -> Option<u64> {
        self.file.as_ref().map(|f| f.pos)
    }

    /// First-line hash of the open file (empty if it has no complete first line).
    pub fn hash(&self) -> Option<&str> {
        self.file.as_ref().map(|f| f.hash.as_str())
    }

    /// Inode of the file currently open.
    pub fn inode(&self) -> Option<(u64, u64)> {
        self.file.as_ref().map(|f| (f.dev, f.ino))
    }

    /// Cheap change signature: `(mtime, inode, size)` of the path and `(mtime, size)` of the
    /// open descriptor. The polling backend only polls when it changed.
    pub fn signature(&self) -> Signature {
        let path = std::fs::metadata(&*self.path)
            .ok()
            .map(|m| (m.mtime(), m.mtime_nsec(), m.ino(), m.size()));
        let fd = self
            .file
            .as_ref()
            .and_then(|f| f.file.metadata().ok())
            .map(|m| (m.mtime(), m.mtime_nsec(), m.ino(), m.size()));
        Signature { path, fd }
    }

    /// Reads everything new and reports it to `sink`: lines, openings, rotations,
    /// disappearance. Never blocks on the file's writer.
    pub fn poll(&mut self, sink: &mut dyn FnMut(TailEvent)) -> io::Result<()> {
        if self.file.is_some() {
            self.check_truncation(sink)?;
            self.read_lines(sink)?;
        }
        let meta = match std::fs::metadata(&*self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // a file missing at the start is new when it appears: read it from 0
                if matches!(self.start, Some(StartPos::Tail)) {
                    self.start = Some(StartPos::Head { saved: None });
                }
                // keep a renamed file open (its writer may still append) until the path is
                // back; a deleted one (no links left) is drained already: release its space
                if let Some(f) = &self.file {
                    if f.file.metadata().map(|m| m.nlink() == 0).unwrap_or(true) {
                        self.file = None;
                    }
                }
                if !self.missing_reported {
                    self.missing_reported = true;
                    sink(TailEvent::Missing {
                        path: self.path.clone(),
                    });
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.missing_reported = false;
        if let Some(f) = &self.file {
            if (f.dev, f.ino) == (meta.dev(), meta.ino()) {
                return Ok(());
            }
            // rotated by rename/delete + create: drain what was appended meanwhile
            self.read_lines(sink)?;
            self.file = None;
            sink(TailEvent::Rotated {
                path: self.path.clone(),
                reason: RotationReason::InodeChanged,
            });
        }
        self.open(sink)?;
        self.read_lines(sink)
    }

    fn open(&mut self, sink: &mut dyn FnMut(TailEvent)) -> io::Result<()> {
        let mut file = match File::open(&*self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        let hash = first_line_hash(&mut file)?;
        // the first opening honours the start policy; later ones are new files: from 0
        let saved_pos = |saved: Option<(u64, String)>| match saved {
            Some((p, h)) if h == hash && p <= meta.len() => p,
            _ => 0,
        };
        let pos = match self.start.take() {
            Some(StartPos::Tail) => meta.len(),
            Some(StartPos::Head { saved }) => saved_pos(saved),
            Some(StartPos::HeadSeek {
                saved,
                target,
                date_of,
            }) => {
                let from = saved_pos(saved);
                let mut date_of = date_of.lock().unwrap_or_else(|p| p.into_inner());
                crate::seek::seek_to_time(&mut file, from, target, self.encoding, &mut *date_of)?
            }
            // later openings (new file after rotation, file appeared later): from 0
            None => 0,
        };
        sink(TailEvent::Opened {
            path: self.path.clone(),
            hash: hash.clone(),
            pos,
        });
        self.file = Some(OpenFile {
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            pos,
            hash,
        });
        Ok(())
    }

    /// Copy-truncate / truncate detection on the open descriptor: shrunk below the position,
    /// or a different first line.
    fn check_truncation(&mut self, sink: &mut dyn FnMut(TailEvent)) -> io::Result<()> {
        let f = self.file.as_mut().expect("open file");
        let meta = f.file.metadata()?;
        let reason = if meta.len() < f.pos {
            Some(RotationReason::Truncated)
        } else {
            let hash = first_line_hash(&mut f.file)?;
            if hash != f.hash {
                if !f.hash.is_empty() {
                    Some(RotationReason::FirstLineChanged)
                } else {
                    f.hash = hash;
                    sink(TailEvent::HashChanged {
                        path: self.path.clone(),
                        hash: f.hash.clone(),
                    });
                    None
                }
            } else {
                None
            }
        };
        if let Some(reason) = reason {
            f.pos = 0;
            f.hash = first_line_hash(&mut f.file)?;
            sink(TailEvent::Rotated {
                path: self.path.clone(),
                reason,
            });
            sink(TailEvent::HashChanged {
                path: self.path.clone(),
                hash: f.hash.clone(),
            });
        }
        Ok(())
    }

    fn read_lines(&mut self, sink: &mut dyn FnMut(TailEvent)) -> io::Result<()> {
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        f.file.seek(SeekFrom::Start(f.pos))?;
        // buf holds the bytes from f.pos on that are not yet consumed
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let before = buf.len();
            (&mut f.file)
                .take(READ_CHUNK as u64)
                .read_to_end(&mut buf)?;
            if buf.len() == before {
                break; // end of file
            }
            let mut start = 0;
            while let Some(i) = memchr::memchr(b'\n', &buf[start..]) {
                let end = start + i + 1;
                // strip the line end before decoding: one allocation per line
                let mut stop = end - 1;
                while stop > start && buf[stop - 1] == b'\r' {
                    stop -= 1;
                }
                let (text, lossy) = self.encoding.decode(&buf[start..stop]);
                if lossy && !self.decode_warned {
                    self.decode_warned = true;
                    sink(TailEvent::DecodeWarning {
                        path: self.path.clone(),
                    });
                }
                sink(TailEvent::Line(LogLine {
                    path: self.path.clone(),
                    text,
                    offset: f.pos + start as u64,
                    end: f.pos + end as u64,
                }));
                start = end;
            }
            f.pos += start as u64;
            buf.drain(..start);
        }
        if f.hash.is_empty() && f.pos > 0 {
            // the first line has just been completed
            f.hash = first_line_hash(&mut f.file)?;
            sink(TailEvent::HashChanged {
                path: self.path.clone(),
                hash: f.hash.clone(),
            });
        }
        if !self.caught_up {
            self.caught_up = true;
            sink(TailEvent::CaughtUp {
                path: self.path.clone(),
            });
        }
        Ok(())
    }
}
