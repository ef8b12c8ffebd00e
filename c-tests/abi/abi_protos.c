/*
 * abi_protos.c
 *		Every function and variable of PostgreSQL's postmaster/bgworker.h,
 *		assigned to a pointer whose type spells the PostgreSQL prototype
 *		with plain C types (bool is _Bool, uint32 is uint32_t, Oid is
 *		unsigned int, the header's own names for its own types).
 *
 * tests/abi.rs compiles this file (to an object, never linked) with
 * -Werror against the real header (-DABI_REAL), which proves the spelling
 * below is PostgreSQL's, and against include/bgworker.h, where a return
 * type, parameter type, qualifier or parameter count that differs is an
 * incompatible-pointer-types error.  It also checks with nm -u that the
 * object refers to every extern name the real header declares, so a
 * function PostgreSQL adds cannot go unchecked.
 *
 * BGW_EXPECT_MAJOR is the PostgreSQL major the header belongs to; a
 * prototype that differs between majors gets an #if on it.
 */
#ifdef ABI_REAL
#include "postgres.h"
#include "postmaster/bgworker.h"
#else
#include "bgworker.h"
#endif

#include <stdint.h>
#include <sys/types.h>

#ifndef BGW_EXPECT_MAJOR
#error "compile with -DBGW_EXPECT_MAJOR=<PostgreSQL major>"
#endif

extern void (*const abi_RegisterBackgroundWorker) (BackgroundWorker *);
void		(*const abi_RegisterBackgroundWorker) (BackgroundWorker *) =
	RegisterBackgroundWorker;

extern _Bool (*const abi_RegisterDynamicBackgroundWorker) (BackgroundWorker *,
														   BackgroundWorkerHandle **);
_Bool		(*const abi_RegisterDynamicBackgroundWorker) (BackgroundWorker *,
														  BackgroundWorkerHandle **) =
	RegisterDynamicBackgroundWorker;

extern BgwHandleStatus (*const abi_GetBackgroundWorkerPid) (BackgroundWorkerHandle *, pid_t *);
BgwHandleStatus (*const abi_GetBackgroundWorkerPid) (BackgroundWorkerHandle *, pid_t *) =
	GetBackgroundWorkerPid;

extern BgwHandleStatus (*const abi_WaitForBackgroundWorkerStartup) (BackgroundWorkerHandle *, pid_t *);
BgwHandleStatus (*const abi_WaitForBackgroundWorkerStartup) (BackgroundWorkerHandle *, pid_t *) =
	WaitForBackgroundWorkerStartup;

extern BgwHandleStatus (*const abi_WaitForBackgroundWorkerShutdown) (BackgroundWorkerHandle *);
BgwHandleStatus (*const abi_WaitForBackgroundWorkerShutdown) (BackgroundWorkerHandle *) =
	WaitForBackgroundWorkerShutdown;

extern const char *(*const abi_GetBackgroundWorkerTypeByPid) (pid_t);
const char *(*const abi_GetBackgroundWorkerTypeByPid) (pid_t) =
	GetBackgroundWorkerTypeByPid;

extern void (*const abi_TerminateBackgroundWorker) (BackgroundWorkerHandle *);
void		(*const abi_TerminateBackgroundWorker) (BackgroundWorkerHandle *) =
	TerminateBackgroundWorker;

extern void (*const abi_BackgroundWorkerInitializeConnection) (const char *, const char *, uint32_t);
void		(*const abi_BackgroundWorkerInitializeConnection) (const char *, const char *, uint32_t) =
	BackgroundWorkerInitializeConnection;

extern void (*const abi_BackgroundWorkerInitializeConnectionByOid) (unsigned int, unsigned int, uint32_t);
void		(*const abi_BackgroundWorkerInitializeConnectionByOid) (unsigned int, unsigned int, uint32_t) =
	BackgroundWorkerInitializeConnectionByOid;

extern void (*const abi_BackgroundWorkerBlockSignals) (void);
void		(*const abi_BackgroundWorkerBlockSignals) (void) = BackgroundWorkerBlockSignals;

extern void (*const abi_BackgroundWorkerUnblockSignals) (void);
void		(*const abi_BackgroundWorkerUnblockSignals) (void) = BackgroundWorkerUnblockSignals;

/* the variable: a writable BackgroundWorker pointer */
extern BackgroundWorker **const abi_MyBgworkerEntry;
BackgroundWorker **const abi_MyBgworkerEntry = &MyBgworkerEntry;

/* the type of a worker's entry point */
extern const bgworker_main_type abi_main_type;
const bgworker_main_type abi_main_type = (void (*) (Datum)) 0;
