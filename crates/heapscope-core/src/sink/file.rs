//! The file sink: a snapshot reaches its final name whole or not at all.
//!
//! Regular files are written under a hidden temporary name in the target's
//! directory (so the rename stays on one filesystem), created `0600` because
//! snapshots hold secrets, every write and the close checked, fsynced, then
//! renamed over the final name. Any failure unlinks the temporary file.
//! A target that already exists and is not a regular file (`/dev/stdout`, a
//! FIFO, `/dev/full`) is written in place: there is nothing to rename there.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::os::unix::io::IntoRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::{Sink, SinkError, Step};

/// How to write the file.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileOptions {
    /// gzip level 0–9; `None` writes plain JSON.
    pub gzip: Option<u32>,
}

/// A file that reached its final name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    /// Bytes on disk (compressed when gzip).
    pub bytes: u64,
    /// Bytes of snapshot JSON.
    pub raw_bytes: u64,
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
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

impl FileSink {
    /// Opens the temporary file (or the special file) for `path`.
    pub fn create(path: &Path, options: FileOptions) -> Result<FileSink, SinkError> {
        let existing = fs::metadata(path).ok().map(|m| m.file_type());
        let (file, temp_path) = match existing {
            Some(kind) if kind.is_dir() => {
                return Err(SinkError::new(Step::Open, path, io::Error::from_raw_os_error(libc::EISDIR)));
            }
            Some(kind) if kind.is_char_device() || kind.is_fifo() || kind.is_block_device() || kind.is_socket() => {
                let file =
                    OpenOptions::new().write(true).open(path).map_err(|e| SinkError::new(Step::Open, path, e))?;
                (file, None)
            }
            _ => {
                let temp = temp_name(path);
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&temp)
                    .map_err(|e| SinkError::new(Step::Open, path, e))?;
                (file, Some(temp))
            }
        };
        let counted = Counted { file, bytes: 0 };
        let out = match options.gzip {
            Some(level) => Output::Gzip(GzEncoder::new(counted, Compression::new(level.min(9)))),
            None => Output::Plain(counted),
        };
        Ok(FileSink { final_path: path.to_path_buf(), temp_path, out: Some(out), raw_bytes: 0 })
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
        Ok(Written { path: self.final_path.clone(), bytes, raw_bytes: self.raw_bytes })
    }
}

impl Sink for FileSink {
    type Output = Written;
    type Error = SinkError;

    fn write(&mut self, chunk: &[u8]) -> Result<(), SinkError> {
        let result = match self.out.as_mut() {
            Some(Output::Plain(counted)) => counted.write_all(chunk),
            Some(Output::Gzip(encoder)) => encoder.write_all(chunk),
            None => Err(io::Error::other("file already closed")),
        };
        match result {
            Ok(()) => {
                self.raw_bytes += chunk.len() as u64;
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

/// `dir/.name.<pid>-<n>.partial`: hidden, unique within the process, and in the
/// same directory so that the final rename is atomic.
fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{seq}.partial", std::process::id()))
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
        assert_eq!(written, Written { path: path.clone(), bytes: 15, raw_bytes: 15 });
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
        let mut sink = FileSink::create(&path, FileOptions { gzip: Some(1) }).unwrap();
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
        let mut sink = FileSink::create(Path::new("/dev/full"), FileOptions::default()).unwrap();
        let err = sink.write(&[b' '; 1 << 16]).unwrap_err();
        assert_eq!((err.code(), err.step), ("ENOSPC", Step::Write));
    }

    #[test]
    fn directory_target_is_eisdir() {
        let err = FileSink::create(&std::env::temp_dir(), FileOptions::default()).err().unwrap();
        assert_eq!(err.code(), "EISDIR");
    }
}
