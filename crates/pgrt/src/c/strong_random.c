/*
 * strong_random.c -- the secrets helpers libpgport builds over OpenSSL in
 * Debian's server (so its archive member is not linked here):
 *
 * - pg_strong_random(buf, len): cryptographically strong random bytes from
 *   the kernel (getrandom(2), retried on EINTR and short reads); false
 *   when none can be had. pg_strong_random_init: nothing to set up.
 * - timingsafe_bcmp(a, b, n): 0 when the n bytes are equal, 1 otherwise,
 *   in a time that does not depend on where they differ.
 *
 * Who may call: any process; no shared state.
 */
#include "pgcompat.h"

#include <errno.h>
#include <sys/random.h>

void
bgw_c_pg_strong_random_init(void)
{
}

bool
bgw_c_pg_strong_random(void *buf, size_t len)
{
	char	   *p = buf;

	while (len > 0)
	{
		ssize_t		n = getrandom(p, len, 0);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t) n;
	}
	return true;
}

int
bgw_c_timingsafe_bcmp(const void *b1, const void *b2, size_t n)
{
	const volatile unsigned char *p1 = b1;
	const volatile unsigned char *p2 = b2;
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= p1[i] ^ p2[i];
	return diff != 0;
}
