//! What later snapshots need of an earlier one, without its graph.

use std::collections::HashMap;

use super::ids::SortedIds;
use super::{path_key, ById};
use crate::snapshot::analysis::{Analysis, Census, Interface, InterfaceMatcher, ShapeLookup};
use crate::snapshot::NodeId;

/// What later steps need of an earlier snapshot: about 9 bytes a node for a
/// class diff (ids about one, classes and sizes four each), 13 for a leak
/// report's baseline (with every object's retained size), 5 for a snapshot
/// after the baseline ([`Digest::history_of`]: ids and retained sizes).
pub struct Digest {
    /// Node ids, ascending, with `class[i]`, `size[i]` and `retained[i]` aligned.
    pub(super) ids: SortedIds,
    /// Empty in a digest of history only ([`Digest::history_of`]).
    pub(super) class: Vec<u32>,
    pub(super) size: Vec<u32>,
    /// Every object's retained size, by id (empty in a digest for diffs): a
    /// holder is followed by id wherever it hangs (V8's stack roots in one
    /// snapshot, a context in the next), however small it is. As `f32`:
    /// exact to 16 MiB, within 1 byte in 16 million above; half the memory.
    retained: Vec<f32>,
    pub(super) classes: Vec<DigestClass>,
    pub(super) interfaces: Vec<Interface>,
    /// Retained size of the largest objects by path key (its 64-bit hash:
    /// 20,000 keys collide with odds of 1 in 10^10): a holder replaced by
    /// ever larger copies has a new id each time, not a new path.
    by_path: HashMap<u64, f64>,
    pub total_size: f64,
}

/// A class of a digest: DevTools' public class key and name, and for plain
/// objects the sorted property names they were named from (a later
/// snapshot's interface definitions may name them otherwise).
pub(super) struct DigestClass {
    pub(super) key: String,
    pub(super) name: String,
    properties: Option<Vec<String>>,
}

/// How many of a snapshot's largest objects are followed by path.
pub const FOLLOWED: usize = 20_000;

impl Digest {
    /// Everything later snapshots are compared with, paths included.
    pub fn of(a: &Analysis) -> Digest {
        let mut digest = Digest::build(&a.census, Some(&a.retained));
        digest.follow_largest(a);
        digest
    }

    /// What a leak report reads of a snapshot after the baseline: ids,
    /// retained sizes and paths, without classes (5 bytes a node, not 13).
    /// `by_id`: the snapshot's nodes in id order.
    pub fn history_of(a: &Analysis, by_id: ById) -> Digest {
        let mut digest = Digest {
            ids: SortedIds::from_ascending(by_id.0.iter().map(|&(id, _)| id)),
            class: Vec::new(),
            size: Vec::new(),
            retained: by_id.0.iter().map(|&(_, n)| a.retained[n as usize] as f32).collect(),
            classes: Vec::new(),
            interfaces: Vec::new(),
            by_path: HashMap::new(),
            total_size: a.total_size(),
        };
        drop(by_id);
        digest.follow_largest(a);
        digest
    }

    /// The retained size of the largest objects by path.
    fn follow_largest(&mut self, a: &Analysis) {
        for n in a.largest(FOLLOWED) {
            // Largest first: where two objects share a key, the larger keeps it.
            self.by_path.entry(key_hash(&path_key(&a.path(n)))).or_insert(a.retained[n as usize]);
        }
    }

    /// Only what a class diff needs: no retainer paths (those cost a path
    /// walk for each of the largest objects).
    pub fn for_diff(a: &Census) -> Digest {
        Digest::build(a, None)
    }

    fn build(a: &Census, retained: Option<&[f64]>) -> Digest {
        let g = a.graph;
        // Sorted as (id, ordinal) pairs side by side: no lookup of the
        // graph's columns per comparison.
        let ById(by_id) = ById::of(g);
        let order: Vec<u32> = by_id.iter().map(|&(_, n)| n).collect();
        let mut classes: Vec<DigestClass> = Vec::new();
        // Classes by the analysis' own key index (no text built per node);
        // plain objects by their property set, one class each, so they can be renamed.
        let mut by_key = vec![u32::MAX; a.class_keys.key_count()];
        let mut by_properties: HashMap<Vec<&str>, u32> = HashMap::new();
        // Each shape's class, found when its first object (by id) comes.
        let mut by_shape: HashMap<u32, u32> = HashMap::new();
        let mut class = Vec::with_capacity(order.len());
        let mut lookup = ShapeLookup::default();
        for &n in &order {
            let next = classes.len() as u32;
            let id = match a.plain_shape(n, &mut lookup) {
                Some(shape) => *by_shape.entry(shape).or_insert_with(|| {
                    *by_properties.entry(a.shape_properties(shape)).or_insert_with_key(|props| {
                        let properties = Some(props.iter().map(|p| p.to_string()).collect());
                        classes.push(DigestClass {
                            key: a.class_key(n),
                            name: a.class_name(n).to_string(),
                            properties,
                        });
                        next
                    })
                }),
                None => {
                    let id = &mut by_key[a.class_keys.key_index(n) as usize];
                    if *id == u32::MAX {
                        *id = next;
                        classes.push(DigestClass {
                            key: a.class_key(n),
                            name: a.class_name(n).to_string(),
                            properties: None,
                        });
                    }
                    *id
                }
            };
            class.push(id);
        }
        let size = order.iter().map(|&n| a.self_sizes[n as usize]).collect();
        let ids = SortedIds::from_ascending(by_id.into_iter().map(|(id, _)| id));
        Digest {
            ids,
            class,
            size,
            classes,
            interfaces: a.class_keys.interfaces().to_vec(),
            retained: retained.map_or_else(Vec::new, |r| order.iter().map(|&n| r[n as usize] as f32).collect()),
            by_path: HashMap::new(),
            total_size: a.total_size(),
        }
    }

    /// Whether it has every object's class and size (not a
    /// [`Digest::history_of`]).
    pub fn has_classes(&self) -> bool {
        self.class.len() == self.ids.len()
    }

    pub fn node_count(&self) -> usize {
        self.ids.len()
    }

    /// The retained size of the object `id` (when the digest has them and
    /// the object was alive)…
    pub(super) fn retained_by_id(&self, id: NodeId) -> Option<f64> {
        self.ids.position(id).and_then(|i| self.retained.get(i).map(|&r| f64::from(r)))
    }

    /// …and of the object at a path, when it was among the largest.
    pub(super) fn retained_by_path(&self, key: &str) -> Option<f64> {
        self.by_path.get(&key_hash(key)).copied()
    }

    /// (key, name) of each class, plain objects named by `interfaces`.
    pub(super) fn classes_named_by(&self, interfaces: &[Interface]) -> Vec<(String, String)> {
        let matcher = InterfaceMatcher::new(interfaces);
        self.classes
            .iter()
            .map(|c| match &c.properties {
                Some(properties) => {
                    let props: Vec<&str> = properties.iter().map(String::as_str).collect();
                    let name = matcher.best(&props).map_or("Object", |i| interfaces[i].name.as_str());
                    (format!(",{name}"), name.to_string())
                }
                None => (c.key.clone(), c.name.clone()),
            })
            .collect()
    }
}

/// A path key's hash, equal for equal keys in one process.
fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// Each node of a later snapshot by age: whether it was in the baseline, and
/// in the target. One merge of id-sorted lists instead of a binary search
/// per node in every pass that asks.
pub struct Ages {
    flags: Vec<u8>,
    has_target: bool,
}

impl Ages {
    const IN_BASELINE: u8 = 1;
    const IN_TARGET: u8 = 2;

    pub fn of(last: &ById, baseline: &Digest, target: Option<&Digest>) -> Ages {
        let mut flags = vec![0u8; last.0.len()];
        let mut mark = |ids: &SortedIds, flag: u8| {
            let mut earlier = ids.iter().peekable();
            for &(id, n) in &last.0 {
                while earlier.next_if(|&e| e < id).is_some() {}
                if earlier.peek() == Some(&id) {
                    flags[n as usize] |= flag;
                }
            }
        };
        mark(&baseline.ids, Ages::IN_BASELINE);
        if let Some(target) = target {
            mark(&target.ids, Ages::IN_TARGET);
        }
        Ages { flags, has_target: target.is_some() }
    }

    /// Allocated after the baseline.
    pub fn is_new(&self, n: u32) -> bool {
        self.flags[n as usize] & Ages::IN_BASELINE == 0
    }

    /// Whether there was a target to compare with.
    pub fn has_target(&self) -> bool {
        self.has_target
    }

    /// memlab's leak set: new since the baseline and already there at the
    /// target (without a target: new).
    pub fn is_leaked(&self, n: u32) -> bool {
        self.is_new(n) && (!self.has_target || self.flags[n as usize] & Ages::IN_TARGET != 0)
    }
}
