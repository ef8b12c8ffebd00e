/*
 * abi_facts.c
 *		Prints the binary-interface facts of a bgworker.h, one "key value"
 *		line each, so that two builds of this file can be compared line by
 *		line: one against PostgreSQL's own postmaster/bgworker.h (with
 *		-DABI_REAL and the server include directory on the path), one
 *		against libbgworker's include/bgworker.h.
 *
 * Which names are described is not decided here: tests/abi.rs reads the
 * real header and writes abi_facts_gen.h, a list of FACT_* macro calls, one
 * for every struct field, enum constant and integer #define it declares.
 * A name the candidate header lacks therefore fails to compile, and a
 * value, offset, size, alignment or signedness that differs prints a
 * different line.
 *
 * Only sizeof, offsetof, _Alignof, __typeof__ and
 * __builtin_classify_type are applied to the header's declarations: no
 * function or variable is referenced, so the program links with libc alone.
 */
#ifdef ABI_REAL
#include "postgres.h"
#include "postmaster/bgworker.h"
/* port.h routes printf to libpgport's pg_printf; this program uses libc's */
#undef printf
#else
#include "bgworker.h"			/* first: the header must stand alone */
#endif

#include <stddef.h>
#include <stdio.h>

/* __builtin_classify_type: 1 integer, 3 enum, 4 bool, 5 pointer, 8 real */
static const char *
type_class(int cls)
{
	switch (cls)
	{
		case 1:
		case 3:
			/* an enum and an integer of one size and signedness pass alike */
			return "int";
		case 4:
			return "bool";
		case 5:
			return "ptr";
		case 8:
			return "float";
		default:
			return "other";
	}
}

/* true for a signed type; written so that unsigned types draw no warning */
#define SIGNED_T(T) ((T) -1 < (T) 1)

static BackgroundWorker probe;

#define FACT_STRUCT(S) \
	printf("struct.%s sizeof=%zu alignof=%zu\n", #S, sizeof(S), _Alignof(S))

#define FACT_FIELD_SCALAR(S, f) \
	printf("field.%s.%s offset=%zu size=%zu align=%zu class=%s signed=%d\n", \
		   #S, #f, offsetof(S, f), sizeof(probe.f), _Alignof(__typeof__(probe.f)), \
		   type_class(__builtin_classify_type(probe.f)), \
		   (int) SIGNED_T(__typeof__(probe.f)))

#define FACT_FIELD_ARRAY(S, f) \
	printf("field.%s.%s offset=%zu size=%zu align=%zu elem_size=%zu elem_class=%s elem_signed=%d count=%zu\n", \
		   #S, #f, offsetof(S, f), sizeof(probe.f), _Alignof(__typeof__(probe.f)), \
		   sizeof(probe.f[0]), type_class(__builtin_classify_type(probe.f[0])), \
		   (int) SIGNED_T(__typeof__(probe.f[0])), \
		   sizeof(probe.f) / sizeof(probe.f[0]))

#define FACT_TYPE(T) \
	do { \
		T	tv_ = (T) 0; \
		printf("type.%s sizeof=%zu alignof=%zu class=%s signed=%d\n", #T, \
			   sizeof(T), _Alignof(T), type_class(__builtin_classify_type(tv_)), \
			   (int) SIGNED_T(T)); \
	} while (0)

#define FACT_ENUM(T, c) \
	printf("enum.%s.%s %lld\n", #T, #c, (long long) (c))

#define FACT_DEFINE(m) \
	printf("define.%s %lld\n", #m, (long long) (m))

#define FACT_DEFINE_MISSING(m) \
	printf("define.%s MISSING\n", #m)

int
main(void)
{
	/* the struct the generated list describes; each field by name */
	FACT_STRUCT(BackgroundWorker);
	/* types the prototypes are spelled with */
	FACT_TYPE(Datum);
	FACT_TYPE(pid_t);
	printf("type.bgworker_main_type sizeof=%zu\n", sizeof(bgworker_main_type));
#include "abi_facts_gen.h"
	return 0;
}
