//! Leak detection, JS side: digests of earlier snapshots kept as opaque
//! handles, class diffs and leak suspects as plain objects. Heavy work runs
//! on pool threads (files) or on the thread that reads V8's chunk stream.

use std::sync::Arc;

use heapscope_core::profile::Site;
use heapscope_core::snapshot::analysis::{Analysis, Census};
use heapscope_core::snapshot::leaks::{
    self, ClassDiff, Comparing, Digest, Floor, HeldClass, LeakOptions, NewGroup, SampledGrowth, Suspect, TwoProcesses,
};
use heapscope_core::snapshot::Graph;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use heapscope_core::priority::{on_analysis_thread, Priority, Threads};

use crate::pool::{on_pool, PoolWork};

use super::{priority_option, site_row, step, threads_option, AllocationSite, AnalyzeFailure, RetainerStep};

/// What an earlier snapshot leaves for later comparisons (ids, classes, sizes
/// and its largest objects by path), without its graph.
#[napi]
pub struct SnapshotDigest {
    pub(crate) inner: Arc<Digest>,
    /// V8's sampling heap profile right after the snapshot, when the mark
    /// asked for it and the profiler was sampling.
    pub(crate) profile: Option<Arc<Vec<Site>>>,
}

#[napi]
impl SnapshotDigest {
    #[napi(getter)]
    pub fn node_count(&self) -> f64 {
        self.inner.node_count() as f64
    }

    #[napi(getter)]
    pub fn total_size(&self) -> f64 {
        self.inner.total_size
    }
}

/// A Comparison-view row: objects added and removed in one class.
#[napi(object, js_name = "ClassDiff")]
pub struct ClassDiffRow {
    /// DevTools' class key: the name, split by constructor location.
    pub key: String,
    pub name: String,
    pub added_count: f64,
    pub removed_count: f64,
    pub count_delta: f64,
    pub added_size: f64,
    pub removed_size: f64,
    pub size_delta: f64,
}

fn diff_row(r: ClassDiff) -> ClassDiffRow {
    ClassDiffRow {
        count_delta: r.added_count as f64 - r.removed_count as f64,
        size_delta: r.added_size - r.removed_size,
        key: r.key,
        name: r.name,
        added_count: r.added_count as f64,
        removed_count: r.removed_count as f64,
        added_size: r.added_size,
        removed_size: r.removed_size,
    }
}

/// New objects of one class that a suspect or group holds.
#[napi(object, js_name = "HeldClass")]
pub struct HeldClassRow {
    pub name: String,
    pub count: f64,
    pub size: f64,
}

/// An object whose retained size grew, and the path that holds it.
#[napi(object)]
pub struct LeakSuspect {
    /// From a GC root down to the object that holds the growth.
    pub path: Vec<RetainerStep>,
    /// The path as people read it: `global → chocolate (ChocolateClass) → sugar (Array)`.
    pub path_text: String,
    /// The holder's snapshot id (`@123` in DevTools).
    pub id: u32,
    pub class_name: String,
    /// Retained size at this path in each snapshot compared, oldest first.
    pub retained: Vec<f64>,
    pub growth: f64,
    /// Of the steps between snapshots, how many it grew in (a leak grows at
    /// every step; what grew once ranks below).
    pub steps_grown: u32,
    /// Objects it retains that are new since the baseline.
    pub new_objects: f64,
    pub new_size: f64,
    /// Of those, the ones already there at the target (memlab's leak set:
    /// suspects rank by its size; what came after the target may be work in
    /// flight). 0 with two snapshots.
    pub leaked_objects: f64,
    pub leaked_size: f64,
    pub classes: Vec<HeldClassRow>,
    /// The largest groups of new objects it holds, by where they hang (up to 3).
    pub through: Vec<NewObjectGroup>,
    /// Where its new objects were allocated, most bytes first (up to 5):
    /// when the last snapshot has allocation traces (a session with
    /// `allocationSites: 'tracking'`, or a file taken while tracking), or
    /// from V8's sampling heap profiler (`allocationSites: 'sampling'`).
    pub allocation_sites: Vec<AllocationSite>,
}

fn suspect(s: Suspect) -> LeakSuspect {
    LeakSuspect {
        path_text: leaks::path_text(&s.path),
        path: s.path.into_iter().map(step).collect(),
        id: s.node_id.0,
        class_name: s.class_name,
        retained: s.retained,
        growth: s.growth,
        steps_grown: s.steps_grown as u32,
        new_objects: s.new_objects as f64,
        new_size: s.new_size,
        leaked_objects: s.leaked_objects as f64,
        leaked_size: s.leaked_size,
        classes: held_rows(s.held),
        through: s.through.into_iter().map(new_group).collect(),
        allocation_sites: s.allocation_sites.into_iter().map(site_row).collect(),
    }
}

/// New objects hanging from one place: grouped by the retainer path of the
/// outermost new object above them in the dominator tree, element indexes
/// ignored (the entries pushed into one array are one group).
#[napi(object)]
pub struct NewObjectGroup {
    /// The path of the group's largest outermost new object.
    pub path: Vec<RetainerStep>,
    pub path_text: String,
    /// Outermost new objects in the group (entries of one array, say).
    pub roots: f64,
    pub objects: f64,
    pub size: f64,
    pub classes: Vec<HeldClassRow>,
    /// When the group's largest outermost new object is a closure: the
    /// variables it captures, largest retained size first (up to 3).
    pub captured: Vec<CapturedVariable>,
}

/// A variable of a closure's context.
#[napi(object)]
pub struct CapturedVariable {
    pub name: String,
    pub retained_size: f64,
}

fn held_rows(held: Vec<HeldClass>) -> Vec<HeldClassRow> {
    held.into_iter().map(|h| HeldClassRow { name: h.name, count: h.count as f64, size: h.size }).collect()
}

fn new_group(g: NewGroup) -> NewObjectGroup {
    NewObjectGroup {
        path_text: leaks::path_text(&g.path),
        path: g.path.into_iter().map(step).collect(),
        roots: g.roots as f64,
        objects: g.objects as f64,
        size: g.size,
        classes: held_rows(g.held),
        captured: g
            .captured
            .into_iter()
            .map(|(name, retained_size)| CapturedVariable { name, retained_size })
            .collect(),
    }
}

/// How many groups of new objects a diff or report lists.
const NEW_GROUPS: usize = 20;

/// Two snapshots of one process compared.
#[napi(object)]
pub struct SnapshotDiff {
    /// Objects added and removed per class, exactly as DevTools' Comparison view.
    pub classes: Vec<ClassDiffRow>,
    /// New objects still alive, largest group first.
    pub new_objects: Vec<NewObjectGroup>,
    /// DevTools' total of each snapshot.
    pub total_sizes: Vec<f64>,
}

#[napi(object)]
pub struct LeakOptionsJs {
    pub min_growth: Option<f64>,
    pub limit: Option<u32>,
    /// Compare files even when their ids say they are of two processes.
    pub force: Option<bool>,
    /// Most threads the comparison keeps busy at once (as `AnalyzeOptions`').
    pub threads: Option<u32>,
    /// As `AnalyzeOptions`' (files only: a live snapshot's analysis is always idle).
    pub priority: Option<String>,
}

pub(crate) fn leak_options(o: &LeakOptionsJs) -> LeakOptions {
    let d = LeakOptions::default();
    LeakOptions { min_growth: o.min_growth, limit: o.limit.map_or(d.limit, |l| l as usize) }
}

/// What grew from the baseline to the last snapshot, and what holds it.
#[napi(object)]
pub struct LeakReport {
    pub suspects: Vec<LeakSuspect>,
    /// Classes compared between the baseline and the last snapshot.
    pub diff: Vec<ClassDiffRow>,
    /// New objects since the baseline still alive at the end, by where they hang.
    pub new_objects: Vec<NewObjectGroup>,
    /// DevTools' total of each snapshot, oldest first.
    pub total_sizes: Vec<f64>,
    /// The least growth a suspect needed, in bytes (the `minGrowth` used;
    /// 0 with `smallLeaks`).
    pub min_growth: f64,
    /// No `minGrowth` was given and nothing grew by the default 64 KiB: the
    /// suspects grew by less, but at every step, and hold objects of the
    /// leak set.
    pub small_leaks: bool,
}

/// A result or the error that stopped it (file path and byte offset in the message).
#[napi(object, object_from_js = false)]
pub struct LeakOutcome {
    pub report: Option<LeakReport>,
    pub diff: Option<SnapshotDiff>,
    pub digest: Option<SnapshotDigest>,
    pub error: Option<AnalyzeFailure>,
}

impl LeakOutcome {
    fn ok() -> LeakOutcome {
        LeakOutcome { report: None, diff: None, digest: None, error: None }
    }

    pub(crate) fn failed(error: AnalyzeFailure) -> LeakOutcome {
        LeakOutcome { error: Some(error), ..LeakOutcome::ok() }
    }
}

/// Reads a snapshot file; a failure names the file.
fn open_file(path: &str, threads: Threads) -> std::result::Result<Graph, AnalyzeFailure> {
    Graph::open_with(path.as_ref(), threads, &mut |_| {}).map_err(|e| AnalyzeFailure::parse(&e, path))
}

/// A core report as JS objects.
fn report_object(r: leaks::Report) -> LeakReport {
    LeakReport {
        suspects: r.suspects.into_iter().map(suspect).collect(),
        diff: r.diff.into_iter().map(diff_row).collect(),
        new_objects: r.new_objects.into_iter().take(NEW_GROUPS).map(new_group).collect(),
        total_sizes: r.total_sizes,
        min_growth: r.floor.bytes(),
        small_leaks: r.floor == Floor::Small,
    }
}

fn diff_object(d: leaks::SnapshotDiff) -> SnapshotDiff {
    SnapshotDiff {
        classes: d.classes.into_iter().map(diff_row).collect(),
        new_objects: d.new_objects.into_iter().map(new_group).collect(),
        total_sizes: d.total_sizes,
    }
}

fn guarded(work: impl FnOnce() -> LeakOutcome) -> LeakOutcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| LeakOutcome::failed(AnalyzeFailure::internal("comparing snapshots")))
}

/// Files to compare: digests of the earlier ones, then the last analysed in full.
struct FileComparison {
    files: Vec<String>,
    options: LeakOptions,
    /// Only the class diff of two files.
    diff_only: bool,
    /// Compare even when the ids say the files are of two processes.
    force: bool,
    threads: Threads,
    priority: Priority,
}

impl FileComparison {
    /// On a thread of its own at its priority, not the pool thread itself.
    fn run_on_own_thread(self) -> LeakOutcome {
        on_analysis_thread("heapscope-compare", self.priority, move || self.run())
            .unwrap_or_else(|e| LeakOutcome::failed(AnalyzeFailure::no_thread(&e)))
    }

    fn run(self) -> LeakOutcome {
        guarded(|| {
            // One file after another: each reuses the pages the one before
            // freed instead of faulting in fresh ones.
            let _reuse = heapscope_core::allocator::KeepFreedPages::new();
            let (last, earlier) = self.files.split_last().expect("at least two files");
            let how = Comparing { force: self.force, threads: self.threads };
            let not_one_process = |e: TwoProcesses| {
                let later = e.later.map_or(last, |at| &earlier[at]);
                LeakOutcome::failed(AnalyzeFailure::two_processes(&earlier[e.earlier], later, e.agreement))
            };
            let mut digests = Vec::new();
            for path in earlier {
                let graph = match open_file(path, self.threads) {
                    Ok(graph) => graph,
                    Err(failure) => return LeakOutcome::failed(failure),
                };
                // A diff needs the classes only; leaks, the dominator tree too.
                if self.diff_only {
                    digests.push(Digest::for_diff(&Census::run_with(&graph, None, self.threads)));
                    continue;
                }
                let analysis = Analysis::run_with(&graph, None, self.threads, &mut |_| {});
                if let Err(e) = leaks::add_earlier(&mut digests, &analysis, how) {
                    return not_one_process(e);
                }
            }
            let refs: Vec<&Digest> = digests.iter().collect();
            let graph = match open_file(last, self.threads) {
                Ok(graph) => graph,
                Err(failure) => return LeakOutcome::failed(failure),
            };
            if self.diff_only {
                return match leaks::snapshot_diff(refs[0], &graph, NEW_GROUPS, how, &mut |_| {}) {
                    Ok(d) => LeakOutcome { diff: Some(diff_object(d)), ..LeakOutcome::ok() },
                    Err(e) => not_one_process(e),
                };
            }
            match leaks::report(&refs, &graph, self.options, how, None, &mut |_| {}) {
                Ok(r) => LeakOutcome { report: Some(report_object(r)), ..LeakOutcome::ok() },
                Err(e) => not_one_process(e),
            }
        })
    }
}

/// `diff(before, after)` of two files of one process (`force`: even if they
/// seem to be of two; `threads`: as analyzeFile's).
#[napi(catch_unwind, ts_return_type = "Promise<LeakOutcome>")]
pub fn diff_files(
    before: String,
    after: String,
    force: bool,
    threads: Option<u32>,
    priority: Option<String>,
) -> AsyncTask<PoolWork<LeakOutcome>> {
    let comparison = FileComparison {
        files: vec![before, after],
        options: LeakOptions::default(),
        diff_only: true,
        force,
        threads: threads_option(threads),
        priority: priority_option(priority.as_deref()),
    };
    on_pool(move || comparison.run_on_own_thread())
}

/// Most snapshots one leak report compares (while the last is analysed, each
/// earlier one is kept as a digest: about 13 bytes a node for the baseline
/// and a session's marks, 5 for the later files).
pub const MAX_SNAPSHOTS: usize = 64;

/// `findLeaks()` of 2 to [`MAX_SNAPSHOTS`] files of one process, oldest
/// first: the baseline, then the target and any later steps, the final last.
#[napi(catch_unwind, ts_return_type = "Promise<LeakOutcome>")]
pub fn find_leaks_in_files(files: Vec<String>, options: LeakOptionsJs) -> Result<AsyncTask<PoolWork<LeakOutcome>>> {
    if !(2..=MAX_SNAPSHOTS).contains(&files.len()) {
        return Err(Error::new(Status::InvalidArg, format!("from 2 to {MAX_SNAPSHOTS} snapshot files")));
    }
    let force = options.force.unwrap_or(false);
    let threads = threads_option(options.threads);
    let priority = priority_option(options.priority.as_deref());
    let comparison =
        FileComparison { files, options: leak_options(&options), diff_only: false, force, threads, priority };
    Ok(on_pool(move || comparison.run_on_own_thread()))
}

/// Class diff of two digests (of one process); quick, on the calling thread.
#[napi]
pub fn diff_digests(before: &SnapshotDigest, after: &SnapshotDigest) -> Vec<ClassDiffRow> {
    leaks::diff(&before.inner, after.inner.as_ref()).into_iter().map(diff_row).collect()
}

/// Work for the thread that reads a live snapshot: a digest or a leak report.
pub(crate) enum StreamJob {
    Digest,
    /// `baseline_profile`: the baseline mark's sampling profile, if it kept one.
    Leaks {
        earlier: Vec<Arc<Digest>>,
        baseline_profile: Option<Arc<Vec<Site>>>,
        options: LeakOptions,
    },
}

/// The sampling profile taken on the JS thread once V8 has serialized the
/// snapshot: `None` when not asked for, not sampling, or the capture failed.
pub(crate) type ProfileAfter = crossbeam_channel::Receiver<Option<Vec<Site>>>;

pub(crate) fn run_stream_job(
    job: StreamJob,
    reader: impl std::io::Read,
    threads: Threads,
    profile: ProfileAfter,
) -> LeakOutcome {
    guarded(|| {
        let graph = match Graph::read_with(reader, threads, &mut |_| {}) {
            Ok(g) => g,
            Err(e) => return LeakOutcome::failed(AnalyzeFailure::parse(&e, "")),
        };
        match job {
            StreamJob::Digest => {
                let analysis = Analysis::run_with(&graph, None, threads, &mut |_| {});
                let inner = Arc::new(Digest::of(&analysis));
                let profile = profile.recv().ok().flatten().map(Arc::new);
                LeakOutcome { digest: Some(SnapshotDigest { inner, profile }), ..LeakOutcome::ok() }
            }
            StreamJob::Leaks { earlier, baseline_profile, options } => {
                // The digests are of marks taken in this process.
                let refs: Vec<&Digest> = earlier.iter().map(|d| d.as_ref()).collect();
                let how = Comparing { force: true, threads };
                // Sampling that began after the baseline snapshot: all it saw is new.
                let sampled = profile
                    .recv()
                    .ok()
                    .flatten()
                    .map(|after| SampledGrowth::between(baseline_profile.as_deref().map_or(&[], |p| p), &after));
                match leaks::report(&refs, &graph, options, how, sampled.as_ref(), &mut |_| {}) {
                    Ok(r) => LeakOutcome { report: Some(report_object(r)), ..LeakOutcome::ok() },
                    Err(_) => LeakOutcome::failed(AnalyzeFailure::internal("comparing snapshots")),
                }
            }
        }
    })
}
