//! Allocation sites as JS objects: the stacks that allocated a suspect's or
//! a class's objects, from snapshots taken while allocation tracking ran.
//! (Before the modules that use them: the type definitions name them.)

use heapscope_core::snapshot::traces::AllocationSite;
use napi_derive::napi;

/// A JS frame: a function, its script, and where the function starts
/// (1-based; 0 when V8 had no position).
#[napi(object, js_name = "StackFrame")]
pub struct StackFrameRow {
    pub function_name: String,
    pub url: String,
    pub line: u32,
    pub column: u32,
}

/// Objects allocated by one stack: its innermost frame (the allocating
/// function), how many objects and bytes, and the whole stack, innermost first.
#[napi(object, js_name = "AllocationSite")]
pub struct AllocationSiteRow {
    pub function_name: String,
    pub url: String,
    pub line: u32,
    pub column: u32,
    pub count: f64,
    pub size: f64,
    pub stack: Vec<StackFrameRow>,
}

pub(crate) fn site_row(site: AllocationSite) -> AllocationSiteRow {
    let stack: Vec<StackFrameRow> = site
        .stack
        .into_iter()
        .map(|f| StackFrameRow { function_name: f.function, url: f.url, line: f.line, column: f.column })
        .collect();
    let top = stack.first();
    AllocationSiteRow {
        function_name: top.map(|f| f.function_name.clone()).unwrap_or_default(),
        url: top.map(|f| f.url.clone()).unwrap_or_default(),
        line: top.map_or(0, |f| f.line),
        column: top.map_or(0, |f| f.column),
        count: site.count as f64,
        size: site.size,
        stack,
    }
}
