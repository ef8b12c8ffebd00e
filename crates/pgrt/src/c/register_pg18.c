/*
 * register_pg18.c -- registrations that modules built for PostgreSQL 18
 * make in _PG_init: custom cumulative statistics kinds
 * (pgstat_register_kind, utils/pgstat_internal.h) and EXPLAIN extensions
 * (GetExplainExtensionId, RegisterExtensionExplainOption,
 * commands/explain_state.h). There are no statistics to flush and no
 * EXPLAIN here, so nothing ever calls back, but the registrations are
 * PostgreSQL 18's:
 *
 * - pgstat_register_kind: the same checks and ERRORs (a name, an ID
 *   between PGSTAT_KIND_CUSTOM_MIN and PGSTAT_KIND_CUSTOM_MAX, only while
 *   shared_preload_libraries load, a shared size for a fixed-numbered
 *   kind, no second registration of an ID, no custom name taken twice,
 *   case-insensitively), the kind recorded by ID and PostgreSQL's LOG line.
 * - GetExplainExtensionId: within a process the same name gets the same ID,
 *   IDs handed out from 0 in the order names are first seen.
 * - RegisterExtensionExplainOption: the option's handler recorded by name (a
 *   second registration of a name replaces its handler), with a DEBUG1 line.
 *
 * Called from _PG_init in the supervisor (single-threaded), or in a worker
 * (which then has its own copy, as a PostgreSQL backend has).
 */
#include "pgcompat.h"

#include <stdlib.h>
#include <string.h>

int			bgw_c_errmsg(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errdetail(const char *fmt,...) BGW_FMT(1, 2);
int			bgw_c_errhint(const char *fmt,...) BGW_FMT(1, 2);
extern int	pg_strcasecmp(const char *s1, const char *s2);
extern bool process_shared_preload_libraries_in_progress;

/* utils/pgstat_kind.h (18) */
#define PGSTAT_KIND_CUSTOM_MIN 24
#define PGSTAT_KIND_CUSTOM_MAX 32
#define PGSTAT_KIND_CUSTOM_SIZE (PGSTAT_KIND_CUSTOM_MAX - PGSTAT_KIND_CUSTOM_MIN + 1)

/*
 * The fields of PostgreSQL 18's PgStat_KindInfo read here: the bit-fields
 * in its first byte (fixed_amount the lowest), shared_size at offset 4 and
 * name, the last member, at offset 112 (120 bytes in all on LP64;
 * tools/pg-layout.c prints them from the real header).
 */
#define KINDINFO_SHARED_SIZE_OFF 4
#define KINDINFO_NAME_OFF 112

static bool
kind_fixed_amount(const void *info)
{
	return (*(const unsigned char *) info & 1) != 0;
}

static uint32_t
kind_shared_size(const void *info)
{
	uint32_t	v;

	memcpy(&v, (const char *) info + KINDINFO_SHARED_SIZE_OFF, sizeof(v));
	return v;
}

static const char *
kind_name(const void *info)
{
	const char *v;

	memcpy(&v, (const char *) info + KINDINFO_NAME_OFF, sizeof(v));
	return v;
}

/* The registered custom kinds, by ID - PGSTAT_KIND_CUSTOM_MIN. */
static const void *custom_kinds[PGSTAT_KIND_CUSTOM_SIZE];

void
bgw_c_pgstat_register_kind(uint32_t kind, const void *kind_info)
{
	uint32_t	idx = kind - PGSTAT_KIND_CUSTOM_MIN;
	const char *name = kind_name(kind_info);

	if (name == NULL || strlen(name) == 0)
		bgw_ereport(ERROR, (bgw_c_errmsg("custom cumulative statistics name is invalid"),
							bgw_c_errhint("Provide a non-empty name for the custom cumulative statistics.")));
	if (kind < PGSTAT_KIND_CUSTOM_MIN || kind > PGSTAT_KIND_CUSTOM_MAX)
		bgw_ereport(ERROR, (bgw_c_errmsg("custom cumulative statistics ID %u is out of range", kind),
							bgw_c_errhint("Provide a custom cumulative statistics ID between %u and %u.",
										  PGSTAT_KIND_CUSTOM_MIN, PGSTAT_KIND_CUSTOM_MAX)));
	if (!process_shared_preload_libraries_in_progress)
		bgw_ereport(ERROR, (bgw_c_errmsg("failed to register custom cumulative statistics \"%s\" with ID %u",
										 name, kind),
							bgw_c_errdetail("Custom cumulative statistics must be registered while initializing modules in \"shared_preload_libraries\".")));
	if (kind_fixed_amount(kind_info) && kind_shared_size(kind_info) == 0)
		bgw_ereport(ERROR, (bgw_c_errmsg("custom cumulative statistics property is invalid"),
							bgw_c_errhint("Custom cumulative statistics require a shared memory size for fixed-numbered objects.")));
	if (custom_kinds[idx] != NULL && kind_name(custom_kinds[idx]) != NULL)
		bgw_ereport(ERROR, (bgw_c_errmsg("failed to register custom cumulative statistics \"%s\" with ID %u",
										 name, kind),
							bgw_c_errdetail("Custom cumulative statistics \"%s\" already registered with the same ID.",
											kind_name(custom_kinds[idx]))));
	for (uint32_t existing = PGSTAT_KIND_CUSTOM_MIN; existing <= PGSTAT_KIND_CUSTOM_MAX; existing++)
	{
		const void *e = custom_kinds[existing - PGSTAT_KIND_CUSTOM_MIN];

		if (e != NULL && pg_strcasecmp(kind_name(e), name) == 0)
			bgw_ereport(ERROR, (bgw_c_errmsg("failed to register custom cumulative statistics \"%s\" with ID %u",
											 name, kind),
								bgw_c_errdetail("Existing cumulative statistics with ID %u has the same name.",
												existing)));
	}
	custom_kinds[idx] = kind_info;
	bgw_ereport(LOG, bgw_c_errmsg("registered custom cumulative statistics \"%s\" with ID %u",
								  name, kind));
}

/* EXPLAIN extensions' names, by ID, and their options (name, handler). */
static const char **explain_names;
static int	explain_names_assigned;
static int	explain_names_allocated;

typedef struct ExplainOption
{
	const char *name;
	void	   *handler;
} ExplainOption;

static ExplainOption *explain_options;
static int	explain_options_assigned;
static int	explain_options_allocated;

/* Room for one more of `size` bytes each in *array (C heap, kept for the
 * process's life as PostgreSQL's TopMemoryContext arrays are). */
static void *
grow(void *array, int *allocated, int used, size_t size)
{
	void	   *p;
	int			n;

	if (used < *allocated)
		return array;
	n = *allocated == 0 ? 16 : *allocated * 2;
	p = realloc(array, (size_t) n * size);
	if (p == NULL)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_OUT_OF_MEMORY),
					bgw_c_errmsg_internal("out of memory"));
	*allocated = n;
	return p;
}

int
bgw_c_GetExplainExtensionId(const char *extension_name)
{
	for (int i = 0; i < explain_names_assigned; i++)
		if (strcmp(explain_names[i], extension_name) == 0)
			return i;
	explain_names = grow(explain_names, &explain_names_allocated, explain_names_assigned,
						 sizeof(*explain_names));
	explain_names[explain_names_assigned] = extension_name;
	return explain_names_assigned++;
}

void
bgw_c_RegisterExtensionExplainOption(const char *option_name, void *handler)
{
	for (int i = 0; i < explain_options_assigned; i++)
	{
		if (strcmp(explain_options[i].name, option_name) == 0)
		{
			explain_options[i].handler = handler;
			return;
		}
	}
	explain_options = grow(explain_options, &explain_options_allocated, explain_options_assigned,
						   sizeof(*explain_options));
	explain_options[explain_options_assigned].name = option_name;
	explain_options[explain_options_assigned].handler = handler;
	explain_options_assigned++;
	bgw_ereport(DEBUG1, bgw_c_errmsg_internal("RegisterExtensionExplainOption: option \"%s\" accepted; EXPLAIN needs the database server, so the handler never runs",
											   option_name));
}

/*
 * The shared memory of fixed-numbered custom statistics kinds, as
 * PostgreSQL 18's StatsShmemInit lays it out before the modules'
 * shmem_startup_hook: the statistics control struct (PgStat_ShmemControl,
 * "Shared Memory Stats"), its address in pgStatLocal.shmem, and for each
 * registered fixed-numbered custom kind shared_size bytes in
 * custom_data[kind - PGSTAT_KIND_CUSTOM_MIN], passed to the kind's
 * init_shmem_cb. Modules reach that memory through the inline
 * pgstat_get_custom_shmem_data (pg_stat_log names its LWLock's tranche from
 * it in its startup hook). Only with such a kind registered (18): nothing
 * else here reads statistics' shared memory. Sizes and offsets from the real
 * 18 header (utils/pgstat_internal.h; tools/pg-layout.c prints them).
 */
#define SHMEMCONTROL_SIZE 53408
#define SHMEMCONTROL_CUSTOM_DATA_OFF 53336
#define KINDINFO_INIT_SHMEM_CB_OFF 80

extern char pgStatLocal[];		/* PgStat_LocalState; .shmem at offset 0 */
extern void *bgw_c_ShmemInitStruct(const char *name, Size size, bool *foundPtr);
extern void *bgw_c_ShmemAlloc(Size size);

static bool
any_fixed_custom_kind(void)
{
	for (int i = 0; i < PGSTAT_KIND_CUSTOM_SIZE; i++)
		if (custom_kinds[i] != NULL && kind_fixed_amount(custom_kinds[i]))
			return true;
	return false;
}

/* The bytes of the main region this takes (shmem.rs adds them). */
size_t		bgw_c_pgstat_shmem_size(void);

size_t
bgw_c_pgstat_shmem_size(void)
{
	size_t		sz;

	if (!any_fixed_custom_kind())
		return 0;
	sz = SHMEMCONTROL_SIZE + 128;
	for (int i = 0; i < PGSTAT_KIND_CUSTOM_SIZE; i++)
		if (custom_kinds[i] != NULL && kind_fixed_amount(custom_kinds[i]))
			sz += kind_shared_size(custom_kinds[i]) + 128;
	return sz;
}

/* Lay it out in a fresh region: the supervisor, under the shmem hook guard
 * (an ERROR of an init_shmem_cb becomes its FATAL), before
 * shmem_startup_hook. */
void		bgw_c_pgstat_shmem_init(void);

void
bgw_c_pgstat_shmem_init(void)
{
	bool		found;
	char	   *ctl;

	if (!any_fixed_custom_kind())
		return;
	ctl = bgw_c_ShmemInitStruct("Shared Memory Stats", SHMEMCONTROL_SIZE, &found);
	memcpy(pgStatLocal, &ctl, sizeof(ctl));
	for (int i = 0; i < PGSTAT_KIND_CUSTOM_SIZE; i++)
	{
		const void *info = custom_kinds[i];
		void		(*init_shmem_cb) (void *);
		void	   *ptr;

		if (info == NULL || !kind_fixed_amount(info))
			continue;
		ptr = bgw_c_ShmemAlloc(kind_shared_size(info));
		memset(ptr, 0, kind_shared_size(info));
		memcpy(ctl + SHMEMCONTROL_CUSTOM_DATA_OFF + i * sizeof(void *), &ptr, sizeof(ptr));
		memcpy(&init_shmem_cb, (const char *) info + KINDINFO_INIT_SHMEM_CB_OFF, sizeof(init_shmem_cb));
		if (init_shmem_cb)
			init_shmem_cb(ptr);
	}
}
