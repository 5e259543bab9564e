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

use super::analysis::{Analysis, PathStep};

/// What later steps need of an earlier snapshot.
pub struct Digest {
    /// Node ids, ascending, with `class[i]` and `size[i]` aligned.
    ids: Vec<u32>,
    class: Vec<u32>,
    size: Vec<u32>,
    names: Vec<String>,
    /// Retained size of the largest objects, by path key.
    by_path: HashMap<String, f64>,
    pub total_size: f64,
}

/// How many of a snapshot's largest objects are followed by path.
pub const FOLLOWED: usize = 20_000;

impl Digest {
    /// Everything later snapshots are compared with, paths included.
    pub fn of(a: &Analysis) -> Digest {
        let mut digest = Digest::for_diff(a);
        digest.by_path =
            a.largest(FOLLOWED).into_iter().map(|n| (path_key(&a.path(n)), a.retained[n as usize])).collect();
        digest
    }

    /// Only what a class diff needs: no retainer paths (those cost a path
    /// walk for each of the largest objects).
    pub fn for_diff(a: &Analysis) -> Digest {
        let g = a.graph;
        let mut order: Vec<u32> = (0..g.node_count as u32).collect();
        order.sort_unstable_by_key(|&n| g.node_id(n));
        let mut names: Vec<String> = Vec::new();
        let mut index: HashMap<&str, u32> = HashMap::new();
        let mut class = Vec::with_capacity(order.len());
        for &n in &order {
            let name = a.class_name(n);
            let id = match index.get(name) {
                Some(&id) => id,
                None => {
                    names.push(name.to_string());
                    index.insert(name, (names.len() - 1) as u32);
                    (names.len() - 1) as u32
                }
            };
            class.push(id);
        }
        let size = order.iter().map(|&n| a.self_sizes[n as usize]).collect();
        let ids = order.iter().map(|&n| g.node_id(n)).collect();
        Digest { ids, class, size, names, by_path: HashMap::new(), total_size: a.total_size() }
    }

    pub fn node_count(&self) -> usize {
        self.ids.len()
    }

    fn contains(&self, id: u32) -> bool {
        self.ids.binary_search(&id).is_ok()
    }
}

/// A path as a key: edge names from the root, element indexes kept.
pub fn path_key(path: &[PathStep]) -> String {
    let mut key = String::new();
    for step in path {
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
        None => match path.split_first() {
            Some((first, rest)) => (first.class_name.clone(), rest),
            None => return String::new(),
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

/// A Comparison-view row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassDiff {
    pub name: String,
    pub added_count: u64,
    pub removed_count: u64,
    pub added_size: f64,
    pub removed_size: f64,
}

/// Objects added and removed per class between two snapshots of one
/// process, largest size change first.
pub fn diff(before: &Digest, after: &Digest) -> Vec<ClassDiff> {
    let mut added: HashMap<u32, (u64, f64)> = HashMap::new();
    let mut removed: HashMap<u32, (u64, f64)> = HashMap::new();
    let count = |map: &mut HashMap<u32, (u64, f64)>, class: u32, size: u32| {
        // DevTools counts objects with a size of their own.
        if size > 0 {
            let e = map.entry(class).or_default();
            e.0 += 1;
            e.1 += size as f64;
        }
    };
    // Merge the two id-sorted lists.
    let (mut i, mut j) = (0, 0);
    while i < before.ids.len() || j < after.ids.len() {
        let a = before.ids.get(i).copied();
        let b = after.ids.get(j).copied();
        match (a, b) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), b) if b.is_none_or(|b| a < b) => {
                count(&mut removed, before.class[i], before.size[i]);
                i += 1;
            }
            _ => {
                count(&mut added, after.class[j], after.size[j]);
                j += 1;
            }
        }
    }
    let mut out: HashMap<String, ClassDiff> = HashMap::new();
    fn row<'m>(out: &'m mut HashMap<String, ClassDiff>, name: &str) -> &'m mut ClassDiff {
        out.entry(name.to_string()).or_insert_with(|| ClassDiff {
            name: name.to_string(),
            added_count: 0,
            removed_count: 0,
            added_size: 0.0,
            removed_size: 0.0,
        })
    }
    for (class, (n, size)) in added {
        let r = row(&mut out, &after.names[class as usize]);
        r.added_count += n;
        r.added_size += size;
    }
    for (class, (n, size)) in removed {
        let r = row(&mut out, &before.names[class as usize]);
        r.removed_count += n;
        r.removed_size += size;
    }
    let mut rows: Vec<ClassDiff> = out.into_values().collect();
    let delta = |r: &ClassDiff| r.added_size - r.removed_size;
    rows.sort_by(|a, b| delta(b).abs().total_cmp(&delta(a).abs()).then_with(|| a.name.cmp(&b.name)));
    rows
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
    pub node_id: u32,
    pub class_name: String,
    /// Retained size at the same path in each earlier snapshot (0 when it was
    /// not among their largest objects), then in the last.
    pub retained: Vec<f64>,
    /// Last minus first.
    pub growth: f64,
    /// Objects it retains that are new since the baseline…
    pub new_objects: u64,
    pub new_size: f64,
    /// …and of those, the ones that already existed at the target (memlab's leak set).
    pub leaked_objects: u64,
    pub held: Vec<HeldClass>,
}

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

/// Leak suspects in `last`, given the digests of earlier snapshots of the
/// same process (`earlier[0]` is the baseline, `earlier[1]`, if any, the target).
pub fn suspects(earlier: &[&Digest], last: &Analysis, options: LeakOptions) -> Vec<Suspect> {
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
        if matches!(step.edge_type.as_str(), "internal" | "hidden" | "shortcut" | "weak")
            || step.class_name.starts_with('(')
        {
            continue;
        }
        let key = path_key(&path);
        let mut retained: Vec<f64> = earlier.iter().map(|d| d.by_path.get(&key).copied().unwrap_or(0.0)).collect();
        retained.push(last.retained[n as usize]);
        let grows = retained.windows(2).all(|w| w[1] >= w[0]);
        if !grows || retained[retained.len() - 1] - retained[0] < options.min_growth {
            continue;
        }
        candidates.push(Candidate { node: n, path, key, retained });
    }
    let growth = |c: &Candidate| c.retained[c.retained.len() - 1] - c.retained[0];
    // The deepest paths that explain the growth: drop a candidate when the
    // candidates right below it (a cache and a listener list in one scope,
    // say) account for most of its growth. BFS paths form a tree, so a
    // candidate's nearest candidate ancestor is its longest candidate prefix.
    let index: HashMap<&str, usize> = candidates.iter().enumerate().map(|(i, c)| (c.key.as_str(), i)).collect();
    let mut below = vec![0.0f64; candidates.len()];
    for c in &candidates {
        let parent = (1..c.path.len()).rev().find_map(|k| index.get(path_key(&c.path[..k]).as_str()).copied());
        if let Some(p) = parent {
            below[p] += growth(c);
        }
    }
    let mut kept: Vec<&Candidate> =
        candidates.iter().zip(below).filter(|(c, below)| *below < 0.8 * growth(c)).map(|(c, _)| c).collect();
    kept.sort_by(|a, b| growth(b).total_cmp(&growth(a)).then(a.node.cmp(&b.node)));
    if kept.is_empty() {
        return Vec::new();
    }
    let dominated = last.dominated();
    let target = earlier.get(1).copied();
    kept.into_iter()
        .filter_map(|c| {
            let held = Held::tally(last, &dominated, c.node, baseline, target);
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
                held: held.classes,
            })
        })
        .take(options.limit)
        .collect()
}

/// New objects in a node's dominator subtree, by class.
struct Held {
    new_objects: u64,
    new_size: f64,
    leaked_objects: u64,
    classes: Vec<HeldClass>,
}

impl Held {
    fn tally(
        last: &Analysis,
        (first, dominated): &(Vec<u32>, Vec<u32>),
        node: u32,
        baseline: &Digest,
        target: Option<&Digest>,
    ) -> Held {
        let g = last.graph;
        let mut by_class: HashMap<&str, (u64, f64)> = HashMap::new();
        let (mut new_objects, mut new_size, mut leaked_objects) = (0u64, 0.0f64, 0u64);
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            let id = g.node_id(n);
            let size = last.self_sizes[n as usize] as f64;
            if !baseline.contains(id) && size > 0.0 && !last.is_synthetic(n) {
                new_objects += 1;
                new_size += size;
                if target.is_some_and(|t| t.contains(id)) {
                    leaked_objects += 1;
                }
                let e = by_class.entry(last.class_name(n)).or_default();
                e.0 += 1;
                e.1 += size;
            }
            stack.extend_from_slice(&dominated[first[n as usize] as usize..first[n as usize + 1] as usize]);
        }
        let mut classes: Vec<HeldClass> = by_class
            .into_iter()
            .map(|(name, (count, size))| HeldClass { name: name.to_string(), count, size })
            .collect();
        classes.sort_by(|a, b| b.size.total_cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
        classes.truncate(8);
        Held { new_objects, new_size, leaked_objects, classes }
    }
}
