/*
 * varlena.c -- variable-length values in memory (fmgr.h, utils/builtins.h,
 * access/detoast.h): pg_detoast_datum and its _copy, _slice and _packed
 * forms (detoast_attr, detoast_attr_slice, detoast_external_attr under
 * their access/detoast.h names), toast_raw_datum_size and toast_datum_size
 * (which only read a TOAST pointer, an on-disk one included), and text from
 * and to C strings (cstring_to_text, cstring_to_text_with_len,
 * text_to_cstring, text_to_cstring_buffer, and the SQL functions textin and
 * textout, which modules call through DirectFunctionCall1). The layouts
 * are postgres.h's (varatt.h's in 17 and 18; the same in every major
 * served), little-endian.
 *
 * Detoasting, as PostgreSQL's detoast_attr does it:
 *   - a 4-byte header value, not compressed, is returned as it is (the
 *     _copy form copies it);
 *   - a short (1-byte header) value is converted to a fresh 4-byte header
 *     copy;
 *   - an in-line compressed value is decompressed: pglz with PostgreSQL's
 *     own pglz_decompress (libpgcommon, linked in), LZ4 with the system's
 *     liblz4 (loaded on first use; without it, PostgreSQL's own ERROR for a
 *     server built without LZ4); another method id is PostgreSQL's ERROR,
 *     corrupt data too;
 *   - an indirect pointer (a value in memory) is followed, and an expanded
 *     object is flattened with its own methods;
 *   - an on-disk TOAST pointer needs the table it points into: an ERROR
 *     saying that the database server is not available.
 * Results are palloc'd in the current context. Module code, one thread.
 */
#include "pgcompat.h"

#include <dlfcn.h>
#include <limits.h>
#include <string.h>

#define ERRCODE_FEATURE_NOT_SUPPORTED MAKE_SQLSTATE('0','A','0','0','0')
#define ERRCODE_DATA_CORRUPTED MAKE_SQLSTATE('X','X','0','0','1')

#define VARHDRSZ 4
#define VARHDRSZ_SHORT 1
#define VARHDRSZ_EXTERNAL 2
#define VARHDRSZ_COMPRESSED 8

/* varatt.h's vartag_external. */
#define VARTAG_INDIRECT 1
#define VARTAG_EXPANDED_RO 2
#define VARTAG_EXPANDED_RW 3
#define VARTAG_ONDISK 18

/* ToastCompressionId (access/toast_compression.h). */
#define TOAST_PGLZ_COMPRESSION_ID 0
#define TOAST_LZ4_COMPRESSION_ID 1

struct varlena;

/* PostgreSQL's own pglz (libpgcommon's pg_lzcompress, linked in). */
extern int32_t bgw_pg_pglz_decompress(const char *source, int32_t slen, char *dest,
									  int32_t rawsize, bool check_complete);

extern void bgw_c_pfree(void *pointer);

static uint8_t
byte0(const void *p)
{
	return ((const uint8_t *) p)[0];
}

static uint32_t
header4(const void *p)
{
	uint32_t	h;

	memcpy(&h, p, sizeof(h));
	return h;
}

static bool
is_4b_u(const void *p)
{
	return (byte0(p) & 0x03) == 0x00;
}

static bool
is_4b_c(const void *p)
{
	return (byte0(p) & 0x03) == 0x02;
}

static bool
is_1b(const void *p)
{
	return (byte0(p) & 0x01) == 0x01;
}

static bool
is_1b_e(const void *p)
{
	return byte0(p) == 0x01;
}

static uint8_t
vartag(const void *p)
{
	return ((const uint8_t *) p)[1];
}

static Size
varsize_4b(const void *p)
{
	return (header4(p) >> 2) & 0x3FFFFFFF;
}

static Size
varsize_1b(const void *p)
{
	return (byte0(p) >> 1) & 0x7F;
}

static void
set_varsize_4b(void *p, Size len)
{
	uint32_t	h = (uint32_t) len << 2;

	memcpy(p, &h, sizeof(h));
}

static Size
vartag_size(uint8_t tag)
{
	switch (tag)
	{
		case VARTAG_INDIRECT:
		case VARTAG_EXPANDED_RO:
		case VARTAG_EXPANDED_RW:
			return sizeof(void *);
		case VARTAG_ONDISK:
			return 16;			/* struct varatt_external */
		default:
			return 0;
	}
}

/* VARSIZE_ANY */
static Size
varsize_any(const void *p)
{
	if (is_1b_e(p))
		return VARHDRSZ_EXTERNAL + vartag_size(vartag(p));
	if (is_1b(p))
		return varsize_1b(p);
	return varsize_4b(p);
}

/* VARSIZE_ANY_EXHDR */
static Size
varsize_any_exhdr(const void *p)
{
	if (is_1b_e(p))
		return vartag_size(vartag(p));
	if (is_1b(p))
		return varsize_1b(p) - VARHDRSZ_SHORT;
	return varsize_4b(p) - VARHDRSZ;
}

/* VARDATA_ANY */
static const char *
vardata_any(const void *p)
{
	return (const char *) p + (is_1b(p) ? VARHDRSZ_SHORT : VARHDRSZ);
}

static void *
external_pointer(const void *p)
{
	void	   *ptr;

	memcpy(&ptr, (const char *) p + VARHDRSZ_EXTERNAL, sizeof(ptr));
	return ptr;
}

BGW_NORETURN static void
ondisk_error(void)
{
	bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				bgw_c_errmsg_internal("an out-of-line (TOAST) value cannot be read here: it needs the database server, which is not available in libbgworker"));
	__builtin_unreachable();
}

/* The flat form of an expanded object (detoast_external_attr). */
static struct varlena *
flatten_expanded(const void *attr)
{
	ExpandedObjectHeader *eoh = external_pointer(attr);
	Size		size = eoh->eoh_methods->get_flat_size(eoh);
	void	   *result = bgw_c_palloc(size);

	eoh->eoh_methods->flatten_into(eoh, result, size);
	return result;
}

/* liblz4, loaded on first use: NULL when the system has none. */
typedef int (*lz4_fn) (const char *src, char *dst, int srclen, int dstcap);
typedef int (*lz4_partial_fn) (const char *src, char *dst, int srclen,
							   int target, int dstcap);
static bool lz4_tried;
static lz4_fn lz4_decompress_safe;
static lz4_partial_fn lz4_decompress_safe_partial;

static void
load_lz4(void)
{
	void	   *h;

	if (lz4_tried)
		return;
	lz4_tried = true;
	h = dlopen("liblz4.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return;
	lz4_decompress_safe = (lz4_fn) dlsym(h, "LZ4_decompress_safe");
	lz4_decompress_safe_partial = (lz4_partial_fn) dlsym(h, "LZ4_decompress_safe_partial");
	if (lz4_decompress_safe == NULL || lz4_decompress_safe_partial == NULL)
		lz4_decompress_safe = NULL;
}

/*
 * Decompress the in-line compressed value attr: all of it when slice < 0,
 * else at least its first `slice` bytes.
 */
static struct varlena *
decompress(const void *attr, int32_t slice)
{
	uint32_t	tcinfo;
	uint32_t	extsize;
	int			method;
	int32_t		want;
	const char *src = (const char *) attr + VARHDRSZ_COMPRESSED;
	int32_t		srclen = (int32_t) varsize_4b(attr) - VARHDRSZ_COMPRESSED;
	char	   *result;
	int32_t		rawsize;

	memcpy(&tcinfo, (const char *) attr + VARHDRSZ, sizeof(tcinfo));
	extsize = tcinfo & 0x3FFFFFFF;
	method = (int) (tcinfo >> 30);
	/* A slice as long as the value is the whole value. */
	if (slice >= 0 && (uint32_t) slice >= extsize)
		slice = -1;
	want = slice < 0 ? (int32_t) extsize : slice;
	switch (method)
	{
		case TOAST_PGLZ_COMPRESSION_ID:
			result = bgw_c_palloc((Size) want + VARHDRSZ);
			rawsize = bgw_pg_pglz_decompress(src, srclen, result + VARHDRSZ,
											 want, slice < 0);
			if (rawsize < 0)
				bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_DATA_CORRUPTED),
							bgw_c_errmsg_internal("compressed pglz data is corrupt"));
			break;
		case TOAST_LZ4_COMPRESSION_ID:
			load_lz4();
			if (lz4_decompress_safe == NULL)
				bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							bgw_c_errmsg_internal("compression method lz4 not supported"),
							bgw_c_errdetail_internal("This functionality requires the server to be built with lz4 support."));
			result = bgw_c_palloc((Size) want + VARHDRSZ);
			if (slice < 0)
				rawsize = lz4_decompress_safe(src, result + VARHDRSZ, srclen, want);
			else
				rawsize = lz4_decompress_safe_partial(src, result + VARHDRSZ, srclen,
													  want, want);
			if (rawsize < 0)
				bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_DATA_CORRUPTED),
							bgw_c_errmsg_internal("compressed lz4 data is corrupt"));
			break;
		default:
			bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
						bgw_c_errmsg_internal("invalid compression method id %d", method));
			__builtin_unreachable();
	}
	set_varsize_4b(result, (Size) rawsize + VARHDRSZ);
	return (struct varlena *) result;
}

/* detoast_attr: attr as a plain 4-byte header value (see the file's head). */
static struct varlena *
detoast(struct varlena *attr)
{
	if (is_1b_e(attr))
	{
		uint8_t		tag = vartag(attr);

		if (tag == VARTAG_INDIRECT)
		{
			struct varlena *target = external_pointer(attr);
			struct varlena *flat = detoast(target);

			/* Never hand back the indirect target itself: a copy. */
			if (flat == target)
			{
				Size		len = varsize_any(target);

				flat = bgw_c_palloc(len);
				memcpy(flat, target, len);
			}
			return flat;
		}
		if (tag == VARTAG_EXPANDED_RO || tag == VARTAG_EXPANDED_RW)
			return flatten_expanded(attr);
		ondisk_error();
	}
	if (is_4b_c(attr))
		return decompress(attr, -1);
	if (is_1b(attr))
	{
		Size		data = varsize_1b(attr) - VARHDRSZ_SHORT;
		char	   *n = bgw_c_palloc(data + VARHDRSZ);

		set_varsize_4b(n, data + VARHDRSZ);
		memcpy(n + VARHDRSZ, (const char *) attr + VARHDRSZ_SHORT, data);
		return (struct varlena *) n;
	}
	return attr;
}

struct varlena *
bgw_c_pg_detoast_datum(struct varlena *datum)
{
	return is_4b_u(datum) ? datum : detoast(datum);
}

struct varlena *
bgw_c_pg_detoast_datum_copy(struct varlena *datum)
{
	struct varlena *copy;
	Size		len;

	if (!is_4b_u(datum))
		return detoast(datum);
	len = varsize_4b(datum);
	copy = bgw_c_palloc(len);
	memcpy(copy, datum, len);
	return copy;
}

/* Compressed or external values are detoasted; short ones stay short. */
struct varlena *
bgw_c_pg_detoast_datum_packed(struct varlena *datum)
{
	if (is_4b_c(datum) || is_1b_e(datum))
		return detoast(datum);
	return datum;
}

/*
 * detoast_attr_slice: bytes [first, first + count) of the value (count < 0:
 * to its end), clipped to the value, as a new 4-byte header value.
 */
struct varlena *
bgw_c_pg_detoast_datum_slice(struct varlena *datum, int32_t first, int32_t count)
{
	struct varlena *whole;
	const char *data;
	int32_t		size;
	int32_t		limit;
	char	   *result;

	if (first < 0)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
					bgw_c_errmsg_internal("invalid sliceoffset: %d", first));
	if (count < 0)
		limit = -1;
	else if (__builtin_add_overflow(first, count, &limit))
		count = limit = -1;

	if (is_1b_e(datum))
	{
		uint8_t		tag = vartag(datum);

		if (tag == VARTAG_INDIRECT)
			return bgw_c_pg_detoast_datum_slice(external_pointer(datum), first, count);
		if (tag == VARTAG_EXPANDED_RO || tag == VARTAG_EXPANDED_RW)
			whole = flatten_expanded(datum);
		else
			ondisk_error();
	}
	else
		whole = datum;
	if (is_4b_c(whole))
	{
		struct varlena *compressed = whole;

		whole = decompress(compressed, limit);
		if (compressed != datum)
			bgw_c_pfree(compressed);
	}
	data = vardata_any(whole);
	size = (int32_t) varsize_any_exhdr(whole);
	if (first >= size)
		first = count = 0;
	else if (count < 0 || limit > size)
		count = size - first;
	result = bgw_c_palloc((Size) count + VARHDRSZ);
	set_varsize_4b(result, (Size) count + VARHDRSZ);
	memcpy(result + VARHDRSZ, data + first, (Size) count);
	if (whole != datum)
		bgw_c_pfree(whole);
	return (struct varlena *) result;
}

/* access/detoast.h's own names for the same operations. */
struct varlena *
bgw_c_detoast_attr(struct varlena *attr)
{
	return detoast(attr);
}

struct varlena *
bgw_c_detoast_attr_slice(struct varlena *attr, int32_t first, int32_t count)
{
	return bgw_c_pg_detoast_datum_slice(attr, first, count);
}

/*
 * An external value in memory as a plain or compressed in-line one (not
 * decompressed): an indirect pointer's target copied, an expanded object
 * flattened; an in-line value is returned as it is.
 */
struct varlena *
bgw_c_detoast_external_attr(struct varlena *attr)
{
	if (!is_1b_e(attr))
		return attr;
	switch (vartag(attr))
	{
		case VARTAG_INDIRECT:
			{
				struct varlena *target = external_pointer(attr);
				Size		len;
				struct varlena *copy;

				if (is_1b_e(target))
					return bgw_c_detoast_external_attr(target);
				len = varsize_any(target);
				copy = bgw_c_palloc(len);
				memcpy(copy, target, len);
				return copy;
			}
		case VARTAG_EXPANDED_RO:
		case VARTAG_EXPANDED_RW:
			return flatten_expanded(attr);
		case VARTAG_ONDISK:
			ondisk_error();
		default:
			return attr;
	}
}

/* The value's size once detoasted, header included (as a 4-byte one). */
Size
bgw_c_toast_raw_datum_size(Datum value)
{
	const void *attr = (const void *) value;
	uint32_t	u;

	if (is_1b_e(attr))
	{
		switch (vartag(attr))
		{
			case VARTAG_ONDISK:
				{
					int32_t		rawsize;

					memcpy(&rawsize, (const char *) attr + VARHDRSZ_EXTERNAL, sizeof(rawsize));
					return (Size) rawsize;
				}
			case VARTAG_INDIRECT:
				return bgw_c_toast_raw_datum_size((Datum) external_pointer(attr));
			case VARTAG_EXPANDED_RO:
			case VARTAG_EXPANDED_RW:
				{
					ExpandedObjectHeader *eoh = external_pointer(attr);

					return eoh->eoh_methods->get_flat_size(eoh);
				}
			default:
				return varsize_any(attr);
		}
	}
	if (is_4b_c(attr))
	{
		memcpy(&u, (const char *) attr + VARHDRSZ, sizeof(u));
		return (Size) (u & 0x3FFFFFFF) + VARHDRSZ;
	}
	if (is_1b(attr))
		return varsize_1b(attr) - VARHDRSZ_SHORT + VARHDRSZ;
	return varsize_4b(attr);
}

/* The value's size as stored (an on-disk value: its stored bytes). */
Size
bgw_c_toast_datum_size(Datum value)
{
	const void *attr = (const void *) value;
	uint32_t	u;

	if (is_1b_e(attr))
	{
		switch (vartag(attr))
		{
			case VARTAG_ONDISK:
				/* va_extinfo's size bits */
				memcpy(&u, (const char *) attr + VARHDRSZ_EXTERNAL + 4, sizeof(u));
				return (Size) (u & 0x3FFFFFFF);
			case VARTAG_INDIRECT:
				return bgw_c_toast_datum_size((Datum) external_pointer(attr));
			case VARTAG_EXPANDED_RO:
			case VARTAG_EXPANDED_RW:
				{
					ExpandedObjectHeader *eoh = external_pointer(attr);

					return eoh->eoh_methods->get_flat_size(eoh);
				}
			default:
				return varsize_any(attr);
		}
	}
	if (is_1b(attr))
		return varsize_1b(attr);
	return varsize_4b(attr);
}

struct varlena *
bgw_c_cstring_to_text_with_len(const char *s, int len)
{
	char	   *result = bgw_c_palloc((Size) len + VARHDRSZ);

	set_varsize_4b(result, (Size) len + VARHDRSZ);
	memcpy(result + VARHDRSZ, s, (Size) len);
	return (struct varlena *) result;
}

struct varlena *
bgw_c_cstring_to_text(const char *s)
{
	return bgw_c_cstring_to_text_with_len(s, (int) strlen(s));
}

char *
bgw_c_text_to_cstring(const struct varlena *t)
{
	struct varlena *unpacked = bgw_c_pg_detoast_datum_packed((struct varlena *) t);
	Size		len = varsize_any_exhdr(unpacked);
	char	   *result = bgw_c_palloc(len + 1);

	memcpy(result, vardata_any(unpacked), len);
	result[len] = '\0';
	if (unpacked != t)
		bgw_c_pfree(unpacked);
	return result;
}

/*
 * Copy t into dst (dst_len bytes, terminator included), cut where it does
 * not fit. The cut is pg_mbcliplen's for the database encoding, which in a
 * process without a database is SQL_ASCII (single-byte): at most dst_len -
 * 1 bytes, and never past a zero byte.
 */
void
bgw_c_text_to_cstring_buffer(const struct varlena *src, char *dst, size_t dst_len)
{
	struct varlena *unpacked = bgw_c_pg_detoast_datum_packed((struct varlena *) src);
	size_t		src_len = varsize_any_exhdr(unpacked);
	const char *data = vardata_any(unpacked);

	if (dst_len > 0)
	{
		dst_len--;
		if (dst_len >= src_len)
			dst_len = src_len;
		else
		{
			size_t		n = 0;

			while (n < dst_len && data[n] != '\0')
				n++;
			dst_len = n;
		}
		memcpy(dst, data, dst_len);
		dst[dst_len] = '\0';
	}
	if (unpacked != src)
		bgw_c_pfree(unpacked);
}

/* The argument values of a FunctionCallInfo (fmgr.h: args from byte 32, 16 bytes each). */
static Datum
fcinfo_arg(const void *fcinfo, int n)
{
	Datum		d;

	memcpy(&d, (const char *) fcinfo + 32 + 16 * n, sizeof(d));
	return d;
}

/* textin(cstring) returns text */
Datum
bgw_c_textin(void *fcinfo)
{
	return (Datum) bgw_c_cstring_to_text((const char *) fcinfo_arg(fcinfo, 0));
}

/* textout(text) returns cstring */
Datum
bgw_c_textout(void *fcinfo)
{
	return (Datum) bgw_c_text_to_cstring((const struct varlena *) fcinfo_arg(fcinfo, 0));
}
