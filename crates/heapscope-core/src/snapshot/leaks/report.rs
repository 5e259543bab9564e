//! A whole comparison of earlier digests with a last snapshot: a leak report
//! or a two-snapshot diff. The stages run in the order that keeps the least
//! memory alive at once (the last snapshot is the one analysed in full, on
//! top of the earlier digests).

use super::{
    diff, new_objects_by_path, suspects, through, Ages, ById, CensusById, ClassDiff, Digest, Floor, IdAgreement,
    LeakOptions, NewGroup, SampledGrowth, Suspect, GROUPS,
};
use crate::priority::Threads;
use crate::snapshot::analysis::Analysis;
use crate::snapshot::Graph;

/// What grew from the baseline to the last snapshot, and what holds it.
pub struct Report {
    pub suspects: Vec<Suspect>,
    /// Classes compared between the baseline and the last snapshot.
    pub diff: Vec<ClassDiff>,
    /// New objects since the baseline still alive at the end, by where they
    /// hang, largest group first.
    pub new_objects: Vec<NewGroup>,
    /// DevTools' total of each snapshot, oldest first.
    pub total_sizes: Vec<f64>,
    pub floor: Floor,
}

/// Two snapshots of one process compared: DevTools' Comparison view and the
/// new objects by where they hang.
pub struct SnapshotDiff {
    pub classes: Vec<ClassDiff>,
    pub new_objects: Vec<NewGroup>,
    pub total_sizes: Vec<f64>,
}

/// Two snapshots whose ids say they are of two processes: positions in the
/// list of earlier ones; `later` `None` is the last snapshot.
#[derive(Debug, Clone, Copy)]
pub struct TwoProcesses {
    pub earlier: usize,
    pub later: Option<usize>,
    pub agreement: IdAgreement,
}

/// How a comparison runs.
#[derive(Debug, Clone, Copy)]
pub struct Comparing {
    /// Compare even when the ids say the snapshots are of two processes.
    pub force: bool,
    pub threads: Threads,
}

/// Stages, for progress reports and memory measurements.
pub const STAGES: [&str; 4] = ["analysis", "class diff", "ages and tree", "suspects"];

/// The last snapshot analysed, its nodes by id, and the class diff of the
/// first earlier digest with it (read off the analysis: no digest of the
/// last snapshot is made).
struct Last<'g> {
    analysis: Analysis<'g>,
    by_id: ById,
    diff: Vec<ClassDiff>,
    total_sizes: Vec<f64>,
}

impl<'g> Last<'g> {
    /// Checks the first earlier digest for ids of one process with the last
    /// (unless forced).
    fn of(
        earlier: &[&Digest],
        graph: &'g Graph,
        how: Comparing,
        progress: &mut dyn FnMut(&'static str),
    ) -> Result<Last<'g>, TwoProcesses> {
        progress(STAGES[0]);
        let mut analysis = Analysis::run_with(graph, None, how.threads, &mut |_| {});
        // Read by class and object rows only, neither of which a comparison makes.
        analysis.forget_distances();
        progress(STAGES[1]);
        let by_id = ById::of(graph);
        let last = CensusById { census: &analysis.census, by_id: &by_id };
        if let Some(baseline) = earlier.first().filter(|_| !how.force) {
            let agreement = IdAgreement::of(baseline, &last);
            if !agreement.one_process() {
                return Err(TwoProcesses { earlier: 0, later: None, agreement });
            }
        }
        let diff = earlier.first().map(|first| diff(first, &last)).unwrap_or_default();
        let mut total_sizes: Vec<f64> = earlier.iter().map(|d| d.total_size).collect();
        total_sizes.push(analysis.total_size());
        Ok(Last { analysis, by_id, diff, total_sizes })
    }
}

/// Adds a snapshot taken before the last to the digests a report compares,
/// oldest first. The first is the baseline, which the class diff reads in
/// full; each later one is checked against it for ids of one process
/// (unless forced) and keeps only what suspects read of it
/// ([`Digest::history_of`]).
pub fn add_earlier(digests: &mut Vec<Digest>, a: &Analysis, how: Comparing) -> Result<(), TwoProcesses> {
    let Some(baseline) = digests.first() else {
        digests.push(Digest::of(a));
        return Ok(());
    };
    let by_id = ById::of(a.graph);
    if !how.force {
        let agreement = IdAgreement::of(baseline, &CensusById { census: &a.census, by_id: &by_id });
        if !agreement.one_process() {
            return Err(TwoProcesses { earlier: 0, later: Some(digests.len()), agreement });
        }
    }
    digests.push(Digest::history_of(a, by_id));
    Ok(())
}

/// The leak report of `last` against the earlier digests, oldest first: the
/// first is the baseline, the one before `last` the target. The last is
/// checked for ids of one process against the baseline (the others were
/// when added, see [`add_earlier`], or are marks of this process).
pub fn report(
    earlier: &[&Digest],
    last: &Graph,
    options: LeakOptions,
    how: Comparing,
    sampled: Option<&SampledGrowth>,
    progress: &mut dyn FnMut(&'static str),
) -> Result<Report, TwoProcesses> {
    let Last { analysis, by_id, diff, total_sizes } = Last::of(earlier, last, how, progress)?;
    let Some(&baseline) = earlier.first() else {
        let floor = Floor::Given(options.min_growth.unwrap_or(super::DEFAULT_FLOOR));
        return Ok(Report { suspects: Vec::new(), diff, new_objects: Vec::new(), total_sizes, floor });
    };
    progress(STAGES[2]);
    let target = if earlier.len() > 1 { earlier.last().copied() } else { None };
    let ages = Ages::of(&by_id, baseline, target);
    drop(by_id);
    // One dominator tree and one grouping serve both the suspects and the
    // report; the grouping is made beside the suspects, which read it last.
    let dominated = analysis.dominated();
    progress(STAGES[3]);
    let (groups, mut findings) = how.threads.join(
        || new_objects_by_path(&ages, &analysis, &dominated, GROUPS),
        || suspects(earlier, &analysis, &dominated, &ages, options, sampled),
    );
    through(&mut findings.suspects, &analysis, &groups);
    Ok(Report { suspects: findings.suspects, diff, new_objects: groups, total_sizes, floor: findings.floor })
}

/// The diff of an earlier digest and a later snapshot, with at most
/// `groups` groups of new objects.
pub fn snapshot_diff(
    before: &Digest,
    after: &Graph,
    groups: usize,
    how: Comparing,
    progress: &mut dyn FnMut(&'static str),
) -> Result<SnapshotDiff, TwoProcesses> {
    let Last { analysis, by_id, diff, total_sizes } = Last::of(&[before], after, how, progress)?;
    progress(STAGES[2]);
    let ages = Ages::of(&by_id, before, None);
    drop(by_id);
    let new_objects = new_objects_by_path(&ages, &analysis, &analysis.dominated(), groups);
    Ok(SnapshotDiff { classes: diff, new_objects, total_sizes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::test_graph::TestGraph;

    /// A root holding 400 objects of 16 bytes, with ids from 101 by 2, of
    /// class `Foo` or `Bar` by id (`swapped`: the other way round, as
    /// another process would have them).
    fn heap(swapped: bool) -> Graph {
        let mut t = TestGraph::new();
        for i in 0..400u32 {
            let id = 101 + 2 * i;
            let foo = (id % 4 == 1) != swapped;
            let n = t.node("object", if foo { "Foo" } else { "Bar" }, 16);
            t.id(n, id).edge(0, "element", &i.to_string(), n);
        }
        t.graph()
    }

    fn add(digests: &mut Vec<Digest>, g: &Graph, force: bool) -> Result<(), TwoProcesses> {
        let a = Analysis::run(g, &mut |_| {});
        add_earlier(digests, &a, Comparing { force, threads: Threads::ONE })
    }

    #[test]
    fn a_snapshot_after_the_baseline_is_checked_against_it_and_keeps_its_history_only() {
        let (same, other) = (heap(false), heap(true));
        let mut digests = Vec::new();
        add(&mut digests, &same, false).expect("a baseline is never refused");
        add(&mut digests, &same, false).expect("one process");
        assert!(digests[0].has_classes() && !digests[1].has_classes());
        assert_eq!(digests[1].node_count(), digests[0].node_count());
        // Another process's snapshot as the third: refused, naming the
        // baseline and it, and not added.
        let refused = add(&mut digests, &other, false).expect_err("two processes");
        assert_eq!((refused.earlier, refused.later), (0, Some(2)));
        assert_eq!(refused.agreement.reclassed, 400);
        assert_eq!(digests.len(), 2);
        // Forced, it is added.
        add(&mut digests, &other, true).expect("forced");
        assert_eq!(digests.len(), 3);
        // The last snapshot is checked against the baseline too.
        let refs: Vec<&Digest> = digests.iter().collect();
        let how = Comparing { force: false, threads: Threads::ONE };
        let last = report(&refs, &other, LeakOptions::default(), how, None, &mut |_| {});
        assert!(matches!(last, Err(TwoProcesses { earlier: 0, later: None, .. })));
        assert!(report(&refs, &same, LeakOptions::default(), how, None, &mut |_| {}).is_ok());
    }
}
