/*
 * wrong_lib.c
 *		Deliberately wrong stand-ins for libbgworker, one per -D switch, for
 *		tests/abi.rs to show that the link check rejects each of them:
 *
 *		WRONG_MISSING_FUNCTION	TerminateBackgroundWorker is not defined
 *		WRONG_ENTRY_FUNCTION	MyBgworkerEntry is a function, not data
 *		WRONG_ENTRY_READONLY	MyBgworkerEntry is read-only data
 *		WRONG_ENTRY_SIZE		MyBgworkerEntry is 4 bytes, not a pointer
 *		(none)					every name, of the right kind: links
 *
 * Nothing here is ever called; only the symbol table matters.
 */
#include <stddef.h>

#if defined(WRONG_ENTRY_FUNCTION)
void		MyBgworkerEntry(void);
void
MyBgworkerEntry(void)
{
}
#elif defined(WRONG_ENTRY_READONLY)
extern void *const MyBgworkerEntry;
void	   *const MyBgworkerEntry = NULL;
#elif defined(WRONG_ENTRY_SIZE)
extern int	MyBgworkerEntry;
int			MyBgworkerEntry = 0;
#else
extern void *MyBgworkerEntry;
void	   *MyBgworkerEntry = NULL;
#endif

#define STUB(name) \
	void name(void); \
	void name(void) {}

STUB(RegisterBackgroundWorker)
STUB(RegisterDynamicBackgroundWorker)
STUB(GetBackgroundWorkerPid)
STUB(WaitForBackgroundWorkerStartup)
STUB(WaitForBackgroundWorkerShutdown)
STUB(GetBackgroundWorkerTypeByPid)
#ifndef WRONG_MISSING_FUNCTION
STUB(TerminateBackgroundWorker)
#endif
STUB(BackgroundWorkerInitializeConnection)
STUB(BackgroundWorkerInitializeConnectionByOid)
STUB(BackgroundWorkerBlockSignals)
STUB(BackgroundWorkerUnblockSignals)
