"""Running a compiled machine: the run loop, threads of execution, the Context object.

Three objects share the work:

* :class:`Run` holds what one execution shares across all its branches: identity and
  ARNs, the resources, the history, the stop signal, the task tokens waiting for an
  answer.
* :class:`Frame` is one thread of execution: the top level, a Parallel branch or a Map
  iteration. It walks a scope state by state, records the events of that thread (each
  event's ``previousEventId`` is the previous event *of the same thread*), keeps the
  variables visible there, and builds ``$$`` lazily.
* :class:`Execution` is the handle users hold: ``result()``, ``stop()``, and the
  SendTask* calls for ``.waitForTaskToken`` tasks.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from asl import errors
from asl.clock import RealClock
from asl.errors import StatesError
from asl.history import History, HistoryLimitExceeded
from asl.payload import PAYLOAD_LIMIT, check_size
from asl.payload import copy as copy_json
from asl.resources import Invoker, TaskContext, error_from_exception
from asl.states import INLINE_MAP_CONCURRENCY, Scope
from asl.language.timestamps import format_timestamp

_LOCATED_ERRORS = (errors.RUNTIME, errors.QUERY_EVALUATION_ERROR)
#: All the variables of one execution hold at most 10 MiB (AWS quota).
VARIABLES_LIMIT = 10 * 1024 * 1024
#: How often a real-time sleep or token wait looks at the stop and abort signals.
_POLL_SECONDS = 0.05


class _Aborted(Exception):
    """This thread of execution must stop: the execution was stopped, or a sibling failed."""


class _ExecutionTimedOut(Exception):
    """The machine's top-level TimeoutSeconds elapsed."""


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


class _TokenWaiter:
    __slots__ = ("condition", "outcome", "last_beat", "submitted")

    def __init__(self, now: float) -> None:
        self.condition = threading.Condition()
        self.outcome = None          # ("success", output) | ("failure", error, cause)
        self.last_beat = now
        self.submitted = False       # the callable has returned: the task now waits


@dataclass(frozen=True)
class Identity:
    """Names and ARNs the Context object and history report."""

    state_machine_name: str
    region: str
    account: str
    role_arn: str

    @property
    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{self.state_machine_name}"

    def execution_arn(self, execution_name: str) -> str:
        return (f"arn:aws:states:{self.region}:{self.account}:execution:"
                f"{self.state_machine_name}:{execution_name}")


class Run:
    """What every thread of one execution shares."""

    def __init__(self, identity: Identity, execution_name: str, input_value: Any,
                 resources: dict, clock, concurrency: str, timeout: float | None,
                 synchronous: bool, listener=None) -> None:
        self.identity = identity
        self.region = identity.region
        self.name = execution_name
        self.arn = identity.execution_arn(execution_name)
        self.input = input_value
        self.input_size = None
        self.variables_size = 0         # bytes of all variables stored, by name below
        self.variable_sizes: dict[str, int] = {}
        self.resources = resources
        self.clock = clock
        self.concurrency = concurrency
        self.synchronous = synchronous
        self.listener = listener        # called with (event type, details) as events happen
        self.history = History()
        self.states: list[str] = []
        self.cancel = _Cancel()
        self.stop_reason: tuple[str | None, str | None] | None = None
        self.start_time = clock.time()
        self.deadline = None if timeout is None else self.start_time + timeout
        self.tokens: dict[str, _TokenWaiter] = {}
        self._lock = threading.Lock()
        self._context_execution = None
        self.context_state_machine = {"Id": identity.state_machine_arn,
                                      "Name": identity.state_machine_name}

    @property
    def context_execution(self) -> dict:
        """``$$.Execution``, built the first time some state reads ``$$``."""
        if self._context_execution is None:
            self._context_execution = {
                "Id": self.arn, "Input": self.input, "Name": self.name,
                "RoleArn": self.identity.role_arn, "StartTime": _utc(self.start_time),
                "RedriveCount": 0}
        return self._context_execution

    invoker = staticmethod(Invoker.of)

    def map_run_arn(self, state_name: str) -> str:
        i = self.identity
        return (f"arn:aws:states:{i.region}:{i.account}:mapRun:{i.state_machine_name}/"
                f"{state_name}:{uuid.uuid5(uuid.NAMESPACE_URL, self.arn + state_name)}")

    # -- task tokens -----------------------------------------------------------------

    def register_token(self, token: str) -> _TokenWaiter:
        waiter = _TokenWaiter(self.clock.time())
        with self._lock:
            self.tokens[token] = waiter
        return waiter

    def complete_token(self, token: str, outcome: tuple | None) -> None:
        with self._lock:
            waiter = self.tokens.get(token)
        if waiter is None:
            raise KeyError(f"Task token {token[:16]}... is not waiting in this execution "
                           "(it was never issued, or its task already finished)")
        with waiter.condition:
            if outcome is None:
                waiter.last_beat = self.clock.time()
            elif waiter.outcome is None:
                waiter.outcome = outcome
            waiter.condition.notify_all()


class Frame:
    """One thread of execution: walks a scope, records its events, holds its variables."""

    __slots__ = ("run", "clock", "variables", "previous", "cancel", "state", "entered_id",
                 "entered_time", "retry_count", "_context", "task_token", "history", "entered",
                 "data_size", "result_size", "entered_previous")

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
        self.data_size = None      # bytes of the current state's input, when known (or a bound)
        self.result_size = None    # bytes of the current state's result, when known

    # -- the Context object ($$) --------------------------------------------------------

    @property
    def context(self) -> dict:
        context = self._context
        if context is None:
            state = {"Name": self.state.name if self.state else None,
                     "EnteredTime": _utc(self.entered_time)}
            if self.state is not None and self.state.type in ("Task", "Parallel", "Map"):
                state["RetryCount"] = self.retry_count
            context = {"Execution": self.run.context_execution, "State": state,
                       "StateMachine": self.run.context_state_machine}
            if self.task_token is not None:
                context["Task"] = {"Token": self.task_token}
            self._context = context
        return context

    # -- history ------------------------------------------------------------------------

    def event(self, event_type: str, details: dict | None = None) -> int:
        run = self.run
        self.previous = self.history.add(event_type, self.clock.time(), self.previous, details)
        if run.listener is not None:
            run.listener(event_type, details or {})
        return self.previous

    def enter(self, state, raw: Any) -> None:
        if self.cancel.is_set():
            raise _Aborted()
        if self.run.deadline is not None and self.clock.time() >= self.run.deadline:
            raise _ExecutionTimedOut()
        self.state = state
        self.retry_count = 0
        self.task_token = None
        self.result_size = None
        self._context = None
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
        self.task_token = uuid.uuid4().hex + uuid.uuid4().hex
        self._context = None
        return self.task_token

    def locate(self, exc: StatesError) -> None:
        """Prefix a runtime error's cause with the state it happened in, as AWS does."""
        if exc.error in _LOCATED_ERRORS and not exc.located and self.state:
            exc.cause = errors.RUNTIME_CAUSE_PREFIX.format(
                state=self.state.name, event_id=self.entered_id) + exc.cause
            exc.located = True

    def retrying(self, state, exc: StatesError, delay: float, intended: float) -> None:
        if self.run.listener is not None:   # a notice for live traces, not a history event
            self.run.listener("Retry", {"name": state.name, "error": exc.error,
                                        "cause": exc.cause, "delay": delay,
                                        "attempt": self.retry_count + 1})
        self.sleep(delay, state.name, "Retry", intended)
        self.retry_count += 1
        self._context = None

    def caught(self, state, exc: StatesError, catcher) -> None:
        """The history shows a catch only as the state's Exited event: tell live traces."""
        if self.run.listener is not None:
            self.run.listener("Catch", {"name": state.name, "error": exc.error,
                                        "cause": exc.cause, "next": catcher.next})

    # -- time ---------------------------------------------------------------------------

    def sleep(self, seconds: float, state_name: str, kind: str, intended: float | None = None) -> None:
        """Sleep on this thread's clock; cut short by a stop, a sibling's failure or the
        machine's TimeoutSeconds."""
        run = self.run
        timed_out = False
        if run.deadline is not None:
            remaining = run.deadline - self.clock.time()
            if seconds >= remaining:
                seconds, timed_out = max(0.0, remaining), True
        if self.clock.virtual:
            self.clock.sleep(seconds, state=state_name, kind=kind, intended=intended)
        else:
            end = self.clock.time() + seconds
            while True:
                if self.cancel.is_set():
                    raise _Aborted()
                left = end - self.clock.time()
                if left <= 0:
                    break
                time.sleep(min(left, _POLL_SECONDS))
        if timed_out:
            raise _ExecutionTimedOut()
        if self.cancel.is_set():
            raise _Aborted()

    # -- scopes -------------------------------------------------------------------------

    def run_scope(self, scope: Scope, data: Any) -> Any:
        """Walk a scope from StartAt until a state ends it; returns the final output."""
        states = scope.states
        name = scope.start_at
        try:
            while name is not None:
                state = states[name]
                name, data = state.handler(state, self, data)
        except StatesError as exc:
            self.locate(exc)
            if exc.error == errors.QUERY_EVALUATION_ERROR and not getattr(exc, "recorded", False):
                # AWS records the failed expression, linked as the state's Entered event is.
                exc.recorded = True
                self.previous = self.entered_previous
                self.event("EvaluationFailed", {
                    "error": exc.error, "cause": exc.cause,
                    "location": getattr(exc, "location", ""), "state": self.state.name})
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

    def run_concurrently(self, jobs, *, max_concurrency: int, may_block: bool,
                         map_state: str | None, tolerated=None, isolated: bool = False) -> list:
        """Run Parallel branches or Map iterations; results in job order.

        Jobs with no blocking work (no Task, no Wait) run one after another on this
        thread: a thread hand-off would cost more than the work. Otherwise a pool of at
        most ``max_concurrency`` threads (about 40 for an inline Map, as on AWS) runs
        them. Once one fails (beyond the tolerated failures), no new job starts and
        running ones stop at their next state. ``isolated`` jobs are Distributed Map child
        workflows: they see none of this thread's variables and record their own history.
        """
        cancel = _Cancel(self.cancel)
        results: list = [None] * len(jobs)
        clocks = []
        failures: list[tuple[int, StatesError]] = []

        def run_job(index: int):
            scope, data, item_index = jobs[index]
            if cancel.is_set():
                return
            child = self.child_execution(cancel) if isolated else self.fork(cancel)
            clocks.append(child.clock)
            details = None if map_state is None else {"name": map_state, "index": item_index}
            if details:
                child.event("MapIterationStarted", details)
            try:
                results[index] = child.run_scope(scope, data)
            except StatesError as exc:
                if details:
                    child.event("MapIterationFailed", details)
                failures.append((index, exc))
                if tolerated is None or _over_tolerance(len(failures), len(jobs), tolerated):
                    cancel.fired = True
                else:
                    results[index] = exc.error_output()
                return
            except _Aborted:
                if details:
                    child.event("MapIterationAborted", details)
                return
            if details:
                child.event("MapIterationSucceeded", details)

        limit = max_concurrency if max_concurrency and max_concurrency > 0 else (
            INLINE_MAP_CONCURRENCY if map_state is not None else len(jobs))
        if not may_block or limit == 1 or self.run.concurrency == "sequential" or len(jobs) <= 1:
            for index in range(len(jobs)):
                run_job(index)
                if cancel.fired:
                    break
        else:
            with ThreadPoolExecutor(max_workers=min(limit, len(jobs)),
                                    thread_name_prefix="asl") as pool:
                for future in [pool.submit(run_job, i) for i in range(len(jobs))]:
                    future.result()
        self.clock.join(clocks)
        if self.cancel.is_set():
            raise _Aborted()
        if failures:
            if tolerated is None:
                raise failures[0][1]
            if _over_tolerance(len(failures), len(jobs), tolerated):
                raise StatesError(errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                  "The specified tolerated failure threshold was exceeded")
        return results

    # -- calling resources ----------------------------------------------------------------

    def run_callable(self, state, invoker: Invoker, payload: Any, timeout, heartbeat,
                     submitted_tag: dict | None) -> Any:
        """Call a Task's callable with its own copy of the payload; wait for its task
        token when the resource is ``.waitForTaskToken``; enforce TimeoutSeconds."""
        run = self.run
        token = self.task_token if state.spec.waits_for_token else None
        started = self.clock.time()

        def task_sleep(seconds: float) -> None:
            if timeout is not None and self.clock.time() + seconds - started > timeout:
                self.sleep(max(0.0, started + timeout - self.clock.time()), state.name, "Task")
                raise StatesError(errors.TIMEOUT, "")
            self.sleep(seconds, state.name, "Task")

        def make_context() -> TaskContext:    # only for callables that take a context
            return TaskContext(copy_json(self.context), token, run.handle, state.name, task_sleep)

        waiter = run.register_token(token) if token else None
        try:
            try:
                if timeout is None or self.clock.virtual or token:
                    result = invoker(payload, make_context)
                else:
                    result = _call_with_timeout(invoker, payload, make_context, timeout)
            except StatesError as exc:
                raise StatesError(exc.error, exc.cause) from None
            except _Aborted:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure of user code is the task's
                raise error_from_exception(state.spec, exc) from None
            if timeout is not None and self.clock.virtual and self.clock.time() - started > timeout:
                raise StatesError(errors.TIMEOUT, "")
            if waiter is None:
                return result
            self.event("TaskSubmitted", dict(submitted_tag, output=copy_json(result)))
            waiter.submitted = True
            return self._wait_for_token(waiter, started, timeout, heartbeat)
        finally:
            if token:
                with run._lock:
                    run.tokens.pop(token, None)

    def invoke(self, handler, payload: Any) -> Any:
        """Call a helper resource (ItemReader, ResultWriter) with a copy of its payload."""
        state_name = self.state.name if self.state else ""
        return self.run.invoker(handler)(
            copy_json(payload),
            lambda: TaskContext(copy_json(self.context), None, self.run.handle, state_name,
                                lambda seconds: self.sleep(seconds, state_name, "Task")))

    def _wait_for_token(self, waiter: _TokenWaiter, started: float, timeout, heartbeat) -> Any:
        """Block until SendTaskSuccess/Failure, TimeoutSeconds or a missed heartbeat.

        Under a VirtualClock in a synchronous ``execute()``, nobody but the callable could
        have answered; if it did not, the wait runs out at once, at the virtual deadline.
        """
        clock = self.clock
        with waiter.condition:
            while waiter.outcome is None:
                now = clock.time()
                deadlines = []
                if timeout is not None:
                    deadlines.append(started + timeout)
                if heartbeat is not None:
                    deadlines.append(waiter.last_beat + heartbeat)
                if self.run.deadline is not None:
                    deadlines.append(self.run.deadline)
                deadline = min(deadlines) if deadlines else None
                if deadline is not None and now >= deadline:
                    if self.run.deadline is not None and now >= self.run.deadline:
                        raise _ExecutionTimedOut()
                    raise StatesError(errors.TIMEOUT, "")
                if self.cancel.is_set():
                    raise _Aborted()
                if clock.virtual and self.run.synchronous:
                    if deadline is None:
                        raise StatesError(errors.TIMEOUT, "")
                    clock.advance(deadline - now)
                    continue
                waiter.condition.wait(_POLL_SECONDS)
        outcome = waiter.outcome
        if outcome[0] == "success":
            return outcome[1]
        raise StatesError(outcome[1], outcome[2])


def _over_tolerance(failures: int, total: int, tolerated) -> bool:
    count, percentage = tolerated
    return failures > count and (total == 0 or failures * 100.0 / total > percentage)


def _call_with_timeout(invoker: Invoker, payload, make_context, timeout: float):
    """Run a callable on a helper thread; give up on it after ``timeout`` seconds."""
    box: dict = {}

    def target():
        try:
            box["result"] = invoker(payload, make_context)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="asl-task", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise StatesError(errors.TIMEOUT, "")
    if "error" in box:
        raise box["error"]
    return box["result"]


@dataclass
class ExecutionResult:
    """The outcome of one execution, as DescribeExecution and GetExecutionHistory tell it."""

    status: str                       # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    execution_arn: str = ""
    name: str = ""
    input: Any = None
    start_time: float = 0.0
    stop_time: float = 0.0
    states: list[str] = field(default_factory=list)
    _history: History | None = field(default=None, repr=False)
    _events: list | None = field(default=None, repr=False)

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
        run.handle = self

    @property
    def execution_arn(self) -> str:
        return self._run.arn

    @property
    def name(self) -> str:
        return self._run.name

    def _execute(self) -> ExecutionResult:
        run = self._run
        frame = Frame(run, run.clock, {}, 0, run.cancel)
        frame.data_size = run.input_size
        status, output, error, cause = "SUCCEEDED", None, None, None
        try:
            frame.event("ExecutionStarted", {"input": run.input, "roleArn": run.identity.role_arn})
            frame.previous = 0   # AWS records the first state's Entered with previousEventId 0
            output = frame.run_scope(self._scope, run.input)
            frame.event("ExecutionSucceeded", {"output": output})
        except StatesError as exc:
            status, error, cause = "FAILED", exc.error, exc.cause
        except _ExecutionTimedOut:
            status, error, cause = "TIMED_OUT", errors.TIMEOUT, "The execution has timed out."
        except _Aborted:
            status = "ABORTED"
            error, cause = run.stop_reason or (None, None)
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
            frame.event({"FAILED": "ExecutionFailed", "TIMED_OUT": "ExecutionTimedOut",
                         "ABORTED": "ExecutionAborted"}[status], details)
        else:
            output = copy_json(output)
        self._result = ExecutionResult(
            status=status, output=output, error=error, cause=cause, execution_arn=run.arn,
            name=run.name, input=run.input, start_time=run.start_time,
            stop_time=run.clock.time(), states=run.states, _history=run.history)
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
        with self._run._lock:
            waiters = list(self._run.tokens.values())
        for waiter in waiters:
            with waiter.condition:
                waiter.condition.notify_all()

    def send_task_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess: ``output`` becomes the waiting task's result."""
        self._run.complete_token(token, ("success", copy_json(output)))

    def send_task_failure(self, token: str, error: str = "", cause: str = "") -> None:
        """SendTaskFailure: the waiting task fails with this error and cause."""
        self._run.complete_token(token, ("failure", error, cause))

    def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat: the waiting task's HeartbeatSeconds starts again."""
        self._run.complete_token(token, None)

    def task_tokens(self) -> list[str]:
        """Tokens of tasks now waiting for SendTaskSuccess/Failure (their callable has
        returned), oldest first."""
        with self._run._lock:
            return [t for t, waiter in self._run.tokens.items() if waiter.submitted]

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


def new_run(identity: Identity, scope: Scope, input_value: Any, resources: dict, *,
            clock=None, name: str | None = None, concurrency: str = "threads",
            timeout: float | None = None, synchronous: bool, on_event=None,
            input_size: int | None = None) -> Execution:
    """Prepare an execution (nothing runs yet); ``input_size`` is the input's size in
    bytes, when the caller measured it."""
    if concurrency not in ("threads", "sequential"):
        raise ValueError("concurrency must be 'threads' or 'sequential'")
    run = Run(identity, name or str(uuid.uuid4()), input_value, dict(resources or {}),
              clock or RealClock(), concurrency, timeout, synchronous, on_event)
    run.input_size = input_size
    return Execution(run, scope)
