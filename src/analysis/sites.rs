//! Allocation sites as JS objects: the stacks that allocated a suspect's or
//! a class's objects, from snapshots taken while allocation tracking ran or
//! from V8's sampling heap profiler.
//! (Before the modules that use them: the type definitions name them.)

use heapscope_core::snapshot::traces;
use napi_derive::napi;

/// A JS frame: a function, its script, and where the function starts
/// (1-based; 0 when V8 had no position).
#[napi(object)]
pub struct StackFrame {
    pub function_name: String,
    pub url: String,
    pub line: u32,
    pub column: u32,
}

/// Objects allocated by one stack: its innermost frame (the allocating
/// function), how many objects and bytes, and the whole stack, innermost first.
#[napi(object)]
pub struct AllocationSite {
    pub function_name: String,
    pub url: String,
    pub line: u32,
    pub column: u32,
    pub count: f64,
    pub size: f64,
    pub stack: Vec<StackFrame>,
    /// `count` and `size` are V8's estimates from its sampling heap profiler
    /// (`allocationSites: 'sampling'`), not objects counted in the snapshot.
    pub sampled: bool,
}

pub(crate) fn site_row(site: traces::AllocationSite) -> AllocationSite {
    let stack: Vec<StackFrame> = site
        .stack
        .into_iter()
        .map(|f| StackFrame { function_name: f.function, url: f.url, line: f.line, column: f.column })
        .collect();
    let top = stack.first();
    AllocationSite {
        function_name: top.map(|f| f.function_name.clone()).unwrap_or_default(),
        url: top.map(|f| f.url.clone()).unwrap_or_default(),
        line: top.map_or(0, |f| f.line),
        column: top.map_or(0, |f| f.column),
        count: site.count as f64,
        size: site.size,
        stack,
        sampled: site.sampled,
    }
}
