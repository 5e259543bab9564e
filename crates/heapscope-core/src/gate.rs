//! The gate of a memory watcher: given readings of its metrics, decides when
//! a threshold crossing becomes a snapshot.
//!
//! Rules, per threshold: it fires when its metric reaches the limit while
//! armed; once fired (or skipped) it is disarmed until the metric falls below
//! its lower mark (hysteresis, so a heap hovering at the limit does not dump
//! again and again). Per watcher: one snapshot in flight at a time, at least
//! `cooldown` between the end of one and the next, at most `max` in all.
//!
//! A snapshot inflates the process's resident memory (V8 builds the graph
//! outside the JS heap). Readings of resident metrics are ignored while any
//! snapshot runs, and the first reading after one ended disarms a resident
//! threshold it finds above its limit: the spike is the snapshot's, and the
//! threshold re-arms only once memory has really come down.

use std::time::{Duration, Instant};

/// What a threshold watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// V8's used heap after a full GC, against a number of bytes.
    HeapUsed,
    /// The same reading, against a share of V8's heap limit.
    HeapLimit,
    /// The process's resident set size.
    Rss,
    /// The container's working set, against a share of its memory limit.
    ContainerLimit,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::HeapUsed => "heapUsed",
            Metric::HeapLimit => "heapLimit",
            Metric::Rss => "rss",
            Metric::ContainerLimit => "containerLimit",
        }
    }

    /// Resident metrics see the snapshot's own memory spike.
    pub fn is_resident(self) -> bool {
        matches!(self, Metric::Rss | Metric::ContainerLimit)
    }
}

#[derive(Debug, Clone)]
pub struct Threshold {
    pub metric: Metric,
    pub limit: u64,
    /// Below this the threshold re-arms.
    pub lower: u64,
    armed: bool,
    /// The snapshot count ([`Gate::observe`]'s `epoch`) this threshold last saw.
    epoch: u64,
}

impl Threshold {
    /// `rearm_ratio` in (0, 1]: the lower mark as a share of the limit.
    pub fn new(metric: Metric, limit: u64, rearm_ratio: f64) -> Threshold {
        let lower = (limit as f64 * rearm_ratio.clamp(0.0, 1.0)) as u64;
        Threshold { metric, limit, lower, armed: true, epoch: 0 }
    }

    pub fn armed(&self) -> bool {
        self.armed
    }
}

/// What a reading leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Take a snapshot for threshold `index` (then call [`Gate::fired`]).
    Fire { index: usize, value: u64 },
    /// Threshold `index` crossed but `max` snapshots were already taken.
    MaxReached { index: usize, value: u64 },
}

#[derive(Debug)]
pub struct Gate {
    thresholds: Vec<Threshold>,
    cooldown: Duration,
    max: u32,
    taken: u32,
    pending: bool,
    last_end: Option<Instant>,
}

impl Gate {
    /// `epoch` is the current count of finished snapshots in the process.
    pub fn new(mut thresholds: Vec<Threshold>, cooldown: Duration, max: u32, epoch: u64) -> Gate {
        for t in &mut thresholds {
            t.epoch = epoch;
        }
        Gate { thresholds, cooldown, max, taken: 0, pending: false, last_end: None }
    }

    pub fn thresholds(&self) -> &[Threshold] {
        &self.thresholds
    }

    pub fn taken(&self) -> u32 {
        self.taken
    }

    /// A reading of `metric`. `snapshot_running` and `epoch` describe the
    /// process's snapshots (running now; how many have finished).
    pub fn observe(
        &mut self,
        metric: Metric,
        value: u64,
        now: Instant,
        snapshot_running: bool,
        epoch: u64,
    ) -> Option<Verdict> {
        if metric.is_resident() && snapshot_running {
            return None;
        }
        let cooling = self.last_end.is_some_and(|end| now < end + self.cooldown);
        let mut verdict = None;
        for (index, t) in self.thresholds.iter_mut().enumerate() {
            if t.metric != metric {
                continue;
            }
            if metric.is_resident() && t.epoch != epoch {
                t.epoch = epoch;
                if value >= t.limit {
                    t.armed = false;
                }
            }
            if value < t.lower {
                t.armed = true;
                continue;
            }
            if verdict.is_some() || !t.armed || value < t.limit || self.pending {
                continue;
            }
            if self.taken >= self.max {
                t.armed = false;
                verdict = Some(Verdict::MaxReached { index, value });
            } else if !cooling {
                verdict = Some(Verdict::Fire { index, value });
            }
        }
        verdict
    }

    /// The snapshot for threshold `index` was requested.
    pub fn fired(&mut self, index: usize) {
        self.thresholds[index].armed = false;
        self.pending = true;
        self.taken += 1;
    }

    /// Threshold `index` crossed but no snapshot was taken (e.g. not enough
    /// memory): wait for the metric to come down before trying again.
    pub fn disarm(&mut self, index: usize) {
        self.thresholds[index].armed = false;
    }

    /// A snapshot of this watcher's ended (written or not).
    pub fn finished(&mut self, now: Instant) {
        self.pending = false;
        self.last_end = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn gate(thresholds: Vec<Threshold>, cooldown_ms: u64, max: u32) -> Gate {
        Gate::new(thresholds, Duration::from_millis(cooldown_ms), max, 0)
    }

    #[test]
    fn fires_once_then_rearms_below_the_lower_mark() {
        let mut g = gate(vec![Threshold::new(Metric::HeapUsed, 100 * MB, 0.9)], 0, 10);
        let t0 = Instant::now();
        assert_eq!(g.observe(Metric::HeapUsed, 99 * MB, t0, false, 0), None);
        assert_eq!(
            g.observe(Metric::HeapUsed, 100 * MB, t0, false, 0),
            Some(Verdict::Fire { index: 0, value: 100 * MB })
        );
        g.fired(0);
        g.finished(t0);
        // Hovering above the lower mark: nothing.
        assert_eq!(g.observe(Metric::HeapUsed, 95 * MB, t0, false, 0), None);
        assert_eq!(g.observe(Metric::HeapUsed, 120 * MB, t0, false, 0), None);
        // Down below 90 MB, then up again: fires.
        assert_eq!(g.observe(Metric::HeapUsed, 80 * MB, t0, false, 0), None);
        assert!(matches!(g.observe(Metric::HeapUsed, 101 * MB, t0, false, 0), Some(Verdict::Fire { .. })));
    }

    #[test]
    fn cooldown_delays_and_max_stops() {
        let mut g = gate(vec![Threshold::new(Metric::HeapUsed, 10, 0.5)], 1000, 2);
        let t0 = Instant::now();
        assert!(g.observe(Metric::HeapUsed, 10, t0, false, 0).is_some());
        g.fired(0);
        // In flight: nothing else.
        assert_eq!(g.observe(Metric::HeapUsed, 1, t0, false, 0), None);
        assert_eq!(g.observe(Metric::HeapUsed, 10, t0, false, 0), None);
        g.finished(t0);
        // Re-armed (went to 1) but cooling down: stays armed, fires after.
        assert_eq!(g.observe(Metric::HeapUsed, 10, t0 + Duration::from_millis(500), false, 0), None);
        assert!(g.observe(Metric::HeapUsed, 10, t0 + Duration::from_millis(1001), false, 0).is_some());
        g.fired(0);
        g.finished(t0 + Duration::from_millis(1001));
        assert_eq!(g.observe(Metric::HeapUsed, 1, t0 + Duration::from_secs(5), false, 0), None);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(g.observe(Metric::HeapUsed, 10, later, false, 0), Some(Verdict::MaxReached { index: 0, value: 10 }));
        assert_eq!(g.observe(Metric::HeapUsed, 10, later, false, 0), None, "reported once per crossing");
        assert_eq!(g.taken(), 2);
    }

    #[test]
    fn a_snapshots_own_rss_spike_never_fires() {
        let mut g = gate(vec![Threshold::new(Metric::Rss, 500 * MB, 0.9)], 0, 10);
        let t0 = Instant::now();
        assert_eq!(g.observe(Metric::Rss, 300 * MB, t0, false, 0), None);
        // Another trigger's snapshot runs: RSS readings are ignored.
        assert_eq!(g.observe(Metric::Rss, 900 * MB, t0, true, 0), None);
        // It ended (epoch 1); RSS still high from the snapshot: disarmed, not fired.
        assert_eq!(g.observe(Metric::Rss, 800 * MB, t0, false, 1), None);
        assert!(!g.thresholds()[0].armed());
        // Memory given back, then real growth: fires.
        assert_eq!(g.observe(Metric::Rss, 300 * MB, t0, false, 1), None);
        assert!(g.observe(Metric::Rss, 600 * MB, t0, false, 1).is_some());
    }
}
