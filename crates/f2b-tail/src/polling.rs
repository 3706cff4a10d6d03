//! The polling backend (upstream `filterpoll.py`): every interval, each file whose
//! `(mtime, inode, size)` changed is read.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::runner::{Cmd, Runner};
use crate::TailEvent;

/// Follows files by polling them from a background thread.
pub struct PollingTail {
    cmds: Option<Sender<Cmd>>,
    events: Receiver<TailEvent>,
    thread: Option<JoinHandle<()>>,
}

impl PollingTail {
    /// Starts the polling thread with the given interval (upstream `sleeptime`, 2 s).
    pub fn spawn(interval: Duration) -> Self {
        let (ctx, crx) = crossbeam_channel::unbounded::<Cmd>();
        let (etx, erx) = crossbeam_channel::bounded(crate::EVENT_QUEUE);
        let thread = std::thread::Builder::new()
            .name("f2b-tail-poll".into())
            .spawn(move || {
                let mut runner = Runner::new(etx);
                let mut next = Instant::now() + interval;
                loop {
                    match crx.recv_deadline(next) {
                        Ok(cmd) => {
                            if let Some(i) = runner.apply(cmd) {
                                runner.poll(i);
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            runner.poll_changed(false);
                            next = Instant::now() + interval;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .expect("spawn polling thread");
        PollingTail {
            cmds: Some(ctx),
            events: erx,
            thread: Some(thread),
        }
    }
}

crate::runner::thread_source!(PollingTail);
