"""Faults as data: which Task call fails, with which error, and running a machine with them.

A :class:`Fault` names a Task state and the error its call raises instead of running the
real handler (``asl.TaskFailed(error, cause)``, exactly what a handler raising it would
produce), optionally only on one attempt of a visit or on the n-th call of that state.
A :class:`FaultPlan` is a set of faults; :func:`run_with_faults` runs a machine with the
plan applied on top of the real handlers, under a :class:`asl.VirtualClock` by default,
so retry back-off and timeouts cost no real time.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from asl import errors
from asl.analysis import walk_states
from asl.clock import VirtualClock
from asl.errors import TaskFailed
from asl.execution import ExecutionResult
from asl.resources import Invoker
from asl.states.retry import Catcher, Retrier, compile_catchers, compile_retriers

__all__ = ["Fault", "FaultPlan", "FaultRun", "Call", "TaskInfo", "task_states", "run_with_faults"]

#: More than any Task TimeoutSeconds (AWS's maximum is 99,999,999 s).
_FOREVER = 100_000_000.0
#: task_states() of each machine, computed once (machines are immutable).
_TASKS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Fault:
    """One injected failure of a Task state's call.

    ``attempt``: only that 1-based attempt of each visit (``$$.State.RetryCount + 1``);
    None: every attempt. ``call``: only the n-th call of the state in the execution
    (counting every Map iteration and revisit); None: every call. ``timeout=True``: the
    call spends longer than the Task's TimeoutSeconds (in virtual time), so the state
    times out with a real ``States.Timeout`` (a Task without TimeoutSeconds raises
    States.Timeout at once, as nothing could time it out).
    """

    state: str
    error: str = errors.TASK_FAILED
    cause: str = "injected fault"
    attempt: int | None = None
    call: int | None = None
    timeout: bool = False

    def applies(self, state: str, attempt: int, call: int) -> bool:
        return (self.state == state and (self.attempt is None or self.attempt == attempt)
                and (self.call is None or self.call == call))

    def __str__(self) -> str:
        what = "timeout" if self.timeout else self.error
        when = []
        if self.attempt is not None:
            when.append(f"attempt {self.attempt}")
        if self.call is not None:
            when.append(f"call {self.call}")
        return f"{self.state}: {what} ({', '.join(when) or 'every attempt'})"


@dataclass(frozen=True)
class FaultPlan:
    """The faults of one run (the first fault that applies to a call decides)."""

    faults: tuple[Fault, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", tuple(self.faults))

    @classmethod
    def of(cls, *faults: Fault) -> "FaultPlan":
        return cls(tuple(faults))

    def fault_for(self, state: str, attempt: int, call: int) -> Fault | None:
        for fault in self.faults:
            if fault.applies(state, attempt, call):
                return fault
        return None

    def __len__(self) -> int:
        return len(self.faults)

    def __str__(self) -> str:
        return "; ".join(str(f) for f in self.faults) if self.faults else "no faults"


class Call(NamedTuple):
    """One call of a Task's callable during a fault run."""

    state: str
    attempt: int
    faulted: bool


@dataclass(frozen=True)
class TaskInfo:
    """A Task state at any depth, with what fault injection needs to know about it.

    ``timeout``: its static TimeoutSeconds, ``"path"`` for TimeoutSecondsPath, or None.
    ``enclosing``: the Parallel/Map states around it (outermost first); ``in_map`` is True
    when one of them is a Map (the state is called once per item).
    """

    name: str
    resource: str
    retriers: tuple[Retrier, ...]
    catchers: tuple[Catcher, ...]
    timeout: Any = None
    enclosing: tuple[str, ...] = ()
    in_map: bool = False


def _definition_of(state_machine) -> dict:
    return state_machine if isinstance(state_machine, dict) else state_machine.definition


def task_states(state_machine) -> list[TaskInfo]:
    """Every Task state of a StateMachine (or definition dict), Parallel branches and Map
    processors included, in document order, with its compiled retriers and catchers."""
    refs = list(walk_states(_definition_of(state_machine)))
    types = {r.name: r.type for r in refs}
    tasks = []
    for ref in refs:
        if ref.type != "Task":
            continue
        state = ref.definition
        timeout = state.get("TimeoutSeconds", "path" if "TimeoutSecondsPath" in state else None)
        tasks.append(TaskInfo(
            ref.name, state.get("Resource", ""), compile_retriers(state.get("Retry")),
            compile_catchers(state.get("Catch")), timeout, ref.enclosing,
            any(types.get(e) == "Map" for e in ref.enclosing)))
    return tasks


@dataclass
class FaultRun:
    """A run with a fault plan: ``result`` (the ExecutionResult), ``calls`` (every call
    of a Task callable, in order: state, attempt, faulted) and the ``plan``."""

    result: ExecutionResult
    calls: list[Call] = field(default_factory=list)
    plan: FaultPlan = field(default_factory=FaultPlan)

    @property
    def faulted(self) -> list[Call]:
        return [c for c in self.calls if c.faulted]

    # What a property test asserts on first, read through to the result.
    @property
    def status(self) -> str:
        return self.result.status

    @property
    def output(self) -> Any:
        return self.result.output

    @property
    def error(self) -> str | None:
        return self.result.error

    @property
    def cause(self) -> str | None:
        return self.result.cause

    @property
    def history(self) -> list[dict]:
        return self.result.history

    @property
    def states(self) -> list[str]:
        return self.result.states

    def describe(self, events: int = 8) -> str:
        """The plan, the outcome, the path taken and the end of the history: what a
        failing property test needs to show."""
        result = self.result
        lines = [f"fault plan: {self.plan}",
                 f"status: {result.status}" + _error_text(result.error, result.cause),
                 "path: " + (" -> ".join(result.states) or "(no state entered)")]
        calls = ", ".join(f"{c.state}#{c.attempt}" + (" FAULTED" if c.faulted else "")
                          for c in self.calls)
        lines.append(f"calls: {calls or '(none)'}")
        history = result.history
        # The last events, and every earlier error (a caught one is the interesting one).
        shown = {i for i in range(max(0, len(history) - events), len(history))}
        shown |= {i for i, e in enumerate(history) if "error" in _details(e)}
        lines.append(f"history (errors and the last {events} events):")
        previous = -1
        for i in sorted(shown):
            if i != previous + 1:
                lines.append("  ...")
            lines.append("  " + _event_line(history[i]))
            previous = i
        return "\n".join(lines)


def _error_text(error, cause) -> str:
    if error is None and cause is None:
        return ""
    return f" ({error}: {cause})" if cause else f" ({error})"


def _details(event: dict) -> dict:
    return next((v for k, v in event.items() if k.endswith("EventDetails")), None) or {}


def _event_line(event: dict) -> str:
    details = _details(event)
    parts = [f"{event['id']:>3} {event['type']}"]
    if "name" in details:
        parts.append(details["name"])
    if "error" in details:
        parts.append(f"error={details['error']}")
    if details.get("cause"):
        cause = details["cause"]
        parts.append(f"cause={cause[:80] + '...' if len(cause) > 80 else cause}")
    return " ".join(parts)


class _Injector:
    """Wraps every callable of a resources mapping: a call the plan names raises its
    fault; every other call goes to the real handler, unchanged."""

    def __init__(self, plan: FaultPlan, tasks: dict[str, TaskInfo], virtual: bool) -> None:
        self.plan = plan
        self.tasks = tasks
        self.virtual = virtual
        self.calls: list[Call] = []
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def wrap(self, handler):
        invoker = Invoker.of(handler)

        def injected(payload, context):
            if context is None:         # an ItemReader/ResultWriter call: not a Task's
                return invoker(payload, lambda: None)
            state = context.context["State"]
            name = state["Name"]
            attempt = state.get("RetryCount", 0) + 1
            with self.lock:
                call = self.counts[name] = self.counts.get(name, 0) + 1
                fault = self.plan.fault_for(name, attempt, call)
                self.calls.append(Call(name, attempt, fault is not None))
            if fault is None:
                return invoker(payload, lambda: context)
            if fault.timeout:
                self.time_out(name, context)
            raise TaskFailed(fault.error, fault.cause)

        return injected

    def time_out(self, name: str, context) -> None:
        """Spend longer than the Task's TimeoutSeconds: the interpreter raises the real
        States.Timeout. With no timeout to exceed (or real time), raise it directly."""
        task = self.tasks.get(name)
        if self.virtual and task is not None and task.timeout is not None:
            context.sleep(_FOREVER)
        raise TaskFailed(errors.TIMEOUT, "")


def run_with_faults(state_machine, resources: dict, plan: FaultPlan, input: Any = None,
                    clock=None, **execute_kwargs) -> FaultRun:
    """Execute ``state_machine`` with ``plan`` applied on top of the real ``resources``.

    ``clock`` defaults to a fresh ``VirtualClock(start=0, seed=0)``; other keyword
    arguments go to :meth:`asl.StateMachine.execute` (``concurrency=``, ``name=``).
    """
    if not isinstance(plan, FaultPlan):
        plan = FaultPlan(tuple(plan))
    clock = VirtualClock(start=0, seed=0) if clock is None else clock
    tasks = _TASKS.get(state_machine)
    if tasks is None:
        tasks = _TASKS[state_machine] = {t.name: t for t in task_states(state_machine)}
    injector = _Injector(plan, tasks, getattr(clock, "virtual", False))
    wrapped = {key: injector.wrap(value) if callable(value) else value
               for key, value in (resources or {}).items()}
    result = state_machine.execute(input, wrapped, clock=clock, **execute_kwargs)
    return FaultRun(result, injector.calls, plan)
