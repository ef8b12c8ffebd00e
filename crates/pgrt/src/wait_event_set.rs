//! Wait event sets (storage/latch.h in 15 and 17, storage/waiteventset.h in
//! 18): a process waits at once on its latch, the supervisor's death and
//! any number of sockets, as network-minded workers do.
//!
//! The set is one allocation (15: in the memory context given; 17 and 18:
//! in TopMemoryContext, the resource owner argument is not used, so the set
//! is not released with it and `FreeWaitEventSet` is the way to release
//! it): the header below, then the events. Waiting is poll(2) over the
//! latch's signalfd (latch.rs), the supervisor's death descriptor and the
//! sockets, with PostgreSQL's rules:
//! - a latch already set is reported without waiting: alone in 15; in 17
//!   and 18 with whatever else is ready at that moment and fits;
//! - otherwise every event that is ready is reported, up to `nevents`, in
//!   the order the events were added (PostgreSQL's epoll order is the
//!   kernel's);
//! - `WL_EXIT_ON_PM_DEATH` ends the process (status 1) once the supervisor
//!   is gone; `WL_POSTMASTER_DEATH` reports it;
//! - a timeout returns 0 events; -1 waits for ever.
//!
//! PostgreSQL's ERRORs for bad arguments (another process's latch, a second
//! latch, a socket event without a socket or with a descriptor that is not
//! open, modifying the latch or death event, a full set) are raised from
//! the C shims (c/wait_event_set.c). A socket closed while in the set is
//! left out of the wait, as epoll drops it.
//!
//! Who may call: module code in its own process; one thread.

use std::ffi::c_void;
use std::sync::atomic::{fence, Ordering};

use super::elog::{raise, ERRCODE_INTERNAL_ERROR};
use super::latch::{
    death_event, death_fd, drain, now_ms, report_wait, signal_fd, socket_events_ready,
    socket_poll_events, supervisor_gone, supervisor_gone_or_hup, Latch, WL_EXIT_ON_PM_DEATH,
    WL_LATCH_SET, WL_POSTMASTER_DEATH, WL_SOCKET_CLOSED, WL_SOCKET_READABLE, WL_SOCKET_WRITEABLE,
};
use crate::log::ERROR;

super::c_export! {
    CreateWaitEventSet => bgw_c_CreateWaitEventSet,
    AddWaitEventToSet => bgw_c_AddWaitEventToSet,
    ModifyWaitEvent => bgw_c_ModifyWaitEvent,
    FreeWaitEventSet => bgw_c_FreeWaitEventSet,
    FreeWaitEventSetAfterFork => bgw_c_FreeWaitEventSetAfterFork,
    WaitEventSetWait => bgw_c_WaitEventSetWait,
}

const WL_SOCKET_MASK: u32 = (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE | WL_SOCKET_CLOSED) as u32;

/// PostgreSQL's `WaitEvent` (the same in 15, 17 and 18): what a module
/// passes in `occurred_events`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct WaitEvent {
    pub pos: i32,
    pub events: u32,
    pub fd: i32,
    pub user_data: *mut c_void,
}

/// The set's header; `nevents_space` events follow it.
#[repr(C)]
pub struct WaitEventSet {
    nevents: i32,
    nevents_space: i32,
    latch: *mut Latch,
    latch_pos: i32,
    exit_on_pm_death: bool,
}

fn events_of(set: *mut WaitEventSet) -> *mut WaitEvent {
    // SAFETY: the events follow the header in the same allocation.
    unsafe { set.add(1).cast::<WaitEvent>() }
}

fn err(msg: &str) {
    raise(ERROR, ERRCODE_INTERNAL_ERROR, msg.to_string(), None);
}

/// `CreateWaitEventSet` body: room for `nevents` events, allocated in
/// `context` (15's argument; NULL, which 17's and 18's callers get here,
/// means TopMemoryContext).
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_CreateWaitEventSet(
    context: *mut super::mcxt::Context,
    nevents: i32,
) -> *mut WaitEventSet {
    super::guard("CreateWaitEventSet", std::ptr::null_mut(), || {
        let n = nevents.max(0) as usize;
        let size = std::mem::size_of::<WaitEventSet>() + n * std::mem::size_of::<WaitEvent>();
        let ctx = if context.is_null() {
            super::mcxt::TopMemoryContext.load(Ordering::Acquire)
        } else {
            context
        };
        // MCXT_ALLOC_ZERO
        let set = super::mcxt::bgw_rs_context_alloc(ctx, size, 0x04).cast::<WaitEventSet>();
        if !set.is_null() {
            // SAFETY: a fresh zeroed allocation of the header's size at least.
            unsafe {
                (*set).nevents_space = nevents.max(0);
                (*set).latch_pos = -1;
            }
        }
        set
    })
}

/// `AddWaitEventToSet` body (see the module's rules); the new event's
/// position, or -1 after an ERROR was recorded.
///
/// # Safety
/// `set` comes from CreateWaitEventSet; `latch` is NULL or a live latch.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_AddWaitEventToSet(
    set: *mut WaitEventSet,
    events: u32,
    fd: i32,
    latch: *mut Latch,
    user_data: *mut c_void,
) -> i32 {
    super::guard("AddWaitEventToSet", -1, || {
        // SAFETY: the caller's set.
        let s = unsafe { &mut *set };
        let mut events = events;
        if s.nevents >= s.nevents_space {
            err("cannot add more wait events to this set: it was created for fewer");
            return -1;
        }
        if events == WL_EXIT_ON_PM_DEATH as u32 {
            events = WL_POSTMASTER_DEATH as u32;
            s.exit_on_pm_death = true;
        }
        // SAFETY: NULL or a live latch.
        if let Some(l) = unsafe { latch.as_ref() } {
            // SAFETY: getpid has no preconditions.
            if l.owner_pid.load(Ordering::Acquire) != unsafe { libc::getpid() } {
                err("cannot wait on a latch owned by another process");
                return -1;
            }
            if !s.latch.is_null() {
                err("cannot wait on more than one latch");
                return -1;
            }
            if events & WL_LATCH_SET as u32 != WL_LATCH_SET as u32 {
                err("latch events only support being set");
                return -1;
            }
        } else if events & WL_LATCH_SET as u32 != 0 {
            err("cannot wait on latch without a specified latch");
            return -1;
        }
        if fd < 0 && events & WL_SOCKET_MASK != 0 {
            err("cannot wait on socket event without a socket");
            return -1;
        }
        let pos = s.nevents;
        s.nevents += 1;
        if events == WL_LATCH_SET as u32 {
            s.latch = latch;
            s.latch_pos = pos;
        }
        // SAFETY: pos < nevents_space: inside the allocation.
        unsafe {
            events_of(set).add(pos as usize).write(WaitEvent {
                pos,
                events,
                fd,
                user_data,
            })
        };
        // A socket that is not open: PostgreSQL's epoll_ctl() ERROR, raised
        // after the event was counted, as there.
        // SAFETY: F_GETFD only reads the descriptor's flags.
        if events & WL_SOCKET_MASK != 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            err(&format!(
                "epoll_ctl() failed: {}",
                bgworker_core::errno_text(bgworker_core::errno())
            ));
            return -1;
        }
        pos
    })
}

/// `ModifyWaitEvent` body.
///
/// # Safety
/// As [`bgw_rs_AddWaitEventToSet`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_ModifyWaitEvent(
    set: *mut WaitEventSet,
    pos: i32,
    events: u32,
    latch: *mut Latch,
) {
    super::guard("ModifyWaitEvent", (), || {
        // SAFETY: the caller's set.
        let s = unsafe { &mut *set };
        if pos < 0 || pos >= s.nevents {
            err("wait event position out of range");
            return;
        }
        // SAFETY: pos < nevents.
        let ev = unsafe { &mut *events_of(set).add(pos as usize) };
        // 18 switches a death event between reporting and exiting; 15 and
        // 17 take WL_EXIT_ON_PM_DEATH as an alias only when adding.
        if bgworker_core::identity::pg_major() >= 18 && ev.events & WL_POSTMASTER_DEATH as u32 != 0
        {
            if events != WL_POSTMASTER_DEATH as u32 && events != WL_EXIT_ON_PM_DEATH as u32 {
                err("cannot remove postmaster death event");
                return;
            }
            s.exit_on_pm_death = events == WL_EXIT_ON_PM_DEATH as u32;
            return;
        }
        if events == ev.events && (ev.events & WL_LATCH_SET as u32 == 0 || s.latch == latch) {
            return;
        }
        if ev.events & WL_LATCH_SET as u32 != 0 && events != ev.events {
            err("cannot modify latch event");
            return;
        }
        if ev.events & WL_POSTMASTER_DEATH as u32 != 0 {
            err("cannot modify postmaster death event");
            return;
        }
        ev.events = events;
        if events == WL_LATCH_SET as u32 {
            // SAFETY: NULL or a live latch.
            if let Some(l) = unsafe { latch.as_ref() } {
                // SAFETY: getpid has no preconditions.
                let me = unsafe { libc::getpid() };
                if l.owner_pid.load(Ordering::Acquire) != me {
                    err("cannot wait on a latch owned by another process");
                    return;
                }
            }
            s.latch = latch;
        }
    })
}

/// `FreeWaitEventSet` body (also 17's and 18's `FreeWaitEventSetAfterFork`:
/// nothing here belongs to the kernel).
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_FreeWaitEventSet(set: *mut WaitEventSet) {
    super::guard("FreeWaitEventSet", (), || {
        if !set.is_null() {
            // SAFETY: the set was allocated by bgw_rs_context_alloc.
            unsafe { super::mcxt::bgw_rs_pfree(set.cast()) };
        }
    })
}

/// `GetNumRegisteredWaitEvents`.
///
/// # Safety
/// `set` comes from CreateWaitEventSet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn GetNumRegisteredWaitEvents(set: *mut WaitEventSet) -> i32 {
    // SAFETY: the caller's set.
    super::guard("GetNumRegisteredWaitEvents", 0, || unsafe {
        (*set).nevents
    })
}

/// `WaitEventSetCanReportClosed`: WL_SOCKET_CLOSED works here (POLLRDHUP).
#[unsafe(no_mangle)]
pub extern "C" fn WaitEventSetCanReportClosed() -> bool {
    true
}

/// `WaitEventSetWait` body: how many events were written to `occurred`.
///
/// # Safety
/// `set` comes from CreateWaitEventSet; `occurred` has room for `nevents`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_WaitEventSetWait(
    set: *mut WaitEventSet,
    timeout: libc::c_long,
    occurred: *mut WaitEvent,
    nevents: i32,
    wait_event_info: u32,
) -> i32 {
    super::guard("WaitEventSetWait", 0, || {
        report_wait(wait_event_info);
        // SAFETY: the caller's arguments, passed on unchanged.
        let n = unsafe { wait(set, timeout, occurred, nevents) };
        report_wait(0);
        n
    })
}

/// Body of WaitEventSetWait.
///
/// # Safety
/// As [`bgw_rs_WaitEventSetWait`].
unsafe fn wait(
    set: *mut WaitEventSet,
    timeout: libc::c_long,
    occurred: *mut WaitEvent,
    nevents: i32,
) -> i32 {
    // SAFETY: the caller's set.
    let s = unsafe { &*set };
    // SAFETY: its first nevents events are initialised.
    let evs = unsafe { std::slice::from_raw_parts(events_of(set), s.nevents as usize) };
    if nevents <= 0 {
        return 0;
    }
    let deadline = (timeout >= 0).then(|| now_ms() + timeout);
    // SAFETY: NULL or the set's live latch.
    let latch = unsafe { s.latch.as_ref() };
    let sfd = signal_fd();
    let death = death_fd();
    let mut out = 0usize;
    // Sockets closed while in the set (poll says POLLNVAL): left out of the
    // following polls, as epoll drops a closed descriptor, so that the wait
    // sleeps instead of spinning.
    let mut closed = vec![false; evs.len()];
    // The latch was reported already: poll the rest once, without waiting.
    let mut latch_done = false;
    // Write one occurred event; the caller checks out < nevents first.
    let emit = |out: &mut usize, e: WaitEvent| {
        // SAFETY: *out < nevents, the caller's room.
        unsafe { occurred.add(*out).write(e) };
        *out += 1;
    };
    loop {
        if let Some(l) = latch {
            l.maybe_sleeping.store(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            if l.is_set.load(Ordering::Relaxed) != 0 {
                l.maybe_sleeping.store(0, Ordering::Relaxed);
                emit(
                    &mut out,
                    WaitEvent {
                        pos: s.latch_pos,
                        events: WL_LATCH_SET as u32,
                        fd: -1,
                        user_data: evs[s.latch_pos as usize].user_data,
                    },
                );
                // 15 reports the latch alone; 17 and 18 also take, without
                // waiting, whatever else is ready and fits.
                if bgworker_core::identity::pg_major() < 17 || out >= nevents as usize {
                    return 1;
                }
                latch_done = true;
            }
        }
        // One pollfd per event (latch: the signalfd; death: its pipe).
        let mut fds: Vec<libc::pollfd> = evs
            .iter()
            .map(|e| {
                let (fd, ev) = if e.events == WL_LATCH_SET as u32 {
                    (
                        if latch.is_some() && !latch_done {
                            sfd
                        } else {
                            -1
                        },
                        libc::POLLIN,
                    )
                } else if e.events == WL_POSTMASTER_DEATH as u32 {
                    (death.unwrap_or(-1), libc::POLLIN)
                } else {
                    let ev = socket_poll_events(e.events as i32);
                    (
                        if ev != 0 && !closed[e.pos as usize] {
                            e.fd
                        } else {
                            -1
                        },
                        ev,
                    )
                };
                libc::pollfd {
                    fd,
                    events: ev,
                    revents: 0,
                }
            })
            .collect();
        let watch_death = evs.iter().any(|e| e.events == WL_POSTMASTER_DEATH as u32);
        let mut wait_ms = match deadline {
            _ if latch_done => 0,
            None => -1,
            Some(d) => (d - now_ms()).clamp(0, i32::MAX as i64) as i32,
        };
        // Without a death descriptor, look at the supervisor every 100 ms.
        if watch_death && death.is_none() && !(0..=100).contains(&wait_ms) {
            wait_ms = 100;
        }
        // SAFETY: a vector of valid pollfd entries (fd -1 is ignored).
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
        if let Some(l) = latch {
            l.maybe_sleeping.store(0, Ordering::Relaxed);
        }
        if rc < 0 {
            let e = bgworker_core::errno();
            if e == libc::EINTR {
                continue;
            }
            raise(
                ERROR,
                ERRCODE_INTERNAL_ERROR,
                format!("poll() failed: {}", bgworker_core::errno_text(e)),
                None,
            );
            return 0;
        }
        for (e, p) in evs.iter().zip(fds.iter()) {
            if p.revents & libc::POLLNVAL != 0 {
                closed[e.pos as usize] = true;
                continue;
            }
            if out >= nevents as usize {
                break;
            }
            if e.events == WL_LATCH_SET as u32 {
                if latch_done {
                    continue;
                }
                if p.revents != 0 {
                    drain(sfd);
                }
                if latch.is_some_and(|l| l.is_set.load(Ordering::Relaxed) != 0) {
                    emit(
                        &mut out,
                        WaitEvent {
                            pos: e.pos,
                            events: WL_LATCH_SET as u32,
                            fd: -1,
                            user_data: e.user_data,
                        },
                    );
                }
            } else if e.events == WL_POSTMASTER_DEATH as u32 {
                if (p.revents != 0 || supervisor_gone()) && supervisor_gone_or_hup(p.revents) {
                    if s.exit_on_pm_death {
                        death_event(WL_EXIT_ON_PM_DEATH);
                    }
                    emit(
                        &mut out,
                        WaitEvent {
                            pos: e.pos,
                            events: WL_POSTMASTER_DEATH as u32,
                            fd: -1,
                            user_data: e.user_data,
                        },
                    );
                }
            } else if p.revents != 0 {
                let got = socket_events_ready(e.events as i32, p.revents) as u32;
                if got != 0 {
                    emit(
                        &mut out,
                        WaitEvent {
                            pos: e.pos,
                            events: got,
                            fd: e.fd,
                            user_data: e.user_data,
                        },
                    );
                }
            }
        }
        if out > 0 || latch_done {
            return out as i32;
        }
        if let Some(d) = deadline {
            if now_ms() >= d {
                return 0;
            }
        }
    }
}
