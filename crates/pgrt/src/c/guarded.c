/*
 * guarded.c -- C wrappers of the runtime's exports whose body is Rust and
 * that raise no ERROR of their own: each calls its Rust body (bgw_rs_NAME,
 * which runs inside the runtime's panic boundary, compat::guard) and then
 * raises whatever the body recorded -- an internal error if the body
 * panicked -- once the Rust frames have returned (see src/compat/mod.rs).
 */
#include "pgcompat.h"

typedef void (*pqsigfunc) (int);

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

extern void bgw_rs_GUC_check_errcode(int sqlerrcode);
extern void bgw_rs_MarkGUCPrefixReserved(const char *className);
extern pqsigfunc bgw_rs_pqsignal(int signo, pqsigfunc func);
extern void bgw_rs_SetLatch(void *latch);
extern void bgw_rs_ResetLatch(void *latch);
extern void bgw_rs_InitLatch(void *latch);
extern void bgw_rs_InitSharedLatch(void *latch);
extern void bgw_rs_DisownLatch(void *latch);
extern void bgw_rs_LWLockReleaseAll(void);
extern bool bgw_rs_LWLockHeldByMe(void *lock);
extern bool bgw_rs_LWLockHeldByMeInMode(void *lock, int mode);
extern bool bgw_rs_LWLockAnyHeldByMe(void *lock, int nlocks, size_t stride);
extern void bgw_rs_LWLockInitialize(void *lock, int tranche_id);
extern int bgw_rs_LWLockNewTrancheId(void);
extern void bgw_rs_LWLockRegisterTranche(int tranche_id, const char *tranche_name);
extern MemoryContext bgw_rs_AllocSetContextCreateInternal(MemoryContext parent, const char *name, Size minContextSize, Size initBlockSize, Size maxBlockSize);
extern void bgw_rs_MemoryContextRegisterResetCallback(MemoryContext context, void *cb);
extern Size bgw_rs_GetMemoryChunkSpace(void *pointer);
extern MemoryContext bgw_rs_GetMemoryChunkContext(void *pointer);
extern Size bgw_rs_MemoryContextMemAllocated(MemoryContext context, bool recurse);
extern int64_t bgw_rs_GetCurrentTimestamp(void);
extern void bgw_rs_TimestampDifference(int64_t start_time, int64_t stop_time, long *secs, int *microsecs);
extern long bgw_rs_TimestampDifferenceMilliseconds(int64_t start_time, int64_t stop_time);
extern bool bgw_rs_TimestampDifferenceExceeds(int64_t start_time, int64_t stop_time, int msec);
extern void bgw_rs_pg_usleep(long microsec);
extern bool bgw_rs_RecoveryInProgress(void);
extern void *bgw_rs_ShmemAllocNoError(Size size);
extern bool bgw_rs_ShmemAddrIsValid(const void *addr);
extern void bgw_rs_finish_spin_delay(void *status);
extern void bgw_rs_set_spins_per_delay(int shared_spins_per_delay);
extern int bgw_rs_update_spins_per_delay(int shared_spins_per_delay);

void
bgw_c_GUC_check_errcode(int sqlerrcode)
{
	bgw_rs_GUC_check_errcode(sqlerrcode);
	bgw_c_raise_pending();
}

void
bgw_c_MarkGUCPrefixReserved(const char *className)
{
	bgw_rs_MarkGUCPrefixReserved(className);
	bgw_c_raise_pending();
}

pqsigfunc
bgw_c_pqsignal(int signo, pqsigfunc func)
{
	return RAISING(bgw_rs_pqsignal(signo, func));
}

/* pqsignal_be (PostgreSQL 18, whose backend headers map pqsignal to it):
 * as pqsignal, returning nothing. */
void
bgw_c_pqsignal_be(int signo, pqsigfunc func)
{
	(void) RAISING(bgw_rs_pqsignal(signo, func));
}

void
bgw_c_SetLatch(void *latch)
{
	bgw_rs_SetLatch(latch);
	bgw_c_raise_pending();
}

void
bgw_c_ResetLatch(void *latch)
{
	bgw_rs_ResetLatch(latch);
	bgw_c_raise_pending();
}

void
bgw_c_InitLatch(void *latch)
{
	bgw_rs_InitLatch(latch);
	bgw_c_raise_pending();
}

void
bgw_c_InitSharedLatch(void *latch)
{
	bgw_rs_InitSharedLatch(latch);
	bgw_c_raise_pending();
}

void
bgw_c_DisownLatch(void *latch)
{
	bgw_rs_DisownLatch(latch);
	bgw_c_raise_pending();
}

void
bgw_c_LWLockReleaseAll(void)
{
	bgw_rs_LWLockReleaseAll();
	bgw_c_raise_pending();
}

bool
bgw_c_LWLockHeldByMe(void *lock)
{
	return RAISING(bgw_rs_LWLockHeldByMe(lock));
}

bool
bgw_c_LWLockHeldByMeInMode(void *lock, int mode)
{
	return RAISING(bgw_rs_LWLockHeldByMeInMode(lock, mode));
}

bool
bgw_c_LWLockAnyHeldByMe(void *lock, int nlocks, size_t stride)
{
	return RAISING(bgw_rs_LWLockAnyHeldByMe(lock, nlocks, stride));
}

void
bgw_c_LWLockInitialize(void *lock, int tranche_id)
{
	bgw_rs_LWLockInitialize(lock, tranche_id);
	bgw_c_raise_pending();
}

int
bgw_c_LWLockNewTrancheId(void)
{
	return RAISING(bgw_rs_LWLockNewTrancheId());
}

void
bgw_c_LWLockRegisterTranche(int tranche_id, const char *tranche_name)
{
	bgw_rs_LWLockRegisterTranche(tranche_id, tranche_name);
	bgw_c_raise_pending();
}

MemoryContext
bgw_c_AllocSetContextCreateInternal(MemoryContext parent, const char *name, Size minContextSize, Size initBlockSize, Size maxBlockSize)
{
	return RAISING(bgw_rs_AllocSetContextCreateInternal(parent, name, minContextSize, initBlockSize, maxBlockSize));
}

void
bgw_c_MemoryContextRegisterResetCallback(MemoryContext context, void *cb)
{
	bgw_rs_MemoryContextRegisterResetCallback(context, cb);
	bgw_c_raise_pending();
}

/* GetMemoryChunkContext (a function from PostgreSQL 16 on). */
MemoryContext
bgw_c_GetMemoryChunkContext(void *pointer)
{
	return RAISING(bgw_rs_GetMemoryChunkContext(pointer));
}

Size
bgw_c_GetMemoryChunkSpace(void *pointer)
{
	return RAISING(bgw_rs_GetMemoryChunkSpace(pointer));
}

Size
bgw_c_MemoryContextMemAllocated(MemoryContext context, bool recurse)
{
	return RAISING(bgw_rs_MemoryContextMemAllocated(context, recurse));
}

int64_t
bgw_c_GetCurrentTimestamp(void)
{
	return RAISING(bgw_rs_GetCurrentTimestamp());
}

void
bgw_c_TimestampDifference(int64_t start_time, int64_t stop_time, long *secs, int *microsecs)
{
	bgw_rs_TimestampDifference(start_time, stop_time, secs, microsecs);
	bgw_c_raise_pending();
}

long
bgw_c_TimestampDifferenceMilliseconds(int64_t start_time, int64_t stop_time)
{
	return RAISING(bgw_rs_TimestampDifferenceMilliseconds(start_time, stop_time));
}

bool
bgw_c_TimestampDifferenceExceeds(int64_t start_time, int64_t stop_time, int msec)
{
	return RAISING(bgw_rs_TimestampDifferenceExceeds(start_time, stop_time, msec));
}

void
bgw_c_pg_usleep(long microsec)
{
	bgw_rs_pg_usleep(microsec);
	bgw_c_raise_pending();
}

bool
bgw_c_RecoveryInProgress(void)
{
	return RAISING(bgw_rs_RecoveryInProgress());
}

void *
bgw_c_ShmemAllocNoError(Size size)
{
	return RAISING(bgw_rs_ShmemAllocNoError(size));
}

bool
bgw_c_ShmemAddrIsValid(const void *addr)
{
	return RAISING(bgw_rs_ShmemAddrIsValid(addr));
}

void
bgw_c_finish_spin_delay(void *status)
{
	bgw_rs_finish_spin_delay(status);
	bgw_c_raise_pending();
}

void
bgw_c_set_spins_per_delay(int shared_spins_per_delay)
{
	bgw_rs_set_spins_per_delay(shared_spins_per_delay);
	bgw_c_raise_pending();
}

int
bgw_c_update_spins_per_delay(int shared_spins_per_delay)
{
	return RAISING(bgw_rs_update_spins_per_delay(shared_spins_per_delay));
}
