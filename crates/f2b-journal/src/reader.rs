//! A safe handle on one `sd_journal`: opening (like python-systemd's `journal.Reader`),
//! matches, moving around, waiting, and reading the current entry's raw fields.

use std::ffi::{c_char, c_void, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ffi::{self, Api, SdId128, SdJournal};
use crate::{Error, ErrorKind};

/// `SD_JOURNAL_LOCAL_ONLY`: python-systemd's default flags for the system journal.
pub const LOCAL_ONLY: i32 = 1;
/// `SD_JOURNAL_SYSTEM`: fail2ban's default flags (`F2B_SYSTEMD_DEFAULT_FLAGS`).
pub const SYSTEM_ONLY: i32 = 4;

/// What to open, as python-systemd's `journal.Reader(flags, path, files, namespace)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalArgs {
    /// Open flags; `None` means python-systemd's default (`LOCAL_ONLY` for the system
    /// journal, 0 with a path or files).
    pub flags: Option<i32>,
    /// A directory of journal files (`journalpath`).
    pub path: Option<PathBuf>,
    /// Specific journal files (`journalfiles`).
    pub files: Option<Vec<PathBuf>>,
    /// A journal namespace (`namespace`).
    pub namespace: Option<String>,
}

/// What [`Journal::wait`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Nothing changed before the timeout (`SD_JOURNAL_NOP`).
    Nop,
    /// Entries were appended (`SD_JOURNAL_APPEND`).
    Append,
    /// Files were added, removed or rotated (`SD_JOURNAL_INVALIDATE`).
    Invalidate,
}

/// The raw fields of one entry (in the order the journal gives them; a field that occurs
/// several times keeps all its values) plus its header data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEntry {
    /// `(name, values)`, one element per distinct field name.
    pub fields: Vec<(String, Vec<Vec<u8>>)>,
    /// `__REALTIME_TIMESTAMP` (µs since the epoch).
    pub realtime: u64,
    /// `__MONOTONIC_TIMESTAMP` (µs since boot).
    pub monotonic: u64,
    /// `__CURSOR`.
    pub cursor: String,
}

impl RawEntry {
    /// The values of a field (None when absent).
    pub fn get(&self, name: &str) -> Option<&[Vec<u8>]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Adds one value of a field (building entries by hand, e.g. in tests).
    pub fn push(&mut self, name: &str, value: &[u8]) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => v.push(value.to_vec()),
            None => self.fields.push((name.to_string(), vec![value.to_vec()])),
        }
    }
}

/// An open journal. Not shareable between threads, but it may move to another one.
pub struct Journal {
    api: &'static Api,
    j: *mut SdJournal,
}

// SAFETY: sd-journal objects may be used from any thread as long as only one uses
// them at a time; `Journal` is not `Sync` and every method takes `&mut self`.
unsafe impl Send for Journal {}

fn os_err(r: i32, what: &str) -> Error {
    let io = std::io::Error::from_raw_os_error(-r);
    Error::with_errno(ErrorKind::Read, format!("{what}: {io}"), -r)
}

fn cpath(p: &Path) -> Result<CString, Error> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::new(ErrorKind::Args, format!("path contains NUL: {p:?}")))
}

impl Journal {
    /// Opens a journal. Errors: libsystemd missing, bad arguments, or the errno of the
    /// `sd_journal_open*` call (e.g. no such directory).
    pub fn open(args: &JournalArgs) -> Result<Journal, Error> {
        let api = ffi::api()?;
        if args.path.is_some() && args.files.is_some() {
            return Err(Error::new(
                ErrorKind::Args,
                "path and files cannot be specified simultaneously",
            ));
        }
        let flags = args
            .flags
            .unwrap_or(if args.path.is_none() && args.files.is_none() {
                LOCAL_ONLY
            } else {
                0
            });
        let mut j: *mut SdJournal = std::ptr::null_mut();
        let (r, what) = if let Some(p) = &args.path {
            let c = cpath(p)?;
            // SAFETY: valid out pointer and C string.
            let r = unsafe { (api.open_directory)(&mut j, c.as_ptr(), flags) };
            (r, format!("opening journal directory {}", p.display()))
        } else if let Some(files) = &args.files {
            if files.is_empty() {
                return Err(Error::new(ErrorKind::Open, "no journal files to open"));
            }
            let cs = files
                .iter()
                .map(|p| cpath(p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut ptrs: Vec<*const c_char> = cs.iter().map(|c| c.as_ptr()).collect();
            ptrs.push(std::ptr::null());
            // SAFETY: NULL-terminated array of C strings that outlive the call.
            let r = unsafe { (api.open_files)(&mut j, ptrs.as_ptr(), flags) };
            (r, "opening journal files".to_string())
        } else if let Some(ns) = &args.namespace {
            let open_ns = api.open_namespace.ok_or_else(|| {
                Error::new(
                    ErrorKind::Open,
                    "this libsystemd has no sd_journal_open_namespace",
                )
            })?;
            let c = CString::new(ns.as_bytes())
                .map_err(|_| Error::new(ErrorKind::Args, "namespace contains NUL"))?;
            // SAFETY: valid out pointer and C string.
            let r = unsafe { open_ns(&mut j, c.as_ptr(), flags) };
            (r, format!("opening journal namespace {ns}"))
        } else {
            // SAFETY: valid out pointer.
            let r = unsafe { (api.open)(&mut j, flags) };
            (r, "opening the system journal".to_string())
        };
        if r < 0 || j.is_null() {
            let mut e = os_err(r.min(-1), &what);
            e.kind = ErrorKind::Open;
            return Err(e);
        }
        Ok(Journal { api, j })
    }

    /// Adds one `FIELD=value` match (`sd_journal_add_match`).
    pub fn add_match(&mut self, m: &str) -> Result<(), Error> {
        if m.is_empty() {
            // libsystemd would take size 0 as "NUL-terminated" and read the pointer
            return Err(Error::with_errno(
                ErrorKind::Match,
                "invalid journal match \"\": Invalid argument".to_string(),
                libc::EINVAL,
            ));
        }
        // SAFETY: pointer and length of a live buffer.
        let r = unsafe { (self.api.add_match)(self.j, m.as_ptr().cast::<c_void>(), m.len()) };
        if r < 0 {
            let mut e = os_err(r, &format!("invalid journal match {m:?}"));
            e.kind = ErrorKind::Match;
            return Err(e);
        }
        Ok(())
    }

    /// Starts a new OR term (`sd_journal_add_disjunction`).
    pub fn add_disjunction(&mut self) -> Result<(), Error> {
        // SAFETY: live journal.
        let r = unsafe { (self.api.add_disjunction)(self.j) };
        if r < 0 {
            let mut e = os_err(r, "adding a journal disjunction");
            e.kind = ErrorKind::Match;
            return Err(e);
        }
        Ok(())
    }

    /// Removes all matches.
    pub fn flush_matches(&mut self) {
        // SAFETY: live journal.
        unsafe { (self.api.flush_matches)(self.j) }
    }

    fn step(&mut self, forward: bool) -> Result<bool, Error> {
        // SAFETY: live journal.
        let r = unsafe {
            if forward {
                (self.api.next)(self.j)
            } else {
                (self.api.previous)(self.j)
            }
        };
        if r < 0 {
            return Err(os_err(r, "reading the journal"));
        }
        Ok(r > 0)
    }

    /// Moves to the next entry; false at the end.
    pub fn step_next(&mut self) -> Result<bool, Error> {
        self.step(true)
    }

    /// Moves to the previous entry; false at the beginning.
    pub fn step_previous(&mut self) -> Result<bool, Error> {
        self.step(false)
    }

    /// Seeks past the last entry.
    pub fn seek_tail(&mut self) -> Result<(), Error> {
        // SAFETY: live journal.
        let r = unsafe { (self.api.seek_tail)(self.j) };
        if r < 0 {
            return Err(os_err(r, "seeking to the journal's end"));
        }
        Ok(())
    }

    /// Seeks to a time in seconds since the epoch (python-systemd's `seek_realtime`
    /// with a float: `int(t * 1000000)` µs).
    pub fn seek_realtime(&mut self, secs: f64) -> Result<(), Error> {
        let us = (secs * 1_000_000.0).trunc();
        let us = if us <= 0.0 { 0 } else { us as u64 };
        // SAFETY: live journal.
        let r = unsafe { (self.api.seek_realtime_usec)(self.j, us) };
        if r < 0 {
            return Err(os_err(r, "seeking in the journal"));
        }
        Ok(())
    }

    /// Waits up to `timeout` for a change (`sd_journal_wait`).
    pub fn wait(&mut self, timeout: Duration) -> Result<Wake, Error> {
        let us = u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX - 1);
        // SAFETY: live journal.
        let r = unsafe { (self.api.wait)(self.j, us) };
        match r {
            0 => Ok(Wake::Nop),
            1 => Ok(Wake::Append),
            2 => Ok(Wake::Invalidate),
            r if r < 0 => Err(os_err(r, "waiting for the journal")),
            _ => Ok(Wake::Nop),
        }
    }

    /// The cursor of the current entry.
    pub fn cursor(&mut self) -> Result<String, Error> {
        let mut p: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid out pointer; the string is malloc'ed by libsystemd.
        let r = unsafe { (self.api.get_cursor)(self.j, &mut p) };
        if r < 0 || p.is_null() {
            return Err(os_err(r.min(-1), "reading the journal cursor"));
        }
        // SAFETY: non-null NUL-terminated string we now own.
        let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        // SAFETY: allocated with malloc by sd_journal_get_cursor.
        unsafe { libc::free(p.cast::<c_void>()) };
        Ok(s)
    }

    /// All fields of the current entry with its timestamps and cursor (what
    /// python-systemd's `get_next` returns before conversion).
    pub fn entry(&mut self) -> Result<RawEntry, Error> {
        let mut e = RawEntry::default();
        // SAFETY: live journal.
        unsafe { (self.api.restart_data)(self.j) };
        loop {
            let mut data: *const c_void = std::ptr::null();
            let mut len: usize = 0;
            // SAFETY: valid out pointers; data stays valid until the next call.
            let r = unsafe { (self.api.enumerate_data)(self.j, &mut data, &mut len) };
            if r < 0 {
                return Err(os_err(r, "reading a journal entry"));
            }
            if r == 0 {
                break;
            }
            // SAFETY: libsystemd returned `len` readable bytes at `data`.
            let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
            if let Some(eq) = bytes.iter().position(|&b| b == b'=') {
                let name = String::from_utf8_lossy(&bytes[..eq]);
                e.push(&name, &bytes[eq + 1..]);
            }
        }
        // SAFETY: valid out pointer.
        let r = unsafe { (self.api.get_realtime_usec)(self.j, &mut e.realtime) };
        if r < 0 {
            return Err(os_err(r, "reading an entry's time"));
        }
        let mut boot = SdId128 { bytes: [0; 16] };
        // SAFETY: valid out pointers.
        let r = unsafe { (self.api.get_monotonic_usec)(self.j, &mut e.monotonic, &mut boot) };
        if r < 0 {
            return Err(os_err(r, "reading an entry's monotonic time"));
        }
        e.cursor = self.cursor()?;
        Ok(e)
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // SAFETY: opened by sd_journal_open*, closed once.
        unsafe { (self.api.close)(self.j) }
    }
}
