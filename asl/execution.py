"""Running a compiled machine: the run loop, threads of execution, the Context object.

Three objects share the work:

* :class:`Run` holds what one execution shares across all its branches: identity and
  ARNs, the resources, the history, the stop signal, the task-token mailbox.
* :class:`Frame` is one thread of execution: the top level, a Parallel branch or a Map
  iteration. It implements :class:`asl.states.base.Frame`, the protocol states run
  against: it walks a scope state by state, records the events of that thread (each
  event's ``previousEventId`` is the previous event *of the same thread*), keeps the
  variables visible there, builds ``$$`` lazily, and runs user code so that a stop or
  a deadline is never lost while that code blocks.
* :class:`Execution` is the handle users hold: ``result()``, ``stop()``, and the
  SendTask* calls for ``.waitForTaskToken`` tasks.

A durable host (``asl serve``) gives the run a :class:`Journal`: every event and every
step of each scope is written there as it happens, and :func:`restore_run` rebuilds the
run from it after the host was killed, so the same run loop goes on where it was.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Protocol, Sequence

from asl import errors
from asl.clock import RealClock
from asl.errors import Aborted, ExecutionTimedOut, StatesError
from asl.history import MAX_EVENTS, History, HistoryLimitExceeded
from asl.language import evaluation
from asl.language.timestamps import format_timestamp
from asl.payload import PAYLOAD_LIMIT, check_size
from asl.payload import clone
from asl.payload import copy as copy_json
from asl.resources import TaskContext
from asl.states import Scope
from asl.states.base import CallTimedOut
from asl.states.task import TaskTokens

_LOCATED_ERRORS = (errors.RUNTIME, errors.QUERY_EVALUATION_ERROR)
#: All the variables of one execution hold at most 10 MiB (AWS quota).
VARIABLES_LIMIT = 10 * 1024 * 1024
#: A Standard execution's longest run (AWS quota: one year), enforced under a VirtualClock.
MAX_EXECUTION_SECONDS = 365 * 86400.0
#: An Express execution's longest run (AWS quota: five minutes), enforced under any clock.
MAX_EXPRESS_SECONDS = 300.0

#: How often a real-time sleep or a call on a worker looks at the stop and the deadline.
_POLL_SECONDS = 0.05


class _Cancel:
    """A stop signal that also fires when any enclosing one fires."""

    __slots__ = ("parent", "fired")

    def __init__(self, parent: "_Cancel | None" = None) -> None:
        self.parent = parent
        self.fired = False

    def is_set(self) -> bool:
        scope = self
        while scope is not None:
            if scope.fired:
                return True
            scope = scope.parent
        return False


def _utc(epoch: float) -> str:
    return format_timestamp(datetime.fromtimestamp(epoch, tz=timezone.utc))


# -- worker threads for user code -----------------------------------------------------------

class _Call:
    """One call of user code handed to a worker: its outcome, once there."""

    __slots__ = ("function", "done", "result", "error")

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None


class _Worker(threading.Thread):
    """A daemon thread running calls of user code. Idle workers are reused, so a call
    costs a hand-off, not a thread start; a worker whose call was abandoned (it blocks
    past a stop or a deadline) simply finishes it later, its outcome unread. Daemon:
    a callable that never returns cannot keep the process alive."""

    _idle: list["_Worker"] = []
    _pool_lock = threading.Lock()
    _MAX_IDLE = 16

    def __init__(self) -> None:
        super().__init__(name="asl-call", daemon=True)
        self.calls: queue.SimpleQueue = queue.SimpleQueue()

    @classmethod
    def submit(cls, function: Callable[[], Any]) -> _Call:
        call = _Call(function)
        with cls._pool_lock:
            worker = cls._idle.pop() if cls._idle else None
        if worker is None:
            worker = cls()
            worker.start()
        worker.calls.put(call)
        return call

    def run(self) -> None:
        while True:
            call = self.calls.get()
            try:
                call.result = call.function()
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                call.error = exc
            call.function = None
            call.done.set()
            with self._pool_lock:
                if len(self._idle) >= self._MAX_IDLE:
                    return
                self._idle.append(self)


@dataclass(frozen=True)
class Identity:
    """Names and ARNs the Context object and history report."""

    state_machine_name: str
    region: str
    account: str
    role_arn: str
    type: str = "STANDARD"            # or "EXPRESS"

    @property
    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{self.state_machine_name}"

    @property
    def express(self) -> bool:
        return self.type == "EXPRESS"

    def execution_arn(self, execution_name: str) -> str:
        if self.express:    # AWS: ...:express:<machine>:<name>:<a run id of its own>
            return (f"arn:aws:states:{self.region}:{self.account}:express:"
                    f"{self.state_machine_name}:{execution_name}:{uuid.uuid4()}")
        return (f"arn:aws:states:{self.region}:{self.account}:execution:"
                f"{self.state_machine_name}:{execution_name}")


class ListenerFailed(Exception):
    """The ``on_event`` listener raised: the execution ends FAILED, saying so."""


class _Listener:
    """The user's ``on_event`` listener, given copies (it cannot change the state data or
    the history) and kept apart from asl's own faults when it raises."""

    __slots__ = ("function",)

    def __init__(self, function) -> None:
        self.function = function

    def __call__(self, event_type: str, details: dict) -> None:
        try:
            self.function(event_type, clone(details))
        except Exception as exc:  # noqa: BLE001 - the caller's bug, reported as theirs
            raise ListenerFailed(f"the on_event listener raised {type(exc).__name__}: {exc} "
                                 f"(on the {event_type} event)") from exc


class Journal(Protocol):
    """Where a durable host keeps a run as it goes. Records may be held until ``flush()``,
    which returns once every record so far is safe (asl serve: committed to SQLite). The
    run flushes at each state transition, when a branch or iteration ends, before it
    hands control to anything outside it (user code, a wait, a token's answer) and when
    it ends: a kill loses no finished transition, and a state it interrupts runs again
    from the start of its attempt (user code called again, with the same attempt id).

    ``path`` names a scope: ``()`` the top level, each ``(state name, index)`` below it one
    Parallel branch or Map iteration. ``event(path, event, own)``: an event the thread at
    ``path`` recorded, compact (``(id, type, time, previous id, details)``); ``own`` is
    False for a Distributed Map child's (its history is not the execution's).
    ``record(kind, path, body)``, ``kind`` one of:

    * ``"next"``: the scope moves on to state ``body`` (None: the scope ended);
    * ``"begin"``: the branch or iteration at ``path`` starts (``body``: isolated, i.e. a
      Distributed Map child with variables of its own);
    * ``"done"``: it succeeded with output ``body``; ``"failed"``: it failed
      (``body``: [error, cause]);
    * ``"retry"``: the state in progress waits to be retried (``body``: [the retriers'
      counters, the epoch second it retries at, its RetryCount then]);
    * ``"redrive"``: a redrive starts (``body``: its count).
    """

    def event(self, path: tuple, event: tuple, own: bool) -> None: ...
    def record(self, kind: str, path: tuple, body: Any) -> None: ...
    def flush(self) -> None: ...


class Run:
    """What every thread of one execution shares (:class:`asl.states.base.RunView`)."""

    def __init__(self, identity: Identity, execution_name: str, input_value: Any,
                 resources: dict, clock, concurrency: str, timeout: float | None,
                 synchronous: bool, listener=None) -> None:
        self.identity = identity
        self.region = identity.region
        self._name = execution_name     # None: a UUID, made only if someone asks
        self._arn: str | None = None
        self.input = input_value
        self.input_size = None
        self.variables_size = 0         # bytes of all variables stored, by name below
        self.variable_sizes: dict[str, int] = {}
        self.resources = resources
        self.clock = clock
        self.concurrency = concurrency
        self.synchronous = synchronous
        # start(): anyone may stop it, so user code runs where a stop can leave it behind
        self.stoppable = not synchronous
        # called with (event type, a copy of the details) as events happen
        self.listener = None if listener is None else _Listener(listener)
        # Express workflows have no history quota (AWS keeps none; asl does, for the tests).
        self.history = History(None if identity.express else MAX_EVENTS)
        self.states: list[str] = []
        self.cancel = _Cancel()
        self.stop_reason: tuple[str | None, str | None] | None = None
        self.start_time = clock.time()
        if identity.express:    # five minutes at most, whatever the clock
            timeout = MAX_EXPRESS_SECONDS if timeout is None else min(timeout, MAX_EXPRESS_SECONDS)
        elif clock.virtual:     # AWS ends any execution after one year; real time never gets there
            timeout = MAX_EXECUTION_SECONDS if timeout is None else min(timeout, MAX_EXECUTION_SECONDS)
        self.deadline = None if timeout is None else self.start_time + timeout
        self.tokens = TaskTokens(clock)
        self.log = _ScopeLog()          # where each scope stands, for a redrive
        self.journal: Journal | None = None   # a durable host's record of the run
        self.restarted = False          # restored from a journal: go on where it was
        self._token_seed: str | None = None  # task tokens derive from it (stored: stable)
        self.redrive_count = 0
        self.redrive_time = 0.0
        self._lock = threading.Lock()
        self._context_execution = None
        self.context_state_machine = {"Id": identity.state_machine_arn,
                                      "Name": identity.state_machine_name}

    @property
    def token_seed(self) -> str:
        if self._token_seed is None:        # made only when a task asks for a token
            self._token_seed = uuid.uuid4().hex
        return self._token_seed

    @token_seed.setter
    def token_seed(self, seed: str) -> None:
        self._token_seed = seed

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = str(uuid.uuid4())
        return self._name

    @property
    def arn(self) -> str:
        if self._arn is None:
            self._arn = self.identity.execution_arn(self.name)
        return self._arn

    @property
    def context_execution(self) -> dict:
        """``$$.Execution``, built the first time some state reads ``$$``."""
        if self._context_execution is None:
            execution = {
                "Id": self.arn, "Input": self.input, "Name": self.name,
                "RoleArn": self.identity.role_arn, "StartTime": _utc(self.start_time)}
            if not self.identity.express:     # Express executions cannot be redriven
                execution["RedriveCount"] = self.redrive_count
                if self.redrive_count:
                    execution["RedriveTime"] = _utc(self.redrive_time)
            self._context_execution = execution
        return self._context_execution

    def map_run_arn(self, state_name: str, label: str | None = None) -> str:
        i = self.identity
        return (f"arn:aws:states:{i.region}:{i.account}:mapRun:{i.state_machine_name}/"
                f"{label or state_name}:{uuid.uuid5(uuid.NAMESPACE_URL, self.arn + state_name)}")


class _ScopeLog:
    """Where one scope of a run stands, for a redrive: the state it was running (and that
    state's input and the variables then), and the branches and iterations of its
    Parallel and Map states, with the outputs of those that succeeded.

    The run writes it as it goes (two attribute writes a state); a redrive starts each
    unfinished scope at its unfinished state and reuses every branch or iteration that
    succeeded, as AWS's RedriveExecution does.

    A restart (:func:`restore_run`) rebuilds it from a journal, with what only a restart
    needs: the events each scope will record again while it re-runs its state (they are
    already in the history: ``pending``), the Retry back-off it was in, which branches
    failed, and whether the scope had ended.
    """

    __slots__ = ("state", "data", "size", "variables", "children", "done", "resume", "path",
                 "failed", "restart", "ended")

    def __init__(self, path: tuple = ()) -> None:
        self.path = path                       # its place in the run (Journal paths)
        self.state: str | None = None          # None: not started, or finished
        self.data: Any = None
        self.size: int | None = None
        self.variables: dict | None = None
        self.children: dict[tuple[str, int], "_ScopeLog"] = {}
        self.done: dict[tuple[str, int], Any] = {}
        self.failed: dict[tuple[str, int], tuple] = {}
        self.resume = False                    # a redrive starts this scope at ``state``
        self.restart: _Restart | None = None   # ... a restart re-runs it from there
        self.ended = False                     # a restart found it past its last state

    def mark_for_redrive(self) -> None:
        self.resume = self.state is not None
        self.restart = None
        for child in self.children.values():
            child.mark_for_redrive()



@dataclass(slots=True)
class _Restart:
    """What a scope re-runs after a restart: ``pending``, the events it recorded in the
    state it was in (and, for a branch, before its first state), which it will record
    again; ``previous``, its last event's id; ``retry``, the Retry back-off it was in
    (the retriers' counters, the epoch second it retries at, its RetryCount)."""

    pending: list = field(default_factory=list)
    previous: int = 0
    retry: tuple | None = None


class Frame:
    """One thread of execution: walks a scope, records its events, holds its variables."""

    __slots__ = ("run", "clock", "variables", "previous", "cancel", "state", "entered_id",
                 "entered_time", "retry_count", "_context", "task_token", "history", "entered",
                 "entered_previous", "log", "resumed", "replaying")

    def __init__(self, run: Run, clock, variables: dict, previous: int, cancel: _Cancel) -> None:
        self.run = run
        self.history = run.history      # a Distributed Map child has a history of its own
        self.entered = run.states       # ... and its states are not the parent's
        self.clock = clock
        self.variables = variables
        self.previous = previous
        self.cancel = cancel
        self.state = None
        self.entered_id = 0
        self.entered_time = 0.0
        self.retry_count = 0
        self._context = None
        self.task_token = None
        self.entered_previous = 0
        self.log = run.log              # this scope's _ScopeLog (a branch's is its own)
        self.resumed: str | None = None # the state a redrive resumed this frame at
        # After a restart: the events this thread recorded before, which re-running its
        # state records again; each is matched instead of recorded twice (None: none).
        self.replaying: list | None = None

    # -- the Context object ($$) --------------------------------------------------------

    @property
    def context(self) -> dict:
        context = self._context
        if context is None:
            state = {"Name": self.state.name if self.state else None,
                     "EnteredTime": _utc(self.entered_time)}
            if self.state is not None and self.state.retries:
                state["RetryCount"] = self.retry_count
            context = {"Execution": self.run.context_execution, "State": state,
                       "StateMachine": self.run.context_state_machine}
            if self.task_token is not None:
                context["Task"] = {"Token": self.task_token}
            self._context = context
        return context

    # -- history ------------------------------------------------------------------------

    def event(self, event_type: str, details: dict | None = None) -> int:
        if self.replaying:
            recorded = self._replayed(event_type)
            if recorded is not None:
                return recorded[0]
        now, previous = self.clock.time(), self.previous
        self.previous = event_id = self.history.add(event_type, now, previous, details)
        run = self.run
        if run.journal is not None:
            run.journal.event(self.log.path, (event_id, event_type, now, previous, details),
                              self.history is run.history)
        if run.listener is not None:
            run.listener(event_type, details or {})
        return event_id

    def _replayed(self, event_type: str) -> tuple | None:
        """The recorded event this one repeats after a restart, or None (and no more
        replay: from here on the thread does what it had not done yet)."""
        replaying = self.replaying
        if replaying[0][1] == event_type:
            recorded = replaying.pop(0)
            self.previous = recorded[0]
            return recorded
        self.replaying = None
        return None

    def replays(self, event_type: str) -> bool:
        """After a restart: whether this thread had already recorded ``event_type`` as
        the next thing it does (a task whose callable had returned)."""
        return bool(self.replaying) and self.replaying[0][1] == event_type

    def check(self) -> None:
        if self.cancel.is_set():
            raise Aborted()
        deadline = self.run.deadline
        if deadline is not None and self.clock.time() >= deadline:
            raise ExecutionTimedOut()

    def enter(self, state, raw: Any) -> None:
        self.check()
        if state.jsonata:           # a runaway expression looks at this frame's stop/timeout
            evaluation.check = self.check
            evaluation.stoppable = self.run.stoppable
            evaluation.deadline = None if self.clock.virtual else self.run.deadline
        self.state = state
        self.retry_count = 0
        self.task_token = None
        self._context = None
        if self.replaying:        # a restart re-entering the state it was in: already recorded
            recorded = self._replayed(state.entered_event)
            if recorded is not None:
                self.entered_id, _, self.entered_time, self.entered_previous, _ = recorded
                return
        self.entered_time = self.clock.time()
        self.entered_previous = self.previous
        self.entered_id = self.event(state.entered_event, {"name": state.name, "input": raw})
        self.entered.append(state.name)

    def exit(self, state, output: Any, assigned: dict | None) -> None:
        details = {"name": state.name, "output": output}
        if assigned:
            self._check_variable_sizes(state, assigned)
            self.variables = {**self.variables, **assigned}
            details["assignedVariables"] = assigned
        self.event(state.exited_event, details)

    def _check_variable_sizes(self, state, assigned: dict) -> None:
        """AWS's quotas: one variable and one Assign at most 256 KiB, all the variables of
        an execution at most 10 MiB (States.DataLimitExceeded otherwise)."""
        sizes = {name: check_size(value, state.name)   # 256 KiB per variable
                 for name, value in assigned.items()}
        if sum(sizes.values()) > PAYLOAD_LIMIT:
            raise StatesError(errors.DATA_LIMIT_EXCEEDED,
                              f"The assignments of state '{state.name}' exceed the 256 KiB "
                              "limit for one Assign.")
        run = self.run
        with run._lock:           # what is stored: a reassigned variable replaces its value
            for name, size in sizes.items():
                run.variables_size += size - run.variable_sizes.get(name, 0)
                run.variable_sizes[name] = size
            over = run.variables_size > VARIABLES_LIMIT
        if over:
            raise StatesError(errors.DATA_LIMIT_EXCEEDED,
                              "The variables of this execution exceed the 10 MiB limit.")

    def issue_task_token(self) -> str:
        """A fresh ``$$.Task.Token`` for this attempt of a ``.waitForTaskToken`` task."""
        self.task_token = self.attempt_id()
        self._context = None
        return self.task_token

    def attempt_id(self) -> str:
        """An id of this attempt of the current state, unique in the execution and the same
        when a restart runs the attempt again (the task token is it): 64 hex digits."""
        seed = f"{self.run.token_seed}|{self.log.path}|{self.entered_id}|{self.retry_count}"
        return hashlib.sha256(seed.encode()).hexdigest()

    def locate(self, exc: StatesError) -> None:
        """Prefix a runtime error's cause with the state it happened in, as AWS does."""
        if exc.error in _LOCATED_ERRORS and not exc.located and self.state:
            exc.cause = errors.RUNTIME_CAUSE_PREFIX.format(
                state=self.state.name, event_id=self.entered_id) + exc.cause
            exc.located = True

    def retrying(self, state, exc: StatesError, delay: float, intended: float,
                 counters: list[int] | None = None) -> None:
        run = self.run
        if run.listener is not None:        # a notice for live traces, not a history event
            run.listener("Retry", {"name": state.name, "error": exc.error,
                                   "cause": exc.cause, "delay": delay,
                                   "attempt": self.retry_count + 1})
        if run.journal is not None:
            run.journal.record("retry", self.log.path, [list(counters or ()),
                                                       self.clock.time() + delay,
                                                       self.retry_count + 1])
        self.sleep(delay, state.name, "Retry", intended)
        self.retry_count += 1
        self._context = None

    def resumed_retries(self, state) -> list[int] | None:
        """After a restart in the Retry back-off of ``state``: wait out what is left of it
        and return the retriers' counters then (None: not resuming a back-off)."""
        restart = self.log.restart
        if restart is None or restart.retry is None:
            return None
        counters, wake_at, retry_count = restart.retry
        restart.retry = None
        self.sleep(max(0.0, wake_at - self.clock.time()), state.name, "Retry")
        self.retry_count = retry_count
        self._context = None
        return list(counters)

    def caught(self, state, exc: StatesError, next_state: str) -> None:
        """The history shows a catch only as the state's Exited event: tell live traces."""
        if self.run.listener is not None:
            self.run.listener("Catch", {"name": state.name, "error": exc.error,
                                        "cause": exc.cause, "next": next_state})

    # -- time ---------------------------------------------------------------------------

    def sleep(self, seconds: float, state_name: str, kind: str, intended: float | None = None) -> None:
        """Sleep on this thread's clock; cut short by a stop, a sibling's failure or the
        machine's TimeoutSeconds."""
        run = self.run
        self.commit()
        self.check()
        timed_out = False
        if run.deadline is not None:
            remaining = run.deadline - self.clock.time()
            if seconds >= remaining:
                seconds, timed_out = max(0.0, remaining), True
        if self.clock.virtual:
            self.clock.sleep(seconds, state=state_name, kind=kind, intended=intended)
        else:
            end = time.monotonic() + seconds
            while True:
                if self.cancel.is_set():
                    raise Aborted()
                left = end - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, _POLL_SECONDS))
        if timed_out:
            raise ExecutionTimedOut()
        if self.cancel.is_set():
            raise Aborted()

    def commit(self) -> None:
        """Make what the run recorded so far durable (a durable host's journal)."""
        journal = self.run.journal
        if journal is not None:
            journal.flush()

    # -- user code ------------------------------------------------------------------------

    def call(self, function: Callable[[], Any], *, limit: float | None = None) -> Any:
        """Run user code; see :meth:`asl.states.base.Frame.call`.

        On this thread when nothing could need to interrupt it (a synchronous run, no
        real-time deadline, no limit): the common case pays no hand-off. Otherwise on a
        worker, while this thread watches the stop signal, the machine's deadline and
        ``limit`` (real seconds, whatever the clock), and leaves the call behind when one
        of them fires: AWS does not wait for a task that is no longer wanted either.
        """
        run = self.run
        self.commit()
        real_deadline = run.deadline if not self.clock.virtual else None
        if limit is None and real_deadline is None and not run.stoppable:
            return function()
        call = _Worker.submit(function)
        give_up = None if limit is None else time.monotonic() + limit
        while True:
            wait = _POLL_SECONDS
            if give_up is not None:
                wait = min(wait, max(0.0, give_up - time.monotonic()))
            if call.done.wait(wait):
                break
            self.check()
            if give_up is not None and time.monotonic() >= give_up:
                raise CallTimedOut()
        if call.error is not None:
            error, call.error = call.error, None
            raise error
        return call.result

    def task_context(self, token: str | None, sleep: Callable[[float], None],
                     logs: list | None = None) -> TaskContext:
        return TaskContext(clone(self.context), token, self.run.tokens,
                           self.state.name if self.state else "", sleep, logs,
                           attempt_id=token or self.attempt_id())

    # -- scopes -------------------------------------------------------------------------

    def run_scope(self, scope: Scope, data: Any, size: int | None = None) -> Any:
        """Walk a scope from StartAt until a state ends it; returns the final output."""
        states = scope.states
        name = scope.start_at
        log = self.log
        if log.resume:                  # a redrive or a restart: start where this scope stopped
            log.resume = False
            if log.variables:
                self.variables = {**self.variables, **log.variables}
            if log.ended:               # a restart after its last state: it is done
                return log.data
            name, data, size, self.resumed = log.state, log.data, log.size, log.state
        journal = self.run.journal
        try:
            while name is not None:
                log.state, log.data, log.size = name, data, size
                name, data, size = states[name].run(self, data, size)
                if journal is not None:         # a transition: committed as it happens
                    journal.record("next", log.path, name)
                    journal.flush()
            log.state = None
        except StatesError as exc:
            log.variables = self.variables
            self.locate(exc)
            if exc.error == errors.QUERY_EVALUATION_ERROR and not exc.recorded:
                # AWS records the failed expression, linked as the state's Entered event is.
                exc.recorded = True
                self.previous = self.entered_previous
                self.event("EvaluationFailed", {
                    "error": exc.error, "cause": exc.cause,
                    "location": exc.location or "", "state": self.state.name})
            raise
        except BaseException:
            log.variables = self.variables
            raise
        return data

    def fork(self, cancel: _Cancel) -> "Frame":
        child = Frame(self.run, self.clock.fork(), self.variables, self.previous, cancel)
        child.history, child.entered = self.history, self.entered
        return child

    def child_execution(self, cancel: _Cancel) -> "Frame":
        """A Distributed Map child workflow: its own history and variables, as on AWS,
        where each child is an execution of its own (the parent records the Map Run)."""
        child = Frame(self.run, self.clock.fork(), {}, 0, cancel)
        child.history, child.entered = History(), []
        return child

    def run_concurrently(self, jobs: Sequence[Callable[["Frame"], Any]], *, limit: int,
                         may_block: bool, isolated: bool = False,
                         keep_going: Callable[[int], bool] | None = None) -> tuple[list, list]:
        """Run Parallel branches or Map iterations, each ``job(child_frame)``.

        Jobs with no blocking work (no Task, no Wait) run one after another on this
        thread: a thread hand-off would cost more than the work. Otherwise at most
        ``limit`` daemon threads (0: one per job) run them. Once one fails (and
        ``keep_going`` does not say otherwise), no new job starts and running ones stop
        at their next state, sleep or call. ``isolated`` jobs are Distributed Map child
        workflows: they see none of this thread's variables and record their own history.
        """
        cancel = _Cancel(self.cancel)
        count = len(jobs)
        results: list = [None] * count
        # The redrive log of this state's branches/iterations: kept when a redrive resumed
        # this very state (what succeeded is not run again), else started afresh.
        log, owner = self.log, self.state.name
        redriven = self.resumed == owner
        restarted = redriven and log.restart is not None   # failed branches stay failed
        self.resumed = None
        journal = self.run.journal
        if not redriven:
            for record in (log.children, log.done, log.failed):
                for key in [k for k in record if k[0] == owner]:
                    del record[key]
        clocks: list = []
        failures: list[tuple[int, StatesError]] = []
        escaped: list[BaseException] = []     # not an ASL error: re-raised here
        lock = threading.Lock()

        def fail(index: int, exc: StatesError) -> None:
            with lock:
                failures.append((index, exc))
                if keep_going is None or not keep_going(len(failures)):
                    cancel.fired = True

        def run_job(index: int) -> None:
            if cancel.is_set():
                return
            key = (owner, index)
            if redriven and key in log.done:
                results[index] = log.done[key]      # succeeded before the redrive
                return
            if restarted and key in log.failed:     # failed before the restart
                fail(index, StatesError(*log.failed[key], located=True))
                return
            child = self.child_execution(cancel) if isolated else self.fork(cancel)
            child_log = log.children.get(key)
            if child_log is None:
                child_log = log.children[key] = _ScopeLog(log.path + (key,))
                if journal is not None:
                    journal.record("begin", child_log.path, isolated)
            elif child_log.restart is not None:
                child.replaying = list(child_log.restart.pending) or None
                child.previous = child_log.restart.previous or child.previous
            child.log = child_log
            clocks.append(child.clock)
            try:
                results[index] = output = jobs[index](child)
                log.done[key] = output
                del log.children[key]       # finished: only its output is needed
                if journal is not None:
                    journal.record("done", child_log.path, output)
                    journal.flush()
            except StatesError as exc:
                log.failed[key] = (exc.error, exc.cause)
                if journal is not None:
                    journal.record("failed", child_log.path, [exc.error, exc.cause])
                    journal.flush()
                fail(index, exc)
            except Aborted:
                pass
            except BaseException as exc:  # noqa: BLE001 - a timeout, or asl's own fault
                escaped.append(exc)
                cancel.fired = True

        workers = min(limit if limit > 0 else count, count)
        if (not may_block or workers <= 1 or self.run.concurrency == "sequential"):
            for index in range(count):
                run_job(index)
                if cancel.fired:
                    break
        else:
            pending = iter(range(count))

            def worker() -> None:
                while not cancel.is_set():
                    with lock:
                        index = next(pending, None)
                    if index is None:
                        return
                    run_job(index)

            threads = [threading.Thread(target=worker, name="asl-branch", daemon=True)
                       for _ in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.clock.join(clocks)
        if escaped:
            raise escaped[0]
        if self.cancel.is_set():
            raise Aborted()
        return results, failures


@dataclass
class ExecutionResult:
    """The outcome of one execution, as DescribeExecution and GetExecutionHistory tell it."""

    status: str                       # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    input: Any = None
    start_time: float = 0.0
    stop_time: float = 0.0
    states: list[str] = field(default_factory=list)
    _history: History | None = field(default=None, repr=False)
    _events: list | None = field(default=None, repr=False)
    _run: Any = field(default=None, repr=False, compare=False)   # names it on demand

    @property
    def name(self) -> str:
        """The execution name (a UUID unless one was given)."""
        return self._run.name if self._run is not None else ""

    @property
    def execution_arn(self) -> str:
        return self._run.arn if self._run is not None else ""

    @property
    def history(self) -> list[dict]:
        """AWS-shaped history events (built on first access)."""
        if self._events is None:
            self._events = self._history.events() if self._history is not None else []
        return self._events

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    def to_dict(self) -> dict:
        """The ``asl run --json`` shape: executionArn, status, output, error, cause, and the
        states entered (which ``asl graph --path`` highlights)."""
        return {"executionArn": self.execution_arn, "status": self.status,
                "output": self.output, "error": self.error, "cause": self.cause,
                "states": list(self.states)}


class Execution:
    """A running (or finished) execution: the handle :meth:`StateMachine.start` returns."""

    def __init__(self, run: Run, scope: Scope) -> None:
        self._run = run
        self._scope = scope
        self._result: ExecutionResult | None = None
        self._done = threading.Event() if not run.synchronous else None

    @property
    def execution_arn(self) -> str:
        return self._run.arn

    @property
    def name(self) -> str:
        return self._run.name

    def _execute(self) -> ExecutionResult:
        run = self._run
        frame = Frame(run, run.clock, {}, 0, run.cancel)
        status, output, error, cause = "SUCCEEDED", None, None, None
        try:
            if run.restarted and len(run.history):   # restored: go on where it stopped
                frame.replaying = list(run.log.restart.pending) or None
                frame.previous = run.log.restart.previous
            elif run.redrive_count:
                if run.journal is not None:
                    run.journal.record("redrive", (), run.redrive_count)
                frame.previous = len(run.history)
                frame.event("ExecutionRedriven", {"redriveCount": run.redrive_count})
            else:
                frame.event("ExecutionStarted", {"input": run.input,
                                                 "roleArn": run.identity.role_arn})
                frame.previous = 0   # AWS records the first Entered with previousEventId 0
            frame.commit()           # a start (or a redrive) is on record before anything runs
            output = frame.run_scope(self._scope, run.input, run.input_size)
            frame.check()        # a stop during the last state still ends the run ABORTED
            frame.event("ExecutionSucceeded", {"output": output})
        except StatesError as exc:
            status, error, cause = "FAILED", exc.error, exc.cause
        except ExecutionTimedOut:
            # AWS's DescribeExecution shows no error or cause for a timed-out execution;
            # its ExecutionTimedOut event carries them.
            status, error, cause = "TIMED_OUT", None, None
        except Aborted:
            status = "ABORTED"
            error, cause = run.stop_reason or (None, None)
        except ListenerFailed as exc:
            status, error, cause = "FAILED", errors.RUNTIME, str(exc)
            run.listener = None          # not told of the failure it caused
        except HistoryLimitExceeded:
            status, error = "FAILED", errors.RUNTIME
            cause = (f"The execution reached the maximum number of history events "
                     f"({run.history.limit}).")
        except Exception as exc:  # noqa: BLE001 - execute() reports, it never raises
            status, error = "FAILED", errors.RUNTIME
            cause = f"asl internal error: {type(exc).__name__}: {exc}"
        if status != "SUCCEEDED":
            output = None
            run.history.limit = None     # the closing event is always recorded
            details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
            if status == "TIMED_OUT":
                details = {"error": errors.TIMEOUT, "cause": "The execution has timed out."}
            try:
                frame.event({"FAILED": "ExecutionFailed", "TIMED_OUT": "ExecutionTimedOut",
                             "ABORTED": "ExecutionAborted"}[status], details)
            except ListenerFailed:
                pass                     # the history has the event; the run is over
        else:
            output = clone(output)
        self._result = ExecutionResult(
            status=status, output=output, error=error, cause=cause, _run=run,
            input=run.input, start_time=run.start_time,
            stop_time=run.clock.time(), states=run.states, _history=run.history)
        frame.commit()
        if self._done is not None:
            self._done.set()
        return self._result

    def _start_thread(self) -> None:
        threading.Thread(target=self._execute, name=f"asl-{self.name}", daemon=True).start()

    def result(self, timeout: float | None = None) -> ExecutionResult:
        """Wait for the execution to end; raises TimeoutError if it does not in time."""
        if self._done is None:
            return self._result
        if not self._done.wait(timeout):
            raise TimeoutError(f"execution {self.name} still running after {timeout} s")
        return self._result

    @property
    def done(self) -> bool:
        return self._result is not None

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        """StopExecution: the execution ends ABORTED at its next state or wait."""
        self._run.stop_reason = (error, cause)
        self._run.cancel.fired = True
        self._run.tokens.wake_all()

    def send_task_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess: ``output`` becomes the waiting task's result."""
        self._run.tokens.complete(token, ("success", copy_json(output)))

    def send_task_failure(self, token: str, error: str | None = None,
                          cause: str | None = None) -> None:
        """SendTaskFailure: the waiting task fails with this error and cause."""
        self._run.tokens.complete(token, ("failure", error, cause))

    def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat: the waiting task's HeartbeatSeconds starts again."""
        self._run.tokens.complete(token, None)

    def events(self) -> list[dict]:
        """The history so far, AWS-shaped: while it runs, the events recorded up to now."""
        return self._run.history.events()

    def task_tokens(self) -> list[str]:
        """Tokens of tasks now waiting for SendTaskSuccess/Failure (their callable has
        returned), oldest first."""
        return self._run.tokens.waiting()

    def wait_for_task_token(self, timeout: float = 5.0) -> str:
        """Block (in real time) until some task waits for a token; return that token."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            tokens = self.task_tokens()
            if tokens:
                return tokens[0]
            if self.done:
                break
            time.sleep(0.005)
        raise TimeoutError("no task is waiting for a task token")


def redrive_run(previous: "ExecutionResult", scope: Scope, resources: dict, *, clock=None,
                concurrency: str = "threads", timeout: float | None = None,
                synchronous: bool, on_event=None, journal: Journal | None = None) -> Execution:
    """The next attempt of an unsuccessful execution (RedriveExecution): the same name,
    ARN and input, its history continued with ExecutionRedriven, each unfinished scope
    started at its unfinished state, and no succeeded branch or iteration run again."""
    old = previous._run
    if old is None or previous.status == "SUCCEEDED" or old.identity.express:
        raise ValueError(f"execution '{previous.name}' cannot be redriven: only an "
                         "unsuccessful STANDARD execution can (it "
                         f"{'SUCCEEDED' if previous.status == 'SUCCEEDED' else 'is EXPRESS'})")
    run = Run(old.identity, old.name, old.input, dict(resources or {}), clock or old.clock,
              concurrency, timeout, synchronous, on_event)
    run.input_size = old.input_size
    run.history = old.history.continued()
    run.states = list(old.states)
    run.log = old.log
    run.log.mark_for_redrive()
    run.token_seed = old.token_seed     # the tokens of states it runs again stay distinct
    run.journal = journal
    run.redrive_count = old.redrive_count + 1
    run.redrive_time = run.start_time
    run.start_time = old.start_time
    return Execution(run, scope)


def new_run(identity: Identity, scope: Scope, input_value: Any, resources: dict, *,
            clock=None, name: str | None = None, concurrency: str = "threads",
            timeout: float | None = None, synchronous: bool, on_event=None,
            input_size: int | None = None, journal: Journal | None = None,
            token_seed: str | None = None) -> Execution:
    """Prepare an execution (nothing runs yet); ``input_size`` is the input's size in
    bytes, when the caller measured it; ``journal``: a durable host's (with the
    ``token_seed`` it stores, so task tokens stay the same after a restart)."""
    if concurrency not in ("threads", "sequential"):
        raise ValueError("concurrency must be 'threads' or 'sequential'")
    run = Run(identity, name or None, input_value, dict(resources or {}),
              clock or RealClock(), concurrency, timeout, synchronous, on_event)
    run.input_size = input_size
    run.journal = journal
    if token_seed is not None:
        run.token_seed = token_seed
    return Execution(run, scope)


def restore_run(identity: Identity, scope: Scope, *, name: str, input_value: Any,
                start_time: float, records: Sequence[tuple], resources: dict,
                clock=None, timeout: float | None = None, token_seed: str | None = None,
                redrive_count: int = 0, redrive_time: float = 0.0,
                ended: str | None = None) -> "Execution | ExecutionResult":
    """Rebuild a run from what a :class:`Journal` kept, in the order it was written:
    ``("event", path, event, own)`` and ``(kind, path, body)`` records.

    ``ended`` None: the execution was still running when its host stopped; the
    :class:`Execution` returned goes on where it was (start it with ``_start_thread``):
    each scope re-runs the state it was in, matching the events it records again with
    those already recorded, so the history reads as if nothing had happened, except that
    a callable that was running is called again (at-least-once, as AWS delivers tasks;
    one whose ``.waitForTaskToken`` token was waiting is not). Otherwise ``ended`` is the
    status it ended with, and the :class:`ExecutionResult` returned can be redriven.
    """
    run = Run(identity, name, input_value, dict(resources or {}), clock or RealClock(),
              "threads", timeout, False)
    run.start_time = start_time
    run.deadline = None if timeout is None else start_time + timeout
    run.redrive_count, run.redrive_time = redrive_count, redrive_time
    if token_seed is not None:
        run.token_seed = token_seed
    own: list[tuple] = []
    root = run.log
    variables: dict[tuple, dict] = {(): {}}
    outputs: dict[tuple, Any] = {}         # the last Exited output of each scope
    prefix: dict[tuple, list] = {}         # a branch's events before its first state
    tail: dict[tuple, list] = {}           # the events of the state each scope is in
    retry: dict[tuple, tuple] = {}         # the Retry back-off a scope's state is in
    last: dict[tuple, int] = {}            # each scope's last event id
    redriving: set[tuple] = set()          # scopes a redrive resumes (keep their branches)

    def scope_log(path: tuple) -> _ScopeLog:
        log = root
        for depth, key in enumerate(path):
            child = log.children.get(key)
            if child is None:
                child = log.children[key] = _ScopeLog(path[:depth + 1])
            log = child
        return log

    def forget_branches(log: _ScopeLog, owner: str | None) -> None:
        for owned in (log.children, log.done, log.failed):
            for key in [k for k in owned if k[0] == owner]:
                del owned[key]

    def walk(log: _ScopeLog):
        yield log
        for child in log.children.values():
            yield from walk(child)

    for record in records:
        kind, path = record[0], tuple(tuple(key) for key in record[1])
        log = scope_log(path)
        if kind == "event":
            event, mine = tuple(record[2]), record[3]
            if mine:
                own.append(event)
            event_type, details = event[1], event[4] or {}
            # (AWS links the first state's Entered event to 0, not to ExecutionStarted)
            last[path] = event[0] if event_type != "ExecutionStarted" else 0
            if event_type.endswith("StateEntered"):
                name_entered = details.get("name")
                if path in redriving and name_entered == log.state:
                    redriving.discard(path)          # a redrive resuming it: branches kept
                else:
                    forget_branches(log, name_entered)
                log.state, log.data, log.ended = name_entered, details.get("input"), False
                retry.pop(path, None)
                tail[path] = [event]
                if mine:
                    run.states.append(name_entered)
            elif path in tail:
                tail[path].append(event)
            elif path:
                prefix.setdefault(path, []).append(event)
            if event_type.endswith("StateExited"):
                outputs[path] = details.get("output")
                if details.get("assignedVariables"):
                    variables[path] = {**variables.get(path, {}),
                                       **details["assignedVariables"]}
        elif kind == "next":
            log.state, log.data, log.ended = record[2], outputs.get(path), record[2] is None
            retry.pop(path, None)
            tail[path] = []
        elif kind == "begin":
            variables[path] = {} if record[2] else dict(variables.get(path[:-1], {}))
        elif kind == "done":
            parent = scope_log(path[:-1])
            parent.done[path[-1]] = record[2]
            parent.children.pop(path[-1], None)
        elif kind == "failed":
            scope_log(path[:-1]).failed[path[-1]] = tuple(record[2])
        elif kind == "retry":
            counters, wake_at, retry_count = record[2]
            retry[path] = (tuple(counters), wake_at, retry_count)
            tail[path] = tail.get(path, [])[:1]  # the next attempt is not recorded yet
            forget_branches(log, log.state)
        elif kind == "redrive":                  # failed branches run again; the rest stays
            for each in walk(root):
                each.failed.clear()
                if each.state is not None:
                    redriving.add(each.path)

    for log in walk(root):
        log.variables = variables.get(log.path) or None
        if ended is None:
            log.resume = log.state is not None or log.ended
            log.restart = _Restart(prefix.get(log.path, []) + tail.get(log.path, []),
                                   last.get(log.path, 0), retry.get(log.path))
    run.history = History.restored(own)
    if ended is None:
        run.restarted = True
        return Execution(run, scope)
    return ExecutionResult(status=ended, _run=run, input=input_value, start_time=start_time,
                           states=run.states, _history=run.history)
