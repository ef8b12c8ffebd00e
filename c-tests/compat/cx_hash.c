/*
 * cx_hash.c -- a worker that fills, searches, empties and scans
 * PostgreSQL hash tables, local (string and binary keys) and shared
 * (ShmemInitHash, sized with hash_estimate_size in the shared memory
 * request hook), and logs what it sees, in scan order, so that the
 * transcript under bgworkerd can be compared with PostgreSQL 15's.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxh2_main(Datum main_arg);

typedef struct
{
	char		key[32];
	int			value;
} StrEntry;

typedef struct
{
	uint32		key;
	int64		value;
} IntEntry;

static shmem_request_hook_type prev_request;
static shmem_startup_hook_type prev_startup;
static HTAB *shared;

static HTAB *
attach_shared(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(IntEntry);
	return ShmemInitHash("cxh2 shared", 100, 100, &ctl, HASH_ELEM | HASH_BLOBS);
}

static void
request(void)
{
	if (prev_request)
		prev_request();
	RequestAddinShmemSpace(hash_estimate_size(100, sizeof(IntEntry)));
}

static void
startup(void)
{
	if (prev_startup)
		prev_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = attach_shared();
	LWLockRelease(AddinShmemInitLock);
}

static void
scan_ints(const char *what, HTAB *h, int limit)
{
	HASH_SEQ_STATUS status;
	IntEntry   *e;
	StringInfoData s;
	int			n = 0;

	initStringInfo(&s);
	hash_seq_init(&status, h);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		appendStringInfo(&s, " %u", e->key);
		if (++n == limit)
		{
			hash_seq_term(&status);
			break;
		}
	}
	elog(LOG, "cxh2 %s (%ld entries):%s", what, hash_get_num_entries(h), s.data);
	pfree(s.data);
}

void
cxh2_main(Datum main_arg)
{
	HASHCTL		ctl;
	HTAB	   *strs;
	HTAB	   *ints;
	HASH_SEQ_STATUS status;
	StrEntry   *se;
	IntEntry   *ie;
	StringInfoData s;
	bool		found;
	char		key[32];
	int			i;
	uint32		k;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxh2 estimates %zu %zu %zu %zu", hash_estimate_size(100, 16),
		 hash_estimate_size(1000, 100), hash_estimate_size(5, 8), hash_estimate_size(100000, 64));

	ctl.keysize = sizeof(key);
	ctl.entrysize = sizeof(StrEntry);
	strs = hash_create("cxh2 strings", 16, &ctl, HASH_ELEM | HASH_STRINGS);
	for (i = 0; i < 60; i++)
	{
		snprintf(key, sizeof(key), "key%d", i);
		se = hash_search(strs, key, HASH_ENTER, &found);
		se->value = i * 10;
		if (found)
			elog(LOG, "cxh2 unexpected duplicate %s", key);
	}
	se = hash_search(strs, "key7", HASH_ENTER, &found);
	elog(LOG, "cxh2 key7 again: found %d value %d", found, se->value);
	for (i = 0; i < 60; i += 3)
	{
		snprintf(key, sizeof(key), "key%d", i);
		if (!hash_search(strs, key, HASH_REMOVE, NULL))
			elog(LOG, "cxh2 could not remove %s", key);
	}
	elog(LOG, "cxh2 find key3 %p key4 %d nosuch %p",
		 hash_search(strs, "key3", HASH_FIND, NULL),
		 ((StrEntry *) hash_search(strs, "key4", HASH_FIND, NULL))->value,
		 hash_search(strs, "nosuch", HASH_FIND, NULL));
	initStringInfo(&s);
	hash_seq_init(&status, strs);
	while ((se = hash_seq_search(&status)) != NULL)
		appendStringInfo(&s, " %s=%d", se->key, se->value);
	elog(LOG, "cxh2 strings (%ld entries):%s", hash_get_num_entries(strs), s.data);

	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(IntEntry);
	ctl.hcxt = CurrentMemoryContext;
	ints = hash_create("cxh2 ints", 8, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (k = 0; k < 300; k++)
	{
		ie = hash_search(ints, &k, HASH_ENTER, NULL);
		ie->value = (int64) k * k;
	}
	/* a scan stopped early, then more insertions (which may split again) */
	scan_ints("ints first ten", ints, 10);
	for (k = 1000; k < 1040; k++)
		hash_search(ints, &k, HASH_ENTER, NULL);
	k = 17;
	ie = hash_search_with_hash_value(ints, &k, get_hash_value(ints, &k), HASH_FIND, NULL);
	elog(LOG, "cxh2 17 squared " INT64_FORMAT, ie->value);
	/* deleting the entry just returned during a scan is allowed */
	hash_seq_init(&status, ints);
	while ((ie = hash_seq_search(&status)) != NULL)
		if (ie->key % 2 == 1)
			hash_search(ints, &ie->key, HASH_REMOVE, NULL);
	scan_ints("ints even", ints, 0);
	/* new keys for entries: into another chain, within its own, onto a
	 * key that exists (refused), for an entry not in the table (ERROR) */
	k = 4;
	ie = hash_search(ints, &k, HASH_FIND, NULL);
	k = 7;
	elog(LOG, "cxh2 update 4 to 7: %d", hash_update_hash_key(ints, ie, &k));
	k = 7;
	ie = hash_search(ints, &k, HASH_FIND, NULL);
	elog(LOG, "cxh2 7 now holds " INT64_FORMAT, ie->value);
	k = 6;
	elog(LOG, "cxh2 update 7 to 6 (taken): %d", hash_update_hash_key(ints, ie, &k));
	k = 4;
	elog(LOG, "cxh2 4 found %d", hash_search(ints, &k, HASH_FIND, NULL) != NULL);
	for (k = 1001; k < 1040; k += 2)
	{
		uint32		to = k + 100000;

		ie = hash_search(ints, &k, HASH_FIND, NULL);
		if (ie)
			(void) hash_update_hash_key(ints, ie, &to);
	}
	k = 1000;
	ie = hash_search(ints, &k, HASH_FIND, NULL);
	k = 1000 + (1u << 20);
	elog(LOG, "cxh2 update 1000 far: %d", hash_update_hash_key(ints, ie, &k));
	scan_ints("ints updated", ints, 0);
	PG_TRY();
	{
		/* an entry-shaped block outside the table: a zeroed element
		 * header, then the entry */
		static uint64 stray[8];

		k = 99999;
		(void) hash_update_hash_key(ints, &stray[2], &k);
	}
	PG_CATCH();
	{
		ErrorData  *edata = CopyErrorData();

		FlushErrorState();
		elog(LOG, "cxh2 caught: %s", edata->message);
	}
	PG_END_TRY();
	/* frozen: scans need no registration, insertions ERROR */
	hash_freeze(ints);
	hash_seq_init(&status, ints);
	ie = hash_seq_search(&status);
	elog(LOG, "cxh2 frozen first %u", ie->key);
	PG_TRY();
	{
		k = 5000;
		hash_search(ints, &k, HASH_ENTER, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata = CopyErrorData();

		FlushErrorState();
		elog(LOG, "cxh2 caught: %s", edata->message);
	}
	PG_END_TRY();
	hash_destroy(ints);
	hash_destroy(strs);

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = attach_shared();
	LWLockRelease(AddinShmemInitLock);
	for (k = 0; k < 90; k++)
		((IntEntry *) hash_search(shared, &k, HASH_ENTER, NULL))->value = k;
	scan_ints("shared", shared, 0);
	k = 5;
	hash_search(shared, &k, HASH_REMOVE, &found);
	elog(LOG, "cxh2 shared removed 5: %d, now %ld", found, hash_get_num_entries(shared));
	elog(LOG, "cxh2 done");
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_request = shmem_request_hook;
	shmem_request_hook = request;
	prev_startup = shmem_startup_hook;
	shmem_startup_hook = startup;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_hash");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxh2_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxh2 worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxh2");
	RegisterBackgroundWorker(&worker);
}
