/*
 * cx_port.c -- a worker that calls a sample of PostgreSQL's own libpgport
 * and libpgcommon functions, and shows settings with units through
 * GetConfigOptionByName, and logs what they return, so that the
 * transcript under bgworkerd can be compared with PostgreSQL 15's.
 */
#include "postgres.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common/hashfn.h"
#include "common/keywords.h"
#include "common/pg_lzcompress.h"
#include "common/pg_prng.h"
#include "common/relpath.h"
#include "common/string.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "port/pg_crc32c.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxp_main(Datum main_arg);

static int	cxp_mem;
static int	cxp_time;
static int	cxp_zero;
static double cxp_ratio;

static void
show_setting(const char *name)
{
	const char *varname = "unset";
	char	   *value = GetConfigOptionByName(name, &varname, true);

	elog(LOG, "cxp setting %s: %s (varname %s)", name, value ? value : "NULL",
		 varname ? varname : "NULL");
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *) a - *(const int *) b;
}

void
cxp_main(Datum main_arg)
{
	int			v[8] = {5, 3, 9, 1, 7, 2, 8, 6};
	char		path[64] = "/a/b/../c//d/./";
	char		buf[16];
	pg_prng_state prng;
	pg_crc32c	crc;
	const char *text = "The quick brown fox jumps over the lazy dog";
	char		src[400];
	char		cmp[PGLZ_MAX_OUTPUT(400)];
	char		back[400];
	int32		clen;
	int			sv[2];
	int			i;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	elog(LOG, "cxp strcasecmp %d %d %d", pg_strcasecmp("Hello", "hELLO") == 0,
		 pg_strncasecmp("abcX", "ABCy", 3) == 0, pg_strcasecmp("a", "B") < 0);
	pg_qsort(v, 8, sizeof(int), cmp_int);
	elog(LOG, "cxp qsort %d %d %d %d %d %d %d %d", v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
	pg_prng_seed(&prng, 42);
	elog(LOG, "cxp prng " UINT64_FORMAT " %u %.6f", pg_prng_uint64(&prng), pg_prng_uint32(&prng),
		 pg_prng_double(&prng));
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, text, strlen(text));
	FIN_CRC32C(crc);
	elog(LOG, "cxp crc32c %08x hash %08x %08x", crc, hash_bytes((const unsigned char *) text, strlen(text)),
		 string_hash("abc", 4));
	canonicalize_path(path);
	elog(LOG, "cxp path \"%s\" last \"%s\" relative %d", path, last_dir_separator(path),
		 path_is_relative_and_below_cwd("a/../../b"));
	elog(LOG, "cxp bits %d %d %d %d", pg_leftmost_one_pos32(1000), pg_rightmost_one_pos64(1024),
		 pg_popcount32(0xF0F0), pg_popcount64(UINT64CONST(0xFFFFFFFFFFFF)));
	elog(LOG, "cxp encoding %d %d %d", pg_encoding_max_length(PG_UTF8), pg_encoding_dsplen(PG_UTF8, "a"),
		 pg_encoding_mblen(PG_UTF8, "\xc3\xa9"));
	elog(LOG, "cxp keyword select %d nosuch %d", ScanKeywordLookup("select", &ScanKeywords) >= 0,
		 ScanKeywordLookup("nosuchkeyword", &ScanKeywords));
	for (i = 0; i < 400; i++)
		src[i] = "abcabcabd"[i % 9];
	clen = pglz_compress(src, 400, cmp, PGLZ_strategy_always);
	i = pglz_decompress(cmp, clen, back, 400, true);
	elog(LOG, "cxp pglz %d back %d same %d", clen, i, memcmp(src, back, 400) == 0);
	strlcpy(buf, "truncate this string", sizeof(buf));
	elog(LOG, "cxp strlcpy \"%s\" endswith %d wait \"%s\"", buf, pg_str_endswith("file.conf", ".conf"),
		 wait_result_to_str(256 * 3));
	elog(LOG, "cxp fork %s %d", forkNames[INIT_FORKNUM], forkname_to_number("vm"));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0)
	{
		bool		ok = pg_set_noblock(sv[0]);

		elog(LOG, "cxp noblock %d %d", ok, (fcntl(sv[0], F_GETFL) & O_NONBLOCK) != 0);
		close(sv[0]);
		close(sv[1]);
	}
	show_setting("cxp.mem");
	show_setting("CXP.Time");
	show_setting("cxp.zero");
	show_setting("cxp.ratio");
	show_setting("cxp.nosuch");
	elog(LOG, "cxp done");
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("cxp.mem", "memory", NULL, &cxp_mem, 2048, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("cxp.time", "time", NULL, &cxp_time, 90000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("cxp.zero", "zero", NULL, &cxp_zero, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomRealVariable("cxp.ratio", "ratio", NULL, &cxp_ratio, 1.5, 0, 100,
							 PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_port");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxp_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxp worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxp");
	RegisterBackgroundWorker(&worker);
}
