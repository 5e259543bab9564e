//! Memory figures of this process and of its container, read from `/proc` and
//! the cgroup filesystem: what thresholds compare against and what the
//! preflight compares a snapshot's estimated cost with.
//!
//! Containers are found the way the kernel describes them: the process's
//! cgroup from `/proc/self/cgroup`, the hierarchy's mount point and root from
//! `/proc/self/mountinfo` (inside a container the mount root is usually the
//! container's own cgroup), cgroup v2 (`memory.max`, `memory.current`) or v1
//! (`memory.limit_in_bytes`, `memory.usage_in_bytes`). Usage is the working set
//! (usage minus inactive file cache), the figure the kubelet and the OOM
//! killer's pressure follow; page cache that can be dropped is not a danger.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// v1 reports "no limit" as a page-aligned `i64::MAX`; anything this large is no limit.
const UNLIMITED: u64 = 1 << 60;

/// Resident set size of this process, in bytes.
pub fn process_rss() -> io::Result<u64> {
    let statm = fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/self/statm"))?;
    Ok(pages * page_size())
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as u64
    } else {
        4096
    }
}

/// `MemAvailable` of `/proc/meminfo`: what the machine can give without swapping.
pub fn machine_available() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    meminfo_field(&meminfo, "MemAvailable:")
}

fn meminfo_field(meminfo: &str, key: &str) -> Option<u64> {
    let line = meminfo.lines().find(|line| line.starts_with(key))?;
    let kib: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// Which cgroup interface the memory controller speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// The memory cgroup this process belongs to.
#[derive(Debug, Clone)]
pub struct Cgroup {
    pub version: CgroupVersion,
    /// The process's own cgroup directory.
    pub dir: PathBuf,
    /// The hierarchy's mount point: limits are looked up no higher than this.
    pub mount: PathBuf,
}

/// A memory limit that applies to this process, and where it was set.
#[derive(Debug, Clone)]
pub struct ContainerLimit {
    pub limit: u64,
    /// The cgroup directory whose limit is the tightest.
    pub dir: PathBuf,
    pub version: CgroupVersion,
}

impl Cgroup {
    /// The memory cgroup of this process, if the system has one mounted.
    pub fn detect() -> Option<Cgroup> {
        let cgroup = fs::read_to_string("/proc/self/cgroup").ok()?;
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
        Cgroup::from_proc(&cgroup, &mountinfo, Path::new("/"))
    }

    /// Resolves the process's memory cgroup from the text of
    /// `/proc/self/cgroup` and `/proc/self/mountinfo`; `fs_root` prefixes the
    /// mount points (tests point it at a directory of fake files).
    pub fn from_proc(cgroup: &str, mountinfo: &str, fs_root: &Path) -> Option<Cgroup> {
        // v1 memory controller first: when both exist (hybrid), v1 holds the limits.
        for (version, wanted) in [(CgroupVersion::V1, Some("memory")), (CgroupVersion::V2, None)] {
            let Some(path) = cgroup_path(cgroup, wanted) else { continue };
            let Some((mount, root)) = cgroup_mount(mountinfo, version) else { continue };
            let relative = path.strip_prefix(root.as_str()).unwrap_or(path).trim_start_matches('/');
            let mount = fs_root.join(mount.trim_start_matches('/'));
            let dir = if relative.is_empty() { mount.clone() } else { mount.join(relative) };
            if dir.is_dir() {
                return Some(Cgroup { version, dir, mount });
            }
        }
        None
    }

    /// Directories from the process's cgroup up to the mount point.
    fn levels(&self) -> impl Iterator<Item = &Path> {
        let mount = self.mount.as_path();
        self.dir.ancestors().take_while(move |dir| dir.starts_with(mount))
    }

    /// The tightest memory limit on the way up, if any level sets one.
    pub fn limit(&self) -> Option<ContainerLimit> {
        let mut tightest: Option<ContainerLimit> = None;
        for dir in self.levels() {
            if let Some(limit) = self.read_limit(dir) {
                if tightest.as_ref().is_none_or(|t| limit < t.limit) {
                    tightest = Some(ContainerLimit { limit, dir: dir.to_path_buf(), version: self.version });
                }
            }
        }
        tightest
    }

    fn read_limit(&self, dir: &Path) -> Option<u64> {
        let file = match self.version {
            CgroupVersion::V1 => "memory.limit_in_bytes",
            CgroupVersion::V2 => "memory.max",
        };
        let text = fs::read_to_string(dir.join(file)).ok()?;
        let text = text.trim();
        if text == "max" {
            return None;
        }
        text.parse::<u64>().ok().filter(|&limit| limit < UNLIMITED)
    }

    /// Working set of the cgroup at `dir`: usage minus inactive file cache.
    pub fn working_set(&self, dir: &Path) -> Option<u64> {
        let (usage_file, inactive_key) = match self.version {
            CgroupVersion::V1 => ("memory.usage_in_bytes", "total_inactive_file"),
            CgroupVersion::V2 => ("memory.current", "inactive_file"),
        };
        let usage: u64 = fs::read_to_string(dir.join(usage_file)).ok()?.trim().parse().ok()?;
        let stat = fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
        let inactive = stat
            .lines()
            .find_map(|line| line.strip_prefix(inactive_key)?.strip_prefix(' ')?.trim().parse::<u64>().ok())
            .unwrap_or(0);
        Some(usage.saturating_sub(inactive))
    }

    /// The least headroom (limit minus working set) over every limited level.
    pub fn headroom(&self) -> Option<u64> {
        self.levels()
            .filter_map(|dir| {
                let limit = self.read_limit(dir)?;
                Some(limit.saturating_sub(self.working_set(dir).unwrap_or(0)))
            })
            .min()
    }
}

/// The path of this process's cgroup for `controller` (v1), or the unified
/// hierarchy's path (`0::/…`, v2) when `controller` is `None`.
fn cgroup_path<'a>(cgroup: &'a str, controller: Option<&str>) -> Option<&'a str> {
    cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        match controller {
            Some(name) => controllers.split(',').any(|c| c == name).then_some(path),
            None => (id == "0" && controllers.is_empty()).then_some(path),
        }
    })
}

/// Mount point and root of the cgroup hierarchy of `version` (for v1, the one
/// carrying the memory controller), from `/proc/self/mountinfo`.
fn cgroup_mount(mountinfo: &str, version: CgroupVersion) -> Option<(String, String)> {
    mountinfo.lines().find_map(|line| {
        // "id parent major:minor root mount-point options … - fstype source super-options"
        let (left, right) = line.split_once(" - ")?;
        let fields: Vec<&str> = left.split(' ').collect();
        let mut right = right.split(' ');
        let fstype = right.next()?;
        let super_options = right.nth(1).unwrap_or("");
        let (root, mount) = (fields.get(3)?, fields.get(4)?);
        let matches = match version {
            CgroupVersion::V2 => fstype == "cgroup2",
            CgroupVersion::V1 => fstype == "cgroup" && super_options.split(',').any(|o| o == "memory"),
        };
        matches.then(|| (unescape(mount), unescape(root)))
    })
}

/// mountinfo escapes spaces and a few other bytes as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            let octal = std::str::from_utf8(&bytes[i + 1..i + 4]).ok().and_then(|s| u8::from_str_radix(s, 8).ok());
            if let Some(byte) = octal {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Memory a snapshot may still use, and what bounded it.
#[derive(Debug, Clone)]
pub struct Available {
    pub bytes: u64,
    /// `"machine"` (MemAvailable) or `"container"` (cgroup headroom).
    pub source: &'static str,
}

/// The smaller of the machine's available memory and the container's headroom.
pub fn available(cgroup: Option<&Cgroup>) -> Option<Available> {
    let machine = machine_available().map(|bytes| Available { bytes, source: "machine" });
    let container = cgroup.and_then(Cgroup::headroom).map(|bytes| Available { bytes, source: "container" });
    match (machine, container) {
        (Some(m), Some(c)) => Some(if c.bytes < m.bytes { c } else { m }),
        (m, c) => m.or(c),
    }
}

/// A snapshot that would not fit: what it is estimated to need, and what is left.
#[derive(Debug, Clone)]
pub struct Shortfall {
    pub heap_used: u64,
    pub needed: u64,
    pub available: Available,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a snapshot of a {} heap needs about {} and the {} has {} available",
            human(self.heap_used),
            human(self.needed),
            self.available.source,
            human(self.available.bytes)
        )
    }
}

/// The preflight: a snapshot needs about `factor` × the used heap of extra
/// memory; `Err` when less is left. Memory that cannot be read never refuses.
pub fn preflight(heap_used: u64, factor: f64, cgroup: Option<&Cgroup>) -> Result<(), Shortfall> {
    let needed = (heap_used as f64 * factor) as u64;
    match available(cgroup) {
        Some(available) if needed > available.bytes => Err(Shortfall { heap_used, needed, available }),
        _ => Ok(()),
    }
}

/// Sizes as people read them in logs.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(name), text).unwrap();
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("heapscope-memory-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn v2_in_a_container_uses_the_mount_root_and_the_tightest_level() {
        let root = scratch("v2");
        let mount = root.join("sys/fs/cgroup");
        write(&mount, "memory.max", "max\n");
        write(&mount.join("app"), "memory.max", "1073741824\n");
        write(&mount.join("app"), "memory.current", "600000000\n");
        write(&mount.join("app"), "memory.stat", "anon 1\ninactive_file 100000000\nactive_file 5\n");
        write(&mount.join("app/worker"), "memory.max", "max\n");
        write(&mount.join("app/worker"), "memory.current", "10\n");
        // Inside a cgroup namespace the process sees its cgroup relative to the mount root.
        let cgroup = "0::/kubepods/pod1/app/worker\n";
        let mountinfo = "30 25 0:26 /kubepods/pod1 /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
        let cg = Cgroup::from_proc(cgroup, mountinfo, &root).expect("cgroup found");
        assert_eq!(cg.version, CgroupVersion::V2);
        assert_eq!(cg.dir, mount.join("app/worker"));
        let limit = cg.limit().expect("a limit");
        assert_eq!((limit.limit, limit.dir.clone()), (1 << 30, mount.join("app")));
        assert_eq!(cg.working_set(&mount.join("app")), Some(500_000_000));
        assert_eq!(cg.headroom(), Some((1 << 30) - 500_000_000));
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn v1_unlimited_is_no_limit() {
        let root = scratch("v1");
        let mount = root.join("sys/fs/cgroup/memory");
        write(&mount, "memory.limit_in_bytes", "9223372036854771712\n");
        write(&mount.join("job"), "memory.limit_in_bytes", "9223372036854771712\n");
        let cgroup = "4:memory:/job\n0::/\n";
        let mountinfo = "40 30 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let cg = Cgroup::from_proc(cgroup, mountinfo, &root).expect("cgroup found");
        assert_eq!(cg.version, CgroupVersion::V1);
        assert!(cg.limit().is_none());
        assert!(cg.headroom().is_none());
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn escaped_mount_points() {
        assert_eq!(unescape(r"/mnt/with\040space"), "/mnt/with space");
        assert_eq!(unescape(r"/plain"), "/plain");
    }

    #[test]
    fn this_process_has_an_rss() {
        assert!(process_rss().unwrap() > 1 << 20);
        assert!(meminfo_field("MemTotal: 10 kB\nMemAvailable:   2048 kB\n", "MemAvailable:") == Some(2 << 20));
    }
}
