"""Task resources: which Python callable a ``Resource`` runs, and how AWS shapes the call.

A resources mapping goes from names to callables. A Task's callable is found by:

1. its exact ``Resource`` string;
2. for a Lambda function ARN (``arn:aws:lambda:...:function:NAME[:alias|version]``), the
   function name ``NAME``;
3. for ``arn:aws:states:::lambda:invoke`` (any pattern suffix), the ``FunctionName``
   parameter, exactly, then the function name inside it;
4. for an activity ARN, the activity name.

A callable takes the task's effective input and returns a JSON value. If it accepts a
second parameter it also gets a :class:`TaskContext` (the ``$$`` object, the task
token, ``heartbeat()``...). ``async def`` callables are awaited.
"""

from __future__ import annotations

import inspect
import threading
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from asl.payload import copy

_LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$")
_ACTIVITY_ARN = re.compile(r"^arn:aws[\w-]*:states:[^:]*:[^:]*:activity:(.+)$")
_INTEGRATION = re.compile(r"^arn:aws[\w-]*:states:::(.+?)(\.sync(?::\d+)?|\.waitForTaskToken)?$")

LAMBDA = "lambda"                 # plain Lambda function ARN: bare payload in and out
LAMBDA_INVOKE = "lambda:invoke"   # optimised integration: Payload in, wrapped response out
ACTIVITY = "activity"
INTEGRATION = "integration"       # any other arn:aws:states:::service:api
OTHER = "other"                   # a name that only the resources mapping knows


@dataclass(frozen=True)
class ResourceSpec:
    """A Task's ``Resource`` string, understood once at load time."""

    resource: str
    kind: str
    pattern: str            # "", "sync" or "waitForTaskToken"
    name: str | None        # function or activity name, when the ARN carries one
    resource_type: str      # for TaskScheduled: "lambda", "dynamodb", "aws-sdk:s3", ...
    resource_api: str       # for TaskScheduled: "invoke", "putItem", "invoke.waitForTaskToken"

    @property
    def waits_for_token(self) -> bool:
        return self.pattern == "waitForTaskToken"


def parse_resource(resource: str) -> ResourceSpec:
    """Classify a Resource string (never fails: unknown strings map by exact name)."""
    m = _LAMBDA_ARN.match(resource)
    if m:
        return ResourceSpec(resource, LAMBDA, "", m.group(1), "lambda", "invoke")
    m = _ACTIVITY_ARN.match(resource)
    if m:
        return ResourceSpec(resource, ACTIVITY, "", m.group(1), "activity", m.group(1))
    m = _INTEGRATION.match(resource)
    if m:
        service_api, suffix = m.group(1), m.group(2) or ""
        pattern = "" if not suffix else ("waitForTaskToken" if "waitForTaskToken" in suffix else "sync")
        service, _, api = service_api.rpartition(":")
        kind = LAMBDA_INVOKE if service_api == "lambda:invoke" else INTEGRATION
        return ResourceSpec(resource, kind, pattern, None, service or service_api,
                            api + suffix)
    return ResourceSpec(resource, OTHER, "", None, "other", resource)


def function_name(name_or_arn: str) -> str:
    """``saga-charge`` from ``saga-charge``, ``...:function:saga-charge`` or ``...:saga-charge:prod``."""
    m = _LAMBDA_ARN.match(name_or_arn)
    if m:
        return m.group(1)
    # Partial ARNs ("123456789012:function:name") and "name:alias" forms.
    parts = name_or_arn.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]


def lookup(spec: ResourceSpec, resources: dict, parameters: Any = None) -> Callable | None:
    """The callable for a Task, or None. ``parameters`` are needed for lambda:invoke."""
    handler = resources.get(spec.resource)
    if handler is not None:
        return handler
    if spec.kind in (LAMBDA, ACTIVITY):
        return resources.get(spec.name)
    if spec.kind == LAMBDA_INVOKE and isinstance(parameters, dict):
        target = parameters.get("FunctionName")
        if isinstance(target, str):
            return resources.get(target) or resources.get(function_name(target))
    return None


def static_target(spec: ResourceSpec, parameters_template: Any) -> str | None:
    """The name a Task must be resolvable by before the run starts, if known statically.

    A lambda:invoke whose FunctionName comes from a path (``FunctionName.$``) can only be
    checked when it runs.
    """
    if spec.kind == LAMBDA_INVOKE and spec.resource:
        if isinstance(parameters_template, dict) and isinstance(parameters_template.get("FunctionName"), str):
            return parameters_template["FunctionName"]
        return None
    return spec.resource


def can_resolve(spec: ResourceSpec, resources: dict, parameters_template: Any) -> bool:
    """Whether the Task can find its callable (True when it can only be known at run time)."""
    if spec.resource in resources:
        return True
    if spec.kind == LAMBDA_INVOKE:
        target = static_target(spec, parameters_template)
        return target is None or target in resources or function_name(target) in resources
    if spec.kind in (LAMBDA, ACTIVITY):
        return spec.name in resources
    return False


class RawResult:
    """Return ``RawResult(value)`` from a callable to make ``value`` the task's result
    exactly, with no lambda:invoke wrapping (mock responses are whole results)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = copy(value)


class ResourceLoadError(ValueError):
    """A --resources file or module that cannot be used; the message says why."""


def load_resources(target: str) -> dict:
    """The ``RESOURCES`` mapping of a Python file (``handlers.py``) or module (``pkg.handlers``).

    This is how ``asl run --resources`` finds callables: the file or module defines a dict
    named ``RESOURCES`` from Resource strings or Lambda function names to callables.
    """
    return resources_of(load_resource_module(target), target)


def load_resource_module(target: str):
    """Import a ``--resources`` file or module (see :func:`load_resources`)."""
    import importlib
    import importlib.util
    import sys

    path = Path(target)
    try:
        if target.endswith(".py") or path.is_file():
            if not path.is_file():
                raise ResourceLoadError(f"resources file '{target}' does not exist")
            module_name = f"_asl_resources_{abs(hash(str(path.resolve())))}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            sys.path.insert(0, str(path.resolve().parent))
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(path.resolve().parent))
        else:
            module = importlib.import_module(target)
    except ResourceLoadError:
        raise
    except BaseException as exc:  # noqa: BLE001 - any import failure is the user's to see
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ResourceLoadError(f"cannot load resources from '{target}': "
                                f"{type(exc).__name__}: {exc}") from None
    return module


def resources_of(module, target: str) -> dict:
    """A loaded module's ``RESOURCES`` dict, checked."""
    resources = getattr(module, "RESOURCES", None)
    if not isinstance(resources, dict):
        raise ResourceLoadError(f"'{target}' defines no RESOURCES mapping (a dict from Resource "
                                "strings or Lambda function names to callables)")
    bad = [name for name, handler in resources.items() if not callable(handler)]
    if bad:
        raise ResourceLoadError(f"RESOURCES in '{target}' maps {bad[0]!r} to something that is "
                                "not callable")
    return dict(resources)


class TaskContext:
    """What a resource callable may receive as its second argument.

    ``context`` is the ``$$`` Context object, ``token`` the task token (for
    ``.waitForTaskToken`` tasks), ``heartbeat()`` reports liveness, ``sleep(s)`` spends
    time (virtual time under a VirtualClock, where exceeding TimeoutSeconds times the
    task out), ``send_task_success`` / ``send_task_failure`` complete the token, and
    ``log(text)`` writes a line of the function's log (a ``lambda:invoke`` with
    ``"LogType": "Tail"`` returns it base64-encoded in ``LogResult``). ``attempt_id``
    names this attempt of the task, the same when ``asl serve`` calls it again after a
    restart (tasks are delivered at least once): an idempotency key for side effects.
    """

    __slots__ = ("context", "token", "attempt_id", "_tokens", "_state", "_clock_sleep",
                 "_logs")

    def __init__(self, context: dict, token: str | None, tokens, state: str, clock_sleep,
                 logs: list | None = None, *, attempt_id: str = "") -> None:
        self.context = context
        self.token = token
        self.attempt_id = attempt_id
        self._tokens = tokens         # the execution's task-token mailbox
        self._state = state
        self._clock_sleep = clock_sleep
        self._logs = logs

    def log(self, text: str) -> None:
        if self._logs is not None:
            self._logs.append(str(text))

    def heartbeat(self) -> None:
        if self.token is not None:
            self._tokens.complete(self.token, None)

    def sleep(self, seconds: float) -> None:
        self._clock_sleep(seconds)

    def send_task_success(self, output: Any) -> None:
        self._tokens.complete(self.token, ("success", copy(output)))

    def send_task_failure(self, error: str | None = None, cause: str | None = None) -> None:
        self._tokens.complete(self.token, ("failure", error, cause))


@dataclass(frozen=True)
class Invoker:
    """How to call one callable: decided once per callable, not per call."""

    function: Callable
    wants_context: bool
    is_async: bool

    @classmethod
    def of(cls, function: Callable) -> "Invoker":
        """The invoker of ``function``, worked out once per callable (signatures are slow)."""
        try:
            invoker = _INVOKERS.get(function)
        except TypeError:                       # an unhashable callable object
            return cls._inspect(function)
        if invoker is None:
            if len(_INVOKERS) >= 4096:
                _INVOKERS.clear()
            invoker = _INVOKERS[function] = cls._of_code(function) or cls._inspect(function)
        return invoker

    @classmethod
    def _of_code(cls, function: Callable) -> "Invoker | None":
        """For a plain function, decided by its code object, which every closure made by
        the same ``def`` shares: a fresh closure per test costs no signature inspection."""
        code = getattr(function, "__code__", None)
        if type(function) is not _FUNCTION or code is None or hasattr(function, "__wrapped__"):
            return None
        decided = _BY_CODE.get(code)
        if decided is None:
            flags = code.co_flags
            decided = (code.co_argcount >= 2 or bool(flags & _CO_VARARGS),
                       bool(flags & _CO_COROUTINE))
            if len(_BY_CODE) >= 4096:
                _BY_CODE.clear()
            _BY_CODE[code] = decided
        return cls(function, *decided)

    @classmethod
    def _inspect(cls, function: Callable) -> "Invoker":
        target = getattr(function, "__call__", function) if not inspect.isroutine(function) else function
        is_async = inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(target)
        try:
            params = [p for p in inspect.signature(function).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
            wants_context = len(params) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)
        except (TypeError, ValueError):
            wants_context = False
        return cls(function, wants_context, is_async)

    def __call__(self, payload: Any, context_factory: Callable[[], TaskContext]) -> Any:
        result = (self.function(payload, context_factory()) if self.wants_context
                  else self.function(payload))
        if self.is_async or (type(result) not in _JSON_TYPES and inspect.isawaitable(result)):
            result = _run_coroutine(result)
        return result


_INVOKERS: dict = {}
_BY_CODE: dict = {}
_FUNCTION = type(lambda: None)
_CO_VARARGS = inspect.CO_VARARGS
_CO_COROUTINE = inspect.CO_COROUTINE
_JSON_TYPES = frozenset({dict, list, str, int, float, bool, type(None)})


def _run_coroutine(awaitable):
    import asyncio   # here: asyncio costs ~20 ms to import, and most callables are plain

    async def _await():
        return await awaitable
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await())
    # execute() was called from inside a running loop (an async test, a notebook): that
    # loop is blocked in this call, so the coroutine gets a loop of its own on a thread.
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, asyncio.run(_await())))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name="asl-coroutine", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
