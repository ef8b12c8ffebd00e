/*
 * pq_module.c -- pqformat on StringInfo (libpq/pqformat.h): a binary
 * send value built with pq_begintypsend, the header's inline pq_sendint*
 * and the exported pq_send* functions, dumped byte by byte and read back
 * with pq_getmsg*; then PostgreSQL's ERRORs for short or malformed
 * messages (caught, with their SQLSTATEs). Run the same way under
 * bgworkerd and under a real PostgreSQL server
 * (tests/pqformat_postgresql.rs compares the "pq:" lines).
 */
#include "postgres.h"

#include <string.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "cx_worker.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "hex_dump.h"
#include "tagged_catch.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void pq_main(Datum arg);

#define CATCH(what, stmt) TAGGED_CATCH_CODE("pq", what, stmt)

/* A read-only message over `len` bytes at `data` (17's
 * initReadOnlyStringInfo, spelled out for 15). */
static void
message_over(StringInfo msg, char *data, int len)
{
	msg->data = data;
	msg->len = len;
	msg->maxlen = 0;
	msg->cursor = 0;
}

void
pq_main(Datum arg)
{
	StringInfoData buf;
	StringInfoData msg;
	bytea	   *value;
	int			nbytes;
	char	   *text;
	char		copy[8];
	char		nul_text[] = {'a', '\0', 'b'};

	(void) arg;
	pq_begintypsend(&buf);
	elog(LOG, "pq: begintypsend len %d bytes %s", buf.len, hex(buf.data, buf.len));
	pq_sendint8(&buf, 0xAB);
	pq_sendint16(&buf, 0x1234);
	pq_sendint32(&buf, 0xDEADBEEF);
	pq_sendint64(&buf, INT64CONST(-2));
	pq_sendfloat4(&buf, 1.5f);
	pq_sendfloat8(&buf, -2.25);
	pq_sendbytes(&buf, "abc", 3);
	pq_sendstring(&buf, "hello");
	pq_send_ascii_string(&buf, "h\xe9llo");
	pq_sendtext(&buf, "txt", 3);
#if PG_VERSION_NUM < 170000
	pq_sendcountedtext(&buf, "cnt", 3, false);
	pq_sendcountedtext(&buf, "self", 4, true);
#else
	pq_sendcountedtext(&buf, "cnt", 3);
	pq_sendcountedtext(&buf, "self", 4);
#endif
	elog(LOG, "pq: after sending len %d", buf.len);
	value = pq_endtypsend(&buf);
	elog(LOG, "pq: endtypsend VARSIZE %d same memory %d", (int) VARSIZE(value),
		 (char *) value == buf.data);
	elog(LOG, "pq: bytes %s", hex(value, VARSIZE(value)));

	message_over(&msg, VARDATA(value), VARSIZE(value) - VARHDRSZ);
	elog(LOG, "pq: getmsgint 1 %x", pq_getmsgint(&msg, 1));
	elog(LOG, "pq: getmsgint 2 %x", pq_getmsgint(&msg, 2));
	elog(LOG, "pq: getmsgint 4 %x", pq_getmsgint(&msg, 4));
	elog(LOG, "pq: getmsgint64 " INT64_FORMAT, pq_getmsgint64(&msg));
	elog(LOG, "pq: getmsgfloat4 %g", pq_getmsgfloat4(&msg));
	elog(LOG, "pq: getmsgfloat8 %g", pq_getmsgfloat8(&msg));
	pq_copymsgbytes(&msg, copy, 3);
	elog(LOG, "pq: copymsgbytes %.3s cursor %d", copy, msg.cursor);
	elog(LOG, "pq: getmsgstring \"%s\"", pq_getmsgstring(&msg));
	elog(LOG, "pq: getmsgrawstring \"%s\"", pq_getmsgrawstring(&msg));
	text = pq_getmsgtext(&msg, 3, &nbytes);
	elog(LOG, "pq: getmsgtext \"%s\" %d bytes, a copy %d", text, nbytes,
		 text < msg.data || text >= msg.data + msg.len);
	elog(LOG, "pq: counted length %u", pq_getmsgint(&msg, 4));
	elog(LOG, "pq: counted text %.3s", pq_getmsgbytes(&msg, 3));
	elog(LOG, "pq: counted length with itself %u", pq_getmsgint(&msg, 4));
	elog(LOG, "pq: counted text %.4s", pq_getmsgbytes(&msg, 4));
	CATCH("getmsgend at the end", pq_getmsgend(&msg));
	CATCH("getmsgbyte at the end", pq_getmsgbyte(&msg));
	CATCH("getmsgbytes(0) at the end", pq_getmsgbytes(&msg, 0));

	/* Short and malformed messages. */
	message_over(&msg, VARDATA(value), 3);
	elog(LOG, "pq: getmsgbyte %x", pq_getmsgbyte(&msg));
	CATCH("getmsgint 4 of 2 bytes", pq_getmsgint(&msg, 4));
	elog(LOG, "pq: cursor after the ERROR %d", msg.cursor);
	CATCH("getmsgint 3", pq_getmsgint(&msg, 3));
	CATCH("getmsgint64 of 2 bytes", pq_getmsgint64(&msg));
	CATCH("getmsgfloat8 of 2 bytes", pq_getmsgfloat8(&msg));
	CATCH("getmsgbytes(-1)", pq_getmsgbytes(&msg, -1));
	CATCH("copymsgbytes(5)", pq_copymsgbytes(&msg, copy, 5));
	CATCH("getmsgtext(9)", pq_getmsgtext(&msg, 9, &nbytes));
	CATCH("getmsgend with 2 bytes left", pq_getmsgend(&msg));
	{
		StringInfoData s;

		initStringInfo(&s);
		appendStringInfoString(&s, "unterminated");
		CATCH("getmsgstring without its NUL", pq_getmsgstring(&s));
		CATCH("getmsgrawstring without its NUL", pq_getmsgrawstring(&s));
		elog(LOG, "pq: cursor %d", s.cursor);
	}
	message_over(&msg, nul_text, 3);
	CATCH("getmsgtext with a NUL byte", pq_getmsgtext(&msg, 3, &nbytes));

	pq_beginmessage(&buf, 'D');
	elog(LOG, "pq: beginmessage type %c len %d", buf.cursor, buf.len);
	pq_sendint16(&buf, 1);
	pq_beginmessage_reuse(&buf, 'T');
	elog(LOG, "pq: beginmessage_reuse type %c len %d", buf.cursor, buf.len);
	elog(LOG, "pq: done");
	proc_exit(0);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	cx_register_worker("pq_module", "pq_main", "pq worker", "pq worker");
}
