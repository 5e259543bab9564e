//! Retention: keep at most N snapshots and/or M bytes per directory, removing
//! the oldest first, and never a file heapscope did not write.
//!
//! Each directory with a policy gets a hidden index, `.heapscope-index`, where
//! every snapshot written under a policy is recorded with its device, inode and
//! size. Only files whose device, inode and size still match their record are
//! candidates for removal, so a user's file — even one with the same name as an
//! old snapshot — is never touched. The index is locked (`flock`) while it is
//! read and rewritten, so several processes sharing a directory agree.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub const INDEX_NAME: &str = ".heapscope-index";

/// How much of a directory heapscope's snapshots may occupy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub max_files: Option<u32>,
    pub max_bytes: Option<u64>,
}

impl Policy {
    pub fn is_active(&self) -> bool {
        self.max_files.is_some() || self.max_bytes.is_some()
    }
}

/// A retention step that failed, with the file it was about.
#[derive(Debug)]
pub struct RetentionError {
    pub op: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
}

impl fmt::Display for RetentionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "retention: {} '{}': {}", self.op, self.path.display(), self.source)
    }
}

impl std::error::Error for RetentionError {}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    written_ms: u64,
    bytes: u64,
    dev: u64,
    ino: u64,
    name: String,
}

impl Entry {
    fn parse(line: &str) -> Option<Entry> {
        let mut fields = line.splitn(5, ' ');
        Some(Entry {
            written_ms: fields.next()?.parse().ok()?,
            bytes: fields.next()?.parse().ok()?,
            dev: fields.next()?.parse().ok()?,
            ino: fields.next()?.parse().ok()?,
            name: fields.next().filter(|n| !n.is_empty() && !n.contains('/'))?.to_string(),
        })
    }

    /// The file is still the one heapscope wrote.
    fn matches(&self, meta: &fs::Metadata) -> bool {
        meta.is_file() && meta.dev() == self.dev && meta.ino() == self.ino && meta.size() == self.bytes
    }
}

/// Records `written` (a snapshot heapscope just finished) in its directory's
/// index, then removes the oldest recorded snapshots until `policy` holds. The
/// newest snapshot is always kept. Returns the paths removed.
pub fn record_and_prune(written: &Path, policy: Policy) -> Result<Vec<PathBuf>, RetentionError> {
    let dir = written.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name =
        written.file_name().and_then(|n| n.to_str()).filter(|n| !n.contains('\n')).ok_or_else(|| RetentionError {
            op: "record",
            path: written.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "file name is not indexable"),
        })?;

    let index_path = dir.join(INDEX_NAME);
    let mut index = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&index_path)
        .map_err(err("open", &index_path))?;
    lock_exclusive(&index).map_err(err("lock", &index_path))?;

    let mut text = String::new();
    index.read_to_string(&mut text).map_err(err("read", &index_path))?;
    let mut entries: Vec<Entry> = text.lines().filter_map(Entry::parse).collect();

    let meta = fs::metadata(written).map_err(err("stat", written))?;
    let written_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    entries.retain(|e| e.name != name);
    entries.push(Entry { written_ms, bytes: meta.size(), dev: meta.dev(), ino: meta.ino(), name: name.to_string() });

    // Forget records whose file is gone or is no longer ours.
    entries.retain(|e| fs::symlink_metadata(dir.join(&e.name)).is_ok_and(|m| e.matches(&m)));
    entries.sort_by_key(|e| e.written_ms);

    let mut removed = Vec::new();
    let over = |entries: &[Entry]| {
        let total: u64 = entries.iter().map(|e| e.bytes).sum();
        policy.max_files.is_some_and(|n| entries.len() > n.max(1) as usize)
            || policy.max_bytes.is_some_and(|m| total > m)
    };
    while entries.len() > 1 && over(&entries) {
        let oldest = entries.remove(0);
        let path = dir.join(&oldest.name);
        match fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                // Keep the record: the file is still there, still ours.
                entries.insert(0, oldest);
                rewrite(&mut index, &entries).map_err(err("write", &index_path))?;
                return Err(RetentionError { op: "remove", path, source: e });
            }
        }
    }
    rewrite(&mut index, &entries).map_err(err("write", &index_path))?;
    Ok(removed)
}

fn rewrite(index: &mut File, entries: &[Entry]) -> io::Result<()> {
    let mut text = String::new();
    for e in entries {
        text.push_str(&format!("{} {} {} {} {}\n", e.written_ms, e.bytes, e.dev, e.ino, e.name));
    }
    index.set_len(0)?;
    index.seek(SeekFrom::Start(0))?;
    index.write_all(text.as_bytes())?;
    index.sync_data()
}

fn err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RetentionError {
    let path = path.to_path_buf();
    move |source| RetentionError { op, path, source }
}

/// Takes an exclusive `flock` on `file`; it is released when the file is
/// closed, on every return path.
fn lock_exclusive(file: &File) -> io::Result<()> {
    loop {
        // SAFETY: a valid open descriptor; flock has no memory effects.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("heapscope-retention-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn snapshot(dir: &Path, name: &str, size: usize) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, vec![b'x'; size]).unwrap();
        path
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != INDEX_NAME)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn keeps_the_newest_n_and_never_a_foreign_file() {
        let dir = scratch("count");
        let policy = Policy { max_files: Some(2), max_bytes: None };
        snapshot(&dir, "user-notes.heapsnapshot", 10);
        for i in 1..=4 {
            let path = snapshot(&dir, &format!("s{i}.heapsnapshot"), 100);
            let removed = record_and_prune(&path, policy).unwrap();
            if i > 2 {
                assert_eq!(removed, vec![dir.join(format!("s{}.heapsnapshot", i - 2))]);
            }
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
        assert_eq!(names(&dir), ["s3.heapsnapshot", "s4.heapsnapshot", "user-notes.heapsnapshot"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bytes_budget_and_a_replaced_file_is_not_ours() {
        let dir = scratch("bytes");
        let policy = Policy { max_files: None, max_bytes: Some(250) };
        let a = snapshot(&dir, "a.heapsnapshot", 100);
        record_and_prune(&a, policy).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3));
        // The user replaces a's content: same name, other size → no longer ours.
        fs::write(&a, b"mine").unwrap();
        let b = snapshot(&dir, "b.heapsnapshot", 100);
        record_and_prune(&b, policy).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let c = snapshot(&dir, "c.heapsnapshot", 100);
        record_and_prune(&c, policy).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let d = snapshot(&dir, "d.heapsnapshot", 300);
        let removed = record_and_prune(&d, policy).unwrap();
        // d alone exceeds the budget but the newest is always kept.
        assert_eq!(removed, vec![b, c]);
        assert_eq!(names(&dir), ["a.heapsnapshot", "d.heapsnapshot"]);
        assert_eq!(fs::read(&a).unwrap(), b"mine");
        fs::remove_dir_all(dir).unwrap();
    }
}
