//! Memory contexts and palloc (utils/mmgr), with the parts of PostgreSQL
//! 15's layout that modules compile in:
//!
//! * a context starts with a `MemoryContextData` (80 bytes) whose node tag
//!   is `T_AllocSetContext`, so `MemoryContextIsValid` accepts it, with
//!   `parent`/`firstchild`/`nextchild`/`name` kept as PostgreSQL keeps them;
//! * the word just before every chunk is its context (15's inline
//!   `GetMemoryChunkContext` reads `((MemoryContext *) p)[-1]`; from 16 on
//!   it is the exported function, and the chunk header is private);
//! * the node tag is `T_AllocSetContext` of the process's major;
//! * `MemoryContextSwitchTo` is inline: it only swaps `CurrentMemoryContext`.
//!
//! Chunks are malloc'd and linked into their context, so that reset and
//! delete free them all. Errors (size limits, out of memory) are raised as
//! PostgreSQL raises them, through the C wrappers (`c/wrappers.c`).

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

use super::elog::{raise, ERRCODE_OUT_OF_MEMORY};
use crate::log::ERROR;

/// `T_AllocSetContext` in `major`'s nodes/nodetags.h (measured against the
/// real headers): `MemoryContextIsValid` and `IsA` compare it inline.
pub fn t_alloc_set_context(major: u32) -> u32 {
    match major {
        18.. => 474,
        17 => 469,
        _ => 223,
    }
}
const MAX_ALLOC_SIZE: usize = 0x3fff_ffff;
const MAX_ALLOC_HUGE_SIZE: usize = usize::MAX / 2;
const MCXT_ALLOC_HUGE: i32 = 0x01;
const MCXT_ALLOC_NO_OOM: i32 = 0x02;
const MCXT_ALLOC_ZERO: i32 = 0x04;

/// PostgreSQL 15's `MemoryContextData`.
#[repr(C)]
pub struct ContextData {
    tag: u32,
    is_reset: bool,
    allow_in_crit_section: bool,
    mem_allocated: usize,
    methods: *const c_void,
    parent: *mut Context,
    firstchild: *mut Context,
    prevchild: *mut Context,
    nextchild: *mut Context,
    name: *const c_char,
    ident: *const c_char,
    reset_cbs: *mut ResetCallback,
}

/// A context: PostgreSQL's header, then our chunk list.
#[repr(C)]
pub struct Context {
    data: ContextData,
    chunks: *mut Chunk,
    /// Owned copy of the name when the caller's could not be kept.
    owned_name: *mut c_char,
}

/// `MemoryContextCallback`.
#[repr(C)]
pub struct ResetCallback {
    func: Option<unsafe extern "C" fn(*mut c_void)>,
    arg: *mut c_void,
    next: *mut ResetCallback,
}

/// Chunk header (32 bytes, so user memory stays 16-byte aligned); `ctx` is
/// the last word, right before the user's pointer.
#[repr(C)]
struct Chunk {
    prev: *mut Chunk,
    next: *mut Chunk,
    size: usize,
    ctx: *mut Context,
}

const HDR: usize = std::mem::size_of::<Chunk>();
/// Bytes every chunk has after its header, even for palloc(0): pfree reads
/// a would-be worker handle there (see api::take_pfreeable_handle).
const MIN_PAYLOAD: usize = bgworker_core::api::HANDLE_SIZE;

super::c_export! {
    palloc => bgw_c_palloc,
    palloc0 => bgw_c_palloc0,
    palloc_extended => bgw_c_palloc_extended,
    repalloc => bgw_c_repalloc,
    pfree => bgw_c_pfree,
    pstrdup => bgw_c_pstrdup,
    pnstrdup => bgw_c_pnstrdup,
    MemoryContextAlloc => bgw_c_MemoryContextAlloc,
    MemoryContextAllocZero => bgw_c_MemoryContextAllocZero,
    MemoryContextAllocExtended => bgw_c_MemoryContextAllocExtended,
    MemoryContextAllocHuge => bgw_c_MemoryContextAllocHuge,
    MemoryContextStrdup => bgw_c_MemoryContextStrdup,
    MemoryContextReset => bgw_c_MemoryContextReset,
    MemoryContextDelete => bgw_c_MemoryContextDelete,
    MemoryContextDeleteChildren => bgw_c_MemoryContextDeleteChildren,
    AllocSetContextCreateInternal => bgw_c_AllocSetContextCreateInternal,
    MemoryContextRegisterResetCallback => bgw_c_MemoryContextRegisterResetCallback,
    GetMemoryChunkSpace => bgw_c_GetMemoryChunkSpace,
    GetMemoryChunkContext => bgw_c_GetMemoryChunkContext,
    MemoryContextMemAllocated => bgw_c_MemoryContextMemAllocated,
}

#[unsafe(no_mangle)]
pub static TopMemoryContext: AtomicPtr<Context> = AtomicPtr::new(std::ptr::null_mut());
#[unsafe(no_mangle)]
pub static CurrentMemoryContext: AtomicPtr<Context> = AtomicPtr::new(std::ptr::null_mut());
#[unsafe(no_mangle)]
pub static ErrorContext: AtomicPtr<Context> = AtomicPtr::new(std::ptr::null_mut());
/// `TopTransactionContext`: a plain child of TopMemoryContext that lives as
/// long as the process (no transaction ends here; see dsm.rs).
#[unsafe(no_mangle)]
pub static TopTransactionContext: AtomicPtr<Context> = AtomicPtr::new(std::ptr::null_mut());
/// `CurTransactionContext`: TopTransactionContext, as in a top-level
/// transaction of PostgreSQL.
#[unsafe(no_mangle)]
pub static CurTransactionContext: AtomicPtr<Context> = AtomicPtr::new(std::ptr::null_mut());

/// A new context under `parent` (the runtime's own, e.g. the transaction
/// contexts).
pub fn new_child(parent: *mut Context, name: &'static std::ffi::CStr) -> *mut Context {
    new_context(parent, name.as_ptr())
}

/// Create TopMemoryContext and ErrorContext and make Top current (once per
/// process image; a forked worker inherits them).
pub fn init() {
    if !TopMemoryContext.load(Ordering::Acquire).is_null() {
        return;
    }
    // Modules may pfree() the worker handles of this process (see
    // api::BackgroundWorkerHandle).
    bgworker_core::api::TRACK_PFREEABLE_HANDLES.store(true, Ordering::Release);
    let top = new_context(std::ptr::null_mut(), c"TopMemoryContext".as_ptr());
    TopMemoryContext.store(top, Ordering::Release);
    ErrorContext.store(
        new_context(top, c"ErrorContext".as_ptr()),
        Ordering::Release,
    );
    CurrentMemoryContext.store(top, Ordering::Release);
    super::dsm::init_transaction_contexts();
}

fn current() -> *mut Context {
    let c = CurrentMemoryContext.load(Ordering::Acquire);
    if c.is_null() {
        init();
        return CurrentMemoryContext.load(Ordering::Acquire);
    }
    c
}

fn new_context(parent: *mut Context, name: *const c_char) -> *mut Context {
    let ctx = Box::into_raw(Box::new(Context {
        data: ContextData {
            tag: t_alloc_set_context(bgworker_core::identity::pg_major()),
            is_reset: true,
            allow_in_crit_section: false,
            mem_allocated: 0,
            methods: std::ptr::null(),
            parent,
            firstchild: std::ptr::null_mut(),
            prevchild: std::ptr::null_mut(),
            nextchild: std::ptr::null_mut(),
            name,
            ident: std::ptr::null(),
            reset_cbs: std::ptr::null_mut(),
        },
        chunks: std::ptr::null_mut(),
        owned_name: std::ptr::null_mut(),
    }));
    if !parent.is_null() {
        // SAFETY: parent is a live context (callers pass one or NULL);
        // contexts are used by one thread.
        unsafe {
            let first = (*parent).data.firstchild;
            (*ctx).data.nextchild = first;
            if !first.is_null() {
                (*first).data.prevchild = ctx;
            }
            (*parent).data.firstchild = ctx;
        }
    }
    ctx
}

/// Allocate in `ctx`; NULL with the error recorded (or, with NO_OOM, NULL
/// on out-of-memory without error).
fn alloc(ctx: *mut Context, size: usize, flags: i32) -> *mut c_void {
    let limit = if flags & MCXT_ALLOC_HUGE != 0 {
        MAX_ALLOC_HUGE_SIZE
    } else {
        MAX_ALLOC_SIZE
    };
    if size > limit {
        invalid_size(size);
        return std::ptr::null_mut();
    }
    let ctx = if ctx.is_null() { current() } else { ctx };
    // SAFETY: malloc/calloc of header + size (no overflow: size <= limit),
    // at least MIN_PAYLOAD after the header.
    let raw = unsafe {
        if flags & MCXT_ALLOC_ZERO != 0 {
            libc::calloc(1, HDR + size.max(MIN_PAYLOAD))
        } else {
            libc::malloc(HDR + size.max(MIN_PAYLOAD))
        }
    } as *mut Chunk;
    if raw.is_null() {
        if flags & MCXT_ALLOC_NO_OOM == 0 {
            out_of_memory(ctx, size);
        }
        return std::ptr::null_mut();
    }
    // SAFETY: raw is a fresh chunk; ctx is a live context.
    unsafe { link(ctx, raw, size) }
}

/// Put `chunk` (fresh, or moved by realloc) at the head of `ctx`'s list,
/// account for its `size` bytes, and return the user's pointer.
///
/// # Safety
/// `ctx` is a live context; `chunk` points to HDR + size bytes it owns and
/// is in no list.
unsafe fn link(ctx: *mut Context, chunk: *mut Chunk, size: usize) -> *mut c_void {
    // SAFETY: as the function's contract says.
    unsafe {
        chunk.write(Chunk {
            prev: std::ptr::null_mut(),
            next: (*ctx).chunks,
            size,
            ctx,
        });
        if !(*ctx).chunks.is_null() {
            (*(*ctx).chunks).prev = chunk;
        }
        (*ctx).chunks = chunk;
        (*ctx).data.is_reset = false;
        (*ctx).data.mem_allocated += size;
        (chunk as *mut u8).add(HDR) as *mut c_void
    }
}

/// Record PostgreSQL's ERROR for a request over the size limit.
fn invalid_size(size: usize) {
    raise(
        ERROR,
        super::elog::ERRCODE_INTERNAL_ERROR,
        format!("invalid memory alloc request size {size}"),
        None,
    );
}

/// Record PostgreSQL's out-of-memory ERROR for a request in `ctx`.
fn out_of_memory(ctx: *mut Context, size: usize) {
    raise(
        ERROR,
        ERRCODE_OUT_OF_MEMORY,
        "out of memory".into(),
        Some(format!(
            "Failed on request of size {size} in memory context \"{}\".",
            context_name(ctx)
        )),
    );
}

fn context_name(ctx: *mut Context) -> String {
    // SAFETY: ctx is live; its name is NULL or a NUL-terminated string.
    super::misc::c_str(unsafe { (*ctx).data.name }).unwrap_or_default()
}

/// The chunk header of a palloc'd pointer.
///
/// # Safety
/// `p` came from this allocator and was not freed.
unsafe fn chunk_of(p: *mut c_void) -> *mut Chunk {
    // SAFETY: every palloc'd pointer sits HDR bytes after its header.
    unsafe { (p as *mut u8).sub(HDR) as *mut Chunk }
}

/// Unlink a chunk from its context (it is about to be freed or moved).
///
/// # Safety
/// `c` is a live chunk header.
unsafe fn unlink(c: *mut Chunk) {
    // SAFETY: c and its neighbours are live chunks of one context.
    unsafe {
        let ctx = (*c).ctx;
        if (*c).prev.is_null() {
            (*ctx).chunks = (*c).next;
        } else {
            (*(*c).prev).next = (*c).next;
        }
        if !(*c).next.is_null() {
            (*(*c).next).prev = (*c).prev;
        }
        (*ctx).data.mem_allocated = (*ctx).data.mem_allocated.saturating_sub((*c).size);
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_palloc(size: usize, flags: i32) -> *mut c_void {
    super::guard("bgw_rs_palloc", std::ptr::null_mut(), || {
        alloc(std::ptr::null_mut(), size, flags)
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_context_alloc(ctx: *mut Context, size: usize, flags: i32) -> *mut c_void {
    super::guard("bgw_rs_context_alloc", std::ptr::null_mut(), || {
        if ctx.is_null() {
            raise(
                ERROR,
                super::elog::ERRCODE_INTERNAL_ERROR,
                "memory context is NULL".into(),
                None,
            );
            return std::ptr::null_mut();
        }
        alloc(ctx, size, flags)
    })
}

/// `pfree` (NULL is ignored).
///
/// # Safety
/// `p` is NULL or a live pointer from this allocator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_pfree(p: *mut c_void) {
    super::guard("bgw_rs_pfree", (), || {
        if p.is_null() {
            return;
        }
        // SAFETY: p came from palloc or is a worker handle (caller's
        // contract); a handle has no chunk header and is free()d there.
        if unsafe { bgworker_core::api::take_pfreeable_handle(p) } {
            return;
        }
        // SAFETY: p came from palloc (caller's contract).
        unsafe {
            let c = chunk_of(p);
            unlink(c);
            libc::free(c as *mut c_void);
        }
    })
}

///
/// # Safety
/// `p` is NULL or a live pointer from this allocator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_repalloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: the caller's contract.
    unsafe { bgw_rs_repalloc_extended(p, size, 0) }
}

/// `repalloc_extended`: as `repalloc`, up to the huge limit with
/// `MCXT_ALLOC_HUGE`, and NULL (the chunk left as it was) on out of
/// memory with `MCXT_ALLOC_NO_OOM`; a size over the limit is an ERROR
/// whatever the flags, as in PostgreSQL.
///
/// # Safety
/// `p` is NULL or a live pointer from this allocator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_repalloc_extended(
    p: *mut c_void,
    size: usize,
    flags: i32,
) -> *mut c_void {
    super::guard("bgw_rs_repalloc_extended", std::ptr::null_mut(), || {
        if p.is_null() {
            raise(
                ERROR,
                super::elog::ERRCODE_INTERNAL_ERROR,
                "repalloc of a NULL pointer".into(),
                None,
            );
            return std::ptr::null_mut();
        }
        let limit = if flags & MCXT_ALLOC_HUGE != 0 {
            MAX_ALLOC_HUGE_SIZE
        } else {
            MAX_ALLOC_SIZE
        };
        if size > limit {
            invalid_size(size);
            return std::ptr::null_mut();
        }
        // SAFETY: p came from palloc; realloc moves the whole chunk, and the
        // neighbours' links are rewritten to its new address.
        unsafe {
            let c = chunk_of(p);
            let ctx = (*c).ctx;
            let old_size = (*c).size;
            unlink(c);
            let n = libc::realloc(c as *mut c_void, HDR + size.max(MIN_PAYLOAD)) as *mut Chunk;
            if n.is_null() {
                // realloc left the old chunk intact: back into the list.
                link(ctx, c, old_size);
                if flags & MCXT_ALLOC_NO_OOM == 0 {
                    out_of_memory(ctx, size);
                }
                return std::ptr::null_mut();
            }
            link(ctx, n, size)
        }
    })
}

/// Delete every child of `ctx`, run its reset callbacks (newest first),
/// then free every chunk. As PostgreSQL's MemoryContextCallResetCallbacks,
/// each callback is unlinked before it runs, so when one raises ERROR the
/// ones not run yet stay registered for the next reset or delete; the
/// error is then left for [`elog::rethrow_caught`](super::elog) (the
/// caller's C wrapper raises it once Rust has returned) and `false` is
/// returned with the context not reset. An ERROR in a child's callback
/// stops the same way.
///
/// # Safety
/// `ctx` is a live context.
unsafe fn reset(ctx: *mut Context) -> bool {
    // SAFETY: ctx is live (contract).
    unsafe { delete_children(ctx) && reset_only(ctx) }
}

/// Run `ctx`'s reset callbacks and free its chunks, leaving its children
/// alone (`MemoryContextResetOnly`); false, as [`reset`], when a callback
/// raised ERROR.
///
/// # Safety
/// `ctx` is a live context.
unsafe fn reset_only(ctx: *mut Context) -> bool {
    // SAFETY: ctx is live; its chunks belong to it alone.
    unsafe {
        loop {
            let cb = (*ctx).data.reset_cbs;
            if cb.is_null() {
                break;
            }
            (*ctx).data.reset_cbs = (*cb).next;
            if let Some(f) = (*cb).func {
                let arg = (*cb).arg;
                // The closure owns nothing (see call_caught).
                if !super::elog::call_caught(&mut || f(arg)) {
                    super::elog::rethrow_caught();
                    return false;
                }
            }
        }
        let mut c = (*ctx).chunks;
        while !c.is_null() {
            let next = (*c).next;
            libc::free(c as *mut c_void);
            c = next;
        }
        (*ctx).chunks = std::ptr::null_mut();
        (*ctx).data.mem_allocated = 0;
        (*ctx).data.is_reset = true;
        true
    }
}

/// Delete every child of `ctx`; false (with the ERROR left for the
/// caller's wrapper) if a callback raised one.
///
/// # Safety
/// `ctx` is a live context.
unsafe fn delete_children(ctx: *mut Context) -> bool {
    // SAFETY: a live context; deleting each child unlinks it.
    unsafe {
        while !(*ctx).data.firstchild.is_null() {
            if !delete((*ctx).data.firstchild) {
                return false;
            }
        }
    }
    true
}

/// Reset `ctx`, then unlink and free it; false, with the context kept, if
/// a reset callback raised ERROR (see [`reset`]).
///
/// # Safety
/// `ctx` is a live context other than TopMemoryContext.
unsafe fn delete(ctx: *mut Context) -> bool {
    // SAFETY: ctx is live; unlinking from its parent's child list.
    unsafe {
        if !reset(ctx) {
            return false;
        }
        let parent = (*ctx).data.parent;
        let prev = (*ctx).data.prevchild;
        let next = (*ctx).data.nextchild;
        if !prev.is_null() {
            (*prev).data.nextchild = next;
        } else if !parent.is_null() {
            (*parent).data.firstchild = next;
        }
        if !next.is_null() {
            (*next).data.prevchild = prev;
        }
        if CurrentMemoryContext.load(Ordering::Acquire) == ctx {
            CurrentMemoryContext.store(parent, Ordering::Release);
        }
        if !(*ctx).owned_name.is_null() {
            libc::free((*ctx).owned_name as *mut c_void);
        }
        drop(Box::from_raw(ctx));
    }
    true
}

/// `AllocSetContextCreateInternal(parent, name, min, init, max)`; the
/// sizing arguments tune PostgreSQL's block allocator and are not needed
/// by this one. `name` must outlive the context (as in PostgreSQL: it is
/// normally a string literal).
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_AllocSetContextCreateInternal(
    parent: *mut Context,
    name: *const c_char,
    _min_context_size: usize,
    _init_block_size: usize,
    _max_block_size: usize,
) -> *mut Context {
    super::guard(
        "AllocSetContextCreateInternal",
        std::ptr::null_mut(),
        || {
            init();
            new_context(parent, name)
        },
    )
}

/// `MemoryContextReset`: free everything allocated in the context and
/// delete its children. An ERROR raised by a reset callback is re-thrown
/// by the C wrapper (`c/wrappers.c`).
///
/// # Safety
/// `ctx` is NULL or a live context made by this runtime.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_MemoryContextReset(ctx: *mut Context) {
    super::guard("bgw_rs_MemoryContextReset", (), || {
        if !ctx.is_null() {
            // SAFETY: a context made here (caller's contract).
            unsafe { reset(ctx) };
        }
    })
}

/// `MemoryContextResetOnly`: run the reset callbacks and free the chunks,
/// keeping the children. An ERROR raised by a callback is re-thrown by the
/// C wrapper (`c/mcxt_tree.c`).
///
/// # Safety
/// `ctx` is NULL or a live context made by this runtime.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_MemoryContextResetOnly(ctx: *mut Context) {
    super::guard("bgw_rs_MemoryContextResetOnly", (), || {
        if !ctx.is_null() {
            // SAFETY: a context made here (caller's contract).
            unsafe { reset_only(ctx) };
        }
    })
}

/// `MemoryContextDeleteChildren`: delete the children, keep the chunks.
///
/// # Safety
/// `ctx` is NULL or a live context made by this runtime.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_MemoryContextDeleteChildren(ctx: *mut Context) {
    super::guard("bgw_rs_MemoryContextDeleteChildren", (), || {
        if !ctx.is_null() {
            // SAFETY: a context made here (caller's contract).
            unsafe { delete_children(ctx) };
        }
    })
}

/// `MemoryContextDelete` (TopMemoryContext is only reset: it lives as
/// long as the process).
///
/// # Safety
/// `ctx` is NULL or a live context made by this runtime.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_MemoryContextDelete(ctx: *mut Context) {
    super::guard("bgw_rs_MemoryContextDelete", (), || {
        if ctx.is_null() {
            return;
        }
        if ctx == TopMemoryContext.load(Ordering::Acquire) {
            // SAFETY: live context.
            unsafe { reset(ctx) };
            return;
        }
        // SAFETY: a live, non-top context made here (caller's contract).
        unsafe { delete(ctx) };
    })
}

/// `MemoryContextRegisterResetCallback`: `cb` lives in the context's
/// memory (PostgreSQL's contract) and runs at its next reset or delete.
///
/// # Safety
/// `ctx` and `cb` are NULL or live; `cb` stays valid until the context is reset or deleted.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_MemoryContextRegisterResetCallback(
    ctx: *mut Context,
    cb: *mut ResetCallback,
) {
    super::guard("MemoryContextRegisterResetCallback", (), || {
        if ctx.is_null() || cb.is_null() {
            return;
        }
        // SAFETY: live context and callback struct (caller's contract).
        unsafe {
            (*cb).next = (*ctx).data.reset_cbs;
            (*ctx).data.reset_cbs = cb;
            (*ctx).data.is_reset = false;
        }
    })
}

/// `GetMemoryChunkContext` (a function from PostgreSQL 16 on; 15's modules
/// read the word before the chunk inline, which is the same `ctx`).
///
/// # Safety
/// `p` is a live pointer from this allocator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_GetMemoryChunkContext(p: *mut c_void) -> *mut Context {
    super::guard("GetMemoryChunkContext", std::ptr::null_mut(), || {
        if p.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: p came from palloc (contract).
        unsafe { (*chunk_of(p)).ctx }
    })
}

/// Give every context of this process the node tag of this process's
/// major (called once the major is decided: contexts made before, such as
/// TopMemoryContext, carry the default's).
pub fn retag_contexts() {
    let tag = t_alloc_set_context(bgworker_core::identity::pg_major());
    fn walk(c: *mut Context, tag: u32) {
        let mut c = c;
        while !c.is_null() {
            // SAFETY: c is a live context of this process's tree.
            unsafe {
                (*c).data.tag = tag;
                walk((*c).data.firstchild, tag);
                c = (*c).data.nextchild;
            }
        }
    }
    walk(TopMemoryContext.load(Ordering::Acquire), tag);
}

/// `GetMemoryChunkSpace`: bytes a chunk takes, header included.
///
/// # Safety
/// `p` is NULL or a live pointer from this allocator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_GetMemoryChunkSpace(p: *mut c_void) -> usize {
    super::guard("GetMemoryChunkSpace", 0, || {
        if p.is_null() {
            return 0;
        }
        // SAFETY: p came from palloc.
        unsafe { (*chunk_of(p)).size + HDR }
    })
}

/// `MemoryContextMemAllocated(ctx, recurse)`.
///
/// # Safety
/// `ctx` is NULL or a live context made by this runtime.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bgw_rs_MemoryContextMemAllocated(
    ctx: *mut Context,
    recurse: bool,
) -> usize {
    super::guard("MemoryContextMemAllocated", 0, || {
        if ctx.is_null() {
            return 0;
        }
        // SAFETY: live context tree.
        unsafe {
            let mut total = (*ctx).data.mem_allocated;
            if recurse {
                let mut c = (*ctx).data.firstchild;
                while !c.is_null() {
                    total += bgw_rs_MemoryContextMemAllocated(c, true);
                    c = (*c).data.nextchild;
                }
            }
            total
        }
    })
}
