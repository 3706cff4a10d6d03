//! A per-thread cache of small heap blocks in front of glibc's malloc, for the
//! server's busy threads (the watcher and the actions thread of each jail).
//!
//! Why: every log line makes a few dozen short-lived allocations. glibc keeps only 7
//! freed blocks per size in its own thread cache; the rest go through its bins (a
//! lock, `_int_free`, consolidation), which cost about a fifth of the server's
//! instructions on a busy log. mimalloc is cheaper per call but keeps its pages per
//! thread and size, and an idle server then takes 5.5 MB instead of 4 MB.
//!
//! So the blocks stay glibc's: a small block (at most 1032 bytes, alignment at most
//! 16) is always `malloc`ed with the usable size of its class (24, 40, 56, … bytes,
//! which is exactly what glibc would hand out for the request anyway). A thread that
//! turned its cache on ([`ThreadCache::enable`]) keeps the blocks it frees on a list
//! per class, up to [`CACHE_BYTES`], and reuses them. Any block can still be given
//! to `free` or `realloc` by any thread, so nothing depends on where a block came
//! from. Threads without a cache (main, connections, tail) use glibc as before, and
//! a thread empties its cache when it goes idle ([`flush_this_thread`]) or ends.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// Number of size classes: usable sizes 24 + 16 k for k in 0..CLASSES.
const CLASSES: usize = 64;
/// Largest block size served from the cache.
const MAX_SMALL: usize = 24 + 16 * (CLASSES - 1);
/// At most this many bytes are kept per thread.
pub const CACHE_BYTES: usize = 512 << 10;
/// glibc's `malloc` alignment on 64-bit targets.
const MALLOC_ALIGN: usize = 16;

struct Cache {
    on: bool,
    bytes: usize,
    heads: [*mut u8; CLASSES],
}

thread_local! {
    static CACHE: UnsafeCell<Cache> = const {
        UnsafeCell::new(Cache { on: false, bytes: 0, heads: [ptr::null_mut(); CLASSES] })
    };
}

/// The class of a small request.
#[inline]
fn class(size: usize) -> usize {
    size.saturating_sub(24).div_ceil(16)
}

/// The block size (glibc usable size) of a class.
#[inline]
fn block_size(k: usize) -> usize {
    24 + 16 * k
}

#[inline]
fn is_small(layout: &Layout) -> bool {
    layout.align() <= MALLOC_ALIGN && layout.size() <= MAX_SMALL
}

/// A block of class `k` from this thread's cache (null when none or off).
#[inline]
fn pop(k: usize) -> *mut u8 {
    CACHE
        .try_with(|c| {
            // SAFETY: the cache belongs to this thread and no reference to it
            // outlives this call (nothing here allocates or re-enters).
            let c = unsafe { &mut *c.get() };
            let p = c.heads[k];
            if !p.is_null() {
                // SAFETY: a cached block holds the next pointer in its first word.
                c.heads[k] = unsafe { *(p as *mut *mut u8) };
                c.bytes -= block_size(k);
            }
            p
        })
        .unwrap_or(ptr::null_mut())
}

/// Keeps a freed block of class `k`; false when the cache is off or full.
#[inline]
fn push(p: *mut u8, k: usize) -> bool {
    CACHE
        .try_with(|c| {
            // SAFETY: as in `pop`.
            let c = unsafe { &mut *c.get() };
            let bs = block_size(k);
            if !c.on || c.bytes + bs > CACHE_BYTES {
                return false;
            }
            // SAFETY: the block is at least 24 bytes and 16-aligned, and it is no
            // longer used by its owner.
            unsafe { *(p as *mut *mut u8) = c.heads[k] };
            c.heads[k] = p;
            c.bytes += bs;
            true
        })
        .unwrap_or(false)
}

/// Gives every block of this thread's cache back to malloc.
pub fn flush_this_thread() {
    let _ = CACHE.try_with(|c| {
        // SAFETY: as in `pop`; `free` does not re-enter the Rust allocator.
        let c = unsafe { &mut *c.get() };
        if c.bytes == 0 {
            return;
        }
        for head in c.heads.iter_mut() {
            let mut p = std::mem::replace(head, ptr::null_mut());
            while !p.is_null() {
                // SAFETY: see `pop`; every cached block came from malloc.
                unsafe {
                    let next = *(p as *mut *mut u8);
                    libc::free(p as *mut libc::c_void);
                    p = next;
                }
            }
        }
        c.bytes = 0;
    });
}

fn set_on(on: bool) {
    let _ = CACHE.try_with(|c| {
        // SAFETY: as in `pop`.
        unsafe { (*c.get()).on = on };
    });
}

/// Bytes held by this thread's cache.
pub fn cached_bytes() -> usize {
    // SAFETY: as in `pop`.
    CACHE.try_with(|c| unsafe { (*c.get()).bytes }).unwrap_or(0)
}

/// The global allocator of `fail2ban-server` (see the module documentation). Without
/// [`ThreadCache::enable`] on a thread it behaves like the system allocator.
pub struct ThreadCache;

/// Turns the calling thread's cache off and empties it when dropped.
pub struct CacheGuard(());

impl ThreadCache {
    /// Turns the calling thread's cache on until the guard is dropped (a thread must
    /// drop it before it ends, or the cached blocks are lost).
    pub fn enable() -> CacheGuard {
        set_on(true);
        CacheGuard(())
    }
}

impl Drop for CacheGuard {
    fn drop(&mut self) {
        set_on(false);
        flush_this_thread();
    }
}

// SAFETY: every block handed out is a glibc malloc block of at least the requested
// size and alignment (or comes from `System` for big or over-aligned requests, and
// goes back there by the same test on the layout).
unsafe impl GlobalAlloc for ThreadCache {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !is_small(&layout) {
            // SAFETY: the caller's layout, passed on.
            return unsafe { System.alloc(layout) };
        }
        let k = class(layout.size());
        let p = pop(k);
        if !p.is_null() {
            return p;
        }
        // SAFETY: plain malloc; glibc aligns to 16.
        unsafe { libc::malloc(block_size(k)) as *mut u8 }
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if !is_small(&layout) {
            // SAFETY: a big or over-aligned block came from `System` with this layout.
            return unsafe { System.dealloc(p, layout) };
        }
        if !push(p, class(layout.size())) {
            // SAFETY: a small block is a malloc block.
            unsafe { libc::free(p as *mut libc::c_void) };
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !is_small(&layout) {
            // SAFETY: the caller's layout, passed on.
            return unsafe { System.alloc_zeroed(layout) };
        }
        let k = class(layout.size());
        let p = pop(k);
        if !p.is_null() {
            // SAFETY: a cached block has at least its class's size.
            unsafe { ptr::write_bytes(p, 0, layout.size()) };
            return p;
        }
        // SAFETY: plain calloc.
        unsafe { libc::calloc(1, block_size(k)) as *mut u8 }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() > MALLOC_ALIGN {
            // SAFETY: an over-aligned block came from `System`.
            return unsafe { System.realloc(p, layout, new_size) };
        }
        if layout.size() > MAX_SMALL {
            // a big block shrinking to a small one keeps at least its class's size
            let want = if new_size <= MAX_SMALL {
                block_size(class(new_size))
            } else {
                new_size
            };
            // SAFETY: every block with alignment <= 16 is a malloc block.
            return unsafe { libc::realloc(p as *mut libc::c_void, want) as *mut u8 };
        }
        if new_size <= MAX_SMALL && class(new_size) == class(layout.size()) {
            return p;
        }
        // a small block moves through the cache, so that growing vectors and strings
        // give their old blocks back to it (a glibc realloc would keep them)
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        // SAFETY: the new block is fresh and at least min(old, new) bytes long; the
        // old one is given back once, with its own layout.
        unsafe {
            let q = self.alloc(new_layout);
            if !q.is_null() {
                ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                self.dealloc(p, layout);
            }
            q
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_glibc_usable_sizes() {
        for (size, k, bs) in [
            (0, 0, 24),
            (1, 0, 24),
            (24, 0, 24),
            (25, 1, 40),
            (40, 1, 40),
            (41, 2, 56),
            (1032, 63, 1032),
        ] {
            assert_eq!(class(size), k, "size {size}");
            assert_eq!(block_size(k), bs);
            // SAFETY: a plain malloc/free pair.
            unsafe {
                let p = libc::malloc(bs);
                assert!(libc::malloc_usable_size(p) >= bs.max(size));
                libc::free(p);
            }
        }
        assert_eq!(class(MAX_SMALL + 1), CLASSES);
    }

    /// Allocation patterns through the allocator on a thread with the cache on:
    /// contents survive, realloc keeps the prefix, blocks are reused.
    fn exercise(rounds: usize) {
        let a = ThreadCache;
        let sizes = [
            1usize, 8, 23, 24, 25, 100, 512, 1000, 1032, 1033, 5000, 70000,
        ];
        let mut live: Vec<(*mut u8, Layout)> = Vec::new();
        for r in 0..rounds {
            for (i, &s) in sizes.iter().enumerate() {
                let l = Layout::from_size_align(s, if i % 3 == 0 { 8 } else { 16 }).unwrap();
                // SAFETY: test of the allocator contract.
                unsafe {
                    let p = if i % 2 == 0 {
                        a.alloc(l)
                    } else {
                        a.alloc_zeroed(l)
                    };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % l.align(), 0);
                    if i % 2 == 1 {
                        assert!((0..s).all(|j| *p.add(j) == 0), "zeroed {s}");
                    }
                    ptr::write_bytes(p, (r + i) as u8, s);
                    live.push((p, l));
                }
            }
            // grow/shrink across classes and between small and large
            for (j, (p, l)) in live.iter_mut().enumerate() {
                let new = [3usize, 40, 1032, 2000, 24][j % 5];
                // SAFETY: as above; the first min(old, new) bytes must survive.
                unsafe {
                    let fill = *(*p);
                    let q = a.realloc(*p, *l, new);
                    assert!(!q.is_null());
                    let keep = l.size().min(new);
                    assert!((0..keep).all(|x| *q.add(x) == fill));
                    ptr::write_bytes(q, fill, new);
                    *p = q;
                    *l = Layout::from_size_align(new, l.align()).unwrap();
                }
            }
            if r % 2 == 1 {
                for (p, l) in live.drain(..) {
                    // SAFETY: every block is live and freed once.
                    unsafe { a.dealloc(p, l) };
                }
            }
        }
        for (p, l) in live.drain(..) {
            // SAFETY: as above.
            unsafe { a.dealloc(p, l) };
        }
    }

    #[test]
    fn blocks_round_trip_with_and_without_the_cache() {
        exercise(6);
        assert_eq!(cached_bytes(), 0, "no cache unless enabled");
        let g = ThreadCache::enable();
        exercise(6);
        assert!(cached_bytes() > 0);
        assert!(cached_bytes() <= CACHE_BYTES);
        // a cached block is handed out again
        let a = ThreadCache;
        let l = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: alloc/dealloc pairs of the same layout.
        unsafe {
            let p = a.alloc(l);
            a.dealloc(p, l);
            assert_eq!(a.alloc(l), p);
            a.dealloc(p, l);
        }
        drop(g);
        assert_eq!(cached_bytes(), 0, "the guard empties the cache");
    }

    #[test]
    fn blocks_freed_on_another_thread_and_the_cap_holds() {
        let a = ThreadCache;
        let l = Layout::from_size_align(200, 8).unwrap();
        let n = 2 * CACHE_BYTES / block_size(class(200));
        // SAFETY: blocks are written, then freed once on the other thread.
        let blocks: Vec<usize> = (0..n)
            .map(|i| unsafe {
                let p = a.alloc(l);
                ptr::write_bytes(p, i as u8, 200);
                p as usize
            })
            .collect();
        std::thread::spawn(move || {
            let _g = ThreadCache::enable();
            for p in blocks {
                // SAFETY: each block came from `alloc` with this layout.
                unsafe { ThreadCache.dealloc(p as *mut u8, l) };
            }
            assert!(cached_bytes() <= CACHE_BYTES);
            assert!(cached_bytes() + block_size(class(200)) > CACHE_BYTES);
            flush_this_thread();
            assert_eq!(cached_bytes(), 0);
        })
        .join()
        .unwrap();
    }
}
