//! The global allocator of heapscope's binaries: big blocks straight from
//! the kernel, everything else from the system allocator.
//!
//! An analysis allocates a few dozen node- and edge-sized arrays of tens of
//! megabytes, one after another, and frees most of them before the next
//! phase. glibc's malloc maps blocks that large at first, but raises its
//! mapping threshold to the size of each one freed (up to 32 MiB); the
//! arrays after that come from heap arenas, which keep freed memory
//! resident, so peak RSS grows by arrays already dead (25 MB on the
//! benchmark snapshot). Here blocks of 1 MiB and more are mapped and
//! unmapped directly (and grown with `mremap`), so freeing one gives its
//! memory back at once. It serves only this library's Rust allocations:
//! the host process's malloc and its settings are left alone.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

/// Blocks at least this big are mapped directly.
const BIG: usize = 1 << 20;
/// Mappings are page-aligned; larger alignments go to the system allocator.
const PAGE: usize = 4096;

pub struct PageAllocator;

fn is_big(layout: &Layout) -> bool {
    layout.size() >= BIG && layout.align() <= PAGE
}

fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping at an address the kernel picks
    // touches no existing memory; failure is reported as MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        p.cast()
    }
}

// SAFETY: every block is either mapped here (size ≥ BIG, alignment ≤ page)
// or comes from `System`, and `is_big` on the layout the caller hands back
// tells which, so each block returns to where it came from.
unsafe impl GlobalAlloc for PageAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_big(&layout) {
            map(layout.size())
        } else {
            // SAFETY: the caller's contract (non-zero size) passes through.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_big(&layout) {
            // Fresh anonymous pages read as zero: nothing to clear.
            map(layout.size())
        } else {
            // SAFETY: as in `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_big(&layout) {
            // SAFETY: `ptr` is a mapping of `layout.size()` bytes made by `map`.
            unsafe { libc::munmap(ptr.cast(), layout.size()) };
        } else {
            // SAFETY: `ptr` came from `System` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (is_big(&layout), is_big(&new_layout)) {
            (true, true) => {
                // SAFETY: `ptr` is a mapping of `layout.size()` bytes; the kernel
                // moves or grows it in place and keeps its contents.
                let p = unsafe { libc::mremap(ptr.cast(), layout.size(), new_size, libc::MREMAP_MAYMOVE) };
                if p == libc::MAP_FAILED {
                    ptr::null_mut()
                } else {
                    p.cast()
                }
            }
            // SAFETY: `ptr` came from `System` with `layout`.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: a new block from the right source, the smaller of the two
                // sizes copied between blocks that cannot overlap, the old one freed
                // where it came from.
                unsafe {
                    let p = self.alloc(new_layout);
                    if !p.is_null() {
                        ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    p
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_and_small_blocks_grow_shrink_and_keep_their_bytes() {
        let a = PageAllocator;
        for (from, to) in [(100, 200), (100, 3 << 20), (3 << 20, 5 << 20), (5 << 20, 100), (2 << 20, 1 << 20)] {
            let layout = Layout::from_size_align(from, 8).unwrap();
            // SAFETY: non-zero sizes; every block is freed with the layout it has.
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert!((0..from).all(|i| *p.add(i) == 0));
                for i in 0..from {
                    *p.add(i) = (i % 251) as u8;
                }
                let q = a.realloc(p, layout, to);
                assert!(!q.is_null());
                assert!((0..from.min(to)).all(|i| *q.add(i) == (i % 251) as u8));
                a.dealloc(q, Layout::from_size_align(to, 8).unwrap());
            }
        }
    }
}
