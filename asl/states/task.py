"""Task: call the resource's callable with the effective input; Retry and Catch on failure.

Everything a Task does is here: which history events an attempt records (by kind of
resource), the callable's own copy of its input, the lambda:invoke result wrapping,
exceptions turned into the errors AWS reports, TimeoutSeconds and HeartbeatSeconds,
and task tokens (``.waitForTaskToken``): issuing them, the mailbox that
SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat answer into, and the wait.
Which callable answers a Resource is :mod:`asl.resources`.
"""

from __future__ import annotations

import base64
import json
import threading
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar

from asl import errors
from asl.errors import StatesError, TaskFailed
from asl.language.paths import compile_template
from asl.payload import checked_copy, clone, copy
from asl.resources import (ACTIVITY, LAMBDA, LAMBDA_INVOKE, Invoker, RawResult, ResourceSpec,
                           lookup, parse_resource)
from asl.states.base import CallTimedOut, CompileOptions, Frame, Step
from asl.states.io import ResultState, common_fields, number_setting, resolve_number, result_fields
from asl.states.retry import Catcher, Retrier, compile_catchers, compile_retriers, run_with_retry

# The history events of one task attempt, by resource kind:
# (scheduled, started, submitted, succeeded, failed, timed out).
_LAMBDA_EVENTS = ("LambdaFunctionScheduled", "LambdaFunctionStarted", None,
                  "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut")
_ACTIVITY_EVENTS = ("ActivityScheduled", "ActivityStarted", None,
                    "ActivitySucceeded", "ActivityFailed", "ActivityTimedOut")
_TASK_EVENTS = ("TaskScheduled", "TaskStarted", "TaskSubmitted",
                "TaskSucceeded", "TaskFailed", "TaskTimedOut")

#: A user's stack trace in a Lambda error cause leaves out the interpreter's own frames.
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


@dataclass(slots=True, kw_only=True, eq=False)
class TaskState(ResultState):
    """A compiled Task. ``events``: the names of its attempt's history events;
    ``event_tag``: what they say of the resource; ``timeout`` / ``heartbeat``: static
    seconds, a ``...Path`` or a JSONata expression."""

    type: ClassVar[str] = "Task"
    retries: ClassVar[bool] = True
    may_block: ClassVar[bool] = True

    spec: ResourceSpec
    events: tuple = _TASK_EVENTS
    event_tag: dict
    started_details: dict | None = None
    timeout: Any = None
    heartbeat: Any = None
    credentials: Callable | None = None
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "TaskState":
        fields = common_fields(name, definition, options)
        jsonata = fields["jsonata"]
        spec = parse_resource(definition["Resource"])
        if spec.kind == LAMBDA:
            events, tag, started = _LAMBDA_EVENTS, {}, None
        elif spec.kind == ACTIVITY:
            events, tag, started = _ACTIVITY_EVENTS, {}, {"workerName": "asl"}
        else:
            tag = {"resourceType": spec.resource_type, "resource": spec.resource_api}
            events, started = _TASK_EVENTS, tag
        return cls(
            **fields, **result_fields(definition, jsonata), spec=spec, events=events,
            event_tag=tag, started_details=started,
            timeout=number_setting(definition, "TimeoutSeconds", jsonata),
            heartbeat=number_setting(definition, "HeartbeatSeconds", jsonata),
            credentials=(compile_template(definition["Credentials"])
                         if "Credentials" in definition else None),
            retriers=compile_retriers(definition.get("Retry")),
            catchers=compile_catchers(definition.get("Catch"), jsonata))

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)

        def attempt() -> Step:
            if self.spec.pattern:            # .waitForTaskToken and .sync [AWS, recorded]
                frame.issue_task_token()     # $$.Task.Token: a new one for every attempt
            # TimeoutSecondsPath/HeartbeatSecondsPath read the input after InputPath, before
            # Parameters [AWS, recorded]; JSONata's $states.input is the raw input.
            data = raw if self.jsonata or self.input_path is None else self.input_path(raw, frame)
            effective = data if self.parameters is None else self.parameters(data, frame)
            timeout = resolve_number(self.timeout, frame, data, "TimeoutSeconds", positive=True)
            heartbeat = resolve_number(self.heartbeat, frame, data, "HeartbeatSeconds",
                                       positive=True)
            result, result_size = self.call_resource(frame, effective, timeout, heartbeat,
                                                     from_input=self.parameters is None)
            return self.finish(frame, raw, size, result, result_size, result)

        return run_with_retry(self, frame, raw, self.retriers, self.catchers, attempt)

    def call_resource(self, frame: Frame, parameters: Any, timeout, heartbeat, *,
                      from_input: bool = False) -> tuple[Any, int | None]:
        """One attempt: schedule, find and call the callable, record the outcome.

        The callable receives its own copy of the effective input (for lambda:invoke,
        its ``Payload`` parameter); a lambda:invoke result is wrapped as AWS wraps it;
        exceptions become the ASL errors AWS reports (:func:`error_from_exception`).
        Returns the result and its size in bytes (None when not measured).
        """
        spec, names, tag = self.spec, self.events, self.event_tag
        if spec.kind in (LAMBDA, ACTIVITY):
            scheduled = {"resource": spec.resource, "input": parameters}
        else:
            scheduled = {**tag, "region": frame.run.region, "parameters": parameters}
        if timeout is not None:
            scheduled["timeoutInSeconds"] = timeout
        if heartbeat is not None and spec.kind != LAMBDA:
            scheduled["heartbeatInSeconds"] = heartbeat
        frame.event(names[0], scheduled)
        frame.event(names[1], self.started_details)
        try:
            # The callable's own copy. A part of the state's input is already known to be
            # JSON within the limit; a Parameters result is measured.
            request = clone(parameters) if from_input else checked_copy(parameters, self.name)[0]
            handler = lookup(spec, frame.run.resources, parameters)
            if handler is None:
                target = parameters.get("FunctionName") if isinstance(parameters, dict) else None
                raise resource_not_found(str(target or spec.resource))
            payload, logs = request, None
            if spec.kind == LAMBDA_INVOKE:
                payload = request.get("Payload", {}) if isinstance(request, dict) else {}
                if isinstance(request, dict) and request.get("LogType") == "Tail":
                    logs = []
            result = self.call_callable(frame, Invoker.of(handler), payload, timeout, heartbeat,
                                        logs)
            result_size = None
            if isinstance(result, RawResult):
                result = result.value                     # given as the task's result, as is
            else:
                result, result_size = checked_copy(result, self.name)
                if spec.kind == LAMBDA_INVOKE and not spec.waits_for_token:
                    result = lambda_invoke_response(result, logs=logs)  # a token's answer: unwrapped
                    result_size += 512                        # the wrapper's own bytes, generously
        except StatesError as exc:
            details = dict(tag)
            for key, value in (("error", exc.error), ("cause", exc.cause)):
                if value is not None:           # SendTaskFailure may give neither
                    details[key] = value
            frame.event(names[5] if exc.error == errors.TIMEOUT else names[4], details)
            raise
        frame.event(names[3], {**tag, "output": result})
        return result, result_size

    def call_callable(self, frame: Frame, invoker: Invoker, payload: Any, timeout, heartbeat,
                      logs: list | None = None) -> Any:
        """Call the callable; for ``.waitForTaskToken`` then wait for its token's answer.

        TimeoutSeconds bounds the call in real time whatever the clock (a callable that
        blocks is abandoned, its late result discarded), and in virtual time too under a
        VirtualClock (time the callable spends with ``TaskContext.sleep``).
        """
        clock = frame.clock
        token = frame.task_token if self.spec.waits_for_token else None
        started = clock.time()
        tokens = frame.run.tokens

        def task_sleep(seconds: float) -> None:
            if timeout is not None and clock.time() + seconds - started > timeout:
                frame.sleep(max(0.0, started + timeout - clock.time()), self.name, "Task")
                raise StatesError(errors.TIMEOUT, "")
            frame.sleep(seconds, self.name, "Task")

        def make_context():     # only for callables that take a context
            return frame.task_context(token, task_sleep, logs)

        # Without a token the callable has no way to send a heartbeat, so HeartbeatSeconds
        # bounds the call as TimeoutSeconds does; with one, it bounds the wait for the answer.
        limit = timeout
        if heartbeat is not None and not token:
            limit = heartbeat if limit is None else min(limit, heartbeat)
        if token:
            tokens.register(token, started)
        try:
            try:
                if token and frame.replays("TaskSubmitted"):
                    result = None    # a restart: the callable had returned, the token waits
                else:
                    result = frame.call(lambda: invoker(payload, make_context), limit=limit)
            except CallTimedOut:
                if clock.virtual and clock.time() < started + limit:
                    clock.advance(started + limit - clock.time())   # the history's times
                raise StatesError(errors.TIMEOUT, "") from None
            except StatesError as exc:
                raise StatesError(exc.error, exc.cause) from None
            except Exception as exc:  # noqa: BLE001 - any failure of user code is the task's
                raise error_from_exception(self.spec, exc) from None
            if limit is not None and clock.virtual and clock.time() - started > limit:
                raise StatesError(errors.TIMEOUT, "")
            if not token:
                return result
            frame.event("TaskSubmitted", dict(self.event_tag, output=copy(result)))
            tokens.submitted(token)
            return wait_for_token(frame, tokens, token, started, timeout, heartbeat)
        finally:
            if token:
                tokens.release(token)


# -- task tokens -------------------------------------------------------------------------------

class _TokenWaiter:
    __slots__ = ("condition", "outcome", "last_beat", "submitted")

    def __init__(self, now: float) -> None:
        self.condition = threading.Condition()
        self.outcome: tuple | None = None   # ("success", output) | ("failure", error, cause)
        self.last_beat = now
        self.submitted = False              # the callable has returned: the task now waits


class TaskTokens:
    """The task tokens of one execution that wait for SendTaskSuccess/Failure/Heartbeat."""

    def __init__(self, clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[str, _TokenWaiter] = {}

    def register(self, token: str, now: float) -> None:
        with self._lock:
            self._waiting[token] = _TokenWaiter(now)

    def submitted(self, token: str) -> None:
        with self._lock:
            waiter = self._waiting.get(token)
        if waiter is not None:
            waiter.submitted = True

    def release(self, token: str) -> None:
        with self._lock:
            self._waiting.pop(token, None)

    def waiting(self) -> list[str]:
        """Tokens whose callable has returned, oldest first."""
        with self._lock:
            return [t for t, waiter in self._waiting.items() if waiter.submitted]

    def get(self, token: str) -> _TokenWaiter | None:
        with self._lock:
            return self._waiting.get(token)

    def complete(self, token: str, outcome: tuple | None) -> None:
        """Deliver an answer (``None``: a heartbeat); KeyError if nothing waits for it."""
        waiter = self.get(token)
        if waiter is None:
            raise KeyError(f"Task token {token[:16]}... is not waiting in this execution "
                           "(it was never issued, or its task already finished)")
        with waiter.condition:
            if outcome is None:
                waiter.last_beat = self._clock.time()
            elif waiter.outcome is None:
                waiter.outcome = outcome
            waiter.condition.notify_all()

    def wake_all(self) -> None:
        """Let every waiting task look at the stop signal now."""
        with self._lock:
            waiters = list(self._waiting.values())
        for waiter in waiters:
            with waiter.condition:
                waiter.condition.notify_all()


#: How often a token wait looks at the stop signal, in real seconds.
_POLL_SECONDS = 0.05


def wait_for_token(frame: Frame, tokens: TaskTokens, token: str, started: float, timeout,
                   heartbeat) -> Any:
    """Block until SendTaskSuccess/Failure, TimeoutSeconds or a missed heartbeat.

    Under a VirtualClock in a synchronous ``execute()``, nobody but the callable could
    have answered; if it did not, the wait runs out at once, at the virtual deadline.
    """
    waiter = tokens.get(token)
    clock = frame.clock
    run = frame.run
    frame.commit()          # the answer may come after a restart: the wait must be on record
    with waiter.condition:
        while waiter.outcome is None:
            now = clock.time()
            deadlines = []
            if timeout is not None:
                deadlines.append(started + timeout)
            if heartbeat is not None:
                deadlines.append(waiter.last_beat + heartbeat)
            if run.deadline is not None:
                deadlines.append(run.deadline)
            deadline = min(deadlines) if deadlines else None
            frame.check()       # stopped, a sibling failed, or the execution timed out
            if deadline is not None and now >= deadline:
                raise StatesError(errors.TIMEOUT, "")
            if clock.virtual and run.synchronous:
                if deadline is None:
                    raise StatesError(errors.TIMEOUT, "")
                clock.advance(deadline - now)
                continue
            waiter.condition.wait(_POLL_SECONDS)
    outcome = waiter.outcome
    if outcome[0] == "success":
        return outcome[1]
    raise StatesError(outcome[1], outcome[2], missing=None)   # SendTaskFailure: null if unset


# -- how AWS shapes results and errors ---------------------------------------------------------

def error_from_exception(spec: ResourceSpec, exc: BaseException) -> StatesError:
    """The ASL error AWS reports for an exception raised by the resource.

    ``TaskFailed`` (and any StatesError) keeps its Error and Cause exactly. For Lambda
    (plain ARN or lambda:invoke) Error is the exception class name, as the Lambda
    runtime reports ``errorType``, and Cause is the runtime's JSON error payload.
    Elsewhere Cause is the exception's message.
    """
    if isinstance(exc, StatesError):
        return StatesError(exc.error, exc.cause)
    error = type(exc).__name__
    if spec.kind in (LAMBDA, LAMBDA_INVOKE):
        # The user's frames only: the interpreter's own are not part of the function.
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if not f.filename.startswith(_PACKAGE_DIR)]
        stack = traceback.format_list(frames)
        cause = json.dumps({"errorMessage": str(exc), "errorType": error,
                            "requestId": str(uuid.uuid4()), "stackTrace": stack},
                           ensure_ascii=False)
        return StatesError(error, cause)
    return StatesError(error, str(exc))


def lambda_invoke_response(payload: Any, request_id: str | None = None,
                           logs: list | None = None) -> dict:
    """The result AWS gives for ``arn:aws:states:::lambda:invoke``: the payload, wrapped;
    with ``logs`` (``"LogType": "Tail"``), ``LogResult``: the base64 of the last 4 KB of
    what the callable logged, as Lambda returns the tail of its log."""
    request_id = request_id or str(uuid.uuid4())
    headers = {"Connection": "keep-alive", "Content-Type": "application/json",
               "X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": request_id}
    response = {
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }
    if logs is not None:
        tail = "".join(line + "\n" for line in logs).encode("utf-8")[-4096:]
        response["LogResult"] = base64.b64encode(tail).decode("ascii")
    return response


def resource_not_found(target: str) -> TaskFailed:
    """What a lambda:invoke whose FunctionName (from a path) names no callable raises."""
    return TaskFailed("Lambda.ResourceNotFoundException",
                      f"Function not found: {target} (no callable is registered under this "
                      "name in the resources mapping)")
