//! The watcher thread of a jail (upstream's filter thread: `FilterPoll` /
//! `FilterPyinotify` `run` + `processLineAndAdd`): follows the log files with
//! f2b-tail, runs each line through the filter, counts failures and queues tickets
//! that reached maxretry for the actions thread.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use f2b_jail::{FailTicket, IpAddr, MatchLine};
use f2b_tail::{Encoding, FileSource, InotifyTail, LineSource, PollingTail, StartPos, TailEvent};

use super::actions::log_event;
use super::{now, ActionMsg, Jail};
use crate::f2b_log;

/// How often the polling backend looks at the files (upstream `sleeptime`).
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Events handled per lock of the filter part.
const BATCH: usize = 512;
/// Log positions are saved at most this often (seconds).
const DB_SAVE_INTERVAL: f64 = 10.0;

/// Starts the watcher thread (None for backends without files, e.g. systemd).
pub fn spawn(jail: Arc<Jail>) -> Option<JoinHandle<()>> {
    let kind = jail.filter().kind.clone();
    if kind == "systemd" {
        return std::thread::Builder::new()
            .name(format!("f2b/j/{}", jail.name))
            .spawn(move || run_journal(jail))
            .ok();
    }
    std::thread::Builder::new()
        .name(format!("f2b/w/{}", jail.name))
        .spawn(move || run(jail, &kind))
        .ok()
}

fn encoding_of(enc: &str) -> Encoding {
    let e = enc.to_lowercase().replace(['-', '_'], "");
    if e == "latin1" || e == "iso88591" {
        Encoding::Latin1
    } else {
        Encoding::Utf8
    }
}

fn run(jail: Arc<Jail>, kind: &str) {
    let mut source: Box<dyn FileSource> = if kind == "pyinotify" {
        match InotifyTail::spawn() {
            Ok(t) => Box::new(t),
            Err(e) => {
                f2b_log!(
                    WARNING,
                    "filter",
                    "[{}] inotify unavailable ({e}), polling instead",
                    jail.name
                );
                Box::new(PollingTail::spawn(POLL_INTERVAL))
            }
        }
    } else {
        Box::new(PollingTail::spawn(POLL_INTERVAL))
    };
    let mut positions = Positions::default();
    let mut last_save = now();
    let mut tail_only = true;
    while !jail.stopping.load(Ordering::SeqCst) {
        let (added, removed, enc) = {
            let mut f = jail.filter();
            (
                std::mem::take(&mut f.pending_files),
                std::mem::take(&mut f.removed_files),
                f.logencoding.clone(),
            )
        };
        for (p, tail) in added {
            let start = if tail {
                StartPos::Tail
            } else {
                tail_only = false;
                let saved = jail
                    .db
                    .as_ref()
                    .and_then(|d| d.log_position(&jail.name, &p))
                    .map(|(h, pos)| (pos, h));
                if let Some((pos, h)) = &saved {
                    // the database has this already: no write unless it changes
                    positions.known(&p, h, *pos);
                }
                match seek_target(&jail, &p) {
                    Some((target, date_of)) => StartPos::HeadSeek {
                        saved,
                        target,
                        date_of,
                    },
                    None => StartPos::Head { saved },
                }
            };
            source.add_file(p.as_ref(), start, encoding_of(&enc));
        }
        for p in removed {
            source.remove_file(p.as_ref());
        }
        let first = match source.events().recv_timeout(Duration::from_millis(200)) {
            Ok(ev) => ev,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                mark_in_operation(&jail);
                housekeeping(&jail, &mut positions, &mut last_save, false);
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match source.events().try_recv() {
                Ok(ev) => batch.push(ev),
                Err(_) => break,
            }
        }
        let _ = tail_only;
        if handle_batch(&jail, batch, &mut positions) {
            mark_in_operation(&jail);
        }
        housekeeping(&jail, &mut positions, &mut last_save, false);
    }
    source.stop();
    housekeeping(&jail, &mut positions, &mut last_save, true);
    f2b_log!(DEBUG, "filter", "[{}] filter terminated", jail.name);
}

/// Upstream's `seekToTime` at the first read of a `head` file: the start moves to the
/// first line dated at or after now - findtime, found with the jail's date detector, so
/// a big old log is not replayed line by line.
fn seek_target(jail: &Jail, path: &str) -> Option<(f64, f2b_tail::DateFn)> {
    // nothing to skip in an empty file (upstream returns early too); the filter is then
    // built when the first line comes, not for the seek
    if std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
        return None;
    }
    let mut f = jail.filter();
    let target = now() - f.fail.max_time();
    let mut dd = f.matcher()?.date_detector()?.clone();
    let date_of = move |line: &str| {
        let n = now();
        let m = dd.match_time(line, n)?;
        dd.get_time(line, &m, n)
    };
    Some((target, Arc::new(std::sync::Mutex::new(date_of))))
}

/// The initial read is over: from now on line dates are checked against "now".
fn mark_in_operation(jail: &Jail) {
    let mut f = jail.filter();
    if !f.in_operation {
        f.in_operation = true;
        if let Some(m) = f.matcher.as_mut() {
            m.in_operation = true;
        }
    }
}

/// Failure cleanup (at most every 5 s) and log position saving.
fn housekeeping(jail: &Jail, positions: &mut Positions, last_save: &mut f64, force: bool) {
    let n = now();
    {
        let mut f = jail.filter();
        if n - f.last_cleanup_time() >= 5.0 {
            f.fail.cleanup(n);
            f.set_last_cleanup_time(n);
            jail.found.store(f.fail.size() as u64, Ordering::Relaxed);
        }
    }
    if force || n - *last_save >= DB_SAVE_INTERVAL {
        *last_save = n;
        if let Some(db) = &jail.db {
            for e in positions.0.iter_mut() {
                if e.hash.is_empty() {
                    // the file had no complete first line when it was opened
                    e.hash = super::filter::first_line_hash(&e.path);
                }
                let same = e
                    .saved
                    .as_ref()
                    .is_some_and(|(p, h)| *p == e.pos && *h == e.hash);
                // an idle jail does not write the same position every 10 s
                if force || !same {
                    db.update_log(&jail.name, &e.path, &e.hash, e.pos);
                    e.saved = Some((e.pos, e.hash.clone()));
                }
            }
        }
    }
}

/// Read position and first-line hash of each followed file (saved to the database).
#[derive(Default)]
struct Positions(Vec<PosEntry>);

struct PosEntry {
    /// The path as the database keeps it.
    path: String,
    /// The follower's path handle: lines carry a clone, so a pointer compare finds the
    /// entry without formatting the path for every line.
    handle: Option<Arc<PathBuf>>,
    hash: String,
    pos: u64,
    /// What the database holds (position, hash), when known.
    saved: Option<(u64, String)>,
}

impl Positions {
    /// Records what the database holds for `path` before the file is opened.
    fn known(&mut self, path: &str, hash: &str, pos: u64) {
        let saved = Some((pos, hash.to_string()));
        match self.0.iter_mut().find(|e| e.path == path) {
            Some(e) => e.saved = saved,
            None => self.0.push(PosEntry {
                path: path.to_string(),
                handle: None,
                hash: hash.to_string(),
                pos,
                saved,
            }),
        }
    }

    fn entry(&mut self, path: &Arc<PathBuf>) -> &mut PosEntry {
        let i = match self
            .0
            .iter()
            .position(|e| e.handle.as_ref().is_some_and(|h| Arc::ptr_eq(h, path)))
        {
            Some(i) => i,
            None => {
                let p = path.to_string_lossy();
                match self.0.iter().position(|e| e.path == p) {
                    Some(i) => {
                        self.0[i].handle = Some(path.clone());
                        i
                    }
                    None => {
                        self.0.push(PosEntry {
                            path: p.into_owned(),
                            handle: Some(path.clone()),
                            hash: String::new(),
                            pos: 0,
                            saved: None,
                        });
                        self.0.len() - 1
                    }
                }
            }
        };
        &mut self.0[i]
    }
}

/// Batches of at least this many lines have their searches spread over threads.
const PARALLEL_MIN_LINES: usize = 128;

/// Threads for a big batch's searches (the watcher's included): 1 unless the
/// environment sets `F2B_SEARCH_THREADS`. More threads cost about a third more
/// CPU in all, and only shorten a backlog on a machine with idle cores
/// (docs/benchmarks.md), so a server does not take them by default.
fn search_threads() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("F2B_SEARCH_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, 8)
    })
}

fn handle_batch(jail: &Jail, batch: Vec<TailEvent>, positions: &mut Positions) -> bool {
    let mut to_ban = Vec::new();
    let mut caught_up = false;
    // the Found lines of this batch go to a log file in one write
    let _hold = crate::logging::hold();
    {
        let mut f = jail.filter();
        let idle = jail.idle.load(Ordering::SeqCst);
        // one clock reading per batch (a batch takes milliseconds)
        let n = now();
        for ev in batch {
            match ev {
                TailEvent::Lines(b) => {
                    let mut last = None;
                    if !idle && search_threads() > 1 && b.iter().count() >= PARALLEL_MIN_LINES {
                        // a big batch (reading a log, a burst): the filter's
                        // searches run on several threads, results in order
                        let texts: Vec<&str> = b.iter().map(|(t, _, _)| t).collect();
                        let results = match f.matcher() {
                            Some(m) => m.process_lines(&texts, n, search_threads()),
                            None => Vec::new(),
                        };
                        for res in results {
                            if res.over_limit || !res.failures.is_empty() {
                                handle_result(jail, &mut f, res, n, &mut to_ban);
                            }
                        }
                        last = b.iter().last().map(|(_, _, end)| end);
                    } else {
                        for (text, _, end) in b.iter() {
                            if !idle {
                                process_line_at(jail, &mut f, text, n, &mut to_ban);
                            }
                            last = Some(end);
                        }
                    }
                    if let Some(end) = last {
                        positions.entry(&b.path).pos = end;
                    }
                }
                TailEvent::Line(l) => {
                    if !idle {
                        process_line_at(jail, &mut f, &l.text, n, &mut to_ban);
                    }
                    positions.entry(&l.path).pos = l.end;
                }
                ev => other_event(ev, &mut f, positions, &mut caught_up),
            }
        }
        jail.found.store(f.fail.size() as u64, Ordering::Relaxed);
        jail.found_total
            .store(f.fail.fail_total(), Ordering::Relaxed);
    }
    for t in to_ban {
        let _ = jail.queue.send(ActionMsg::Ban(t));
    }
    caught_up
}

/// The events of a batch other than lines.
fn other_event(
    ev: TailEvent,
    f: &mut super::FilterPart,
    positions: &mut Positions,
    caught_up: &mut bool,
) {
    match ev {
        TailEvent::Lines(_) | TailEvent::Line(_) => {}
        TailEvent::Opened { path, hash, pos } => {
            f2b_log!(DEBUG, "filter", "{} has been modified", path.display());
            let e = positions.entry(&path);
            e.hash = hash;
            e.pos = pos;
        }
        TailEvent::HashChanged { path, hash } => {
            positions.entry(&path).hash = hash;
        }
        TailEvent::CaughtUp { .. } => *caught_up = true,
        TailEvent::Rotated { path, reason } => {
            f2b_log!(
                MSG,
                "filter",
                "Log rotation detected for {}, reason: {:?}",
                path.display(),
                reason
            );
        }
        TailEvent::Missing { path } => {
            f2b_log!(
                ERROR,
                "filter",
                "Unable to open {}: file does not exist (waiting for it)",
                path.display()
            );
        }
        TailEvent::DecodeWarning { path } => {
            f2b_log!(
                WARNING,
                "filter",
                "Error decoding line from '{}' with '{}'.",
                path.display(),
                f.logencoding
            );
        }
        TailEvent::Error { path, message } => {
            f2b_log!(
                ERROR,
                "filter",
                "Unable to read {}: {message}",
                path.display()
            );
        }
    }
}

/// Upstream `processLineAndAdd` for one line.
pub fn process_line(
    jail: &Jail,
    f: &mut super::FilterPart,
    text: &str,
    to_ban: &mut Vec<FailTicket>,
) {
    process_line_at(jail, f, text, now(), to_ban);
}

/// [`process_line`] at the time `n`.
fn process_line_at(
    jail: &Jail,
    f: &mut super::FilterPart,
    text: &str,
    n: f64,
    to_ban: &mut Vec<FailTicket>,
) {
    let Some(m) = f.matcher() else { return };
    let res = m.process_line(text, n);
    if res.over_limit || !res.failures.is_empty() {
        handle_result(jail, f, res, n, to_ban);
    }
}

/// A journal line whose time is known (no date detection).
fn process_tuple(
    jail: &Jail,
    f: &mut super::FilterPart,
    tuple: (String, String, String),
    time: f64,
    to_ban: &mut Vec<FailTicket>,
) {
    let n = now();
    let Some(m) = f.matcher() else { return };
    let res = m.process_line_with_date(tuple, time, n);
    handle_result(jail, f, res, n, to_ban);
}

fn handle_result(
    jail: &Jail,
    f: &mut super::FilterPart,
    res: f2b_filter::LineResult,
    n: f64,
    to_ban: &mut Vec<FailTicket>,
) {
    if res.over_limit {
        f2b_log!(
            WARNING,
            "filter",
            "[{}] line not examined (too long or too complex)",
            jail.name
        );
    }
    for fl in res.failures {
        if fl.nofail() {
            continue;
        }
        let Some(id) = fl.id else { continue };
        let mut t = fl.time.unwrap_or(n);
        if t > n {
            t = n;
        }
        let ip = IpAddr::parse(&id);
        if f.is_ignored(&ip, n, true) {
            continue;
        }
        if crate::logging::enabled(crate::logging::Level::INFO) {
            // Event::Found's text, without building the event
            let mut msg = String::with_capacity(64 + jail.name.len());
            f2b_jail::found_message(&mut msg, &jail.name, &ip, t);
            crate::logging::log("filter", crate::logging::Level::INFO, &msg);
        }
        let data = fl.data;
        let matches: Vec<MatchLine> = data
            .matches
            .unwrap_or_default()
            .into_iter()
            .map(MatchLine::Line)
            .collect();
        // like upstream, a known id keeps the data of its first failure: build it only
        // for a new one
        let mut map = serde_json::Map::new();
        if f.fail.get(&ip).is_none() {
            for (k, v) in data.groups {
                if let Some(v) = v {
                    map.insert(String::from(&*k), serde_json::Value::String(v));
                }
            }
        }
        let ticket = FailTicket::new(ip.clone(), t, matches).with_data(map);
        let attempts = f.fail.add_failure(ticket, 1);
        let mut ban = attempts >= f.fail.max_retry();
        if !ban {
            ban = observe_failure(jail, f, &ip, t);
        }
        if ban {
            if let Some(bt) = f.fail.to_ban(Some(&ip)) {
                to_ban.push(bt);
            }
        }
    }
}

/// Observer `failureFound` (bantime.increment with a database): a failure of an
/// address with a ban history counts more (2, 3, 5, 9 … retries). Returns true when
/// the address must be banned now.
fn observe_failure(jail: &Jail, f: &mut super::FilterPart, ip: &IpAddr, time: f64) -> bool {
    let Some(db) = jail.db.as_ref() else {
        return false;
    };
    if !jail.increment.load(Ordering::Relaxed) {
        return false;
    }
    // the lock order is filter before actions: taking it here is safe
    let extra = {
        let a = jail.actions();
        if !a.extra.increment {
            return false;
        }
        a.extra.clone()
    };
    let ban_count = f.fail.get(ip).map_or(0, |t| t.ban_count);
    let history = db.ban_history(&ip.to_string(), Some(&jail.name));
    match extra.failure_found(&jail.name, &mut f.fail, ip, time, ban_count, history) {
        Some((ev, ban)) => {
            log_event(&ev);
            ban
        }
        None => false,
    }
}

/// The systemd backend (upstream `FilterSystemd.run`): f2b-journal's follower thread
/// publishes formatted entries; each goes through the filter with its journal time.
fn run_journal(jail: Arc<Jail>) {
    let opts = crate::logging::extract_options(&jail.backend)
        .map(|(_, o)| o)
        .unwrap_or_default();
    let args = match f2b_journal::JournalArgs::from_options(&opts) {
        Ok(a) => a,
        Err(e) => {
            f2b_log!(
                ERROR,
                "filtersystemd",
                "[{}] journal options: {e}",
                jail.name
            );
            return;
        }
    };
    let (groups, findtime) = {
        let f = jail.filter();
        (f.journalmatch.clone(), f.fail.max_time())
    };
    let mut cfg = f2b_journal::JournalConfig::new(args, groups, findtime);
    cfg.saved_time = jail.db.as_ref().and_then(|d| d.journal_time(&jail.name));
    let mut source = match f2b_journal::JournalSource::spawn(cfg) {
        Ok(s) => s,
        Err(e) => {
            f2b_log!(
                ERROR,
                "filtersystemd",
                "[{}] cannot open the journal: {e}",
                jail.name
            );
            return;
        }
    };
    let mut last: Option<(i64, String)> = None;
    let mut last_save = now();
    while !jail.stopping.load(Ordering::SeqCst) {
        let mut batch = Vec::new();
        match source.events().recv_timeout(Duration::from_millis(200)) {
            Ok(ev) => batch.push(ev),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
        while batch.len() < BATCH {
            match source.events().try_recv() {
                Ok(ev) => batch.push(ev),
                Err(_) => break,
            }
        }
        let mut to_ban = Vec::new();
        {
            let mut f = jail.filter();
            let idle = jail.idle.load(Ordering::SeqCst);
            for ev in batch {
                match ev {
                    TailEvent::Line(l) => {
                        let et = f2b_journal::entry_time(l.offset as i64);
                        last = Some((l.offset as i64, et.iso.clone()));
                        if !idle {
                            let tuple = (String::new(), format!("{} ", et.iso), l.text);
                            process_tuple(&jail, &mut f, tuple, et.time, &mut to_ban);
                        }
                    }
                    TailEvent::CaughtUp { .. } => {
                        f.in_operation = true;
                        if let Some(m) = f.matcher.as_mut() {
                            m.in_operation = true;
                        }
                    }
                    TailEvent::Error { message, .. } => {
                        f2b_log!(ERROR, "filtersystemd", "[{}] journal: {message}", jail.name);
                    }
                    _ => {}
                }
            }
            jail.found.store(f.fail.size() as u64, Ordering::Relaxed);
            jail.found_total
                .store(f.fail.fail_total(), Ordering::Relaxed);
        }
        for t in to_ban {
            let _ = jail.queue.send(ActionMsg::Ban(t));
        }
        let n = now();
        if n - last_save >= DB_SAVE_INTERVAL {
            last_save = n;
            save_journal_pos(&jail, &last);
        }
    }
    source.stop();
    save_journal_pos(&jail, &last);
    f2b_log!(DEBUG, "filtersystemd", "[{}] filter terminated", jail.name);
}

fn save_journal_pos(jail: &Jail, last: &Option<(i64, String)>) {
    if let (Some(db), Some((usec, iso))) = (&jail.db, last) {
        db.update_journal(&jail.name, *usec as f64 / 1e6, iso);
    }
}
