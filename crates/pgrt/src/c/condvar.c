/*
 * condvar.c -- condition variables (storage/condition_variable.h) and
 * barriers (storage/barrier.h) for workers that coordinate through shared
 * memory, with PostgreSQL's semantics and layouts:
 *
 * - ConditionVariable (12 bytes in 15, 17, 18): a spinlock and a list of
 *   sleeping processes by process number, linked through each sleeper's
 *   PGPROC.cvWaitLink (proclist.h's representation: a node with next and
 *   prev both 0 is in no list; the list ends hold the major's invalid
 *   process number). A sleeper is woken through its PGPROC's latch.
 * - PrepareToSleep puts this process on the list; Sleep/TimedSleep wait on
 *   the process latch until a Signal or Broadcast has taken it off the list
 *   (then it returns, back on the list so that the caller can test its
 *   condition again) or the timeout passes; CancelSleep takes it off and
 *   says whether it had been signalled. Broadcast wakes everyone who was
 *   sleeping when it began, with this process as a sentinel so that
 *   sleepers coming back do not keep it looping.
 * - Barrier (36 bytes): phases, participants, the election of the process
 *   that returns true, over a condition variable.
 *
 * Processes without a PGPROC (the supervisor, a host) may initialise,
 * signal and broadcast; sleeping needs a worker's PGPROC and is an ERROR
 * elsewhere. A worker leaving with a sleep prepared is taken off the list
 * by an on_shmem_exit callback, as PostgreSQL's ProcKill does.
 *
 * Who may call: module code in any process of the runtime; one thread.
 */
#include "pgcompat.h"

#include <time.h>

typedef unsigned char slock_t;

typedef struct
{
	int			head;
	int			tail;
} proclist_head;

typedef struct
{
	int			next;
	int			prev;
} proclist_node;

typedef struct ConditionVariable
{
	slock_t		mutex;
	proclist_head wakeup;
} ConditionVariable;

typedef struct Barrier
{
	slock_t		mutex;
	int			phase;
	int			participants;
	int			arrived;
	int			elected;
	bool		static_party;
	ConditionVariable condition_variable;
} Barrier;

_Static_assert(sizeof(ConditionVariable) == 12, "PostgreSQL's ConditionVariable");
_Static_assert(sizeof(Barrier) == 36, "PostgreSQL's Barrier");

#define WL_LATCH_SET (1 << 0)
#define WL_TIMEOUT (1 << 3)
#define WL_EXIT_ON_PM_DEATH (1 << 5)
#define PROC_LATCH_OFFSET 36

extern void *MyProc;
extern void *MyLatch;
extern void *ProcGlobal;

extern void bgw_c_SetLatch(void *latch);
extern void bgw_c_ResetLatch(void *latch);
extern int	bgw_c_WaitLatch(void *latch, int wakeEvents, long timeout, uint32_t wait_event_info);
extern void bgw_c_on_shmem_exit(void (*function) (int code, Datum arg), Datum arg);
extern int	bgw_rs_s_lock(volatile unsigned char *lock, const char *file,
						  int line, const char *func);

/* The process major's PGPROC facts (latch.rs). */
extern size_t bgw_rs_proc_size(void);
extern size_t bgw_rs_proc_cv_link_offset(void);
extern size_t bgw_rs_proc_number_offset(void);
extern int	bgw_rs_invalid_proc_number(void);
extern uint32_t bgw_rs_pg_major(void);

#define CHECK_INTERRUPTS() do { if (InterruptPending) bgw_c_ProcessInterrupts(); } while (0)

/* The condition variable this process prepared to sleep on, if any. */
static ConditionVariable *cv_sleep_target = NULL;
static bool exit_callback_registered = false;

static void
spin_acquire(volatile slock_t *lock)
{
	if (__sync_lock_test_and_set(lock, 1))
		(void) bgw_rs_s_lock(lock, __FILE__, __LINE__, __func__);
}

static void
spin_release(volatile slock_t *lock)
{
	__sync_lock_release(lock);
}

/* ---- the wait list: process numbers linked through PGPROC.cvWaitLink ---- */

static char *
proc_of(int procno)
{
	char	   *all = ProcGlobal ? *(char **) ProcGlobal : NULL;

	return all + (size_t) procno * bgw_rs_proc_size();
}

static proclist_node *
node_of(int procno)
{
	return (proclist_node *) (proc_of(procno) + bgw_rs_proc_cv_link_offset());
}

static int
my_procno(void)
{
	return *(int *) ((char *) MyProc + bgw_rs_proc_number_offset());
}

static void
list_init(proclist_head *list)
{
	list->head = list->tail = bgw_rs_invalid_proc_number();
}

static bool
list_is_empty(const proclist_head *list)
{
	return list->head == bgw_rs_invalid_proc_number();
}

static bool
list_contains(int procno)
{
	proclist_node *n = node_of(procno);

	return !(n->next == 0 && n->prev == 0);
}

static void
list_push_tail(proclist_head *list, int procno)
{
	int			invalid = bgw_rs_invalid_proc_number();
	proclist_node *n = node_of(procno);

	n->next = invalid;
	n->prev = list->tail;
	if (list->tail == invalid)
		list->head = procno;
	else
		node_of(list->tail)->next = procno;
	list->tail = procno;
}

static void
list_delete(proclist_head *list, int procno)
{
	int			invalid = bgw_rs_invalid_proc_number();
	proclist_node *n = node_of(procno);

	if (n->prev == invalid)
		list->head = n->next;
	else
		node_of(n->prev)->next = n->next;
	if (n->next == invalid)
		list->tail = n->prev;
	else
		node_of(n->next)->prev = n->prev;
	n->next = n->prev = 0;
}

/* The first sleeper taken off the list, or -1 when it is empty. */
static int
list_pop_head(proclist_head *list)
{
	int			procno;

	if (list_is_empty(list))
		return -1;
	procno = list->head;
	list_delete(list, procno);
	return procno;
}

static void
wake(int procno)
{
	bgw_c_SetLatch(proc_of(procno) + PROC_LATCH_OFFSET);
}

/* ---- condition variables ---- */

void
bgw_c_ConditionVariableInit(ConditionVariable *cv)
{
	cv->mutex = 0;
	list_init(&cv->wakeup);
}

bool		bgw_c_ConditionVariableCancelSleep(void);

static void
cancel_at_exit(int code, Datum arg)
{
	(void) bgw_c_ConditionVariableCancelSleep();
}

static void
need_proc(const char *function)
{
	if (MyProc == NULL || ProcGlobal == NULL)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
					bgw_c_errmsg_internal("%s needs a background worker's process entry", function));
}

void
bgw_c_ConditionVariablePrepareToSleep(ConditionVariable *cv)
{
	need_proc("ConditionVariablePrepareToSleep");
	if (!exit_callback_registered)
	{
		bgw_c_on_shmem_exit(cancel_at_exit, 0);
		exit_callback_registered = true;
	}
	if (cv_sleep_target != NULL)
		(void) bgw_c_ConditionVariableCancelSleep();
	cv_sleep_target = cv;
	spin_acquire(&cv->mutex);
	list_push_tail(&cv->wakeup, my_procno());
	spin_release(&cv->mutex);
}

static long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long) (now.tv_sec - since->tv_sec) * 1000L +
		(long) ((now.tv_nsec - since->tv_nsec) / 1000000L);
}

/*
 * Wait until signalled or until `timeout` ms (-1: no timeout) have passed;
 * true on a timeout. Without a prepared sleep on `cv`, prepares one and
 * returns false at once (the caller tests its condition first).
 */
bool
bgw_c_ConditionVariableTimedSleep(ConditionVariable *cv, long timeout, uint32_t wait_event_info)
{
	struct timespec start;
	long		left = timeout;
	int			events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;

	need_proc("ConditionVariableTimedSleep");
	if (cv_sleep_target != cv)
	{
		bgw_c_ConditionVariablePrepareToSleep(cv);
		return false;
	}
	if (timeout >= 0)
	{
		clock_gettime(CLOCK_MONOTONIC, &start);
		events |= WL_TIMEOUT;
	}
	for (;;)
	{
		bool		signalled = false;
		int			me = my_procno();

		(void) bgw_c_WaitLatch(MyLatch, events, left, wait_event_info);
		bgw_c_ResetLatch(MyLatch);

		/* Taken off the list: signalled. Back on it for the next test. */
		spin_acquire(&cv->mutex);
		if (!list_contains(me))
		{
			signalled = true;
			list_push_tail(&cv->wakeup, me);
		}
		spin_release(&cv->mutex);

		CHECK_INTERRUPTS();
		if (signalled)
			return false;
		if (timeout >= 0)
		{
			left = timeout - elapsed_ms(&start);
			if (left <= 0)
				return true;
		}
	}
}

void
bgw_c_ConditionVariableSleep(ConditionVariable *cv, uint32_t wait_event_info)
{
	(void) bgw_c_ConditionVariableTimedSleep(cv, -1, wait_event_info);
}

/* 15 declares it void; 17 and 18 return whether a signal had come. */
bool
bgw_c_ConditionVariableCancelSleep(void)
{
	ConditionVariable *cv = cv_sleep_target;
	bool		signalled = false;
	int			me;

	if (cv == NULL)
		return false;
	me = my_procno();
	spin_acquire(&cv->mutex);
	if (list_contains(me))
		list_delete(&cv->wakeup, me);
	else
		signalled = true;
	spin_release(&cv->mutex);
	cv_sleep_target = NULL;
	return signalled;
}

void
bgw_c_ConditionVariableSignal(ConditionVariable *cv)
{
	int			procno;

	spin_acquire(&cv->mutex);
	procno = list_pop_head(&cv->wakeup);
	spin_release(&cv->mutex);
	if (procno >= 0)
		wake(procno);
}

void
bgw_c_ConditionVariableBroadcast(ConditionVariable *cv)
{
	int			me = -1;
	int			procno;
	bool		sentinel = false;

	/*
	 * The sentinel is this process's one cvWaitLink: any prepared sleep, on
	 * this variable or another, is cancelled first, or pushing the sentinel
	 * would relink a node that is still in that other variable's list (the
	 * caller's next ConditionVariableSleep prepares it again).
	 */
	if (cv_sleep_target != NULL)
		(void) bgw_c_ConditionVariableCancelSleep();
	if (MyProc != NULL && ProcGlobal != NULL)
		me = my_procno();

	if (me < 0)
	{
		/* No process entry to mark the end with: wake everyone listed. */
		for (;;)
		{
			spin_acquire(&cv->mutex);
			procno = list_pop_head(&cv->wakeup);
			spin_release(&cv->mutex);
			if (procno < 0)
				return;
			wake(procno);
		}
	}

	spin_acquire(&cv->mutex);
	procno = list_pop_head(&cv->wakeup);
	if (procno >= 0 && !list_is_empty(&cv->wakeup))
	{
		/* Everyone after us came back after this broadcast began. */
		list_push_tail(&cv->wakeup, me);
		sentinel = true;
	}
	spin_release(&cv->mutex);
	if (procno >= 0)
		wake(procno);

	while (sentinel)
	{
		spin_acquire(&cv->mutex);
		procno = list_pop_head(&cv->wakeup);
		sentinel = list_contains(me);
		spin_release(&cv->mutex);
		if (procno >= 0 && procno != me)
			wake(procno);
	}
}

/* ---- storage/proc.h's ProcSendSignal and ProcWaitForSignal ---- */

/* PROC_HDR.allProcCount, at the same offset in every major (procglobal.rs). */
#define PROC_HDR_ALL_PROC_COUNT_OFFSET 32

/*
 * Set the latch of the process with process number `procno`; a number
 * outside the process array (or no array: a process of no supervisor) is
 * PostgreSQL's ERROR, in the major's words.
 */
void
bgw_c_ProcSendSignal(int procno)
{
	uint32_t	count = ProcGlobal ?
		*(uint32_t *) ((char *) ProcGlobal + PROC_HDR_ALL_PROC_COUNT_OFFSET) : 0;

	if (procno < 0 || (uint32_t) procno >= count)
		bgw_ereport(ERROR, bgw_c_errcode(ERRCODE_INTERNAL_ERROR),
					bgw_c_errmsg_internal("%s out of range",
										  bgw_rs_pg_major() >= 17 ? "procNumber" : "pgprocno"));
	wake(procno);
}


void
bgw_c_ProcWaitForSignal(uint32_t wait_event_info)
{
	(void) bgw_c_WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, 0, wait_event_info);
	bgw_c_ResetLatch(MyLatch);
	CHECK_INTERRUPTS();
}

/* ---- barriers ---- */

void
bgw_c_BarrierInit(Barrier *barrier, int participants)
{
	barrier->mutex = 0;
	barrier->participants = participants;
	barrier->arrived = 0;
	barrier->phase = 0;
	barrier->elected = 0;
	barrier->static_party = participants > 0;
	bgw_c_ConditionVariableInit(&barrier->condition_variable);
}

/*
 * Arrive and wait for the others; true for one participant per phase (the
 * last to arrive, or, when a detach advanced the phase, the first waiter
 * to notice).
 */
bool
bgw_c_BarrierArriveAndWait(Barrier *barrier, uint32_t wait_event_info)
{
	bool		release = false;
	bool		elected = false;
	int			start_phase;
	int			next_phase;

	spin_acquire(&barrier->mutex);
	start_phase = barrier->phase;
	next_phase = start_phase + 1;
	if (++barrier->arrived == barrier->participants)
	{
		release = true;
		barrier->arrived = 0;
		barrier->phase = next_phase;
		barrier->elected = next_phase;
	}
	spin_release(&barrier->mutex);
	if (release)
	{
		bgw_c_ConditionVariableBroadcast(&barrier->condition_variable);
		return true;
	}

	bgw_c_ConditionVariablePrepareToSleep(&barrier->condition_variable);
	for (;;)
	{
		spin_acquire(&barrier->mutex);
		release = barrier->phase == next_phase;
		if (release && barrier->elected != next_phase)
		{
			barrier->elected = barrier->phase;
			elected = true;
		}
		spin_release(&barrier->mutex);
		if (release)
			break;
		bgw_c_ConditionVariableSleep(&barrier->condition_variable, wait_event_info);
	}
	(void) bgw_c_ConditionVariableCancelSleep();
	return elected;
}

/* Leave; with `arrive`, also advance the phase when nobody else is left. */
static bool
detach(Barrier *barrier, bool arrive)
{
	bool		release = false;
	bool		last;

	spin_acquire(&barrier->mutex);
	--barrier->participants;
	if ((arrive || barrier->participants > 0) &&
		barrier->arrived == barrier->participants)
	{
		release = true;
		barrier->arrived = 0;
		++barrier->phase;
	}
	last = barrier->participants == 0;
	spin_release(&barrier->mutex);
	if (release)
		bgw_c_ConditionVariableBroadcast(&barrier->condition_variable);
	return last;
}

bool
bgw_c_BarrierArriveAndDetach(Barrier *barrier)
{
	return detach(barrier, true);
}

/* All but the last to arrive leave; the last stays, and the phase advances. */
bool
bgw_c_BarrierArriveAndDetachExceptLast(Barrier *barrier)
{
	spin_acquire(&barrier->mutex);
	if (barrier->participants > 1)
	{
		--barrier->participants;
		spin_release(&barrier->mutex);
		return false;
	}
	++barrier->phase;
	spin_release(&barrier->mutex);
	return true;
}

int
bgw_c_BarrierAttach(Barrier *barrier)
{
	int			phase;

	spin_acquire(&barrier->mutex);
	++barrier->participants;
	phase = barrier->phase;
	spin_release(&barrier->mutex);
	return phase;
}

bool
bgw_c_BarrierDetach(Barrier *barrier)
{
	return detach(barrier, false);
}

int
bgw_c_BarrierPhase(Barrier *barrier)
{
	return barrier->phase;
}

int
bgw_c_BarrierParticipants(Barrier *barrier)
{
	int			participants;

	spin_acquire(&barrier->mutex);
	participants = barrier->participants;
	spin_release(&barrier->mutex);
	return participants;
}
