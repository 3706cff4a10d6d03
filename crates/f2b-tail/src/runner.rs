//! The part both backends share: the set of followers, commands from the owner, and
//! publishing events (errors only when they change, so a failing file does not flood).

use std::path::PathBuf;

use crossbeam_channel::Sender;

use crate::follower::Signature;
use crate::{Encoding, FileFollower, LineBatch, StartPos, TailEvent, LINES_PER_EVENT};

/// Requests from the owning handle to the backend thread.
pub(crate) enum Cmd {
    Add(PathBuf, StartPos, Encoding),
    Remove(PathBuf),
}

pub(crate) struct Entry {
    pub follower: FileFollower,
    pub signature: Option<Signature>,
    last_error: Option<String>,
}

pub(crate) struct Runner {
    pub entries: Vec<Entry>,
    tx: Sender<TailEvent>,
}

impl Runner {
    pub fn new(tx: Sender<TailEvent>) -> Self {
        Runner {
            entries: Vec::new(),
            tx,
        }
    }

    /// Applies a command; returns the index of an added follower.
    pub fn apply(&mut self, cmd: Cmd) -> Option<usize> {
        match cmd {
            Cmd::Add(path, start, enc) => {
                if let Some(i) = self
                    .entries
                    .iter()
                    .position(|e| **e.follower.path() == path)
                {
                    return Some(i);
                }
                self.entries.push(Entry {
                    follower: FileFollower::new(&path, start, enc),
                    signature: None,
                    last_error: None,
                });
                Some(self.entries.len() - 1)
            }
            Cmd::Remove(path) => {
                self.entries.retain(|e| **e.follower.path() != path);
                None
            }
        }
    }

    /// Polls one follower, publishing its events (lines in batches).
    pub fn poll(&mut self, i: usize) {
        let tx = &self.tx;
        let e = &mut self.entries[i];
        let mut batch = LineBatch::new(e.follower.path().clone());
        let flush = |batch: &mut LineBatch| {
            if !batch.is_empty() {
                let full = std::mem::replace(batch, LineBatch::new(batch.path.clone()));
                let _ = tx.send(TailEvent::Lines(full));
            }
        };
        let res = e.follower.poll(&mut |ev| match ev {
            TailEvent::Line(l) => {
                batch.push(&l);
                if batch.len() >= LINES_PER_EVENT {
                    flush(&mut batch);
                }
            }
            ev => {
                // keep the order: the lines read before this event go first
                flush(&mut batch);
                let _ = tx.send(ev);
            }
        });
        flush(&mut batch);
        match res {
            Ok(()) => e.last_error = None,
            Err(err) => {
                let msg = err.to_string();
                if e.last_error.as_deref() != Some(msg.as_str()) {
                    let _ = tx.send(TailEvent::Error {
                        path: e.follower.path().clone(),
                        message: msg.clone(),
                    });
                    e.last_error = Some(msg);
                }
            }
        }
    }

    /// Polls the followers whose `(mtime, inode, size)` signature changed (all when `force`).
    pub fn poll_changed(&mut self, force: bool) {
        for i in 0..self.entries.len() {
            let sig = self.entries[i].follower.signature();
            if force || self.entries[i].signature != Some(sig) {
                // the signature taken before reading: a change during the read is seen next time
                self.entries[i].signature = Some(sig);
                self.poll(i);
            }
        }
    }
}

/// `LineSource`, `FileSource` and `Drop` for a follower type made of a command
/// sender (`cmds`), an event receiver (`events`) and its thread (`thread`): the
/// polling and inotify backends differ only in what their thread does.
macro_rules! thread_source {
    ($t:ty) => {
        impl $crate::LineSource for $t {
            fn events(&self) -> &crossbeam_channel::Receiver<$crate::TailEvent> {
                &self.events
            }

            fn stop(&mut self) {
                self.cmds = None;
                // A reader thread blocked on a full queue wakes up when the receiver is gone.
                self.events = crossbeam_channel::never();
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
            }
        }

        impl $crate::FileSource for $t {
            fn add_file(
                &self,
                path: &std::path::Path,
                start: $crate::StartPos,
                encoding: $crate::Encoding,
            ) {
                if let Some(c) = &self.cmds {
                    let _ = c.send($crate::runner::Cmd::Add(
                        path.to_path_buf(),
                        start,
                        encoding,
                    ));
                }
            }

            fn remove_file(&self, path: &std::path::Path) {
                if let Some(c) = &self.cmds {
                    let _ = c.send($crate::runner::Cmd::Remove(path.to_path_buf()));
                }
            }
        }

        impl Drop for $t {
            fn drop(&mut self) {
                use $crate::LineSource as _;
                self.stop();
            }
        }
    };
}
pub(crate) use thread_source;
