/*
 * gt_module.c -- PostgreSQL's settings table (utils/guc_tables.h) as
 * modules use it, run the same way under bgworkerd and under a real
 * PostgreSQL server (tests/guc_tables_postgresql.rs compares the "gt:"
 * lines).
 *
 * _PG_init defines one setting of each type; the shared-memory startup
 * hook then walks get_guc_variables' array (sorted, searched with bsearch
 * as modules do), reads records of PostgreSQL's own settings, of its own
 * and of a placeholder, rebinds two of its records' variables (as
 * pg_wait_sampling moves its settings into shared memory) and has the
 * configuration re-applied to the new variables, and checks guc.c's small
 * lookups (GetConfigOptionFlags, parse_int, parse_real, the enum lookups;
 * find_option from 16, GetNumConfigOptions in 15) with their ERRORs. A
 * worker then reads the rebound settings in a forked process.
 *
 * Nothing printed depends on addresses, on which implementation runs, or
 * on settings PostgreSQL keeps that bgworkerd does not describe (built-in
 * settings' flags other than units, their descriptions, groups and hooks).
 */
#include "postgres.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"

#include "tagged_catch.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void gt_main(Datum arg);

static int	gt_int = 1;
static bool gt_bool = false;
static double gt_real = 0.5;
static char *gt_str = NULL;
static int	gt_enum = 0;

/* Where the startup hook moves gt.int and gt.str. */
static int	moved_int = 0;
static char *moved_str = NULL;

static const struct config_enum_entry gt_enum_options[] = {
	{"red", 0, false},
	{"green", 1, false},
	{"blue", 2, true},
	{NULL, 0, false}
};

static shmem_startup_hook_type prev_startup = NULL;

/* The bare comparison of GUC names (guc.c's guc_name_compare): ASCII
 * letters folded to lower case. */
static int
name_compare(const char *a, const char *b)
{
	while (*a && *b)
	{
		char		ca = *a++;
		char		cb = *b++;

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return (unsigned char) ca - (unsigned char) cb;
	}
	if (*a)
		return 1;
	if (*b)
		return -1;
	return 0;
}

static int
record_compare(const void *a, const void *b)
{
	const struct config_generic *ra = *(struct config_generic *const *) a;
	const struct config_generic *rb = *(struct config_generic *const *) b;

	return name_compare(ra->name, rb->name);
}

static struct config_generic **table;
static int	table_len;

static void
load_table(void)
{
#if PG_VERSION_NUM >= 160000
	table = get_guc_variables(&table_len);
#else
	table = get_guc_variables();
	table_len = GetNumConfigOptions();
#endif
}

/* The record of `name`, by bsearch over the sorted table. */
static struct config_generic *
search(const char *name)
{
	struct config_generic key;
	struct config_generic *keyp = &key;
	struct config_generic **found;

	key.name = name;
	found = bsearch(&keyp, table, table_len, sizeof(*table), record_compare);
	return found ? *found : NULL;
}

static const char *
show_str(const char *s)
{
	return s ? s : "(null)";
}

/* One record: type, context, the value behind it, boot and reset values,
 * range, sources. `own`: a setting of this module (flags, group and
 * description printed too). */
static void
show_record(const char *name, bool own)
{
	struct config_generic *g = search(name);

	if (g == NULL)
	{
		elog(LOG, "gt: %s: not in the table", name);
		return;
	}
	if (own)
		elog(LOG, "gt: %s: name %s type %d context %d flags %d custom-group %d desc \"%s\" source %d reset_source %d",
			 name, g->name, (int) g->vartype, (int) g->context, g->flags,
			 g->group == CUSTOM_OPTIONS, show_str(g->short_desc),
			 (int) g->source, (int) g->reset_source);
	else
		elog(LOG, "gt: %s: name %s type %d context %d unit %d source %d",
			 name, g->name, (int) g->vartype, (int) g->context,
			 g->flags & GUC_UNIT, (int) g->source);
	switch (g->vartype)
	{
		case PGC_BOOL:
			{
				struct config_bool *r = (struct config_bool *) g;

				elog(LOG, "gt: %s: bool %d boot %d reset %d", name,
					 (int) *r->variable, (int) r->boot_val, (int) r->reset_val);
				break;
			}
		case PGC_INT:
			{
				struct config_int *r = (struct config_int *) g;

				elog(LOG, "gt: %s: int %d boot %d reset %d min %d max %d", name,
					 *r->variable, r->boot_val, r->reset_val, r->min, r->max);
				break;
			}
		case PGC_REAL:
			{
				struct config_real *r = (struct config_real *) g;

				elog(LOG, "gt: %s: real %g boot %g reset %g min %g max %g", name,
					 *r->variable, r->boot_val, r->reset_val, r->min, r->max);
				break;
			}
		case PGC_STRING:
			{
				struct config_string *r = (struct config_string *) g;

				elog(LOG, "gt: %s: string \"%s\" boot \"%s\" reset \"%s\"", name,
					 show_str(*r->variable), show_str(r->boot_val),
					 show_str(r->reset_val));
				break;
			}
		case PGC_ENUM:
			{
				struct config_enum *r = (struct config_enum *) g;
				int			v = -1;
				bool		found = config_enum_lookup_by_name(r, "TERSE", &v);

				elog(LOG, "gt: %s: enum %d (%s) boot %d reset %d by-name-terse %d/%d",
					 name, *r->variable,
					 config_enum_lookup_by_value(r, *r->variable),
					 r->boot_val, r->reset_val, (int) found, v);
				break;
			}
	}
}

#define CATCH(what, stmt) TAGGED_CATCH("gt", what, stmt)

/* utils/builtins.h's boolean reader. */
static void
check_bools(void)
{
	static const char *const bools[] = {
		"true", "TRUE", "t", "tru", "truex", "false", "F", "yes", "Y", "no", "N",
		"on", "ON", "o", "of", "off", "OFF", "offx", "1", "0", "10", "", " on", "on ",
		"maybe",
	};

	for (int i = 0; i < (int) lengthof(bools); i++)
	{
		bool		r = true;
		bool		ok = parse_bool(bools[i], &r);

		elog(LOG, "gt: parse_bool \"%s\": %d %d", bools[i], (int) ok, (int) r);
	}
	{
		bool		r = true;
		bool		ok = parse_bool_with_len("offline", 3, &r);

		elog(LOG, "gt: parse_bool_with_len \"offline\" 3: %d %d", (int) ok, (int) r);
	}
}

static void
check_parsers(void)
{
	static const struct
	{
		const char *text;
		int			flags;
	}			ints[] = {
		{"64MB", GUC_UNIT_KB}, {"1TB", GUC_UNIT_KB}, {"12 parsecs", GUC_UNIT_KB},
		{"0x10", 0}, {"1.5min", GUC_UNIT_S}, {"7 s", GUC_UNIT_MS},
		{"-3", 0}, {"abc", 0}, {"99999999999", 0}, {"10 kB", 0},
	};

	for (int i = 0; i < (int) lengthof(ints); i++)
	{
		int			r = -1;
		const char *hint = NULL;
		bool		ok = parse_int(ints[i].text, &r, ints[i].flags, &hint);

		elog(LOG, "gt: parse_int \"%s\" %d: %d %d hint %s", ints[i].text,
			 ints[i].flags, (int) ok, r, show_str(hint));
	}
	check_bools();
	for (int i = 0; i < (int) lengthof(ints); i++)
	{
		double		r = -1;
		const char *hint = NULL;
		bool		ok = parse_real(ints[i].text, &r, ints[i].flags, &hint);

		elog(LOG, "gt: parse_real \"%s\" %d: %d %g hint %s", ints[i].text,
			 ints[i].flags, (int) ok, r, show_str(hint));
	}
}

/* Set gt.real at the current nesting level with `action`. */
static void
set_real(const char *value, GucAction action)
{
	(void) set_config_option("gt.real", value, PGC_SUSET, PGC_S_SESSION, action, true, 0,
							 false);
}

static void
show_real(const char *when)
{
	struct config_generic *g = search("gt.real");

	elog(LOG, "gt: nest %s: gt.real %g source %d", when, gt_real, (int) g->source);
}

/* Nesting levels: what the end of a level keeps and restores, by action,
 * commit or abort, and across levels (guc.c's AtEOXact_GUC). PostgreSQL
 * keeps its stack in TopTransactionContext, so a server runs this inside
 * a transaction (see gt_main); bgworkerd has none and needs none. */
static void
check_nesting(void)
{
	int			l1,
				l2;

	l1 = NewGUCNestLevel();
	elog(LOG, "gt: nest level %d", l1);
	set_real("2.5", GUC_ACTION_SAVE);
	show_real("save set");
	AtEOXact_GUC(true, l1);
	show_real("save ended");

	l1 = NewGUCNestLevel();
	set_real("3", GUC_ACTION_SET);
	AtEOXact_GUC(true, l1);
	show_real("set committed");

	l1 = NewGUCNestLevel();
	set_real("4", GUC_ACTION_SET);
	AtEOXact_GUC(false, l1);
	show_real("set aborted");

	l1 = NewGUCNestLevel();
	set_real("4.5", GUC_ACTION_LOCAL);
	AtEOXact_GUC(true, l1);
	show_real("local committed");

	l1 = NewGUCNestLevel();
	set_real("5", GUC_ACTION_SET);
	set_real("5.5", GUC_ACTION_LOCAL);
	show_real("set then local");
	AtEOXact_GUC(true, l1);
	show_real("set then local committed");

	l1 = NewGUCNestLevel();
	set_real("6", GUC_ACTION_SET);
	l2 = NewGUCNestLevel();
	elog(LOG, "gt: nest levels %d %d", l1, l2);
	set_real("7", GUC_ACTION_SAVE);
	show_real("inner save");
	AtEOXact_GUC(true, l2);
	show_real("inner ended");
	AtEOXact_GUC(true, l1);
	show_real("outer committed");

	l1 = NewGUCNestLevel();
	l2 = NewGUCNestLevel();
	set_real("8", GUC_ACTION_SET);
	AtEOXact_GUC(true, l2);
	show_real("inner set committed");
	AtEOXact_GUC(false, l1);
	show_real("outer aborted");

	l1 = NewGUCNestLevel();
	set_real("9", GUC_ACTION_SET);
	l2 = NewGUCNestLevel();
	set_real("9.5", GUC_ACTION_LOCAL);
	AtEOXact_GUC(true, l2);
	show_real("inner local committed");
	AtEOXact_GUC(true, l1);
	show_real("outer with local committed");
	l1 = NewGUCNestLevel();
	elog(LOG, "gt: nest level after all %d", l1);
	AtEOXact_GUC(true, l1);
}

static void
gt_startup(void)
{
	bool		sorted = true;
	struct config_int *ri;
	struct config_string *rs;

	if (prev_startup)
		prev_startup();

	load_table();
	for (int i = 1; i < table_len; i++)
		if (name_compare(table[i - 1]->name, table[i]->name) >= 0)
			sorted = false;
	elog(LOG, "gt: table sorted %d, more than 250 settings %d", (int) sorted,
		 table_len > 250);

	show_record("work_mem", false);
	show_record("enable_seqscan", false);
	show_record("seq_page_cost", false);
	show_record("application_name", false);
	show_record("search_path", false);
	show_record("log_error_verbosity", false);
	show_record("statement_timeout", false);
	show_record("max_worker_processes", false);
	show_record("gt.int", true);
	show_record("gt.bool", true);
	show_record("gt.real", true);
	show_record("gt.str", true);
	show_record("gt.enum", true);
	show_record("GT.Int", true);
	show_record("gt.no_such", true);
	{
		struct config_generic *p = search("gtx.placeholder");

		if (p)
			elog(LOG, "gt: placeholder type %d placeholder-flag %d value \"%s\"",
				 (int) p->vartype, (p->flags & GUC_CUSTOM_PLACEHOLDER) != 0,
				 show_str(*((struct config_string *) p)->variable));
		else
			elog(LOG, "gt: placeholder not in the table");
	}

	/* Rebind as pg_wait_sampling does, and have the configuration applied
	 * to the new variables. */
	ri = (struct config_int *) search("gt.int");
	rs = (struct config_string *) search("gt.str");
	ri->variable = &moved_int;
	moved_int = 5000;
	rs->variable = &moved_str;
	moved_str = NULL;
	ProcessConfigFile(PGC_SIGHUP);
	/* (gt_str is not read again: PostgreSQL freed its value when the
	 * configuration replaced the reset value it shared.) */
	elog(LOG, "gt: after rebinding: moved_int %d gt_int %d shown %s moved_str \"%s\"",
		 moved_int, gt_int, GetConfigOption("gt.int", false, false),
		 show_str(moved_str));
	SetConfigOption("gt.int", "7", PGC_POSTMASTER, PGC_S_OVERRIDE);
	elog(LOG, "gt: after SetConfigOption: moved_int %d gt_int %d source %d reset %d",
		 moved_int, gt_int, (int) ri->gen.source, ri->reset_val);
	CATCH("set out of range", SetConfigOption("gt.int", "100000", PGC_POSTMASTER, PGC_S_OVERRIDE));
	elog(LOG, "gt: after the refused value: moved_int %d", moved_int);

	elog(LOG, "gt: flags: work_mem unit %d gt.int %d no_such %d",
		 GetConfigOptionFlags("work_mem", false) & GUC_UNIT,
		 GetConfigOptionFlags("gt.int", false),
		 GetConfigOptionFlags("no_such_setting", true));
	elog(LOG, "gt: flags: max_worker_processes unit %d placeholder %d",
		 GetConfigOptionFlags("max_worker_processes", false) & GUC_UNIT,
		 GetConfigOptionFlags("gtx.placeholder", false));
	CATCH("flags of an unknown name", GetConfigOptionFlags("no_such_setting", false));
	CATCH("enum value not an option",
		  config_enum_lookup_by_value((struct config_enum *) search("log_error_verbosity"), 99));
	check_parsers();

#if PG_VERSION_NUM >= 160000
	{
		char	   *a = guc_strdup(ERROR, "Work_Mem");
		char	   *b = guc_malloc(ERROR, 16);
		int			c1;
		int			c2;
		int			c3;

		strcpy(b, "work_mem");
		b = guc_realloc(ERROR, b, 64);
		strcat(b, "x");
		c1 = guc_name_compare(a, "WORK_MEM") == 0;
		c2 = guc_name_compare(a, b) < 0;
		c3 = guc_name_compare("b", "A") > 0;
		elog(LOG, "gt: guc memory: \"%s\" \"%s\" compare %d %d %d", a, b, c1, c2, c3);
		guc_free(a);
		guc_free(b);
		guc_free(NULL);
	}
	elog(LOG, "gt: find_option same record %d, unknown custom %d",
		 find_option("WORK_MEM", false, false, ERROR) == search("work_mem"),
		 find_option("gt.nothing", false, true, ERROR) == NULL);
	CATCH("find_option unknown", find_option("no_such_setting", false, false, ERROR));
	{
		struct config_generic *p = find_option("gtx.made", true, false, ERROR);

		elog(LOG, "gt: find_option placeholder made %d flag %d type %d",
			 p != NULL, p && (p->flags & GUC_CUSTOM_PLACEHOLDER) != 0,
			 p ? (int) p->vartype : -1);
	}
#else
	elog(LOG, "gt: GetNumConfigOptions matches %d", GetNumConfigOptions() == table_len);
#endif
}

void
gt_main(Datum arg)
{
	/* bgworkerd's own C API is there: no database, no transaction. */
	bool		server = dlsym(RTLD_DEFAULT, "bgw_last_error") == NULL;

	(void) arg;
	/* A transaction opens nesting level 1 and closes it at commit; under
	 * bgworkerd the worker opens and closes that level itself. */
	if (server)
	{
		BackgroundWorkerInitializeConnection("postgres", NULL, 0);
		StartTransactionCommand();
	}
	else
		(void) NewGUCNestLevel();
	check_nesting();
	if (server)
		CommitTransactionCommand();
	else
		AtEOXact_GUC(true, 1);
	show_real("transaction committed");
	elog(LOG, "gt: worker: gt.int %s moved_int %d", GetConfigOption("gt.int", false, false),
		 moved_int);
	elog(LOG, "gt: worker: gt.str %s moved_str \"%s\"", GetConfigOption("gt.str", false, false),
		 show_str(moved_str));
	elog(LOG, "gt: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	BackgroundWorker w;

	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("gt.int", "an int", NULL, &gt_int, 1, 0, 1000,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomBoolVariable("gt.bool", "a bool", "long text", &gt_bool, false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("gt.real", "a real", NULL, &gt_real, 0.5, 0.0, 10.0,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("gt.str", "a string", NULL, &gt_str, "boot",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("gt.enum", "an enum", NULL, &gt_enum, 0,
							 gt_enum_options, PGC_USERSET, 0, NULL, NULL, NULL);
	prev_startup = shmem_startup_hook;
	shmem_startup_hook = gt_startup;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "gt_module");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "gt_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "gt worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "gt worker");
	RegisterBackgroundWorker(&w);
}
