/*
 * guc_tables.c -- the C half of PostgreSQL's settings table and guc.c's
 * small lookups (bodies in src/guc/tables.rs and src/guc/lookup.rs): each
 * calls the Rust body, then raises whatever ERROR it recorded.
 *
 * get_guc_variables is one export for two signatures: 15's (void), whose
 * caller gets the table's own array, and 16's and later's (int *num_vars),
 * whose caller gets a palloc'd copy in CurrentMemoryContext and the count.
 * The major decides which; a 15 caller's garbage first argument is never
 * touched.
 */
#include "pgcompat.h"

#include <string.h>

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

extern uint32_t bgw_rs_pg_major(void);
extern void **bgw_rs_get_guc_variables(int *num);
extern int	bgw_rs_GetNumConfigOptions(void);
extern void *bgw_rs_find_option(const char *name, bool create_placeholders,
								bool skip_errors, int elevel);
extern int	bgw_rs_GetConfigOptionFlags(const char *name, bool missing_ok);
extern bool bgw_rs_parse_int(const char *value, int *result, int flags,
							 const char **hintmsg);
extern bool bgw_rs_parse_real(const char *value, double *result, int flags,
							  const char **hintmsg);
extern const char *bgw_rs_config_enum_lookup_by_value(const void *record, int val);
extern bool bgw_rs_config_enum_lookup_by_name(const void *record, const char *value,
											  int *retval);

void	  **
bgw_c_get_guc_variables(int *num_vars)
{
	int			n = 0;
	void	  **table = RAISING(bgw_rs_get_guc_variables(&n));
	void	  **copy;

	if (bgw_rs_pg_major() < 16)
		return table;
	copy = bgw_c_palloc(sizeof(void *) * (n > 0 ? n : 1));
	if (n > 0)
		memcpy(copy, table, sizeof(void *) * n);
	if (num_vars)
		*num_vars = n;
	return copy;
}

int
bgw_c_GetNumConfigOptions(void)
{
	return RAISING(bgw_rs_GetNumConfigOptions());
}

void *
bgw_c_find_option(const char *name, bool create_placeholders, bool skip_errors,
				  int elevel)
{
	return RAISING(bgw_rs_find_option(name, create_placeholders, skip_errors, elevel));
}

int
bgw_c_GetConfigOptionFlags(const char *name, bool missing_ok)
{
	return RAISING(bgw_rs_GetConfigOptionFlags(name, missing_ok));
}

bool
bgw_c_parse_int(const char *value, int *result, int flags, const char **hintmsg)
{
	return RAISING(bgw_rs_parse_int(value, result, flags, hintmsg));
}

bool
bgw_c_parse_real(const char *value, double *result, int flags, const char **hintmsg)
{
	return RAISING(bgw_rs_parse_real(value, result, flags, hintmsg));
}

const char *
bgw_c_config_enum_lookup_by_value(const void *record, int val)
{
	return RAISING(bgw_rs_config_enum_lookup_by_value(record, val));
}

bool
bgw_c_config_enum_lookup_by_name(const void *record, const char *value, int *retval)
{
	return RAISING(bgw_rs_config_enum_lookup_by_name(record, value, retval));
}
