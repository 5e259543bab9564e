//! The signal trigger: `kill -USR2 <pid>` writes a snapshot, even while JS is
//! stuck in a busy loop.
//!
//! Node's `--heapsnapshot-signal` and node-heapdump listen through the event
//! loop, which a busy loop never reaches. Here the signal handler only writes
//! a byte to a pipe (async-signal-safe); a native thread reads it and asks the
//! main isolate's station for a snapshot, which arrives by V8 interrupt.
//!
//! The handler chains to the one it replaced, so the user's own
//! `process.on('SIGUSR2')` listeners (libuv's handler) keep working. libuv
//! installs its handler again whenever the first listener is added and resets
//! to SIG_DFL when the last is removed; `rearm` is called after each such
//! change (from JS) to put ours back in front.

use std::ffi::c_int;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use super::station::Station;
use super::ArmError;

/// Without a V8 shim, the signal is relayed to a JS function on a thread
/// whose loop is free (heapscope's capture worker), which takes the snapshot
/// through an inspector session: Node services those by V8 interrupt.
pub type Relay = ThreadsafeFunction<String, (), String, Status, false, true>;

/// Who hears the signal.
pub enum Target {
    /// The main isolate's station: a snapshot by interrupt, through the shim.
    Station(Arc<Station>),
    Relay(Relay),
    /// Armed, while the relay's worker starts: a signal now is kept and
    /// handed to the relay once it is armed, rather than killing the process.
    Pending,
}

/// A signal arrived while the target was [`Target::Pending`].
static PENDING: AtomicBool = AtomicBool::new(false);

/// Hands a kept signal to a relay that was just armed.
fn deliver_pending(target: &Target) {
    if let Target::Relay(relay) = target {
        if PENDING.swap(false, Ordering::AcqRel) {
            relay
                .call(signal_name(SIGNUM.load(Ordering::Acquire)).to_string(), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

static SIGNUM: AtomicI32 = AtomicI32::new(0);
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// The handler we replaced: its address and whether it takes siginfo.
static PREVIOUS: AtomicUsize = AtomicUsize::new(libc::SIG_DFL);
static PREVIOUS_SIGINFO: AtomicBool = AtomicBool::new(false);
static ARMED: Mutex<Option<Target>> = Mutex::new(None);

/// Signals that may be used, with their names: not the inspector's SIGUSR1,
/// nothing fatal or uncatchable, nothing that means "stop" to process managers.
const USABLE: [(c_int, &str); 8] = [
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGPWR, "SIGPWR"),
    (libc::SIGWINCH, "SIGWINCH"),
    (libc::SIGURG, "SIGURG"),
    (libc::SIGTTIN, "SIGTTIN"),
    (libc::SIGTTOU, "SIGTTOU"),
    (libc::SIGVTALRM, "SIGVTALRM"),
];

/// Whether heapscope may take `signum` for snapshots.
pub fn allowed(signum: c_int) -> Result<(), ArmError> {
    if signum == libc::SIGUSR1 {
        return Err(ArmError::InspectorSignal);
    }
    if USABLE.iter().any(|&(usable, _)| usable == signum) {
        return Ok(());
    }
    Err(ArmError::UnusableSignal(signum))
}

/// Installs the handler for `signum` and starts the signal thread, feeding
/// `target`. Idempotent for the same signal.
pub fn arm(signum: c_int, target: Target) -> io::Result<()> {
    let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
    if armed.is_some() {
        if SIGNUM.load(Ordering::Acquire) != signum {
            disarm_locked(&mut armed);
        } else {
            deliver_pending(&target);
            *armed = Some(target);
            return rearm_locked();
        }
    }
    if PIPE_WRITE.load(Ordering::Acquire) < 0 {
        start_thread()?;
    }
    SIGNUM.store(signum, Ordering::Release);
    *armed = Some(target);
    rearm_locked()
}

/// Puts our handler back in front after libuv changed the signal's action.
pub fn rearm() -> io::Result<()> {
    let armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
    if armed.is_none() {
        return Ok(());
    }
    rearm_locked()
}

/// Restores the handler we replaced.
pub fn disarm() {
    let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
    disarm_locked(&mut armed);
}

fn disarm_locked(armed: &mut Option<Target>) {
    if armed.take().is_none() {
        return;
    }
    PENDING.store(false, Ordering::Release);
    let signum = SIGNUM.swap(0, Ordering::AcqRel);
    // SAFETY: reading and restoring a sigaction with zeroed structs, as POSIX allows.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signum, std::ptr::null(), &mut current);
        if current.sa_sigaction == on_signal as *const () as usize {
            let mut previous: libc::sigaction = std::mem::zeroed();
            previous.sa_sigaction = PREVIOUS.load(Ordering::Acquire);
            previous.sa_flags = if PREVIOUS_SIGINFO.load(Ordering::Acquire) { libc::SA_SIGINFO } else { 0 };
            libc::sigaction(signum, &previous, std::ptr::null_mut());
        }
    }
}

fn rearm_locked() -> io::Result<()> {
    let signum = SIGNUM.load(Ordering::Acquire);
    // SAFETY: sigaction with valid, zero-initialised structs; our handler is
    // async-signal-safe (see `on_signal`).
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(signum, std::ptr::null(), &mut current) != 0 {
            return Err(io::Error::last_os_error());
        }
        if current.sa_sigaction == on_signal as *const () as usize {
            return Ok(());
        }
        // Whatever is there now (libuv's handler, SIG_DFL, …) becomes the one we chain to.
        PREVIOUS_SIGINFO.store(current.sa_flags & libc::SA_SIGINFO != 0, Ordering::Release);
        PREVIOUS.store(current.sa_sigaction, Ordering::Release);
        let mut ours: libc::sigaction = std::mem::zeroed();
        ours.sa_sigaction = on_signal as *const () as usize;
        ours.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
        libc::sigemptyset(&mut ours.sa_mask);
        if libc::sigaction(signum, &ours, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn start_thread() -> io::Result<()> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let read_fd = fds[0];
    // The reader blocks; only the handler's end must never block.
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(read_fd, libc::F_SETFL, 0) };
    std::thread::Builder::new().name("heapscope-signal".into()).spawn(move || {
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reading into a local buffer from our own pipe.
            let n = unsafe { libc::read(read_fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            if n <= 0 {
                return;
            }
            let name = signal_name(SIGNUM.load(Ordering::Acquire));
            match &*ARMED.lock().unwrap_or_else(|p| p.into_inner()) {
                Some(Target::Station(station)) => {
                    station.request_signal(name);
                }
                Some(Target::Relay(relay)) => {
                    relay.call(name.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
                }
                Some(Target::Pending) => PENDING.store(true, Ordering::Release),
                None => {}
            }
        }
    })?;
    PIPE_WRITE.store(fds[1], Ordering::Release);
    Ok(())
}

fn signal_name(signum: c_int) -> &'static str {
    USABLE.iter().find(|&&(usable, _)| usable == signum).map_or("signal", |&(_, name)| name)
}

/// The handler: one `write` to a non-blocking pipe (a full pipe means a
/// snapshot is already on its way), then the previous handler. Only
/// async-signal-safe calls; errno is preserved for the interrupted code.
extern "C" fn on_signal(signum: c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: __errno_location is the thread's errno slot; write(2) is
    // async-signal-safe; the previous handler is called exactly as the kernel
    // would have called it.
    unsafe {
        let errno = *libc::__errno_location();
        let fd = PIPE_WRITE.load(Ordering::Relaxed);
        if fd >= 0 {
            let byte = 1u8;
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
        let previous = PREVIOUS.load(Ordering::Relaxed);
        if previous != libc::SIG_DFL && previous != libc::SIG_IGN {
            if PREVIOUS_SIGINFO.load(Ordering::Relaxed) {
                let f: extern "C" fn(c_int, *mut libc::siginfo_t, *mut libc::c_void) = std::mem::transmute(previous);
                f(signum, info, context);
            } else {
                let f: extern "C" fn(c_int) = std::mem::transmute(previous);
                f(signum);
            }
        }
        *libc::__errno_location() = errno;
    }
}
