"""TestState, offline: run one state once, as AWS's ``TestState`` API does, and report it.

    from asl.test_state import test_state
    result = test_state({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                         "Arguments": {"FunctionName": "charge"}, "QueryLanguage": "JSONata",
                         "Retry": [{"ErrorEquals": ["Timeout"], "MaxAttempts": 2}],
                         "Next": "Done"},
                        {"order": 1}, mock={"errorOutput": {"error": "Timeout"}},
                        inspection_level="DEBUG")
    result.status, result.error, result.inspection_data["errorDetails"]
    # -> "RETRIABLE", "Timeout", {"retryIndex": 0, "retryBackoffIntervalSeconds": 1}

One engine: the state is compiled by its own type (:data:`asl.states.STATE_TYPES`) and run
by its own ``run`` against a real :class:`asl.execution.Frame`, exactly as an execution
runs it. This module only stands at the Frame's edges:

* the mock (or the ``resources`` callables) answers the Task's call where the engine
  calls user code; for a mocked Parallel or Map it is the branches' or iterations'
  outcome, where the engine runs them (``Frame.run_concurrently``);
* ``Frame.retrying`` is where the engine decides on a retry: the first decision to retry
  (after fast-forwarding ``retrierRetryCount`` retries, each replaying the first failure,
  never calling anything again) ends the test with status RETRIABLE;
* ``Frame.caught`` tells that a Catcher took the error: status CAUGHT_ERROR;
* Wait states and retry back-offs do not wait.

The inspection data's stages (afterInputPath, afterParameters, afterResultSelector,
afterResultPath...) are observed, not recomputed: the compiled state is copied with its
own evaluators wrapped so that each stage's value is recorded as the engine produces it.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from asl import errors
from asl.errors import StatesError, TaskFailed, matches
from asl.execution import Frame, Identity, Run
from asl.payload import copy, dumps, sized_copy
from asl.resources import RawResult, can_resolve, parse_resource
from asl.states import STATE_TYPES, CompileOptions
from asl.states.retry import find_retrier
from asl.validation import Diagnostic, ValidationError, validate
from asl.validation.diagnostics import ERROR, SCHEMA_VALIDATION_FAILED

__all__ = ["test_state", "TestStateResult", "INSPECTION_LEVELS", "STATUSES"]

INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR = "SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR"
STATUSES = (SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR)

#: The name AWS gives the state under test, in ``$$.State.Name`` (both forms) and as the
#: state's name in the one-state form.
STATE_NAME = "StateName"
#: What TestState runs: AWS's list (Map and Parallel only with a mock).
_SUPPORTED = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice")
_MOCKABLE = ("Task", "Map", "Parallel")
_FIELD_VALIDATION_MODES = ("STRICT", "PRESENT", "NONE")
_CONFIGURATION_KEYS = ("retrierRetryCount", "errorCausedByState", "mapIterationFailureCount",
                       "mapItemReaderData")
_CONTEXT_KEYS = ("Execution", "State", "StateMachine", "Task")

#: The JSON-text members of AWS's InspectionData (the rest are numbers or objects).
_TEXT_FIELDS = ("input", "afterInputPath", "afterParameters", "afterArguments", "result",
                "afterResultSelector", "afterResultPath", "variables", "afterItemsPath",
                "afterItemSelector", "afterItemBatcher", "afterItemsPointer")
#: The order AWS's shape lists them in (and this module reports them in).
_FIELD_ORDER = ("input", "afterArguments", "afterInputPath", "afterParameters", "result",
                "afterResultSelector", "afterResultPath", "request", "response", "variables",
                "errorDetails", "afterItemsPath", "afterItemSelector", "afterItemBatcher",
                "afterItemsPointer", "toleratedFailureCount", "toleratedFailurePercentage",
                "maxConcurrency")


@dataclass
class TestStateResult:
    """What TestState returns: ``status`` (SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR),
    ``next_state``, ``output`` (a JSON value; see ``has_output``), ``error``, ``cause``,
    and ``inspection_data`` (None at INFO; at DEBUG and TRACE a dict in AWS's camelCase
    InspectionData shape, its values JSON values). :meth:`to_dict` is AWS's
    TestStateOutput, JSON text where AWS gives JSON text."""

    __test__ = False        # not a test class, whatever pytest thinks of its name

    status: str
    next_state: str | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    inspection_data: dict | None = None
    has_output: bool = field(default=False, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    def to_dict(self) -> dict:
        """AWS's TestStateOutput: output (JSON text), error, cause, inspectionData (its
        payloads as JSON text), nextState, status; members without a value left out."""
        shaped: dict = {}
        if self.has_output:
            shaped["output"] = dumps(self.output)
        if self.error is not None:
            shaped["error"] = self.error
        if self.cause is not None:
            shaped["cause"] = self.cause
        if self.inspection_data is not None:
            shaped["inspectionData"] = {
                key: dumps(value) if key in _TEXT_FIELDS else copy(value)
                for key, value in self.inspection_data.items()}
        if self.next_state is not None:
            shaped["nextState"] = self.next_state
        shaped["status"] = self.status
        return shaped


def test_state(definition: Any, input: Any = None, *, mock: dict | None = None,
               inspection_level: str = "INFO", context: Any = None, variables: Any = None,
               state_name: str | None = None, resources: dict | None = None,
               reveal_secrets: bool = False,
               state_configuration: dict | None = None) -> TestStateResult:
    """Run one state once, with the semantics and result shape of AWS's TestState.

    ``definition``: one state (a dict, or JSON/YAML text), or a whole state machine with
    ``state_name`` naming the state to test (at any depth). ``input``, ``context`` and
    ``variables``: values, or JSON text as AWS takes them. ``mock``: ``{"result": "<JSON
    text>"}`` or ``{"errorOutput": {"error": ..., "cause": ...}}`` (plus
    ``fieldValidationMode``) answers a Task, Parallel or Map instead of running it;
    without a mock a Task calls its callable from ``resources`` (asl's usual mapping).
    ``state_configuration``: ``retrierRetryCount`` (retries already made by the Retrier
    that matches), ``mapIterationFailureCount``, ``mapItemReaderData``,
    ``errorCausedByState``.

    Raises :class:`asl.ValidationError` for what TestState refuses (an invalid
    definition, a mock where none is allowed...), :class:`asl.MissingResourceError` for
    an unmocked Task without a callable, :class:`asl.InvalidExecutionInput` for an input
    that is not JSON. Whatever the state does is in the result, never raised.
    """
    if inspection_level not in INSPECTION_LEVELS:
        _refuse(f"inspectionLevel must be one of {list(INSPECTION_LEVELS)}, not {inspection_level!r}")
    name, body, state = _load_state(definition, state_name)
    kind = body["Type"]
    mock = _check_mock(mock, kind, reveal_secrets)
    configuration = _check_configuration(state_configuration)
    given_context = _check_context(context, mock is not None or (kind == "Task" and resources))
    variables = _json_value(_json_argument(variables, "variables", {}), "variables")
    if not isinstance(variables, dict):
        _refuse("variables must be a JSON object (variable names to values)")
    raw, size = _input_value(input)
    if kind in ("Map", "Parallel"):
        if mock is None:
            _refuse("TestState API does not support Map or Parallel states. Supported state "
                    f"types include: [{', '.join(_SUPPORTED)}]", code="InvalidDefinition")
        state = _check_branch_mock(state, body, mock, configuration)

    if mock is not None:
        handler = _mock_handler(mock, configuration if kind == "Map" else {})
        resources = _Everything(handler)
    else:
        resources = dict(resources or {})
        if kind == "Task":
            _check_resource(name, body, state, resources)

    recorder = _Recorder(state)
    run = Run(Identity("TestStateMachine", "us-east-1",
                       "123456789012", None, "EXPRESS"),
              str(uuid.uuid4()), raw, resources, _NoWaitClock(), "sequential", None, True)
    frame = _TestFrame(run, variables, given_context, configuration, recorder,
                       mock if kind in ("Map", "Parallel") else None)
    frame.event("ExecutionStarted", {"input": raw, "roleArn": None})
    frame.previous = 0
    instrumented = recorder.instrument(state)

    status, next_state, output, has_output, error, cause = SUCCEEDED, None, None, False, None, None
    details: dict = {}
    try:
        next_state, output, _ = instrumented.run(frame, raw, size)
        has_output = True
        if frame.caught_error is not None:
            exc, index = frame.caught_error
            status, error, cause = CAUGHT_ERROR, exc.error, exc.cause
            details["catchIndex"] = index
    except _Retriable as retriable:
        exc = retriable.error
        status, error, cause = RETRIABLE, exc.error, exc.cause
        details["retryBackoffIntervalSeconds"] = int(retriable.backoff)
    except StatesError as exc:
        frame.locate(exc)
        status, error, cause = FAILED, exc.error, exc.cause
    if status != SUCCEEDED and getattr(state, "retriers", None):
        index = find_retrier(state.retriers, error or "")
        if index is not None:
            details["retryIndex"] = index

    inspection = None
    if inspection_level != "INFO":
        inspection = recorder.inspection(raw, frame, body, details)
    return TestStateResult(status=status, next_state=next_state if has_output else None,
                           output=output, error=error, cause=cause,
                           inspection_data=inspection, has_output=has_output)


test_state.__test__ = False     # a function named test_*, but not a test


# -- the definition ---------------------------------------------------------------------------

def _refuse(message: str, location: str = "", code: str = "ValidationException") -> None:
    """Raise what AWS answers with a ValidationException (or InvalidDefinition)."""
    raise ValidationError([Diagnostic(location, SCHEMA_VALIDATION_FAILED, message)],
                          f"TestState {code}: {message}")


def _load_state(definition: Any, state_name: str | None) -> tuple[str, dict, Any]:
    """(name, definition, compiled state), validated as TestState validates it."""
    from asl.definition import DefinitionError, read_definition

    try:
        loaded = read_definition(definition)
    except DefinitionError as exc:
        _refuse(f"the definition cannot be read: {exc}", code="InvalidDefinition")
    document = loaded.definition
    if state_name is None:
        if "States" in document and "Type" not in document:
            _refuse("the definition is a state machine: name the state to test with "
                    "state_name (TestState's stateName)")
        return _load_one_state(loaded)
    if "States" not in document:
        _refuse("If stateName is specified, the definition must contain a fully-formed state "
                "machine definition")
    problems = [d for d in validate(loaded) if d.severity == ERROR]
    if problems:
        raise ValidationError(problems)
    from asl.definition.scopes import walk_states

    for ref in walk_states(document):
        if ref.name == state_name:
            options = CompileOptions(document.get("QueryLanguage", "JSONPath"))
            body = ref.definition
            return ref.name, body, STATE_TYPES[body["Type"]].compile(ref.name, body, options)
    _refuse(f"the state machine has no state named '{state_name}'")


def _load_one_state(loaded) -> tuple[str, dict, Any]:
    """One state, validated inside a machine of its own whose other states are the
    Succeed states it transitions to; diagnostics point into the state itself."""
    body = loaded.definition
    targets = _targets(body)
    wrapper = {"StartAt": STATE_NAME, "States": {STATE_NAME: body}}
    for target in targets:
        if target != STATE_NAME:
            wrapper["States"][target] = {"Type": "Succeed"}
    prefix = "/States/" + STATE_NAME
    diagnostics = validate(loaded._replace(
        definition=wrapper,
        duplicate_keys=tuple(prefix + key for key in loaded.duplicate_keys)))
    problems = [dataclasses.replace(d, location=d.location[len(prefix):]
                                    if d.location.startswith(prefix) else d.location)
                for d in diagnostics if d.severity == ERROR]
    if problems:
        raise ValidationError(problems)
    kind = body["Type"]
    return STATE_NAME, body, STATE_TYPES[kind].compile(STATE_NAME, body, CompileOptions())


def _targets(body: dict) -> list[str]:
    """The names a state transitions to (Next, Default, each Choice's and Catcher's Next)."""
    names = []

    def add(value):
        if isinstance(value, str) and value not in names:
            names.append(value)
    add(body.get("Next"))
    add(body.get("Default"))
    for key in ("Choices", "Catch"):
        for rule in body.get(key) or () if isinstance(body.get(key), list) else ():
            if isinstance(rule, dict):
                add(rule.get("Next"))
    return names


# -- the request's other members ------------------------------------------------------------

def _json_argument(value: Any, what: str, default: Any) -> Any:
    """A member AWS takes as JSON text: text is parsed, any other value taken as is."""
    if value is None:
        return default
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError as exc:
            _refuse(f"{what} is not valid JSON text: {exc}")
    return value


def _json_value(value: Any, what: str) -> Any:
    """An independent copy of a JSON value; anything JSON cannot hold is refused."""
    try:
        return copy(value)
    except StatesError as exc:
        _refuse(f"{what} is not JSON: {exc.cause}")


def _input_value(value: Any) -> tuple[Any, int]:
    from asl.machine import InvalidExecutionInput

    value = _json_argument(value, "input", {})
    try:
        return sized_copy(value)
    except StatesError as exc:
        raise InvalidExecutionInput("the input is not JSON: " + exc.cause) from None


def _check_mock(mock: dict | None, kind: str, reveal_secrets: bool) -> dict | None:
    """The mock, checked as AWS checks it; its result parsed (``{"result": value}`` or
    ``{"errorOutput": {...}}``)."""
    if mock is None:
        return None
    if not isinstance(mock, dict):
        _refuse("mock must be an object with 'result' or 'errorOutput'")
    unknown = sorted(set(mock) - {"result", "errorOutput", "fieldValidationMode"})
    if unknown:
        _refuse(f"mock has unknown members {unknown}")
    if kind not in _MOCKABLE:
        _refuse(f"State type '{kind}' is not supported when a mock is specified")
    if reveal_secrets:
        _refuse("TestState does not support RevealSecrets when a mock is specified.")
    if ("result" in mock) == ("errorOutput" in mock):
        _refuse("A test mock should have only one of the following fields: [result, errorOutput].")
    mode = mock.get("fieldValidationMode", "STRICT")
    if mode not in _FIELD_VALIDATION_MODES:
        _refuse(f"fieldValidationMode must be one of {list(_FIELD_VALIDATION_MODES)}, not {mode!r}")
    if "errorOutput" in mock:
        output = mock["errorOutput"]
        if not isinstance(output, dict) or set(output) - {"error", "cause"}:
            _refuse("mock.errorOutput must be an object with 'error' and 'cause'")
        for key in ("error", "cause"):
            if key in output and not isinstance(output[key], str):
                _refuse(f"mock.errorOutput.{key} must be a string")
        return {"errorOutput": dict(output)}
    result = mock["result"]
    if isinstance(result, str):
        try:
            result = json.loads(result)
        except ValueError:
            _refuse("Mocked result must be a valid JSON string.")
    return {"result": _json_value(result, "mock.result")}


def _check_configuration(configuration: dict | None) -> dict:
    configuration = dict(configuration or {})
    unknown = sorted(set(configuration) - set(_CONFIGURATION_KEYS))
    if unknown:
        _refuse(f"stateConfiguration has unknown members {unknown}")
    for key in ("retrierRetryCount", "mapIterationFailureCount"):
        value = configuration.get(key)
        if value is not None and (type(value) is not int or value < 0):
            _refuse(f"stateConfiguration.{key} must be an integer of at least 0")
    return configuration


def _check_context(context: Any, allowed: bool) -> dict | None:
    """The Context object ``$$`` the state sees instead of the generated one."""
    if context is None:
        return None
    if not allowed:
        _refuse("A Context object may only be specified with a mock (offline: or a "
                "resources callable for a Task)")
    context = _json_value(_json_argument(context, "context", None), "context")
    if not isinstance(context, dict):
        _refuse("Invalid Context object provided: it must be a JSON object")
    if "Map" in context:
        _refuse("Invalid Context object provided: 'Map' field is not supported when mocking "
                "a Context object")
    unknown = sorted(set(context) - set(_CONTEXT_KEYS))
    if unknown:
        _refuse(f"Invalid Context object provided: unknown field(s) {unknown}")
    for key, value in context.items():
        if not isinstance(value, dict):
            _refuse(f"Invalid Context object provided: '{key}' must be an object")
    return context


def _check_branch_mock(state, body: dict, mock: dict, configuration: dict):
    """A mocked Parallel or Map: its mock checked as AWS checks it; a Map that writes its
    results has the mock as its whole result (the writer is not run)."""
    caused_by = configuration.get("errorCausedByState")
    if caused_by is not None:
        from asl.definition.scopes import walk_states
        inner = {ref.name for ref in walk_states({"StartAt": "", "States": {"": body}})}
        if caused_by not in inner:
            _refuse(f"stateConfiguration.errorCausedByState: no state '{caused_by}' in the "
                    "state under test")
    if "result" not in mock:
        return state
    result = mock["result"]
    if body["Type"] == "Parallel":
        if not isinstance(result, list):
            _refuse("Mocked result must be an array.")
        if len(result) != len(state.branches):
            _refuse("Mocked result must contain the same number of items as number of "
                    "Parallel branches.")
        return state
    if state.writer is not None:
        if not isinstance(result, dict):
            _refuse("Mocked result must be a JSON object.")
        return dataclasses.replace(state, writer=None)
    if not isinstance(result, list):
        _refuse("Mocked result must be an array.")
    if state.reader is not None and configuration.get("mapItemReaderData") is None:
        _refuse("stateConfiguration.mapItemReaderData must give the data the ItemReader "
                "reads when a Map with an ItemReader is mocked")
    return state


def _check_resource(name: str, body: dict, state, resources: dict) -> None:
    """An unmocked Task needs its callable, as an execution does."""
    from asl.machine import MissingResourceError

    spec = parse_resource(body["Resource"])
    if not can_resolve(spec, resources, body.get("Parameters", body.get("Arguments"))):
        raise MissingResourceError([(name, spec.resource)])


# -- the mock, where the engine calls user code -------------------------------------------------

class _Everything(dict):
    """A resources mapping that answers every Resource with the mock's callable."""

    def __init__(self, handler: Callable) -> None:
        super().__init__()
        self.handler = handler

    def get(self, key, default=None):
        return self.handler

    def __contains__(self, key) -> bool:
        return True


def _mock_handler(mock: dict, configuration: dict) -> Callable:
    """The callable answering a mocked Task (and a mocked Map's ItemReader): the mocked
    result as the service's whole response, or the mocked error; for a
    ``.waitForTaskToken`` task, as the answer to its token."""
    reader_data = configuration.get("mapItemReaderData")

    def answer(payload, context):
        if reader_data is not None:         # only a mocked Map's ItemReader calls here
            return reader_data           # as read from its source: the Map parses it
        if "errorOutput" in mock:
            failure = mock["errorOutput"]
            raise TaskFailed(failure.get("error"), failure.get("cause"))
        if context.token is not None:
            context.send_task_success(mock["result"])
            return {}
        return RawResult(copy(mock["result"]))
    return answer


# -- the frame the state runs against ----------------------------------------------------------

class _Retriable(BaseException):
    """Control flow: the engine decided to retry; the test ends RETRIABLE."""

    def __init__(self, error: StatesError, backoff: float) -> None:
        super().__init__(error.error)
        self.error = error
        self.backoff = backoff


class _NoWaitClock:
    """Real time that never waits (TestState does not wait: not for Wait, not for a
    retry's back-off)."""

    virtual = False

    def __init__(self) -> None:
        import time
        self.time = time.time

    def sleep(self, seconds: float, **_: Any) -> None:
        pass

    def fork(self) -> "_NoWaitClock":
        return self

    def join(self, forks) -> None:
        pass

    def jitter(self, upper: float) -> float:
        import random
        return random.uniform(0, upper)


class _TestFrame(Frame):
    """A top-level Frame of a one-state run; see the module docstring for what it adds."""

    __slots__ = ("given_context", "skip_retries", "replay", "caught_error", "recorder",
                 "branch_mock", "iteration_failures")

    def __init__(self, run: Run, variables: dict, given_context: dict | None,
                 configuration: dict, recorder: "_Recorder", branch_mock: dict | None) -> None:
        super().__init__(run, run.clock, variables, 0, run.cancel)
        self.given_context = given_context
        self.skip_retries = configuration.get("retrierRetryCount") or 0
        self.iteration_failures = configuration.get("mapIterationFailureCount") or 0
        self.replay: BaseException | None = None
        self.caught_error: tuple[StatesError, int] | None = None
        self.recorder = recorder
        self.branch_mock = branch_mock

    @property
    def context(self) -> dict:
        if self._context is None:
            if self.given_context is not None:
                context = copy(self.given_context)
                if self.task_token is not None and "Task" not in context:
                    context["Task"] = {"Token": self.task_token}
                self._context = context
            else:
                Frame.context.fget(self)
                self._context["State"]["Name"] = STATE_NAME
        return self._context

    def event(self, event_type: str, details: dict | None = None) -> int:
        self.recorder.event(event_type, details)
        return super().event(event_type, details)

    def sleep(self, seconds: float, state_name: str, kind: str,
              intended: float | None = None) -> None:
        self.check()

    def retrying(self, state, exc: StatesError, delay: float, intended: float,
                 counters: list[int] | None = None) -> None:
        if self.skip_retries > 0:        # a retry already made (retrierRetryCount)
            self.skip_retries -= 1
            self.retry_count += 1
            self._context = None
            return
        raise _Retriable(exc, intended)

    def caught(self, state, exc: StatesError, next_state: str) -> None:
        error = exc.error or ""
        index = next(i for i, catcher in enumerate(state.catchers)
                     if matches(catcher.error_equals, error))
        self.caught_error = (exc, index)

    def call(self, function: Callable[[], Any], *, limit: float | None = None) -> Any:
        # A fast-forwarded retry replays the first failure: nothing is called twice.
        if self.replay is not None:
            raise self.replay
        try:
            return super().call(function, limit=limit)
        except Exception as exc:
            self.replay = exc
            raise

    def run_concurrently(self, jobs, *, limit: int, may_block: bool, isolated: bool = False,
                         keep_going=None) -> tuple[list, list]:
        """A mocked Parallel's branches or Map's iterations: the mock is their outcome."""
        mock = self.branch_mock
        if mock is None:
            return super().run_concurrently(jobs, limit=limit, may_block=may_block,
                                            isolated=isolated, keep_going=keep_going)
        if "errorOutput" in mock:
            failure = mock["errorOutput"]
            raise StatesError(failure.get("error"), failure.get("cause"))
        results = copy(mock["result"])
        failed = self.iteration_failures
        if failed and keep_going is not None and not keep_going(failed):
            # Beyond the tolerated failures: the engine fails the Map as AWS does.
            failure = StatesError(errors.TASK_FAILED, "")
            return results, [(index, failure) for index in range(failed)]
        return results, []


# -- the inspection data --------------------------------------------------------------------------

class _Recorder:
    """Records each stage of the pipeline as the engine computes it, by wrapping the
    compiled state's own evaluators (a copy of the state: the original is untouched)."""

    def __init__(self, state) -> None:
        self.state = state
        self.stages: dict = {}
        self.selected: list | None = None

    def instrument(self, state):
        stages, changes = self.stages, {}

        def record(key, evaluate):
            def recorded(data, env):
                value = evaluate(data, env)
                stages[key] = value
                return value
            return recorded

        if getattr(state, "input_path", None) is not None:
            changes["input_path"] = record("afterInputPath", state.input_path)
        if getattr(state, "parameters", None) is not None and state.type != "Map":
            changes["parameters"] = record(
                "afterArguments" if state.jsonata else "afterParameters", state.parameters)
        if getattr(state, "result_selector", None) is not None:
            selector = state.result_selector

            def select(result, env):
                stages["result"] = result
                value = selector(result, env)
                stages["afterResultSelector"] = value
                return value
            changes["result_selector"] = select
        if getattr(state, "result_path", None) is not None:
            place = state.result_path

            def placed(raw, result):
                stages.setdefault("result", result)
                stages["afterResultSelector"] = result
                value = place(raw, result)
                stages["afterResultPath"] = value
                return value
            changes["result_path"] = placed
        if state.type == "Map":
            if state.items_path is not None:
                changes["items_path"] = record("afterItemsPath", state.items_path)
            if state.item_selector is not None:
                self.selected = []
                item_selector, selected = state.item_selector, self.selected

                def select_item(data, env):
                    value = item_selector(data, env)
                    selected.append(value)
                    return value
                changes["item_selector"] = select_item
        return dataclasses.replace(state, **changes) if changes else state

    def event(self, event_type: str, details: dict | None) -> None:
        """A JSONata Task's result is seen in its Succeeded event (no evaluator takes it)."""
        state = self.state
        if state.type == "Task" and state.jsonata and event_type == state.events[3]:
            self.stages["result"] = (details or {}).get("output")

    def inspection(self, raw: Any, frame: _TestFrame, body: dict, details: dict) -> dict:
        state, stages = self.state, dict(self.stages)
        data = {"input": raw}
        if state.jsonata:
            if state.type == "Task":
                stages.setdefault("afterArguments", raw)
        else:
            if state.input_path is None:        # no InputPath: the stage is the identity
                stages.setdefault("afterInputPath", raw)
            if (state.type in ("Task", "Parallel", "Pass") and state.parameters is None
                    and "afterInputPath" in stages):
                stages.setdefault("afterParameters", stages["afterInputPath"])
            if state.type == "Pass":        # what AWS reports of a Pass [AWS, recorded]
                if state.has_result:
                    stages.pop("afterInputPath", None)
                    stages.pop("afterParameters", None)
                else:
                    stages.pop("result", None)
        if self.selected is not None:
            stages["afterItemSelector"] = self.selected
        data.update(stages)
        if frame.variables:
            data["variables"] = dict(frame.variables)
        if details:
            data["errorDetails"] = details
        if state.type == "Map":
            data.update(_map_settings(state, frame, stages.get("afterInputPath", raw)))
        return {key: data[key] for key in _FIELD_ORDER if key in data}


def _map_settings(state, frame: _TestFrame, effective: Any) -> dict:
    """maxConcurrency (0: unbounded) and the tolerated failures, as the Map resolves them."""
    from asl.states.io import resolve_number

    settings: dict = {}
    try:
        settings["maxConcurrency"] = resolve_number(
            state.max_concurrency, frame, effective, "MaxConcurrency") or 0
        count = resolve_number(state.tolerated_count, frame, effective, "ToleratedFailureCount")
        percentage = resolve_number(state.tolerated_percentage, frame, effective,
                                    "ToleratedFailurePercentage", float)
    except StatesError:
        return settings
    if count is not None:
        settings["toleratedFailureCount"] = count
    if percentage is not None:
        settings["toleratedFailurePercentage"] = float(percentage)
    return settings
