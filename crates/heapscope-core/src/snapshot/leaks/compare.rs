//! Two snapshots side by side: DevTools' Comparison view, and whether their
//! ids can be of one process. The earlier one is a [`Digest`]; the later one
//! a digest too, or an analysed snapshot read in id order ([`ById`]), which
//! costs no digest of its own.

use std::collections::HashMap;

use super::ids::in_id_order;
use super::Digest;
use crate::snapshot::analysis::{Census, Interface};
use crate::snapshot::{Graph, NodeId};

/// How far two snapshots' node ids agree. Within one process an id names
/// one object for its whole life, so an object in both snapshots keeps its
/// class; two processes hand out the same ids to unrelated objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdAgreement {
    /// Ids in both snapshots, of objects with a size of their own.
    pub shared: u64,
    /// Of those, the ones whose class differs.
    pub reclassed: u64,
}

impl IdAgreement {
    /// Least number of reclassed objects that counts as evidence, and the
    /// share of the shared ones above which the snapshots are of two
    /// processes. Measured: one process reclasses a few code objects in
    /// 69,000 shared (0.004%); two runs of one program, 86%.
    const LEAST: u64 = 100;
    const SHARE: f64 = 0.10;

    pub fn of(before: &Digest, after: &impl Later) -> IdAgreement {
        Comparison::new(before, after).agreement()
    }

    /// Whether the ids can be those of one process.
    pub fn one_process(&self) -> bool {
        self.reclassed < Self::LEAST || (self.reclassed as f64) <= self.shared as f64 * Self::SHARE
    }
}

/// A Comparison-view row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassDiff {
    /// DevTools' class key: the name, split by constructor location.
    pub key: String,
    pub name: String,
    pub added_count: u64,
    pub removed_count: u64,
    pub added_size: f64,
    pub removed_size: f64,
}

/// Objects added and removed per class between two snapshots of one
/// process, as DevTools' Comparison view counts them: see [`Comparison::class_diff`].
pub fn diff(before: &Digest, after: &impl Later) -> Vec<ClassDiff> {
    Comparison::new(before, after).class_diff()
}

/// The later snapshot of a comparison, in ascending id order: the `i`th
/// node's id, class and self size.
pub trait Later {
    /// The ids, ascending.
    fn ids(&self) -> impl Iterator<Item = NodeId> + '_;
    /// An index into [`Later::classes`].
    fn class(&self, i: usize) -> u32;
    fn size(&self, i: usize) -> u32;
    /// (key, name) of each class.
    fn classes(&self) -> Vec<(String, String)>;
    /// The plain objects' definitions the earlier snapshot is named with.
    fn interfaces(&self) -> &[Interface];
}

impl Later for Digest {
    fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.ids.iter()
    }
    fn class(&self, i: usize) -> u32 {
        self.class[i]
    }
    fn size(&self, i: usize) -> u32 {
        self.size[i]
    }
    fn classes(&self) -> Vec<(String, String)> {
        self.classes.iter().map(|c| (c.key.clone(), c.name.clone())).collect()
    }
    fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }
}

/// A snapshot's nodes as (id, ordinal), ascending by id: built once, read by
/// the class diff, the id agreement and [`super::Ages`].
pub struct ById(pub(super) Vec<(NodeId, u32)>);

impl ById {
    pub fn of(g: &Graph) -> ById {
        ById(in_id_order(g.node_ids()))
    }
}

/// An analysed snapshot as the later side of a comparison.
pub struct CensusById<'a, 'g> {
    pub census: &'a Census<'g>,
    pub by_id: &'a ById,
}

impl Later for CensusById<'_, '_> {
    fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.by_id.0.iter().map(|&(id, _)| id)
    }
    fn class(&self, i: usize) -> u32 {
        self.census.class_keys.key_index(self.by_id.0[i].1)
    }
    fn size(&self, i: usize) -> u32 {
        self.census.self_sizes[self.by_id.0[i].1 as usize]
    }
    fn classes(&self) -> Vec<(String, String)> {
        // Each key named from its first node.
        let c = self.census;
        let mut named: Vec<Option<(String, String)>> = vec![None; c.class_keys.key_count()];
        for n in 0..c.graph.node_count as u32 {
            let slot = &mut named[c.class_keys.key_index(n) as usize];
            if slot.is_none() {
                *slot = Some((c.class_key(n), c.class_name(n).to_string()));
            }
        }
        named.into_iter().map(Option::unwrap_or_default).collect()
    }
    fn interfaces(&self) -> &[Interface] {
        self.census.class_keys.interfaces()
    }
}

/// Two snapshots side by side, as both the class diff and the id agreement
/// read them: the earlier one's classes named with the later one's interface
/// definitions (as DevTools' Comparison view names them), and one merge of
/// their id-sorted node lists.
pub struct Comparison<'d, L: Later> {
    before: &'d Digest,
    after: &'d L,
    /// (key, name) by class, of each side.
    before_classes: Vec<(String, String)>,
    after_classes: Vec<(String, String)>,
    /// By class of each side, its key as a number shared by both sides (two
    /// classes of one side may share a key: plain objects named alike), so
    /// that the merge compares and counts by number, not by text.
    before_key: Vec<u32>,
    after_key: Vec<u32>,
    key_count: usize,
}

/// Each class's key as a number, the same for the same key text on either side.
fn key_numbers<'k>(numbers: &mut HashMap<&'k str, u32>, classes: &'k [(String, String)]) -> Vec<u32> {
    classes
        .iter()
        .map(|(key, _)| {
            let next = numbers.len() as u32;
            *numbers.entry(key.as_str()).or_insert(next)
        })
        .collect()
}

/// One step of the merge: a node only in the earlier digest, only in the
/// later one, or in both (positions in each side's lists).
enum Merged {
    Before(usize),
    After(usize),
    Both(usize, usize),
}

impl<'d, L: Later> Comparison<'d, L> {
    pub fn new(before: &'d Digest, after: &'d L) -> Comparison<'d, L> {
        let before_classes = before.classes_named_by(after.interfaces());
        let after_classes = after.classes();
        let mut numbers: HashMap<&str, u32> = HashMap::new();
        let before_key = key_numbers(&mut numbers, &before_classes);
        let after_key = key_numbers(&mut numbers, &after_classes);
        let key_count = numbers.len();
        drop(numbers);
        Comparison { before, after, before_classes, after_classes, before_key, after_key, key_count }
    }

    /// Walks both id-sorted lists once, in id order.
    fn merge(&self, mut visit: impl FnMut(Merged)) {
        let mut before = self.before.ids.iter().enumerate().peekable();
        let mut after = self.after.ids().enumerate().peekable();
        loop {
            match (before.peek().copied(), after.peek().copied()) {
                (Some((i, a)), Some((j, b))) if a == b => {
                    visit(Merged::Both(i, j));
                    before.next();
                    after.next();
                }
                (Some((i, a)), Some((_, b))) if a < b => {
                    visit(Merged::Before(i));
                    before.next();
                }
                (Some((i, _)), None) => {
                    visit(Merged::Before(i));
                    before.next();
                }
                (_, Some((j, _))) => {
                    visit(Merged::After(j));
                    after.next();
                }
                (None, None) => break,
            }
        }
    }

    /// The class of the `i`th node of the earlier side: its index and key number.
    fn before_class(&self, i: usize) -> (usize, u32) {
        let class = self.before.class[i] as usize;
        (class, self.before_key[class])
    }

    fn after_class(&self, j: usize) -> (usize, u32) {
        let class = self.after.class(j) as usize;
        (class, self.after_key[class])
    }

    /// How many objects with a size of their own both snapshots have, and how
    /// many of those changed class.
    pub fn agreement(&self) -> IdAgreement {
        let mut agreement = IdAgreement { shared: 0, reclassed: 0 };
        self.merge(|step| {
            if let Merged::Both(i, j) = step {
                if self.before.size[i] > 0 && self.after.size(j) > 0 {
                    agreement.shared += 1;
                    if self.before_class(i).1 != self.after_class(j).1 {
                        agreement.reclassed += 1;
                    }
                }
            }
        });
        agreement
    }

    /// DevTools' Comparison rows: classes matched by key, objects by id
    /// within a class, so an object whose class changed counts as removed
    /// from one and added to the other; objects without a size of their own
    /// are not counted. Largest size change first.
    pub fn class_diff(&self) -> Vec<ClassDiff> {
        // By key number; each row named by the first object counted in it.
        let mut rows: Vec<Option<ClassDiff>> = vec![None; self.key_count];
        /// Counts one object, when it has a size of its own, in its class's row.
        fn count(
            rows: &mut [Option<ClassDiff>],
            (class, key): (usize, u32),
            classes: &[(String, String)],
            size: u32,
            added: bool,
        ) {
            if size == 0 {
                return;
            }
            let r = rows[key as usize].get_or_insert_with(|| ClassDiff {
                key: classes[class].0.clone(),
                name: classes[class].1.clone(),
                added_count: 0,
                removed_count: 0,
                added_size: 0.0,
                removed_size: 0.0,
            });
            if added {
                r.added_count += 1;
                r.added_size += size as f64;
            } else {
                r.removed_count += 1;
                r.removed_size += size as f64;
            }
        }
        let (before, after) = (self.before, self.after);
        let (was_named, is_named) = (&self.before_classes, &self.after_classes);
        self.merge(|step| match step {
            Merged::Both(i, j) => {
                let (was, is) = (self.before_class(i), self.after_class(j));
                if was.1 != is.1 || (before.size[i] > 0) != (after.size(j) > 0) {
                    count(&mut rows, was, was_named, before.size[i], false);
                    count(&mut rows, is, is_named, after.size(j), true);
                }
            }
            Merged::Before(i) => count(&mut rows, self.before_class(i), was_named, before.size[i], false),
            Merged::After(j) => count(&mut rows, self.after_class(j), is_named, after.size(j), true),
        });
        let mut rows: Vec<ClassDiff> = rows.into_iter().flatten().collect();
        let delta = |r: &ClassDiff| r.added_size - r.removed_size;
        rows.sort_by(|a, b| delta(b).abs().total_cmp(&delta(a).abs()).then_with(|| a.key.cmp(&b.key)));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::analysis::Analysis;
    use crate::snapshot::test_graph::TestGraph;
    use crate::snapshot::Graph;
    /// A root holding one object per `(id, class)`, each of 16 bytes.
    fn snapshot(objects: &[(u32, &str)]) -> Graph {
        let mut t = TestGraph::new();
        for (i, &(id, class)) in objects.iter().enumerate() {
            let n = t.node("object", class, 16);
            t.id(n, id).edge(0, "element", &i.to_string(), n);
        }
        t.graph()
    }

    fn digest(objects: &[(u32, &str)]) -> Digest {
        Digest::for_diff(&Analysis::run(&snapshot(objects), &mut |_| {}).census)
    }

    #[test]
    fn an_object_that_changed_class_leaves_one_row_and_joins_another() {
        let before = digest(&[(101, "Foo"), (103, "Foo"), (105, "Foo"), (107, "Bar"), (99, "Qux")]);
        // 101 and 107 stay as they were, 103 is a Bar now, 99 and 105 are
        // gone, 111 is new.
        let after = digest(&[(111, "Baz"), (107, "Bar"), (103, "Bar"), (101, "Foo")]);
        let rows: Vec<(String, u64, u64, f64)> = diff(&before, &after)
            .into_iter()
            .map(|r| (r.name, r.added_count, r.removed_count, r.added_size - r.removed_size))
            .collect();
        let row = |name: &str, added, removed, delta| (name.to_string(), added, removed, delta);
        assert_eq!(
            rows,
            [row("Foo", 0, 2, -32.0), row("Bar", 1, 0, 16.0), row("Baz", 1, 0, 16.0), row("Qux", 0, 1, -16.0)]
        );
    }

    #[test]
    fn ids_of_one_process_keep_their_class_and_those_of_two_do_not() {
        let ids: Vec<u32> = (0..400).map(|i| 101 + 2 * i).collect();
        let before: Vec<(u32, &str)> = ids.iter().map(|&id| (id, if id % 4 == 1 { "Foo" } else { "Bar" })).collect();
        let base = digest(&before);
        // The same process later: half freed, new objects with new ids.
        let mut later: Vec<(u32, &str)> = before[200..].to_vec();
        later.extend((0..300).map(|i| (2001 + 2 * i, "Baz")));
        let agreement = IdAgreement::of(&base, &digest(&later));
        assert_eq!(agreement, IdAgreement { shared: 200, reclassed: 0 });
        assert!(agreement.one_process());
        // Another process: the same ids name objects of other classes.
        let other: Vec<(u32, &str)> = ids.iter().map(|&id| (id, if id % 4 == 1 { "Bar" } else { "Qux" })).collect();
        let agreement = IdAgreement::of(&base, &digest(&other));
        assert_eq!(agreement, IdAgreement { shared: 400, reclassed: 400 });
        assert!(!agreement.one_process());
        // A few reclassed objects (V8 renames some code objects) are not evidence.
        let mut renamed = before.clone();
        for entry in renamed.iter_mut().take(30) {
            entry.1 = "Qux";
        }
        assert!(IdAgreement::of(&base, &digest(&renamed)).one_process());
    }
}
