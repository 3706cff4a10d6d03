//! [`JournalSource`]: upstream's `FilterSystemd.run` loop on a thread, publishing
//! [`TailEvent`]s like the file followers of f2b-tail, so a jail's watcher can take
//! either behind [`LineSource`].
//!
//! Mapping onto the file events: every entry is a [`TailEvent::Line`] whose `path` is
//! `systemd-journal` (the name upstream's database uses), `text` the formatted line,
//! and `offset` = `end` the entry's µs timestamp; [`crate::entry_time`] turns it into the
//! time and ISO text (line date, database position). [`TailEvent::CaughtUp`] marks
//! upstream's "in operation" switch, [`TailEvent::Error`] a read error.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, SendTimeoutError, Sender};
use f2b_tail::{LineSource, LogLine, TailEvent};

use crate::format::EntryFormatter;
use crate::lines::JournalReader;
use crate::reader::{JournalArgs, Wake};
use crate::Error;

/// The database "path" of a journal position.
pub const JOURNAL_NAME: &str = "systemd-journal";
/// Entries handled before looking for new ones again (upstream: 100).
const CHUNK: usize = 100;
/// Granularity of waits, so a stop request is honoured quickly (upstream 0.2 s).
const WAIT_SLICE: Duration = Duration::from_millis(200);
/// Queue length between the thread and the jail.
const QUEUE: usize = 1024;

/// How a [`JournalSource`] starts and runs.
#[derive(Debug, Clone)]
pub struct JournalConfig {
    /// What to open.
    pub args: JournalArgs,
    /// Match groups (AND inside, OR between), as from [`crate::match_groups`].
    pub matches: Vec<Vec<String>>,
    /// Formatting (encoding, UTC offset).
    pub formatter: EntryFormatter,
    /// The journal time saved in the database (`logs.lastfilepos` of `systemd-journal`).
    pub saved_time: Option<f64>,
    /// The jail's findtime: reading starts at max(saved, now − int(findtime)).
    pub findtime: f64,
    /// How long to wait for new entries before looking again (upstream `sleeptime`).
    pub sleeptime: Duration,
    /// The clock (seconds since the epoch).
    pub now: fn() -> f64,
}

/// The system clock.
pub fn system_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl JournalConfig {
    /// A configuration with upstream's defaults (sleeptime 2 s, local UTC offset).
    pub fn new(args: JournalArgs, matches: Vec<Vec<String>>, findtime: f64) -> JournalConfig {
        JournalConfig {
            args,
            matches,
            formatter: EntryFormatter::local(f2b_tail::Encoding::Utf8),
            saved_time: None,
            findtime,
            sleeptime: Duration::from_secs(2),
            now: system_now,
        }
    }
}

/// A journal followed by a thread.
pub struct JournalSource {
    rx: Receiver<TailEvent>,
    stop: Arc<AtomicBool>,
    pending: Arc<Mutex<Option<Vec<Vec<String>>>>>,
    idle: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl JournalSource {
    /// Opens the journal and applies the matches here (so errors reach the caller),
    /// then starts following on a thread.
    pub fn spawn(cfg: JournalConfig) -> Result<JournalSource, Error> {
        let mut reader = JournalReader::open(&cfg.args, cfg.formatter)?;
        reader.set_matches(cfg.matches.clone())?;
        let (tx, rx) = crossbeam_channel::bounded(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let pending = Arc::new(Mutex::new(None));
        let idle = Arc::new(AtomicBool::new(false));
        let mut run = Run {
            reader,
            cfg,
            tx,
            stop: stop.clone(),
            pending: pending.clone(),
            idle: idle.clone(),
            path: Arc::new(PathBuf::from(JOURNAL_NAME)),
            in_operation: false,
            last_error: None,
            ticks: 0,
        };
        let thread = std::thread::Builder::new()
            .name("f2b/journal".into())
            .spawn(move || run.run())
            .map_err(|e| Error::new(crate::ErrorKind::Open, format!("spawn: {e}")))?;
        Ok(JournalSource {
            rx,
            stop,
            pending,
            idle,
            thread: Some(thread),
        })
    }

    /// Pauses or resumes reading (`set <jail> idle on|off`): like upstream, entries
    /// written meanwhile stay in the journal and are read after the pause.
    pub fn set_idle(&self, idle: bool) {
        self.idle.store(idle, Ordering::SeqCst);
    }

    /// Replaces the match groups of the running source (upstream changes the live
    /// reader's matches on `addjournalmatch`/`deljournalmatch`). Check the words with
    /// [`crate::valid_match`] first: an invalid one is reported as an error event.
    pub fn set_matches(&self, groups: Vec<Vec<String>>) {
        if let Ok(mut p) = self.pending.lock() {
            *p = Some(groups);
        }
    }
}

impl LineSource for JournalSource {
    fn events(&self) -> &Receiver<TailEvent> {
        &self.rx
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for JournalSource {
    fn drop(&mut self) {
        LineSource::stop(self);
    }
}

/// Where the "in operation" switch stands (upstream's `startTime` tuple).
enum Start {
    /// The journal had entries: switch once the last one at start (cursor) or a newer
    /// time than the start wall-clock is reached.
    Cursor(f64, String),
    /// Switch once an entry is newer than this.
    Time(f64),
}

struct Run {
    reader: JournalReader,
    cfg: JournalConfig,
    tx: Sender<TailEvent>,
    stop: Arc<AtomicBool>,
    pending: Arc<Mutex<Option<Vec<Vec<String>>>>>,
    idle: Arc<AtomicBool>,
    path: Arc<PathBuf>,
    in_operation: bool,
    ticks: u64,
    /// The last error reported (a persisting error is reported once).
    last_error: Option<String>,
}

impl Run {
    fn active(&self) -> bool {
        !self.stop.load(Ordering::SeqCst)
    }

    /// Sends an event, giving up when stopped; false when the receiver is gone or stopped.
    fn send(&self, mut ev: TailEvent) -> bool {
        loop {
            match self.tx.send_timeout(ev, WAIT_SLICE) {
                Ok(()) => return true,
                Err(SendTimeoutError::Timeout(back)) => {
                    if !self.active() {
                        return false;
                    }
                    ev = back;
                }
                Err(SendTimeoutError::Disconnected(_)) => return false,
            }
        }
    }

    fn error(&mut self, e: &Error) -> bool {
        let message = e.to_string();
        if self.last_error.as_deref() == Some(message.as_str()) {
            return self.active();
        }
        self.last_error = Some(message.clone());
        self.send(TailEvent::Error {
            path: self.path.clone(),
            message,
        })
    }

    fn go_in_operation(&mut self) -> bool {
        self.in_operation = true;
        self.send(TailEvent::CaughtUp {
            path: self.path.clone(),
        })
    }

    /// Upstream's start: remember the last entry, seek to max(saved, now − findtime)
    /// (or to now on an empty journal) and step back one entry against dead space.
    fn start(&mut self) -> Start {
        let j = &mut self.reader.journal;
        let mut last = None;
        if j.seek_tail().is_ok() && matches!(j.step_previous(), Ok(true)) {
            last = j.cursor().ok();
            let _ = j.step_next();
        }
        let now = (self.cfg.now)();
        let start = match last {
            Some(cursor) => {
                let t = self
                    .cfg
                    .saved_time
                    .unwrap_or(0.0)
                    .max(now - self.cfg.findtime.trunc()); // upstream: int(findtime)
                let _ = self.reader.journal.seek_realtime(t);
                Start::Cursor(now, cursor)
            }
            None => {
                self.go_in_operation();
                let _ = self.reader.journal.seek_realtime(now);
                Start::Time(now)
            }
        };
        let _ = self.reader.journal.step_previous();
        start
    }

    /// Waits for new entries up to sleeptime, in slices so a stop is seen.
    fn wait(&mut self) -> Wake {
        let deadline = Instant::now() + self.cfg.sleeptime;
        while self.active() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Wake::Nop;
            }
            match self.reader.journal.wait(left.min(WAIT_SLICE)) {
                Ok(Wake::Nop) => {}
                Ok(w) => return w,
                Err(e) => {
                    self.error(&e);
                    std::thread::sleep(left.min(WAIT_SLICE));
                }
            }
        }
        Wake::Append
    }

    /// After an invalidation (rotation, vacuum): let it settle, then step back and forth
    /// so the position is not in dead space.
    fn settle(&mut self) {
        if self.ticks > 0 {
            std::thread::sleep(self.cfg.sleeptime / 4);
        }
        let deadline = Instant::now() + self.cfg.sleeptime * 3;
        while self.active() && Instant::now() < deadline {
            match self.reader.journal.wait(WAIT_SLICE) {
                Ok(Wake::Invalidate) => {}
                _ => break,
            }
        }
        if self.ticks > 0 && matches!(self.reader.journal.step_previous(), Ok(true)) {
            let _ = self.reader.journal.step_next();
        }
    }

    fn apply_pending(&mut self) {
        let groups = self.pending.lock().ok().and_then(|mut p| p.take());
        if let Some(g) = groups {
            if let Err(e) = self.reader.set_matches(g) {
                self.error(&e);
            }
        }
    }

    fn run(&mut self) {
        let mut start = self.start();
        let mut wcode = Wake::Nop;
        while self.active() {
            self.apply_pending();
            if wcode == Wake::Nop && self.in_operation && self.wait() == Wake::Invalidate {
                self.settle();
            }
            if self.idle.load(Ordering::SeqCst) {
                // upstream leaves the entries in the journal while idle
                std::thread::sleep(WAIT_SLICE);
                self.ticks += 1;
                continue;
            }
            let mut handled = 0;
            wcode = Wake::Nop;
            while self.active() {
                self.ticks += 1;
                let line = match self.reader.next_line() {
                    Ok(Some(l)) => {
                        self.last_error = None;
                        l
                    }
                    Ok(None) => {
                        if !self.in_operation && !self.go_in_operation() {
                            return;
                        }
                        break;
                    }
                    Err(e) => {
                        // upstream treats a failed read like the end of the journal
                        if !self.error(&e) {
                            return;
                        }
                        if !self.in_operation && !self.go_in_operation() {
                            return;
                        }
                        break;
                    }
                };
                if !self.in_operation {
                    let now = (self.cfg.now)();
                    let mut switch = false;
                    if line.time >= now - 1.0 {
                        switch = true;
                    } else {
                        match &start {
                            Start::Cursor(wall, cursor) => {
                                if line.cursor == *cursor || line.time > *wall {
                                    start = Start::Time(now * 2.0 - wall);
                                }
                            }
                            Start::Time(t) => switch = line.time > *t,
                        }
                    }
                    if switch && !self.go_in_operation() {
                        return;
                    }
                }
                let pos = line.usec.max(0) as u64;
                let ev = TailEvent::Line(LogLine {
                    path: self.path.clone(),
                    text: line.text,
                    offset: pos,
                    end: pos,
                });
                if !self.send(ev) {
                    return;
                }
                handled += 1;
                if handled >= CHUNK {
                    wcode = Wake::Append;
                    break;
                }
            }
        }
    }
}
