//! Sets of nodes or edges, one bit each: asked once an edge in the hot
//! loops, a bit stays in cache where a byte does not.

/// One bit per index.
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub(super) fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    #[inline]
    pub(super) fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    #[inline]
    pub(super) fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    pub(super) fn or(&mut self, other: &Bits) {
        for (word, more) in self.0.iter_mut().zip(&other.0) {
            *word |= more;
        }
    }
}

/// One bit per index, set by several threads at once.
pub(super) struct SharedBits(Vec<std::sync::atomic::AtomicU64>);

impl SharedBits {
    pub(super) fn new(len: usize) -> SharedBits {
        SharedBits((0..len.div_ceil(64)).map(|_| std::sync::atomic::AtomicU64::new(0)).collect())
    }

    /// Sets bit `i`; true for the one caller that set it.
    #[inline]
    pub(super) fn claim(&self, i: usize) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let (word, bit) = (&self.0[i / 64], 1u64 << (i % 64));
        // A plain load first: most bits asked for are set already, and a
        // locked instruction costs more than a read.
        word.load(Relaxed) & bit == 0 && word.fetch_or(bit, Relaxed) & bit == 0
    }

    /// A copy, once no thread sets bits any more (the caller has seen
    /// their last writes, through a lock or a join).
    pub(super) fn to_bits(&self) -> Bits {
        Bits(self.0.iter().map(|w| w.load(std::sync::atomic::Ordering::Relaxed)).collect())
    }
}
