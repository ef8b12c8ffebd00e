/*
 * mcxt_alloc.c -- the allocation functions that utils/palloc.h's
 * palloc_array, palloc0_array, repalloc_array and their _extended forms
 * compile to (palloc_mul, palloc0_mul, palloc_mul_extended, repalloc_mul,
 * repalloc_mul_extended: the element size times the count, an overflow
 * being PostgreSQL's ERROR "invalid memory allocation request size A * B"
 * whatever the flags), and repalloc_extended, repalloc_huge and repalloc0,
 * with PostgreSQL's limits and ERRORs, over mcxt.rs's allocator. Module
 * code, one thread.
 */
#include <string.h>

#include "pgcompat.h"

#define MCXT_ALLOC_HUGE 0x01
#define MCXT_ALLOC_ZERO 0x04

extern void *bgw_rs_repalloc_extended(void *pointer, Size size, int flags);
extern void *bgw_c_palloc0(Size size);
extern void *bgw_c_palloc_extended(Size size, int flags);
int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);

/* s1 * s2, or PostgreSQL's ERROR when it does not fit a Size. */
static Size
product(Size s1, Size s2)
{
	Size		result;

	if (__builtin_mul_overflow(s1, s2, &result))
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					bgw_c_errmsg("invalid memory allocation request size %zu * %zu", s1, s2));
	return result;
}

void *
bgw_c_repalloc_extended(void *pointer, Size size, int flags)
{
	void	   *r = bgw_rs_repalloc_extended(pointer, size, flags);

	bgw_c_raise_pending();
	return r;
}

void *
bgw_c_repalloc_huge(void *pointer, Size size)
{
	return bgw_c_repalloc_extended(pointer, size, MCXT_ALLOC_HUGE);
}

/* 16 and later: grow, zeroing what is added. */
void *
bgw_c_repalloc0(void *pointer, Size oldsize, Size size)
{
	char	   *r;

	if (oldsize > size)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
					bgw_c_errmsg_internal("invalid repalloc0 call: oldsize %zu, new size %zu",
										  oldsize, size));
	r = bgw_c_repalloc(pointer, size);
	memset(r + oldsize, 0, size - oldsize);
	return r;
}

void *
bgw_c_palloc_mul(Size s1, Size s2)
{
	return bgw_c_palloc(product(s1, s2));
}

void *
bgw_c_palloc0_mul(Size s1, Size s2)
{
	return bgw_c_palloc0(product(s1, s2));
}

void *
bgw_c_palloc_mul_extended(Size s1, Size s2, int flags)
{
	return bgw_c_palloc_extended(product(s1, s2), flags);
}

void *
bgw_c_repalloc_mul(void *p, Size s1, Size s2)
{
	return bgw_c_repalloc(p, product(s1, s2));
}

void *
bgw_c_repalloc_mul_extended(void *p, Size s1, Size s2, int flags)
{
	return bgw_c_repalloc_extended(p, product(s1, s2), flags);
}
