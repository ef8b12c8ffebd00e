/*
 * hex_dump.h -- hex(p, n): `n` bytes at `p` as lower-case hex digits, for
 * the comparison modules that print values byte for byte. The text lives
 * in one static buffer (4 KB: longer dumps are cut), valid until the next
 * call.
 */
#ifndef HEX_DUMP_H
#define HEX_DUMP_H

#include <stdio.h>

static const char *
hex(const void *p, size_t n)
{
	static char buf[4096];
	const unsigned char *b = p;
	size_t		i;

	for (i = 0; i < n && i * 2 + 2 < sizeof(buf); i++)
		snprintf(buf + i * 2, 3, "%02x", b[i]);
	buf[i * 2] = '\0';
	return buf;
}

#endif
