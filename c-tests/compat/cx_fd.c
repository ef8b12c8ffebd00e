/*
 * cx_fd.c -- storage/fd.h without a database: counted files, directories
 * and transient descriptors, durable_rename/durable_unlink, their failures
 * at the level the caller asks for, the limit on descriptors open at once,
 * and freeing what was not allocated there. Works in the directory that
 * cxf.dir names (paths in messages are relative to it) and removes what it
 * made.
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/fd.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void cxf_main(Datum main_arg);

static char *cxf_dir = NULL;

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
list_dir(const char *path)
{
	DIR		   *dir = AllocateDir(path);
	struct dirent *de;
	char	   *names[16];
	int			n = 0;
	StringInfoData buf;

	while ((de = ReadDir(dir, path)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && n < 16)
			names[n++] = pstrdup(de->d_name);
	qsort(names, n, sizeof(char *), cmp_names);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, " %s", names[i]);
	elog(LOG, "cxf %s holds:%s (FreeDir %d)", path, buf.data, FreeDir(dir));
}

void
cxf_main(Datum main_arg)
{
	FILE	   *f;
	FILE	   *opened[4096];
	volatile int n = 0;
	int			r;
	int			fd;

	(void) main_arg;
	BackgroundWorkerUnblockSignals();
	if (chdir(cxf_dir) != 0)
		elog(ERROR, "cxf cannot enter %s: %m", cxf_dir);

	r = MakePGDirectory("cxf_sub");
	elog(LOG, "cxf MakePGDirectory: %d", r);
	r = MakePGDirectory("cxf_sub");
	elog(LOG, "cxf MakePGDirectory again: %d (%m)", r);

	f = AllocateFile("cxf_sub/a.txt", "w");
	fprintf(f, "hello\n");
	elog(LOG, "cxf FreeFile: %d", FreeFile(f));
	f = AllocateFile("cxf_sub/missing.txt", "r");
	elog(LOG, "cxf AllocateFile of a missing file: %s (%m)", f ? "a file" : "NULL");

	r = durable_rename("cxf_sub/a.txt", "cxf_sub/b.txt", LOG);
	elog(LOG, "cxf durable_rename: %d", r);
	r = durable_rename("cxf_sub/nothing.txt", "cxf_sub/c.txt", WARNING);
	elog(LOG, "cxf durable_rename of a missing file: %d", r);

	fd = OpenTransientFile("cxf_sub/b.txt", O_RDONLY);
	{
		char		text[16] = {0};

		r = read(fd, text, sizeof(text) - 1);
		elog(LOG, "cxf OpenTransientFile read %d bytes: %s", r, text);
	}
	elog(LOG, "cxf CloseTransientFile: %d", CloseTransientFile(fd));

	list_dir("cxf_sub");
	(void) ReadDirExtended(AllocateDir("cxf_nodir"), "cxf_nodir", LOG);
	elog(LOG, "cxf after ReadDirExtended at LOG");

	/* The limit on descriptors open at once, then all of them freed. */
	PG_TRY();
	{
		while (n < 4096)
		{
			opened[n] = AllocateFile("cxf_sub/b.txt", "r");
			n++;
		}
	}
	PG_CATCH();
	{
		ErrorData  *e = CopyErrorData();
		int			limit = -1;
		char	   *p = strchr(e->message, '(');

		FlushErrorState();
		if (p)
			limit = atoi(p + 1);
		for (p = e->message; *p; p++)
			if (*p >= '0' && *p <= '9')
				*p = '#';
		elog(LOG, "cxf limit: %s; the limit is the number open: %s; sqlstate %s",
			 e->message, limit == n ? "yes" : "no", unpack_sql_state(e->sqlerrcode));
	}
	PG_END_TRY();
	while (n > 0)
		(void) FreeFile(opened[--n]);

	f = fopen("cxf_sub/b.txt", "r");
	elog(LOG, "cxf FreeFile of a plain fopen: %d", FreeFile(f));

	r = durable_unlink("cxf_sub/b.txt", LOG);
	elog(LOG, "cxf durable_unlink: %d", r);
	r = durable_unlink("cxf_sub/b.txt", LOG);
	elog(LOG, "cxf durable_unlink again: %d", r);
	(void) rmdir("cxf_sub");

	/* Left open: released at exit. */
	f = AllocateFile("cxf_left.txt", "w");
	fprintf(f, "left\n");
	(void) unlink("cxf_left.txt");
	ReadDir(AllocateDir("cxf_nodir"), "cxf_nodir");
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("cxf.dir", "Directory to work in.", NULL, &cxf_dir,
							   ".", PGC_POSTMASTER, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cx_fd");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxf_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxf worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxf");
	RegisterBackgroundWorker(&worker);
}
