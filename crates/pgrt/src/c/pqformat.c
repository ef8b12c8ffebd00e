/*
 * pqformat.c -- building and reading protocol messages and binary send/
 * receive values in a StringInfo (libpq/pqformat.h), with PostgreSQL's
 * semantics and ERRORs: pq_beginmessage / pq_beginmessage_reuse (the
 * message type kept in the cursor), pq_sendbytes, pq_sendcountedtext (15's
 * with its countincludesself argument, 17's and 18's without),
 * pq_sendtext, pq_sendstring, pq_send_ascii_string, pq_sendfloat4/8,
 * pq_begintypsend / pq_endtypsend, and the pq_getmsg* readers with
 * pq_copymsgbytes and pq_getmsgend. The integers the header's inline
 * pq_sendint* write are big-endian, as here.
 *
 * Sending a message to a client (pq_endmessage, pq_puttextmessage, ...)
 * needs a client connection and is not here. Text goes through the
 * session's encoding conversion as in PostgreSQL (pg_server_to_client,
 * pg_client_to_server: c/encoding.c); a worker without a database has
 * SQL_ASCII as both encodings, so nothing is converted, and text read
 * from a message is checked as SQL_ASCII (no NUL bytes).
 *
 * Module code, one thread.
 */
#include <string.h>

#include "pgcompat.h"

#define ERRCODE_PROTOCOL_VIOLATION MAKE_SQLSTATE('0','8','P','0','1')

extern void bgw_c_initStringInfo(StringInfo str);
extern void bgw_c_resetStringInfo(StringInfo str);
extern void bgw_c_enlargeStringInfo(StringInfo str, int needed);
extern void bgw_c_appendBinaryStringInfo(StringInfo str, const void *data, int datalen);
extern void bgw_c_appendBinaryStringInfoNT(StringInfo str, const void *data, int datalen);
extern void bgw_c_appendStringInfoChar(StringInfo str, char ch);
extern uint32_t bgw_rs_pg_major(void);
extern char *bgw_c_pg_client_to_server(const char *s, int len);
extern char *bgw_c_pg_server_to_client(const char *s, int len);
extern void bgw_c_pfree(void *pointer);
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);

static void
send_uint32(StringInfo buf, uint32_t i)
{
	uint32_t	n = __builtin_bswap32(i);

	bgw_c_enlargeStringInfo(buf, sizeof(n));
	memcpy(buf->data + buf->len, &n, sizeof(n));
	buf->len += sizeof(n);
	buf->data[buf->len] = '\0';
}

static void
send_uint64(StringInfo buf, uint64_t i)
{
	uint64_t	n = __builtin_bswap64(i);

	bgw_c_enlargeStringInfo(buf, sizeof(n));
	memcpy(buf->data + buf->len, &n, sizeof(n));
	buf->len += sizeof(n);
	buf->data[buf->len] = '\0';
}

BGW_NORETURN static void
protocol_violation(const char *message)
{
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_PROTOCOL_VIOLATION),
				bgw_c_errmsg("%s", message));
	__builtin_unreachable();
}

void
bgw_c_pq_beginmessage(StringInfo buf, char msgtype)
{
	bgw_c_initStringInfo(buf);
	buf->cursor = msgtype;
}

void
bgw_c_pq_beginmessage_reuse(StringInfo buf, char msgtype)
{
	bgw_c_resetStringInfo(buf);
	buf->cursor = msgtype;
}

void
bgw_c_pq_sendbytes(StringInfo buf, const void *data, int datalen)
{
	bgw_c_appendBinaryStringInfo(buf, data, datalen);
}

/* The length (plus 4 when 15's countincludesself is true), then the text.
 * 17 and 18 have no fourth argument: its register is not read. */
void
bgw_c_pq_sendcountedtext(StringInfo buf, const char *str, int slen, bool countincludesself)
{
	int			extra = bgw_rs_pg_major() < 17 && countincludesself ? 4 : 0;
	char	   *p = bgw_c_pg_server_to_client(str, slen);

	if (p != str)
	{
		slen = (int) strlen(p);
		send_uint32(buf, (uint32_t) (slen + extra));
		bgw_c_appendBinaryStringInfoNT(buf, p, slen);
		bgw_c_pfree(p);
		return;
	}
	send_uint32(buf, (uint32_t) (slen + extra));
	bgw_c_appendBinaryStringInfoNT(buf, str, slen);
}

void
bgw_c_pq_sendtext(StringInfo buf, const char *str, int slen)
{
	char	   *p = bgw_c_pg_server_to_client(str, slen);

	if (p != str)
	{
		bgw_c_appendBinaryStringInfo(buf, p, (int) strlen(p));
		bgw_c_pfree(p);
		return;
	}
	bgw_c_appendBinaryStringInfo(buf, str, slen);
}

void
bgw_c_pq_sendstring(StringInfo buf, const char *str)
{
	int			slen = (int) strlen(str);
	char	   *p = bgw_c_pg_server_to_client(str, slen);

	if (p != str)
	{
		bgw_c_appendBinaryStringInfoNT(buf, p, (int) strlen(p) + 1);
		bgw_c_pfree(p);
		return;
	}
	bgw_c_appendBinaryStringInfoNT(buf, str, slen + 1);
}

/* Bytes with the high bit set become '?'. */
void
bgw_c_pq_send_ascii_string(StringInfo buf, const char *str)
{
	while (*str)
	{
		char		ch = *str++;

		if (ch & 0x80)
			ch = '?';
		bgw_c_appendStringInfoChar(buf, ch);
	}
	bgw_c_appendStringInfoChar(buf, '\0');
}

void
bgw_c_pq_sendfloat4(StringInfo buf, float f)
{
	uint32_t	i;

	memcpy(&i, &f, sizeof(i));
	send_uint32(buf, i);
}

void
bgw_c_pq_sendfloat8(StringInfo buf, double f)
{
	uint64_t	i;

	memcpy(&i, &f, sizeof(i));
	send_uint64(buf, i);
}

/* A bytea under construction: four bytes for its length word. */
void
bgw_c_pq_begintypsend(StringInfo buf)
{
	bgw_c_initStringInfo(buf);
	for (int i = 0; i < 4; i++)
		bgw_c_appendStringInfoChar(buf, '\0');
}

void *
bgw_c_pq_endtypsend(StringInfo buf)
{
	uint32_t	h = (uint32_t) buf->len << 2;

	memcpy(buf->data, &h, sizeof(h));
	return buf->data;
}

int
bgw_c_pq_getmsgbyte(StringInfo msg)
{
	if (msg->cursor >= msg->len)
		protocol_violation("no data left in message");
	return (unsigned char) msg->data[msg->cursor++];
}

void
bgw_c_pq_copymsgbytes(StringInfo msg, void *buf, int datalen)
{
	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		protocol_violation("insufficient data left in message");
	memcpy(buf, &msg->data[msg->cursor], datalen);
	msg->cursor += datalen;
}

unsigned int
bgw_c_pq_getmsgint(StringInfo msg, int b)
{
	unsigned char n8;
	uint16_t	n16;
	uint32_t	n32;

	switch (b)
	{
		case 1:
			bgw_c_pq_copymsgbytes(msg, &n8, 1);
			return n8;
		case 2:
			bgw_c_pq_copymsgbytes(msg, &n16, 2);
			return __builtin_bswap16(n16);
		case 4:
			bgw_c_pq_copymsgbytes(msg, &n32, 4);
			return __builtin_bswap32(n32);
		default:
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("unsupported integer size %d", b));
			return 0;
	}
}

int64_t
bgw_c_pq_getmsgint64(StringInfo msg)
{
	uint64_t	n64;

	bgw_c_pq_copymsgbytes(msg, &n64, sizeof(n64));
	return (int64_t) __builtin_bswap64(n64);
}

float
bgw_c_pq_getmsgfloat4(StringInfo msg)
{
	uint32_t	i = bgw_c_pq_getmsgint(msg, 4);
	float		f;

	memcpy(&f, &i, sizeof(f));
	return f;
}

double
bgw_c_pq_getmsgfloat8(StringInfo msg)
{
	int64_t		i = bgw_c_pq_getmsgint64(msg);
	double		f;

	memcpy(&f, &i, sizeof(f));
	return f;
}

/* `datalen` bytes in the message itself (no copy). */
const char *
bgw_c_pq_getmsgbytes(StringInfo msg, int datalen)
{
	const char *result;

	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		protocol_violation("insufficient data left in message");
	result = &msg->data[msg->cursor];
	msg->cursor += datalen;
	return result;
}

/* A palloc'd, NUL-terminated copy of `rawbytes` bytes of text, in the
 * server's encoding. */
char *
bgw_c_pq_getmsgtext(StringInfo msg, int rawbytes, int *nbytes)
{
	char	   *str;
	char	   *p;

	if (rawbytes < 0 || rawbytes > (msg->len - msg->cursor))
		protocol_violation("insufficient data left in message");
	str = &msg->data[msg->cursor];
	msg->cursor += rawbytes;
	p = bgw_c_pg_client_to_server(str, rawbytes);
	if (p != str)
		*nbytes = (int) strlen(p);
	else
	{
		p = bgw_c_palloc((Size) rawbytes + 1);
		memcpy(p, str, rawbytes);
		p[rawbytes] = '\0';
		*nbytes = rawbytes;
	}
	return p;
}

/* A NUL-terminated string in the message; one not terminated within the
 * message is PostgreSQL's ERROR. */
static char *
msg_string(StringInfo msg, int *slen)
{
	char	   *str = &msg->data[msg->cursor];

	*slen = (int) strlen(str);
	if (msg->cursor + *slen >= msg->len)
		protocol_violation("invalid string in message");
	msg->cursor += *slen + 1;
	return str;
}

/* The string in the server's encoding (in the message itself when not
 * converted). */
const char *
bgw_c_pq_getmsgstring(StringInfo msg)
{
	int			slen;
	char	   *str = msg_string(msg, &slen);

	return bgw_c_pg_client_to_server(str, slen);
}

/* The string as it is in the message. */
const char *
bgw_c_pq_getmsgrawstring(StringInfo msg)
{
	int			slen;

	return msg_string(msg, &slen);
}

void
bgw_c_pq_getmsgend(StringInfo msg)
{
	if (msg->cursor != msg->len)
		protocol_violation("invalid message format");
}
