/*
 * fmgr.c -- fmgr's direct calls (fmgr.h) that need no catalog:
 * DirectFunctionCall1Coll .. DirectFunctionCall9Coll (a PGFunction called
 * without an FmgrInfo), FunctionCall0Coll .. FunctionCall9Coll (through an
 * FmgrInfo the caller filled: fn_addr, fn_oid) and CallerFInfoFunctionCall1
 * and 2 (a PGFunction called with the caller's FmgrInfo).
 *
 * Each builds a FunctionCallInfo as PostgreSQL's LOCAL_FCINFO and
 * InitFunctionCallInfoData do (no context, no result info, the collation
 * given, every argument not null), calls the function, and raises
 * PostgreSQL's ERROR when it returned NULL, which these callers cannot
 * take: "function %p returned NULL" (the function's address) for the
 * direct and caller-FmgrInfo forms, "function %u returned NULL" (fn_oid)
 * for the FmgrInfo form. An ERROR the function raises passes through.
 *
 * FunctionCallInfoBaseData and FmgrInfo have the same layout in
 * PostgreSQL 15, 17 and 18. Module code, one thread.
 */
#include "pgcompat.h"

#include <string.h>

typedef unsigned int Oid;

typedef struct NullableDatum
{
	Datum		value;
	bool		isnull;
} NullableDatum;

typedef struct FunctionCallInfoBaseData FunctionCallInfoBaseData;
typedef Datum (*PGFunction) (FunctionCallInfoBaseData *fcinfo);

/* The start of fmgr.h's FmgrInfo: what a call reads of it. */
typedef struct FmgrInfo
{
	PGFunction	fn_addr;
	Oid			fn_oid;
} FmgrInfo;

#define BGW_MAX_DIRECT_ARGS 9

/* fmgr.h's FunctionCallInfoBaseData with room for 9 arguments. */
struct FunctionCallInfoBaseData
{
	FmgrInfo   *flinfo;
	void	   *context;
	void	   *resultinfo;
	Oid			fncollation;
	bool		isnull;
	short		nargs;
	NullableDatum args[BGW_MAX_DIRECT_ARGS];
};

_Static_assert(offsetof(FunctionCallInfoBaseData, isnull) == 28, "fmgr.h's layout");
_Static_assert(offsetof(FunctionCallInfoBaseData, nargs) == 30, "fmgr.h's layout");
_Static_assert(offsetof(FunctionCallInfoBaseData, args) == 32, "fmgr.h's layout");
_Static_assert(sizeof(NullableDatum) == 16, "fmgr.h's layout");

/* Which of PostgreSQL's NULL-result messages a caller raises. */
enum null_report
{
	REPORT_FUNCTION,			/* "function %p returned NULL" */
	REPORT_OID,					/* "function %u returned NULL" */
};

static Datum
call(PGFunction func, FmgrInfo *flinfo, Oid collation, int nargs,
	 const Datum *args, enum null_report report)
{
	FunctionCallInfoBaseData fcinfo;
	Datum		result;

	fcinfo.flinfo = flinfo;
	fcinfo.context = NULL;
	fcinfo.resultinfo = NULL;
	fcinfo.fncollation = collation;
	fcinfo.isnull = false;
	fcinfo.nargs = (short) nargs;
	for (int i = 0; i < nargs; i++)
	{
		fcinfo.args[i].value = args[i];
		fcinfo.args[i].isnull = false;
	}
	result = func(&fcinfo);
	if (fcinfo.isnull)
	{
		if (report == REPORT_OID)
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("function %u returned NULL", flinfo->fn_oid));
		else
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("function %p returned NULL", (void *) func));
	}
	return result;
}

#define DIRECT(n, params, ...) \
	Datum \
	bgw_c_DirectFunctionCall##n##Coll(PGFunction func, Oid collation, params) \
	{ \
		return call(func, NULL, collation, n, (const Datum[]) {__VA_ARGS__}, REPORT_FUNCTION); \
	} \
	Datum \
	bgw_c_FunctionCall##n##Coll(FmgrInfo *flinfo, Oid collation, params) \
	{ \
		return call(flinfo->fn_addr, flinfo, collation, n, (const Datum[]) {__VA_ARGS__}, REPORT_OID); \
	}

#define P1 Datum arg1
#define P2 P1, Datum arg2
#define P3 P2, Datum arg3
#define P4 P3, Datum arg4
#define P5 P4, Datum arg5
#define P6 P5, Datum arg6
#define P7 P6, Datum arg7
#define P8 P7, Datum arg8
#define P9 P8, Datum arg9

DIRECT(1, P1, arg1)
DIRECT(2, P2, arg1, arg2)
DIRECT(3, P3, arg1, arg2, arg3)
DIRECT(4, P4, arg1, arg2, arg3, arg4)
DIRECT(5, P5, arg1, arg2, arg3, arg4, arg5)
DIRECT(6, P6, arg1, arg2, arg3, arg4, arg5, arg6)
DIRECT(7, P7, arg1, arg2, arg3, arg4, arg5, arg6, arg7)
DIRECT(8, P8, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8)
DIRECT(9, P9, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9)

Datum
bgw_c_FunctionCall0Coll(FmgrInfo *flinfo, Oid collation)
{
	return call(flinfo->fn_addr, flinfo, collation, 0, NULL, REPORT_OID);
}

Datum
bgw_c_CallerFInfoFunctionCall1(PGFunction func, FmgrInfo *flinfo, Oid collation, Datum arg1)
{
	return call(func, flinfo, collation, 1, (const Datum[]) {arg1}, REPORT_FUNCTION);
}

Datum
bgw_c_CallerFInfoFunctionCall2(PGFunction func, FmgrInfo *flinfo, Oid collation,
							   Datum arg1, Datum arg2)
{
	return call(func, flinfo, collation, 2, (const Datum[]) {arg1, arg2}, REPORT_FUNCTION);
}
