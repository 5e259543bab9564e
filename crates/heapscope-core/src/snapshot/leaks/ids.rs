//! A snapshot's node ids in ascending order: put in that order
//! ([`in_id_order`]), and kept at about a byte each ([`SortedIds`]): V8
//! hands out ids in steps of 2, so the gaps between sorted ids are small.
//! Read in order by [`SortedIds::iter`], or searched by
//! [`SortedIds::position`].

use crate::snapshot::NodeId;

/// Each node's (id, ordinal), ascending by id (by ordinal among equal ids,
/// which V8 never writes but a damaged file may hold).
///
/// V8 takes ids from a counter, so one snapshot's live ids mostly lie
/// within a few times the node count of each other. Then a node's place is
/// its id's rank in a bitmap of the ids: one pass sets the bits, one puts
/// each node in place, instead of a comparison sort (on 5 million nodes
/// about 50 ms against 105). Ids spread wider than [`DENSE`] bits a node (a
/// long-lived process whose counter ran far ahead of its live objects), or
/// repeated, are sorted.
pub(crate) fn in_id_order(ids: &[u32]) -> Vec<(NodeId, u32)> {
    let n = ids.len();
    let (Some(&low), Some(&high)) = (ids.iter().min(), ids.iter().max()) else {
        return Vec::new();
    };
    let span = u64::from(high - low) + 1;
    if span > (n as u64).saturating_mul(DENSE) {
        return sorted(ids);
    }
    let mut bits = vec![0u64; span.div_ceil(64) as usize];
    for &id in ids {
        let at = (id - low) as usize;
        let (word, bit) = (&mut bits[at / 64], 1u64 << (at % 64));
        if *word & bit != 0 {
            return sorted(ids);
        }
        *word |= bit;
    }
    // How many ids lie below each word.
    let mut below = Vec::with_capacity(bits.len());
    let mut count = 0u32;
    for word in &bits {
        below.push(count);
        count += word.count_ones();
    }
    let mut out = vec![(NodeId(0), 0u32); n];
    for (ordinal, &id) in ids.iter().enumerate() {
        let at = (id - low) as usize;
        let lower = bits[at / 64] & ((1u64 << (at % 64)) - 1);
        out[(below[at / 64] + lower.count_ones()) as usize] = (NodeId(id), ordinal as u32);
    }
    out
}

/// Most bits a node [`in_id_order`]'s bitmap may take: 2 bytes a node, a
/// quarter of its output.
const DENSE: u64 = 16;

/// [`in_id_order`] by comparison, in place (a copy as 64-bit keys sorts a
/// fifth faster but takes twice the memory).
fn sorted(ids: &[u32]) -> Vec<(NodeId, u32)> {
    let mut pairs: Vec<(NodeId, u32)> = ids.iter().enumerate().map(|(n, &id)| (NodeId(id), n as u32)).collect();
    pairs.sort_unstable();
    pairs
}

/// Ascending ids as gaps of one byte (`ESCAPE` and four bytes for a wider
/// gap), with the id and byte offset of every [`STRIDE`]th one to search by.
#[derive(Default)]
pub(crate) struct SortedIds {
    gaps: Vec<u8>,
    /// (id, offset in `gaps` just past it) of ids 0, STRIDE, 2·STRIDE …
    checkpoints: Vec<(NodeId, u32)>,
    len: usize,
}

/// Ids between two checkpoints, at most.
const STRIDE: usize = 64;
/// A gap that does not fit a byte: four bytes, little-endian, follow.
const ESCAPE: u8 = u8::MAX;

impl SortedIds {
    /// `ids` must ascend.
    pub(crate) fn from_ascending(ids: impl ExactSizeIterator<Item = NodeId>) -> SortedIds {
        let mut out = SortedIds { gaps: Vec::with_capacity(ids.len() + 16), checkpoints: Vec::new(), len: 0 };
        let mut last = 0u32;
        for NodeId(id) in ids {
            debug_assert!(out.len == 0 || id > last, "ids must ascend");
            let gap = id.wrapping_sub(last);
            if gap < ESCAPE as u32 {
                out.gaps.push(gap as u8);
            } else {
                out.gaps.push(ESCAPE);
                out.gaps.extend_from_slice(&gap.to_le_bytes());
            }
            if out.len.is_multiple_of(STRIDE) {
                let end = u32::try_from(out.gaps.len()).expect("id list over 4 GiB");
                out.checkpoints.push((NodeId(id), end));
            }
            last = id;
            out.len += 1;
        }
        out.gaps.shrink_to_fit();
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The ids, ascending.
    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter { gaps: &self.gaps, at: 0, last: 0, left: self.len }
    }

    /// Where `id` is in the list, if it is.
    pub(crate) fn position(&self, id: NodeId) -> Option<usize> {
        // The last checkpoint at or below `id`, then at most STRIDE - 1 steps.
        let c = self.checkpoints.partition_point(|&(at, _)| at <= id).checked_sub(1)?;
        let (first, end) = self.checkpoints[c];
        if first == id {
            return Some(c * STRIDE);
        }
        let left = (self.len - c * STRIDE - 1).min(STRIDE - 1);
        let rest = Iter { gaps: &self.gaps, at: end as usize, last: first.0, left };
        rest.take_while(|&next| next <= id).position(|next| next == id).map(|k| c * STRIDE + 1 + k)
    }
}

/// [`SortedIds`] in order.
pub(crate) struct Iter<'a> {
    gaps: &'a [u8],
    at: usize,
    last: u32,
    left: usize,
}

impl Iterator for Iter<'_> {
    type Item = NodeId;

    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let b = self.gaps[self.at];
        self.at += 1;
        let gap = if b == ESCAPE {
            let wide = u32::from_le_bytes(self.gaps[self.at..self.at + 4].try_into().expect("four bytes"));
            self.at += 4;
            wide
        } else {
            b as u32
        };
        self.last = self.last.wrapping_add(gap);
        Some(NodeId(self.last))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[u32]) -> SortedIds {
        SortedIds::from_ascending(list.iter().map(|&i| NodeId(i)))
    }

    /// What [`in_id_order`] must give, by other means than its own
    /// fallback: a stable sort by id alone keeps equal ids in ordinal order.
    fn by_sorting(list: &[u32]) -> Vec<(NodeId, u32)> {
        let mut pairs: Vec<(NodeId, u32)> = list.iter().enumerate().map(|(n, &id)| (NodeId(id), n as u32)).collect();
        pairs.sort_by_key(|&(id, _)| id);
        pairs
    }

    #[test]
    fn puts_nodes_in_id_order_dense_sparse_or_repeated() {
        // A pseudo-random shuffle (xorshift), so the order is not the ids'.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut shuffled = |mut list: Vec<u32>| {
            for i in (1..list.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                list.swap(i, (state % (i as u64 + 1)) as usize);
            }
            list
        };
        // V8's steps of 2 from a high start, odd and even ids (heap and
        // native objects), across word boundaries.
        let dense = shuffled((0..5000).map(|i| 1_000_001 + 2 * i).chain((0..300).map(|i| 1_000_000 + 6 * i)).collect());
        // A few ids far beyond the rest: sorted, not a bitmap of 4 billion bits.
        let sparse = shuffled((0..500).map(|i| 3 + 2 * i).chain([u32::MAX, u32::MAX - 2, 1 << 31]).collect());
        // A damaged file's repeated ids: by ordinal among equals.
        let repeated = shuffled((0..700).map(|i| 11 + 2 * (i % 350)).collect());
        let ascending = (0..900).map(|i| 5 + 2 * i).collect();
        for list in [dense, sparse, repeated, ascending, vec![7], vec![0, u32::MAX], vec![]] {
            assert_eq!(in_id_order(&list), by_sorting(&list), "{} ids", list.len());
        }
    }

    #[test]
    fn reads_back_every_gap_narrow_and_wide() {
        // Steps of 2 as V8 makes them, gaps of 254, 255 (the escape byte's
        // value) and more, the largest id, and a first id of 0 and above 255.
        let mut list = vec![0, 1, 3, 257, 512, 767, 100_000];
        list.extend((0..500).map(|i| 100_001 + 2 * i));
        list.push(u32::MAX);
        let sorted = ids(&list);
        assert_eq!(sorted.len(), list.len());
        assert_eq!(sorted.iter().map(|NodeId(i)| i).collect::<Vec<_>>(), list);
        let wide_first = ids(&[300, 302]);
        assert_eq!(wide_first.iter().map(|NodeId(i)| i).collect::<Vec<_>>(), [300, 302]);
    }

    #[test]
    fn finds_each_id_and_no_other() {
        let list: Vec<u32> = (0..1000).map(|i| 7 + 2 * i + if i > 600 { 1000 } else { 0 }).collect();
        let sorted = ids(&list);
        for (at, &id) in list.iter().enumerate() {
            assert_eq!(sorted.position(NodeId(id)), Some(at), "id {id}");
            assert_eq!(sorted.position(NodeId(id + 1)), None, "id {}", id + 1);
        }
        assert_eq!(sorted.position(NodeId(0)), None);
        assert_eq!(sorted.position(NodeId(u32::MAX)), None);
        assert_eq!(ids(&[]).position(NodeId(5)), None);
    }
}
