//! What triggers tell JavaScript: a snapshot taken (and which threshold
//! asked for it), or one not taken, and why.

use heapscope_core::memory::Shortfall;
use napi_derive::napi;

use crate::capture::SnapshotOutcome;

/// Which threshold was crossed, and by how much.
#[napi(object)]
#[derive(Clone)]
pub struct Crossing {
    /// `heapUsed`, `heapLimit`, `rss` or `containerLimit`.
    pub metric: String,
    pub value: f64,
    pub limit: f64,
}

/// Why a triggered snapshot was not taken.
#[napi(object)]
#[derive(Clone)]
pub struct Skipped {
    /// `memory` (preflight) or `max-snapshots`.
    pub reason: String,
    pub message: String,
    pub needed: Option<f64>,
    pub available: Option<f64>,
}

impl Skipped {
    /// Refused by the preflight: what the snapshot would need, what is left.
    pub fn memory(message: String, short: &Shortfall) -> Skipped {
        Skipped {
            reason: "memory".into(),
            message,
            needed: Some(short.needed as f64),
            available: Some(short.available.bytes as f64),
        }
    }

    /// The watcher already wrote its `maxSnapshots`.
    pub fn max_snapshots(message: String) -> Skipped {
        Skipped { reason: "max-snapshots".into(), message, needed: None, available: None }
    }
}

/// What native triggers tell JS.
#[napi(object)]
pub struct TriggerEvent {
    /// `snapshot` or `skipped`.
    pub kind: String,
    /// The watcher concerned; 0 for the signal.
    pub watcher: u32,
    pub outcome: Option<SnapshotOutcome>,
    pub crossing: Option<Crossing>,
    /// Files removed by retention after this snapshot.
    pub pruned: Option<Vec<String>>,
    pub skipped: Option<Skipped>,
}

/// One threshold as the watcher understood it.
#[napi(object)]
pub struct ThresholdInfo {
    pub metric: String,
    /// The limit in bytes, when active.
    pub limit: Option<f64>,
    /// The share asked for (`heapLimit`, `containerLimit`).
    pub ratio: Option<f64>,
    pub active: bool,
    /// Why a threshold is inactive, or where its limit comes from.
    pub note: Option<String>,
}
