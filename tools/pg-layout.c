/*
 * pg-layout.c -- what a module compiled against one major's server headers
 * bakes into its code: struct sizes and field offsets, constants and enum
 * values, and the magic block, printed as "key value" lines.
 *
 * Built by tools/pg-majors.sh layout against each major's real headers
 * (PostgreSQL 15's compiler flags, that major's include directory) and run
 * on this machine; the script lays the majors' outputs side by side. A key
 * a major lacks is simply not printed by it. Only header contents are
 * used: the program links against nothing of PostgreSQL's (its magic
 * block is its own, made by the header's macro).
 */
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "nodes/memnodes.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/s_lock.h"
#include "storage/shmem.h"
#include "storage/ipc.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"
#if PG_VERSION_NUM >= 160000
#include "utils/memutils_memorychunk.h"
#endif
#if PG_VERSION_NUM >= 180000
#include "utils/pgstat_internal.h"
#endif
#include <stdio.h>
/* port.h maps printf to pg_printf, which lives in the server. */
#undef printf
#include <stddef.h>

#if PG_VERSION_NUM >= 180000
PG_MODULE_MAGIC_EXT(.name = "pg-layout", .version = "1.2");
#else
PG_MODULE_MAGIC;
#endif

#define SZ(t) printf("sizeof(%s) %zu\n", #t, sizeof(t))
#define AL(t) printf("alignof(%s) %zu\n", #t, _Alignof(t))
#define OF(t, f) printf("%s.%s %zu\n", #t, #f, offsetof(t, f))
#define FS(t, f) printf("sizeof(%s.%s) %zu\n", #t, #f, sizeof(((t *) 0)->f))
#define V(x) printf("%s %lld\n", #x, (long long) (x))
#define VS(x) printf("sizeof(%s) %zu\n", #x, sizeof(x))

int
main(void)
{
	const Pg_magic_struct *mg = Pg_magic_func();
	V(PG_VERSION_NUM);
	/* bgworker.h */
	SZ(BackgroundWorker); AL(BackgroundWorker);
	OF(BackgroundWorker, bgw_name); FS(BackgroundWorker, bgw_name);
	OF(BackgroundWorker, bgw_type); FS(BackgroundWorker, bgw_type);
	OF(BackgroundWorker, bgw_flags); OF(BackgroundWorker, bgw_start_time);
	OF(BackgroundWorker, bgw_restart_time);
	OF(BackgroundWorker, bgw_library_name); FS(BackgroundWorker, bgw_library_name);
	OF(BackgroundWorker, bgw_function_name); FS(BackgroundWorker, bgw_function_name);
	OF(BackgroundWorker, bgw_main_arg); OF(BackgroundWorker, bgw_extra); FS(BackgroundWorker, bgw_extra);
	OF(BackgroundWorker, bgw_notify_pid);
	V(BGWORKER_SHMEM_ACCESS); V(BGWORKER_BACKEND_DATABASE_CONNECTION);
#ifdef BGWORKER_CLASS_PARALLEL
	V(BGWORKER_CLASS_PARALLEL);
#endif
#ifdef BGWORKER_INTERRUPTIBLE
	V(BGWORKER_INTERRUPTIBLE);
#endif
	V(BGW_DEFAULT_RESTART_INTERVAL); V(BGW_NEVER_RESTART); V(BGW_MAXLEN); V(BGW_EXTRALEN);
	V(BgWorkerStart_PostmasterStart); V(BgWorkerStart_ConsistentState); V(BgWorkerStart_RecoveryFinished);
	V(BGWH_STARTED); V(BGWH_NOT_YET_STARTED); V(BGWH_STOPPED); V(BGWH_POSTMASTER_DIED);
	V(BGWORKER_BYPASS_ALLOWCONN);
#ifdef BGWORKER_BYPASS_ROLELOGINCHECK
	V(BGWORKER_BYPASS_ROLELOGINCHECK);
#endif
	V(MAXPGPATH);
	SZ(BgwHandleStatus); SZ(BgWorkerStartTime);
	/* magic block */
	SZ(Pg_magic_struct);
#if PG_VERSION_NUM >= 180000
	OF(Pg_magic_struct, len); OF(Pg_magic_struct, abi_fields.version); OF(Pg_magic_struct, abi_fields.funcmaxargs);
	OF(Pg_magic_struct, abi_fields.indexmaxkeys); OF(Pg_magic_struct, abi_fields.namedatalen); OF(Pg_magic_struct, abi_fields.float8byval);
	OF(Pg_magic_struct, abi_fields.abi_extra); FS(Pg_magic_struct, abi_fields.abi_extra);
#else
	OF(Pg_magic_struct, len); OF(Pg_magic_struct, version); OF(Pg_magic_struct, funcmaxargs);
	OF(Pg_magic_struct, indexmaxkeys); OF(Pg_magic_struct, namedatalen); OF(Pg_magic_struct, float8byval);
	OF(Pg_magic_struct, abi_extra); FS(Pg_magic_struct, abi_extra);
#endif
#if PG_VERSION_NUM >= 180000
	/* custom cumulative statistics kinds (crates/pgrt/src/c/register_pg18.c) */
	SZ(PgStat_KindInfo); OF(PgStat_KindInfo, shared_size); OF(PgStat_KindInfo, name);
	OF(PgStat_KindInfo, init_shmem_cb); SZ(PgStat_ShmemControl); OF(PgStat_ShmemControl, custom_data);
	OF(PgStat_LocalState, shmem);
#endif
#if PG_VERSION_NUM >= 180000
	SZ(Pg_abi_values);
	OF(Pg_magic_struct, abi_fields); OF(Pg_magic_struct, name); printf("Pg_magic_struct.version(char*,18) %zu\n", offsetof(Pg_magic_struct, version)); FS(Pg_magic_struct, name); FS(Pg_magic_struct, abi_fields);
	printf("magic.name %s\nmagic.version %s\n", mg->name, mg->version);
	V(mg->abi_fields.version); V(mg->abi_fields.funcmaxargs); V(mg->abi_fields.indexmaxkeys);
	V(mg->abi_fields.namedatalen); V(mg->abi_fields.float8byval);
	printf("magic.abi_extra %s\n", mg->abi_fields.abi_extra);
#else
	V(mg->version); V(mg->funcmaxargs); V(mg->indexmaxkeys); V(mg->namedatalen); V(mg->float8byval);
	printf("magic.abi_extra %s\n", mg->abi_extra);
#endif
	V(mg->len);
	V(FUNC_MAX_ARGS); V(INDEX_MAX_KEYS); V(NAMEDATALEN); V(FLOAT8PASSBYVAL);
	/* PGPROC */
	SZ(PGPROC); OF(PGPROC, procLatch); OF(PGPROC, pid); OF(PGPROC, wait_event_info);
	OF(PGPROC, databaseId); OF(PGPROC, roleId); OF(PGPROC, lwWaiting); OF(PGPROC, lwWaitMode); OF(PGPROC, lwWaitLink);
	OF(PGPROC, statusFlags); OF(PGPROC, lockGroupLeader); OF(PGPROC, xid); OF(PGPROC, xmin); OF(PGPROC, sem);
#if PG_VERSION_NUM >= 170000
	OF(PGPROC, vxid.procNumber); OF(PGPROC, vxid.lxid);
#else
	OF(PGPROC, backendId); OF(PGPROC, pgprocno); OF(PGPROC, lxid);
#endif
#if PG_VERSION_NUM >= 180000
	OF(PGPROC, isRegularBackend);
#else
	OF(PGPROC, isBackgroundWorker);
#endif
	/* Latch */
	SZ(Latch); OF(Latch, is_set); OF(Latch, maybe_sleeping); OF(Latch, is_shared); OF(Latch, owner_pid);
	V(WL_LATCH_SET); V(WL_SOCKET_READABLE); V(WL_SOCKET_WRITEABLE); V(WL_TIMEOUT); V(WL_POSTMASTER_DEATH);
	V(WL_EXIT_ON_PM_DEATH); V(WL_SOCKET_CONNECTED); V(WL_SOCKET_CLOSED);
#ifdef WL_SOCKET_ACCEPT
	V(WL_SOCKET_ACCEPT);
#endif

	V(PG_WAIT_EXTENSION);
	/* ErrorData */
	SZ(ErrorData);
	OF(ErrorData, elevel); OF(ErrorData, output_to_server); OF(ErrorData, output_to_client); OF(ErrorData, hide_stmt);
	OF(ErrorData, hide_ctx); OF(ErrorData, filename); OF(ErrorData, lineno); OF(ErrorData, funcname);
	OF(ErrorData, domain); OF(ErrorData, context_domain); OF(ErrorData, sqlerrcode); OF(ErrorData, message);
	OF(ErrorData, detail); OF(ErrorData, detail_log); OF(ErrorData, hint); OF(ErrorData, context);
	OF(ErrorData, backtrace); OF(ErrorData, message_id); OF(ErrorData, schema_name); OF(ErrorData, table_name);
	OF(ErrorData, column_name); OF(ErrorData, datatype_name); OF(ErrorData, constraint_name);
	OF(ErrorData, cursorpos); OF(ErrorData, internalpos); OF(ErrorData, internalquery); OF(ErrorData, saved_errno);
	OF(ErrorData, assoc_context);
	SZ(ErrorContextCallback); OF(ErrorContextCallback, previous); OF(ErrorContextCallback, callback); OF(ErrorContextCallback, arg);
	V(DEBUG5); V(DEBUG1); V(LOG); V(LOG_SERVER_ONLY); V(COMMERROR); V(INFO); V(NOTICE); V(WARNING);
	V(PGWARNING); V(WARNING_CLIENT_ONLY); V(ERROR); V(PGERROR); V(FATAL); V(PANIC);
	/* memory contexts */
	SZ(MemoryContextData);
	OF(MemoryContextData, type); OF(MemoryContextData, isReset); OF(MemoryContextData, allowInCritSection);
	OF(MemoryContextData, mem_allocated); OF(MemoryContextData, methods); OF(MemoryContextData, parent);
	OF(MemoryContextData, firstchild); OF(MemoryContextData, prevchild); OF(MemoryContextData, nextchild);
	OF(MemoryContextData, name); OF(MemoryContextData, ident); OF(MemoryContextData, reset_cbs);
	SZ(MemoryContextMethods); OF(MemoryContextMethods, alloc); OF(MemoryContextMethods, free_p);
	OF(MemoryContextMethods, realloc); OF(MemoryContextMethods, reset); OF(MemoryContextMethods, delete_context);
	OF(MemoryContextMethods, get_chunk_space); OF(MemoryContextMethods, is_empty); OF(MemoryContextMethods, stats);
#if PG_VERSION_NUM >= 160000
	OF(MemoryContextMethods, get_chunk_context);
#endif
	SZ(MemoryContextCallback);
	V(T_AllocSetContext); V(T_GenerationContext); V(T_SlabContext);
#if PG_VERSION_NUM >= 170000
	V(T_BumpContext);
#endif
	SZ(NodeTag);
#if PG_VERSION_NUM >= 160000
	SZ(MemoryChunk); V(MEMORY_CONTEXT_METHODID_BITS); V(MEMORY_CONTEXT_METHODID_MASK);
	V(MEMORYCHUNK_MAX_VALUE); V(MEMORYCHUNK_MAX_BLOCKOFFSET);
	V(MCTX_ASET_ID); V(MCTX_GENERATION_ID); V(MCTX_SLAB_ID); V(MCTX_ALIGNED_REDIRECT_ID);
#if PG_VERSION_NUM >= 170000
	V(MCTX_BUMP_ID);
#endif
#endif
	V(ALLOCSET_DEFAULT_MINSIZE); V(ALLOCSET_DEFAULT_INITSIZE); V(ALLOCSET_DEFAULT_MAXSIZE);
	V(ALLOCSET_SMALL_INITSIZE); V(ALLOCSET_SMALL_MAXSIZE); V(MaxAllocSize); V(MaxAllocHugeSize);
	V(MCXT_ALLOC_HUGE); V(MCXT_ALLOC_NO_OOM); V(MCXT_ALLOC_ZERO);
	/* StringInfo */
	SZ(StringInfoData); OF(StringInfoData, data); OF(StringInfoData, len); OF(StringInfoData, maxlen); OF(StringInfoData, cursor);
	/* LWLock, spinlock, sigjmp */
	SZ(LWLock); OF(LWLock, tranche); OF(LWLock, state); OF(LWLock, waiters); SZ(LWLockPadded); V(LWLOCK_PADDED_SIZE);
	SZ(LWLockMode); V(LW_EXCLUSIVE); V(LW_SHARED); V(LW_WAIT_UNTIL_FREE);
	SZ(NamedLWLockTranche);
	SZ(slock_t); SZ(sigjmp_buf); VS(PG_exception_stack); VS(error_context_stack);
	/* interrupts and globals */
	VS(InterruptPending); VS(ProcDiePending); VS(QueryCancelPending); VS(InterruptHoldoffCount);
	VS(QueryCancelHoldoffCount); VS(CritSectionCount); VS(ConfigReloadPending); VS(ShutdownRequestPending);
	VS(MyProcPid); VS(MyLatch); VS(MyProc); VS(MyBgworkerEntry); VS(proc_exit_inprogress);
	VS(process_shared_preload_libraries_in_progress); VS(max_worker_processes); VS(my_wait_event_info);
	/* GUC */
	V(PGC_INTERNAL); V(PGC_POSTMASTER); V(PGC_SIGHUP); V(PGC_SU_BACKEND); V(PGC_BACKEND); V(PGC_SUSET); V(PGC_USERSET);
	V(PGC_S_DEFAULT); V(PGC_S_FILE); V(PGC_S_SESSION); V(PGC_S_TEST);
	V(GUC_LIST_INPUT); V(GUC_NOT_IN_SAMPLE); V(GUC_UNIT_MS); V(GUC_UNIT_S); V(GUC_UNIT_KB); V(GUC_UNIT_BYTE);
	V(GUC_UNIT_MEMORY); V(GUC_UNIT_TIME); V(GUC_UNIT); V(GUC_NO_SHOW_ALL); V(GUC_SUPERUSER_ONLY);
	V(GUC_DISALLOW_IN_FILE); V(GUC_NOT_WHILE_SEC_REST); V(GUC_EXPLAIN); V(GUC_CUSTOM_PLACEHOLDER);
	printf("sizeof(config_enum_entry) %zu\n", sizeof(struct config_enum_entry));
	/* spin delays (init_local_spin_delay is inline), the shmem index */
	SZ(SpinDelayStatus); OF(SpinDelayStatus, spins); OF(SpinDelayStatus, delays); OF(SpinDelayStatus, cur_delay);
	OF(SpinDelayStatus, file); OF(SpinDelayStatus, line); OF(SpinDelayStatus, func);
	SZ(ShmemIndexEnt); OF(ShmemIndexEnt, location); OF(ShmemIndexEnt, size); OF(ShmemIndexEnt, allocated_size);
	V(SHMEM_INDEX_KEYSIZE); V(SHMEM_INDEX_SIZE);
	OF(NamedLWLockTranche, trancheId); OF(NamedLWLockTranche, trancheName);
	V(LWTRANCHE_FIRST_USER_DEFINED); V(NUM_FIXED_LWLOCKS); V(NUM_INDIVIDUAL_LWLOCKS);
	V(B_BG_WORKER); V(B_BACKEND); V(B_INVALID); SZ(BackendType); VS(MyBackendType);
	SZ(WaitEvent); OF(WaitEvent, pos); OF(WaitEvent, events); OF(WaitEvent, fd); OF(WaitEvent, user_data);
	return 0;
}
