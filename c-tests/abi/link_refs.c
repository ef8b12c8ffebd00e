/*
 * link_refs.c
 *		Built like a loadable module (-fPIC) against PostgreSQL's own
 *		postmaster/bgworker.h, it refers to every function of the header by
 *		call (through the PLT) and to MyBgworkerEntry by load and store
 *		(through the GOT), as a module does.  tests/abi.rs links it with
 *		-Wl,--no-undefined against libbgworker, as a shared object and as an
 *		executable with link_main.c, and runs that with LD_BIND_NOW=1 so the
 *		dynamic loader binds every reference at start.
 *
 * The calls sit behind a condition the caller never makes true: loading,
 * not running, the library's functions is what is checked.  The variable
 * is really written and read back: it must be writable 8-byte data.
 */
#include "postgres.h"

#include "postmaster/bgworker.h"

extern int	link_refs_exercise(int call_functions);

int
link_refs_exercise(int call_functions)
{
	static BackgroundWorker worker;
	/* volatile: the store and loads must happen, not be folded away */
	BackgroundWorker *volatile *entry = &MyBgworkerEntry;
	BackgroundWorker *saved = *entry;
	BackgroundWorkerHandle *handle = NULL;
	pid_t		pid = 0;
	int			n = 0;

	/* store and load through the GOT: faults if the symbol is read-only */
	*entry = &worker;
	if (*entry != &worker)
		return -1;
	*entry = saved;

	if (!call_functions)
		return 0;

	BackgroundWorkerBlockSignals();
	BackgroundWorkerUnblockSignals();
	RegisterBackgroundWorker(&worker);
	if (RegisterDynamicBackgroundWorker(&worker, &handle))
		n++;
	n += (int) GetBackgroundWorkerPid(handle, &pid);
	n += (int) WaitForBackgroundWorkerStartup(handle, &pid);
	n += (int) WaitForBackgroundWorkerShutdown(handle);
	if (GetBackgroundWorkerTypeByPid(pid) != NULL)
		n++;
	TerminateBackgroundWorker(handle);
	BackgroundWorkerInitializeConnection("postgres", NULL, 0);
	BackgroundWorkerInitializeConnectionByOid(InvalidOid, InvalidOid, 0);
	return n;
}
