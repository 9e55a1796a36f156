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
from asl.states.retry import find_retrier
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


class _FaultChoices:
    """What one fault of one task may be: its errors, and for each the attempts that
    mean something (every attempt, or one up to the matching retrier's MaxAttempts+1).
    A transient task only fails attempts its Retry absorbs."""

    def __init__(self, task: TaskInfo, names: list[str], transient: bool) -> None:
        self.task = task
        self.transient = transient
        if transient:
            names = [e for e in names if _retry_budget(task, e) > 0]
        self.errors = names
        self.attempts = []
        for error in names:
            budget = _retry_budget(task, error)
            if transient:
                self.attempts.append(st.integers(1, budget))
            elif budget:
                self.attempts.append(st.none() | st.integers(1, budget + 1))
            else:
                self.attempts.append(st.none())
        self.error_index = st.integers(0, len(names) - 1) if names else None
        self.calls = (st.none() | st.integers(1, _MAP_CALLS)) if task.in_map and not transient else None

    def draw(self, draw) -> Fault:
        i = draw(self.error_index)
        attempt = draw(self.attempts[i])
        call = draw(self.calls) if self.calls is not None else None
        return _fault(self.task, self.errors[i], attempt, call)


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
    unretried = sorted(n for n in transient if n in by_name and not by_name[n].retriers)
    if unretried:
        # They could never fail then: the plans would silently skip them.
        raise ValueError(f"transient states have no Retry to absorb a fault: {unretried}")
    choices = [c for c in (_FaultChoices(t, names, t.name in transient) for t in tasks) if c.errors]
    if not choices or max_faults < 1:
        return st.just(FaultPlan())
    index = st.integers(0, len(choices) - 1)   # shrinks toward 0: the earliest state

    @st.composite
    def one_fault(draw):
        return choices[draw(index)].draw(draw)

    plans = st.lists(one_fault(), max_size=max_faults,
                     unique_by=lambda f: (f.state, f.attempt, f.call)).map(
        lambda faults: FaultPlan(tuple(faults)))
    if transient:
        plans = plans.filter(lambda plan: _transient_ok(plan, by_name, transient))
    return plans
