/*
 * tagged_catch.h -- TAGGED_CATCH(tag, what, stmt): run `stmt` in a module
 * and log either "TAG: WHAT: no error" or the ERROR it raised, as "TAG:
 * WHAT: ERROR message | detail | hint (level)", so that the modules the
 * tests run under bgworkerd and under a real server print comparable
 * lines. The error is flushed and the caller's memory context restored.
 *
 * TAGGED_CATCH_CODE(tag, what, stmt) logs "TAG: WHAT: ERROR message
 * (SQLSTATE)" instead, for modules whose errors differ by their code.
 */
#ifndef TAGGED_CATCH_H
#define TAGGED_CATCH_H

#include "utils/elog.h"
#include "utils/memutils.h"

/* Run `stmt`; on an ERROR, `report` logs it through ed_ (its copy). */
#define TAGGED_CATCH_REPORT(tag, what, stmt, report) \
	do { \
		MemoryContext ctx_ = CurrentMemoryContext; \
		PG_TRY(); \
		{ \
			stmt; \
			elog(LOG, tag ": %s: no error", what); \
		} \
		PG_CATCH(); \
		{ \
			ErrorData  *ed_; \
			MemoryContextSwitchTo(ctx_); \
			ed_ = CopyErrorData(); \
			FlushErrorState(); \
			report; \
			FreeErrorData(ed_); \
		} \
		PG_END_TRY(); \
	} while (0)

#define TAGGED_CATCH(tag, what, stmt) \
	TAGGED_CATCH_REPORT(tag, what, stmt, \
						elog(LOG, tag ": %s: ERROR %s | %s | %s (%s)", what, ed_->message, \
							 ed_->detail ? ed_->detail : "-", ed_->hint ? ed_->hint : "-", \
							 ed_->elevel == ERROR ? "ERROR" : "other"))

#define TAGGED_CATCH_CODE(tag, what, stmt) \
	TAGGED_CATCH_REPORT(tag, what, stmt, \
						elog(LOG, tag ": %s: %s %s (%s)", what, \
							 ed_->elevel == ERROR ? "ERROR" : "other", ed_->message, \
							 unpack_sql_state(ed_->sqlerrcode)))

#endif
