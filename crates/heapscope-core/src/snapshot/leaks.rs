//! Growth between snapshots of one process: class diffs (DevTools'
//! Comparison view) and leak suspects named by the retainer path that holds
//! them.
//!
//! Node ids are stable within a process, so an earlier snapshot is kept as a
//! [`Digest`] — ids with their class and size, and the retained size of its
//! largest objects by retainer path — about 12 bytes a node instead of the
//! whole graph. The last snapshot is analysed in full.
//!
//! Suspects combine two signals. memlab's three-snapshot technique: objects
//! allocated after the baseline (and, given a target, present in it) that
//! are still alive at the end. And growth by path: the retained size of the
//! object at a path such as `global → cache` across the snapshots, which
//! also catches a holder replaced by ever larger copies (new ids each time).
//! The deepest path that explains the growth is reported, ending at the last
//! object a program names (internal backing stores fold into their owner).

use std::collections::HashMap;

use super::analysis::{
    is_index_label, Analysis, Census, DominatorTree, Interface, InterfaceMatcher, PathShapes, PathStep, ShapeLookup,
};
use super::NodeId;

/// What later steps need of an earlier snapshot.
pub struct Digest {
    /// Node ids, ascending, with `class[i]` and `size[i]` aligned.
    ids: Vec<NodeId>,
    class: Vec<u32>,
    size: Vec<u32>,
    classes: Vec<DigestClass>,
    interfaces: Vec<Interface>,
    /// Retained size of the largest objects, by path key…
    by_path: HashMap<String, f64>,
    /// …and by id: an object whose path changed between snapshots (it hung
    /// from V8's stack roots in one, from a context in the other) is still
    /// followed.
    by_id: HashMap<NodeId, f64>,
    pub total_size: f64,
}

/// A class of a digest: DevTools' public class key and name, and for plain
/// objects the sorted property names they were named from (a later
/// snapshot's interface definitions may name them otherwise).
struct DigestClass {
    key: String,
    name: String,
    properties: Option<Vec<String>>,
}

/// How many of a snapshot's largest objects are followed by path.
pub const FOLLOWED: usize = 20_000;

impl Digest {
    /// Everything later snapshots are compared with, paths included.
    pub fn of(a: &Analysis) -> Digest {
        let mut digest = Digest::for_diff(&a.census);
        for n in a.largest(FOLLOWED) {
            digest.by_path.insert(path_key(&a.path(n)), a.retained[n as usize]);
            digest.by_id.insert(a.graph.node_id(n), a.retained[n as usize]);
        }
        digest
    }

    /// Only what a class diff needs: no retainer paths (those cost a path
    /// walk for each of the largest objects).
    pub fn for_diff(a: &Census) -> Digest {
        let g = a.graph;
        let mut order: Vec<u32> = (0..g.node_count as u32).collect();
        order.sort_unstable_by_key(|&n| g.node_id(n));
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
        let ids = order.iter().map(|&n| g.node_id(n)).collect();
        Digest {
            ids,
            class,
            size,
            classes,
            interfaces: a.class_keys.interfaces().to_vec(),
            by_path: HashMap::new(),
            by_id: HashMap::new(),
            total_size: a.total_size(),
        }
    }

    pub fn node_count(&self) -> usize {
        self.ids.len()
    }

    fn contains(&self, id: NodeId) -> bool {
        self.ids.binary_search(&id).is_ok()
    }

    /// (key, name) of each class, plain objects named by `interfaces`.
    fn classes_named_by(&self, interfaces: &[Interface]) -> Vec<(String, String)> {
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

/// A path as a key: edge names from the root, element indexes kept. Steps
/// through V8's synthetic roots (stack, handle scopes) are numbered by slot,
/// which changes from one snapshot to the next: such a key starts at the
/// first object past them, named by its class.
pub fn path_key(path: &[PathStep]) -> String {
    let (mut key, rest) = match path.iter().position(|s| s.class_name != "(synthetic)") {
        Some(past) if past > 0 => (path[past].class_name.clone(), &path[past + 1..]),
        _ => (String::new(), path),
    };
    for step in rest {
        key.push('/');
        key.push_str(&step.edge);
    }
    key
}

/// A path as people read it: `global → cache (Map) → table`.
pub fn path_text(path: &[PathStep]) -> String {
    // Start at the JS global object when the path passes through it (newer V8
    // reaches it through "(system) → global_object"): it reads as `global`.
    // Otherwise the root's edge (an index into its roots) says nothing: name
    // the first node itself.
    let is_global = |s: &PathStep| {
        let c = s.class_name.as_str();
        c == "global" || c.starts_with("global ") || c == "Window" || c.starts_with("Window ")
    };
    let (head, rest) = match path.iter().rposition(is_global) {
        Some(at) => ("global".to_string(), &path[at + 1..]),
        // From V8's synthetic roots, name the innermost one: `(Stack roots)`.
        None => match path.iter().rposition(|s| s.class_name == "(synthetic)") {
            Some(at) => (path[at].node_name.clone(), &path[at + 1..]),
            None => match path.split_first() {
                Some((first, rest)) => (first.class_name.clone(), rest),
                None => return String::new(),
            },
        },
    };
    let steps = rest.iter().map(|s| {
        if s.class_name.is_empty() {
            s.edge.clone()
        } else {
            format!("{} ({})", s.edge, s.class_name)
        }
    });
    std::iter::once(head).chain(steps).collect::<Vec<_>>().join(" → ")
}

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

    pub fn of(before: &Digest, after: &Digest) -> IdAgreement {
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
pub fn diff(before: &Digest, after: &Digest) -> Vec<ClassDiff> {
    Comparison::new(before, after).class_diff()
}

/// Two digests side by side, as both the class diff and the id agreement
/// read them: the earlier one's classes named with the later one's interface
/// definitions (as DevTools' Comparison view names them), and one merge of
/// their id-sorted node lists.
pub struct Comparison<'d> {
    before: &'d Digest,
    after: &'d Digest,
    /// (key, name) by digest class, of each side.
    before_classes: Vec<(String, String)>,
    after_classes: Vec<(String, String)>,
}

/// One step of the merge: a node only in the earlier digest, only in the
/// later one, or in both (positions in each digest's lists).
enum Merged {
    Before(usize),
    After(usize),
    Both(usize, usize),
}

impl<'d> Comparison<'d> {
    pub fn new(before: &'d Digest, after: &'d Digest) -> Comparison<'d> {
        Comparison {
            before,
            after,
            before_classes: before.classes_named_by(&after.interfaces),
            after_classes: after.classes.iter().map(|c| (c.key.clone(), c.name.clone())).collect(),
        }
    }

    /// Walks both id-sorted lists once, in id order.
    fn merge(&self, mut visit: impl FnMut(Merged)) {
        let (before, after) = (&self.before.ids, &self.after.ids);
        let (mut i, mut j) = (0, 0);
        while i < before.len() || j < after.len() {
            match (before.get(i), after.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    visit(Merged::Both(i, j));
                    i += 1;
                    j += 1;
                }
                (Some(a), b) if b.is_none_or(|b| a < b) => {
                    visit(Merged::Before(i));
                    i += 1;
                }
                _ => {
                    visit(Merged::After(j));
                    j += 1;
                }
            }
        }
    }

    fn before_class(&self, i: usize) -> &(String, String) {
        &self.before_classes[self.before.class[i] as usize]
    }

    fn after_class(&self, j: usize) -> &(String, String) {
        &self.after_classes[self.after.class[j] as usize]
    }

    /// How many objects with a size of their own both snapshots have, and how
    /// many of those changed class.
    pub fn agreement(&self) -> IdAgreement {
        let mut agreement = IdAgreement { shared: 0, reclassed: 0 };
        self.merge(|step| {
            if let Merged::Both(i, j) = step {
                if self.before.size[i] > 0 && self.after.size[j] > 0 {
                    agreement.shared += 1;
                    if self.before_class(i).0 != self.after_class(j).0 {
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
        let mut rows: HashMap<&str, ClassDiff> = HashMap::new();
        /// Counts one object, when it has a size of its own, in its class's row.
        fn count<'k>(
            rows: &mut HashMap<&'k str, ClassDiff>,
            (key, name): &'k (String, String),
            size: u32,
            added: bool,
        ) {
            if size == 0 {
                return;
            }
            let r = rows.entry(key.as_str()).or_insert_with(|| ClassDiff {
                key: key.clone(),
                name: name.clone(),
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
        self.merge(|step| match step {
            Merged::Both(i, j) => {
                let (was, is) = (self.before_class(i), self.after_class(j));
                if was.0 != is.0 || (before.size[i] > 0) != (after.size[j] > 0) {
                    count(&mut rows, was, before.size[i], false);
                    count(&mut rows, is, after.size[j], true);
                }
            }
            Merged::Before(i) => count(&mut rows, self.before_class(i), before.size[i], false),
            Merged::After(j) => count(&mut rows, self.after_class(j), after.size[j], true),
        });
        let mut rows: Vec<ClassDiff> = rows.into_values().collect();
        let delta = |r: &ClassDiff| r.added_size - r.removed_size;
        rows.sort_by(|a, b| delta(b).abs().total_cmp(&delta(a).abs()).then_with(|| a.key.cmp(&b.key)));
        rows
    }
}

/// A class held by a suspect: its objects that are new since the baseline.
#[derive(Debug, Clone)]
pub struct HeldClass {
    pub name: String,
    pub count: u64,
    pub size: f64,
}

/// An object whose retained memory grew, and why it stays.
#[derive(Debug, Clone)]
pub struct Suspect {
    pub path: Vec<PathStep>,
    pub node_id: NodeId,
    pub class_name: String,
    /// Retained size at the same path in each earlier snapshot (0 when it was
    /// not among their largest objects), then in the last.
    pub retained: Vec<f64>,
    /// Last minus first.
    pub growth: f64,
    /// Objects it retains that are new since the baseline…
    pub new_objects: u64,
    pub new_size: f64,
    /// …and of those, the ones that already existed at the target (memlab's
    /// leak set), which rank the suspects.
    pub leaked_objects: u64,
    pub leaked_size: f64,
    pub held: Vec<HeldClass>,
    /// The largest groups of new objects it holds, by where they hang: a
    /// scope shared by a cache and a listener list names both.
    pub through: Vec<NewGroup>,
}

/// Groups of new objects listed under each suspect.
const THROUGH: usize = 3;

/// What counts as a suspect.
#[derive(Debug, Clone, Copy)]
pub struct LeakOptions {
    /// Least growth of retained size, in bytes.
    pub min_growth: f64,
    /// Most suspects returned.
    pub limit: usize,
}

impl Default for LeakOptions {
    fn default() -> LeakOptions {
        LeakOptions { min_growth: 64.0 * 1024.0, limit: 10 }
    }
}

/// How many groups of new objects a comparison keeps (largest first): the
/// ones listed under suspects are among them.
pub const GROUPS: usize = 200;

/// Leak suspects in `last`, given the digests of earlier snapshots of the
/// same process (`earlier[0]` is the baseline, `earlier[1]`, if any, the
/// target), its dominator tree ([`Analysis::dominated`]) and its groups of
/// new objects since the baseline ([`new_objects_by_path`]).
pub fn suspects(
    earlier: &[&Digest],
    last: &Analysis,
    dominated: &DominatorTree,
    groups: &[NewGroup],
    options: LeakOptions,
) -> Vec<Suspect> {
    let Some(baseline) = earlier.first() else {
        return Vec::new();
    };
    let g = last.graph;
    struct Candidate {
        node: u32,
        path: Vec<PathStep>,
        key: String,
        retained: Vec<f64>,
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    for n in last.largest(FOLLOWED) {
        let path = last.path(n);
        // Name the object a program can see: an edge into V8's internals
        // (a backing store, a Map's table) folds into its owner, which is
        // followed in its own right.
        let Some(step) = path.last() else { continue };
        if !step.edge_kind.is_named_by_program() || step.class_name.starts_with('(') {
            continue;
        }
        let key = path_key(&path);
        // By path first (a holder replaced by a larger copy has a new id),
        // then by id (the same object reached another way).
        let id = g.node_id(n);
        let mut retained: Vec<f64> =
            earlier.iter().map(|d| d.by_path.get(&key).or_else(|| d.by_id.get(&id)).copied().unwrap_or(0.0)).collect();
        retained.push(last.retained[n as usize]);
        let grows = retained.windows(2).all(|w| w[1] >= w[0]);
        if !grows || retained[retained.len() - 1] - retained[0] < options.min_growth {
            continue;
        }
        candidates.push(Candidate { node: n, path, key, retained });
    }
    let growth = |c: &Candidate| c.retained[c.retained.len() - 1] - c.retained[0];
    // The deepest paths that explain the growth, but a collection rather
    // than its entries. BFS paths form a tree, so a candidate's nearest
    // candidate ancestor is its longest candidate prefix. A candidate
    // reached from it through an index (`[7]`, a hash table's slot) is an
    // entry of that collection, or hangs from one: the collection is the
    // holder, and its entries are not suspects of their own (40 responses
    // pushed into one array are one suspect, the array). Otherwise the
    // candidates right below explain their ancestor (a cache and a listener
    // list in one scope, say) when they account for most of its growth.
    let index: HashMap<&str, usize> = candidates.iter().enumerate().map(|(i, c)| (c.key.as_str(), i)).collect();
    let nearest: Vec<Option<(usize, bool)>> = candidates
        .iter()
        .map(|c| {
            (1..c.path.len()).rev().find_map(|k| {
                let p = index.get(path_key(&c.path[..k]).as_str()).copied()?;
                Some((p, c.path[k..].iter().any(|step| is_index_label(&step.edge))))
            })
        })
        .collect();
    let mut below = vec![0.0f64; candidates.len()];
    for (c, up) in candidates.iter().zip(&nearest) {
        if let Some((p, false)) = *up {
            below[p] += growth(c);
        }
    }
    // Ancestors first (shorter paths), so that a fold carries down.
    let mut by_depth: Vec<usize> = (0..candidates.len()).collect();
    by_depth.sort_by_key(|&i| candidates[i].path.len());
    let (mut held_by, mut kept_at) = (vec![false; candidates.len()], vec![false; candidates.len()]);
    for i in by_depth {
        held_by[i] = match nearest[i] {
            Some((p, entry)) => (kept_at[p] && entry) || held_by[p],
            None => false,
        };
        kept_at[i] = !held_by[i] && below[i] < 0.8 * growth(&candidates[i]);
    }
    let mut kept: Vec<&Candidate> = candidates.iter().zip(kept_at).filter(|(_, kept)| *kept).map(|(c, _)| c).collect();
    if kept.is_empty() {
        return Vec::new();
    }
    let target = earlier.get(1).copied();
    // With a target, memlab's leak set ranks: what was allocated after the
    // target may be a request in flight, not evidence of a leak. Growth
    // breaks ties (and ranks alone with two snapshots).
    let leak_set = target.map(|target| leak_set_retained(last, dominated, baseline, target));
    let leaked = |c: &Candidate| leak_set.as_ref().map_or(0.0, |sizes| sizes[c.node as usize]);
    kept.sort_by(|a, b| {
        leaked(b).total_cmp(&leaked(a)).then(growth(b).total_cmp(&growth(a))).then(a.node.cmp(&b.node))
    });
    let holds = |holder: u32, mut n: u32| loop {
        if n == holder {
            return true;
        }
        if n == g.root {
            return false;
        }
        n = last.dominator[n as usize];
    };
    kept.into_iter()
        .filter_map(|c| {
            let held = Held::tally(last, dominated, c.node, baseline, target);
            // Growth that holds nothing new (a cache of V8's resizing) is not a leak.
            if held.new_objects == 0 || held.new_size < 0.25 * growth(c) {
                return None;
            }
            Some(Suspect {
                node_id: g.node_id(c.node),
                class_name: last.class_name(c.node).to_string(),
                growth: growth(c),
                retained: c.retained.clone(),
                path: c.path.clone(),
                new_objects: held.new_objects,
                new_size: held.new_size,
                leaked_objects: held.leaked_objects,
                leaked_size: held.leaked_size,
                held: held.classes,
                through: groups.iter().filter(|grp| holds(c.node, grp.node)).take(THROUGH).cloned().collect(),
            })
        })
        .take(options.limit)
        .collect()
}

/// By node: the bytes of memlab's leak set it retains (objects new since the
/// baseline and already there at the target, by V8's own sizes as
/// [`Held::tally`] counts them), summed up the dominator tree in one pass.
fn leak_set_retained(last: &Analysis, tree: &DominatorTree, baseline: &Digest, target: &Digest) -> Vec<f64> {
    let g = last.graph;
    let mut preorder = Vec::with_capacity(g.node_count);
    let mut stack = vec![g.root];
    while let Some(n) = stack.pop() {
        preorder.push(n);
        stack.extend_from_slice(tree.children(n));
    }
    let mut sizes = vec![0.0f64; g.node_count];
    for &n in preorder.iter().rev() {
        let id = g.node_id(n);
        if !last.is_synthetic(n) && !baseline.contains(id) && target.contains(id) {
            sizes[n as usize] += g.self_size(n) as f64;
        }
        if n != g.root {
            sizes[last.dominator[n as usize] as usize] += sizes[n as usize];
        }
    }
    sizes
}

/// New objects in a node's dominator subtree, by class.
struct Held {
    new_objects: u64,
    new_size: f64,
    leaked_objects: u64,
    leaked_size: f64,
    classes: Vec<HeldClass>,
}

impl Held {
    fn tally(last: &Analysis, tree: &DominatorTree, node: u32, baseline: &Digest, target: Option<&Digest>) -> Held {
        let g = last.graph;
        let mut by_class: HashMap<&str, (u64, f64)> = HashMap::new();
        let (mut new_objects, mut new_size, mut leaked_objects, mut leaked_size) = (0u64, 0.0f64, 0u64, 0.0f64);
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let id = g.node_id(n);
            // V8's own size: a Map's new, larger table counts as new even
            // though DevTools moves its size into the (old) Map.
            let size = g.self_size(n) as f64;
            if !baseline.contains(id) && size > 0.0 && !last.is_synthetic(n) {
                new_objects += 1;
                new_size += size;
                if target.is_some_and(|t| t.contains(id)) {
                    leaked_objects += 1;
                    leaked_size += size;
                }
                let e = by_class.entry(last.class_name(n)).or_default();
                e.0 += 1;
                e.1 += size;
            }
            stack.extend_from_slice(tree.children(n));
        }
        let mut classes: Vec<HeldClass> = by_class
            .into_iter()
            .map(|(name, (count, size))| HeldClass { name: name.to_string(), count, size })
            .collect();
        classes.sort_by(|a, b| b.size.total_cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
        classes.truncate(8);
        Held { new_objects, new_size, leaked_objects, leaked_size, classes }
    }
}

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
}

/// New objects in `after` (ids absent from `before`) that are still alive,
/// grouped by where they hang, largest first.
pub fn new_objects_by_path(before: &Digest, after: &Analysis, tree: &DominatorTree, limit: usize) -> Vec<NewGroup> {
    const NONE: u32 = u32::MAX;
    let g = after.graph;
    let mut shapes = PathShapes::new(after);
    // Each outermost new object (its own first new ancestor, by a walk of
    // the dominator tree from the root): its group (where it hangs), and
    // the objects and bytes it holds; per group and class, what they hold.
    let mut tops: HashMap<u32, (u32, u64, f64)> = HashMap::new();
    let mut held: HashMap<(u32, u32), (u64, f64)> = HashMap::new();
    let mut stack: Vec<(u32, u32)> = vec![(g.root, NONE)];
    while let Some((n, above)) = stack.pop() {
        let new = !before.contains(g.node_id(n));
        let top = match (new, above) {
            (false, _) => NONE,
            (true, NONE) => n,
            (true, above) => above,
        };
        let size = after.census.self_sizes[n as usize];
        if top != NONE && size > 0 && !after.is_synthetic(n) {
            let entry = tops.entry(top).or_insert_with(|| (shapes.of(top), 0, 0.0));
            entry.1 += 1;
            entry.2 += size as f64;
            let c = held.entry((entry.0, after.class_id(n))).or_default();
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
    let mut groups: HashMap<u32, Group> = HashMap::new();
    for (top, (shape, objects, size)) in tops {
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
                roots: grp.roots,
                objects: grp.objects,
                size: grp.size,
                held,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// One process's heap at some moment: a `Holder` (always id 1001) reached
    /// from the root by the edge `via`, holding `entries` objects of 10 kB
    /// (each too small to be a suspect of its own).
    fn holder_step(via: &str, entries: u32) -> Graph {
        let mut t = TestGraph::new();
        let holder = t.node("object", "Holder", 32);
        t.id(holder, 1001).edge(0, "property", via, holder);
        for i in 0..entries {
            let entry = t.node("object", "Entry", 10_000);
            t.id(entry, 2001 + 2 * i).edge(holder, "element", &i.to_string(), entry);
        }
        t.graph()
    }

    #[test]
    fn a_holder_reached_another_way_in_one_snapshot_is_still_followed() {
        // V8 may reach an object from its stack roots in one snapshot and
        // from a context in the next: its path key changes, its id does not.
        let (baseline, target, last) = (holder_step("bus", 10), holder_step("other", 30), holder_step("bus", 60));
        let digest = |g: &Graph| Digest::of(&Analysis::run(g, &mut |_| {}));
        let (baseline, target) = (digest(&baseline), digest(&target));
        let last = Analysis::run(&last, &mut |_| {});
        let dominated = last.dominated();
        let groups = new_objects_by_path(&baseline, &last, &dominated, GROUPS);
        let found = suspects(&[&baseline, &target], &last, &dominated, &groups, LeakOptions::default());
        let names: Vec<&str> = found.iter().map(|s| s.class_name.as_str()).collect();
        assert_eq!(names, ["Holder"]);
        assert_eq!(found[0].retained, [100_032.0, 300_032.0, 600_032.0]);
        assert_eq!(found[0].new_objects, 50);
    }
}
