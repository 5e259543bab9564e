//! How analysis shares the CPU with the application it runs in: at the
//! lowest priority, on threads of its own in the SCHED_IDLE class at nice 19
//! (on Linux both are a thread's own, and the threads it starts inherit
//! them), and on at most [`Threads`] at once. The calling thread is never lowered: it may be
//! one of libuv's pool threads, which the application's file I/O also uses,
//! and an unprivileged thread cannot raise its priority back.

use std::io::{self, Read};
use std::num::NonZeroUsize;

/// How many threads one analysis may keep busy at once. heapscope's phases
/// split over two at most (a file's edges, the dominators beside the
/// distances and classes), so anything above one means "split".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threads(NonZeroUsize);

impl Threads {
    /// Everything on the calling thread, one phase after another.
    pub const ONE: Threads = Threads(NonZeroUsize::MIN);

    /// What this process may use: its cores, narrowed by its CPU affinity
    /// and its cgroup's CPU quota (Rust's `available_parallelism` reads
    /// both), so that a container allowed one CPU is not throttled, its
    /// application with it, because an analysis ran two threads.
    pub fn available() -> Threads {
        Threads(std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
    }

    /// `None` for 0.
    pub fn new(count: usize) -> Option<Threads> {
        NonZeroUsize::new(count).map(Threads)
    }

    /// Whether work may go to a second thread.
    pub fn split(self) -> bool {
        self.0.get() > 1
    }

    /// `a` and `b`, `a` on a second thread while this one does `b` when
    /// work may go to one, else one after the other (rayon's `join`, for
    /// two pieces of work). A thread that cannot be started leaves `a` to
    /// this one; a panic in `a` surfaces here.
    pub fn join<A: Send, B>(self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
        if !self.split() {
            let a = a();
            return (a, b());
        }
        let work = std::sync::Mutex::new(Some(a));
        let take = || work.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        std::thread::scope(|scope| {
            let beside = std::thread::Builder::new().spawn_scoped(scope, || take().map(|a| a()));
            let b = b();
            let a = match beside.map(|thread| thread.join()) {
                Ok(Ok(Some(a))) => a,
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                // Not started (or, impossibly, started without the work).
                _ => take().map(|a| a()).expect("the work of a thread that did not run"),
            };
            (a, b)
        })
    }
}

/// The nice value of analysis threads: the lowest priority there is.
pub const ANALYSIS_NICE: i32 = 19;

/// Whose CPU an analysis takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Only what nobody else wants: inside an application, the default.
    Idle,
    /// A fair share: for a process whose job is the analysis (the CLI).
    Normal,
}

/// Runs `work` on a new thread at `priority` and waits for it. A panic in
/// `work` resumes on the caller, which reports it. Fails only when no thread
/// can be started.
pub fn on_analysis_thread<T: Send>(name: &str, priority: Priority, work: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new().name(name.to_string()).spawn_scoped(scope, || {
            // Lower priority is a courtesy: when the kernel refuses, the
            // work still runs, at the priority it was given.
            if priority == Priority::Idle {
                let _ = lower_this_thread(ANALYSIS_NICE);
            }
            work()
        })?;
        match worker.join() {
            Ok(value) => Ok(value),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// A stream whose reader thread drops to the lowest priority when the stream
/// ends. A snapshot analysed as V8 streams it is parsed at normal priority,
/// for V8 must not wait on its consumer during the pause; what follows the
/// stream (the analysis phases, their threads) runs at the lowest.
pub struct LowerAtEnd<R> {
    inner: R,
    lowered: bool,
}

impl<R> LowerAtEnd<R> {
    pub fn new(inner: R) -> LowerAtEnd<R> {
        LowerAtEnd { inner, lowered: false }
    }
}

impl<R: Read> Read for LowerAtEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.lowered {
            self.lowered = true;
            let _ = lower_this_thread(ANALYSIS_NICE);
        }
        Ok(n)
    }
}

/// Puts the calling thread in Linux's SCHED_IDLE class, at nice `nice`
/// (lowering either needs no privilege). SCHED_IDLE rather than nice alone:
/// a thread of normal priority that wakes up (the JS thread when its timer
/// fires) preempts a SCHED_IDLE one at once, where it would wait for the
/// scheduler's next tick (4 ms at 250 Hz) behind a nice 19 one, measured in
/// bench/RESULTS.md. It is not starved: CFS still gives it a small share.
pub fn lower_this_thread(nice: i32) -> io::Result<()> {
    let tid = this_tid();
    // SAFETY: setpriority only reads its arguments; PRIO_PROCESS with a
    // thread id addresses that one thread on Linux.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: sched_param is plain data (musl's has more fields than
    // glibc's); all zeroes is priority 0, the only one SCHED_IDLE takes.
    let param: libc::sched_param = unsafe { std::mem::zeroed() };
    // SAFETY: `param` is a valid sched_param for the call; with a thread id
    // sched_setscheduler addresses that one thread on Linux.
    if unsafe { libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The calling thread's id, which the priority calls take to address one thread.
fn this_tid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions and returns this thread's id.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

/// Whether the calling thread is in the SCHED_IDLE class.
pub fn this_thread_idle_class() -> bool {
    // SAFETY: 0 is the calling thread; sched_getscheduler only reads.
    unsafe { libc::sched_getscheduler(0) == libc::SCHED_IDLE }
}

/// The calling thread's nice value.
pub fn this_thread_nice() -> io::Result<i32> {
    let tid = this_tid() as libc::id_t;
    // getpriority may return -1 as a value: errno tells an error apart.
    // SAFETY: errno is thread-local; clearing it first is how getpriority is read.
    unsafe { *libc::__errno_location() = 0 };
    // SAFETY: getpriority only reads its arguments.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid) };
    let error = io::Error::last_os_error();
    if nice == -1 && error.raw_os_error().is_some_and(|e| e != 0) {
        return Err(error);
    }
    Ok(nice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_runs_the_first_beside_when_it_may_and_surfaces_its_panic() {
        let here = std::thread::current().id();
        let on =
            |threads: Threads| threads.join(|| (std::thread::current().id(), 1), || (std::thread::current().id(), 2));
        let ((a, one), (b, two)) = on(Threads::new(2).unwrap());
        assert_eq!((one, two), (1, 2));
        assert!(a != here && b == here, "the first on a second thread, the second here");
        let ((a, _), (b, _)) = on(Threads::ONE);
        assert!(a == here && b == here, "both here with one thread");
        let panicked = std::panic::catch_unwind(|| Threads::new(2).unwrap().join(|| panic!("a bug"), || 2));
        assert!(panicked.is_err());
    }

    #[test]
    fn work_runs_lowered_and_its_threads_inherit_it() {
        let before = this_thread_nice().unwrap();
        let (inside, child) = on_analysis_thread("test-low", Priority::Idle, || {
            let child = std::thread::spawn(|| (this_thread_nice().unwrap(), this_thread_idle_class())).join().unwrap();
            ((this_thread_nice().unwrap(), this_thread_idle_class()), child)
        })
        .unwrap();
        assert_eq!(inside, (ANALYSIS_NICE, true));
        assert_eq!(child, (ANALYSIS_NICE, true));
        // The caller keeps its own priority.
        assert_eq!(this_thread_nice().unwrap(), before);
        assert!(!this_thread_idle_class());
        // At normal priority it keeps the caller's.
        let normal = on_analysis_thread("test-normal", Priority::Normal, || {
            (this_thread_nice().unwrap(), this_thread_idle_class())
        });
        assert_eq!(normal.unwrap(), (before, false));
    }

    #[test]
    fn a_stream_lowers_its_reader_at_the_end() {
        let niceness = std::thread::spawn(|| {
            let mut stream = LowerAtEnd::new(&b"abc"[..]);
            let mut text = String::new();
            let mut one = [0u8; 1];
            stream.read_exact(&mut one).unwrap();
            let while_reading = this_thread_nice().unwrap();
            stream.read_to_string(&mut text).unwrap();
            (while_reading, this_thread_nice().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(niceness.1, ANALYSIS_NICE);
        assert!(niceness.0 < ANALYSIS_NICE);
    }

    #[test]
    fn a_panic_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| on_analysis_thread("test-panic", Priority::Idle, || panic!("boom")));
        assert!(caught.is_err());
    }
}
