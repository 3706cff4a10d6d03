//! A small allocator for the short-lived client process.
//!
//! `fail2ban-client -d` on a large configuration makes about 87,000 allocations of
//! mostly small blocks and exits after a few ms. Blocks up to 1 KiB are carved from
//! 256 KiB chunks and recycled through per-size free lists; chunks are never given
//! back (the process is short-lived); larger or over-aligned blocks go to the system
//! allocator. The state is per thread (a `const` thread-local without destructor, so
//! an access is one `%fs`-relative address): no locks or atomics. A block freed by
//! another thread than the one that allocated it joins that thread's free list, which
//! is sound because chunks live as long as the process. The last block carved from a
//! chunk grows in place, which is how strings and vectors being built usually grow.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr::null_mut;

const GRAIN: usize = 16;
const MAX_SMALL: usize = 1024;
const CLASSES: usize = MAX_SMALL / GRAIN;
const CHUNK: usize = 256 * 1024;

struct State {
    /// Free lists per size class; a free block holds the next one in its first word.
    free: [*mut u8; CLASSES],
    /// The unused rest of the current chunk.
    cur: *mut u8,
    end: *mut u8,
}

thread_local! {
    static STATE: UnsafeCell<State> = const {
        UnsafeCell::new(State { free: [null_mut(); CLASSES], cur: null_mut(), end: null_mut() })
    };
}

/// The allocator; install with `#[global_allocator]`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClientAlloc;

#[inline]
fn small(size: usize, align: usize) -> bool {
    size <= MAX_SMALL && align <= GRAIN
}

/// Size class of a small block and its rounded size.
#[inline]
fn class_of(size: usize) -> (usize, usize) {
    let rounded = (size.max(1) + GRAIN - 1) & !(GRAIN - 1);
    (rounded / GRAIN - 1, rounded)
}

#[inline]
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    // SAFETY: the state is this thread's own and no reference to it outlives `f`,
    // which does not allocate (so it cannot re-enter).
    STATE.with(|s| f(unsafe { &mut *s.get() }))
}

/// A block of `size` (rounded) bytes: from the free list, else from the chunk.
#[inline]
fn alloc_small(st: &mut State, c: usize, size: usize) -> *mut u8 {
    let head = st.free[c];
    if !head.is_null() {
        // SAFETY: a free block stores the next free block in its first word.
        st.free[c] = unsafe { *(head as *mut *mut u8) };
        return head;
    }
    let p = st.cur;
    if (st.end as usize) - (p as usize) < size {
        return refill(st, size);
    }
    // SAFETY: checked above that `size` bytes remain in the chunk.
    st.cur = unsafe { p.add(size) };
    p
}

/// [`alloc_small`] with the chunk used up: a new chunk (out of line, so that the
/// common path needs no stack frame).
#[cold]
#[inline(never)]
fn refill(st: &mut State, size: usize) -> *mut u8 {
    // SAFETY: a valid non-zero layout.
    let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, GRAIN)) };
    if chunk.is_null() {
        return chunk;
    }
    // SAFETY: `size` <= MAX_SMALL < CHUNK: both within the chunk just allocated.
    unsafe {
        st.cur = chunk.add(size);
        st.end = chunk.add(CHUNK);
    }
    chunk
}

/// A large or over-aligned block, from `System` (out of line, as [`refill`]).
#[inline(never)]
fn alloc_large(layout: Layout) -> *mut u8 {
    // SAFETY: forwarded unchanged.
    unsafe { System.alloc(layout) }
}

/// Frees a block of [`alloc_large`] (out of line, as [`refill`]).
#[inline(never)]
fn dealloc_large(ptr: *mut u8, layout: Layout) {
    // SAFETY: the caller's block came from `System` with this layout.
    unsafe { System.dealloc(ptr, layout) }
}

/// Resizes the chunk's last block (`old` rounded bytes at `ptr`) to `new` rounded bytes
/// by moving the chunk's free pointer; false if it is not the last block or too big.
#[inline]
fn resize_at_tip(st: &mut State, ptr: *mut u8, old: usize, new: usize) -> bool {
    if ptr as usize + old != st.cur as usize || (st.end as usize) - (ptr as usize) < new {
        return false;
    }
    // SAFETY: `ptr` lies in the current chunk, which has `new` bytes from `ptr` on.
    st.cur = unsafe { ptr.add(new) };
    true
}

// SAFETY: small blocks are GRAIN-aligned, at least `size` bytes, inside chunks that
// are never freed, and handed out at most once until freed; the rest is `System`'s.
unsafe impl GlobalAlloc for ClientAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !small(layout.size(), layout.align()) {
            return alloc_large(layout);
        }
        let (c, size) = class_of(layout.size());
        with_state(|st| alloc_small(st, c, size))
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !small(layout.size(), layout.align()) {
            return dealloc_large(ptr, layout);
        }
        let (c, _) = class_of(layout.size());
        with_state(|st| {
            // SAFETY: the block is at least GRAIN bytes, GRAIN-aligned and no longer used.
            unsafe { *(ptr as *mut *mut u8) = st.free[c] };
            st.free[c] = ptr;
        })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        let (old_small, new_small) = (small(layout.size(), align), small(new_size, align));
        if !old_small && !new_small {
            // SAFETY: both the old and the new block belong to `System`.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if old_small && new_small {
            let (c, old) = class_of(layout.size());
            let (n, new) = class_of(new_size);
            if c == n {
                return ptr;
            }
            if with_state(|st| resize_at_tip(st, ptr, old, new)) {
                return ptr;
            }
        }
        // SAFETY: a fresh block of the new layout, the common prefix copied, the old freed.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, align);
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
    fn blocks_are_aligned_distinct_kept_and_recycled() {
        let a = ClientAlloc;
        let mut live = Vec::new();
        for (n, size) in [1usize, 15, 16, 17, 100, 1024, 1025, 5000]
            .into_iter()
            .enumerate()
        {
            let l = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: valid layouts; every block is freed below with its layout.
            let p = unsafe { a.alloc(l) };
            assert!(!p.is_null() && p as usize % 8 == 0);
            // SAFETY: p points to `size` writable bytes.
            unsafe { std::ptr::write_bytes(p, n as u8, size) };
            live.push((p, l, n as u8));
        }
        // no block overlaps another: each still holds its own fill byte everywhere
        for &(p, l, fill) in &live {
            // SAFETY: p points to l.size() initialised bytes.
            let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == fill));
        }
        // grow a block in the middle (copied), shrink another to a different class
        for i in [1, 5] {
            let (p0, l0, fill) = live[i];
            // SAFETY: p0 was allocated with l0; growing keeps the first bytes.
            let p1 = unsafe { a.realloc(p0, l0, 600) };
            // SAFETY: p1 has the first min(old, new) bytes of p0.
            let kept = unsafe { std::slice::from_raw_parts(p1, l0.size().min(600)) };
            assert!(kept.iter().all(|&b| b == fill));
            live[i] = (p1, Layout::from_size_align(600, 8).unwrap(), fill);
        }
        let mut last_600 = null_mut();
        for (p, l, _) in live {
            if l.size() == 600 {
                last_600 = p;
            }
            // SAFETY: freeing what was allocated, once.
            unsafe { a.dealloc(p, l) };
        }
        // the last freed block of a class is the next one handed out in that class
        let l = Layout::from_size_align(600, 8).unwrap();
        // SAFETY: a valid layout; freed right after.
        let again = unsafe { a.alloc(l) };
        assert_eq!(again, last_600);
        // SAFETY: allocated just above with `l`.
        unsafe { a.dealloc(again, l) };
    }

    #[test]
    fn the_chunks_last_block_resizes_in_place() {
        let mut st = State {
            free: [null_mut(); CLASSES],
            cur: null_mut(),
            end: null_mut(),
        };
        let p = alloc_small(&mut st, 2, 48);
        assert!(!p.is_null());
        assert!(resize_at_tip(&mut st, p, 48, 512));
        assert!(resize_at_tip(&mut st, p, 512, 32));
        let q = alloc_small(&mut st, 0, 16);
        assert_eq!(q as usize, p as usize + 32);
        // no longer the last block; and no room for more than the chunk
        assert!(!resize_at_tip(&mut st, p, 32, 64));
        assert!(!resize_at_tip(&mut st, q, 16, CHUNK));
        assert!(resize_at_tip(&mut st, q, 16, CHUNK - 32));
        // the chunk is full: the next block comes from a new one
        let r = alloc_small(&mut st, 0, 16);
        assert!(!r.is_null() && (r < p || r as usize >= p as usize + CHUNK));
    }

    #[test]
    fn strings_grow_and_shrink_intact() {
        // the realloc paths on real data: small to small, at the tip and not, to large
        let mut parts: Vec<String> = Vec::new();
        for i in 0..200 {
            let mut s = String::new();
            for j in 0..(i * 7 % 1500) {
                s.push(char::from(b'a' + (j % 26) as u8));
            }
            parts.push(s);
            if i % 3 == 0 {
                parts[i / 2].shrink_to_fit();
            }
        }
        for (i, s) in parts.iter().enumerate() {
            let want: String = (0..(i * 7 % 1500))
                .map(|j| char::from(b'a' + (j % 26) as u8))
                .collect();
            assert_eq!(*s, want);
        }
    }
}
