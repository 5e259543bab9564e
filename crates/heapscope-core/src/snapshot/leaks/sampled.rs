//! Allocation sites from V8's sampling heap profiler, for leak suspects.
//!
//! A sample keeps the allocating stack and the object's size, but no object
//! id: a site cannot be tied to objects of a snapshot. It is tied to a
//! suspect by size instead. Of the objects a site allocated after the
//! baseline that are still alive at the end (V8's estimate, scaled from its
//! samples), those of a size the suspect's new objects have count for the
//! suspect, up to how many objects of that size it holds. The estimate is
//! statistical: a site needs live bytes of several sampling intervals to be
//! seen at all.

use std::collections::HashMap;

use crate::profile::Site;
use crate::snapshot::traces::{AllocationSite, Frame};

/// Live objects by size (bytes → count): what a suspect holds new.
pub type SizeCounts = HashMap<u64, u64>;

/// Per allocating stack, the objects it allocated between two profiles
/// that are still alive in the second, by size.
#[derive(Debug, Default)]
pub struct SampledGrowth {
    sites: Vec<Grown>,
}

#[derive(Debug)]
struct Grown {
    /// The allocating function first.
    stack: Vec<Frame>,
    /// (size, count), by size.
    by_size: Vec<(u64, u64)>,
}

impl SampledGrowth {
    /// What grew from `before` (the baseline's profile; empty when sampling
    /// began after it) to `after`, per stack and size. Profiles are lists of
    /// sites, parents first.
    pub fn between(before: &[Site], after: &[Site]) -> SampledGrowth {
        let before = by_stack(before);
        let mut sites: Vec<Grown> = by_stack(after)
            .into_iter()
            .filter_map(|(stack, sizes)| {
                let earlier = before.get(&stack);
                let mut by_size: Vec<(u64, u64)> = sizes
                    .into_iter()
                    .filter_map(|(size, count)| {
                        let was = earlier.and_then(|e| e.get(&size)).copied().unwrap_or(0);
                        (count > was).then(|| (size, count - was))
                    })
                    .collect();
                by_size.sort_unstable();
                (!by_size.is_empty()).then_some(Grown { stack, by_size })
            })
            .collect();
        sites.sort_by(|a, b| a.stack.cmp(&b.stack));
        SampledGrowth { sites }
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// The `limit` sites that account for most of `held`'s bytes: for each
    /// size, a site's objects of that size, at most as many as `held` has.
    pub fn sites_for(&self, held: &SizeCounts, limit: usize) -> Vec<AllocationSite> {
        let mut sites: Vec<AllocationSite> = self
            .sites
            .iter()
            .filter_map(|site| {
                let (mut count, mut size) = (0u64, 0.0f64);
                for &(bytes, objects) in &site.by_size {
                    let matched = objects.min(held.get(&bytes).copied().unwrap_or(0));
                    count += matched;
                    size += (bytes * matched) as f64;
                }
                (count > 0).then(|| AllocationSite { count, size, stack: site.stack.clone(), sampled: true })
            })
            .collect();
        sites.sort_by(|a, b| b.size.total_cmp(&a.size).then(b.count.cmp(&a.count)).then_with(|| a.stack.cmp(&b.stack)));
        sites.truncate(limit);
        sites
    }
}

/// A profile's live objects by allocating stack and size. As with
/// allocation tracking, V8's frames without a script at the top of a stack
/// are left off, so the first frame is the program's; stacks that become
/// one add up.
fn by_stack(sites: &[Site]) -> HashMap<Vec<Frame>, SizeCounts> {
    let mut out: HashMap<Vec<Frame>, SizeCounts> = HashMap::new();
    for (i, site) in sites.iter().enumerate() {
        if site.allocations.is_empty() {
            continue;
        }
        let Some(mut stack) = stack_of(sites, i) else { continue };
        let program = stack.iter().position(|f| !f.url.is_empty()).unwrap_or(0);
        stack.drain(..program);
        let sizes = out.entry(stack).or_default();
        for a in &site.allocations {
            *sizes.entry(a.size).or_default() += a.count;
        }
    }
    out
}

/// Site `i`'s stack, itself first, out to (not including) the root. `None`
/// when a parent does not come before its child.
fn stack_of(sites: &[Site], mut i: usize) -> Option<Vec<Frame>> {
    let mut stack = Vec::new();
    while let Some(parent) = sites[i].parent {
        let site = &sites[i];
        stack.push(Frame {
            function: site.function_name.clone(),
            url: site.url.clone(),
            line: site.line.max(0) as u32,
            column: site.column.max(0) as u32,
        });
        let parent = parent as usize;
        if parent >= i {
            return None;
        }
        i = parent;
    }
    Some(stack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Allocation;

    /// A site below the root: `(parent, function, url, line, [(size, count)])`.
    type Spec<'a> = (u32, &'a str, &'a str, i32, &'a [(u64, u64)]);

    /// A profile: the root, then the sites.
    fn profile(sites: &[Spec]) -> Vec<Site> {
        let root = Site {
            parent: None,
            function_name: "(root)".into(),
            url: String::new(),
            script_id: 0,
            line: 0,
            column: 0,
            self_size: 0,
            self_count: 0,
            allocations: Vec::new(),
        };
        let rest = sites.iter().map(|&(parent, name, url, line, allocations)| Site {
            parent: Some(parent),
            function_name: name.into(),
            url: url.into(),
            script_id: 1,
            line,
            column: 1,
            self_size: allocations.iter().map(|(s, c)| s * c).sum(),
            self_count: allocations.iter().map(|(_, c)| c).sum(),
            allocations: allocations.iter().map(|&(size, count)| Allocation { size, count }).collect(),
        });
        std::iter::once(root).chain(rest).collect()
    }

    fn held(sizes: &[(u64, u64)]) -> SizeCounts {
        sizes.iter().copied().collect()
    }

    fn named(sites: &[AllocationSite]) -> Vec<(&str, u64, f64)> {
        sites.iter().map(|s| (s.stack[0].function.as_str(), s.count, s.size)).collect()
    }

    #[test]
    fn a_suspect_gets_the_sites_of_its_object_sizes_up_to_what_it_holds() {
        // handle → addItem allocates 40-byte items; handle → log 1 KiB lines.
        let after = profile(&[
            (0, "handle", "/srv/app.js", 10, &[]),
            (1, "addItem", "/srv/cart.js", 42, &[(40, 5_000)]),
            (1, "log", "/srv/log.js", 3, &[(1024, 30), (40, 100)]),
        ]);
        let grown = SampledGrowth::between(&[], &after);
        // The cart holds 4,000 items of 40 bytes.
        let cart = grown.sites_for(&held(&[(40, 4_000)]), 5);
        assert_eq!(named(&cart), [("addItem", 4_000, 160_000.0), ("log", 100, 4_000.0)]);
        assert_eq!(cart[0].stack[1].function, "handle");
        assert_eq!((cart[0].stack[0].url.as_str(), cart[0].stack[0].line), ("/srv/cart.js", 42));
        // The log buffer holds 1 KiB lines: only log's.
        assert_eq!(named(&grown.sites_for(&held(&[(1024, 50)]), 5)), [("log", 30, 30_720.0)]);
        // Sizes nobody sampled: no site.
        assert!(grown.sites_for(&held(&[(64, 10)]), 5).is_empty());
    }

    #[test]
    fn what_was_alive_at_the_baseline_does_not_count() {
        let before = profile(&[
            (0, "addItem", "/srv/cart.js", 42, &[(40, 1_000)]),
            (0, "boot", "/srv/boot.js", 1, &[(40, 9_000)]),
        ]);
        let after = profile(&[
            (0, "addItem", "/srv/cart.js", 42, &[(40, 3_000)]),
            (0, "boot", "/srv/boot.js", 1, &[(40, 8_000)]),
        ]);
        let grown = SampledGrowth::between(&before, &after);
        assert_eq!(named(&grown.sites_for(&held(&[(40, 10_000)]), 5)), [("addItem", 2_000, 80_000.0)]);
    }

    #[test]
    fn builtins_atop_a_stack_are_left_off_and_stacks_that_become_one_add_up() {
        let after = profile(&[
            (0, "step", "/srv/app.js", 5, &[(48, 10)]),
            (1, "repeat", "", 0, &[(48, 20)]),
            (0, "(V8 API)", "", 0, &[(48, 7)]),
        ]);
        let sites = SampledGrowth::between(&[], &after).sites_for(&held(&[(48, 100)]), 5);
        assert_eq!(named(&sites), [("step", 30, 1_440.0), ("(V8 API)", 7, 336.0)]);
        assert_eq!(sites[0].stack.len(), 1);
    }

    #[test]
    fn a_parent_after_its_child_ends_that_stack() {
        let mut after = profile(&[(0, "step", "/srv/app.js", 5, &[(48, 10)])]);
        after[1].parent = Some(1);
        assert!(SampledGrowth::between(&[], &after).is_empty());
    }
}
