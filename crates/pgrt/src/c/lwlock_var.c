/*
 * lwlock_var.c -- the C half of src/lwlock_var.rs: LWLockAcquireOrWait and
 * the lock-variable calls, each calling the Rust body, then raising
 * whatever ERROR it recorded. The variable is uint64 * in PostgreSQL 15
 * and pg_atomic_uint64 * from 16: the same 8 aligned bytes.
 */
#include "pgcompat.h"

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

extern bool bgw_rs_LWLockAcquireOrWait(void *lock, int mode);
extern bool bgw_rs_LWLockWaitForVar(void *lock, uint64_t *valptr, uint64_t oldval,
									uint64_t *newval);
extern void bgw_rs_LWLockUpdateVar(void *lock, uint64_t *valptr, uint64_t val);
extern void bgw_rs_LWLockReleaseClearVar(void *lock, uint64_t *valptr, uint64_t val);

bool
bgw_c_LWLockAcquireOrWait(void *lock, int mode)
{
	return RAISING(bgw_rs_LWLockAcquireOrWait(lock, mode));
}

bool
bgw_c_LWLockWaitForVar(void *lock, uint64_t *valptr, uint64_t oldval, uint64_t *newval)
{
	return RAISING(bgw_rs_LWLockWaitForVar(lock, valptr, oldval, newval));
}

void
bgw_c_LWLockUpdateVar(void *lock, uint64_t *valptr, uint64_t val)
{
	bgw_rs_LWLockUpdateVar(lock, valptr, val);
	bgw_c_raise_pending();
}

void
bgw_c_LWLockReleaseClearVar(void *lock, uint64_t *valptr, uint64_t val)
{
	bgw_rs_LWLockReleaseClearVar(lock, valptr, val);
	bgw_c_raise_pending();
}
