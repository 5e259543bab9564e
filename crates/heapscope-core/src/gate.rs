//! The gate of a memory watcher: given readings of its metrics, decides when
//! a threshold crossing becomes a snapshot.
//!
//! Rules, per threshold: it fires when its metric reaches the limit while
//! armed; once fired (or skipped) it is disarmed until the metric falls below
//! its lower mark (hysteresis, so a heap hovering at the limit does not dump
//! again and again). Per watcher: one snapshot in flight at a time, at least
//! `cooldown` between the end of one and the next, at most `max` in all.
//!
//! A watcher may also have a timer (`every`): a snapshot each period, under
//! the same rules (one in flight, the cooldown, the maximum); a period that
//! comes due while they hold it back fires as soon as they allow.
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

/// What the timer says at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerVerdict {
    /// Take a snapshot (then call [`Gate::timer_fired`] or [`Gate::timer_skipped`]).
    Fire,
    /// Due, but `max` snapshots were already taken: the timer stops.
    MaxReached,
}

#[derive(Debug)]
pub struct Gate {
    thresholds: Vec<Threshold>,
    cooldown: Duration,
    max: u32,
    taken: u32,
    pending: bool,
    last_end: Option<Instant>,
    /// The timer's period, and when it is next due (`None`: stopped).
    every: Option<Duration>,
    due: Option<Instant>,
}

impl Gate {
    /// `epoch` is the current count of finished snapshots in the process.
    pub fn new(mut thresholds: Vec<Threshold>, cooldown: Duration, max: u32, epoch: u64) -> Gate {
        for t in &mut thresholds {
            t.epoch = epoch;
        }
        Gate { thresholds, cooldown, max, taken: 0, pending: false, last_end: None, every: None, due: None }
    }

    /// Adds a timer: a snapshot every `every`, the first one period after `now`.
    pub fn with_timer(mut self, every: Duration, now: Instant) -> Gate {
        self.every = Some(every);
        self.due = Some(now + every);
        self
    }

    pub fn has_timer(&self) -> bool {
        self.every.is_some()
    }

    /// The timer at `now`: due, and not held back by a snapshot in flight or
    /// the cooldown.
    pub fn timer(&mut self, now: Instant) -> Option<TimerVerdict> {
        let due = self.due?;
        if now < due || self.pending || self.last_end.is_some_and(|end| now < end + self.cooldown) {
            return None;
        }
        if self.taken >= self.max {
            self.due = None;
            return Some(TimerVerdict::MaxReached);
        }
        Some(TimerVerdict::Fire)
    }

    /// The timer's snapshot was requested at `now`; the next is one period later.
    pub fn timer_fired(&mut self, now: Instant) {
        self.pending = true;
        self.taken += 1;
        self.due = self.every.map(|every| now + every);
    }

    /// The timer's snapshot was not taken (not enough memory): the next try
    /// is one period later.
    pub fn timer_skipped(&mut self, now: Instant) {
        self.due = self.every.map(|every| now + every);
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
    fn the_timer_fires_each_period_under_the_cooldown_and_the_maximum() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut g = gate(vec![], 1500, 3).with_timer(Duration::from_millis(1000), t0);
        assert_eq!(g.timer(ms(999)), None);
        assert_eq!(g.timer(ms(1000)), Some(TimerVerdict::Fire));
        g.timer_fired(ms(1000));
        // In flight past the next period: held back.
        assert_eq!(g.timer(ms(2100)), None);
        g.finished(ms(2200));
        // Due since 2000, but the cooldown runs to 3700.
        assert_eq!(g.timer(ms(3000)), None);
        assert_eq!(g.timer(ms(3700)), Some(TimerVerdict::Fire));
        // Skipped (no memory): tried again a period later.
        g.timer_skipped(ms(3700));
        assert_eq!(g.timer(ms(4600)), None);
        assert_eq!(g.timer(ms(4700)), Some(TimerVerdict::Fire));
        g.timer_fired(ms(4700));
        g.finished(ms(4800));
        // A threshold's snapshot counts toward the same maximum.
        g.taken += 1;
        assert_eq!(g.timer(ms(7000)), Some(TimerVerdict::MaxReached));
        assert_eq!(g.timer(ms(9000)), None, "stopped, reported once");
        assert_eq!(g.taken(), 3);
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
