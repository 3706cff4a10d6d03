//! Model-based test (after vector's file-source): random appends (with incomplete lines),
//! rename+create rotations, late writes to the rotated file, copytruncate, truncate and
//! delete are applied to a real file and to a model; every complete line must be delivered
//! exactly once and in order.
//!
//! - `follower_matches_model`: drives a [`FileFollower`] synchronously; the model knows
//!   exactly which lines are reachable at each poll.
//! - `polling_backend_matches_model` / `inotify_backend_matches_model`: the threaded
//!   backends, with a sync point (wait until everything expected arrived) before each
//!   destructive action, since a truncation necessarily loses what was not read yet.

use f2b_tail::{
    Encoding, FileFollower, FileSource, InotifyTail, LineSource, PollingTail, StartPos, TailEvent,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum Action {
    /// Complete a pending partial line, then `n` lines, then maybe start a partial one.
    Append {
        n: usize,
        partial: bool,
    },
    /// Late write of `n` lines to the rotated-away file the follower still holds.
    AppendOld {
        n: usize,
    },
    Rotate,
    CopyTruncate,
    Truncate,
    Delete,
    Poll,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0usize..4, any::<bool>()).prop_map(|(n, partial)| Action::Append { n, partial }),
        2 => (1usize..3).prop_map(|n| Action::AppendOld { n }),
        2 => Just(Action::Rotate),
        1 => Just(Action::CopyTruncate),
        1 => Just(Action::Truncate),
        1 => Just(Action::Delete),
        4 => Just(Action::Poll),
    ]
}

#[derive(Debug, Default, Clone)]
struct FileModel {
    pending: Vec<String>,
    partial: Option<String>,
    /// The follower has (certainly) opened this file.
    opened: bool,
}

/// The world: real files plus what the follower should have delivered.
struct World {
    path: PathBuf,
    old_path: PathBuf,
    cur: Option<FileModel>,
    old: Option<FileModel>,
    /// The held rotated file is reachable at `old_path` (rotated, not deleted).
    old_writable: bool,
    expected: Vec<String>,
    seq: usize,
}

fn append(p: &Path, data: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap();
    f.write_all(data.as_bytes()).unwrap();
}

impl World {
    fn new(dir: &Path) -> World {
        World {
            path: dir.join("app.log"),
            old_path: dir.join("app.log.1"),
            cur: None,
            old: None,
            old_writable: false,
            expected: Vec::new(),
            seq: 0,
        }
    }

    fn line(&mut self) -> String {
        self.seq += 1;
        // varying lengths so sizes rarely coincide
        format!("L{:05}-{}", self.seq, "x".repeat(self.seq * 7 % 13))
    }

    fn write_lines(&mut self, to_old: bool, n: usize, partial: bool) {
        let path = if to_old {
            self.old_path.clone()
        } else {
            self.path.clone()
        };
        let mut data = String::new();
        let mut model = if to_old {
            self.old.take()
        } else {
            self.cur.take()
        }
        .unwrap_or_default();
        if let Some(p) = model.partial.take() {
            data.push_str("-end\n");
            model.pending.push(format!("{p}-end"));
        }
        for _ in 0..n {
            let l = self.line();
            data.push_str(&l);
            data.push('\n');
            model.pending.push(l);
        }
        if partial {
            let l = self.line();
            data.push_str(&l);
            model.partial = Some(l);
        }
        append(&path, &data);
        if to_old {
            self.old = Some(model);
        } else {
            self.cur = Some(model);
        }
    }

    /// What a poll delivers: the held rotated file first, then the current one.
    fn model_poll(&mut self) {
        if let Some(o) = self.old.take() {
            self.expected.extend(o.pending);
        }
        if let Some(c) = self.cur.as_mut() {
            self.expected.append(&mut c.pending);
            c.opened = true;
        }
    }

    /// Applies a destructive action to files and model (the caller synced before).
    fn rotate(&mut self) {
        if let Some(c) = self.cur.take() {
            std::fs::rename(&self.path, &self.old_path).unwrap();
            // an unopened file renamed away is never seen: its lines are lost
            self.old = c.opened.then_some(c);
            self.old_writable = true;
        }
        std::fs::File::create(&self.path).unwrap();
        self.cur = Some(FileModel::default());
    }

    fn truncate(&mut self, copy: bool) {
        if let Some(c) = self.cur.as_mut() {
            if copy {
                std::fs::copy(&self.path, &self.old_path).unwrap();
            }
            OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&self.path)
                .unwrap();
            c.pending.clear();
            c.partial = None;
        }
    }

    fn delete(&mut self) {
        if let Some(c) = self.cur.take() {
            std::fs::remove_file(&self.path).unwrap();
            self.old = c.opened.then_some(c);
            self.old_writable = false;
            if let Some(o) = self.old.as_mut() {
                // nobody can write to a deleted file
                o.partial = None;
            }
        }
    }
}

fn lines_of(evs: Vec<TailEvent>, out: &mut Vec<String>) {
    for e in evs.into_iter().flat_map(TailEvent::flatten) {
        if let TailEvent::Line(l) = e {
            out.push(l.text);
        }
    }
}

fn run_sync(actions: &[Action]) {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::new(dir.path());
    let mut f = FileFollower::new(&w.path, StartPos::Head { saved: None }, Encoding::Utf8);
    let mut got = Vec::new();
    let mut poll = |w: &mut World, got: &mut Vec<String>| {
        let mut evs = Vec::new();
        f.poll(&mut |e| evs.push(e)).unwrap();
        lines_of(evs, got);
        w.model_poll();
        assert_eq!(*got, w.expected, "after actions {actions:?}");
    };
    for a in actions {
        match a {
            Action::Append { n, partial } => w.write_lines(false, *n, *partial),
            Action::AppendOld { n } => {
                if w.old.is_some() && w.old_writable {
                    w.write_lines(true, *n, false);
                }
            }
            Action::Poll => poll(&mut w, &mut got),
            destructive => {
                // one rotated file at a time, nothing unread at a truncation
                if w.old.is_some() || matches!(destructive, Action::CopyTruncate | Action::Truncate)
                {
                    poll(&mut w, &mut got);
                }
                match destructive {
                    Action::Rotate => w.rotate(),
                    Action::CopyTruncate => w.truncate(true),
                    Action::Truncate => w.truncate(false),
                    Action::Delete => w.delete(),
                    _ => unreachable!(),
                }
            }
        }
    }
    poll(&mut w, &mut got);
}

/// Waits until `got` holds as many lines as expected (or a deadline), then compares.
fn sync(src: &dyn LineSource, w: &mut World, got: &mut Vec<String>, actions: &[Action]) {
    w.model_poll();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < w.expected.len() && Instant::now() < deadline {
        if let Ok(e) = src.events().recv_timeout(Duration::from_millis(20)) {
            lines_of(vec![e], got);
        }
    }
    // anything extra arriving shortly after is a duplicate
    while let Ok(e) = src.events().recv_timeout(Duration::from_millis(30)) {
        lines_of(vec![e], got);
    }
    assert_eq!(*got, w.expected, "after actions {actions:?}");
}

fn run_async(src: &mut dyn FileSource, actions: &[Action]) {
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::new(dir.path());
    src.add_file(&w.path, StartPos::Head { saved: None }, Encoding::Utf8);
    let mut got = Vec::new();
    for a in actions {
        match a {
            Action::Append { n, partial } => w.write_lines(false, *n, *partial),
            // racy with an asynchronous reader; covered by the synchronous test
            Action::AppendOld { .. } => {}
            Action::Poll => sync(src, &mut w, &mut got, actions),
            destructive => {
                sync(src, &mut w, &mut got, actions);
                match destructive {
                    Action::Rotate => w.rotate(),
                    Action::CopyTruncate => w.truncate(true),
                    Action::Truncate => w.truncate(false),
                    Action::Delete => w.delete(),
                    _ => unreachable!(),
                }
                // what an asynchronous reader held is drained by the sync above
                w.old = None;
            }
        }
    }
    sync(src, &mut w, &mut got, actions);
    src.stop();
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(128))]
    #[test]
    fn follower_matches_model(actions in prop::collection::vec(action(), 1..40)) {
        run_sync(&actions);
    }
}

proptest! {
    #![proptest_config(config(6))]
    #[test]
    fn polling_backend_matches_model(actions in prop::collection::vec(action(), 1..25)) {
        let mut src = PollingTail::spawn(Duration::from_millis(5));
        run_async(&mut src, &actions);
    }

    #[test]
    fn inotify_backend_matches_model(actions in prop::collection::vec(action(), 1..25)) {
        let mut src = InotifyTail::spawn().unwrap();
        run_async(&mut src, &actions);
    }
}
