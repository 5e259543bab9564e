//! Growth between snapshots of one process: class diffs (DevTools'
//! Comparison view) and leak suspects named by the retainer path that holds
//! them.
//!
//! Node ids are stable within a process, so an earlier snapshot is kept as a
//! [`Digest`] — ids with their class, size and retained size, and the
//! retained size of its largest objects by retainer path — about 13 bytes a
//! node instead of the whole graph (5 for a snapshot after the baseline,
//! whose classes no report reads). The last snapshot is analysed in full,
//! stage by stage ([`report`]).
//!
//! Suspects combine two signals. memlab's three-snapshot technique: objects
//! allocated after the baseline (and, given a target, present in it) that
//! are still alive at the end. And growth by path: the retained size of the
//! object at a path such as `global → cache` across the snapshots, which
//! also catches a holder replaced by ever larger copies (new ids each time).
//! The deepest path that explains the growth is reported, ending at the last
//! object a program names (internal backing stores fold into their owner).

mod compare;
mod digest;
mod groups;
mod ids;
mod report;
mod sampled;
mod suspects;

pub use compare::{diff, ById, CensusById, ClassDiff, Comparison, IdAgreement, Later};
pub use digest::{Ages, Digest, FOLLOWED};
pub use groups::{new_objects_by_path, NewGroup};
pub use report::{add_earlier, report, snapshot_diff, Comparing, Report, SnapshotDiff, TwoProcesses, STAGES};
pub use sampled::{SampledGrowth, SizeCounts};
pub use suspects::{suspects, through, Findings, Floor, HeldClass, LeakOptions, Suspect, Trend, DEFAULT_FLOOR, GROUPS};

use super::analysis::PathStep;

/// A path as a key: edge names from the root, element indexes kept, V8's
/// internal edges marked apart from a program's names. Steps
/// through V8's synthetic roots (stack, handle scopes) are numbered by slot,
/// which changes from one snapshot to the next: such a key starts at the
/// first object past them, named by its class.
pub fn path_key(path: &[PathStep]) -> String {
    let (mut key, rest) = match path.iter().position(|s| s.class_name != "(synthetic)") {
        Some(past) if past > 0 => (path[past].class_name.clone(), &path[past + 1..]),
        _ => (String::new(), path),
    };
    for step in rest {
        // An object's hidden class is its internal edge `map`; a property
        // `map` must not share its key.
        key.push(if step.edge_kind.is_named_by_program() { '/' } else { '|' });
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
