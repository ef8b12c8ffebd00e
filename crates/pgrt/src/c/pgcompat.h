/*
 * pgcompat.h -- declarations shared by the C half of the PostgreSQL
 * compatibility runtime (see src/compat/mod.rs for the C/Rust split).
 *
 * The structures here repeat PostgreSQL 15's layouts (utils/elog.h,
 * lib/stringinfo.h) because modules compile field offsets into their code;
 * tests/compat.rs checks them against the real server headers.
 *
 * Everything defined in these files has hidden visibility: what modules
 * call is exported under PostgreSQL's name by src/compat/mod.rs.
 */
#ifndef BGW_PGCOMPAT_H
#define BGW_PGCOMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BGW_FMT(a, b) __attribute__((format(printf, a, b)))
#define BGW_NORETURN __attribute__((noreturn))

/* Error levels (utils/elog.h). */
#define DEBUG5 10
#define DEBUG1 14
#define LOG 15
#define INFO 17
#define NOTICE 18
#define WARNING 19
#define ERROR 21
#define FATAL 22
#define PANIC 23

#define PGSIXBIT(ch) (((ch) - '0') & 0x3F)
#define MAKE_SQLSTATE(c1, c2, c3, c4, c5) \
	(PGSIXBIT(c1) + (PGSIXBIT(c2) << 6) + (PGSIXBIT(c3) << 12) + \
	 (PGSIXBIT(c4) << 18) + (PGSIXBIT(c5) << 24))
#define ERRCODE_SUCCESSFUL_COMPLETION MAKE_SQLSTATE('0','0','0','0','0')
#define ERRCODE_WARNING MAKE_SQLSTATE('0','1','0','0','0')
#define ERRCODE_INTERNAL_ERROR MAKE_SQLSTATE('X','X','0','0','0')
#define ERRCODE_OUT_OF_MEMORY MAKE_SQLSTATE('5','3','2','0','0')
#define ERRCODE_ADMIN_SHUTDOWN MAKE_SQLSTATE('5','7','P','0','1')
#define ERRCODE_QUERY_CANCELED MAKE_SQLSTATE('5','7','0','1','4')
#define ERRCODE_PROGRAM_LIMIT_EXCEEDED MAKE_SQLSTATE('5','4','0','0','0')

typedef size_t Size;
typedef uintptr_t Datum;
typedef struct MemoryContextData *MemoryContext;

/* utils/elog.h, PostgreSQL 15 (184 bytes on LP64). */
typedef struct ErrorData
{
	int			elevel;
	bool		output_to_server;
	bool		output_to_client;
	bool		hide_stmt;
	bool		hide_ctx;
	const char *filename;
	int			lineno;
	const char *funcname;
	const char *domain;
	const char *context_domain;
	int			sqlerrcode;
	char	   *message;
	char	   *detail;
	char	   *detail_log;
	char	   *hint;
	char	   *context;
	char	   *backtrace;
	const char *message_id;
	char	   *schema_name;
	char	   *table_name;
	char	   *column_name;
	char	   *datatype_name;
	char	   *constraint_name;
	int			cursorpos;
	int			internalpos;
	char	   *internalquery;
	int			saved_errno;
	MemoryContext assoc_context;
} ErrorData;

typedef struct ErrorContextCallback
{
	struct ErrorContextCallback *previous;
	void		(*callback) (void *arg);
	void	   *arg;
} ErrorContextCallback;

/* lib/stringinfo.h */
typedef struct StringInfoData
{
	char	   *data;
	int			len;
	int			maxlen;
	int			cursor;
} StringInfoData;
typedef StringInfoData *StringInfo;

#define MaxAllocSize ((Size) 0x3fffffff)

/* Exported variables, defined in Rust (the src/compat modules). */
extern sigjmp_buf *PG_exception_stack;
extern ErrorContextCallback *error_context_stack;
extern volatile sig_atomic_t InterruptPending;
extern volatile sig_atomic_t ProcDiePending;
extern volatile sig_atomic_t QueryCancelPending;
extern volatile uint32_t InterruptHoldoffCount;
extern volatile uint32_t QueryCancelHoldoffCount;
extern volatile uint32_t CritSectionCount;
extern bool proc_exit_inprogress;
extern int	MyProcPid;
extern MemoryContext CurrentMemoryContext;

/* Rust services (src/compat/elog.rs, mcxt.rs, misc.rs). */
extern bool bgw_rs_log_enabled(int elevel);
extern void bgw_rs_log_report(int elevel, const char *message,
							  const char *detail, const char *hint,
							  const char *query, const char *context);
extern bool bgw_rs_take_error(int *elevel, int *sqlerrcode,
							  char **message, char **detail, char **hint);
extern const char *bgw_rs_worker_type(void);
extern bool bgw_rs_is_worker(void);
extern void bgw_rs_before_exit(void);
extern void *bgw_rs_palloc(Size size, int flags);
extern void *bgw_rs_repalloc(void *pointer, Size size);
extern void bgw_rs_pfree(void *pointer);

/* C services shared between the files here. */
void		bgw_c_raise_pending(void);
bool		bgw_c_errstart(int elevel, const char *domain);
void		bgw_c_errfinish(const char *filename, int lineno, const char *funcname);
int			bgw_c_errmsg_internal(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errdetail_internal(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errcode(int sqlerrcode);
void		bgw_c_pg_re_throw(void) BGW_NORETURN;
void		bgw_c_proc_exit(int code) BGW_NORETURN;
void		bgw_c_ProcessInterrupts(void);
char	   *bgw_c_vformat(const char *fmt, va_list args, int saved_errno);
size_t		bgw_c_pvsnprintf(char *buf, size_t len, const char *fmt, va_list args);
void	   *bgw_c_palloc(Size size);
void	   *bgw_c_repalloc(void *pointer, Size size);
void		bgw_c_EmitErrorReport(void);
void		bgw_c_FlushErrorState(void);
int			bgw_c_pg_vsnprintf(char *str, size_t count, const char *fmt, va_list args);
int			bgw_c_pg_vfprintf(FILE *stream, const char *fmt, va_list args);
char	   *bgw_c_pstrdup(const char *in);

/* Node tags of the nodes this runtime makes, per major (c/nodes.c). */
enum BgwNodeTag
{
	BGW_T_List,
	BGW_T_IntList,
	BGW_T_OidList,
	BGW_T_XidList,
	BGW_T_Integer,
	BGW_T_Float,
	BGW_T_Boolean,
	BGW_T_String,
	BGW_T_BitString,
	BGW_T_Bitmapset,
};
int			bgw_c_node_tag(enum BgwNodeTag tag);
bool		bgw_c_equal(const void *a, const void *b);
void	   *bgw_c_copyObjectImpl(const void *from);

/* The start of an expanded object's header (utils/expandeddatum.h): its
 * flat size and flattening, which varlena.c and datum.c read. */
typedef struct ExpandedObjectMethods
{
	Size		(*get_flat_size) (void *eohptr);
	void		(*flatten_into) (void *eohptr, void *result, Size allocated_size);
} ExpandedObjectMethods;

typedef struct ExpandedObjectHeader
{
	int32_t		vl_len_;
	const ExpandedObjectMethods *eoh_methods;
} ExpandedObjectHeader;

/* ereport for the C files here (the same path modules take). */
#define bgw_ereport(elevel, ...) \
	do { \
		if (bgw_c_errstart(elevel, NULL)) \
		{ \
			__VA_ARGS__; \
			bgw_c_errfinish(__FILE__, __LINE__, __func__); \
		} \
		if ((elevel) >= ERROR) \
			__builtin_unreachable(); \
	} while (0)

#endif
