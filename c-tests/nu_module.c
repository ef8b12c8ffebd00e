/*
 * nu_module.c -- integers in text (pg_strtoint16/32/64, pg_itoa and
 * friends), identifiers (downcase_identifier, truncate_identifier,
 * scanner_isspace), hex (hex_encode, hex_decode) and NameData (namestrcpy,
 * namestrcmp), lists split by SplitIdentifierString and SplitGUCList,
 * pg_strong_random, timingsafe_bcmp and appendStringInfoStringQuoted,
 * with the ERRORs for bad input caught and printed. Runs in
 * _PG_init under bgworkerd and under a real PostgreSQL server
 * (tests/numutils_postgresql.rs compares the "nu:" lines; 16 and later
 * parse base prefixes and underscores, which the lines show).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "utils/builtins.h"
#include "utils/varlena.h"
#include "mb/stringinfo_mb.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static MemoryContext mcxt;

static void
report_caught(const char *what)
{
	ErrorData  *e;

	MemoryContextSwitchTo(mcxt);
	e = CopyErrorData();
	FlushErrorState();
	elog(LOG, "nu: %s: ERROR %s \"%s\"", what, unpack_sql_state(e->sqlerrcode), e->message);
	FreeErrorData(e);
}

static void
parse_all(const char *s)
{
	PG_TRY();
	{
		elog(LOG, "nu: int16 \"%s\" = %d", s, (int) pg_strtoint16(s));
	}
	PG_CATCH();
	{
		report_caught("int16");
	}
	PG_END_TRY();
	PG_TRY();
	{
		elog(LOG, "nu: int32 \"%s\" = %d", s, pg_strtoint32(s));
	}
	PG_CATCH();
	{
		report_caught("int32");
	}
	PG_END_TRY();
	PG_TRY();
	{
		elog(LOG, "nu: int64 \"%s\" = " INT64_FORMAT, s, pg_strtoint64(s));
	}
	PG_CATCH();
	{
		report_caught("int64");
	}
	PG_END_TRY();
}

static void
hex_round(const char *s)
{
	char		buf[64];
	char		hex[128];
	uint64		n;

	PG_TRY();
	{
		n = hex_decode(s, strlen(s), buf);
		hex[hex_encode(buf, (size_t) n, hex)] = '\0';
		elog(LOG, "nu: hex \"%s\" decodes to %d bytes, encodes back to %s", s, (int) n, hex);
	}
	PG_CATCH();
	{
		report_caught("hex");
	}
	PG_END_TRY();
}

static void
split_both(const char *input)
{
	for (int guc = 0; guc < 2; guc++)
	{
		char	   *raw = pstrdup(input);
		List	   *names = NIL;
		bool		ok = guc ? SplitGUCList(raw, ',', &names) : SplitIdentifierString(raw, ',', &names);
		StringInfoData out;
		ListCell   *lc;

		initStringInfo(&out);
		foreach(lc, names)
			appendStringInfo(&out, "[%s]", (char *) lfirst(lc));
		elog(LOG, "nu: %s ok %d %s", guc ? "SplitGUCList" : "SplitIdentifierString", (int) ok,
			 out.data);
	}
}

void
_PG_init(void)
{
	const char *inputs[] = {
		"0", "42", "-42", "+7", "  12  ", "\t\n 9\r\f", "", " ", "-", "12a", "1 2",
		"32767", "32768", "-32768", "-32769",
		"2147483647", "2147483648", "-2147483648", "-2147483649", "2147483649x",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "99999999999999999999", "0x1F", "0X7fff", "0o17",
		"0b101", "-0x8000", "0x", "1_000", "1__0", "_1", "1_", "0x_1F", "0b1_0",
		"007", "0x80000000", "-0x80000000",
	};
	char		buf[64];
	char	   *end;
	NameData	name;
	char	   *id;
	char		longid[100];

	mcxt = CurrentMemoryContext;
	for (int i = 0; i < (int) lengthof(inputs); i++)
		parse_all(inputs[i]);

	elog(LOG, "nu: pg_itoa %d \"%s\"", pg_itoa(-32768, buf), buf);
	elog(LOG, "nu: pg_ltoa %d \"%s\"", pg_ltoa(PG_INT32_MIN, buf), buf);
	elog(LOG, "nu: pg_ltoa %d \"%s\"", pg_ltoa(0, buf), buf);
	elog(LOG, "nu: pg_lltoa %d \"%s\"", pg_lltoa(PG_INT64_MIN, buf), buf);
	elog(LOG, "nu: pg_lltoa %d \"%s\"", pg_lltoa(PG_INT64_MAX, buf), buf);
	memset(buf, 'x', sizeof(buf));
	buf[pg_ultoa_n(4294967295U, buf)] = '\0';
	elog(LOG, "nu: pg_ultoa_n \"%s\"", buf);
	memset(buf, 'x', sizeof(buf));
	buf[pg_ulltoa_n(PG_UINT64_MAX, buf)] = '\0';
	elog(LOG, "nu: pg_ulltoa_n \"%s\"", buf);
	end = pg_ultostr(buf, 12345);
	*end = '\0';
	elog(LOG, "nu: pg_ultostr \"%s\"", buf);
	end = pg_ultostr_zeropad(buf, 42, 6);
	*end = '\0';
	elog(LOG, "nu: pg_ultostr_zeropad \"%s\"", buf);
	end = pg_ultostr_zeropad(buf, 1234567, 3);
	*end = '\0';
	elog(LOG, "nu: pg_ultostr_zeropad narrow \"%s\"", buf);

	id = downcase_truncate_identifier("MixedCase_Name9", 15, true);
	elog(LOG, "nu: downcased \"%s\"", id);
	memset(longid, 'A', 70);
	longid[70] = '\0';
	id = downcase_truncate_identifier(longid, 70, true);
	elog(LOG, "nu: long identifier cut to %d bytes", (int) strlen(id));
	id = downcase_identifier(longid, 70, false, false);
	elog(LOG, "nu: without cutting %d bytes", (int) strlen(id));
	memset(longid, 'b', 70);
	longid[70] = '\0';
	truncate_identifier(longid, 70, true);
	elog(LOG, "nu: truncated in place to %d bytes", (int) strlen(longid));
	for (int c = 0; c < 128; c++)
		if (scanner_isspace((char) c))
			elog(LOG, "nu: scanner space %d", c);

	hex_round("00ff10Ab");
	hex_round(" 01 02\n03\t04\r");
	hex_round("abc");
	hex_round("zz");
	hex_round("");

	namestrcpy(&name, "a_name");
	elog(LOG, "nu: namestrcpy \"%s\" pad %d", NameStr(name), (int) NameStr(name)[10]);
	memset(longid, 'n', 80);
	longid[80] = '\0';
	namestrcpy(&name, longid);
	elog(LOG, "nu: namestrcpy long %d", (int) strlen(NameStr(name)));
	namestrcpy(&name, "b");
	elog(LOG, "nu: namestrcmp %d %d %d %d", namestrcmp(&name, "a") > 0, namestrcmp(&name, "b"),
		 namestrcmp(&name, "c") < 0, namestrcmp(NULL, NULL));
	split_both("Alpha, \"Beta Gamma\" ,delta");
	split_both("  ");
	split_both("a,,b");
	split_both("\"unterminated");
	split_both("x\vY,\vz");
	split_both("LongNameLongNameLongNameLongNameLongNameLongNameLongNameLongNameLongName");
	{
		char		r1[32];
		char		r2[32];
		StringInfoData q;
		const char *quoted[] = {"plain", "it's", "''", "a'b'c'", "hello 'world'", ""};
		const int	maxlens[] = {-1, 0, 3, 8, 100};

		elog(LOG, "nu: strong random %d %d, the two differ %d, empty %d",
			 (int) pg_strong_random(r1, sizeof(r1)), (int) pg_strong_random(r2, sizeof(r2)),
			 memcmp(r1, r2, sizeof(r1)) != 0, (int) pg_strong_random(r1, 0));
		elog(LOG, "nu: timingsafe_bcmp equal %d, differ %d, empty %d",
			 timingsafe_bcmp("abcd", "abcd", 4) != 0, timingsafe_bcmp("abcd", "abce", 4) != 0,
			 timingsafe_bcmp("a", "b", 0) != 0);
		for (int i = 0; i < (int) lengthof(quoted); i++)
			for (int j = 0; j < (int) lengthof(maxlens); j++)
			{
				initStringInfo(&q);
				appendStringInfoString(&q, "<");
				appendStringInfoStringQuoted(&q, quoted[i], maxlens[j]);
				elog(LOG, "nu: quoted %d %s>", maxlens[j], q.data);
			}
	}
	elog(LOG, "nu: done");
}
