//! A snapshot's node ids in ascending order, about a byte each: V8 hands
//! out ids in steps of 2, so the gaps between sorted ids are small. Read in
//! order by [`SortedIds::iter`], or searched by [`SortedIds::position`].

use crate::snapshot::NodeId;

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
