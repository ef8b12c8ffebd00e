/*
 * dh_module.c -- concurrent hash tables in a dynamic shared area
 * (lib/dshash.h) as a module uses them, run the same way under bgworkerd
 * and under a real PostgreSQL server (tests/dshash_postgresql.rs compares
 * the "dh:" lines; tests/dshash.rs checks them and the bad-input cases
 * under bgworkerd alone).
 *
 * A static worker (the leader) creates an area and two tables in it, one
 * keyed by int (memcmp/memhash) and one by string, inserts a few thousand
 * entries (the bucket array doubles many times), checks finds, inserts of
 * present keys and deletions, then starts NWORKERS dynamic workers with
 * the area's handle in bgw_main_arg and the tables' handles in bgw_extra.
 * They attach, wait for each other, and insert, find and delete disjoint
 * key ranges at once (the table doubling under them) while reading the
 * leader's entries, and fill a third table whose hash function puts every
 * key in one of two partitions, so that their inserts contend for the same
 * partition locks throughout. The leader then checks every worker's keys, counts and
 * sums the tables with sequential scans, deletes during an exclusive scan,
 * fills an area with a size limit until it is out of memory, and destroys
 * the tables.
 *
 * Every line logged is the same under both: counts, sums and hash values
 * of PostgreSQL's hash functions, never an address, an order of entries or
 * a size of an implementation's own structures.
 */
#include "postgres.h"

#include <stdlib.h>
#include <string.h>

#include "common/hashfn.h"
#include "fmgr.h"
#include "lib/dshash.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/dsa.h"
#include "utils/memutils.h"

#include "tagged_catch.h"

PG_MODULE_MAGIC;

#define NWORKERS 2
#define LEADER_KEYS 4000
#define STR_KEYS 1500
#define WORKER_KEYS 3000
#define WORKER_BASE 100000
#define KEYLEN 32

void		_PG_init(void);
PGDLLEXPORT void dh_leader(Datum arg);
PGDLLEXPORT void dh_worker(Datum arg);

typedef struct IntEntry
{
	int32		key;
	int32		value;
	int64		payload;
} IntEntry;

typedef struct StrEntry
{
	char		key[KEYLEN];
	int64		value;
} StrEntry;

/* What the workers report (in the area). */
typedef struct Board
{
	int			tranche_id;
	pg_atomic_uint32 started;
	pg_atomic_uint32 ready;
	uint32		inserted[NWORKERS]; /* new keys */
	uint32		present[NWORKERS];	/* inserts that found their key */
	uint32		found[NWORKERS];	/* own keys found afterwards */
	uint32		deleted[NWORKERS];	/* delete_key true */
	uint32		redeleted[NWORKERS];	/* delete_key true the second time */
	uint32		leader_ok[NWORKERS];	/* leader's entries read intact */
	uint32		leader_bad[NWORKERS];
	uint32		strings[NWORKERS];	/* string keys inserted */
	uint32		crowded[NWORKERS];	/* new keys in the crowded table */
	uint32		crowded_found[NWORKERS];	/* found there afterwards */
} Board;

/* How often the int table's hash function ran in this process (its arg). */
static int	hash_calls;

static dshash_hash
counting_hash(const void *v, size_t size, void *arg)
{
	(*(int *) arg)++;
	return dshash_memhash(v, size, NULL);
}

#if PG_VERSION_NUM >= 170000
static const dshash_parameters int_params = {
	sizeof(int32), sizeof(IntEntry), dshash_memcmp, counting_hash, dshash_memcpy, 0
};
static const dshash_parameters str_params = {
	KEYLEN, sizeof(StrEntry), dshash_strcmp, dshash_strhash, dshash_strcpy, 0
};
#else
/* 15 has no string helpers: the module brings its own. */
static int
str_cmp(const void *a, const void *b, size_t size, void *arg)
{
	(void) arg;
	return strncmp(a, b, size);
}

static dshash_hash
str_hash(const void *v, size_t size, void *arg)
{
	(void) arg;
	return string_hash(v, size);
}

static const dshash_parameters int_params = {
	sizeof(int32), sizeof(IntEntry), dshash_memcmp, counting_hash, 0
};
static const dshash_parameters str_params = {
	KEYLEN, sizeof(StrEntry), str_cmp, str_hash, 0
};
#endif

/*
 * The crowded table's hash: every key in partition 0 or 1 (the top seven
 * bits), so that the workers' inserts meet on the same two partition locks
 * all the time and the array doubles many times under them.
 */
static dshash_hash
crowded_hash(const void *v, size_t size, void *arg)
{
	uint32		k = *(const uint32 *) v;

	(void) size;
	(void) arg;
	return ((k & 1) << 25) | ((k * 2654435761u) & 0x01ffffff);
}

#if PG_VERSION_NUM >= 170000
static const dshash_parameters crowded_params = {
	sizeof(int32), sizeof(IntEntry), dshash_memcmp, crowded_hash, dshash_memcpy, 0
};
#else
static const dshash_parameters crowded_params = {
	sizeof(int32), sizeof(IntEntry), dshash_memcmp, crowded_hash, 0
};
#endif

static dshash_parameters
with_tranche(dshash_parameters p, int tranche)
{
	p.tranche_id = tranche;
	return p;
}

static void
str_key(char *buf, const char *prefix, int i)
{
	memset(buf, 0, KEYLEN);
	snprintf(buf, KEYLEN, "%s-%d", prefix, i);
}

static void
put_int(dshash_table *t, int32 key, int32 value, uint32 *new_keys, uint32 *present)
{
	bool		found;
	IntEntry   *e = dshash_find_or_insert(t, &key, &found);

	if (found)
		(*present)++;
	else
		(*new_keys)++;
	e->value = value;
	e->payload = (int64) key * 1000;
	dshash_release_lock(t, e);
}

/* Whether `key` is present with the value `value`. */
static bool
has_int(dshash_table *t, int32 key, int32 value)
{
	IntEntry   *e = dshash_find(t, &key, false);
	bool		ok;

	if (e == NULL)
		return false;
	ok = e->key == key && e->value == value && e->payload == (int64) key * 1000;
	dshash_release_lock(t, e);
	return ok;
}

/* Count, key sum and value sum of a table of IntEntry, by a scan. */
static void
scan_ints(dshash_table *t, const char *what)
{
	dshash_seq_status s;
	IntEntry   *e;
	int64		n = 0,
				keys = 0,
				values = 0;

	dshash_seq_init(&s, t, false);
	while ((e = dshash_seq_next(&s)) != NULL)
	{
		n++;
		keys += e->key;
		values += e->value;
	}
	dshash_seq_term(&s);
	elog(LOG, "dh: scan %s: %lld entries, keys sum %lld, values sum %lld", what,
		 (long long) n, (long long) keys, (long long) values);
}

static void
worker_keys_check(dshash_table *t, int w)
{
	int			present = 0,
				absent = 0,
				wrong = 0;

	for (int k = 0; k < WORKER_KEYS; k++)
	{
		int32		key = WORKER_BASE * (w + 1) + k;
		IntEntry   *e = dshash_find(t, &key, false);

		if (e == NULL)
		{
			if (k % 3 == 0)
				absent++;
			else
				wrong++;
			continue;
		}
		if (k % 3 != 0 && e->value == key + 7)
			present++;
		else
			wrong++;
		dshash_release_lock(t, e);
	}
	elog(LOG, "dh: worker %d's keys seen by the leader: %d present, %d deleted, %d wrong",
		 w, present, absent, wrong);
}

static BackgroundWorkerHandle *
start_worker(int i, dsa_handle h, dsa_pointer board, dshash_table_handle ti,
			 dshash_table_handle ts, dshash_table_handle tc)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	char	   *x;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dh_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "dh_worker");
	snprintf(w.bgw_name, BGW_MAXLEN, "dh worker %d", i);
	snprintf(w.bgw_type, BGW_MAXLEN, "dh worker");
	w.bgw_main_arg = UInt32GetDatum(h);
	x = w.bgw_extra;
	memcpy(x, &board, sizeof(board));
	memcpy(x + 8, &ti, sizeof(ti));
	memcpy(x + 16, &ts, sizeof(ts));
	memcpy(x + 24, &i, sizeof(i));
	memcpy(x + 32, &tc, sizeof(tc));
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		elog(ERROR, "dh: could not register a worker");
	return handle;
}

void
dh_worker(Datum arg)
{
	dsa_pointer bp;
	dshash_table_handle ti,
				ts,
				tc;
	int			me;
	dsa_area   *area;
	Board	   *board;
	dshash_table *t,
			   *st,
			   *ct;
	int			local_calls = 0;
	uint32		unused = 0;
	char	   *x = MyBgworkerEntry->bgw_extra;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	memcpy(&bp, x, sizeof(bp));
	memcpy(&ti, x + 8, sizeof(ti));
	memcpy(&ts, x + 16, sizeof(ts));
	memcpy(&tc, x + 32, sizeof(tc));
	memcpy(&me, x + 24, sizeof(me));
	area = dsa_attach(DatumGetUInt32(arg));
	board = dsa_get_address(area, bp);
	LWLockRegisterTranche(board->tranche_id, "dh_module");
	t = dshash_attach(area, &int_params, ti, &local_calls);
	st = dshash_attach(area, &str_params, ts, NULL);
	ct = dshash_attach(area, &crowded_params, tc, NULL);
	pg_atomic_fetch_add_u32(&board->started, 1);
	/* Wait for the others, so that all of them work on the table at once. */
	while (pg_atomic_read_u32(&board->started) < NWORKERS)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	/* Then spin, so that both leave at the same moment, both running. */
	pg_atomic_fetch_add_u32(&board->ready, 1);
	while (pg_atomic_read_u32(&board->ready) < NWORKERS)
	{
		pg_spin_delay();
		CHECK_FOR_INTERRUPTS();
	}
	/* The crowded table first: both workers on its two partitions at once. */
	for (int k = 0; k < WORKER_KEYS; k++)
	{
		int32		key = WORKER_BASE * (me + 1) + k;

		put_int(ct, key, key + 7, &board->crowded[me], &unused);
	}
	for (int k = 0; k < WORKER_KEYS; k++)
	{
		int32		key = WORKER_BASE * (me + 1) + k;
		int32		lk = (k * 7 + me) % LEADER_KEYS;
		char		sk[KEYLEN];
		bool		found;
		StrEntry   *se;

		put_int(t, key, key + 7, &board->inserted[me], &board->present[me]);
		if (k % 10 == 0)
			put_int(t, key, key + 7, &board->inserted[me], &board->present[me]);
		/* The leader's entries: even keys were left with value 3 * key. */
		if (lk % 2 == 0 && has_int(t, lk, lk * 3))
			board->leader_ok[me]++;
		else if (lk % 2 == 0)
			board->leader_bad[me]++;
		if (k % 6 == 0)
		{
			str_key(sk, me == 0 ? "zero" : "one", k);
			se = dshash_find_or_insert(st, sk, &found);
			if (!found)
				board->strings[me]++;
			se->value = k;
			dshash_release_lock(st, se);
		}
	}
	for (int k = 0; k < WORKER_KEYS; k++)
	{
		int32		key = WORKER_BASE * (me + 1) + k;

		if (has_int(t, key, key + 7))
			board->found[me]++;
		if (has_int(ct, key, key + 7))
			board->crowded_found[me]++;
		if (k % 3 == 0)
		{
			if (dshash_delete_key(t, &key))
				board->deleted[me]++;
			if (dshash_delete_key(t, &key))
				board->redeleted[me]++;
		}
	}
	dshash_detach(t);
	dshash_detach(st);
	dshash_detach(ct);
	dsa_detach(area);
}

/* The calls one process checks alone, on the tables the workers then use. */
static void
alone(dshash_table *t, dshash_table *st)
{
	uint32		new_keys = 0,
				present = 0;
	int			ok = 0;
	int32		key;
	IntEntry   *e;
	bool		found;
	char		sk[KEYLEN];
	StrEntry   *se;
	int64		sum = 0;

	for (int i = 0; i < LEADER_KEYS; i++)
		put_int(t, i, i * 3, &new_keys, &present);
	for (int i = 0; i < LEADER_KEYS; i += 4)
		put_int(t, i, i * 3, &new_keys, &present);
	elog(LOG, "dh: leader inserted %u new keys, %u already present", new_keys, present);
	for (int i = 0; i < LEADER_KEYS; i++)
		ok += has_int(t, i, i * 3);
	elog(LOG, "dh: every key found with its value after the table grew: %d of %d", ok,
		 LEADER_KEYS);

	key = LEADER_KEYS + 5;
	elog(LOG, "dh: find of a missing key: %s",
		 dshash_find(t, &key, false) == NULL ? "NULL" : "found");
	elog(LOG, "dh: find (exclusive) of a missing key: %s",
		 dshash_find(t, &key, true) == NULL ? "NULL" : "found");
	/* Odd keys go: half by key, half found exclusively and deleted. */
	{
		int			by_key = 0,
					by_entry = 0,
					missing = 0;

		for (int i = 1; i < LEADER_KEYS; i += 2)
		{
			if (i % 4 == 1)
				by_key += dshash_delete_key(t, &i);
			else if ((e = dshash_find(t, &i, true)) != NULL)
			{
				dshash_delete_entry(t, e);
				by_entry++;
			}
		}
		for (int i = 1; i < LEADER_KEYS; i += 2)
			missing += dshash_find(t, &i, false) == NULL;
		key = 1;
		elog(LOG, "dh: deleted %d by key, %d by entry; %d odd keys now missing; delete_key of a deleted key: %s",
			 by_key, by_entry, missing, dshash_delete_key(t, &key) ? "true" : "false");
	}
	/* A find's shared lock lets other finds in; the entry stays valid. */
	key = 10;
	e = dshash_find(t, &key, false);
	{
		int32		key2 = 12;
		IntEntry   *e2 = dshash_find(t, &key2, false);

		elog(LOG, "dh: two shared finds held at once: %d, %d", e->value, e2 ? e2->value : -1);
		if (e2)
			dshash_release_lock(t, e2);
	}
	dshash_release_lock(t, e);

	for (int i = 0; i < STR_KEYS; i++)
	{
		str_key(sk, "key", i);
		se = dshash_find_or_insert(st, sk, &found);
		if (!found)
			se->value = i;
		dshash_release_lock(st, se);
	}
	for (int i = 0; i < STR_KEYS; i++)
	{
		str_key(sk, "key", i);
		se = dshash_find(st, sk, false);
		if (se)
		{
			sum += se->value;
			dshash_release_lock(st, se);
		}
	}
	str_key(sk, "key", 77);
	se = dshash_find_or_insert(st, sk, &found);
	elog(LOG, "dh: string keys: values sum %lld; \"%s\" again: found %s, value %lld",
		 (long long) sum, sk, found ? "true" : "false", (long long) se->value);
	dshash_release_lock(st, se);
	str_key(sk, "nokey", 1);
	elog(LOG, "dh: find of a missing string: %s",
		 dshash_find(st, sk, false) == NULL ? "NULL" : "found");
}

/* Deletions during an exclusive scan, and a scan left early. */
static void
scans(dshash_table *t)
{
	dshash_seq_status s;
	IntEntry   *e;
	int			deleted = 0,
				seen = 0;
	bool		found;
	int32		key;

	scan_ints(t, "after the workers");
	dshash_seq_init(&s, t, true);
	while ((e = dshash_seq_next(&s)) != NULL)
	{
		seen++;
		if (e->key % 5 == 0)
		{
			dshash_delete_current(&s);
			deleted++;
		}
	}
	dshash_seq_term(&s);
	elog(LOG, "dh: exclusive scan: %d seen, %d deleted while scanning", seen, deleted);
	scan_ints(t, "after deleting every fifth key");

	/* Left after ten entries: the partition it held is free again. */
	seen = 0;
	dshash_seq_init(&s, t, false);
	while (seen < 10 && dshash_seq_next(&s) != NULL)
		seen++;
	dshash_seq_term(&s);
	key = 5;
	e = dshash_find_or_insert(t, &key, &found);
	e->value = 15;
	e->payload = 5000;
	dshash_release_lock(t, e);
	elog(LOG, "dh: scan left after %d entries; then insert key 5: found %s", seen,
		 found ? "true" : "false");
	/* An empty scan of a fresh scan state ends at once. */
	dshash_seq_init(&s, t, false);
	seen = 0;
	while (dshash_seq_next(&s) != NULL)
		seen++;
	dshash_seq_term(&s);
	elog(LOG, "dh: second full scan: %d entries", seen);
}

/* A table in an area with a size limit: inserts until out of memory; the
 * table keeps what it had and works afterwards. */
static void
out_of_memory(int tranche)
{
	dsa_area   *area = dsa_create(tranche);
	dshash_parameters p = with_tranche(int_params, tranche);
	dshash_table *volatile t;
	volatile int inserted = 0;
	int			ok = 0;
	dshash_seq_status s;
	int			n = 0;

	t = dshash_create(area, &p, &hash_calls);
	/* The first segment's size, in both PostgreSQL's and this area. */
	dsa_set_size_limit(area, 1024 * 1024);
	PG_TRY();
	{
		for (int32 i = 0; i < 10000000; i++)
		{
			bool		found;
			IntEntry   *e = dshash_find_or_insert(t, &i, &found);

			e->value = i;
			e->payload = (int64) i * 1000;
			dshash_release_lock(t, e);
			inserted++;
		}
		elog(LOG, "dh: limited area: never out of memory");
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		LWLockReleaseAll();
		ed = CopyErrorData();
		FlushErrorState();
		elog(LOG, "dh: limited area: ERROR %s", ed->message);
		FreeErrorData(ed);
	}
	PG_END_TRY();
	for (int32 i = 0; i < inserted; i++)
		ok += has_int(t, i, i);
	dshash_seq_init(&s, t, false);
	while (dshash_seq_next(&s) != NULL)
		n++;
	dshash_seq_term(&s);
	elog(LOG, "dh: limited area: every inserted key kept: %s, scan counts them: %s",
		 ok == inserted && inserted > 1000 ? "yes" : "no", n == inserted ? "yes" : "no");
	{
		int32		k = 0;

		elog(LOG, "dh: limited area: delete_key after the error: %s",
			 dshash_delete_key(t, &k) ? "true" : "false");
	}
	dshash_destroy(t);
	dsa_detach(area);
}

static void
with_workers(int tranche)
{
	dsa_area   *area = dsa_create(tranche);
	dsa_pointer bp = dsa_allocate0(area, sizeof(Board));
	Board	   *board = dsa_get_address(area, bp);
	BackgroundWorkerHandle *handles[NWORKERS];
	dshash_parameters ip = with_tranche(int_params, tranche);
	dshash_parameters sp = with_tranche(str_params, tranche);
	dshash_table *t = dshash_create(area, &ip, &hash_calls);
	dshash_table *st = dshash_create(area, &sp, NULL);
	dshash_parameters cp = with_tranche(crowded_params, tranche);
	dshash_table *ct = dshash_create(area, &cp, NULL);
	dshash_table_handle th = dshash_get_hash_table_handle(t);

	board->tranche_id = tranche;
	pg_atomic_init_u32(&board->started, 0);
	pg_atomic_init_u32(&board->ready, 0);

	alone(t, st);
	elog(LOG, "dh: the int table's hash function ran %d times, with its arg", hash_calls);

	/* A second view of the same table in this process. */
	{
		dshash_table *again = dshash_attach(area, &ip, th, &hash_calls);

		elog(LOG, "dh: attached again: same handle %s, key 2 %s",
			 dshash_get_hash_table_handle(again) == th ? "yes" : "no",
			 has_int(again, 2, 6) ? "found" : "missing");
		dshash_detach(again);
	}

	for (int i = 0; i < NWORKERS; i++)
		handles[i] = start_worker(i, dsa_get_handle(area), bp, th,
								  dshash_get_hash_table_handle(st),
								  dshash_get_hash_table_handle(ct));
	for (int i = 0; i < NWORKERS; i++)
		(void) WaitForBackgroundWorkerShutdown(handles[i]);
	for (int i = 0; i < NWORKERS; i++)
		elog(LOG, "dh: worker %d: %u inserted, %u present, %u found, %u deleted, %u deleted twice, leader's entries %u intact %u wrong, %u strings",
			 i, board->inserted[i], board->present[i], board->found[i], board->deleted[i],
			 board->redeleted[i], board->leader_ok[i], board->leader_bad[i],
			 board->strings[i]);
	for (int i = 0; i < NWORKERS; i++)
		elog(LOG, "dh: worker %d, crowded table: %u inserted, %u found", i, board->crowded[i],
			 board->crowded_found[i]);
	for (int i = 0; i < NWORKERS; i++)
		worker_keys_check(t, i);
	{
		int			ok = 0;

		for (int i = 0; i < NWORKERS; i++)
			for (int k = 0; k < WORKER_KEYS; k++)
				ok += has_int(ct, WORKER_BASE * (i + 1) + k, WORKER_BASE * (i + 1) + k + 7);
		elog(LOG, "dh: crowded table: %d of %d keys found by the leader", ok,
			 NWORKERS * WORKER_KEYS);
		scan_ints(ct, "of the crowded table");
	}
	{
		dshash_seq_status s;
		StrEntry   *se;
		int			n = 0,
					zero = 0,
					one = 0;

		dshash_seq_init(&s, st, false);
		while ((se = dshash_seq_next(&s)) != NULL)
		{
			n++;
			zero += strncmp(se->key, "zero-", 5) == 0;
			one += strncmp(se->key, "one-", 4) == 0;
		}
		dshash_seq_term(&s);
		elog(LOG, "dh: string table scan: %d entries, %d of worker 0, %d of worker 1", n, zero, one);
	}
	scans(t);

	dshash_destroy(ct);
	dshash_destroy(st);
	dshash_destroy(t);
	dsa_free(area, bp);
	/* Everything freed: a new table in the same area works. */
	t = dshash_create(area, &ip, &hash_calls);
	{
		uint32		a = 0,
					b = 0;

		put_int(t, 1, 3, &a, &b);
		elog(LOG, "dh: a new table after destroy: key 1 %s", has_int(t, 1, 3) ? "found" : "missing");
	}
	dshash_destroy(t);
	dsa_detach(area);
}

/*
 * Bad input (bgworkerd only: PostgreSQL asserts or crashes here): each is
 * an ERROR, and the table works afterwards.
 */
static void
bad(int tranche)
{
	dsa_area   *area = dsa_create(tranche);
	dshash_parameters p = with_tranche(int_params, tranche);
	dshash_table *t = dshash_create(area, &p, &hash_calls);
	dsa_pointer plain = dsa_allocate0(area, 4096);
	uint32		a = 0,
				b = 0;

	TAGGED_CATCH("dh", "attach to InvalidDsaPointer",
				 dshash_attach(area, &p, InvalidDsaPointer, NULL));
	TAGGED_CATCH("dh", "attach to a block that is no table",
				 dshash_attach(area, &p, plain, NULL));
	p.hash_function = NULL;
	TAGGED_CATCH("dh", "create without a hash function", dshash_create(area, &p, NULL));
	TAGGED_CATCH("dh", "attach without a hash function",
				 dshash_attach(area, &p, dshash_get_hash_table_handle(t), NULL));
	p = with_tranche(int_params, tranche);
	p.compare_function = NULL;
	TAGGED_CATCH("dh", "create without a compare function", dshash_create(area, &p, NULL));
#if PG_VERSION_NUM >= 170000
	p = with_tranche(int_params, tranche);
	p.copy_function = NULL;
	TAGGED_CATCH("dh", "create without a copy function", dshash_create(area, &p, NULL));
#endif
	TAGGED_CATCH("dh", "parameters NULL", dshash_create(area, NULL, NULL));
	for (int i = 0; i < 500; i++)
		put_int(t, i, i * 3, &a, &b);
	{
		int32		k = 7;
		IntEntry   *volatile e = dshash_find(t, &k, false);
		dshash_seq_status s;

		TAGGED_CATCH("dh", "delete_entry under a shared lock", dshash_delete_entry(t, e));
		dshash_release_lock(t, e);
		TAGGED_CATCH("dh", "delete_entry after its lock is released", dshash_delete_entry(t, e));
		dshash_seq_init(&s, t, false);
		(void) dshash_seq_next(&s);
		TAGGED_CATCH("dh", "delete_current in a shared scan", dshash_delete_current(&s));
		dshash_seq_term(&s);
		dshash_seq_init(&s, t, true);
		TAGGED_CATCH("dh", "delete_current before the first entry", dshash_delete_current(&s));
		dshash_seq_term(&s);
		elog(LOG, "dh: bad: key 7 still %s", has_int(t, 7, 21) ? "found" : "missing");
	}
	elog(LOG, "dh: bad: then %u inserted, key 499 %s", a, has_int(t, 499, 1497) ? "found" : "missing");
	/* On stderr: the partitions' and buckets' entry counts. */
	dshash_dump(t);
	dshash_destroy(t);
	dsa_free(area, plain);
	dsa_detach(area);
}

void
dh_leader(Datum arg)
{
	int			tranche;
	int32		k = 42;
	char		sk[KEYLEN];

	(void) arg;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* Startup and shutdown notices arrive as SIGUSR1 (bgw_notify_pid). */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	tranche = LWLockNewTrancheId();
	LWLockRegisterTranche(tranche, "dh_module");

	str_key(sk, "key", 42);
	elog(LOG, "dh: dshash_memhash(42) %u, memcmp of equal keys %d", dshash_memhash(&k, sizeof(k), NULL),
		 dshash_memcmp(&k, &k, sizeof(k), NULL));
#if PG_VERSION_NUM >= 170000
	{
		char		copy[KEYLEN];
		int32		k2 = 0;

		dshash_strcpy(copy, sk, KEYLEN, NULL);
		dshash_memcpy(&k2, &k, sizeof(k), NULL);
		elog(LOG, "dh: dshash_strhash(\"%s\") %u, strcmp %d, strcpy \"%s\", memcpy %d", sk,
			 dshash_strhash(sk, KEYLEN, NULL), dshash_strcmp(sk, "key-43", KEYLEN, NULL) < 0,
			 copy, k2);
	}
#endif
	if (getenv("DH_SCENARIO") && strcmp(getenv("DH_SCENARIO"), "bad") == 0)
	{
		bad(tranche);
		out_of_memory(tranche);
	}
	else
	{
		with_workers(tranche);
#if PG_VERSION_NUM >= 170000
		/* (PostgreSQL 15's server crashes after this ERROR.) */
		out_of_memory(tranche);
#endif
	}
	elog(LOG, "dh: done");
}

void
_PG_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "dh_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "dh_leader");
	snprintf(w.bgw_name, BGW_MAXLEN, "dh leader");
	snprintf(w.bgw_type, BGW_MAXLEN, "dh leader");
	RegisterBackgroundWorker(&w);
}
