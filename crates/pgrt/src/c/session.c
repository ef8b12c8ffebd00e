/*
 * session.c -- what a process that never connected to a database sees of
 * its session: encodings (mb/pg_wchar.h) and the statement and transaction
 * timestamps (access/xact.h).
 *
 * Encodings: PostgreSQL sets the database encoding when a backend connects
 * (and the client encoding with it); before that, and so in a background
 * worker without a database connection, both are SQL_ASCII (0), whose
 * characters are single bytes.
 *
 * Timestamps: no transaction ever starts here (StartTransactionCommand
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

#define PG_SQL_ASCII 0

extern int64_t bgw_c_GetCurrentTimestamp(void);
extern uint32_t bgw_rs_pg_major(void);

static int64_t stmt_start_timestamp;
static int64_t xact_stop_timestamp;

int
bgw_c_GetDatabaseEncoding(void)
{
	return PG_SQL_ASCII;
}

const char *
bgw_c_GetDatabaseEncodingName(void)
{
	return "SQL_ASCII";
}

int
bgw_c_pg_database_encoding_max_length(void)
{
	return 1;
}

int
bgw_c_pg_get_client_encoding(void)
{
	return PG_SQL_ASCII;
}

const char *
bgw_c_pg_get_client_encoding_name(void)
{
	return "SQL_ASCII";
}

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
