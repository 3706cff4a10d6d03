//! libsystemd's sd-journal API, loaded with `dlopen` on first use so that the binaries
//! start (and file backends work) on a machine without libsystemd; only opening a
//! journal then fails, with [`ErrorKind::LibraryMissing`](crate::ErrorKind).

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::OnceLock;

use crate::{Error, ErrorKind};

/// The opaque `sd_journal`.
#[repr(C)]
pub(crate) struct SdJournal {
    _private: [u8; 0],
}

/// `sd_id128_t`.
#[repr(C)]
pub(crate) struct SdId128 {
    pub bytes: [u8; 16],
}

type Jp = *mut SdJournal;
type FnOpen = unsafe extern "C" fn(*mut Jp, c_int) -> c_int;
type FnOpenStr = unsafe extern "C" fn(*mut Jp, *const c_char, c_int) -> c_int;
type FnOpenFiles = unsafe extern "C" fn(*mut Jp, *const *const c_char, c_int) -> c_int;
type FnVoid = unsafe extern "C" fn(Jp);
type FnInt = unsafe extern "C" fn(Jp) -> c_int;
type FnSeekUsec = unsafe extern "C" fn(Jp, u64) -> c_int;
type FnGetUsec = unsafe extern "C" fn(Jp, *mut u64) -> c_int;
type FnGetMono = unsafe extern "C" fn(Jp, *mut u64, *mut SdId128) -> c_int;
type FnCursor = unsafe extern "C" fn(Jp, *mut *mut c_char) -> c_int;
type FnMatch = unsafe extern "C" fn(Jp, *const c_void, usize) -> c_int;
type FnData = unsafe extern "C" fn(Jp, *mut *const c_void, *mut usize) -> c_int;
type FnWait = unsafe extern "C" fn(Jp, u64) -> c_int;

/// The resolved functions (names as in `sd-journal.h`).
pub(crate) struct Api {
    pub open: FnOpen,
    pub open_directory: FnOpenStr,
    pub open_files: FnOpenFiles,
    /// Missing before systemd 245.
    pub open_namespace: Option<FnOpenStr>,
    pub close: FnVoid,
    pub next: FnInt,
    pub previous: FnInt,
    pub seek_tail: FnInt,
    pub seek_realtime_usec: FnSeekUsec,
    pub get_realtime_usec: FnGetUsec,
    pub get_monotonic_usec: FnGetMono,
    pub get_cursor: FnCursor,
    pub add_match: FnMatch,
    pub add_disjunction: FnInt,
    pub flush_matches: FnVoid,
    pub restart_data: FnVoid,
    pub enumerate_data: FnData,
    pub wait: FnWait,
}

// SAFETY: the table only holds function pointers into a library that is never unloaded.
unsafe impl Send for Api {}
unsafe impl Sync for Api {}

/// The library file names tried, in order.
const LIBS: [&CStr; 2] = [c"libsystemd.so.0", c"libsystemd.so"];

/// The sd-journal functions, loaded once per process.
pub(crate) fn api() -> Result<&'static Api, Error> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load)
        .as_ref()
        .map_err(|m| Error::new(ErrorKind::LibraryMissing, m.clone()))
}

fn dl_error() -> String {
    // SAFETY: dlerror returns a thread-local C string or NULL.
    let p = unsafe { libc::dlerror() };
    if p.is_null() {
        "unknown dlopen error".to_string()
    } else {
        // SAFETY: non-null, NUL-terminated.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

fn load() -> Result<Api, String> {
    let mut handle = std::ptr::null_mut();
    let mut why = String::new();
    // F2B_LIBSYSTEMD names another library file (tests use it to simulate its absence)
    let custom = std::env::var_os("F2B_LIBSYSTEMD").and_then(|v| {
        std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str())).ok()
    });
    let names: Vec<&CStr> = match &custom {
        Some(c) => vec![c.as_c_str()],
        None => LIBS.to_vec(),
    };
    for name in names {
        // SAFETY: a plain dlopen of a NUL-terminated name; the handle is never closed.
        handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if !handle.is_null() {
            break;
        }
        why = dl_error();
    }
    if handle.is_null() {
        return Err(format!(
            "systemd library (libsystemd.so.0) not found: {why}"
        ));
    }
    let sym = |name: &CStr| -> Result<*mut c_void, String> {
        // SAFETY: valid handle and NUL-terminated symbol name.
        let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
        if p.is_null() {
            Err(format!(
                "libsystemd lacks {}: {}",
                name.to_string_lossy(),
                dl_error()
            ))
        } else {
            Ok(p)
        }
    };
    macro_rules! f {
        ($t:ty, $name:literal) => {
            // SAFETY: the symbol has the C signature declared in the Api field it fills
            // (sd-journal.h); transmuting a data pointer to that fn pointer type is how
            // dlsym results are used.
            unsafe { std::mem::transmute::<*mut c_void, $t>(sym($name)?) }
        };
    }
    Ok(Api {
        open: f!(FnOpen, c"sd_journal_open"),
        open_directory: f!(FnOpenStr, c"sd_journal_open_directory"),
        open_files: f!(FnOpenFiles, c"sd_journal_open_files"),
        open_namespace: match sym(c"sd_journal_open_namespace") {
            // SAFETY: as in f!.
            Ok(p) => Some(unsafe { std::mem::transmute::<*mut c_void, FnOpenStr>(p) }),
            Err(_) => None,
        },
        close: f!(FnVoid, c"sd_journal_close"),
        next: f!(FnInt, c"sd_journal_next"),
        previous: f!(FnInt, c"sd_journal_previous"),
        seek_tail: f!(FnInt, c"sd_journal_seek_tail"),
        seek_realtime_usec: f!(FnSeekUsec, c"sd_journal_seek_realtime_usec"),
        get_realtime_usec: f!(FnGetUsec, c"sd_journal_get_realtime_usec"),
        get_monotonic_usec: f!(FnGetMono, c"sd_journal_get_monotonic_usec"),
        get_cursor: f!(FnCursor, c"sd_journal_get_cursor"),
        add_match: f!(FnMatch, c"sd_journal_add_match"),
        add_disjunction: f!(FnInt, c"sd_journal_add_disjunction"),
        flush_matches: f!(FnVoid, c"sd_journal_flush_matches"),
        restart_data: f!(FnVoid, c"sd_journal_restart_data"),
        enumerate_data: f!(FnData, c"sd_journal_enumerate_data"),
        wait: f!(FnWait, c"sd_journal_wait"),
    })
}
