//! Analysis stage, JS side: runs heapscope-core's snapshot analysis on a
//! libuv pool thread and returns plain objects. Nothing here touches V8.

pub mod explore;
pub mod leaks;
mod sites;

use std::path::PathBuf;

use heapscope_core::snapshot::analysis::{Analysis, ClassRow, ObjectRow, PathStep};
use heapscope_core::snapshot::explore::Heap;
use heapscope_core::snapshot::leaks::IdAgreement;
use heapscope_core::snapshot::{parse, Graph, ParseError, Place};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
pub(crate) use sites::{site_row, AllocationSite};

use heapscope_core::priority::{on_analysis_thread, Priority, Threads};

use crate::pool::{on_pool, PoolWork};

#[napi(object)]
pub struct AnalyzeOptions {
    /// Class rows to return (largest retained size first). Default 50.
    pub top_classes: Option<u32>,
    /// Objects to return with their retainer paths. Default 20.
    pub top_objects: Option<u32>,
    /// Most threads the analysis keeps busy at once. Default: what this
    /// process may use (its cores, CPU affinity and cgroup CPU quota).
    pub threads: Option<u32>,
    /// `"idle"` (default: only CPU time nobody else wants) or `"normal"`.
    pub priority: Option<String>,
    /// `snapshot({ analyze: true, keep: true })`: keep the analysed graph
    /// for queries (a heap handle) instead of freeing it after the Summary.
    pub keep: Option<bool>,
}

/// The `priority` option (checked by the JS side): idle unless `"normal"`.
pub(crate) fn priority_option(priority: Option<&str>) -> Priority {
    match priority {
        Some("normal") => Priority::Normal,
        _ => Priority::Idle,
    }
}

/// The `threads` option: the given count, else what the process may use.
pub(crate) fn threads_option(threads: Option<u32>) -> Threads {
    threads.and_then(|n| Threads::new(n as usize)).unwrap_or_else(Threads::available)
}

/// A Summary-view row, with Chrome DevTools' definitions.
#[napi(object)]
pub struct ClassSummary {
    pub name: String,
    /// DevTools' class key: `,Name`, or `scriptId,line,column,Name` for objects with a constructor location.
    pub key: String,
    /// Objects with a non-zero self size.
    pub count: f64,
    /// Bytes, after DevTools moves single-owner arrays' and hidden objects' sizes to their owner.
    pub self_size: f64,
    /// Bytes retained by the class's topmost members in the dominator tree.
    pub retained_size: f64,
    /// Shortest distance from a GC root (user roots first, as DevTools).
    pub distance: i32,
    /// When the snapshot has allocation traces (taken while allocation
    /// tracking ran): the stacks that allocated most of its objects (up to 3).
    pub allocation_sites: Option<Vec<AllocationSite>>,
}

/// One step of a retainer path: the edge taken and the node it reaches.
#[napi(object)]
pub struct RetainerStep {
    /// The edge's name as DevTools shows it (`cache`, `[3]`, `table` …).
    pub edge: String,
    pub edge_type: String,
    pub name: String,
    pub class_name: String,
    /// The node's snapshot id (`@123` in DevTools).
    pub id: u32,
}

/// One of the objects that retain the most, with its shortest retainer path.
#[napi(object)]
pub struct ObjectSummary {
    /// The node's snapshot id (`@123` in DevTools).
    pub id: u32,
    pub name: String,
    pub class_name: String,
    #[napi(js_name = "type")]
    pub node_type: String,
    pub self_size: f64,
    pub retained_size: f64,
    pub distance: i32,
    /// From a GC root down to this object.
    pub path: Vec<RetainerStep>,
    /// The path as people read it: `global → cache (Map)`, V8's roots by
    /// their names (`(Stack roots) → …`).
    pub path_text: String,
}

/// What Chrome DevTools' Summary view shows of one snapshot.
#[napi(object)]
pub struct Summary {
    /// The file analysed.
    pub path: String,
    pub node_count: f64,
    pub edge_count: f64,
    /// DevTools' total: the root's retained size plus V8's extra native bytes.
    pub total_size: f64,
    /// How many class rows there are in all (only `topClasses` are returned).
    pub class_count: u32,
    pub classes: Vec<ClassSummary>,
    pub objects: Vec<ObjectSummary>,
    pub parse_ms: f64,
    pub analyze_ms: f64,
}

#[napi(object)]
pub struct AnalyzeFailure {
    pub message: String,
    pub code: String,
    /// The file, when the snapshot came from one.
    pub path: Option<String>,
    /// Byte offset in the (decompressed) JSON where the problem was found…
    pub offset: Option<f64>,
    /// …or the node or edge (by ordinal) that does not fit the rest.
    pub node: Option<u32>,
    pub edge: Option<f64>,
}

#[napi(object, object_from_js = false)]
pub struct AnalyzeOutcome {
    pub summary: Option<Summary>,
    pub error: Option<AnalyzeFailure>,
    /// The analysed snapshot kept for queries, when asked (`keep`).
    pub heap: Option<explore::HeapHandle>,
}

#[napi(object)]
#[derive(Clone)]
pub struct AnalyzeProgress {
    pub phase: String,
    /// 0–1 within reading; null for later phases.
    pub fraction: Option<f64>,
}

type ProgressFn = ThreadsafeFunction<AnalyzeProgress, (), AnalyzeProgress, Status, false, true>;

pub(crate) fn step(s: PathStep) -> RetainerStep {
    RetainerStep { edge: s.edge, edge_type: s.edge_type, name: s.node_name, class_name: s.class_name, id: s.node_id.0 }
}

fn class(c: ClassRow) -> ClassSummary {
    ClassSummary {
        name: c.name,
        key: c.key,
        count: c.count as f64,
        self_size: c.self_size,
        retained_size: c.retained_size,
        distance: c.distance,
        allocation_sites: c.allocation_sites.map(|sites| sites.into_iter().map(site_row).collect()),
    }
}

fn object(o: ObjectRow) -> ObjectSummary {
    ObjectSummary {
        id: o.id.0,
        name: o.name,
        class_name: o.class_name,
        node_type: o.node_type,
        self_size: o.self_size,
        retained_size: o.retained_size,
        distance: o.distance,
        path_text: heapscope_core::snapshot::leaks::path_text(&o.path),
        path: o.path.into_iter().map(step).collect(),
    }
}

/// What to compute and whom to tell about progress.
pub(crate) struct Summarizer {
    top_classes: usize,
    top_objects: usize,
    pub(crate) threads: Threads,
    priority: Priority,
    keep: bool,
    progress: Option<ProgressFn>,
}

impl Drop for Summarizer {
    fn drop(&mut self) {
        self.tell(Self::END, None);
    }
}

impl Summarizer {
    pub(crate) fn new(options: &AnalyzeOptions, progress: Option<Function<AnalyzeProgress, ()>>) -> Result<Summarizer> {
        let progress = match progress {
            Some(f) => Some(f.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?),
            None => None,
        };
        Ok(Summarizer {
            top_classes: options.top_classes.unwrap_or(50) as usize,
            top_objects: options.top_objects.unwrap_or(20) as usize,
            threads: threads_option(options.threads),
            priority: priority_option(options.priority.as_deref()),
            keep: options.keep.unwrap_or(false),
            progress,
        })
    }

    /// The last progress call of every summarizer, made when it is dropped
    /// (after its run, or when it never ran): the JS side resolves only
    /// after it, so that no progress event arrives after the promise settles.
    pub(crate) const END: &'static str = "end";

    fn tell(&self, phase: &str, fraction: Option<f64>) {
        if let Some(p) = &self.progress {
            p.call(AnalyzeProgress { phase: phase.into(), fraction }, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// Reads a graph with `read` (which reports bytes read), analyses it, and
    /// turns the result into the JS Summary, with the analysed graph kept
    /// when asked. Panics become an internal error.
    pub(crate) fn run(
        &self,
        label: &str,
        total_bytes: Option<u64>,
        read: impl FnOnce(parse::Progress) -> std::result::Result<Graph, ParseError>,
    ) -> AnalyzeOutcome {
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.summarize(label, total_bytes, read)));
        match result {
            Ok(Ok((summary, heap))) => {
                let ms = summary.parse_ms + summary.analyze_ms;
                let heap = heap.map(|heap| explore::HeapHandle::new(heap, label.to_string(), ms));
                AnalyzeOutcome { summary: Some(summary), error: None, heap }
            }
            Ok(Err(e)) => AnalyzeOutcome::failed(AnalyzeFailure::parse(&e, "")),
            Err(_) => AnalyzeOutcome::failed(AnalyzeFailure::internal("analysing the snapshot")),
        }
    }

    fn summarize(
        &self,
        label: &str,
        total_bytes: Option<u64>,
        read: impl FnOnce(parse::Progress) -> std::result::Result<Graph, ParseError>,
    ) -> std::result::Result<(Summary, Option<Heap>), ParseError> {
        let started = std::time::Instant::now();
        let graph = read(&mut |bytes| {
            // Without a known size (a live stream) the fraction is unknown;
            // compressed files report decompressed bytes, so cap it.
            let fraction = total_bytes.map(|total| (bytes as f64 / total.max(1) as f64).min(1.0));
            self.tell("reading", fraction);
        })?;
        let parse_ms = started.elapsed().as_secs_f64() * 1000.0;
        let started = std::time::Instant::now();
        let mut progress = |phase: &str| self.tell(phase, None);
        let (summary, heap) = if self.keep {
            let heap = Heap::analysed(graph, self.threads, &mut progress);
            (summary_of(heap.analysis(), label, self.top_classes, self.top_objects), Some(heap))
        } else {
            let analysis = Analysis::run_with(&graph, None, self.threads, &mut progress);
            (summary_of(&analysis, label, self.top_classes, self.top_objects), None)
        };
        Ok((Summary { parse_ms, analyze_ms: started.elapsed().as_secs_f64() * 1000.0, ..summary }, heap))
    }
}

impl AnalyzeOutcome {
    pub(crate) fn failed(error: AnalyzeFailure) -> AnalyzeOutcome {
        AnalyzeOutcome { summary: None, error: Some(error), heap: None }
    }
}

/// The Summary of an analysis: its `top_classes` class rows and its
/// `top_objects` largest objects with their paths (timings left at 0).
pub(crate) fn summary_of(analysis: &Analysis, label: &str, top_classes: usize, top_objects: usize) -> Summary {
    let (rows, objects) = analysis.overview(top_objects);
    let class_count = rows.len() as u32;
    Summary {
        path: label.to_string(),
        node_count: analysis.graph.node_count as f64,
        edge_count: analysis.graph.edge_count as f64,
        total_size: analysis.total_size(),
        class_count,
        classes: rows.into_iter().take(top_classes).map(class).collect(),
        objects: objects.into_iter().map(object).collect(),
        parse_ms: 0.0,
        analyze_ms: 0.0,
    }
}

impl AnalyzeFailure {
    /// A reading error; `context` (a file's path) goes before its message.
    pub(crate) fn parse(e: &ParseError, context: &str) -> AnalyzeFailure {
        let place = e.place();
        AnalyzeFailure {
            message: if context.is_empty() { e.to_string() } else { format!("{context}: {e}") },
            code: e.code().into(),
            path: (!context.is_empty()).then(|| context.to_string()),
            offset: match place {
                Place::Byte(offset) => Some(offset as f64),
                _ => None,
            },
            node: match place {
                Place::Node(node) => Some(node),
                _ => None,
            },
            edge: match place {
                Place::Edge(edge) => Some(edge as f64),
                _ => None,
            },
        }
    }

    /// Two files whose node ids do not correspond: comparing them would
    /// report unrelated objects as new and removed.
    pub(crate) fn two_processes(earlier: &str, last: &str, agreement: IdAgreement) -> AnalyzeFailure {
        AnalyzeFailure {
            message: format!(
                "{earlier} and {last} are not snapshots of one process: {} of the {} objects they share by id \
                 have another class in each (node ids only correspond within one process); \
                 pass {{ force: true }} (--force) to compare them anyway",
                agreement.reclassed, agreement.shared
            ),
            code: "ERR_HEAPSCOPE_NOT_ONE_PROCESS".into(),
            path: Some(last.to_string()),
            offset: None,
            node: None,
            edge: None,
        }
    }

    /// A failure of the process, not of any file: no path, no place in one.
    fn unplaced(message: String, code: &str) -> AnalyzeFailure {
        AnalyzeFailure { message, code: code.into(), path: None, offset: None, node: None, edge: None }
    }

    /// A panic or a lost thread: a bug, reported instead of crashing the host.
    pub(crate) fn internal(what: &str) -> AnalyzeFailure {
        AnalyzeFailure::unplaced(format!("internal error while {what}"), "ERR_HEAPSCOPE_INTERNAL")
    }

    /// No thread could be started for the analysis (a process at its limit).
    pub(crate) fn no_thread(e: &std::io::Error) -> AnalyzeFailure {
        AnalyzeFailure::unplaced(format!("cannot start an analysis thread: {e}"), "ERR_HEAPSCOPE_THREAD")
    }
}

/// Reads and analyses a snapshot file: from a libuv pool thread, on threads
/// of the lowest priority.
#[napi(catch_unwind, ts_return_type = "Promise<AnalyzeOutcome>")]
pub fn analyze_file(
    path: String,
    options: AnalyzeOptions,
    progress: Option<Function<AnalyzeProgress, ()>>,
) -> Result<AsyncTask<PoolWork<AnalyzeOutcome>>> {
    let summarizer = Summarizer::new(&options, progress)?;
    let path = PathBuf::from(path);
    Ok(on_pool(move || {
        let total = std::fs::metadata(&path).map(|m| m.len()).ok();
        let name = path.to_string_lossy().into_owned();
        let threads = summarizer.threads;
        on_analysis_thread("heapscope-analyze", summarizer.priority, || {
            summarizer.run(&name, total, |progress| Graph::open_with(&path, threads, progress))
        })
        .unwrap_or_else(|e| AnalyzeOutcome::failed(AnalyzeFailure::no_thread(&e)))
    }))
}
