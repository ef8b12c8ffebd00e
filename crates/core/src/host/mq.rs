//! Segments and message queues for plain C hosts (include/bgworker_mq.h):
//! dynamic shared memory segments of the supervisor this process belongs to
//! ([`crate::dsm`], the same segments, handles and reference counts as
//! PostgreSQL modules' dsm), and queues in them on the same ring as the
//! modules' shm_mq (c/mq_ring.c), with the host's operations: a process
//! waits on a futex on the queue's wake word with a timed wait that also
//! checks the peer (its pid, and the BackgroundWorkerHandle if one was
//! given), and wakes the other side by bumping that word.
//!
//! Failures are a failure value plus [`crate::host::bgw_last_error`]'s
//! message, never a raised ERROR and never the end of the process (also in
//! a worker that has the PostgreSQL runtime). Every export goes through the
//! panic boundary.
//!
//! Who may call: a worker or a process attached with bgw_attach; each
//! segment and queue handle from one thread at a time.

use std::ffi::c_void;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::time::Duration;

use crate::abi::{BgwHandleStatus, BGWH_NOT_YET_STARTED, BGWH_STARTED};
use crate::api::boundary;
use crate::api::BackgroundWorkerHandle;
use crate::backend;
use crate::backend::futex;
use crate::dsm;

/// [`bgw_mq_send`]/[`bgw_mq_receive`] flags.
pub const BGW_MQ_NOWAIT: c_int = 1;
pub const BGW_MQ_NOFLUSH: c_int = 2;
/// Results beside -1 (failed).
pub const BGW_MQ_SUCCESS: c_int = 0;
pub const BGW_MQ_WOULD_BLOCK: c_int = 1;
pub const BGW_MQ_DETACHED: c_int = 2;
/// [`bgw_mq_attach`] roles.
pub const BGW_MQ_SENDER: c_int = 1;
pub const BGW_MQ_RECEIVER: c_int = 2;

/// How long a host wait sleeps before it looks at the peer again.
const PEER_CHECK: Duration = Duration::from_millis(100);

const SEGMENT_MAGIC: u64 = 0x6267_7773_6567_6d31;
const QUEUE_MAGIC: u64 = 0x6267_776d_7168_6431;

/// The shared header of c/mq_ring.h (`bgw_ring`), as far as this file
/// reads it.
#[repr(C)]
struct Ring {
    magic: u32,
    wake: AtomicU32,
    receiver: AtomicPtr<c_void>,
    sender: AtomicPtr<c_void>,
    bytes_read: u64,
    bytes_written: u64,
    ring_size: usize,
    detached: AtomicBool,
}

/// c/mq_ring.h's `bgw_ring_ops`.
#[repr(C)]
struct Ops {
    wake: unsafe extern "C" fn(*mut Ring, *mut c_void),
    wait: unsafe extern "C" fn(*mut RingHandle, u32),
    worker_gone: unsafe extern "C" fn(*mut c_void) -> bool,
    alloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void, *mut c_void),
}

/// c/mq_ring.h's `bgw_ring_handle`.
#[repr(C)]
struct RingHandle {
    queue: *mut Ring,
    ops: *const Ops,
    ctx: *mut c_void,
    me: *mut c_void,
    worker: *mut c_void,
    ring: *mut u8,
    ring_size: usize,
    buffer: *mut u8,
    buflen: usize,
    consume_pending: usize,
    send_pending: usize,
    partial_bytes: usize,
    expected_bytes: usize,
    length_word_complete: bool,
    counterparty_attached: bool,
    wake_seen: u32,
}

#[repr(C)]
struct Iovec {
    data: *const u8,
    len: usize,
}

const RING_SUCCESS: c_int = 0;
const RING_ERROR: c_int = 3;

extern "C" {
    fn bgw_ring_error_message() -> *const std::os::raw::c_char;
    fn bgw_ring_create(address: *mut c_void, size: usize) -> *mut Ring;
    fn bgw_ring_check(mq: *mut Ring, seg_base: *const u8, seg_len: usize) -> c_int;
    fn bgw_ring_set_party(
        mq: *mut Ring,
        sender: bool,
        party: *mut c_void,
        ops: *const Ops,
    ) -> c_int;
    fn bgw_ring_attach(
        h: *mut RingHandle,
        mq: *mut Ring,
        me: *mut c_void,
        seg_base: *const u8,
        seg_len: usize,
        worker: *mut c_void,
        ops: *const Ops,
        ctx: *mut c_void,
    ) -> c_int;
    fn bgw_ring_set_worker(h: *mut RingHandle, worker: *mut c_void) -> c_int;
    fn bgw_ring_sendv(
        h: *mut RingHandle,
        iov: *const Iovec,
        iovcnt: c_int,
        nowait: bool,
        force_flush: bool,
    ) -> c_int;
    fn bgw_ring_receive(
        h: *mut RingHandle,
        nbytesp: *mut usize,
        datap: *mut *mut c_void,
        nowait: bool,
    ) -> c_int;
    fn bgw_ring_wait_for_attach(h: *mut RingHandle) -> c_int;
    fn bgw_ring_detach(h: *mut RingHandle);
    /// api.rs's body of GetBackgroundWorkerPid (never raises by itself;
    /// a deferred ERROR it leaves is discarded below).
    fn bgw_rs_GetBackgroundWorkerPid(
        handle: *mut c_void,
        pidp: *mut libc::pid_t,
    ) -> BgwHandleStatus;
    fn bgw_rs_take_deferred_raise() -> Option<unsafe extern "C" fn()>;
}

/// The ring's last failure, for bgw_last_error.
fn ring_failed() -> c_int {
    // SAFETY: the ring's thread-local message, NUL-terminated.
    let m = unsafe { std::ffi::CStr::from_ptr(bgw_ring_error_message()) };
    backend::set_last_error(&m.to_string_lossy());
    -1
}

fn fail(msg: &str) -> c_int {
    backend::set_last_error(msg);
    -1
}

/// This process's party token: its pid shifted left, low bit set (a
/// PGPROC is aligned, so no module's party is ever odd).
fn my_token() -> *mut c_void {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as usize;
    ((pid << 1) | 1) as *mut c_void
}

/// Is the process behind host token `party` gone? Module parties (even)
/// are never judged here.
fn party_gone(party: *mut c_void) -> bool {
    let t = party as usize;
    if t & 1 == 0 {
        return false;
    }
    let pid = (t >> 1) as libc::pid_t;
    // SAFETY: kill with signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) != 0 && *libc::__errno_location() == libc::ESRCH }
}

/// SAFETY (for the ops): the ring calls them with its own queue and handle.
unsafe extern "C" fn host_wake(mq: *mut Ring, _party: *mut c_void) {
    // SAFETY: mq is the ring's live queue header.
    let wake = unsafe { &(*mq).wake };
    wake.fetch_add(1, Ordering::SeqCst);
    futex::futex_wake_all(wake);
}

unsafe extern "C" fn host_wait(h: *mut RingHandle, _wait_event: u32) {
    // SAFETY: the ring passes its live handle and queue.
    let h = unsafe { &mut *h };
    // SAFETY: as above.
    let mq = unsafe { &*h.queue };
    futex::futex_wait(&mq.wake, h.wake_seen, PEER_CHECK);
    h.wake_seen = mq.wake.load(Ordering::SeqCst);
    // The peer: a pid that is gone, or a worker that stopped, detaches
    // the queue (as the dead process's own detach would have).
    let sender = mq.sender.load(Ordering::SeqCst);
    let other = if sender == h.me {
        mq.receiver.load(Ordering::SeqCst)
    } else {
        sender
    };
    // SAFETY: h.worker is NULL or the caller's BackgroundWorkerHandle.
    if party_gone(other) || (!h.worker.is_null() && unsafe { host_worker_gone(h.worker) }) {
        mq.detached.store(true, Ordering::SeqCst);
    }
}

unsafe extern "C" fn host_worker_gone(worker: *mut c_void) -> bool {
    let mut pid: libc::pid_t = 0;
    // SAFETY: worker is the handle the caller gave (its contract).
    let st = unsafe { bgw_rs_GetBackgroundWorkerPid(worker, &mut pid) };
    // A bad handle reports BGWH_STOPPED and its message; never raise it.
    // SAFETY: plain call; the returned raiser is dropped, not called.
    let _ = unsafe { bgw_rs_take_deferred_raise() };
    st != BGWH_STARTED && st != BGWH_NOT_YET_STARTED
}

unsafe extern "C" fn host_alloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: plain malloc.
    unsafe { libc::malloc(size) }
}

unsafe extern "C" fn host_free(_ctx: *mut c_void, p: *mut c_void) {
    // SAFETY: p came from host_alloc.
    unsafe { libc::free(p) }
}

static HOST_OPS: Ops = Ops {
    wake: host_wake,
    wait: host_wait,
    worker_gone: host_worker_gone,
    alloc: host_alloc,
    free: host_free,
};

/// A segment as a host sees it (`bgw_segment`).
pub struct Segment {
    magic: u64,
    mapping: Option<dsm::Mapping>,
}

/// A queue handle as a host sees it (`bgw_mq_handle`).
pub struct QueueHandle {
    magic: u64,
    ring: RingHandle,
}

fn supervisor_pid(what: &str) -> Result<i32, String> {
    backend::current().map(|c| c.supervisor_pid).ok_or_else(|| {
        format!(
            "{what}: this process is not a worker nor attached to a background worker supervisor (bgw_attach)"
        )
    })
}

/// # Safety
/// `seg` is NULL or a pointer this API returned.
unsafe fn segment<'a>(seg: *mut Segment, what: &str) -> Result<&'a mut Segment, String> {
    // SAFETY: NULL or ours (contract). The magic catches a pointer to
    // something else; a detached segment must not be passed (its memory
    // is freed), though while the allocator has not reused it, it shows
    // magic 0 and is refused too.
    match unsafe { seg.as_mut() } {
        Some(s) if s.magic == SEGMENT_MAGIC && s.mapping.is_some() => Ok(s),
        Some(_) => Err(format!(
            "{what}: not a segment of this process (detached, or never one)"
        )),
        None => Err(format!("{what}: segment is NULL")),
    }
}

/// # Safety
/// `h` is NULL or a pointer this API returned.
unsafe fn queue<'a>(h: *mut QueueHandle, what: &str) -> Result<&'a mut QueueHandle, String> {
    // SAFETY: NULL or ours (contract); as in segment(), the magic catches
    // a pointer to something else.
    match unsafe { h.as_mut() } {
        Some(q) if q.magic == QUEUE_MAGIC => Ok(q),
        Some(_) => Err(format!(
            "{what}: not a queue handle of this process (detached, or never one)"
        )),
        None => Err(format!("{what}: queue handle is NULL")),
    }
}

/// A new segment object for a mapping just made, or NULL with the
/// failure recorded for bgw_last_error.
fn into_segment(r: Result<dsm::Mapping, String>) -> *mut Segment {
    match r {
        Ok(m) => Box::into_raw(Box::new(Segment {
            magic: SEGMENT_MAGIC,
            mapping: Some(m),
        })),
        Err(m) => {
            fail(&m);
            std::ptr::null_mut()
        }
    }
}

/// One property of segment `seg`'s mapping, read by `get`; `failed` (with
/// the failure recorded for bgw_last_error) when `seg` is not a live
/// segment of this process. Inside the caller's panic boundary.
///
/// # Safety
/// `seg` is NULL or a pointer this API returned.
unsafe fn segment_property<T: Copy>(
    seg: *mut Segment,
    what: &str,
    failed: T,
    get: impl FnOnce(&dsm::Mapping) -> T,
) -> T {
    // SAFETY: the caller's contract.
    match unsafe { segment(seg, what) } {
        Ok(s) => s.mapping.as_ref().map_or(failed, get),
        Err(m) => {
            fail(&m);
            failed
        }
    }
}

/// Create a segment of `size` bytes; NULL on failure (bgw_last_error).
#[no_mangle]
pub extern "C" fn bgw_segment_create(size: usize) -> *mut Segment {
    boundary("bgw_segment_create", std::ptr::null_mut(), || {
        let r = supervisor_pid("bgw_segment_create").and_then(|pid| {
            if size == 0 || size > isize::MAX as usize {
                return Err(format!(
                    "bgw_segment_create: cannot create a segment of {size} bytes"
                ));
            }
            dsm::create(pid, size).map_err(|e| e.message())
        });
        into_segment(r)
    })
}

/// Attach to segment `handle`; NULL on failure (bgw_last_error: no such
/// segment, or it is gone).
#[no_mangle]
pub extern "C" fn bgw_segment_attach(handle: u32) -> *mut Segment {
    boundary("bgw_segment_attach", std::ptr::null_mut(), || {
        let r = supervisor_pid("bgw_segment_attach").and_then(|pid| {
            match dsm::attach(pid, handle).map_err(|e| e.message())? {
                Some(m) => Ok(m),
                None => Err(format!(
                    "bgw_segment_attach: dynamic shared memory segment {handle} does not exist (never created, or destroyed)"
                )),
            }
        });
        into_segment(r)
    })
}

/// The segment's handle (0 on failure: no segment has handle 0).
///
/// # Safety
/// `seg` is NULL or a segment this API returned.
#[no_mangle]
pub unsafe extern "C" fn bgw_segment_handle(seg: *mut Segment) -> u32 {
    boundary("bgw_segment_handle", 0, || {
        // SAFETY: contract.
        unsafe { segment_property(seg, "bgw_segment_handle", 0, |m| m.handle) }
    })
}

/// The segment's address in this process (NULL on failure).
///
/// # Safety
/// As bgw_segment_handle.
#[no_mangle]
pub unsafe extern "C" fn bgw_segment_address(seg: *mut Segment) -> *mut c_void {
    boundary("bgw_segment_address", std::ptr::null_mut(), || {
        // SAFETY: contract.
        unsafe {
            segment_property(seg, "bgw_segment_address", std::ptr::null_mut(), |m| {
                m.address.cast()
            })
        }
    })
}

/// The segment's size in bytes (0 on failure).
///
/// # Safety
/// As bgw_segment_handle.
#[no_mangle]
pub unsafe extern "C" fn bgw_segment_size(seg: *mut Segment) -> usize {
    boundary("bgw_segment_size", 0, || {
        // SAFETY: contract.
        unsafe { segment_property(seg, "bgw_segment_size", 0, |m| m.length) }
    })
}

/// Unmap the segment and drop this process's reference (the last one
/// removes it). Queue handles in it must be detached first. 0, or -1.
///
/// # Safety
/// As bgw_segment_handle; nothing in this process uses the mapping after.
#[no_mangle]
pub unsafe extern "C" fn bgw_segment_detach(seg: *mut Segment) -> c_int {
    boundary("bgw_segment_detach", -1, || {
        // SAFETY: contract.
        match unsafe { segment(seg, "bgw_segment_detach") } {
            Ok(s) => {
                let m = s.mapping.take();
                s.magic = 0;
                if let Some(m) = m {
                    // SAFETY: the caller's contract: the range is unused.
                    unsafe { dsm::detach(m) };
                }
                // SAFETY: ours, from Box::into_raw; not used again.
                drop(unsafe { Box::from_raw(seg) });
                0
            }
            Err(m) => fail(&m),
        }
    })
}

/// The place of a queue in a segment, checked.
fn queue_place(s: &Segment, offset: usize, size: usize, what: &str) -> Result<*mut u8, String> {
    let m = s.mapping.as_ref().expect("checked by segment()");
    if !offset.is_multiple_of(8) {
        return Err(format!("{what}: offset {offset} is not a multiple of 8"));
    }
    if offset > m.length || size > m.length - offset {
        return Err(format!(
            "{what}: {size} bytes at offset {offset} do not fit in a segment of {} bytes",
            m.length
        ));
    }
    // SAFETY: offset is inside the mapping (checked).
    Ok(unsafe { m.address.add(offset) })
}

/// Lay out a queue of `size` bytes at `offset` in `seg`. 0, or -1.
///
/// # Safety
/// As bgw_segment_handle; nobody uses a queue at that place at the time.
#[no_mangle]
pub unsafe extern "C" fn bgw_mq_create(seg: *mut Segment, offset: usize, size: usize) -> c_int {
    boundary("bgw_mq_create", -1, || {
        // SAFETY: contract.
        let s = match unsafe { segment(seg, "bgw_mq_create") } {
            Ok(s) => s,
            Err(m) => return fail(&m),
        };
        let at = match queue_place(s, offset, size, "bgw_mq_create") {
            Ok(p) => p,
            Err(m) => return fail(&m),
        };
        // SAFETY: `size` bytes at `at` lie in the mapping (checked).
        if unsafe { bgw_ring_create(at.cast(), size) }.is_null() {
            return ring_failed();
        }
        0
    })
}

/// Take the role `role` (BGW_MQ_SENDER or BGW_MQ_RECEIVER) of the queue at
/// `offset` in `seg` for this process and attach to it; `peer` (may be
/// NULL) is the other side's worker. NULL on failure.
///
/// # Safety
/// As bgw_segment_handle; `peer` is NULL or a live handle of
/// RegisterDynamicBackgroundWorker.
#[no_mangle]
pub unsafe extern "C" fn bgw_mq_attach(
    seg: *mut Segment,
    offset: usize,
    role: c_int,
    peer: *mut BackgroundWorkerHandle,
) -> *mut QueueHandle {
    boundary("bgw_mq_attach", std::ptr::null_mut(), || {
        const W: &str = "bgw_mq_attach";
        // SAFETY: contract.
        let r = unsafe { segment(seg, W) }.and_then(|s| {
            if role != BGW_MQ_SENDER && role != BGW_MQ_RECEIVER {
                return Err(format!(
                    "{W}: role {role} is neither BGW_MQ_SENDER nor BGW_MQ_RECEIVER"
                ));
            }
            let at = queue_place(s, offset, 64, W)?;
            let m = s.mapping.as_ref().expect("checked by segment()");
            let me = my_token();
            let mut h = Box::new(QueueHandle {
                magic: QUEUE_MAGIC,
                // SAFETY: all-zero is a valid RingHandle (pointers NULL).
                ring: unsafe { std::mem::zeroed() },
            });
            // SAFETY: `at` lies in the mapping; the ring checks the rest
            // of the queue against the mapping before it trusts it.
            // The queue is checked before its role is taken, so nothing is
            // written into memory that is not a queue.
            unsafe {
                if bgw_ring_check(at.cast(), m.address, m.length) != 0
                    || bgw_ring_set_party(at.cast(), role == BGW_MQ_SENDER, me, &HOST_OPS) != 0
                    || bgw_ring_attach(
                        &mut h.ring,
                        at.cast(),
                        me,
                        m.address,
                        m.length,
                        peer.cast(),
                        &HOST_OPS,
                        std::ptr::null_mut(),
                    ) != 0
                {
                    ring_failed();
                    return Err(String::new());
                }
            }
            Ok(Box::into_raw(h))
        });
        match r {
            Ok(h) => h,
            Err(m) => {
                if !m.is_empty() {
                    fail(&m);
                }
                std::ptr::null_mut()
            }
        }
    })
}

/// Give the handle the other side's worker afterwards (once). 0, or -1.
///
/// # Safety
/// `h` is NULL or a queue handle of this API; `peer` as in bgw_mq_attach.
#[no_mangle]
pub unsafe extern "C" fn bgw_mq_set_peer(
    h: *mut QueueHandle,
    peer: *mut BackgroundWorkerHandle,
) -> c_int {
    boundary("bgw_mq_set_peer", -1, || {
        // SAFETY: contract.
        match unsafe { queue(h, "bgw_mq_set_peer") } {
            // SAFETY: our live handle.
            Ok(q) => match unsafe { bgw_ring_set_worker(&mut q.ring, peer.cast()) } {
                0 => 0,
                _ => ring_failed(),
            },
            Err(m) => fail(&m),
        }
    })
}

fn result(r: c_int) -> c_int {
    if r == RING_ERROR {
        ring_failed()
    } else {
        r
    }
}

/// Send one message of `len` bytes. BGW_MQ_SUCCESS, BGW_MQ_WOULD_BLOCK
/// (with BGW_MQ_NOWAIT: call again with the same message), BGW_MQ_DETACHED,
/// or -1.
///
/// # Safety
/// `h` as in bgw_mq_set_peer; `data` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn bgw_mq_send(
    h: *mut QueueHandle,
    data: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    boundary("bgw_mq_send", -1, || {
        // SAFETY: contract.
        let q = match unsafe { queue(h, "bgw_mq_send") } {
            Ok(q) => q,
            Err(m) => return fail(&m),
        };
        if data.is_null() && len > 0 {
            return fail("bgw_mq_send: data is NULL");
        }
        let iov = Iovec {
            data: data.cast(),
            len,
        };
        // SAFETY: our live handle; iov describes the caller's bytes.
        result(unsafe {
            bgw_ring_sendv(
                &mut q.ring,
                &iov,
                1,
                flags & BGW_MQ_NOWAIT != 0,
                flags & BGW_MQ_NOFLUSH == 0,
            )
        })
    })
}

/// Receive one message: `*data` and `*len` describe it until the next call
/// on this handle. Results as bgw_mq_send's.
///
/// # Safety
/// `h` as in bgw_mq_set_peer; `data` and `len` are writable.
#[no_mangle]
pub unsafe extern "C" fn bgw_mq_receive(
    h: *mut QueueHandle,
    data: *mut *mut c_void,
    len: *mut usize,
    flags: c_int,
) -> c_int {
    boundary("bgw_mq_receive", -1, || {
        // SAFETY: contract.
        let q = match unsafe { queue(h, "bgw_mq_receive") } {
            Ok(q) => q,
            Err(m) => return fail(&m),
        };
        if data.is_null() || len.is_null() {
            return fail("bgw_mq_receive: data or len is NULL");
        }
        // SAFETY: our live handle; the out pointers are writable.
        result(unsafe { bgw_ring_receive(&mut q.ring, len, data, flags & BGW_MQ_NOWAIT != 0) })
    })
}

/// Wait until the other side has attached: BGW_MQ_SUCCESS, or
/// BGW_MQ_DETACHED if it is gone first; -1 for a bad handle.
///
/// # Safety
/// As bgw_mq_set_peer.
#[no_mangle]
pub unsafe extern "C" fn bgw_mq_wait_for_attach(h: *mut QueueHandle) -> c_int {
    boundary("bgw_mq_wait_for_attach", -1, || {
        // SAFETY: contract.
        match unsafe { queue(h, "bgw_mq_wait_for_attach") } {
            // SAFETY: our live handle.
            Ok(q) => result(unsafe { bgw_ring_wait_for_attach(&mut q.ring) }),
            Err(m) => fail(&m),
        }
    })
}

/// Detach from the queue (the other side sees BGW_MQ_DETACHED once it has
/// read what was sent) and free the handle. 0, or -1 for a bad handle.
///
/// # Safety
/// As bgw_mq_set_peer; the handle is not used again.
#[no_mangle]
pub unsafe extern "C" fn bgw_mq_detach(h: *mut QueueHandle) -> c_int {
    boundary("bgw_mq_detach", -1, || {
        // SAFETY: contract.
        match unsafe { queue(h, "bgw_mq_detach") } {
            Ok(q) => {
                // SAFETY: our live handle.
                unsafe { bgw_ring_detach(&mut q.ring) };
                q.magic = 0;
                // SAFETY: ours, from Box::into_raw; not used again.
                drop(unsafe { Box::from_raw(h) });
                RING_SUCCESS
            }
            Err(m) => fail(&m),
        }
    })
}
