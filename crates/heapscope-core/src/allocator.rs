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
//! unmapped directly (and grown with `mremap`). It serves only this
//! library's Rust allocations: the host process's malloc and its settings
//! are left alone.
//!
//! Fresh pages are not free, though: the first touch of each 4 KiB page is
//! a fault that the kernel answers with a zeroed page, about 0.4 ms a
//! megabyte here, and an analysis touches the best part of a gigabyte. So
//! while a [`KeepFreedPages`] guard lives (a graph holds one), freed blocks
//! are kept, up to [`KEEP_BYTES`], and the next big blocks are cut from
//! them; when the last guard goes, what is kept is unmapped.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Blocks at least this big are mapped directly.
const BIG: usize = 1 << 20;
/// Mappings are page-aligned; larger alignments go to the system allocator.
const PAGE: usize = 4096;

/// At most this many freed bytes are kept for reuse.
pub const KEEP_BYTES: usize = 256 << 20;
/// Freed blocks kept at most (a fixed table: the allocator cannot allocate).
const KEEP_BLOCKS: usize = 64;

pub struct PageAllocator;

/// Freed mappings kept for reuse: (address, bytes), page-aligned.
struct Kept {
    blocks: [(usize, usize); KEEP_BLOCKS],
    len: usize,
    bytes: usize,
}

static KEPT: Mutex<Kept> = Mutex::new(Kept { blocks: [(0, 0); KEEP_BLOCKS], len: 0, bytes: 0 });
/// Live [`KeepFreedPages`] guards; read and lowered to zero under `KEPT`'s
/// lock, so that no block is kept after the last guard has emptied it.
static KEEPERS: AtomicUsize = AtomicUsize::new(0);

fn kept() -> MutexGuard<'static, Kept> {
    // Nothing panics while holding the lock; a poisoned one is still consistent.
    KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// While one lives, big blocks freed are kept for the next big allocations.
pub struct KeepFreedPages(());

impl KeepFreedPages {
    pub fn new() -> KeepFreedPages {
        KEEPERS.fetch_add(1, Ordering::Relaxed);
        KeepFreedPages(())
    }
}

impl Default for KeepFreedPages {
    fn default() -> Self {
        KeepFreedPages::new()
    }
}

impl Drop for KeepFreedPages {
    fn drop(&mut self) {
        let mut kept = kept();
        if KEEPERS.fetch_sub(1, Ordering::Relaxed) == 1 {
            for &(addr, len) in &kept.blocks[..kept.len] {
                unmap(addr as *mut u8, len);
            }
            kept.len = 0;
            kept.bytes = 0;
            drop(kept);
            // The small allocations of the reading and analysis threads sit
            // freed in their malloc arenas: hand those pages back too, or a
            // process that analysed one snapshot keeps hundreds of MB.
            return_free_memory();
        }
    }
}

/// Gives the pages malloc holds free (in every arena) back to the kernel, so
/// that RSS falls after a snapshot or an analysis instead of staying at its
/// peak. glibc only; elsewhere a no-op.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe and only returns free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

impl Kept {
    /// Cuts `len` bytes from the smallest kept block that holds them.
    fn take(&mut self, len: usize) -> Option<*mut u8> {
        let (i, &(addr, size)) =
            self.blocks[..self.len].iter().enumerate().filter(|(_, b)| b.1 >= len).min_by_key(|(_, b)| b.1)?;
        let rest = size - len;
        if rest >= BIG {
            self.blocks[i] = (addr + len, rest);
            self.bytes -= len;
        } else {
            if rest > 0 {
                unmap((addr + len) as *mut u8, rest);
            }
            self.len -= 1;
            self.blocks[i] = self.blocks[self.len];
            self.bytes -= size;
        }
        Some(addr as *mut u8)
    }

    /// Unmaps every kept block but the largest, which leaves the table.
    fn drain_but_largest(&mut self) -> Option<(usize, usize)> {
        let blocks = &self.blocks[..self.len];
        let largest = blocks.iter().copied().max_by_key(|b| b.1)?;
        for &(addr, len) in blocks {
            if addr != largest.0 {
                unmap(addr as *mut u8, len);
            }
        }
        self.len = 0;
        self.bytes = 0;
        Some(largest)
    }

    /// Keeps a freed block, or says no (the caller unmaps it).
    fn keep(&mut self, addr: usize, len: usize) -> bool {
        if KEEPERS.load(Ordering::Relaxed) == 0 || self.len == KEEP_BLOCKS || self.bytes + len > KEEP_BYTES {
            return false;
        }
        self.blocks[self.len] = (addr, len);
        self.len += 1;
        self.bytes += len;
        true
    }
}

/// Mappings are whole pages.
fn pages(size: usize) -> usize {
    size.div_ceil(PAGE) * PAGE
}

fn unmap(p: *mut u8, len: usize) {
    // SAFETY: callers pass whole pages of mappings made by `map` that no
    // block in use overlaps.
    unsafe { libc::munmap(p.cast(), len) };
}

/// A big block: cut from the kept ones, or freshly mapped. `zeroed`: kept
/// pages are cleared (fresh ones read as zero).
///
/// When no kept block is big enough, the largest one is grown to the size
/// and the others are unmapped: the pages in use then are what they would
/// be had every block been unmapped when freed, so keeping them never
/// raises the peak.
fn big(size: usize, zeroed: bool) -> *mut u8 {
    let len = pages(size);
    let mut kept = kept();
    let taken = kept.take(len);
    let largest = if taken.is_none() { kept.drain_but_largest() } else { None };
    drop(kept);
    let (p, reused) = match taken {
        Some(p) => (p, size),
        None => match largest {
            Some((addr, old)) => {
                // SAFETY: `addr` is `old` bytes of a kept mapping, now out of the
                // table; the kernel resizes (or moves) it and keeps those pages.
                let p = unsafe { libc::mremap(addr as *mut libc::c_void, old, len, libc::MREMAP_MAYMOVE) };
                if p == libc::MAP_FAILED {
                    unmap(addr as *mut u8, old);
                    return map(len);
                }
                (p.cast(), old.min(size))
            }
            None => return map(len),
        },
    };
    if zeroed {
        // SAFETY: `p` is at least `size` bytes of a mapping no one else uses;
        // the first `reused` of them held some earlier block.
        unsafe { ptr::write_bytes(p, 0, reused) };
    }
    p
}

fn free_big(p: *mut u8, size: usize) {
    let len = pages(size);
    if !kept().keep(p as usize, len) {
        unmap(p, len);
    }
}

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
            big(layout.size(), false)
        } else {
            // SAFETY: the caller's contract (non-zero size) passes through.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_big(&layout) {
            big(layout.size(), true)
        } else {
            // SAFETY: as in `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_big(&layout) {
            free_big(ptr, layout.size());
        } else {
            // SAFETY: `ptr` came from `System` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (is_big(&layout), is_big(&new_layout)) {
            // Growing in place would add fresh pages while kept ones wait:
            // take the new block where `big` takes it.
            (true, true) if new_size > layout.size() && kept().len > 0 => {
                // SAFETY: as below.
                unsafe { self.moved(ptr, layout, new_layout) }
            }
            (true, true) => {
                // SAFETY: `ptr` is whole pages of a mapping (`pages` of its size);
                // the kernel moves or resizes them in place and keeps their contents.
                let p =
                    unsafe { libc::mremap(ptr.cast(), pages(layout.size()), pages(new_size), libc::MREMAP_MAYMOVE) };
                if p != libc::MAP_FAILED {
                    return p.cast();
                }
                // SAFETY: as below.
                unsafe { self.moved(ptr, layout, new_layout) }
            }
            // SAFETY: `ptr` came from `System` with `layout`.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            // SAFETY: `ptr` is a block of `layout` from this allocator.
            _ => unsafe { self.moved(ptr, layout, new_layout) },
        }
    }
}

impl PageAllocator {
    /// A new block from the right source, the smaller of the two sizes
    /// copied between blocks that cannot overlap, the old one freed where
    /// it came from.
    ///
    /// # Safety
    /// `ptr` is a live block of `layout` from this allocator.
    unsafe fn moved(&self, ptr: *mut u8, layout: Layout, new_layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract; `new_layout` has a non-zero size.
        unsafe {
            let p = self.alloc(new_layout);
            if !p.is_null() {
                ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_layout.size()));
                self.dealloc(ptr, layout);
            }
            p
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept blocks are global: these tests take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn big_and_small_blocks_grow_shrink_and_keep_their_bytes() {
        let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
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

    #[test]
    fn freed_blocks_are_reused_while_kept_and_cleared_when_asked_zeroed() {
        let _turn = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let a = PageAllocator;
        let keep = KeepFreedPages::new();
        let big = Layout::from_size_align(3 << 20, 8).unwrap();
        let small = Layout::from_size_align(2 << 20, 8).unwrap();
        let larger = Layout::from_size_align(8 << 20, 8).unwrap();
        // SAFETY: non-zero sizes; every block is freed with the layout it has.
        unsafe {
            let p = a.alloc(big);
            p.write_bytes(7, big.size());
            a.dealloc(p, big);
            let q = a.alloc_zeroed(small);
            assert_eq!(q, p, "a kept block is cut for the next one");
            assert_eq!(kept().len, 1, "the rest of the cut block stays kept");
            assert!((0..small.size()).all(|i| *q.add(i) == 0));
            a.dealloc(q, small);
            // Nothing kept holds 8 MiB: the largest grows, the rest goes.
            let r = a.alloc_zeroed(larger);
            assert!((0..larger.size()).step_by(4096).all(|i| *r.add(i) == 0));
            assert_eq!(kept().len, 0);
            a.dealloc(r, larger);
        }
        drop(keep);
        if KEEPERS.load(Ordering::Relaxed) == 0 {
            assert_eq!(kept().len, 0, "the last guard unmaps what is kept");
        }
    }
}
