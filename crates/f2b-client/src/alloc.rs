//! A small size-class allocator for the short-lived client process.
//!
//! Reading a full configuration makes ~230k small allocations; glibc's general
//! allocator spends about a third of the run in them. Blocks up to 1 KiB are carved
//! from 256 KiB chunks and recycled through per-size free lists (never returned to
//! the system, which is fine for a process that lives for milliseconds); everything
//! else goes to the system allocator. Each thread uses one of a few arenas (its own
//! spin lock, so threads rarely contend); a block freed by another thread simply joins
//! that thread's free list, which is sound because chunks are never returned.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const GRAIN: usize = 16;
const MAX_SMALL: usize = 1024;
const CLASSES: usize = MAX_SMALL / GRAIN;
const CHUNK: usize = 256 * 1024;

struct State {
    free: [*mut u8; CLASSES],
    cur: *mut u8,
    end: *mut u8,
}

const ARENAS: usize = 4;

struct Arena {
    lock: AtomicBool,
    state: UnsafeCell<State>,
}

/// The allocator; install with `#[global_allocator]`.
pub struct FastAlloc {
    arenas: [Arena; ARENAS],
    next: AtomicUsize,
}

// SAFETY: all access to an arena's `state` happens under that arena's `lock`.
unsafe impl Sync for FastAlloc {}

thread_local! {
    /// This thread's arena (`usize::MAX` = not chosen yet).
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

impl FastAlloc {
    /// A new allocator (const, for a `static`).
    pub const fn new() -> Self {
        #[allow(clippy::declare_interior_mutable_const)]
        const ARENA: Arena = Arena {
            lock: AtomicBool::new(false),
            state: UnsafeCell::new(State {
                free: [std::ptr::null_mut(); CLASSES],
                cur: std::ptr::null_mut(),
                end: std::ptr::null_mut(),
            }),
        };
        FastAlloc {
            arenas: [ARENA; ARENAS],
            next: AtomicUsize::new(0),
        }
    }

    fn small(layout: &Layout) -> bool {
        layout.size() <= MAX_SMALL && layout.align() <= GRAIN
    }

    fn arena(&self) -> &Arena {
        let slot = SLOT
            .try_with(|s| {
                if s.get() == usize::MAX {
                    s.set(self.next.fetch_add(1, Ordering::Relaxed) % ARENAS);
                }
                s.get()
            })
            .unwrap_or(0);
        &self.arenas[slot]
    }

    fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let a = self.arena();
        while a
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference.
        let r = f(unsafe { &mut *a.state.get() });
        a.lock.store(false, Ordering::Release);
        r
    }
}

impl Default for FastAlloc {
    fn default() -> Self {
        Self::new()
    }
}

fn class_of(size: usize) -> (usize, usize) {
    let rounded = size.max(1).div_ceil(GRAIN) * GRAIN;
    (rounded / GRAIN - 1, rounded)
}

// SAFETY: blocks handed out are GRAIN-aligned, at least `size` bytes, and never
// handed out twice while live; large or over-aligned requests go to `System`.
unsafe impl GlobalAlloc for FastAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::small(&layout) {
            // SAFETY: forwarded unchanged.
            return unsafe { System.alloc(layout) };
        }
        let (c, size) = class_of(layout.size());
        self.with_state(|st| {
            let head = st.free[c];
            if !head.is_null() {
                // SAFETY: a free block stores the next free block in its first word.
                st.free[c] = unsafe { *(head as *mut *mut u8) };
                return head;
            }
            if st.cur.is_null() || (st.end as usize) - (st.cur as usize) < size {
                // SAFETY: a valid non-zero layout.
                let chunk =
                    unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, GRAIN)) };
                if chunk.is_null() {
                    return chunk;
                }
                st.cur = chunk;
                // SAFETY: within the chunk just allocated.
                st.end = unsafe { chunk.add(CHUNK) };
            }
            let p = st.cur;
            // SAFETY: checked above that `size` bytes remain in the chunk.
            st.cur = unsafe { p.add(size) };
            p
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !Self::small(&layout) {
            // SAFETY: it came from `System` with this layout.
            return unsafe { System.dealloc(ptr, layout) };
        }
        let (c, _) = class_of(layout.size());
        self.with_state(|st| {
            // SAFETY: the block is at least GRAIN bytes and GRAIN-aligned.
            unsafe { *(ptr as *mut *mut u8) = st.free[c] };
            st.free[c] = ptr;
        })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for `new_size`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !Self::small(&layout) && !Self::small(&new_layout) {
            // SAFETY: both old and new blocks belong to `System`.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if Self::small(&layout)
            && Self::small(&new_layout)
            && class_of(layout.size()).0 == class_of(new_size).0
        {
            return ptr;
        }
        // SAFETY: fresh block of the new layout, copy the common prefix, free the old.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_distinct_and_recycled() {
        let a = FastAlloc::new();
        let mut live = Vec::new();
        for size in [1usize, 15, 16, 17, 100, 1024, 1025, 5000] {
            let l = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: valid layouts; every block is freed below with its layout.
            let p = unsafe { a.alloc(l) };
            assert!(!p.is_null() && p as usize % 8 == 0);
            // SAFETY: p points to `size` writable bytes.
            unsafe { std::ptr::write_bytes(p, 0xab, size) };
            live.push((p, l));
        }
        let ptrs: std::collections::HashSet<usize> =
            live.iter().map(|(p, _)| *p as usize).collect();
        assert_eq!(ptrs.len(), live.len());
        let (p0, l0) = live[4];
        // SAFETY: p0 was allocated with l0; grow keeps the first bytes.
        let p1 = unsafe { a.realloc(p0, l0, 600) };
        // SAFETY: p1 has at least 100 initialised bytes copied from p0.
        assert_eq!(unsafe { *p1.add(99) }, 0xab);
        live[4] = (p1, Layout::from_size_align(600, 8).unwrap());
        for (p, l) in live {
            // SAFETY: freeing what was allocated, once.
            unsafe { a.dealloc(p, l) };
        }
        // SAFETY: same class as a freed block: it is reused.
        let again = unsafe { a.alloc(Layout::from_size_align(600, 8).unwrap()) };
        assert_eq!(again, p1);
    }
}
