//! New objects still alive, grouped by where they hang.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use super::{Ages, HeldClass};
use crate::snapshot::analysis::{Analysis, DominatorTree, PathShapes, PathStep};

/// New objects of a later snapshot that hang from one place: the objects
/// new since the earlier snapshot, grouped by the retainer path of the
/// outermost new object above them in the dominator tree (element indexes
/// ignored, so a thousand entries pushed into one array are one group).
#[derive(Debug, Clone)]
pub struct NewGroup {
    /// The group's largest outermost new object, and its path.
    pub node: u32,
    pub path: Vec<PathStep>,
    /// Outermost new objects in the group (`[n]` entries of one array, say).
    pub roots: u64,
    pub objects: u64,
    pub size: f64,
    pub held: Vec<HeldClass>,
    /// When the largest outermost new object is a closure: the variables it
    /// captures, largest first (name, retained size).
    pub captured: Vec<(String, f64)>,
}

/// New objects in `after` (not in the baseline `ages` was made with) that are still alive,
/// grouped by where they hang, largest first.
pub fn new_objects_by_path(ages: &Ages, after: &Analysis, tree: &DominatorTree, limit: usize) -> Vec<NewGroup> {
    const NONE: u32 = u32::MAX;
    let g = after.graph;
    let mut shapes = PathShapes::new(after);
    // Each outermost new object (its own first new ancestor, by a walk of
    // the dominator tree from the root), numbered as the walk finds it: its
    // group (where it hangs, found once it holds something), and the
    // objects and bytes it holds; per group and class, what they hold. The
    // walk hands each node its top's number, so only the classes are looked
    // up by key (once a node, for millions of new objects: Fx, not SipHash;
    // the keys are numbers this analysis gave, not the snapshot's).
    struct Top {
        node: u32,
        shape: u32,
        objects: u64,
        size: f64,
    }
    let mut tops: Vec<Top> = Vec::new();
    let mut held: FxHashMap<(u32, u32), (u64, f64)> = FxHashMap::default();
    let mut stack: Vec<(u32, u32)> = vec![(g.root, NONE)];
    while let Some((n, above)) = stack.pop() {
        let top = match (ages.is_new(n), above) {
            (false, _) => NONE,
            (true, NONE) => {
                tops.push(Top { node: n, shape: NONE, objects: 0, size: 0.0 });
                (tops.len() - 1) as u32
            }
            (true, above) => above,
        };
        let size = after.census.self_sizes[n as usize];
        if top != NONE && size > 0 && !after.is_synthetic(n) {
            let entry = &mut tops[top as usize];
            if entry.shape == NONE {
                entry.shape = shapes.of(entry.node);
            }
            entry.objects += 1;
            entry.size += size as f64;
            let c = held.entry((entry.shape, after.class_id(n))).or_default();
            c.0 += 1;
            c.1 += size as f64;
        }
        for &child in tree.children(n) {
            stack.push((child, top));
        }
    }
    struct Group {
        top: u32,
        top_size: f64,
        roots: u64,
        objects: u64,
        size: f64,
        classes: HashMap<u32, (u64, f64)>,
    }
    let mut groups: FxHashMap<u32, Group> = FxHashMap::default();
    for Top { node: top, shape, objects, size } in tops.into_iter().filter(|t| t.objects > 0) {
        let grp = groups.entry(shape).or_insert_with(|| Group {
            top,
            top_size: -1.0,
            roots: 0,
            objects: 0,
            size: 0.0,
            classes: HashMap::new(),
        });
        if size > grp.top_size || (size == grp.top_size && top < grp.top) {
            grp.top = top;
            grp.top_size = size;
        }
        grp.roots += 1;
        grp.objects += objects;
        grp.size += size;
    }
    for ((shape, class), counted) in held {
        if let Some(grp) = groups.get_mut(&shape) {
            grp.classes.insert(class, counted);
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    groups.sort_by(|a, b| b.size.total_cmp(&a.size).then(a.top.cmp(&b.top)));
    groups.truncate(limit);
    groups
        .into_iter()
        .map(|grp| {
            let mut held: Vec<HeldClass> = grp
                .classes
                .into_iter()
                .map(|(class, (count, size))| HeldClass {
                    name: after.class_name_of_id(class).to_string(),
                    count,
                    size,
                })
                .collect();
            held.sort_by(|a, b| b.size.total_cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
            held.truncate(8);
            NewGroup {
                node: grp.top,
                path: after.path(grp.top),
                captured: after.captured(grp.top, 3),
                roots: grp.roots,
                objects: grp.objects,
                size: grp.size,
                held,
            }
        })
        .collect()
}
