/*
 * sl_module.c -- a module that calls functions of libraries PostgreSQL's
 * server links (zstd, OpenSSL, LZ4, zlib, libxml2) without linking any of
 * them itself, as Debian-built modules do (their _PG_init runs in a server
 * process that has them). tests/server_libraries_postgresql.rs runs it
 * under the real PostgreSQL 15 server and under bgworkerd and compares
 * the "sl:" lines.
 *
 * The prototypes are the libraries' own (zstd.h, openssl/crypto.h, lz4.h,
 * zlib.h, libxml/parserInternals.h), declared here so that building the
 * module needs none of their development packages.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

extern unsigned ZSTD_versionNumber(void);
extern const char *OpenSSL_version(int type);	/* OPENSSL_VERSION is 0 */
extern unsigned long OpenSSL_version_num(void);
extern int	LZ4_versionNumber(void);
extern const char *zlibVersion(void);
extern const char *const xmlParserVersion;	/* a variable, not a function */

void
_PG_init(void)
{
	elog(LOG, "sl: zstd %u", ZSTD_versionNumber());
	elog(LOG, "sl: openssl %s (%lx)", OpenSSL_version(0), OpenSSL_version_num());
	elog(LOG, "sl: lz4 %d", LZ4_versionNumber());
	elog(LOG, "sl: zlib %s", zlibVersion());
	elog(LOG, "sl: libxml2 %s", xmlParserVersion);
	elog(LOG, "sl: done");
}
