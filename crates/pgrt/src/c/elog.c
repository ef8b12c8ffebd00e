/*
 * elog.c -- ereport/elog, PG_TRY support and the error data stack, with
 * PostgreSQL 15's semantics (utils/error/elog.c):
 *
 *   - errstart decides whether a report is made at all (log_min_messages;
 *     ERROR and above always) and promotes ERROR to FATAL when nobody can
 *     catch it (no PG_exception_stack, or proc_exit in progress) and to
 *     PANIC inside a critical section;
 *   - errfinish runs the error context callbacks, then: ERROR unwinds to
 *     the innermost PG_TRY (or the worker's own handler, which logs it and
 *     exits 1); below ERROR the report is logged and execution continues;
 *     FATAL logs and runs proc_exit(1); PANIC logs and aborts, which the
 *     supervisor treats as a crash.
 *
 * Strings hang off the error stack in malloc'd memory until the entry is
 * popped (errfinish below ERROR) or FlushErrorState. All of this runs in
 * the module's single thread.
 */
#include "pgcompat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ERRORDATA_STACK_SIZE 5

static ErrorData errordata[ERRORDATA_STACK_SIZE];
static int	errordata_stack_depth = -1;
static int	recursion_depth = 0;

static void free_strings(ErrorData *edata);

/* Called by modules through message_level_is_interesting(). */
bool
bgw_c_message_level_is_interesting(int elevel)
{
	return elevel >= ERROR || bgw_rs_log_enabled(elevel);
}

static bool
in_error_recursion_trouble(void)
{
	return recursion_depth > 2;
}

bool
bgw_c_errstart(int elevel, const char *domain)
{
	ErrorData  *edata;
	bool		output_to_server;
	int			i;

	if (elevel >= ERROR)
	{
		if (CritSectionCount > 0)
			elevel = PANIC;
		if (elevel == ERROR &&
			(PG_exception_stack == NULL || proc_exit_inprogress))
			elevel = FATAL;
		/* A report made while handling a worse one is at least as bad. */
		for (i = 0; i <= errordata_stack_depth; i++)
			if (errordata[i].elevel > elevel)
				elevel = errordata[i].elevel;
	}
	output_to_server = bgw_rs_log_enabled(elevel);
	if (elevel < ERROR && !output_to_server)
		return false;

	if (recursion_depth++ > 0 && elevel >= ERROR)
	{
		/* An error while reporting an error: drop the context callbacks,
		 * they may be what fails. */
		if (in_error_recursion_trouble())
			error_context_stack = NULL;
	}
	if (++errordata_stack_depth >= ERRORDATA_STACK_SIZE)
	{
		/* Too deep: start over with an empty stack and give up. */
		for (i = 0; i < ERRORDATA_STACK_SIZE; i++)
			free_strings(&errordata[i]);
		errordata_stack_depth = -1;
		bgw_ereport(PANIC, bgw_c_errmsg_internal("ERRORDATA_STACK_SIZE exceeded"));
	}
	edata = &errordata[errordata_stack_depth];
	memset(edata, 0, sizeof(ErrorData));
	edata->elevel = elevel;
	edata->output_to_server = output_to_server;
	edata->domain = domain;
	edata->context_domain = domain;
	if (elevel >= ERROR)
		edata->sqlerrcode = ERRCODE_INTERNAL_ERROR;
	else if (elevel >= WARNING)
		edata->sqlerrcode = ERRCODE_WARNING;
	else
		edata->sqlerrcode = ERRCODE_SUCCESSFUL_COMPLETION;
	/* errno at the call, for %m in the messages that follow */
	edata->saved_errno = errno;
	edata->assoc_context = NULL;
	recursion_depth--;
	return true;
}

bool
bgw_c_errstart_cold(int elevel, const char *domain)
{
	return bgw_c_errstart(elevel, domain);
}

static ErrorData *
top(void)
{
	if (errordata_stack_depth < 0)
	{
		/* An err*() call outside ereport(): PostgreSQL treats this as a
		 * broken caller. */
		errordata_stack_depth = -1;
		bgw_ereport(PANIC, bgw_c_errmsg_internal("errstart was not called"));
	}
	return &errordata[errordata_stack_depth];
}

void
bgw_c_errfinish(const char *filename, int lineno, const char *funcname)
{
	ErrorData  *edata = top();
	ErrorContextCallback *econtext;
	int			elevel;

	recursion_depth++;
	if (filename)
	{
		const char *slash = strrchr(filename, '/');

		filename = slash ? slash + 1 : filename;
	}
	edata->filename = filename;
	edata->lineno = lineno;
	edata->funcname = funcname;
	elevel = edata->elevel;

	/* Let the context callbacks add their CONTEXT lines. */
	for (econtext = error_context_stack; econtext != NULL;
		 econtext = econtext->previous)
		econtext->callback(econtext->arg);

	if (elevel == ERROR)
	{
		/* Whoever catches this starts from a clean interrupt state. */
		InterruptHoldoffCount = 0;
		QueryCancelHoldoffCount = 0;
		CritSectionCount = 0;
		recursion_depth--;
		bgw_c_pg_re_throw();
	}

	bgw_c_EmitErrorReport();

	free_strings(edata);
	errordata_stack_depth--;
	recursion_depth--;

	if (elevel == FATAL)
	{
		fflush(stdout);
		fflush(stderr);
		bgw_c_proc_exit(1);
	}
	if (elevel >= PANIC)
	{
		fflush(stdout);
		fflush(stderr);
		bgw_rs_before_exit();
		abort();
	}
	if (InterruptPending)
		bgw_c_ProcessInterrupts();
}

/*
 * printf-style formatting into a malloc'd string, with %m expanded to the
 * text of saved_errno. Never returns NULL (out of memory gives a fixed
 * string, as the report still has to be made).
 */
char *
bgw_c_vformat(const char *fmt, va_list args, int saved_errno)
{
	static char oom[] = "out of memory while formatting an error message";
	char		small[512];
	char	   *out;
	va_list		copy;
	int			n;
	int			save = errno;

	if (fmt == NULL)
		fmt = "";
	errno = saved_errno;
	va_copy(copy, args);
	n = bgw_c_pg_vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		out = strdup("could not format error message");
	else if ((size_t) n < sizeof(small))
		out = strdup(small);
	else
	{
		out = malloc((size_t) n + 1);
		if (out)
		{
			errno = saved_errno;
			bgw_c_pg_vsnprintf(out, (size_t) n + 1, fmt, args);
		}
	}
	errno = save;
	return out ? out : strdup(oom) ? : oom;
}

static void
set_field(char **field, const char *fmt, va_list args)
{
	ErrorData  *edata = top();
	char	   *text = bgw_c_vformat(fmt, args, edata->saved_errno);

	free(*field);
	*field = text;
}

#define SETTER(fname, field) \
int \
bgw_c_##fname(const char *fmt, ...) \
{ \
	va_list		args; \
	va_start(args, fmt); \
	set_field(&top()->field, fmt, args); \
	va_end(args); \
	return 0; \
}

SETTER(errmsg, message)
SETTER(errmsg_internal, message)
SETTER(errdetail, detail)
SETTER(errdetail_internal, detail)
SETTER(errdetail_log, detail_log)
SETTER(errhint, hint)

#define PLURAL_SETTER(fname, field) \
int \
bgw_c_##fname(const char *fmt_singular, const char *fmt_plural, \
			  unsigned long n, ...) \
{ \
	va_list		args; \
	va_start(args, n); \
	set_field(&top()->field, n == 1 ? fmt_singular : fmt_plural, args); \
	va_end(args); \
	return 0; \
}

PLURAL_SETTER(errmsg_plural, message)
PLURAL_SETTER(errdetail_plural, detail)
PLURAL_SETTER(errdetail_log_plural, detail_log)
PLURAL_SETTER(errhint_plural, hint)

/* errcontext(): each callback's line is appended, newline-separated. */
int
bgw_c_errcontext_msg(const char *fmt, ...)
{
	ErrorData  *edata = top();
	va_list		args;
	char	   *text;

	va_start(args, fmt);
	text = bgw_c_vformat(fmt, args, edata->saved_errno);
	va_end(args);
	if (edata->context == NULL)
		edata->context = text;
	else
	{
		size_t		a = strlen(edata->context),
					b = strlen(text);
		char	   *joined = malloc(a + b + 2);

		if (joined)
		{
			memcpy(joined, edata->context, a);
			joined[a] = '\n';
			memcpy(joined + a + 1, text, b + 1);
			free(edata->context);
			edata->context = joined;
		}
		free(text);
	}
	return 0;
}

int
bgw_c_set_errcontext_domain(const char *domain)
{
	top()->context_domain = domain;
	return 0;
}

int
bgw_c_errcode(int sqlerrcode)
{
	top()->sqlerrcode = sqlerrcode;
	return 0;
}

/* The SQLSTATE PostgreSQL gives each errno (elog.c's table). */
static int
errno_to_sqlstate(int e, bool socket)
{
	switch (e)
	{
		case EPERM:
		case EACCES:
#ifdef EROFS
		case EROFS:
#endif
			return MAKE_SQLSTATE('4', '2', '5', '0', '1');	/* insufficient_privilege */
		case ENOENT:
			return MAKE_SQLSTATE('5', '8', 'P', '0', '1');	/* undefined_file */
		case EEXIST:
			return MAKE_SQLSTATE('5', '8', 'P', '0', '2');	/* duplicate_file */
		case ENOTDIR:
		case EISDIR:
		case ENOTEMPTY:
			return MAKE_SQLSTATE('5', '5', '0', '0', '0');	/* object_not_in_prerequisite_state */
		case ENOSPC:
			return MAKE_SQLSTATE('5', '3', '1', '0', '0');	/* disk_full */
		case ENFILE:
		case EMFILE:
			return MAKE_SQLSTATE('5', '3', '0', '0', '0');	/* insufficient_resources */
		case EIO:
			return MAKE_SQLSTATE('5', '8', '0', '3', '0');	/* io_error */
		case EPIPE:
		case ECONNRESET:
			if (socket)
				return MAKE_SQLSTATE('0', '8', '0', '0', '6');	/* connection_failure */
			return ERRCODE_INTERNAL_ERROR;
		default:
			return socket ? MAKE_SQLSTATE('0', '8', '0', '0', '6') : ERRCODE_INTERNAL_ERROR;
	}
}

int
bgw_c_errcode_for_file_access(void)
{
	ErrorData  *edata = top();

	edata->sqlerrcode = errno_to_sqlstate(edata->saved_errno, false);
	return 0;
}

int
bgw_c_errcode_for_socket_access(void)
{
	ErrorData  *edata = top();

	edata->sqlerrcode = errno_to_sqlstate(edata->saved_errno, true);
	return 0;
}

/*
 * The CONTEXT lines the error context callbacks would add to a report made
 * now, one per line (PostgreSQL's form), palloc'd in CurrentMemoryContext;
 * NULL when they add none. Made on an entry of the error stack of its own,
 * as PostgreSQL does, so callbacks that call errcontext() work as usual.
 */
char *
bgw_c_GetErrorContextStack(void)
{
	ErrorData  *edata;
	ErrorContextCallback *econtext;
	char	   *result = NULL;

	recursion_depth++;
	if (++errordata_stack_depth >= ERRORDATA_STACK_SIZE)
	{
		for (int i = 0; i < ERRORDATA_STACK_SIZE; i++)
			free_strings(&errordata[i]);
		errordata_stack_depth = -1;
		bgw_ereport(PANIC, bgw_c_errmsg_internal("ERRORDATA_STACK_SIZE exceeded"));
	}
	edata = &errordata[errordata_stack_depth];
	memset(edata, 0, sizeof(ErrorData));
	edata->assoc_context = CurrentMemoryContext;
	for (econtext = error_context_stack; econtext != NULL; econtext = econtext->previous)
		econtext->callback(econtext->arg);
	if (edata->context)
		result = bgw_c_pstrdup(edata->context);
	free_strings(edata);
	errordata_stack_depth--;
	recursion_depth--;
	return result;
}

/* Nested error reports deep enough to give up on niceties (elog.c). */
bool
bgw_c_in_error_recursion_trouble(void)
{
	return in_error_recursion_trouble();
}

static char *
dup_or_keep(char *old, const char *s)
{
	if (s == NULL)
		return old;
	free(old);
	return strdup(s);
}

/*
 * Report an error described by an ErrorData the caller filled or copied
 * (its level, code, texts, identity fields and positions), as if raised
 * where it says: below ERROR it is logged and the call returns.
 */
void
bgw_c_ThrowErrorData(ErrorData *edata)
{
	ErrorData  *n;

	if (!bgw_c_errstart(edata->elevel, edata->domain))
		return;
	n = top();
	recursion_depth++;
	if (edata->sqlerrcode != 0)
		n->sqlerrcode = edata->sqlerrcode;
	n->message = dup_or_keep(n->message, edata->message);
	n->detail = dup_or_keep(n->detail, edata->detail);
	n->detail_log = dup_or_keep(n->detail_log, edata->detail_log);
	n->hint = dup_or_keep(n->hint, edata->hint);
	n->context = dup_or_keep(n->context, edata->context);
	n->backtrace = dup_or_keep(n->backtrace, edata->backtrace);
	n->schema_name = dup_or_keep(n->schema_name, edata->schema_name);
	n->table_name = dup_or_keep(n->table_name, edata->table_name);
	n->column_name = dup_or_keep(n->column_name, edata->column_name);
	n->datatype_name = dup_or_keep(n->datatype_name, edata->datatype_name);
	n->constraint_name = dup_or_keep(n->constraint_name, edata->constraint_name);
	n->internalquery = dup_or_keep(n->internalquery, edata->internalquery);
	n->cursorpos = edata->cursorpos;
	n->internalpos = edata->internalpos;
	recursion_depth--;
	bgw_c_errfinish(edata->filename, edata->lineno, edata->funcname);
}

/* The statement position an error refers to (1-based; 0: none). */
int
bgw_c_errposition(int cursorpos)
{
	top()->cursorpos = cursorpos;
	return 0;
}

/* A position in an internally generated query (internalerrquery). */
int
bgw_c_internalerrposition(int cursorpos)
{
	top()->internalpos = cursorpos;
	return 0;
}

/* The internally generated query an error refers to (NULL: none). */
int
bgw_c_internalerrquery(const char *query)
{
	ErrorData  *edata = top();

	free(edata->internalquery);
	edata->internalquery = query ? strdup(query) : NULL;
	return 0;
}

int
bgw_c_geterrposition(void)
{
	return top()->cursorpos;
}

int
bgw_c_getinternalerrposition(void)
{
	return top()->internalpos;
}

/*
 * A field of the error's object identity by PostgreSQL's PG_DIAG_* code:
 * schema 's', table 't', column 'c', data type 'd', constraint 'n'. An
 * unknown code is PostgreSQL's elog(ERROR) "unsupported ErrorData field id".
 */
int
bgw_c_err_generic_string(int field, const char *str)
{
	ErrorData  *edata = top();
	char	  **slot;

	switch (field)
	{
		case 's':
			slot = &edata->schema_name;
			break;
		case 't':
			slot = &edata->table_name;
			break;
		case 'c':
			slot = &edata->column_name;
			break;
		case 'd':
			slot = &edata->datatype_name;
			break;
		case 'n':
			slot = &edata->constraint_name;
			break;
		default:
			bgw_ereport(ERROR, bgw_c_errmsg_internal("unsupported ErrorData field id: %d", field));
			return 0;
	}
	if (str != NULL)
	{
		free(*slot);
		*slot = strdup(str);
	}
	return 0;
}

/* An error level's name as the log prints it ("???" for none). */
const char *
bgw_c_error_severity(int elevel)
{
	switch (elevel)
	{
		case 10:
		case 11:
		case 12:
		case 13:
		case DEBUG1:
			return "DEBUG";
		case LOG:
		case 16:				/* LOG_SERVER_ONLY */
			return "LOG";
		case INFO:
			return "INFO";
		case NOTICE:
			return "NOTICE";
		case WARNING:
		case 20:				/* WARNING_CLIENT_ONLY */
			return "WARNING";
		case ERROR:
			return "ERROR";
		case FATAL:
			return "FATAL";
		case PANIC:
			return "PANIC";
		default:
			return "???";
	}
}

int
bgw_c_errhidestmt(bool hide)
{
	top()->hide_stmt = hide;
	return 0;
}

int
bgw_c_errhidecontext(bool hide)
{
	top()->hide_ctx = hide;
	return 0;
}

int
bgw_c_geterrcode(void)
{
	return top()->sqlerrcode;
}

/* Write the top report to the server log (if it passed the level). */
void
bgw_c_EmitErrorReport(void)
{
	ErrorData  *edata = top();

	recursion_depth++;
	if (edata->output_to_server)
	{
		const char *message = edata->message ? edata->message : "missing error text";
		char	   *with_position = NULL;
		int			position = edata->cursorpos > 0 ? edata->cursorpos : edata->internalpos;

		/* the server log's form of an error position (elog.c) */
		if (position > 0 &&
			asprintf(&with_position, "%s at character %d", message, position) >= 0)
			message = with_position;
		bgw_rs_log_report(edata->elevel, message,
						  edata->detail_log ? edata->detail_log : edata->detail,
						  edata->hint, edata->internalquery,
						  edata->hide_ctx ? NULL : edata->context);
		free(with_position);
	}
	recursion_depth--;
}

static void
free_strings(ErrorData *edata)
{
	free(edata->message);
	free(edata->detail);
	free(edata->detail_log);
	free(edata->hint);
	free(edata->context);
	free(edata->backtrace);
	free(edata->internalquery);
	free(edata->schema_name);
	free(edata->table_name);
	free(edata->column_name);
	free(edata->datatype_name);
	free(edata->constraint_name);
	edata->message = edata->detail = edata->detail_log = NULL;
	edata->hint = edata->context = edata->backtrace = NULL;
	edata->internalquery = NULL;
	edata->schema_name = edata->table_name = edata->column_name = NULL;
	edata->datatype_name = edata->constraint_name = NULL;
}

void
bgw_c_FlushErrorState(void)
{
	while (errordata_stack_depth >= 0)
		free_strings(&errordata[errordata_stack_depth--]);
	recursion_depth = 0;
}

static char *
copy_string(const char *s)
{
	return s ? bgw_c_pstrdup(s) : NULL;
}

/* A palloc'd copy of the current error, in CurrentMemoryContext. */
ErrorData *
bgw_c_CopyErrorData(void)
{
	ErrorData  *edata = top();
	ErrorData  *copy = bgw_c_palloc(sizeof(ErrorData));

	memcpy(copy, edata, sizeof(ErrorData));
	copy->message = copy_string(edata->message);
	copy->detail = copy_string(edata->detail);
	copy->detail_log = copy_string(edata->detail_log);
	copy->hint = copy_string(edata->hint);
	copy->context = copy_string(edata->context);
	copy->backtrace = copy_string(edata->backtrace);
	copy->internalquery = copy_string(edata->internalquery);
	copy->schema_name = copy_string(edata->schema_name);
	copy->table_name = copy_string(edata->table_name);
	copy->column_name = copy_string(edata->column_name);
	copy->datatype_name = copy_string(edata->datatype_name);
	copy->constraint_name = copy_string(edata->constraint_name);
	copy->assoc_context = CurrentMemoryContext;
	return copy;
}

void
bgw_c_FreeErrorData(ErrorData *edata)
{
	char	   *fields[] = {edata->message, edata->detail, edata->detail_log,
		edata->hint, edata->context, edata->backtrace, edata->internalquery,
		edata->schema_name, edata->table_name, edata->column_name, edata->datatype_name,
	edata->constraint_name};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i])
			bgw_rs_pfree(fields[i]);
	bgw_rs_pfree(edata);
}

static char *
dup_malloc(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Push a copy of edata and throw it again (PG_CATCH after CopyErrorData). */
void
bgw_c_ReThrowError(ErrorData *edata)
{
	ErrorData  *n;

	recursion_depth++;
	if (++errordata_stack_depth >= ERRORDATA_STACK_SIZE)
	{
		errordata_stack_depth = -1;
		bgw_ereport(PANIC, bgw_c_errmsg_internal("ERRORDATA_STACK_SIZE exceeded"));
	}
	n = &errordata[errordata_stack_depth];
	memcpy(n, edata, sizeof(ErrorData));
	n->message = dup_malloc(edata->message);
	n->detail = dup_malloc(edata->detail);
	n->detail_log = dup_malloc(edata->detail_log);
	n->hint = dup_malloc(edata->hint);
	n->context = dup_malloc(edata->context);
	n->backtrace = dup_malloc(edata->backtrace);
	n->internalquery = dup_malloc(edata->internalquery);
	n->schema_name = dup_malloc(edata->schema_name);
	n->table_name = dup_malloc(edata->table_name);
	n->column_name = dup_malloc(edata->column_name);
	n->datatype_name = dup_malloc(edata->datatype_name);
	n->constraint_name = dup_malloc(edata->constraint_name);
	n->assoc_context = NULL;
	recursion_depth--;
	bgw_c_pg_re_throw();
}

/*
 * Unwind to the innermost PG_TRY. With none, the ERROR becomes FATAL: it is
 * logged and the process exits through proc_exit(1).
 */
void
bgw_c_pg_re_throw(void)
{
	if (PG_exception_stack != NULL)
		siglongjmp(*PG_exception_stack, 1);
	else
	{
		ErrorData  *edata = top();

		edata->elevel = FATAL;
		edata->output_to_server = bgw_rs_log_enabled(FATAL);
		error_context_stack = NULL;
		bgw_c_errfinish(edata->filename, edata->lineno, edata->funcname);
	}
	abort();
}

/* Raise the error a Rust body recorded (see src/compat/mod.rs). */
void
bgw_c_raise_pending(void)
{
	int			elevel,
				code;
	char	   *message,
			   *detail,
			   *hint;

	if (!bgw_rs_take_error(&elevel, &code, &message, &detail, &hint))
		return;
	if (elevel < 0)
	{
		/* An ERROR caught by bgw_c_call_caught, still on the stack. */
		bgw_c_pg_re_throw();
	}
	if (bgw_c_errstart(elevel, NULL))
	{
		bgw_c_errcode(code);
		bgw_c_errmsg_internal("%s", message);
		if (detail)
			bgw_c_errdetail_internal("%s", detail);
		if (hint)
			bgw_c_errhint("%s", hint);
		free(message);
		free(detail);
		free(hint);
		bgw_c_errfinish(NULL, 0, NULL);
	}
	else
	{
		free(message);
		free(detail);
		free(hint);
	}
}

/*
 * GUC_check_errmsg() and friends expand to pre_format_elog_string(errno,
 * domain) followed by a variable = format_elog_string(...): the errno of
 * the first call is what %m prints in the second. The result is palloc'd.
 */
static int	format_errnumber;

void
bgw_c_pre_format_elog_string(int errnumber, const char *domain)
{
	(void) domain;
	format_errnumber = errnumber;
}

char *
bgw_c_format_elog_string(const char *fmt, ...)
{
	va_list		args;
	char	   *text;
	char	   *copy;

	va_start(args, fmt);
	text = bgw_c_vformat(fmt, args, format_errnumber);
	va_end(args);
	copy = bgw_c_pstrdup(text);
	free(text);
	return copy;
}

/* write_stderr(): straight to stderr, as in a PostgreSQL backend. */
void
bgw_c_write_stderr(const char *fmt, ...)
{
	va_list		args;

	va_start(args, fmt);
	bgw_c_pg_vfprintf(stderr, fmt, args);
	va_end(args);
	fflush(stderr);
}

/* The five-character SQLSTATE of a packed code, in a static buffer. */
char *
bgw_c_unpack_sql_state(int sql_state)
{
	static char buf[12];
	int			i;

	for (i = 0; i < 5; i++)
	{
		buf[i] = (char) ((sql_state & 0x3F) + '0');
		sql_state >>= 6;
	}
	buf[i] = '\0';
	return buf;
}
