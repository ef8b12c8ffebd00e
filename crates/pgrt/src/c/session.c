/*
 * session.c -- the statement and transaction timestamps (access/xact.h) of
 * a process that never connected to a database (its encodings are in
 * encoding.c).
 *
 * No transaction ever starts here (StartTransactionCommand
 * needs the database server), as in PostgreSQL's worker without a
 * connection:
 *   - GetCurrentTransactionStartTimestamp is 0, as is
 *     GetCurrentStatementStartTimestamp until SetCurrentStatementStartTimestamp
 *     sets it to the current time (a background worker is no parallel
 *     worker);
 *   - GetCurrentTransactionStopTimestamp is the current time: in
 *     PostgreSQL 15 on each call; from 16 on the first call's time is kept
 *     and returned again, as xact.c does outside a transaction.
 * Module code, one thread.
 */
#include "pgcompat.h"

extern int64_t bgw_c_GetCurrentTimestamp(void);
extern uint32_t bgw_rs_pg_major(void);

static int64_t stmt_start_timestamp;
static int64_t xact_stop_timestamp;

void
bgw_c_SetCurrentStatementStartTimestamp(void)
{
	stmt_start_timestamp = bgw_c_GetCurrentTimestamp();
}

int64_t
bgw_c_GetCurrentStatementStartTimestamp(void)
{
	return stmt_start_timestamp;
}

int64_t
bgw_c_GetCurrentTransactionStartTimestamp(void)
{
	return 0;
}

int64_t
bgw_c_GetCurrentTransactionStopTimestamp(void)
{
	if (xact_stop_timestamp != 0)
		return xact_stop_timestamp;
	if (bgw_rs_pg_major() < 16)
		return bgw_c_GetCurrentTimestamp();
	xact_stop_timestamp = bgw_c_GetCurrentTimestamp();
	return xact_stop_timestamp;
}
