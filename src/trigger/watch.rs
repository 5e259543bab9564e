//! Memory watchers: thresholds on heap used, RSS, the share of V8's heap limit
//! and of the container's memory limit, read after every full GC (heap) and
//! by a poller thread (resident memory), decided by
//! [`heapscope_core::gate::Gate`], turned into requests at the station.
//!
//! The GC epilogue runs inside V8's GC: it only reads heap statistics and, at
//! most, asks the station for a snapshot (taken later, by interrupt). Before a
//! request, a preflight compares the memory a snapshot is expected to need
//! with what the machine and the container have left; when it does not fit,
//! the watcher reports 'skipped' instead of inviting the OOM killer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heapscope_core::gate::{Gate, Metric, Threshold, TimerVerdict, Verdict};
use heapscope_core::memory::{self, human, Cgroup, CgroupVersion};

use super::event::{Crossing, Skipped, ThresholdInfo};
use super::near_limit::NearLimit;
use super::station::{lock, log_line, DumpConfig, Request, Station, Trigger, Watcher};
use super::ArmError;
use crate::v8::{AfterFullGc, FullGcHook, Isolate};

/// A watcher's settings, resolved to bytes.
pub struct WatchSettings {
    pub gate: Gate,
    pub config: Arc<DumpConfig>,
    pub interval: Duration,
    /// Expected snapshot cost as a multiple of the used heap.
    pub memory_factor: f64,
    pub cgroup: Option<Cgroup>,
    /// The cgroup directory whose working set the container threshold reads.
    pub container_dir: Option<PathBuf>,
    /// Snapshots to write near the heap limit (0: none).
    pub near_limit: u32,
    /// The timer's period, when the gate has one.
    pub every: Option<Duration>,
}

/// The thresholds a watcher was asked for, before they are resolved to bytes.
pub struct Asked {
    pub heap_used: Option<f64>,
    pub rss: Option<f64>,
    pub heap_limit_ratio: Option<f64>,
    pub container_limit_ratio: Option<f64>,
    pub rearm_ratio: f64,
}

/// Thresholds resolved against V8's heap limit and the container's memory
/// limit: those the gate watches, and each as the watcher understood it.
pub struct Plan {
    pub thresholds: Vec<Threshold>,
    pub infos: Vec<ThresholdInfo>,
    /// The cgroup directory whose working set the container threshold reads.
    pub container_dir: Option<PathBuf>,
    pub container_limit: Option<u64>,
}

/// Resolves what was asked; a threshold that cannot be resolved (no cgroup,
/// no limit) is inactive and says why.
pub fn plan(asked: &Asked, heap_limit: u64, cgroup: Option<&Cgroup>) -> Plan {
    let container = cgroup.and_then(Cgroup::limit);
    let mut plan = Plan {
        thresholds: Vec::new(),
        infos: Vec::new(),
        container_dir: None,
        container_limit: container.as_ref().map(|c| c.limit),
    };
    let mut add = |metric: Metric, limit: Option<u64>, ratio: Option<f64>, note: Option<String>| {
        if let Some(limit) = limit {
            plan.thresholds.push(Threshold::new(metric, limit, asked.rearm_ratio));
        }
        plan.infos.push(ThresholdInfo {
            metric: metric.name().into(),
            limit: limit.map(|l| l as f64),
            ratio,
            active: limit.is_some(),
            note,
        });
    };
    if let Some(bytes) = asked.heap_used {
        add(Metric::HeapUsed, Some(bytes as u64), None, None);
    }
    if let Some(ratio) = asked.heap_limit_ratio {
        let note = format!("V8 heap limit {}", human(heap_limit));
        add(Metric::HeapLimit, Some((heap_limit as f64 * ratio) as u64), Some(ratio), Some(note));
    }
    if let Some(bytes) = asked.rss {
        add(Metric::Rss, Some(bytes as u64), None, None);
    }
    let mut container_dir = None;
    if let Some(ratio) = asked.container_limit_ratio {
        match (cgroup, &container) {
            (Some(cg), Some(limit)) => {
                let note = format!(
                    "cgroup {} memory limit {} at {}",
                    if cg.version == CgroupVersion::V2 { "v2" } else { "v1" },
                    human(limit.limit),
                    limit.dir.display()
                );
                container_dir = Some(limit.dir.clone());
                add(Metric::ContainerLimit, Some((limit.limit as f64 * ratio) as u64), Some(ratio), Some(note));
            }
            (Some(_), None) => {
                add(Metric::ContainerLimit, None, Some(ratio), Some("inactive: the cgroup sets no memory limit".into()))
            }
            (None, _) => {
                add(Metric::ContainerLimit, None, Some(ratio), Some("inactive: no memory cgroup found".into()))
            }
        }
    }
    plan.container_dir = container_dir;
    plan
}

fn crossing(metric: Metric, value: u64, limit: u64) -> Crossing {
    Crossing { metric: metric.name().into(), value: value as f64, limit: limit as f64 }
}

/// `30m`, `1h30m`, `45s`, `250ms`: a period as people write it.
fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) || ms == 0 {
        return format!("{ms}ms");
    }
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

pub struct Watch {
    pub id: u32,
    isolate: Isolate,
    /// Weak: a closed station stops its watchers; they never keep it alive.
    station: Weak<Station>,
    config: Arc<DumpConfig>,
    gate: Mutex<Gate>,
    memory_factor: f64,
    cgroup: Option<Cgroup>,
    container_dir: Option<PathBuf>,
    last_heap_used: AtomicU64,
    every: Option<Duration>,
    stopped: Mutex<bool>,
    wake: Condvar,
    poller: Mutex<Option<JoinHandle<()>>>,
    gc: Mutex<Option<FullGcHook>>,
    near: Mutex<Option<Arc<NearLimit>>>,
}

impl Watch {
    /// Starts watching. Isolate thread only.
    pub fn start(id: u32, station: &Arc<Station>, settings: WatchSettings) -> Result<Arc<Watch>, ArmError> {
        let isolate = station.isolate;
        let watch = Arc::new(Watch {
            id,
            isolate,
            station: Arc::downgrade(station),
            config: settings.config.clone(),
            gate: Mutex::new(settings.gate),
            memory_factor: settings.memory_factor,
            cgroup: settings.cgroup.clone(),
            container_dir: settings.container_dir,
            last_heap_used: AtomicU64::new(isolate.heap_statistics().used_heap_size),
            every: settings.every,
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            poller: Mutex::new(None),
            gc: Mutex::new(None),
            near: Mutex::new(None),
        });
        // The epilogue always runs: it also keeps the heap figure the
        // preflight needs up to date.
        match isolate.on_full_gc(watch.clone()) {
            Some(hook) => *lock(&watch.gc) = Some(hook),
            None => return Err(ArmError::GcCallback),
        }
        let resident = lock(&watch.gate).thresholds().iter().any(|t| t.metric.is_resident());
        if resident || settings.every.is_some() {
            let poller = watch.clone();
            // The timer is looked at as often as its period asks, at most.
            let interval = settings.every.map_or(settings.interval, |every| every.min(settings.interval));
            let spawned = std::thread::Builder::new()
                .name("heapscope-poller".into())
                .spawn(move || poller.poll(interval))
                .map_err(|source| ArmError::Thread { name: "memory poller", source });
            match spawned {
                Ok(handle) => *lock(&watch.poller) = Some(handle),
                Err(e) => {
                    watch.stop();
                    return Err(e);
                }
            }
        }
        if settings.near_limit > 0 {
            let near = NearLimit::install(
                station,
                id,
                settings.config,
                settings.near_limit,
                settings.memory_factor,
                settings.cgroup,
            );
            *lock(&watch.near) = Some(near);
        }
        Ok(watch)
    }

    fn poll(&self, interval: Duration) {
        loop {
            {
                let stopped = lock(&self.stopped);
                let (stopped, _) = self.wake.wait_timeout(stopped, interval).unwrap_or_else(|p| p.into_inner());
                if *stopped {
                    return;
                }
            }
            if let Ok(rss) = memory::process_rss() {
                self.observe(Metric::Rss, rss);
            }
            if let (Some(cgroup), Some(dir)) = (&self.cgroup, &self.container_dir) {
                if let Some(working_set) = cgroup.working_set(dir) {
                    self.observe(Metric::ContainerLimit, working_set);
                }
            }
            if self.every.is_some() {
                self.tick_timer();
            }
        }
    }

    fn observe(&self, metric: Metric, value: u64) {
        let (running, epoch) = crate::capture::activity();
        // Held through the request so that the snapshot's end (`finished`)
        // cannot be recorded before its start (`fired`).
        let mut gate = lock(&self.gate);
        match gate.observe(metric, value, Instant::now(), running, epoch) {
            None => {}
            Some(Verdict::MaxReached { index, value }) => {
                let limit = gate.thresholds()[index].limit;
                let message = format!(
                    "{} reached {} (limit {}) but this watcher already wrote its maximum of {} snapshots",
                    metric.name(),
                    human(value),
                    human(limit),
                    gate.taken()
                );
                drop(gate);
                self.tell(Some(crossing(metric, value, limit)), Skipped::max_snapshots(message));
            }
            Some(Verdict::Fire { index, value }) => {
                let limit = gate.thresholds()[index].limit;
                let heap_used = self.last_heap_used.load(Ordering::Relaxed);
                if let Err(short) = memory::preflight(heap_used, self.memory_factor, self.cgroup.as_ref()) {
                    gate.disarm(index);
                    drop(gate);
                    let message =
                        format!("{} reached {} (limit {}) but {short}", metric.name(), human(value), human(limit));
                    if !self.config.quiet {
                        log_line(&format!("snapshot skipped: {message}"));
                    }
                    self.tell(Some(crossing(metric, value, limit)), Skipped::memory(message, &short));
                    return;
                }
                let request = Request {
                    trigger: Trigger::Threshold,
                    reason: format!("{} {} ≥ {}", metric.name(), human(value), human(limit)),
                    watcher: self.id,
                    crossing: Some(crossing(metric, value, limit)),
                    config: self.config.clone(),
                };
                if self.station.upgrade().is_some_and(|station| station.request(request)) {
                    gate.fired(index);
                }
            }
        }
    }

    /// The timer's turn (`everyMs`), from the poller: the same maximum,
    /// cooldown and preflight as a threshold's snapshot.
    fn tick_timer(&self) {
        let mut gate = lock(&self.gate);
        let now = Instant::now();
        match gate.timer(now) {
            None => {}
            Some(TimerVerdict::MaxReached) => {
                let message = format!(
                    "the timer is due but this watcher already wrote its maximum of {} snapshots; the timer stops",
                    gate.taken()
                );
                drop(gate);
                self.tell(None, Skipped::max_snapshots(message));
            }
            Some(TimerVerdict::Fire) => {
                let heap_used = self.last_heap_used.load(Ordering::Relaxed);
                if let Err(short) = memory::preflight(heap_used, self.memory_factor, self.cgroup.as_ref()) {
                    gate.timer_skipped(now);
                    drop(gate);
                    let message = format!("the timer is due but {short}");
                    if !self.config.quiet {
                        log_line(&format!("snapshot skipped: {message}"));
                    }
                    self.tell(None, Skipped::memory(message, &short));
                    return;
                }
                let request = Request {
                    trigger: Trigger::Timer,
                    reason: format!("every {}", duration(self.every.unwrap_or_default())),
                    watcher: self.id,
                    crossing: None,
                    config: self.config.clone(),
                };
                if self.station.upgrade().is_some_and(|station| station.request(request)) {
                    gate.timer_fired(now);
                }
            }
        }
    }

    /// Tells JS this watcher skipped a snapshot.
    fn tell(&self, crossing: Option<Crossing>, skipped: Skipped) {
        if let Some(station) = self.station.upgrade() {
            station.tell_skipped(self.id, crossing, skipped);
        }
    }
}

impl Watcher for Watch {
    fn id(&self) -> u32 {
        self.id
    }

    /// Stops every callback and thread of this watcher. Isolate thread only.
    fn stop(&self) {
        if let Some(hook) = lock(&self.gc).take() {
            self.isolate.remove_full_gc(hook);
        }
        *lock(&self.stopped) = true;
        self.wake.notify_all();
        if let Some(poller) = lock(&self.poller).take() {
            let _ = poller.join();
        }
        if let Some(near) = lock(&self.near).take() {
            near.uninstall();
        }
    }

    fn taken(&self) -> u32 {
        lock(&self.gate).taken()
    }

    /// A snapshot this watcher asked for ended.
    fn finished(&self) {
        lock(&self.gate).finished(Instant::now());
    }
}

impl AfterFullGc for Watch {
    fn after_full_gc(&self) {
        let used = self.isolate.heap_statistics().used_heap_size;
        self.last_heap_used.store(used, Ordering::Relaxed);
        self.observe(Metric::HeapUsed, used);
        self.observe(Metric::HeapLimit, used);
    }
}
