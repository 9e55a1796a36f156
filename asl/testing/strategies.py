"""Hypothesis strategies: the fault plans a state machine can actually experience.

``fault_plans(machine)`` draws plans over the machine's own Task states (Parallel branches,
Map processors and compensations included), with the errors its Retry and Catch rules
tell apart, and attempt numbers its retriers make meaningful. Plans shrink toward fewer
faults, earlier states, ``States.TaskFailed`` and "every attempt", so a failing property
reports the smallest plan that breaks it.
"""

from __future__ import annotations

from typing import Iterable

from hypothesis import strategies as st

from asl import errors
from asl.analysis import distinguished_errors, walk_states
from asl.retry import find_retrier
from asl.testing.faults import Fault, FaultPlan, TaskInfo, task_states

__all__ = ["fault_plans", "machine_errors", "UNNAMED_ERROR"]

#: An error no Retry or Catch rule names (what an unexpected exception looks like).
UNNAMED_ERROR = "Injected.UnnamedError"
#: Calls of a state inside a Map worth singling out (the first few iterations).
_MAP_CALLS = 3


def machine_errors(state_machine) -> list[str]:
    """The error names the machine's rules distinguish: ``States.TaskFailed`` first, every
    ErrorEquals name but States.ALL and States.Runtime, ``States.Timeout`` (TaskFailed does
    not match it) and :data:`UNNAMED_ERROR`."""
    definition = state_machine if isinstance(state_machine, dict) else state_machine.definition
    names = [errors.TASK_FAILED]
    for ref in walk_states(definition):
        for name in distinguished_errors(ref.definition, unnamed=UNNAMED_ERROR):
            if name not in names and name not in (errors.TIMEOUT, UNNAMED_ERROR):
                names.append(name)
    return names + [errors.TIMEOUT, UNNAMED_ERROR]


def _retry_budget(task: TaskInfo, error: str) -> int:
    """How many retries the first retrier matching ``error`` allows (0: none)."""
    index = find_retrier(task.retriers, error)
    return 0 if index is None else task.retriers[index].max_attempts


def _fault(task: TaskInfo, error: str, attempt, call) -> Fault:
    return Fault(task.name, error, "injected fault", attempt, call,
                 timeout=error == errors.TIMEOUT)


def _faults_of(task: TaskInfo, names: list[str], transient: bool):
    """One fault of one task. A transient task only fails attempts its Retry absorbs."""
    if transient:
        names = [e for e in names if _retry_budget(task, e) > 0]
        if not names:
            return None
    calls = st.none() | st.integers(1, _MAP_CALLS) if task.in_map else st.none()

    def for_error(error: str):
        budget = _retry_budget(task, error)
        if transient:
            attempts = st.integers(1, budget)
        elif budget:
            attempts = st.none() | st.integers(1, budget + 1)
        else:
            attempts = st.none()
        return st.builds(lambda a, c: _fault(task, error, a, None if transient else c),
                         attempts, calls)

    return st.sampled_from(names).flatmap(for_error)


def _transient_ok(plan: FaultPlan, tasks: dict[str, TaskInfo], transient: set) -> bool:
    """A transient state's faults must leave one attempt to succeed."""
    for name in transient:
        faults = [f for f in plan.faults if f.state == name]
        if faults and len(faults) > min(_retry_budget(tasks[name], f.error) for f in faults):
            return False
    return True


def fault_plans(state_machine, errors: Iterable[str] | None = None, max_faults: int = 1,
                states: Iterable[str] | None = None, transient: Iterable[str] = ()):
    """A strategy of :class:`FaultPlan` for ``state_machine`` (a StateMachine or a
    definition dict).

    ``errors``: the error names to inject (default :func:`machine_errors`; a
    ``States.Timeout`` fault is a real timeout, see :class:`Fault`). ``max_faults``: up to
    that many faults per plan, on distinct (state, attempt, call); the empty plan (a
    fault-free run) is included. ``states``: only these Task states fault (default:
    every Task state, compensations included). ``transient``: these states only fail
    attempts their Retry absorbs (never every attempt), e.g. compensations that must
    eventually succeed.
    """
    tasks = task_states(state_machine)
    if states is not None:
        wanted = list(states)
        unknown = set(wanted) - {t.name for t in tasks}
        if unknown:
            raise ValueError(f"not Task states of this machine: {sorted(unknown)}")
        tasks = [t for t in tasks if t.name in wanted]
    names = list(errors) if errors is not None else machine_errors(state_machine)
    transient = set(transient)
    by_name = {t.name: t for t in tasks}
    options = [s for s in (_faults_of(t, names, t.name in transient) for t in tasks) if s is not None]
    if not options or max_faults < 1:
        return st.just(FaultPlan())
    # An index shrinks toward 0: toward the earliest state.
    one = st.integers(0, len(options) - 1).flatmap(lambda i: options[i])
    plans = st.lists(one, max_size=max_faults,
                     unique_by=lambda f: (f.state, f.attempt, f.call)).map(
        lambda faults: FaultPlan(tuple(faults)))
    if transient:
        plans = plans.filter(lambda plan: _transient_ok(plan, by_name, transient))
    return plans
