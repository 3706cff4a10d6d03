//! A search thread for a jail's watcher (opt-in with `F2B_PREMATCH=1`): the
//! stateless regex searches of a batch of lines ([`Matcher::prematch`]) run on it
//! while the watcher dates the next batch and finishes the previous one
//! ([`Filter::finish`], failure counting) in log order.
//!
//! It pays only with an idle second core: on a busy 2-core machine the extra
//! thread costs more than it saves (docs/status/serverperf2.md), so a server does
//! not start it by default.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use f2b_filter::{Dated, Matcher, Prematch};

/// One batch for the search thread: a new matcher clone when the filter changed.
struct Job {
    matcher: Option<Matcher>,
    check_all: bool,
    dated: Vec<Dated>,
}

/// The searched batch: each line with its search results (None: `finish` searches).
pub type Done = Vec<(Dated, Option<Prematch>)>;

/// The search thread of one watcher.
pub struct Prematcher {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    handle: Option<JoinHandle<()>>,
    /// The shared matcher the thread's clone was made from.
    src: Option<Arc<Matcher>>,
}

/// True when the environment asks for a search thread (`F2B_PREMATCH=1`).
pub fn wanted() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("F2B_PREMATCH").is_ok_and(|v| v == "1"))
}

impl Prematcher {
    /// Starts the thread (None if it cannot be started).
    pub fn spawn(jail: &str) -> Option<Prematcher> {
        // two batches ahead at most: the watcher waits instead of piling up lines
        let (jtx, jrx) = crossbeam_channel::bounded::<Job>(2);
        let (dtx, drx) = crossbeam_channel::bounded::<Done>(2);
        let handle = std::thread::Builder::new()
            .name(format!("f2b/s/{jail}"))
            .spawn(move || {
                let _cache = crate::alloc::ThreadCache::enable();
                let mut m: Option<Matcher> = None;
                for job in jrx {
                    if job.matcher.is_some() {
                        m = job.matcher;
                    }
                    let out: Done = job
                        .dated
                        .into_iter()
                        .map(|d| {
                            let pm = m.as_ref().and_then(|m| m.prematch(&d, job.check_all));
                            (d, pm)
                        })
                        .collect();
                    if dtx.send(out).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Prematcher {
            jobs: Some(jtx),
            done: drx,
            handle: Some(handle),
            src: None,
        })
    }

    /// Sends a batch to be searched with `shared` (the filter's current matcher).
    /// Gives the batch back when the thread is gone (the caller finishes it alone).
    pub fn send(
        &mut self,
        shared: &Arc<Matcher>,
        check_all: bool,
        dated: Vec<Dated>,
    ) -> Result<(), Vec<Dated>> {
        let matcher = match &self.src {
            Some(s) if Arc::ptr_eq(s, shared) => None,
            _ => {
                self.src = Some(Arc::clone(shared));
                Some((**shared).clone())
            }
        };
        let Some(tx) = &self.jobs else {
            return Err(dated);
        };
        tx.send(Job {
            matcher,
            check_all,
            dated,
        })
        .map_err(|e| e.into_inner().dated)
    }

    /// The next searched batch, in the order they were sent.
    pub fn recv(&self) -> Option<Done> {
        self.done.recv().ok()
    }
}

impl Drop for Prematcher {
    fn drop(&mut self) {
        self.jobs = None;
        // the thread ends once its last result is taken
        while self.done.recv().is_ok() {}
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
