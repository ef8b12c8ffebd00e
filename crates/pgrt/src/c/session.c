/*
 * session.c -- the transaction state and the statement and transaction
 * timestamps (access/xact.h) of a process that never connected to a
 * database (its encodings are in encoding.c).
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
 *     and returned again, as xact.c does outside a transaction;
 *   - the state is xact.c's before any transaction: not in a transaction,
 *     a transaction block, a subtransaction or parallel mode, nesting level
 *     0, no transaction or subtransaction id (0), command id 0, block
 *     status 'I' (idle).
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

bool
bgw_c_IsTransactionState(void)
{
	return false;
}

bool
bgw_c_IsAbortedTransactionBlockState(void)
{
	return false;
}

bool
bgw_c_IsTransactionBlock(void)
{
	return false;
}

bool
bgw_c_IsTransactionOrTransactionBlock(void)
{
	return false;
}

bool
bgw_c_IsSubTransaction(void)
{
	return false;
}

bool
bgw_c_IsInParallelMode(void)
{
	return false;
}

int
bgw_c_GetCurrentTransactionNestLevel(void)
{
	return 0;
}

char
bgw_c_TransactionBlockStatusCode(void)
{
	return 'I';
}

/* TransactionId, SubTransactionId, CommandId: 32 bits; FullTransactionId: 64. */
uint32_t
bgw_c_GetTopTransactionIdIfAny(void)
{
	return 0;
}

uint32_t
bgw_c_GetCurrentTransactionIdIfAny(void)
{
	return 0;
}

uint64_t
bgw_c_GetTopFullTransactionIdIfAny(void)
{
	return 0;
}

uint64_t
bgw_c_GetCurrentFullTransactionIdIfAny(void)
{
	return 0;
}

uint32_t
bgw_c_GetCurrentSubTransactionId(void)
{
	return 0;
}

uint32_t
bgw_c_GetCurrentCommandId(bool used)
{
	(void) used;
	return 0;
}
