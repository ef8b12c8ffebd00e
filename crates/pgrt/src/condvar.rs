//! Condition variables (storage/condition_variable.h), barriers
//! (storage/barrier.h), `ProcSendSignal` and `ProcWaitForSignal`
//! (storage/proc.h; the first is an ERROR for a process number outside
//! the array, raised from C): the whole of them is C
//! (c/condvar.c), over the
//! process array (latch.rs: every worker's `PGPROC`, its latch and its
//! `cvWaitLink`) and `ProcGlobal` (procglobal.rs); here their exports
//! under PostgreSQL's names and the per-major facts the C reads.

super::c_export! {
    ConditionVariableInit => bgw_c_ConditionVariableInit,
    ConditionVariablePrepareToSleep => bgw_c_ConditionVariablePrepareToSleep,
    ConditionVariableSleep => bgw_c_ConditionVariableSleep,
    ConditionVariableTimedSleep => bgw_c_ConditionVariableTimedSleep,
    ConditionVariableCancelSleep => bgw_c_ConditionVariableCancelSleep,
    ConditionVariableSignal => bgw_c_ConditionVariableSignal,
    ConditionVariableBroadcast => bgw_c_ConditionVariableBroadcast,
    BarrierInit => bgw_c_BarrierInit,
    BarrierArriveAndWait => bgw_c_BarrierArriveAndWait,
    BarrierArriveAndDetach => bgw_c_BarrierArriveAndDetach,
    BarrierArriveAndDetachExceptLast => bgw_c_BarrierArriveAndDetachExceptLast,
    BarrierAttach => bgw_c_BarrierAttach,
    BarrierDetach => bgw_c_BarrierDetach,
    BarrierPhase => bgw_c_BarrierPhase,
    BarrierParticipants => bgw_c_BarrierParticipants,
    ProcWaitForSignal => bgw_c_ProcWaitForSignal,
    ProcSendSignal => bgw_c_ProcSendSignal,
}

/// `sizeof(PGPROC)` of the process's major.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_proc_size() -> usize {
    super::latch::layout().size
}

/// `offsetof(PGPROC, cvWaitLink)` of the process's major.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_proc_cv_link_offset() -> usize {
    super::latch::layout().cv_wait_link
}

/// Where a `PGPROC` keeps its process number (15's `pgprocno`, 17's and
/// 18's `vxid.procNumber`).
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_proc_number_offset() -> usize {
    super::latch::layout().procno
}

/// The major's invalid process number: 15's `INVALID_PGPROCNO`
/// (`PG_INT32_MAX`), 17's and 18's `INVALID_PROC_NUMBER` (-1), which empty
/// wait lists hold at both ends.
#[unsafe(no_mangle)]
pub extern "C" fn bgw_rs_invalid_proc_number() -> i32 {
    super::procglobal::hdr_layout(bgworker_core::identity::pg_major()).invalid_procno as i32
}
