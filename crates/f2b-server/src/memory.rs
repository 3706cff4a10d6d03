//! Giving back memory that only the start-up needed.
//!
//! Reading the configuration runs a large part of the program once (the ini and
//! config readers, regex compilers, the stream conversion); the kernel maps that
//! code, plus its neighbours through fault-around, into the process and keeps it
//! counted in the resident set although an idle server never runs it again. After
//! the start the server drops those mappings of its read-only, never-written file
//! pages (`MADV_DONTNEED`): the pages stay in the page cache and come back with a
//! minor fault if the code runs again. Written pages (`.data`, RELRO, anything
//! with anonymous copies) are never touched, since dropping them would lose their
//! contents. Freed heap pages go back to the system with `malloc_trim`.

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One mapping of `/proc/self/smaps` that may be dropped.
#[derive(Debug, PartialEq)]
struct Droppable {
    start: usize,
    end: usize,
}

/// The mappings of a `smaps` text that are backed by a file, not writable and have
/// no anonymous (copied-on-write) pages.
fn droppable(smaps: impl BufRead) -> Vec<Droppable> {
    let mut out = Vec::new();
    let mut cur: Option<(Droppable, bool)> = None;
    let mut finish = |cur: &mut Option<(Droppable, bool)>| {
        if let Some((d, true)) = cur.take() {
            out.push(d);
        }
    };
    for line in smaps.lines().map_while(Result::ok) {
        let mut it = line.split_whitespace();
        let Some(first) = it.next() else { continue };
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            {
                finish(&mut cur);
                let perms = it.next().unwrap_or("");
                let _offset = it.next();
                let _dev = it.next();
                let inode = it.next().unwrap_or("0");
                let path = it.next().unwrap_or("");
                let ok = perms.starts_with('r')
                    && !perms.contains('w')
                    && perms.ends_with('p')
                    && inode != "0"
                    && path.starts_with('/');
                cur = Some((Droppable { start, end }, ok));
                continue;
            }
        }
        // a mapping with written (private copy) pages keeps them: leave it alone
        if first == "Anonymous:" {
            if let Some((_, ok)) = cur.as_mut() {
                if it.next().is_some_and(|v| v != "0") {
                    *ok = false;
                }
            }
        }
    }
    finish(&mut cur);
    out
}

/// When the next release is due (milliseconds since the epoch, 0 = none).
static DUE: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Asks for a release `delay` from now: after the start and after a reload, once the
/// threads they started have settled into their loops.
pub fn schedule_release(delay: Duration) {
    DUE.store(now_ms() + delay.as_millis() as u64, Ordering::Relaxed);
}

/// Releases if a scheduled release is due (called every second by the server's
/// housekeeping thread).
pub fn release_if_due() {
    let due = DUE.load(Ordering::Relaxed);
    if due != 0
        && now_ms() >= due
        && DUE
            .compare_exchange(due, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        release_startup_memory();
    }
}

/// Releases what only the start-up used (see the module documentation).
pub fn release_startup_memory() {
    // SAFETY: malloc_trim only returns free heap memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
    let Ok(f) = std::fs::File::open("/proc/self/smaps") else {
        return;
    };
    for d in droppable(BufReader::new(f)) {
        // SAFETY: the range is a whole private, read-only, file-backed mapping without
        // anonymous pages: dropping its pages only means they are read again from the
        // file (the same bytes) on the next access.
        unsafe {
            libc::madvise(
                d.start as *mut libc::c_void,
                d.end - d.start,
                libc::MADV_DONTNEED,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_read_only_file_mappings_are_dropped() {
        let smaps = "\
55de4a39f000-55de4a54c000 r--p 00000000 fe:00 6335418    /usr/sbin/x
Rss:                 960 kB
Anonymous:             0 kB
55de4a54c000-55de4aa33000 r-xp 001ac000 fe:00 6335418    /usr/sbin/x
Anonymous:             0 kB
55de4aa33000-55de4aa81000 r--p 00692000 fe:00 6335418    /usr/sbin/x
Anonymous:           312 kB
55de4aa81000-55de4aa87000 rw-p 006df000 fe:00 6335418    /usr/sbin/x
Anonymous:            24 kB
5611869b1000-561186fd8000 rw-p 00000000 00:00 0          [heap]
Anonymous:          6152 kB
7ffc84fb5000-7ffc84fb7000 r-xp 00000000 00:00 0          [vdso]
Anonymous:             0 kB
7f47e4118000-7f47e4122000 r--s 00000000 fe:00 42         /dev/shm/x
Anonymous:             0 kB
";
        assert_eq!(
            droppable(smaps.as_bytes()),
            vec![
                Droppable {
                    start: 0x55de4a39f000,
                    end: 0x55de4a54c000
                },
                Droppable {
                    start: 0x55de4a54c000,
                    end: 0x55de4aa33000
                },
            ]
        );
    }

    const fn table() -> [u8; 65536] {
        let mut t = [0u8; 65536];
        let mut i = 0;
        while i < t.len() {
            t[i] = (i * 31 % 251) as u8;
            i += 1;
        }
        t
    }
    static TABLE: [u8; 65536] = table();
    // pointers in statics live in RELRO pages, which relocation has written
    static NAMES: &[&str] = &["sshd", "recidive", "apache-auth"];
    static WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    #[test]
    fn dropping_keeps_data_code_and_relocations() {
        let sum = |t: &[u8]| t.iter().map(|&b| b as u64).sum::<u64>();
        let before = sum(std::hint::black_box(&TABLE[..]));
        WRITTEN.store(12345, std::sync::atomic::Ordering::SeqCst);
        release_startup_memory();
        assert_eq!(sum(std::hint::black_box(&TABLE[..])), before);
        assert_eq!(WRITTEN.load(std::sync::atomic::Ordering::SeqCst), 12345);
        assert_eq!(
            std::hint::black_box(NAMES).join(","),
            "sshd,recidive,apache-auth"
        );
    }
}
