//! Opening files that may be FIFOs without waiting on the other end: the one
//! place this crate changes a descriptor's flags.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Opens `path` with O_NONBLOCK, so that a FIFO with nobody on the other end
/// neither blocks the open (reading) nor waits for a reader (writing: ENXIO),
/// then makes the descriptor blocking again for the reads and writes that
/// follow, which run on threads of heapscope's own.
pub fn open_without_waiting(path: &Path, write: bool) -> io::Result<File> {
    let file = OpenOptions::new().read(!write).write(write).custom_flags(libc::O_NONBLOCK).open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is open and owned by `file` for the duration of both calls.
    let cleared = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) == 0
    };
    if !cleared {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}
