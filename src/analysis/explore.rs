//! A snapshot kept open for queries, JS side: `open()` reads and analyses
//! it on a pool thread into a [`HeapHandle`]; every query runs on a pool
//! thread too and answers plain objects with Chrome DevTools' names.

use std::path::PathBuf;
use std::sync::Arc;

use heapscope_core::priority::on_analysis_thread;
use heapscope_core::snapshot::explore::{display_name, Heap, Link, Page, Paged, Query, ValueMatch};
use heapscope_core::snapshot::{leaks, Graph, NodeId};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::{priority_option, summary_of, threads_option, AnalyzeFailure, Summary};
use crate::pool::{on_pool, PoolWork};

#[napi(object)]
pub struct OpenOptions {
    /// As `AnalyzeOptions`'.
    pub threads: Option<u32>,
    pub priority: Option<String>,
}

/// An object of the snapshot, as DevTools describes it.
#[napi(object)]
pub struct HeapObject {
    /// The node id DevTools shows as `@id`.
    pub id: u32,
    /// DevTools' name: a concatenated string spelled out, a plain object as `{a, b}`.
    pub name: String,
    #[napi(js_name = "type")]
    pub node_type: String,
    /// The Summary row it is counted in (a V8 root: its own name, `(GC roots)`).
    pub class_name: String,
    pub self_size: f64,
    pub retained_size: f64,
    /// Edges from the nearest root (user roots first), as DevTools counts them.
    pub distance: i32,
}

/// An edge and the object at its other end (its target among an object's
/// edges; the retainer among its retainers).
#[napi(object)]
pub struct HeapEdge {
    /// DevTools' edge name: a property's name, an element's index.
    pub name: String,
    #[napi(js_name = "type")]
    pub edge_type: String,
    pub node: HeapObject,
}

#[napi(object)]
pub struct EdgePage {
    /// Edges in all; `items` is the page asked for.
    pub total: u32,
    pub items: Vec<HeapEdge>,
}

#[napi(object)]
pub struct ObjectPage {
    /// Objects in all; `items` is the page asked for.
    pub total: u32,
    pub items: Vec<HeapObject>,
}

/// An object and a page of its edges.
#[napi(object)]
pub struct ObjectWithEdges {
    pub object: HeapObject,
    pub edges: EdgePage,
}

/// Strings of one value held more than once.
#[napi(object)]
pub struct DuplicateString {
    /// The value (V8 writes at most 1,024 characters of it).
    pub value: String,
    pub count: u32,
    /// Bytes of all the copies, and of all but the largest.
    pub size: f64,
    pub wasted: f64,
    /// Some of the objects, largest retained size first (up to three).
    pub examples: Vec<HeapObject>,
}

#[napi(object)]
pub struct DuplicateStringPage {
    /// Values held more than once, in all.
    pub total: u32,
    pub items: Vec<DuplicateString>,
}

/// What `find()` looks for; every given part must hold.
#[napi(object)]
pub struct FindQuery {
    pub class_name: Option<String>,
    #[napi(js_name = "type")]
    pub node_type: Option<String>,
    pub property: Option<String>,
    /// A substring of the name (a string's value, a function's name)…
    pub value: Option<String>,
    /// …or a pattern it matches (Rust's regex syntax, linear time).
    pub pattern: Option<String>,
}

/// A closure and the variables its context holds, largest first.
#[napi(object)]
pub struct ClosureContext {
    pub closure: HeapObject,
    /// The context object, `null` for a function that captures nothing.
    pub context: Option<HeapObject>,
    pub variables: EdgePage,
}

/// Native memory in DevTools' Statistics.
#[napi(object)]
pub struct NativeStatistics {
    pub total: f64,
    /// Backing stores of ArrayBuffers.
    pub typed_arrays: f64,
}

/// The JS heap in DevTools' Statistics.
#[napi(object)]
pub struct V8HeapStatistics {
    pub total: f64,
    pub code: f64,
    pub js_arrays: f64,
    pub strings: f64,
    pub system: f64,
}

/// DevTools' Statistics (the Summary's pie), in its shape.
#[napi(object)]
pub struct SnapshotStatistics {
    pub total: f64,
    pub native: NativeStatistics,
    #[napi(js_name = "v8heap")]
    pub v8heap: V8HeapStatistics,
}

/// A retaining path from the root: each step an edge and the object it leads to.
#[napi(object)]
pub struct RetainingPath {
    pub steps: Vec<HeapEdge>,
    /// As people read it: `global → cache (Map) → table (Array)`.
    pub text: String,
}

/// `open()`'s answer: the heap, or why not (file and byte offset in the message).
#[napi(object, object_from_js = false)]
pub struct OpenOutcome {
    pub heap: Option<HeapHandle>,
    pub error: Option<AnalyzeFailure>,
}

/// A snapshot analysed and kept in memory until `close()`.
#[napi]
pub struct HeapHandle {
    heap: Option<Arc<Heap>>,
    /// The file, and how long reading and analysing took.
    path: String,
    open_ms: f64,
}

impl HeapHandle {
    pub(crate) fn new(heap: Heap, path: String, open_ms: f64) -> HeapHandle {
        HeapHandle { heap: Some(Arc::new(heap)), path, open_ms }
    }

    /// The handle with its snapshot's file.
    pub(crate) fn named(self, path: &str) -> HeapHandle {
        HeapHandle { path: path.to_string(), ..self }
    }
}

/// Reads and analyses a snapshot file and keeps it: from a libuv pool
/// thread, on threads of the lowest priority unless asked otherwise.
#[napi(catch_unwind, ts_return_type = "Promise<OpenOutcome>")]
pub fn open_heap(path: String, options: OpenOptions) -> Result<AsyncTask<PoolWork<OpenOutcome>>> {
    let threads = threads_option(options.threads);
    let priority = priority_option(options.priority.as_deref());
    let path = PathBuf::from(path);
    Ok(on_pool(move || {
        let name = path.to_string_lossy().into_owned();
        let started = std::time::Instant::now();
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            on_analysis_thread("heapscope-open", priority, || {
                Graph::open_with(&path, threads, &mut |_| {}).map(|g| Heap::new(g, threads))
            })
        }));
        match opened {
            Ok(Ok(Ok(heap))) => OpenOutcome {
                heap: Some(HeapHandle::new(heap, name, started.elapsed().as_secs_f64() * 1000.0)),
                error: None,
            },
            Ok(Ok(Err(e))) => OpenOutcome { heap: None, error: Some(AnalyzeFailure::parse(&e, &name)) },
            Ok(Err(e)) => OpenOutcome { heap: None, error: Some(AnalyzeFailure::no_thread(&e)) },
            Err(_) => OpenOutcome { heap: None, error: Some(AnalyzeFailure::internal("opening the snapshot")) },
        }
    }))
}

fn object(heap: &Heap, n: u32) -> HeapObject {
    let g = heap.graph();
    let a = heap.analysis();
    let node_type = g.layout.node_types.get(g.node_type(n) as usize).cloned().unwrap_or_default();
    let name = match display_name(a, n) {
        // V8 leaves the snapshot's own root unnamed.
        name if name.is_empty() && n == g.root => "(root)".to_string(),
        name => name,
    };
    // V8's roots are one class, `(synthetic)`, in the Summary; here each is named.
    let class_name = if a.is_synthetic(n) { name.clone() } else { a.class_name(n).to_string() };
    HeapObject {
        id: g.node_id(n).0,
        name,
        node_type,
        class_name,
        self_size: a.census.self_sizes[n as usize] as f64,
        retained_size: a.retained[n as usize],
        distance: a.distance[n as usize],
    }
}

fn edge(heap: &Heap, link: Link) -> HeapEdge {
    let g = heap.graph();
    let e = link.edge as usize;
    let edge_type = g.layout.edge_types.get(g.edge_type(e) as usize).cloned().unwrap_or_default();
    let index = g.edge_name_index(e);
    let name = match edge_type.as_str() {
        "element" | "hidden" => index.to_string(),
        _ => g.string(index as usize).to_string(),
    };
    HeapEdge { name, edge_type, node: object(heap, link.node) }
}

fn edge_page(heap: &Heap, links: Paged<Link>) -> EdgePage {
    EdgePage { total: links.total as u32, items: links.items.into_iter().map(|l| edge(heap, l)).collect() }
}

fn object_page(heap: &Heap, nodes: Paged<u32>) -> ObjectPage {
    ObjectPage { total: nodes.total as u32, items: nodes.items.into_iter().map(|n| object(heap, n)).collect() }
}

#[napi(object)]
pub struct ClosurePage {
    pub total: u32,
    pub items: Vec<ClosureContext>,
}

fn context_of(heap: &Heap, n: u32, window: Page) -> ClosureContext {
    let (context, variables) = match heap.context(n, window) {
        Some((context, variables)) => (Some(object(heap, context)), edge_page(heap, variables)),
        None => (None, EdgePage { total: 0, items: Vec::new() }),
    };
    ClosureContext { closure: object(heap, n), context, variables }
}

fn page(offset: Option<u32>, limit: Option<u32>) -> Page {
    Page { offset: offset.unwrap_or(0) as usize, limit: limit.map_or(usize::MAX, |l| l as usize) }
}

/// An error for a query on a closed heap, thrown as JS reads it.
fn closed() -> Error {
    Error::new(Status::GenericFailure, "ERR_HEAPSCOPE_CLOSED: this heap was closed")
}

impl HeapHandle {
    fn heap(&self) -> Result<Arc<Heap>> {
        self.heap.clone().ok_or_else(closed)
    }

    /// `query` on a pool thread with the node of `id`, `None` when the snapshot has none.
    fn by_id<T>(
        &self,
        id: u32,
        query: impl FnOnce(&Heap, u32) -> T + Send + 'static,
    ) -> Result<AsyncTask<PoolWork<Option<T>>>>
    where
        T: ToNapiValue + TypeName + Send + 'static,
        Option<T>: ToNapiValue + TypeName,
    {
        let heap = self.heap()?;
        Ok(on_pool(move || heap.ordinal(NodeId(id)).map(|n| query(&heap, n))))
    }
}

#[napi]
impl HeapHandle {
    /// Bytes of snapshot nodes and edges; for `statistics()`-like totals.
    #[napi(getter)]
    pub fn node_count(&self) -> Result<u32> {
        Ok(self.heap()?.graph().node_count as u32)
    }

    #[napi(getter)]
    pub fn total_size(&self) -> Result<f64> {
        Ok(self.heap()?.analysis().total_size())
    }

    /// The object `@id` and a page of its edges (DevTools' Summary order); `null` for no such id.
    #[napi(catch_unwind, ts_return_type = "Promise<ObjectWithEdges | null>")]
    pub fn node(
        &self,
        id: u32,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<AsyncTask<PoolWork<Option<ObjectWithEdges>>>> {
        self.by_id(id, move |heap, n| ObjectWithEdges {
            object: object(heap, n),
            edges: edge_page(heap, heap.edges(n, page(offset, limit))),
        })
    }

    /// A page of `@id`'s retainers (DevTools' Retainers view order); `null` for no such id.
    #[napi(catch_unwind, ts_return_type = "Promise<EdgePage | null>")]
    pub fn retainers(
        &self,
        id: u32,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<AsyncTask<PoolWork<Option<EdgePage>>>> {
        self.by_id(id, move |heap, n| edge_page(heap, heap.retainers(n, page(offset, limit))))
    }

    /// DevTools' retaining path from the root to `@id`; `null` for no such id.
    #[napi(catch_unwind, ts_return_type = "Promise<RetainingPath | null>")]
    pub fn path(&self, id: u32) -> Result<AsyncTask<PoolWork<Option<RetainingPath>>>> {
        self.by_id(id, |heap, n| {
            let links = heap.path(n);
            let a = heap.analysis();
            let steps: Vec<_> = links.iter().map(|l| a.step(l.edge as usize, l.node)).collect();
            RetainingPath { text: leaks::path_text(&steps), steps: links.into_iter().map(|l| edge(heap, l)).collect() }
        })
    }

    /// `@id`'s dominators, its immediate one first, out to the root; `null` for no such id.
    #[napi(catch_unwind, ts_return_type = "Promise<HeapObject[] | null>")]
    pub fn dominators(&self, id: u32) -> Result<AsyncTask<PoolWork<Option<Vec<HeapObject>>>>> {
        self.by_id(id, |heap, n| heap.dominators(n).into_iter().map(|d| object(heap, d)).collect())
    }

    /// A page of what `@id` immediately dominates, largest retained size first; `null` for no such id.
    #[napi(catch_unwind, ts_return_type = "Promise<ObjectPage | null>")]
    pub fn dominated(
        &self,
        id: u32,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<AsyncTask<PoolWork<Option<ObjectPage>>>> {
        self.by_id(id, move |heap, n| object_page(heap, heap.dominated(n, page(offset, limit))))
    }

    /// A page of a Summary class's objects, largest retained size first.
    #[napi(catch_unwind, ts_return_type = "Promise<ObjectPage>")]
    pub fn instances(
        &self,
        class_name: String,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<AsyncTask<PoolWork<ObjectPage>>> {
        let heap = self.heap()?;
        Ok(on_pool(move || object_page(&heap, heap.instances(&class_name, page(offset, limit)))))
    }

    /// Milliseconds reading and analysing took.
    #[napi(getter)]
    pub fn open_ms(&self) -> f64 {
        self.open_ms
    }

    /// What `analyze()` answers, from the heap in memory: the `top_classes`
    /// largest classes and the `top_objects` largest objects with their paths.
    #[napi(catch_unwind, ts_return_type = "Promise<Summary>")]
    pub fn summary(&self, top_classes: u32, top_objects: u32) -> Result<AsyncTask<PoolWork<Summary>>> {
        let heap = self.heap()?;
        let path = self.path.clone();
        Ok(on_pool(move || summary_of(heap.analysis(), &path, top_classes as usize, top_objects as usize)))
    }

    /// A page of the string values held more than once, most bytes wasted first.
    #[napi(catch_unwind, ts_return_type = "Promise<DuplicateStringPage>")]
    pub fn duplicate_strings(
        &self,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<AsyncTask<PoolWork<DuplicateStringPage>>> {
        let heap = self.heap()?;
        Ok(on_pool(move || {
            let found = heap.duplicate_strings(page(offset, limit));
            let g = heap.graph();
            DuplicateStringPage {
                total: found.total as u32,
                items: found
                    .items
                    .into_iter()
                    .map(|d| DuplicateString {
                        value: g.string(d.value as usize).to_string(),
                        count: d.count as u32,
                        size: d.size,
                        wasted: d.wasted,
                        examples: d.examples.into_iter().map(|n| object(&heap, n)).collect(),
                    })
                    .collect(),
            }
        }))
    }

    /// A page of the objects that answer `query`, largest retained size
    /// first. Throws on a pattern the regex syntax refuses.
    #[napi(catch_unwind, ts_return_type = "Promise<ObjectPage>")]
    pub fn find(
        &self,
        query: FindQuery,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<AsyncTask<PoolWork<ObjectPage>>> {
        let heap = self.heap()?;
        let value = match (query.value, query.pattern) {
            (_, Some(pattern)) => Some(
                ValueMatch::pattern(&pattern)
                    .map_err(|e| Error::new(Status::InvalidArg, format!("ERR_INVALID_ARG_VALUE: pattern: {e}")))?,
            ),
            (Some(part), None) => Some(ValueMatch::Contains(part)),
            (None, None) => None,
        };
        let query = Query { class_name: query.class_name, node_type: query.node_type, property: query.property, value };
        Ok(on_pool(move || object_page(&heap, heap.find(&query, page(offset, limit)))))
    }

    /// A page of the closures, largest retained size first, each with its
    /// `variables` largest few (up to `variables`).
    #[napi(catch_unwind, ts_return_type = "Promise<{ total: number; items: ClosureContext[] }>")]
    pub fn closures(
        &self,
        offset: Option<u32>,
        limit: Option<u32>,
        variables: u32,
    ) -> Result<AsyncTask<PoolWork<ClosurePage>>> {
        let heap = self.heap()?;
        Ok(on_pool(move || {
            let closures = heap.closures(page(offset, limit));
            ClosurePage {
                total: closures.total as u32,
                items: closures
                    .items
                    .into_iter()
                    .map(|n| context_of(&heap, n, Page { offset: 0, limit: variables as usize }))
                    .collect(),
            }
        }))
    }

    /// A closure's (or a context's) captured variables, largest first; `null` for no such id.
    #[napi(catch_unwind, ts_return_type = "Promise<ClosureContext | null>")]
    pub fn context(
        &self,
        id: u32,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Result<AsyncTask<PoolWork<Option<ClosureContext>>>> {
        self.by_id(id, move |heap, n| context_of(heap, n, page(offset, limit)))
    }

    /// DevTools' Statistics: code, strings, JS arrays, typed arrays, system.
    #[napi(catch_unwind, ts_return_type = "Promise<SnapshotStatistics>")]
    pub fn statistics(&self) -> Result<AsyncTask<PoolWork<SnapshotStatistics>>> {
        let heap = self.heap()?;
        Ok(on_pool(move || {
            let s = heap.statistics();
            SnapshotStatistics {
                total: s.total,
                native: NativeStatistics { total: s.native, typed_arrays: s.typed_arrays },
                v8heap: V8HeapStatistics {
                    total: s.v8_heap,
                    code: s.code,
                    js_arrays: s.js_arrays,
                    strings: s.strings,
                    system: s.system,
                },
            }
        }))
    }

    /// Lets the heap go: its memory is freed once queries still running end.
    #[napi]
    pub fn close(&mut self) {
        self.heap = None;
    }
}
