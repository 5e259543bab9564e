//! Sampling heap profiles: V8's tree of allocation sites, written as the
//! `.heapprofile` file Chrome DevTools and VS Code open, beside a snapshot.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::sink::{FileOptions, FileSink, Sink, SinkError};

/// One allocation site: a JS frame and the live sampled memory allocated
/// right there. A profile lists its sites parents first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The caller's index in the list; `None` for the root.
    pub parent: Option<u32>,
    pub function_name: String,
    pub url: String,
    pub script_id: i32,
    /// 1-based; 0 when V8 has none.
    pub line: i32,
    pub column: i32,
    pub self_size: u64,
    pub self_count: u64,
    /// The live objects it allocated, by size (V8 keeps one count per size).
    pub allocations: Vec<Allocation>,
}

/// Live objects of one size a site allocated: V8's estimate from its
/// samples, each scaled by the chance that an object of that size is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub size: u64,
    pub count: u64,
}

/// Chrome's `.heapprofile` (the inspector's SamplingHeapProfile): a tree of
/// call frames with 0-based lines and columns, ids from 1. `None` when the
/// list is not parents-first.
pub fn chrome_json(sites: &[Site]) -> Option<String> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); sites.len()];
    for (i, site) in sites.iter().enumerate().skip(1) {
        let parent = site.parent? as usize;
        if parent >= i {
            return None;
        }
        children[parent].push(i);
    }
    if sites.is_empty() || sites[0].parent.is_some() {
        return None;
    }
    fn node(sites: &[Site], children: &[Vec<usize>], i: usize) -> Value {
        let s = &sites[i];
        json!({
            "callFrame": {
                "functionName": s.function_name,
                "scriptId": s.script_id.to_string(),
                "url": s.url,
                "lineNumber": s.line - 1,
                "columnNumber": s.column - 1,
            },
            "selfSize": s.self_size,
            "id": i + 1,
            // V8 bounds the tree's depth by the profiler's stack depth.
            "children": children[i].iter().map(|&c| node(sites, children, c)).collect::<Vec<_>>(),
        })
    }
    Some(json!({ "head": node(sites, &children, 0), "samples": [] }).to_string())
}

/// `dir/name.heapsnapshot[.gz]` → `dir/name.heapprofile`.
pub fn path_beside(snapshot: &Path) -> PathBuf {
    let name = snapshot.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let stem = stem.strip_suffix(".heapsnapshot").unwrap_or(stem);
    snapshot.with_file_name(format!("{stem}.heapprofile"))
}

/// Writes `json` beside the snapshot as a snapshot is written: temporary
/// name, 0600, checked writes, fsync, rename. Returns the final path.
pub fn write_beside(snapshot: &Path, json: &str) -> Result<PathBuf, SinkError> {
    let path = path_beside(snapshot);
    let mut sink = FileSink::create(&path, FileOptions::default())?;
    sink.write(json.as_bytes())?;
    sink.finish().map(|written| written.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(parent: Option<u32>, name: &str, line: i32, self_size: u64) -> Site {
        Site {
            parent,
            function_name: name.into(),
            url: if parent.is_some() { "/app/a.js".into() } else { String::new() },
            script_id: 7,
            line,
            column: 3,
            self_size,
            self_count: self_size / 16,
            allocations: vec![Allocation { size: 16, count: self_size / 16 }],
        }
    }

    #[test]
    fn a_tree_with_zero_based_lines_and_ids_from_one() {
        let sites = [site(None, "(root)", 0, 0), site(Some(0), "main", 1, 32), site(Some(1), "make", 9, 4096)];
        let v: Value = serde_json::from_str(&chrome_json(&sites).unwrap()).unwrap();
        let head = &v["head"];
        assert_eq!(head["callFrame"]["functionName"], "(root)");
        assert_eq!(head["id"], 1);
        let make = &head["children"][0]["children"][0];
        assert_eq!(make["callFrame"]["functionName"], "make");
        assert_eq!(make["callFrame"]["lineNumber"], 8);
        assert_eq!(make["callFrame"]["columnNumber"], 2);
        assert_eq!(make["callFrame"]["scriptId"], "7");
        assert_eq!(make["selfSize"], 4096);
        assert_eq!(make["id"], 3);
        assert_eq!(v["samples"], json!([]));
        // Not parents first: refused, not written wrong.
        assert_eq!(
            chrome_json(&[site(None, "(root)", 0, 0), site(Some(2), "x", 1, 1), site(Some(0), "y", 1, 1)]),
            None
        );
        assert_eq!(chrome_json(&[]), None);
    }

    #[test]
    fn beside_the_snapshot() {
        assert_eq!(path_beside(Path::new("/d/heapdump-1.2.heapsnapshot")), Path::new("/d/heapdump-1.2.heapprofile"));
        assert_eq!(path_beside(Path::new("/d/x.heapsnapshot.gz")), Path::new("/d/x.heapprofile"));
        assert_eq!(path_beside(Path::new("/d/plain")), Path::new("/d/plain.heapprofile"));
    }
}
