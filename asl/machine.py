"""``StateMachine``: load -> validate -> compile, once; then execute as often as you like.

A StateMachine is immutable once built and holds no per-execution state (only a cache of
which resources mapping it last found complete), so one instance may run many executions
at once, from many threads.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from asl.definition.scopes import walk_states
from asl.errors import StatesError
from asl.execution import (Execution, ExecutionResult, Identity, Journal, new_run,
                           redrive_run, restore_run)
from asl.payload import copy, dumps, sized_copy
from asl.resources import can_resolve, lookup, parse_resource
from asl.states import CompileOptions, compile_scope

__all__ = ["StateMachine", "MissingResourceError", "InvalidExecutionInput"]


class InvalidExecutionInput(ValueError):
    """The execution input is not a payload AWS accepts: NaN, Infinity, a lone UTF-16
    surrogate, or a value JSON cannot hold (StartExecution's ``InvalidExecutionInput``)."""


class MissingResourceError(LookupError):
    """Task states whose Resource has no callable in the resources mapping.

    ``missing`` lists ``(state name, resource)`` pairs, every one of them.
    """

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        self.missing = missing
        lines = "\n".join(f"  state '{s}': resource '{r}'" for s, r in missing)
        super().__init__(f"no callable registered for {len(missing)} task resource(s):\n{lines}")


def _task_resources(definition: dict):
    """Every (state name, ResourceSpec, Parameters template) at any depth."""
    for ref in walk_states(definition):
        state = ref.definition
        if ref.type == "Task":
            yield ref.name, parse_resource(state["Resource"]), state.get("Parameters")
        elif ref.type == "Map":
            for field in ("ItemReader", "ResultWriter"):
                if "Resource" in state.get(field, {}):
                    yield (ref.name, parse_resource(state[field]["Resource"]),
                           state[field].get("Parameters"))


def _compile(definition: dict) -> tuple:
    """What a StateMachine keeps of a valid definition: (definition, scope, TimeoutSeconds,
    task resources). Immutable, so machines built from equal definitions share it."""
    language = definition.get("QueryLanguage", "JSONPath")
    return (definition, compile_scope(definition, CompileOptions(language)),
            definition.get("TimeoutSeconds"), tuple(_task_resources(definition)))


class _CompiledCache:
    """The compiled form of recently built definitions, keyed by their compact JSON text,
    so that a test fixture building the same machine per test pays microseconds, not a
    validation. Bounded (least recently used out) and thread-safe."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            compiled = self.entries.get(key)
            if compiled is not None:
                self.entries.move_to_end(key)
            return compiled

    def put(self, key, compiled) -> None:
        with self.lock:
            self.entries[key] = compiled
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)


_COMPILED = _CompiledCache()
_NO_RESOURCES: dict = {}


class StateMachine:
    """A compiled ASL state machine.

    ``definition`` is a dict, JSON or YAML text, a path, or a
    :class:`asl.definition.LoadedDefinition`. It is read once, and that same object is
    validated (:class:`asl.ValidationError` lists every problem, a state name given twice
    included) and compiled.
    ``name``, ``region``, ``account`` and ``role_arn`` make the ARNs that ``$$`` and the
    history report. ``type="EXPRESS"`` refuses what AWS refuses in an Express workflow
    (``.sync``, ``.waitForTaskToken``, a Distributed Map of STANDARD children) and gives
    the Express Context object and execution ARNs.
    """

    def __init__(self, definition: Any, *, name: str = "StateMachine",
                 region: str = "us-east-1", account: str = "123456789012",
                 role_arn: str | None = None, substitutions: dict | None = None,
                 type: str = "STANDARD") -> None:
        from asl.definition import LoadedDefinition, read_definition, substitute
        from asl.validation import ValidationError, validate

        if isinstance(definition, LoadedDefinition):
            loaded = definition
            if substitutions:
                loaded = loaded._replace(definition=substitute(loaded.definition, substitutions),
                                         text=None)
        else:
            loaded = read_definition(definition, substitutions)
        if type not in ("STANDARD", "EXPRESS"):
            raise ValueError(f"type must be 'STANDARD' or 'EXPRESS', not {type!r}")
        key = None if loaded.duplicate_keys else (type, loaded.text or dumps(loaded.definition))
        compiled = _COMPILED.get(key) if key is not None else None
        if compiled is None:
            problems = [d for d in validate(loaded) if d.severity == "ERROR"]
            if type == "EXPRESS" and not problems:
                from asl.validation.express import express_diagnostics
                problems = express_diagnostics(loaded.definition)
            if problems:
                raise ValidationError(problems)
            # Compiled from a private copy: the caller may change its dict afterwards.
            compiled = _compile(loaded.definition if key is None else json.loads(key[1]))
            if key is not None:
                _COMPILED.put(key, compiled)
        self._definition, self._scope, self._timeout, self._tasks = compiled
        self._resolved = None    # (id, keys) of the last resources mapping found complete
        self._handlers: tuple = ()   # what each Task found in it
        role_arn = role_arn or f"arn:aws:iam::{account}:role/StepFunctions-{name}-role"
        self.identity = Identity(name, region, account, role_arn, type)

    @classmethod
    def from_file(cls, path: str | Path, **options) -> "StateMachine":
        """Build from a ``.json``, ``.yaml`` or ``.yml`` file."""
        return cls(Path(path), **options)

    @classmethod
    def from_template(cls, path: str | Path, logical_id: str | None = None, *,
                      substitutions: dict | None = None, **options) -> "StateMachine":
        """Build from the state machine ``logical_id`` of a CloudFormation/SAM template or
        ``cdk synth`` output (optional when there is one). References to other resources
        become placeholder ARNs named after their logical IDs; ``substitutions`` override
        any name (see :func:`asl.definition.template.load_template`)."""
        from asl.definition.template import load_template
        found = load_template(path, logical_id, substitutions)
        return cls(found.definition, **{"name": found.logical_id, **options})

    @property
    def name(self) -> str:
        return self.identity.state_machine_name

    @property
    def arn(self) -> str:
        return self.identity.state_machine_arn

    @property
    def definition(self) -> dict:
        """A copy of the (substituted) definition this machine was built from."""
        return copy(self._definition)

    def missing_resources(self, resources: dict | None) -> list[tuple[str, str]]:
        """The (state, resource) pairs that ``resources`` has no callable for."""
        resources = resources or {}
        return [(name, spec.resource) for name, spec, parameters in self._tasks
                if not can_resolve(spec, resources, parameters)]

    def _check_resources(self, resources: dict) -> None:
        """Every Task has a callable (MissingResourceError) and each is callable
        (TypeError); checked once per resources mapping."""
        keys = tuple(resources)
        if self._resolved == (id(resources), keys):
            return
        # A new mapping of the callables last found complete (a test writing resources={...}
        # at each call) is complete too: comparing what each Task finds is enough.
        handlers = tuple(lookup(spec, resources, parameters)
                         for _, spec, parameters in self._tasks)
        if handlers != self._handlers or None in handlers:
            missing = self.missing_resources(resources)
            if missing:
                raise MissingResourceError(missing)
            for (state_name, spec, _), handler in zip(self._tasks, handlers):
                if handler is not None and not callable(handler):
                    raise TypeError(f"state '{state_name}': the resources mapping gives "
                                    f"'{spec.resource}' a {type(handler).__name__}, not a "
                                    "callable")
            self._handlers = handlers
        self._resolved = (id(resources), keys)

    def _prepare(self, input_value, resources, clock, name, concurrency, synchronous,
                 on_event, journal: Journal | None = None,
                 token_seed: str | None = None) -> Execution:
        resources = resources or _NO_RESOURCES
        self._check_resources(resources)
        try:
            input_value, input_size = sized_copy({} if input_value is None else input_value)
        except StatesError as exc:
            raise InvalidExecutionInput(
                "the execution input is not JSON: " + exc.cause.removeprefix(
                    "Unable to marshal response: ")) from None
        return new_run(self.identity, self._scope, input_value, resources, clock=clock,
                       name=name, concurrency=concurrency, timeout=self._timeout,
                       synchronous=synchronous, on_event=on_event, input_size=input_size,
                       journal=journal, token_seed=token_seed)

    def execute(self, input: Any = None, resources: dict | None = None, *, clock=None,
                name: str | None = None, concurrency: str = "threads",
                on_event=None) -> ExecutionResult:
        """Run to the end on this thread and return the result (never raises for anything
        the tasks do: failures are in ``result.status/error/cause``).

        ``clock``: :class:`asl.VirtualClock` to skip waits; ``name``: the execution name;
        ``concurrency="sequential"`` runs Parallel branches and Map iterations in order;
        ``on_event(type, details)`` is called for every history event as it happens, and
        with the notices ``"Retry"`` and ``"Catch"`` (details: name, error, cause, and the
        delay or the next state), which the history shows only indirectly.
        Raises :class:`MissingResourceError` before starting if a Task has no callable.
        """
        return self._prepare(input, resources, clock, name, concurrency, True, on_event)._execute()

    def redrive(self, previous: ExecutionResult, resources: dict | None = None, *,
                clock=None, concurrency: str = "threads", on_event=None) -> ExecutionResult:
        """Redrive an unsuccessful execution of this machine (RedriveExecution): run it on
        from the state that did not succeed, with that state's input, without running again
        what succeeded (Parallel branches and Map iterations included). The result has the
        same name and ARN, ``$$.Execution.RedriveCount`` one more, and the history goes on
        with an ``ExecutionRedriven`` event. Raises ValueError for a SUCCEEDED or EXPRESS
        execution. ``clock`` defaults to the previous attempt's."""
        return self._redrive(previous, resources, clock, concurrency, True, on_event)._execute()

    def start_redrive(self, previous: ExecutionResult, resources: dict | None = None, *,
                      clock=None, concurrency: str = "threads", on_event=None) -> Execution:
        """:meth:`redrive` on a background thread; returns the :class:`Execution`."""
        execution = self._redrive(previous, resources, clock, concurrency, False, on_event)
        execution._start_thread()
        return execution

    def _redrive(self, previous, resources, clock, concurrency, synchronous, on_event,
                 journal: Journal | None = None):
        resources = resources or _NO_RESOURCES
        self._check_resources(resources)
        return redrive_run(previous, self._scope, resources, clock=clock,
                           concurrency=concurrency, timeout=self._timeout,
                           synchronous=synchronous, on_event=on_event, journal=journal)

    # -- the seam of a durable host (asl serve) -------------------------------------------

    def _start_journaled(self, input_value, resources, journal: Journal, *, token_seed: str,
                         name: str, clock=None) -> Execution:
        """:meth:`start`, every step written to ``journal`` as it happens."""
        execution = self._prepare(input_value, resources, clock, name, "threads", False, None,
                                  journal, token_seed)
        execution._start_thread()
        return execution

    def _redrive_journaled(self, previous: ExecutionResult, resources, journal: Journal, *,
                           clock=None) -> Execution:
        execution = self._redrive(previous, resources, clock, "threads", False, None, journal)
        execution._start_thread()
        return execution

    def _restore(self, records, resources, journal: Journal | None, *, name: str,
                 input_value, start_time: float, token_seed: str, redrive_count: int = 0,
                 redrive_time: float = 0.0, ended: str | None = None, clock=None,
                 start: bool = True):
        """A run rebuilt from its journal (:func:`asl.execution.restore_run`): still
        running (``ended`` None), it goes on where it was, written to ``journal``, once
        started (here, unless ``start`` is False: then ``_start_thread()``); ended, the
        result returned can be redriven."""
        resources = resources or _NO_RESOURCES
        self._check_resources(resources)
        restored = restore_run(self.identity, self._scope, name=name, input_value=input_value,
                               start_time=start_time, records=records, resources=resources,
                               clock=clock, timeout=self._timeout, token_seed=token_seed,
                               redrive_count=redrive_count, redrive_time=redrive_time,
                               ended=ended)
        if ended is None:
            restored._run.journal = journal
            if start:
                restored._start_thread()
        return restored

    def start(self, input: Any = None, resources: dict | None = None, *, clock=None,
              name: str | None = None, concurrency: str = "threads", on_event=None) -> Execution:
        """Start on a background thread; returns the :class:`Execution` handle."""
        execution = self._prepare(input, resources, clock, name, concurrency, False, on_event)
        execution._start_thread()
        return execution
