//! The inotify backend (upstream `filterpyinotify.py`): `IN_MODIFY` on each file plus
//! create/move/delete events on its directory; a file is read as soon as it changes. A
//! signature re-check every second catches what events cannot (files appearing in a
//! directory that did not exist yet, lost events on queue overflow).

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

use crate::runner::{Cmd, Runner};
use crate::TailEvent;

/// How long the thread sleeps in `poll(2)` before looking at commands again.
const WAKE: Duration = Duration::from_millis(50);
/// Safety-net re-check of all signatures.
const RECHECK: Duration = Duration::from_secs(1);

/// Follows files with inotify from a background thread.
pub struct InotifyTail {
    cmds: Option<Sender<Cmd>>,
    events: Receiver<TailEvent>,
    thread: Option<JoinHandle<()>>,
}

struct Watcher {
    inotify: Inotify,
    dirs: HashMap<PathBuf, WatchDescriptor>,
    /// path → (watch, watched inode)
    files: HashMap<PathBuf, (WatchDescriptor, (u64, u64))>,
}

impl Watcher {
    fn watch_dir(&mut self, path: &Path) {
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        if self.dirs.contains_key(&dir) {
            return;
        }
        let mask = WatchMask::CREATE
            | WatchMask::MOVED_TO
            | WatchMask::MOVED_FROM
            | WatchMask::DELETE
            | WatchMask::MOVE_SELF
            | WatchMask::DELETE_SELF;
        if let Ok(wd) = self.inotify.watches().add(&dir, mask) {
            self.dirs.insert(dir, wd);
        }
    }

    /// (Re-)watches the file the follower has open, if that changed.
    fn watch_file(&mut self, path: &Path, inode: Option<(u64, u64)>) {
        let Some(inode) = inode else { return };
        if self.files.get(path).is_some_and(|(_, i)| *i == inode) {
            return;
        }
        if let Some((old, _)) = self.files.remove(path) {
            let _ = self.inotify.watches().remove(old);
        }
        let mask =
            WatchMask::MODIFY | WatchMask::ATTRIB | WatchMask::MOVE_SELF | WatchMask::DELETE_SELF;
        if let Ok(wd) = self.inotify.watches().add(path, mask) {
            self.files.insert(path.to_path_buf(), (wd, inode));
        }
    }

    /// Paths affected by the pending events (all on overflow); `None` if nothing is pending.
    fn affected(&mut self, followed: &[PathBuf]) -> Vec<PathBuf> {
        let mut buf = [0u8; 8192];
        let mut out: Vec<PathBuf> = Vec::new();
        loop {
            let events = match self.inotify.read_events(&mut buf) {
                Ok(ev) => ev,
                Err(_) => break,
            };
            let mut any = false;
            for ev in events {
                any = true;
                if ev.mask.contains(EventMask::Q_OVERFLOW) {
                    return followed.to_vec();
                }
                if let Some((p, _)) = self.files.iter().find(|(_, (wd, _))| *wd == ev.wd) {
                    out.push(p.clone());
                }
                if let Some((dir, _)) = self.dirs.iter().find(|(_, wd)| **wd == ev.wd) {
                    match ev.name {
                        Some(name) => out.push(dir.join(name)),
                        None => out.extend(
                            followed
                                .iter()
                                .filter(|p| p.parent() == Some(dir.as_path()))
                                .cloned(),
                        ),
                    }
                }
            }
            if !any {
                break;
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

fn wait_readable(fd: i32, timeout: Duration) {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) };
}

fn run(inotify: Inotify, crx: Receiver<Cmd>, etx: Sender<TailEvent>) {
    let mut w = Watcher {
        inotify,
        dirs: HashMap::new(),
        files: HashMap::new(),
    };
    let mut runner = Runner::new(etx);
    let mut next_recheck = Instant::now() + RECHECK;
    loop {
        loop {
            match crx.try_recv() {
                Ok(cmd) => {
                    let removed = match &cmd {
                        Cmd::Remove(p) => Some(p.clone()),
                        Cmd::Add(..) => None,
                    };
                    if let Some(i) = runner.apply(cmd) {
                        let path = runner.entries[i].follower.path().to_path_buf();
                        w.watch_dir(&path);
                        runner.poll(i);
                        w.watch_file(&path, runner.entries[i].follower.inode());
                    }
                    if let Some(p) = removed {
                        if let Some((wd, _)) = w.files.remove(&p) {
                            let _ = w.inotify.watches().remove(wd);
                        }
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        wait_readable(w.inotify.as_raw_fd(), WAKE);
        let followed: Vec<PathBuf> = runner
            .entries
            .iter()
            .map(|e| e.follower.path().to_path_buf())
            .collect();
        for p in w.affected(&followed) {
            if let Some(i) = followed.iter().position(|f| *f == p) {
                runner.poll(i);
                w.watch_file(&p, runner.entries[i].follower.inode());
            }
        }
        if Instant::now() >= next_recheck {
            runner.poll_changed(false);
            for (i, p) in followed.iter().enumerate() {
                // a directory created after add_file gets its watch now
                w.watch_dir(p);
                w.watch_file(p, runner.entries[i].follower.inode());
            }
            next_recheck = Instant::now() + RECHECK;
        }
    }
}

impl InotifyTail {
    /// Starts the inotify thread (fails when inotify is unavailable).
    pub fn spawn() -> std::io::Result<Self> {
        let inotify = Inotify::init()?;
        let (ctx, crx) = crossbeam_channel::unbounded::<Cmd>();
        let (etx, erx) = crossbeam_channel::bounded(crate::EVENT_QUEUE);
        let thread = std::thread::Builder::new()
            .name("f2b-tail-inotify".into())
            .spawn(move || run(inotify, crx, etx))?;
        Ok(InotifyTail {
            cmds: Some(ctx),
            events: erx,
            thread: Some(thread),
        })
    }
}

crate::runner::thread_source!(InotifyTail);
