/*
 * ep_module.c -- error reports beyond message, detail and hint: an error
 * position (the server log's "at character N"), an internal query and its
 * position (a QUERY line), the object identity fields, what a context
 * callback reads with geterrposition, error_severity's names, the context
 * callbacks' lines from GetErrorContextStack. Runs in
 * _PG_init under bgworkerd and under a real PostgreSQL server
 * (tests/errfields_postgresql.rs compares the lines).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static int	seen_position = -1;
static int	seen_internal_position = -1;

static void
note_positions(void *arg)
{
	(void) arg;
	seen_position = geterrposition();
	seen_internal_position = getinternalerrposition();
}

static void
context_line(void *arg)
{
	errcontext("ep: while in %s", (const char *) arg);
}

static const char *
or_null(const char *s)
{
	return s ? s : "(null)";
}

static void
print_fields(const char *what, ErrorData *e)
{
	elog(LOG, "ep: %s: \"%s\" position %d internal %d query %s", what, e->message,
		 e->cursorpos, e->internalpos, or_null(e->internalquery));
	elog(LOG, "ep: %s: schema %s table %s column %s datatype %s constraint %s", what,
		 or_null(e->schema_name), or_null(e->table_name), or_null(e->column_name),
		 or_null(e->datatype_name), or_null(e->constraint_name));
}

void
_PG_init(void)
{
	MemoryContext mcxt = CurrentMemoryContext;
	ErrorData  *copy = NULL;
	ErrorContextCallback cb;
	const int	levels[] = {DEBUG5, DEBUG1, LOG, LOG_SERVER_ONLY, INFO, NOTICE, WARNING,
	WARNING_CLIENT_ONLY, ERROR, FATAL, PANIC, 0, 99};

	ereport(LOG, errmsg("ep: a position"), errposition(7));
	ereport(LOG, errmsg("ep: an internal query"), internalerrposition(3),
			internalerrquery("SELECT 1 FROM t"));
	ereport(LOG, errmsg("ep: both positions"), errposition(4), internalerrposition(9),
			internalerrquery("SELECT 2"));
	ereport(LOG, errmsg("ep: a query without a position"), internalerrquery("SELECT 3"),
			errdetail("with a detail"), errhint("and a hint"));

	cb.callback = note_positions;
	cb.arg = NULL;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	PG_TRY();
	{
		ereport(ERROR, errcode(ERRCODE_CHECK_VIOLATION), errmsg("ep: with identity"),
				errposition(5), internalerrposition(2), internalerrquery("SELECT 4"),
				err_generic_string(PG_DIAG_SCHEMA_NAME, "s1"),
				err_generic_string(PG_DIAG_TABLE_NAME, "t1"),
				err_generic_string(PG_DIAG_COLUMN_NAME, "c1"),
				err_generic_string(PG_DIAG_DATATYPE_NAME, "d1"),
				err_generic_string(PG_DIAG_CONSTRAINT_NAME, "n1"));
	}
	PG_CATCH();
	{
		error_context_stack = cb.previous;
		MemoryContextSwitchTo(mcxt);
		copy = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	error_context_stack = cb.previous;
	elog(LOG, "ep: the context callback saw position %d internal %d", seen_position,
		 seen_internal_position);
	print_fields("caught", copy);

	PG_TRY();
	{
		ReThrowError(copy);
	}
	PG_CATCH();
	{
		ErrorData  *again;

		MemoryContextSwitchTo(mcxt);
		again = CopyErrorData();
		FlushErrorState();
		print_fields("rethrown", again);
		FreeErrorData(again);
	}
	PG_END_TRY();
	FreeErrorData(copy);

	for (int i = 0; i < (int) lengthof(levels); i++)
		elog(LOG, "ep: severity %d %s", levels[i], error_severity(levels[i]));

	PG_TRY();
	{
		ereport(ERROR, errmsg("ep: unknown field"), err_generic_string('x', "nope"));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(mcxt);
		copy = CopyErrorData();
		FlushErrorState();
		elog(LOG, "ep: caught \"%s\"", copy->message);
		FreeErrorData(copy);
	}
	PG_END_TRY();
	/* the context lines on demand, from two nested callbacks */
	{
		ErrorContextCallback outer,
					inner;
		char	   *lines;

		lines = GetErrorContextStack();
		elog(LOG, "ep: context stack with no callbacks: %s", or_null(lines));
		outer.callback = context_line;
		outer.arg = (void *) "outer";
		outer.previous = error_context_stack;
		error_context_stack = &outer;
		inner.callback = context_line;
		inner.arg = (void *) "inner";
		inner.previous = &outer;
		error_context_stack = &inner;
		lines = GetErrorContextStack();
		error_context_stack = outer.previous;
		elog(LOG, "ep: context stack: [%s]", or_null(lines));
		pfree(lines);
	}
	/* an ErrorData made by hand, thrown below ERROR and at ERROR */
	{
		ErrorData  *made = palloc0(sizeof(ErrorData));

		made->elevel = WARNING;
		made->sqlerrcode = ERRCODE_WARNING_DEPRECATED_FEATURE;
		made->message = "ep: thrown warning";
		made->detail = "ep: its detail";
		made->filename = "ep_module.c";
		made->lineno = 1;
		ThrowErrorData(made);
		made->elevel = ERROR;
		made->message = "ep: thrown error";
		made->cursorpos = 3;
		PG_TRY();
		{
			ThrowErrorData(made);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(mcxt);
			copy = CopyErrorData();
			FlushErrorState();
			elog(LOG, "ep: caught thrown \"%s\" %s detail \"%s\" position %d",
				 copy->message, unpack_sql_state(copy->sqlerrcode), or_null(copy->detail),
				 copy->cursorpos);
			FreeErrorData(copy);
		}
		PG_END_TRY();
		elog(LOG, "ep: in error recursion trouble %d", (int) in_error_recursion_trouble());
	}
	elog(LOG, "ep: done");
}
