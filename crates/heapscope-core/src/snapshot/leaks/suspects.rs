//! Leak suspects: objects whose retained size grew, named by the retainer
//! path that holds them.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use super::sampled::{SampledGrowth, SizeCounts};
use super::{path_key, Ages, Digest, NewGroup, FOLLOWED};
use crate::snapshot::analysis::{is_index_label, Analysis, DominatorTree, PathStep};
use crate::snapshot::traces::{AllocationSite, SiteTally};
use crate::snapshot::NodeId;

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
    /// Its ordinal in the last snapshot.
    pub node: u32,
    pub node_id: NodeId,
    pub class_name: String,
    /// Retained size at the same path (or, failing that, of the same object)
    /// in each earlier snapshot (0 when neither was there), then in the last.
    pub retained: Vec<f64>,
    /// Last minus first.
    pub growth: f64,
    /// Of the steps between snapshots, how many it grew in (see [`Trend`]).
    pub steps_grown: usize,
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
    /// The stacks that allocated the new objects it holds, most bytes first
    /// (when the last snapshot has allocation traces).
    pub allocation_sites: Vec<AllocationSite>,
}

/// Allocation sites listed under each suspect.
const SITES: usize = 5;

/// Groups of new objects listed under each suspect.
const THROUGH: usize = 3;

/// What counts as a suspect.
#[derive(Debug, Clone, Copy)]
pub struct LeakOptions {
    /// Least growth of retained size, in bytes. `None`: [`DEFAULT_FLOOR`],
    /// or when nothing grew that much, any growth at every step that holds
    /// objects of the leak set ([`Floor::Small`]).
    pub min_growth: Option<f64>,
    /// Most suspects returned.
    pub limit: usize,
}

impl Default for LeakOptions {
    fn default() -> LeakOptions {
        LeakOptions { min_growth: None, limit: 10 }
    }
}

/// The growth a suspect needs by default.
pub const DEFAULT_FLOOR: f64 = 64.0 * 1024.0;

/// The floor suspects were found at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Floor {
    /// `min_growth` as given, or [`DEFAULT_FLOOR`].
    Given(f64),
    /// Nothing grew by [`DEFAULT_FLOOR`]: these grew by less, but at every
    /// step, and hold objects of the leak set (a dozen small objects a
    /// request is a leak too).
    Small,
}

impl Floor {
    pub fn bytes(self) -> f64 {
        match self {
            Floor::Given(bytes) => bytes,
            Floor::Small => 0.0,
        }
    }
}

/// Suspects, and the floor they were found at.
#[derive(Debug, Clone)]
pub struct Findings {
    pub suspects: Vec<Suspect>,
    pub floor: Floor,
}

/// How many groups of new objects a comparison keeps (largest first): the
/// ones listed under suspects are among them.
pub const GROUPS: usize = 200;

/// How a retained size moved across the snapshots, oldest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    pub growth: f64,
    /// Steps it grew in: by more than a tenth of its largest step (noise in
    /// a full structure is not growth).
    pub steps_grown: usize,
    pub steps: usize,
    /// Never smaller than the snapshot before.
    pub never_shrinks: bool,
    /// Grew in the last step: a structure that grew and then stayed flat (a
    /// cache that warmed up, a bounded LRU that filled) has stopped growing.
    pub grows_at_end: bool,
}

impl Trend {
    pub fn of(retained: &[f64]) -> Trend {
        let steps: Vec<f64> = retained.windows(2).map(|w| w[1] - w[0]).collect();
        let largest = steps.iter().copied().fold(0.0f64, f64::max);
        let grew = |d: f64| d > 0.0 && d > 0.1 * largest;
        Trend {
            growth: retained.last().copied().unwrap_or(0.0) - retained.first().copied().unwrap_or(0.0),
            steps_grown: steps.iter().filter(|&&d| grew(d)).count(),
            steps: steps.len(),
            never_shrinks: steps.iter().all(|&d| d >= 0.0),
            grows_at_end: steps.last().is_some_and(|&d| grew(d)),
        }
    }

    /// Whether it is growth a suspect needs, at `floor`.
    fn qualifies(&self, floor: Floor) -> bool {
        self.never_shrinks
            && self.grows_at_end
            && match floor {
                Floor::Given(bytes) => self.growth >= bytes && self.growth > 0.0,
                Floor::Small => self.growth > 0.0 && self.steps_grown == self.steps,
            }
    }
}

/// A retained size followed across snapshots: at its path in each earlier
/// one (a holder replaced by larger copies keeps its path), else by its id.
fn retained_series(earlier: &[&Digest], key: &str, id: NodeId, now: f64) -> Vec<f64> {
    let mut retained: Vec<f64> =
        earlier.iter().map(|d| d.retained_by_path(key).or_else(|| d.retained_by_id(id)).unwrap_or(0.0)).collect();
    retained.push(now);
    retained
}

/// Leak suspects in `last`, given the digests of earlier snapshots of the
/// same process (`earlier[0]` is the baseline; with more than one, the last
/// of them is the target: what was new since the baseline and there already
/// is memlab's leak set) and its dominator tree ([`Analysis::dominated`]);
/// what each holds of the groups of new objects is added by [`through`].
pub fn suspects(
    earlier: &[&Digest],
    last: &Analysis,
    dominated: &DominatorTree,
    ages: &Ages,
    options: LeakOptions,
    sampled: Option<&SampledGrowth>,
) -> Findings {
    let floor = Floor::Given(options.min_growth.unwrap_or(DEFAULT_FLOOR));
    if earlier.is_empty() {
        return Findings { suspects: Vec::new(), floor };
    }
    let order = preorder(last, dominated);
    let holders = holders_of_leaked(last, &order, ages);
    let leak_set = ages.has_target().then(|| leak_set_retained(last, &order, ages));
    drop(order);
    let sampled = sampled.filter(|s| !s.is_empty());
    let study = Study { earlier, last, dominated, ages, leak_set, limit: options.limit, sampled };
    let found = study.at(floor, &holders);
    if !found.is_empty() || options.min_growth.is_some() {
        return Findings { suspects: found, floor };
    }
    Findings { suspects: study.at(Floor::Small, &holders), floor: Floor::Small }
}

/// What [`suspects`] reads, for one floor or another.
struct Study<'a, 'g> {
    earlier: &'a [&'a Digest],
    last: &'a Analysis<'g>,
    dominated: &'a DominatorTree,
    ages: &'a Ages,
    /// By node, the bytes of the leak set it retains (with a target; as
    /// `f32`, for ranking only).
    leak_set: Option<Vec<f32>>,
    limit: usize,
    /// Sites of the sampling heap profiler, when the last snapshot has no
    /// allocation traces of its own.
    sampled: Option<&'a SampledGrowth>,
}

/// An object followed across the snapshots.
struct Candidate {
    node: u32,
    path: Vec<PathStep>,
    key: String,
    retained: Vec<f64>,
    trend: Trend,
}

impl Study<'_, '_> {
    fn at(&self, floor: Floor, holders: &[u32]) -> Vec<Suspect> {
        let candidates = self.candidates(floor, holders);
        let kept = explaining(&candidates);
        self.rank(floor, kept)
    }

    /// The largest objects, and the objects that leaked ones hang from,
    /// whose retained size grew as `floor` asks.
    fn candidates(&self, floor: Floor, holders: &[u32]) -> Vec<Candidate> {
        let last = self.last;
        let g = last.graph;
        let mut seen = vec![false; g.node_count];
        let mut candidates = Vec::new();
        let consider = |n: u32, seen: &mut [bool], candidates: &mut Vec<Candidate>| {
            if std::mem::replace(&mut seen[n as usize], true) {
                return;
            }
            let path = last.path(n);
            // Name the object a program can see: an edge into V8's internals
            // (a backing store, a Map's table) folds into its owner, which is
            // followed in its own right.
            let Some(step) = path.last() else { return };
            if !step.edge_kind.is_named_by_program() || step.class_name.starts_with('(') {
                return;
            }
            let key = path_key(&path);
            let retained = retained_series(self.earlier, &key, g.node_id(n), last.retained[n as usize]);
            let trend = Trend::of(&retained);
            if trend.qualifies(floor) {
                candidates.push(Candidate { node: n, path, key, retained, trend });
            }
        };
        for n in last.largest(FOLLOWED) {
            consider(n, &mut seen, &mut candidates);
        }
        // Small holders, by id first: a path walk only for those that grew.
        let mut grown: Vec<(u32, f64)> = holders
            .iter()
            .filter(|&&n| !seen[n as usize])
            .filter_map(|&n| {
                let now = last.retained[n as usize];
                let retained = retained_series(self.earlier, "", g.node_id(n), now);
                let trend = Trend::of(&retained);
                trend.qualifies(floor).then_some((n, trend.growth))
            })
            .collect();
        grown.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (n, _) in grown.into_iter().take(FOLLOWED) {
            consider(n, &mut seen, &mut candidates);
        }
        candidates
    }

    /// Ranked, with what each holds; those that hold nothing new dropped.
    fn rank(&self, floor: Floor, mut kept: Vec<&Candidate>) -> Vec<Suspect> {
        let last = self.last;
        let g = last.graph;
        // With a target, memlab's leak set ranks: what was allocated after the
        // target may be a request in flight, not evidence of a leak. Growth at
        // more steps ranks first (a leak grows at every step; a burst once),
        // then the leak set, then growth.
        let leaked = |c: &Candidate| self.leak_set.as_ref().map_or(0.0, |sizes| f64::from(sizes[c.node as usize]));
        kept.sort_by(|a, b| {
            b.trend
                .steps_grown
                .cmp(&a.trend.steps_grown)
                .then(leaked(b).total_cmp(&leaked(a)))
                .then(b.trend.growth.total_cmp(&a.trend.growth))
                .then(a.node.cmp(&b.node))
        });
        kept.into_iter()
            .filter_map(|c| {
                let sampled = self.sampled.filter(|_| g.traces.is_none());
                let held = Held::tally(last, self.dominated, c.node, self.ages, sampled.is_some());
                // Growth that holds nothing new (a cache of V8's resizing) is not a leak.
                if held.new_objects == 0 || held.new_size < 0.25 * c.trend.growth {
                    return None;
                }
                // Below the floor, only what holds memlab's leak set, and
                // data in it: not the code and feedback of functions that ran.
                if floor == Floor::Small && held.leaked_data == 0 {
                    return None;
                }
                Some(Suspect {
                    node: c.node,
                    node_id: g.node_id(c.node),
                    class_name: last.class_name(c.node).to_string(),
                    growth: c.trend.growth,
                    steps_grown: c.trend.steps_grown,
                    retained: c.retained.clone(),
                    path: c.path.clone(),
                    new_objects: held.new_objects,
                    new_size: held.new_size,
                    leaked_objects: held.leaked_objects,
                    leaked_size: held.leaked_size,
                    held: held.classes,
                    through: Vec::new(),
                    allocation_sites: match (sampled, &held.sizes) {
                        (Some(sampled), Some(sizes)) => sampled.sites_for(sizes, SITES),
                        _ => held.sites.sites(g, SITES),
                    },
                })
            })
            .take(self.limit)
            .collect()
    }
}

/// Fills in each suspect's largest groups of new objects (`groups`, as
/// [`super::new_objects_by_path`] made them, largest first): those whose
/// top object it dominates.
pub fn through(found: &mut [Suspect], last: &Analysis, groups: &[NewGroup]) {
    let g = last.graph;
    let holds = |holder: u32, mut n: u32| loop {
        if n == holder {
            return true;
        }
        if n == g.root {
            return false;
        }
        n = last.dominator[n as usize];
    };
    for suspect in found {
        suspect.through = groups.iter().filter(|grp| holds(suspect.node, grp.node)).take(THROUGH).cloned().collect();
    }
}

/// The deepest candidates that explain the growth, but a collection rather
/// than its entries. BFS paths form a tree, so a candidate's nearest
/// candidate ancestor is its longest candidate prefix. A candidate reached
/// from it through an index (`[7]`, a hash table's slot) is an entry of
/// that collection, or hangs from one: the collection is the holder, and its
/// entries are not suspects of their own (40 responses pushed into one array
/// are one suspect, the array). Otherwise the candidates right below explain
/// their ancestor (a cache and a listener list in one scope, say) when they
/// account for most of its growth.
fn explaining(candidates: &[Candidate]) -> Vec<&Candidate> {
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
            below[p] += c.trend.growth;
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
        kept_at[i] = !held_by[i] && below[i] < 0.8 * candidates[i].trend.growth;
    }
    candidates.iter().zip(kept_at).filter(|(_, kept)| *kept).map(|(c, _)| c).collect()
}

/// Nodes in the dominator tree's preorder from the root.
/// The dominator tree's nodes, each before those it dominates.
fn preorder(last: &Analysis, tree: &DominatorTree) -> Vec<u32> {
    let mut order = Vec::with_capacity(last.graph.node_count);
    let mut stack = vec![last.graph.root];
    while let Some(n) = stack.pop() {
        order.push(n);
        stack.extend_from_slice(tree.children(n));
    }
    order
}

/// What the objects of the leak set (new since the baseline and, given a
/// target, there already) hang from: for each, the nearest object above it
/// in the dominator tree that is older than the baseline and that a program
/// can name (not V8's internals: a backing store folds into its array).
/// Every leaked object counts here, however small, so that a dozen small
/// objects in a global array name that array.
fn holders_of_leaked(last: &Analysis, preorder: &[u32], ages: &Ages) -> Vec<u32> {
    const NONE: u32 = u32::MAX;
    let g = last.graph;
    let mut anchor = vec![NONE; g.node_count];
    let mut holder = vec![false; g.node_count];
    for &n in preorder {
        let up = if n == g.root { NONE } else { anchor[last.dominator[n as usize] as usize] };
        let old = !ages.is_new(n);
        let internal = last.is_synthetic(n) || {
            let class = last.class_name(n);
            class.starts_with('(') || class.starts_with("system /")
        };
        anchor[n as usize] = if n != g.root && old && !internal { n } else { up };
        let leaked = ages.is_leaked(n) && is_program_data(last, n);
        if leaked && up != NONE {
            holder[up as usize] = true;
        }
    }
    (0..g.node_count as u32).filter(|&n| holder[n as usize]).collect()
}

/// By node: the bytes of memlab's leak set it retains (objects new since the
/// baseline and already there at the target, by V8's own sizes as
/// [`Held::tally`] counts them), summed up the dominator tree in one pass.
fn leak_set_retained(last: &Analysis, preorder: &[u32], ages: &Ages) -> Vec<f32> {
    let g = last.graph;
    let mut sizes = vec![0.0f32; g.node_count];
    for &n in preorder.iter().rev() {
        if !last.is_synthetic(n) && ages.is_leaked(n) {
            sizes[n as usize] += g.self_size(n) as f32;
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
    /// Of the leaked objects (the new ones without a target), those that are
    /// a program's data ([`is_program_data`]).
    leaked_data: u64,
    classes: Vec<HeldClass>,
    /// The new objects by the stack that allocated them.
    sites: SiteTally,
    /// The new objects by size, when asked for (to match sampled sites).
    sizes: Option<SizeCounts>,
}

/// Whether a node is data a program made (objects, strings, closures, …),
/// not V8's own: compiled code, feedback, hidden classes, backing stores.
/// Functions that run between snapshots get code and feedback at every
/// step: growth, at every step, that is no leak.
fn is_program_data(last: &Analysis, n: u32) -> bool {
    let g = last.graph;
    match g.layout.node_types.get(g.node_type(n) as usize).map(String::as_str) {
        Some("code" | "hidden" | "array" | "synthetic" | "object shape") | None => false,
        Some("object") => !g.node_name(n).starts_with("system /"),
        Some(_) => true,
    }
}

impl Held {
    fn tally(last: &Analysis, tree: &DominatorTree, node: u32, ages: &Ages, by_size: bool) -> Held {
        let g = last.graph;
        // By class id (Fx: ids this analysis gave), named once at the end.
        let mut by_class: FxHashMap<u32, (u64, f64)> = FxHashMap::default();
        let (mut new_objects, mut new_size, mut leaked_objects, mut leaked_size) = (0u64, 0.0f64, 0u64, 0.0f64);
        let mut leaked_data = 0u64;
        let mut sites = SiteTally::default();
        let mut sizes = by_size.then(SizeCounts::new);
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            // V8's own size: a Map's new, larger table counts as new even
            // though DevTools moves its size into the (old) Map.
            let size = g.self_size(n) as f64;
            if ages.is_new(n) && size > 0.0 && !last.is_synthetic(n) {
                new_objects += 1;
                new_size += size;
                let leaked = ages.is_leaked(n);
                if ages.has_target() && leaked {
                    leaked_objects += 1;
                    leaked_size += size;
                }
                if leaked && is_program_data(last, n) {
                    leaked_data += 1;
                }
                sites.add(g.trace_node(n), size);
                if let Some(sizes) = &mut sizes {
                    *sizes.entry(g.self_size(n) as u64).or_default() += 1;
                }
                let e = by_class.entry(last.class_id(n)).or_default();
                e.0 += 1;
                e.1 += size;
            }
            stack.extend_from_slice(tree.children(n));
        }
        // Two ids of one name (a string twice in the table) are one class.
        let mut by_name: HashMap<&str, (u64, f64)> = HashMap::new();
        for (class, (count, size)) in by_class {
            let e = by_name.entry(last.class_name_of_id(class)).or_default();
            e.0 += count;
            e.1 += size;
        }
        let mut classes: Vec<HeldClass> = by_name
            .into_iter()
            .map(|(name, (count, size))| HeldClass { name: name.to_string(), count, size })
            .collect();
        classes.sort_by(|a, b| b.size.total_cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
        classes.truncate(8);
        Held { new_objects, new_size, leaked_objects, leaked_size, leaked_data, classes, sites, sizes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::priority::Threads;
    use crate::snapshot::analysis::Analysis;
    use crate::snapshot::leaks::{report, Comparing};
    use crate::snapshot::test_graph::TestGraph;
    use crate::snapshot::Graph;

    /// A holder in one snapshot: reached from the root by the property `via`,
    /// of class `class` (its id derived from it, as one object keeps its id
    /// in one process), holding `entries` objects of `entry_size` bytes.
    struct Holding<'a> {
        via: &'a str,
        class: &'a str,
        entries: u32,
        entry_size: u32,
        /// The entries' node type: "object" for a program's data.
        kind: &'static str,
    }

    /// One process's heap at some moment: the holdings, each holder's
    /// entries keeping their ids from one snapshot to the next.
    fn heap(holdings: &[Holding]) -> Graph {
        let mut t = TestGraph::new();
        for (h, holding) in holdings.iter().enumerate() {
            let base = 1_000_001 + 1_000_000 * h as u32;
            let holder = t.node("object", holding.class, 32);
            t.id(holder, base).edge(0, "property", holding.via, holder);
            for i in 0..holding.entries {
                let entry = t.node(holding.kind, "Entry", holding.entry_size);
                t.id(entry, base + 2 + 2 * i).edge(holder, "element", &i.to_string(), entry);
            }
        }
        t.graph()
    }

    /// Suspects of the last heap against the earlier ones (the first the
    /// baseline), by class name, with the floor they were found at.
    fn suspects_of(heaps: &[Graph], min_growth: Option<f64>) -> (Vec<Suspect>, Floor) {
        let (last, earlier) = heaps.split_last().expect("heaps");
        let digests: Vec<Digest> = earlier.iter().map(|g| Digest::of(&Analysis::run(g, &mut |_| {}))).collect();
        let refs: Vec<&Digest> = digests.iter().collect();
        let how = Comparing { force: false, threads: Threads::ONE };
        let options = LeakOptions { min_growth, limit: 10 };
        let report = report(&refs, last, options, how, None, &mut |_| {}).expect("one process");
        (report.suspects, report.floor)
    }

    fn names(found: &[Suspect]) -> Vec<&str> {
        found.iter().map(|s| s.class_name.as_str()).collect()
    }

    #[test]
    fn a_holder_reached_another_way_in_one_snapshot_is_still_followed() {
        // V8 may reach an object from its stack roots in one snapshot and
        // from a context in the next: its path key changes, its id does not.
        let step =
            |via, entries| heap(&[Holding { via, class: "Holder", entries, entry_size: 10_000, kind: "object" }]);
        let (found, _) = suspects_of(&[step("bus", 10), step("other", 30), step("bus", 60)], None);
        assert_eq!(names(&found), ["Holder"]);
        assert_eq!(found[0].retained, [100_032.0, 300_032.0, 600_032.0]);
        assert_eq!(found[0].new_objects, 50);
        assert_eq!(found[0].steps_grown, 2);
    }

    #[test]
    fn a_trend_grows_at_the_end_or_has_stopped() {
        let t = Trend::of(&[10.0, 20.0, 30.0, 40.0]);
        assert_eq!((t.growth, t.steps_grown, t.steps, t.never_shrinks, t.grows_at_end), (30.0, 3, 3, true, true));
        // Warmed up, then flat: growth, but not at the end.
        let t = Trend::of(&[10.0, 60.0, 110.0, 110.0]);
        assert_eq!((t.steps_grown, t.grows_at_end), (2, false));
        // A full structure's noise is not growth.
        let t = Trend::of(&[0.0, 1000.0, 1020.0]);
        assert_eq!((t.steps_grown, t.grows_at_end), (1, false));
        assert!(!Trend::of(&[5.0, 4.0, 90.0]).never_shrinks);
    }

    #[test]
    fn a_few_small_objects_a_step_name_their_holder_when_nothing_larger_grew() {
        // More large stable objects than are followed by size: the small
        // holder is found through the objects that hang from it.
        let step = |jobs| {
            heap(&[
                Holding {
                    via: "table",
                    class: "Table",
                    entries: FOLLOWED as u32 + 50,
                    entry_size: 1000,
                    kind: "object",
                },
                Holding { via: "pendingJobs", class: "Jobs", entries: jobs, entry_size: 40, kind: "object" },
            ])
        };
        let heaps = [step(2), step(5), step(8)];
        let (found, floor) = suspects_of(&heaps, None);
        assert_eq!(floor, Floor::Small);
        assert_eq!(names(&found), ["Jobs"]);
        assert_eq!(found[0].retained, [112.0, 232.0, 352.0]);
        assert_eq!((found[0].new_objects, found[0].leaked_objects), (6, 3));
        // A floor given is the floor used.
        let (found, floor) = suspects_of(&heaps, Some(64.0 * 1024.0));
        assert_eq!((found.len(), floor), (0, Floor::Given(64.0 * 1024.0)));
        let (found, _) = suspects_of(&heaps, Some(0.0));
        assert_eq!(names(&found), ["Jobs"]);
    }

    #[test]
    fn code_that_grows_at_every_step_is_no_small_leak() {
        // Functions that run between snapshots get compiled code at every
        // step; below the default floor that is not a leak.
        let step =
            |entries| heap(&[Holding { via: "handler", class: "Handler", entries, entry_size: 40, kind: "code" }]);
        let (found, floor) = suspects_of(&[step(2), step(5), step(8)], None);
        assert_eq!((names(&found), floor), (vec![], Floor::Small));
    }

    #[test]
    fn what_grew_at_every_step_ranks_first_and_what_stopped_growing_is_no_suspect() {
        let step = |leak, cache, burst| {
            heap(&[
                Holding { via: "leak", class: "Leak", entries: leak, entry_size: 10_000, kind: "object" },
                Holding { via: "cache", class: "Cache", entries: cache, entry_size: 10_000, kind: "object" },
                Holding { via: "burst", class: "Burst", entries: burst, entry_size: 10_000, kind: "object" },
            ])
        };
        // Four snapshots: the leak grows at every step, the cache warms up and
        // stays full, the burst comes once, at the end, and is the largest.
        let heaps = [step(10, 10, 0), step(20, 50, 0), step(30, 90, 0), step(40, 90, 200)];
        let (found, floor) = suspects_of(&heaps, None);
        assert_eq!(floor, Floor::Given(DEFAULT_FLOOR));
        assert_eq!(names(&found), ["Leak", "Burst"]);
        assert_eq!(found[0].retained.len(), 4);
        assert_eq!((found[0].steps_grown, found[1].steps_grown), (3, 1));
        // Without the last snapshot the cache still grew: it was a suspect then.
        let (found, _) = suspects_of(&heaps[..3], None);
        assert_eq!(names(&found), ["Cache", "Leak"]);
    }
}
