/*
 * shmem.c -- the C wrappers of the shared-memory, LWLock and spinlock
 * exports whose Rust bodies (src/compat/shmem.rs, lwlock.rs, spin.rs) may
 * raise ERROR, FATAL or PANIC: each calls the body, then raises what it
 * recorded, so that no siglongjmp crosses a Rust frame.
 */
#include "pgcompat.h"

typedef struct LWLock LWLock;
typedef struct SpinDelayStatus SpinDelayStatus;

extern bool bgw_rs_LWLockAcquire(LWLock *lock, int mode);
extern bool bgw_rs_LWLockConditionalAcquire(LWLock *lock, int mode);
extern void bgw_rs_LWLockRelease(LWLock *lock);
extern void bgw_rs_RequestNamedLWLockTranche(const char *tranche_name, int num_lwlocks);
extern void *bgw_rs_GetNamedLWLockTranche(const char *tranche_name);
extern void bgw_rs_RequestAddinShmemSpace(Size size);
extern void *bgw_rs_ShmemInitStruct(const char *name, Size size, bool *foundPtr);
extern void *bgw_rs_ShmemAlloc(Size size);
extern Size bgw_rs_add_size(Size s1, Size s2);
extern Size bgw_rs_mul_size(Size s1, Size s2);
extern int	bgw_rs_s_lock(volatile unsigned char *lock, const char *file,
						  int line, const char *func);
extern void bgw_rs_perform_spin_delay(SpinDelayStatus *status);

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

bool
bgw_c_LWLockAcquire(LWLock *lock, int mode)
{
	return RAISING(bgw_rs_LWLockAcquire(lock, mode));
}

bool
bgw_c_LWLockConditionalAcquire(LWLock *lock, int mode)
{
	return RAISING(bgw_rs_LWLockConditionalAcquire(lock, mode));
}

void
bgw_c_LWLockRelease(LWLock *lock)
{
	bgw_rs_LWLockRelease(lock);
	bgw_c_raise_pending();
}

void
bgw_c_RequestNamedLWLockTranche(const char *tranche_name, int num_lwlocks)
{
	bgw_rs_RequestNamedLWLockTranche(tranche_name, num_lwlocks);
	bgw_c_raise_pending();
}

void *
bgw_c_GetNamedLWLockTranche(const char *tranche_name)
{
	return RAISING(bgw_rs_GetNamedLWLockTranche(tranche_name));
}

void
bgw_c_RequestAddinShmemSpace(Size size)
{
	bgw_rs_RequestAddinShmemSpace(size);
	bgw_c_raise_pending();
}

void *
bgw_c_ShmemInitStruct(const char *name, Size size, bool *foundPtr)
{
	return RAISING(bgw_rs_ShmemInitStruct(name, size, foundPtr));
}

void *
bgw_c_ShmemAlloc(Size size)
{
	return RAISING(bgw_rs_ShmemAlloc(size));
}

/* PostgreSQL's ShmemAllocUnlocked skips ShmemLock; allocation here takes
 * no lock at all, so it is ShmemAlloc. */
void *
bgw_c_ShmemAllocUnlocked(Size size)
{
	return RAISING(bgw_rs_ShmemAlloc(size));
}

Size
bgw_c_add_size(Size s1, Size s2)
{
	return RAISING(bgw_rs_add_size(s1, s2));
}

Size
bgw_c_mul_size(Size s1, Size s2)
{
	return RAISING(bgw_rs_mul_size(s1, s2));
}

int
bgw_c_s_lock(volatile unsigned char *lock, const char *file, int line,
			 const char *func)
{
	return RAISING(bgw_rs_s_lock(lock, file, line, func));
}

void
bgw_c_perform_spin_delay(SpinDelayStatus *status)
{
	bgw_rs_perform_spin_delay(status);
	bgw_c_raise_pending();
}

extern ErrorData *bgw_c_CopyErrorData(void);
extern void bgw_c_FreeErrorData(ErrorData *edata);

/*
 * Run a shmem hook in the supervisor. PostgreSQL's postmaster runs these
 * with no error handler, so an ERROR inside one is promoted to FATAL: the
 * hook's own message is logged at FATAL and the server exits. Here the
 * report is the same, but instead of exiting from inside module code this
 * returns false and the supervisor shuts down on its own way out (an
 * embedding host keeps its process).
 */
bool
bgw_c_call_shmem_hook(void (*hook) (void))
{
	sigjmp_buf	local_sigjmp_buf;
	sigjmp_buf *save_exception_stack = PG_exception_stack;
	ErrorContextCallback *save_context_stack = error_context_stack;

	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
	{
		ErrorData  *edata;

		PG_exception_stack = save_exception_stack;
		error_context_stack = save_context_stack;
		edata = bgw_c_CopyErrorData();
		bgw_c_FlushErrorState();
		bgw_rs_log_report(FATAL, edata->message, edata->detail, edata->hint,
						  edata->internalquery, edata->context);
		bgw_c_FreeErrorData(edata);
		return false;
	}
	PG_exception_stack = &local_sigjmp_buf;
	hook();
	PG_exception_stack = save_exception_stack;
	error_context_stack = save_context_stack;
	return true;
}
