/*
 * wait_event_set.c -- the C half of src/wait_event_set.rs: each export
 * calls the Rust body, then raises whatever ERROR it recorded, so that no
 * siglongjmp crosses a Rust frame. CreateWaitEventSet takes a memory
 * context in 15 and a resource owner in 17 and 18; the process major
 * decides which the argument is.
 */
#include "pgcompat.h"

typedef struct WaitEventSet WaitEventSet;
typedef struct WaitEvent WaitEvent;

extern uint32_t bgw_rs_pg_major(void);
extern WaitEventSet *bgw_rs_CreateWaitEventSet(void *context, int nevents);
extern int	bgw_rs_AddWaitEventToSet(WaitEventSet *set, uint32_t events, int fd, void *latch,
									 void *user_data);
extern void bgw_rs_ModifyWaitEvent(WaitEventSet *set, int pos, uint32_t events, void *latch);
extern void bgw_rs_FreeWaitEventSet(WaitEventSet *set);
extern int	bgw_rs_WaitEventSetWait(WaitEventSet *set, long timeout, WaitEvent *occurred,
									int nevents, uint32_t wait_event_info);

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

/* 15: (MemoryContext, int); 17, 18: (ResourceOwner, int), not kept. */
WaitEventSet *
bgw_c_CreateWaitEventSet(void *context_or_owner, int nevents)
{
	void	   *context = bgw_rs_pg_major() >= 17 ? NULL : context_or_owner;

	return RAISING(bgw_rs_CreateWaitEventSet(context, nevents));
}

int
bgw_c_AddWaitEventToSet(WaitEventSet *set, uint32_t events, int fd, void *latch,
						void *user_data)
{
	return RAISING(bgw_rs_AddWaitEventToSet(set, events, fd, latch, user_data));
}

void
bgw_c_ModifyWaitEvent(WaitEventSet *set, int pos, uint32_t events, void *latch)
{
	bgw_rs_ModifyWaitEvent(set, pos, events, latch);
	bgw_c_raise_pending();
}

void
bgw_c_FreeWaitEventSet(WaitEventSet *set)
{
	bgw_rs_FreeWaitEventSet(set);
	bgw_c_raise_pending();
}

/* 17, 18: nothing here belongs to the kernel, so the same as freeing. */
void
bgw_c_FreeWaitEventSetAfterFork(WaitEventSet *set)
{
	bgw_c_FreeWaitEventSet(set);
}

int
bgw_c_WaitEventSetWait(WaitEventSet *set, long timeout, WaitEvent *occurred, int nevents,
					   uint32_t wait_event_info)
{
	return RAISING(bgw_rs_WaitEventSetWait(set, timeout, occurred, nevents, wait_event_info));
}
