//! The file sink: a snapshot reaches its final name whole or not at all.
//!
//! Regular files are written under a hidden temporary name in the target's
//! directory (so the rename stays on one filesystem), created `0600` because
//! snapshots hold secrets, every write and the close checked, fsynced, then
//! renamed over the final name. Any failure unlinks the temporary file.
//!
//! Temporary names are unpredictable (random), never longer than a name may
//! be, and carry the writer's pid: temporary files of writers that died
//! (SIGKILL, the OOM killer) are removed when the next snapshot is written in
//! that directory.
//!
//! Only a name the caller chose ([`FileOptions::explicit`]) is written in
//! place, when it is an existing special file that the caller owns
//! (`/dev/stdout`, a FIFO), opened without blocking: a FIFO nobody reads is
//! an error (ENXIO), not a hang. Anything else found at the name — a FIFO or
//! a symlink another user planted in a shared directory, whatever a default
//! name hits — is never written through: the rename replaces that entry (in
//! a sticky directory the kernel refuses that rename, and the snapshot fails).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::IntoRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::{Redaction, Redactor, Sink, SinkError, Step};

/// How to write the file.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileOptions {
    /// gzip level 0–9; `None` writes plain JSON.
    pub gzip: Option<u32>,
    /// The caller named this file (not a default name): an existing special
    /// file that the caller owns is then written in place. One planted by
    /// another user, or hit by a default name, is replaced by the rename.
    pub explicit: bool,
    /// Replace the heap's strings as they stream by ([`Redactor`]).
    pub redact: bool,
}

/// A file that reached its final name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    /// Bytes on disk (compressed when gzip).
    pub bytes: u64,
    /// Bytes of snapshot JSON.
    pub raw_bytes: u64,
    /// Temporary files of dead writers removed from the directory first.
    pub reclaimed: Vec<PathBuf>,
    /// What redaction replaced, when the file was redacted.
    pub redaction: Option<Redaction>,
}

/// Counts what reaches the file, which for gzip differs from what was written.
struct Counted {
    file: File,
    bytes: u64,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

enum Output {
    Plain(Counted),
    Gzip(GzEncoder<Counted>),
}

/// Writes one snapshot file; see the module docs.
pub struct FileSink {
    final_path: PathBuf,
    /// `None` when writing in place to a non-regular file.
    temp_path: Option<PathBuf>,
    out: Option<Output>,
    raw_bytes: u64,
    reclaimed: Vec<PathBuf>,
    /// Rewrites the stream before it reaches `out`, when redacting.
    redactor: Option<Redactor>,
    redacted: Vec<u8>,
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

impl FileSink {
    /// Opens the temporary file (or, see the module docs, the special file) for `path`.
    pub fn create(path: &Path, options: FileOptions) -> Result<FileSink, SinkError> {
        // A generated name looks at the entry itself, never through a link.
        let existing = if options.explicit { fs::metadata(path) } else { fs::symlink_metadata(path) }.ok();
        let in_place = match &existing {
            Some(m) if m.is_dir() => {
                return Err(SinkError::new(Step::Open, path, io::Error::from_raw_os_error(libc::EISDIR)));
            }
            Some(m) => options.explicit && is_special(m.file_type()) && m.uid() == effective_uid(),
            None => false,
        };
        let mut reclaimed = Vec::new();
        let (file, temp_path) = if in_place {
            (crate::fd::open_without_waiting(path, true).map_err(|e| SinkError::new(Step::Open, path, e))?, None)
        } else {
            reclaimed = reclaim_dead_partials(path);
            let temp = temp_name(path);
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&temp)
                .map_err(|e| SinkError::new(Step::Open, path, e))?;
            (file, Some(temp))
        };
        let counted = Counted { file, bytes: 0 };
        let out = match options.gzip {
            Some(level) => Output::Gzip(GzEncoder::new(counted, Compression::new(level.min(9)))),
            None => Output::Plain(counted),
        };
        Ok(FileSink {
            final_path: path.to_path_buf(),
            temp_path,
            out: Some(out),
            raw_bytes: 0,
            reclaimed,
            redactor: options.redact.then(Redactor::new),
            redacted: Vec::new(),
        })
    }

    /// The name the file will have once finished.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    fn fail(&mut self, step: Step, e: io::Error) -> SinkError {
        self.discard();
        SinkError::new(step, &self.final_path, e)
    }

    fn discard(&mut self) {
        self.out = None;
        if let Some(temp) = self.temp_path.take() {
            let _ = fs::remove_file(temp);
        }
    }

    fn complete(&mut self) -> Result<Written, SinkError> {
        let redaction = match self.redactor.take().map(Redactor::finish) {
            Some(Err(e)) => return Err(self.fail(Step::Write, io::Error::new(io::ErrorKind::InvalidData, e))),
            Some(Ok(redaction)) => Some(redaction),
            None => None,
        };
        let counted = match self.out.take() {
            Some(Output::Plain(counted)) => counted,
            Some(Output::Gzip(encoder)) => match encoder.finish() {
                Ok(counted) => counted,
                Err(e) => return Err(self.fail(Step::Write, e)),
            },
            None => return Err(self.fail(Step::Write, io::Error::other("file already closed"))),
        };
        let bytes = counted.bytes;
        let file = counted.file;
        if self.temp_path.is_some() {
            if let Err(e) = file.sync_all() {
                return Err(self.fail(Step::Sync, e));
            }
        }
        // std ignores close(2)'s result on drop; on NFS and some FUSE
        // filesystems that is where a failed write is reported.
        let fd = file.into_raw_fd();
        // SAFETY: `fd` was just released by `into_raw_fd`, so this is its only owner.
        if unsafe { libc::close(fd) } != 0 {
            return Err(self.fail(Step::Close, io::Error::last_os_error()));
        }
        if let Some(temp) = self.temp_path.clone() {
            if let Err(e) = fs::rename(&temp, &self.final_path) {
                return Err(self.fail(Step::Rename, e));
            }
            self.temp_path = None;
            sync_parent_dir(&self.final_path);
        }
        Ok(Written {
            path: self.final_path.clone(),
            bytes,
            raw_bytes: self.raw_bytes,
            reclaimed: std::mem::take(&mut self.reclaimed),
            redaction,
        })
    }
}

impl Sink for FileSink {
    type Output = Written;
    type Error = SinkError;

    fn write(&mut self, chunk: &[u8]) -> Result<(), SinkError> {
        let mut redacted = std::mem::take(&mut self.redacted);
        let chunk = match self.redactor.as_mut() {
            Some(redactor) => {
                redacted.clear();
                if let Err(e) = redactor.push(chunk, &mut redacted) {
                    return Err(self.fail(Step::Write, io::Error::new(io::ErrorKind::InvalidData, e)));
                }
                &redacted[..]
            }
            None => chunk,
        };
        let result = match self.out.as_mut() {
            Some(Output::Plain(counted)) => counted.write_all(chunk),
            Some(Output::Gzip(encoder)) => encoder.write_all(chunk),
            None => Err(io::Error::other("file already closed")),
        };
        let written = chunk.len() as u64;
        self.redacted = redacted;
        match result {
            Ok(()) => {
                self.raw_bytes += written;
                Ok(())
            }
            Err(e) => Err(self.fail(Step::Write, e)),
        }
    }

    fn finish(mut self) -> Result<Written, SinkError> {
        self.complete()
    }

    fn abort(mut self) {
        self.discard();
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        self.discard();
    }
}

fn is_special(kind: fs::FileType) -> bool {
    kind.is_char_device() || kind.is_fifo() || kind.is_block_device() || kind.is_socket()
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The longest file name Linux filesystems take.
const NAME_MAX: usize = 255;

/// `dir/.<name>.<pid>-<random>.partial`: hidden, unpredictable, in the same
/// directory so that the final rename is atomic, the name cut so that the
/// whole fits in NAME_MAX bytes.
fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let suffix = format!(".{}-{:016x}.partial", std::process::id(), random_u64());
    let room = NAME_MAX - 1 - suffix.len();
    let mut cut = name.len().min(room);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    path.with_file_name(format!(".{}{suffix}", &name[..cut]))
}

/// 64 unpredictable bits from the kernel; if /dev/urandom cannot be read,
/// a mix of the time, the counter and an address (still unique).
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).is_ok() {
        return u64::from_ne_bytes(bytes);
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    nanos ^ TEMP_SEQ.fetch_add(1, Ordering::Relaxed).rotate_left(32) ^ (&bytes as *const _ as u64)
}

/// The pid in a temporary name of ours: `.<name>.<pid>-<16 hex digits>.partial`.
fn partial_owner(file_name: &str) -> Option<u32> {
    let stem = file_name.strip_prefix('.')?.strip_suffix(".partial")?;
    let (rest, random) = stem.rsplit_once('-')?;
    if random.len() != 16 || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    rest.rsplit_once('.')?.1.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let sent = unsafe { libc::kill(pid, 0) };
    sent == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Removes, from `path`'s directory, the temporary files of writers that are
/// no longer alive (killed mid-write), and returns them. Best effort: a
/// directory that cannot be listed is left alone.
pub fn reclaim_dead_partials(path: &Path) -> Vec<PathBuf> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => reclaim_dead_partials_in(p),
        _ => reclaim_dead_partials_in(Path::new(".")),
    }
}

/// `reclaim_dead_partials` of a directory: what arming a trigger there does.
pub fn reclaim_dead_partials_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let own = std::process::id();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = partial_owner(&name.to_string_lossy()) else { continue };
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if regular && pid != own && !process_alive(pid) && fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Makes the rename itself durable. Best effort: the data is already synced and
/// some filesystems refuse fsync on directories.
fn sync_parent_dir(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("heapscope-core-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn finished_file_appears_whole_with_mode_0600() {
        let dir = scratch("whole");
        let path = dir.join("a.heapsnapshot");
        let mut sink = FileSink::create(&path, FileOptions::default()).unwrap();
        sink.write(b"{\"snapshot\":").unwrap();
        assert_eq!(entries(&dir).len(), 1, "only the temporary file exists while writing");
        assert!(!path.exists());
        sink.write(b"{}}").unwrap();
        let written = sink.finish().unwrap();
        assert_eq!(
            written,
            Written { path: path.clone(), bytes: 15, raw_bytes: 15, reclaimed: Vec::new(), redaction: None }
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"snapshot\":{}}");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(entries(&dir), vec!["a.heapsnapshot"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn aborted_or_dropped_sink_leaves_nothing() {
        let dir = scratch("abort");
        let mut sink = FileSink::create(&dir.join("b.heapsnapshot"), FileOptions::default()).unwrap();
        sink.write(b"partial").unwrap();
        sink.abort();
        let mut dropped = FileSink::create(&dir.join("c.heapsnapshot"), FileOptions::default()).unwrap();
        dropped.write(b"partial").unwrap();
        drop(dropped);
        assert!(entries(&dir).is_empty(), "left behind: {:?}", entries(&dir));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn gzip_output_decompresses_to_the_input() {
        let dir = scratch("gzip");
        let path = dir.join("c.heapsnapshot.gz");
        let mut sink = FileSink::create(&path, FileOptions { gzip: Some(1), explicit: false, redact: false }).unwrap();
        let text = "{\"strings\":[".to_string() + &"\"abc\",".repeat(10_000) + "\"\"]}";
        for piece in text.as_bytes().chunks(777) {
            sink.write(piece).unwrap();
        }
        let written = sink.finish().unwrap();
        assert_eq!(written.raw_bytes, text.len() as u64);
        assert_eq!(written.bytes, fs::metadata(&path).unwrap().len());
        assert!(written.bytes < written.raw_bytes / 10);
        let mut back = String::new();
        flate2::read::GzDecoder::new(File::open(&path).unwrap()).read_to_string(&mut back).unwrap();
        assert_eq!(back, text);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_directory_is_enoent_at_open() {
        let err = FileSink::create(Path::new("/nonexistent-heapscope-dir/x.heapsnapshot"), FileOptions::default())
            .err()
            .unwrap();
        assert_eq!((err.code(), err.step), ("ENOENT", Step::Open));
        assert_eq!(
            err.to_string(),
            "ENOENT: no such file or directory, open '/nonexistent-heapscope-dir/x.heapsnapshot'"
        );
    }

    #[test]
    fn dev_full_is_enospc_at_write() {
        let mut sink =
            FileSink::create(Path::new("/dev/full"), FileOptions { gzip: None, explicit: true, redact: false })
                .unwrap();
        let err = sink.write(&[b' '; 1 << 16]).unwrap_err();
        assert_eq!((err.code(), err.step), ("ENOSPC", Step::Write));
    }

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; mkfifo only creates a directory entry.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn named_fifo_without_reader_is_enxio_at_once_not_a_hang() {
        let dir = scratch("fifo");
        let path = dir.join("pipe");
        mkfifo(&path);
        let err = FileSink::create(&path, FileOptions { gzip: None, explicit: true, redact: false }).err().unwrap();
        assert_eq!((err.code(), err.step), ("ENXIO", Step::Open));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn generated_names_replace_a_planted_fifo_or_symlink_instead_of_writing_through_it() {
        let dir = scratch("planted");
        let fifo = dir.join("a.heapsnapshot");
        mkfifo(&fifo);
        let victim = dir.join("victim");
        fs::write(&victim, "untouched").unwrap();
        let link = dir.join("b.heapsnapshot");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        for path in [&fifo, &link] {
            let mut sink = FileSink::create(path, FileOptions::default()).unwrap();
            sink.write(b"{}").unwrap();
            sink.finish().unwrap();
            let meta = fs::symlink_metadata(path).unwrap();
            assert!(meta.file_type().is_file(), "{} is now a regular file", path.display());
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
            assert_eq!(fs::read_to_string(path).unwrap(), "{}");
        }
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn names_up_to_255_bytes_are_written() {
        let dir = scratch("long");
        for len in [236, 250, 255] {
            let name = format!("{}.heapsnapshot", "é".repeat((len - 13) / 2)) + &"x".repeat((len - 13) % 2);
            assert_eq!(name.len(), len);
            let mut sink = FileSink::create(&dir.join(&name), FileOptions::default()).unwrap();
            sink.write(b"{}").unwrap();
            sink.finish().unwrap();
            assert!(dir.join(&name).is_file());
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn temporary_names_are_unpredictable_and_name_their_writer() {
        let (a, b) = (temp_name(Path::new("/d/x.heapsnapshot")), temp_name(Path::new("/d/x.heapsnapshot")));
        assert_ne!(a, b);
        for t in [&a, &b] {
            assert_eq!(partial_owner(&t.file_name().unwrap().to_string_lossy()), Some(std::process::id()));
        }
    }

    #[test]
    fn temporary_files_of_dead_writers_are_removed_at_the_next_write() {
        let dir = scratch("reclaim");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let dead_partial = dir.join(format!(".old.heapsnapshot.{dead}-0123456789abcdef.partial"));
        let live_partial =
            dir.join(format!(".busy.heapsnapshot.{}-0123456789abcdef.partial", std::os::unix::process::parent_id()));
        let foreign = dir.join(".notes.partial");
        for p in [&dead_partial, &live_partial, &foreign] {
            fs::write(p, "x").unwrap();
        }
        let mut sink = FileSink::create(&dir.join("new.heapsnapshot"), FileOptions::default()).unwrap();
        sink.write(b"{}").unwrap();
        sink.finish().unwrap();
        assert_eq!(entries(&dir), {
            let mut v = vec![
                live_partial.file_name().unwrap().to_string_lossy().into_owned(),
                ".notes.partial".to_string(),
                "new.heapsnapshot".to_string(),
            ];
            v.sort();
            v
        });
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn directory_target_is_eisdir() {
        let err = FileSink::create(&std::env::temp_dir(), FileOptions::default()).err().unwrap();
        assert_eq!(err.code(), "EISDIR");
    }
}
