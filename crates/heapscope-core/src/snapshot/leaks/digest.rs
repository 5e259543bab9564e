//! What later snapshots need of an earlier one, without its graph.

use std::collections::HashMap;

use super::path_key;
use crate::snapshot::analysis::{Analysis, Census, Interface, InterfaceMatcher, ShapeLookup};
use crate::snapshot::{Graph, NodeId};

/// What later steps need of an earlier snapshot: about 12 bytes a node for a
/// class diff, 16 for leaks (with every object's retained size).
pub struct Digest {
    /// Node ids, ascending, with `class[i]`, `size[i]` and `retained[i]` aligned.
    pub(super) ids: Vec<NodeId>,
    pub(super) class: Vec<u32>,
    pub(super) size: Vec<u32>,
    /// Every object's retained size, by id (empty in a digest for diffs): a
    /// holder is followed by id wherever it hangs (V8's stack roots in one
    /// snapshot, a context in the next), however small it is. As `f32`:
    /// exact to 16 MiB, within 1 byte in 16 million above; half the memory.
    retained: Vec<f32>,
    pub(super) classes: Vec<DigestClass>,
    pub(super) interfaces: Vec<Interface>,
    /// Retained size of the largest objects by path key: a holder replaced
    /// by ever larger copies has a new id each time, not a new path.
    by_path: HashMap<String, f64>,
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
        for n in a.largest(FOLLOWED) {
            // Largest first: where two objects share a key, the larger keeps it.
            digest.by_path.entry(path_key(&a.path(n))).or_insert(a.retained[n as usize]);
        }
        digest
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
        let mut by_id: Vec<(NodeId, u32)> = (0..g.node_count as u32).map(|n| (g.node_id(n), n)).collect();
        by_id.sort_unstable();
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
        let ids = by_id.into_iter().map(|(id, _)| id).collect();
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

    pub fn node_count(&self) -> usize {
        self.ids.len()
    }

    /// The retained size of the object `id` (when the digest has them and
    /// the object was alive)…
    pub(super) fn retained_by_id(&self, id: NodeId) -> Option<f64> {
        self.ids.binary_search(&id).ok().and_then(|i| self.retained.get(i).map(|&r| f64::from(r)))
    }

    /// …and of the object at a path, when it was among the largest.
    pub(super) fn retained_by_path(&self, key: &str) -> Option<f64> {
        self.by_path.get(key).copied()
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

    pub fn of(last: &Graph, baseline: &Digest, target: Option<&Digest>) -> Ages {
        let mut by_id: Vec<(NodeId, u32)> = (0..last.node_count as u32).map(|n| (last.node_id(n), n)).collect();
        by_id.sort_unstable();
        let mut flags = vec![0u8; last.node_count];
        let mut mark = |ids: &[NodeId], flag: u8| {
            let mut i = 0;
            for &(id, n) in &by_id {
                while i < ids.len() && ids[i] < id {
                    i += 1;
                }
                if i < ids.len() && ids[i] == id {
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
