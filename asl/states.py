"""The eight state types: how each is compiled, and what running it does.

Each state type has a ``compile_<type>`` function that turns its definition into a
:class:`State` (paths, templates, rules and resources parsed once), and a ``run_<type>``
handler ``(state, frame, raw_input) -> (next state name or None, output)``. The two sit
side by side, so a state type's whole semantics reads in one place. ``COMPILERS`` is the
dispatch table; each compiled state carries its handler.

``frame`` is the thread of execution running the state (see :mod:`asl.execution`): it
records history events, knows the clock, the variables and the Context object, and runs
nested scopes (Parallel branches, Map iterations).
"""

from __future__ import annotations

import uuid
from typing import Any

from asl import errors
from asl.choice import compile_rule, no_choice_matched
from asl.errors import RUNTIME, StatesError
from asl.language.paths import (ABSENT, compile_expression, compile_result_path, compile_selector,
                       compile_template, compile_value_path)
from asl.payload import PAYLOAD_LIMIT, check_size, checked_copy, dumps
from asl.resources import (ACTIVITY, LAMBDA, LAMBDA_INVOKE, RawResult, lambda_invoke_response,
                           lookup, parse_resource, resource_not_found)
from asl.retry import compile_catchers, compile_retriers, find_catcher, find_retrier
from asl.language.jsonpath import PathNotFound, compile_path
from asl.language.timestamps import parse_timestamp

#: Inline Map runs about 40 iterations at once on AWS, whatever MaxConcurrency says.
INLINE_MAP_CONCURRENCY = 40


class Scope:
    """One ``States`` object: the machine's top level, a Parallel branch or a Map processor."""

    __slots__ = ("start_at", "states", "may_block")

    def __init__(self, start_at: str, states: dict, may_block: bool) -> None:
        self.start_at = start_at
        self.states = states
        self.may_block = may_block   # has a Task or Wait, at any depth: worth a thread


class State:
    """A compiled state: the fields every type has, plus its own (set by its compiler).

    ``jsonata`` tells the state's query language. A JSONPath state has InputPath,
    OutputPath and a payload-template Assign; a JSONata state has none of those paths,
    and its Assign and Output are JSONata templates over ``$states``.
    """

    def __init__(self, name: str, definition: dict, handler, options: "CompileOptions") -> None:
        self.name = name
        self.type = definition["Type"]
        self.handler = handler
        self.next = definition.get("Next")
        self.entered_event = self.type + "StateEntered"
        self.exited_event = self.type + "StateExited"
        self.jsonata = definition.get("QueryLanguage", options.query_language) == "JSONata"
        if self.jsonata:
            self.input_path = self.output_path = None
            self.assign = jsonata_field(definition, "Assign")
            self.output = jsonata_field(definition, "Output")
        else:
            self.input_path = compile_selector(definition.get("InputPath", ABSENT))
            self.output_path = compile_selector(definition.get("OutputPath", ABSENT))
            self.assign = compile_template(definition["Assign"]) if "Assign" in definition else None
            self.output = None

    def __repr__(self) -> str:
        return f"<{self.type} state {self.name!r}>"


def compile_scope(definition: dict, options: "CompileOptions") -> Scope:
    """Compile a ``{StartAt, States}`` object (the machine, a branch or a processor)."""
    states = {}
    may_block = False
    for name, state_definition in definition["States"].items():
        compiler = COMPILERS[state_definition["Type"]]
        state = compiler(name, state_definition, options)
        may_block = may_block or state.type in ("Task", "Wait") or getattr(state, "may_block", False)
        states[name] = state
    return Scope(definition["StartAt"], states, may_block)


class CompileOptions:
    """What compiling needs beyond the definition: the machine's default query language."""

    def __init__(self, query_language: str = "JSONPath") -> None:
        self.query_language = query_language


# -- JSONata fields ------------------------------------------------------------------------

def jsonata_field(definition: dict, field: str, expected: str | None = None, label: str | None = None):
    """A JSONata-mode field compiled to ``evaluate(states, frame)``, or None when absent.

    ``expected`` ("integer", "array", "boolean", "string"...) makes a value of another
    type a States.QueryEvaluationError with AWS's cause (constants were checked by the
    validator).
    """
    if field not in definition:
        return None
    from asl.language.jsonata import compile_template as compile_jsonata
    from asl.language.jsonata import expect_type

    evaluate = compile_jsonata(definition[field], label or field)
    if getattr(evaluate, "constant", False):
        value = evaluate.value
        return lambda states, frame: value
    expression = getattr(evaluate, "expression", None)
    if expected is None or expression is None:
        return lambda states, frame: evaluate(states, frame.variables, frame.clock.time())

    def checked(states, frame):
        value = evaluate(states, frame.variables, frame.clock.time())
        return expect_type(value, expected, expression, label or field)
    return checked


def states_variable(frame, raw: Any, **more) -> dict:
    """``$states``: the state's input and the Context object, plus result/errorOutput."""
    states = {"input": raw, "context": frame.context}
    states.update(more)
    return states


def _as_data_evaluator(evaluate):
    """A JSONata field as an ``f(data, frame)`` evaluator, data being ``$states.input``."""
    if evaluate is None:
        return None
    return lambda data, frame: evaluate(states_variable(frame, data), frame)


# -- shared pieces ------------------------------------------------------------------------

def _effective_input(state: State, frame, raw: Any) -> Any:
    """JSONPath: InputPath, then Parameters. JSONata: Arguments (default: the input)."""
    data = raw if state.input_path is None else state.input_path(raw, frame)
    if state.parameters is not None:
        data = state.parameters(data, frame)
    return data


def _finish(state: State, frame, raw: Any, result: Any, assign_input: Any):
    """From a result to the state output, and the state's exit.

    JSONPath: Assign (over ``assign_input``), ResultSelector, ResultPath into the raw
    input, OutputPath. JSONata: Assign and Output over ``$states`` (with ``result`` for
    Task, Parallel and Map), both reading the variables as they were on entry; without
    Output the output is the result.
    """
    bound = None
    if state.jsonata:
        states = (states_variable(frame, raw, result=result) if state.type in _WITH_RESULT
                  else states_variable(frame, raw))
        assigned = state.assign(states, frame) if state.assign is not None else None
        output = state.output(states, frame) if state.output is not None else result
    else:
        assigned = state.assign(assign_input, frame) if state.assign is not None else None
        if state.result_selector is not None:
            result = state.result_selector(result, frame)
        elif frame.data_size is not None and frame.result_size is not None:
            # The raw input plus the result plus the keys ResultPath adds: an upper bound
            # of the output's size (OutputPath only selects from it).
            bound = frame.data_size + frame.result_size + state.result_path_overhead
        output = state.result_path(raw, result)
        if state.output_path is not None:
            output = state.output_path(output, frame)
    # The 256 KiB limit, measured only when the bound does not already settle it.
    frame.data_size = bound if bound is not None and bound <= PAYLOAD_LIMIT else \
        check_size(output, state.name)
    frame.exit(state, output, assigned)
    return state.next, output


_WITH_RESULT = frozenset({"Task", "Parallel", "Map"})


def _compile_io(state: State, definition: dict, parameters_field: str = "Parameters") -> None:
    if state.jsonata:
        state.parameters = (_as_data_evaluator(jsonata_field(definition, "Arguments"))
                            if parameters_field == "Parameters" else None)
        state.result_selector = None
        state.result_path = None
        return
    state.parameters = (compile_template(definition[parameters_field])
                        if parameters_field in definition else None)
    state.result_selector = (compile_template(definition["ResultSelector"])
                             if "ResultSelector" in definition else None)
    state.result_path = compile_result_path(definition.get("ResultPath", ABSENT))
    result_path = definition.get("ResultPath")
    state.result_path_overhead = 2 * len(result_path) + 8 if isinstance(result_path, str) else 8


def _compile_error_handling(state: State, definition: dict) -> None:
    state.retriers = compile_retriers(definition.get("Retry"))
    state.catchers = compile_catchers(definition.get("Catch"), state.jsonata, jsonata_field)


def _with_retry(state: State, frame, raw: Any, attempt):
    """Run ``attempt()`` under the state's Retry and Catch rules (see :mod:`asl.retry`)."""
    counters = [0] * len(state.retriers)
    while True:
        try:
            return attempt()
        except StatesError as exc:
            frame.locate(exc)
            error = exc.error or ""
            if error == RUNTIME:
                raise
            index = find_retrier(state.retriers, error)
            if index is not None:
                retrier = state.retriers[index]
                if counters[index] < retrier.max_attempts:
                    counters[index] += 1
                    delay = retrier.delay(counters[index])
                    applied = frame.clock.jitter(delay) if retrier.jitter else delay
                    frame.retrying(state, exc, applied, delay)
                    continue
            catcher = find_catcher(state.catchers, error)
            if catcher is None:
                raise
            error_output = exc.error_output()
            if catcher.jsonata:      # Output and Assign over $states, errorOutput included
                states = states_variable(frame, raw, errorOutput=error_output)
                output = catcher.output(states, frame) if catcher.output else error_output
                assigned = catcher.assign(states, frame) if catcher.assign else None
            else:                    # ResultPath places the Error Output into the raw input
                output = catcher.place(raw, error_output)
                assigned = catcher.assign(error_output, frame) if catcher.assign else None
            frame.caught(state, exc, catcher)
            frame.data_size = check_size(output, state.name)
            frame.exit(state, output, assigned)
            return catcher.next, output


# -- Pass ---------------------------------------------------------------------------------

def compile_pass(name: str, definition: dict, options: CompileOptions) -> State:
    state = State(name, definition, run_pass, options)
    _compile_io(state, definition)
    state.has_result = "Result" in definition
    state.result = definition.get("Result")
    state.result_size = check_size(state.result, name) if state.has_result else None
    return state


def run_pass(state: State, frame, raw: Any):
    """Pass: the result is ``Result`` if given (it wins over Parameters), else the
    effective input; then ResultPath into the raw input, then OutputPath."""
    frame.enter(state, raw)
    effective = _effective_input(state, frame, raw)
    if state.has_result:
        result = state.result
        frame.result_size = state.result_size
    else:
        result = effective
        if state.parameters is None:     # the input itself (or a part of it)
            frame.result_size = frame.data_size
    return _finish(state, frame, raw, result, result)


# -- Task ---------------------------------------------------------------------------------

def compile_task(name: str, definition: dict, options: CompileOptions) -> State:
    state = State(name, definition, run_task, options)
    _compile_io(state, definition)
    _compile_error_handling(state, definition)
    state.spec = spec = parse_resource(definition["Resource"])
    state.parameters_template = definition.get("Parameters")
    # What its history events say, fixed by the kind of resource.
    if spec.kind == LAMBDA:
        state.task_events, state.event_tag, state.started_details = _LAMBDA_EVENTS, {}, None
    elif spec.kind == ACTIVITY:
        state.task_events, state.event_tag = _ACTIVITY_EVENTS, {}
        state.started_details = {"workerName": "asl"}
    else:
        state.task_events = _TASK_EVENTS
        state.event_tag = state.started_details = {"resourceType": spec.resource_type,
                                                   "resource": spec.resource_api}
    state.timeout = _number_setting(state, definition, "TimeoutSeconds", "integer")
    state.heartbeat = _number_setting(state, definition, "HeartbeatSeconds", "integer")
    state.credentials = (compile_template(definition["Credentials"])
                         if "Credentials" in definition else None)
    return state


def _static_or_path(definition: dict, field: str):
    """A static number, a compiled ``...Path`` evaluator, or None when absent."""
    if field in definition:
        return definition[field]
    if field + "Path" in definition:
        return compile_value_path(definition[field + "Path"])
    return None


def run_task(state: State, frame, raw: Any):
    """Task: call the resource's callable with the effective input; Retry/Catch on failure."""
    frame.enter(state, raw)

    def attempt():
        if state.spec.waits_for_token:
            frame.issue_task_token()     # $$.Task.Token: a new one for every attempt
        effective = _effective_input(state, frame, raw)
        data = raw if state.jsonata else effective     # $states.input is the raw input
        timeout = _number_field(state.timeout, frame, data, "TimeoutSeconds", positive=True)
        heartbeat = _number_field(state.heartbeat, frame, data, "HeartbeatSeconds", positive=True)
        result = _call_resource(state, frame, effective, timeout, heartbeat)
        return _finish(state, frame, raw, result, result)

    return _with_retry(state, frame, raw, attempt)


# The history events of one task attempt, by resource kind:
# (scheduled, started, submitted, succeeded, failed, timed out).
_LAMBDA_EVENTS = ("LambdaFunctionScheduled", "LambdaFunctionStarted", None,
                  "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut")
_ACTIVITY_EVENTS = ("ActivityScheduled", "ActivityStarted", None,
                    "ActivitySucceeded", "ActivityFailed", "ActivityTimedOut")
_TASK_EVENTS = ("TaskScheduled", "TaskStarted", "TaskSubmitted",
                "TaskSucceeded", "TaskFailed", "TaskTimedOut")


def _call_resource(state: State, frame, parameters: Any, timeout, heartbeat) -> Any:
    """One attempt of a Task: schedule, find and call the callable, record the outcome.

    The callable receives the effective input (for lambda:invoke, its ``Payload``
    parameter); a lambda:invoke result is wrapped as AWS wraps it; exceptions become
    the ASL errors AWS reports (see :func:`asl.resources.error_from_exception`).
    """
    spec, names, tag = state.spec, state.task_events, state.event_tag
    if spec.kind in (LAMBDA, ACTIVITY):
        scheduled = {"resource": spec.resource, "input": parameters}
    else:
        scheduled = {**tag, "region": frame.run.region, "parameters": parameters}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    if heartbeat is not None and spec.kind != LAMBDA:
        scheduled["heartbeatInSeconds"] = heartbeat
    frame.event(names[0], scheduled)
    frame.event(names[1], state.started_details)
    try:
        request = checked_copy(parameters, state.name)[0]   # the callable's own copy
        handler = lookup(spec, frame.run.resources, parameters)
        if handler is None:
            target = parameters.get("FunctionName") if isinstance(parameters, dict) else None
            raise resource_not_found(spec, str(target or spec.resource))
        payload = request
        if spec.kind == LAMBDA_INVOKE:
            payload = request.get("Payload", {}) if isinstance(request, dict) else {}
        result = frame.run_callable(state, frame.run.invoker(handler), payload,
                                    timeout, heartbeat, names[2] and tag)
        if isinstance(result, RawResult):
            result = result.value                     # given as the task's result, as is
        else:
            result, frame.result_size = checked_copy(result, state.name)
            if spec.kind == LAMBDA_INVOKE and not spec.waits_for_token:
                result = lambda_invoke_response(result)   # a token's answer comes unwrapped
                frame.result_size += 512                  # the wrapper's own bytes, generously
    except StatesError as exc:
        frame.event(names[5] if exc.error == errors.TIMEOUT else names[4],
                    {**tag, "error": exc.error, "cause": exc.cause})
        raise
    frame.event(names[3], {**tag, "output": result})
    return result


# -- Choice -------------------------------------------------------------------------------

def compile_choice(name: str, definition: dict, options: CompileOptions) -> State:
    state = State(name, definition, run_choice, options)
    if state.jsonata:
        state.rules = tuple(
            (_as_data_evaluator(jsonata_field(rule, "Condition", "boolean",
                                              f"Choices/{i}/Condition")),
             rule["Next"], jsonata_field(rule, "Assign"), jsonata_field(rule, "Output"))
            for i, rule in enumerate(definition["Choices"]))
    else:
        state.rules = tuple(
            (compile_rule(rule), rule["Next"],
             compile_template(rule["Assign"]) if "Assign" in rule else None, None)
            for rule in definition["Choices"])
    state.default = definition.get("Default")
    return state


def run_choice(state: State, frame, raw: Any):
    """Choice: the first rule that holds (JSONPath rule, or JSONata Condition) picks
    Next, and its Assign (and JSONata Output); else Default with the state's own Assign
    and Output; else States.Runtime. JSONPath output: the input after InputPath and
    OutputPath; JSONata: the Output, else the input."""
    frame.enter(state, raw)
    effective = raw if state.input_path is None else state.input_path(raw, frame)
    for predicate, next_state, assign, output in state.rules:
        if predicate(effective, frame):
            break
    else:
        if state.default is None:
            raise no_choice_matched(state.name, frame.entered_id)
        next_state, assign, output = state.default, state.assign, state.output
    return next_state, _exit_without_result(state, frame, raw, effective, assign, output)


def _exit_without_result(state: State, frame, raw: Any, effective: Any, assign, output):
    """Choice, Wait, Succeed have no result: Assign and the output come from the input."""
    if state.jsonata:
        states = states_variable(frame, raw)
        assigned = assign(states, frame) if assign is not None else None
        result = output(states, frame) if output is not None else raw
        if output is not None:
            frame.data_size = check_size(result, state.name)
    else:
        assigned = assign(effective, frame) if assign is not None else None
        result = effective if state.output_path is None else state.output_path(effective, frame)
    frame.exit(state, result, assigned)
    return result


# -- Wait ---------------------------------------------------------------------------------

def compile_wait(name: str, definition: dict, options: CompileOptions) -> State:
    state = State(name, definition, run_wait, options)
    state.seconds = definition.get("Seconds")
    state.timestamp = definition.get("Timestamp")
    state.seconds_expression = state.timestamp_expression = None
    if state.jsonata and isinstance(state.seconds, str):
        state.seconds_expression = jsonata_field(definition, "Seconds", "integer")
        state.seconds = None
    if state.jsonata and isinstance(state.timestamp, str) and state.timestamp.startswith("{%"):
        state.timestamp_expression = jsonata_field(definition, "Timestamp", "string")
        state.timestamp = None
    if state.timestamp is not None:
        state.timestamp = parse_timestamp(state.timestamp)
    state.seconds_path = (compile_path(definition["SecondsPath"]).get
                          if "SecondsPath" in definition else None)
    state.timestamp_path_text = definition.get("TimestampPath")
    state.timestamp_path = (compile_value_path(definition["TimestampPath"])
                            if "TimestampPath" in definition else None)
    state.seconds_path_text = definition.get("SecondsPath")
    return state


#: AWS refuses waits of 2^31 seconds or more ("Wait state delay is too long.").
_MAX_WAIT = 2 ** 31 - 1


def _wait_seconds(state: State, frame, data) -> float:
    if state.seconds is not None:
        return state.seconds
    if state.seconds_expression is not None:
        seconds = state.seconds_expression(states_variable(frame, data), frame)
        if seconds < 0:
            raise StatesError(errors.QUERY_EVALUATION_ERROR,
                              f"The Seconds field must be a non-negative integer, but was {seconds}")
        return seconds
    if state.timestamp_expression is not None:
        text = state.timestamp_expression(states_variable(frame, data), frame)
        moment = parse_timestamp(text)
        if moment is None:
            raise StatesError(errors.QUERY_EVALUATION_ERROR,
                              "The Timestamp field cannot be parsed as an ISO-8601 extended "
                              f"offset date-time format string: {text}")
        return moment.timestamp() - frame.clock.time()
    if state.timestamp is not None:
        return state.timestamp.timestamp() - frame.clock.time()
    if state.seconds_path is not None:
        text = state.seconds_path_text
        try:
            value = state.seconds_path(data, frame)
        except PathNotFound:
            raise StatesError(RUNTIME, f"The SecondsPath parameter does not reference an input "
                                       f"value: {text}") from None
        if type(value) is not int:
            if isinstance(value, float) or isinstance(value, str):
                raise StatesError(RUNTIME, f"The SecondsPath parameter cannot be parsed as a long "
                                           f"value: {text} == {value}")
            raise StatesError(RUNTIME, f"The SecondsPath parameter does not reference an input "
                                       f"value: {text}")
        if value < 0:
            raise StatesError(RUNTIME, f"The SecondsPath parameter references a negative value: "
                                       f"{text} == {value}")
        return value
    value = state.timestamp_path(data, frame)
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise StatesError(RUNTIME, "The TimestampPath parameter does not reference a valid "
                                   "ISO-8601 extended offset date-time format string: "
                                   f"{state.timestamp_path_text} == {value}")
    return moment.timestamp() - frame.clock.time()


def run_wait(state: State, frame, raw: Any):
    """Wait: sleep (on the frame's clock) for Seconds or until Timestamp; a timestamp in
    the past continues at once."""
    frame.enter(state, raw)
    effective = raw if state.input_path is None else state.input_path(raw, frame)
    seconds = _wait_seconds(state, frame, effective)
    if seconds >= _MAX_WAIT:
        raise StatesError(RUNTIME, "Wait state delay is too long.")
    frame.sleep(max(0.0, seconds), state.name, "Wait")
    return state.next, _exit_without_result(state, frame, raw, effective, state.assign, state.output)


# -- Succeed and Fail ---------------------------------------------------------------------

def compile_succeed(name: str, definition: dict, options: CompileOptions) -> State:
    return State(name, definition, run_succeed, options)


def run_succeed(state: State, frame, raw: Any):
    """Succeed: ends the execution (or the branch/iteration) with its input, filtered."""
    frame.enter(state, raw)
    effective = raw if state.input_path is None else state.input_path(raw, frame)
    return None, _exit_without_result(state, frame, raw, effective, None, state.output)


def compile_fail(name: str, definition: dict, options: CompileOptions) -> State:
    state = State(name, definition, run_fail, options)
    state.error = _fail_field(state, definition, "Error")
    state.cause = _fail_field(state, definition, "Cause")
    return state


def _fail_field(state: State, definition: dict, field: str):
    """A static string, or ``f(raw, frame)``: ErrorPath/CausePath (a path or an
    intrinsic), or in JSONata an expression that must give a string."""
    if field + "Path" in definition:
        return compile_expression(definition[field + "Path"], field + "Path")
    if state.jsonata and isinstance(definition.get(field), str) and definition[field].startswith("{%"):
        return _as_data_evaluator(jsonata_field(definition, field, "string"))
    return definition.get(field)


def run_fail(state: State, frame, raw: Any):
    """Fail: stops with Error and Cause (static, or from ErrorPath/CausePath)."""
    frame.enter(state, raw)
    error = _fail_value(state.error, frame, raw, "Error")
    cause = _fail_value(state.cause, frame, raw, "Cause")
    exc = StatesError(error, cause)
    exc.located = True   # a Fail state's cause is its own: no runtime prefix
    raise exc


def _fail_value(value, frame, raw, field):
    if value is None or isinstance(value, str):
        return value
    result = value(raw, frame)
    if not isinstance(result, str):
        raise StatesError(RUNTIME, f"The {field}Path field must reference a string, "
                                   f"but was {dumps(result)}")
    return result


# -- Parallel -----------------------------------------------------------------------------

def compile_parallel(name: str, definition: dict, options: CompileOptions) -> State:
    state = State(name, definition, run_parallel, options)
    _compile_io(state, definition)
    _compile_error_handling(state, definition)
    state.branches = tuple(compile_scope(b, options) for b in definition["Branches"])
    state.may_block = any(b.may_block for b in state.branches)
    return state


def run_parallel(state: State, frame, raw: Any):
    """Parallel: every branch runs on the effective input; the result is the array of
    branch outputs in Branches order. A failing branch stops the others and the state
    fails with that branch's own error (AWS does not say States.BranchFailed)."""
    frame.enter(state, raw)

    def attempt():
        effective = _effective_input(state, frame, raw)
        frame.event("ParallelStateStarted")
        try:
            results = frame.run_concurrently(
                [(branch, effective, None) for branch in state.branches],
                max_concurrency=0, may_block=state.may_block, map_state=None)
        except StatesError:
            frame.event("ParallelStateFailed")
            raise
        frame.event("ParallelStateSucceeded")
        return _finish(state, frame, raw, results, results)

    return _with_retry(state, frame, raw, attempt)


# -- Map ----------------------------------------------------------------------------------

def compile_map(name: str, definition: dict, options: CompileOptions) -> State:
    state = State(name, definition, run_map, options)
    _compile_io(state, definition, parameters_field="__none__")
    _compile_error_handling(state, definition)
    processor = definition.get("ItemProcessor") or definition.get("Iterator")
    state.processor = compile_scope(processor, options)
    state.may_block = state.processor.may_block
    state.distributed = (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED"
    if state.jsonata:
        state.items_path = None
        state.items = _as_data_evaluator(jsonata_field(definition, "Items", "array"))
        selector = jsonata_field(definition, "ItemSelector")
        state.item_selector = (None if selector is None else
                               lambda data, env: selector(states_variable(env, data), env))
    else:
        state.items = None
        state.items_path = compile_selector(definition.get("ItemsPath", ABSENT))
        selector = definition.get("ItemSelector", definition.get("Parameters", ABSENT))
        state.item_selector = None if selector is ABSENT else compile_template(selector)
    state.max_concurrency = _number_setting(state, definition, "MaxConcurrency", "integer")
    state.tolerated_count = _number_setting(state, definition, "ToleratedFailureCount", "integer")
    state.tolerated_percentage = _number_setting(state, definition, "ToleratedFailurePercentage",
                                                 "number")
    batcher = definition.get("ItemBatcher")
    state.batcher = None
    if batcher is not None:
        state.batcher = (
            _number_setting(state, batcher, "MaxItemsPerBatch", "integer"),
            _number_setting(state, batcher, "MaxInputBytesPerBatch", "integer"),
            _template_setting(state, batcher, "BatchInput", "BatchInput"),
        )
    reader = definition.get("ItemReader")
    state.reader = None if reader is None else (
        parse_resource(reader["Resource"]),
        _template_setting(state, reader, "Parameters", "Arguments") or (lambda data, env: {}),
        reader.get("ReaderConfig", {}),
    )
    writer = definition.get("ResultWriter")
    state.writer = None if writer is None else (
        parse_resource(writer["Resource"]) if "Resource" in writer else None,
        _template_setting(state, writer, "Parameters", "Arguments") or (lambda data, env: {}),
    )
    return state


def _number_setting(state: State, definition: dict, field: str, expected: str):
    """A number field: static, its JSONPath ``...Path`` twin, or a JSONata expression."""
    value = definition.get(field)
    if state.jsonata and isinstance(value, str):
        return _as_data_evaluator(jsonata_field(definition, field, expected))
    return _static_or_path(definition, field)


def _template_setting(state: State, definition: dict, jsonpath_field: str, jsonata_field_name: str):
    """A payload template (JSONPath) or a JSONata template, as ``f(data, frame)``."""
    if state.jsonata:
        return _as_data_evaluator(jsonata_field(definition, jsonata_field_name))
    if jsonpath_field in definition:
        return compile_template(definition[jsonpath_field])
    return None


def _number_field(value, frame, data, field: str, kind=int, positive: bool = False):
    """A numeric setting's value: a static one as is; from a ``...Path`` (numeric strings
    are parsed, as AWS does) or a JSONata expression (its type already checked)."""
    if value is None or not callable(value):
        return value
    number = value(data, frame)
    jsonpath = hasattr(value, "path_text")
    if jsonpath:
        if type(number) is str:
            try:
                number = int(number) if kind is int else float(number)
            except ValueError:
                pass
        if kind is int and type(number) is not int or kind is float and (
                type(number) not in (int, float)):
            name = "integer" if kind is int else "float"
            shown = number if isinstance(number, str) else dumps(number)
            raise StatesError(RUNTIME, f"The {field}Path field refers to value \"{shown}\" "
                                       f"which is not a valid {name}: {value.path_text}")
    if positive and number <= 0:
        raise StatesError(RUNTIME if jsonpath else errors.QUERY_EVALUATION_ERROR,
                          f"The {field}{'Path' if jsonpath else ''} field must be a positive "
                          f"integer, but was {number}")
    return number


def run_map(state: State, frame, raw: Any):
    """Map: run the ItemProcessor once per item of the array at ItemsPath (or read by
    ItemReader); the result is the array of iteration outputs in item order."""
    frame.enter(state, raw)

    def attempt():
        effective = raw if state.input_path is None else state.input_path(raw, frame)
        items = _map_items(state, frame, effective)
        max_concurrency = _number_field(state.max_concurrency, frame, effective, "MaxConcurrency")
        tolerated = _tolerance(state, frame, effective)
        inputs = _iteration_inputs(state, frame, effective, items)
        frame.event("MapStateStarted", {"length": len(inputs)})
        if state.distributed:
            frame.event("MapRunStarted", {"mapRunArn": frame.run.map_run_arn(state.name)})
        try:
            results = frame.run_concurrently(
                [(state.processor, item_input, index) for index, item_input in enumerate(inputs)],
                max_concurrency=max_concurrency or 0, may_block=state.may_block,
                map_state=state.name, tolerated=tolerated, isolated=state.distributed)
        except StatesError as exc:
            if state.distributed:
                frame.event("MapRunFailed", {"error": exc.error, "cause": exc.cause})
            frame.event("MapStateFailed")
            raise
        if state.distributed:
            frame.event("MapRunSucceeded")
        frame.event("MapStateSucceeded")
        if state.writer is not None:
            results = _write_results(state, frame, effective, results)
        return _finish(state, frame, raw, results, results)

    return _with_retry(state, frame, raw, attempt)


def _map_items(state: State, frame, effective):
    if state.reader is not None:
        items = _read_items(state, frame, effective)
    elif state.items is not None:
        items = state.items(effective, frame)
    elif state.jsonata and not isinstance(effective, list):
        raise StatesError(errors.QUERY_EVALUATION_ERROR,
                          f"Map state input must be an array but was: {dumps(effective)}")
    else:
        items = effective if state.items_path is None else state.items_path(effective, frame)
    if not isinstance(items, list):
        raise StatesError(RUNTIME, f"Map state input must be an array but was: {dumps(items)}"
                          if state.items_path is None else
                          f"Invalid path: the ItemsPath must reference an array, but was {dumps(items)}")
    return items


def _tolerance(state: State, frame, effective):
    count = _number_field(state.tolerated_count, frame, effective, "ToleratedFailureCount")
    percentage = _number_field(state.tolerated_percentage, frame, effective,
                               "ToleratedFailurePercentage", float)
    if count is not None and count < 0:
        raise StatesError(RUNTIME, "ToleratedFailureCount cannot be negative.")
    if percentage is not None and not 0 <= percentage <= 100:
        raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
    if count is None and percentage is None:
        return None
    return (count or 0, percentage or 0)


class _ItemEnv:
    """The env of ItemSelector: ``$$.Map.Item`` exists there and nowhere else."""

    __slots__ = ("context", "variables", "clock")

    def __init__(self, frame, index: int, value: Any) -> None:
        self.context = dict(frame.context, Map={"Item": {"Index": index, "Value": value}})
        self.variables = frame.variables
        self.clock = frame.clock


def _iteration_inputs(state: State, frame, effective, items) -> list:
    if state.item_selector is not None:
        inputs = [state.item_selector(effective, _ItemEnv(frame, i, item))
                  for i, item in enumerate(items)]
    else:
        inputs = items
    if state.batcher is None:
        return inputs
    max_items, max_bytes, batch_input = state.batcher
    max_items = _number_field(max_items, frame, effective, "MaxItemsPerBatch")
    max_bytes = _number_field(max_bytes, frame, effective, "MaxInputBytesPerBatch")
    shared = batch_input(effective, frame) if batch_input is not None else None
    batches, current, size = [], [], 0
    for item in inputs:
        item_size = len(dumps(item).encode("utf-8"))
        if current and ((max_items and len(current) >= max_items)
                        or (max_bytes and size + item_size > max_bytes)):
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    return [({"BatchInput": shared, "Items": b} if shared is not None else {"Items": b})
            for b in batches]


def _read_items(state: State, frame, effective):
    """ItemReader: the reader resource's callable returns the items (a JSON array), or
    text that ReaderConfig.InputType says how to parse (JSON, JSONL, CSV)."""
    spec, parameters, config = state.reader
    arguments = parameters(effective, frame)
    handler = lookup(spec, frame.run.resources, arguments)
    if handler is None:
        raise StatesError(errors.ITEM_READER_FAILED,
                          f"No callable is registered for the ItemReader resource '{spec.resource}'")
    try:
        content = frame.invoke(handler, arguments)
    except StatesError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader's failure is the Map's failure
        raise StatesError(errors.ITEM_READER_FAILED, str(exc)) from None
    items = _parse_reader_content(content, config)
    max_items = config.get("MaxItems")
    return items[:max_items] if isinstance(max_items, int) and max_items > 0 else items


def _parse_reader_content(content, config):
    import csv
    import io
    import json

    if not isinstance(content, str):
        return content
    kind = config.get("InputType", "JSON")
    try:
        if kind == "JSON":
            return json.loads(content)
        if kind == "JSONL":
            return [json.loads(line) for line in content.splitlines() if line.strip()]
        if kind == "CSV":
            delimiter = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ",
                         "TAB": "\t"}[config.get("CSVDelimiter", "COMMA")]
            rows = list(csv.reader(io.StringIO(content), delimiter=delimiter))
            if config.get("CSVHeaderLocation", "FIRST_ROW") == "GIVEN":
                headers = config.get("CSVHeaders", [])
            else:
                headers, rows = (rows[0] if rows else []), rows[1:]
            if len(set(headers)) != len(headers):
                raise StatesError(errors.ITEM_READER_FAILED, "CSV headers cannot contain duplicates.")
            return [dict(zip(headers, (row + [""] * len(headers))[: len(headers)])) for row in rows]
    except (ValueError, KeyError) as exc:
        raise StatesError(errors.ITEM_READER_FAILED, str(exc)) from None
    raise StatesError(errors.ITEM_READER_FAILED, f"InputType {kind} is not supported offline")


def _write_results(state: State, frame, effective, results):
    """ResultWriter: hand the results to the writer's callable; the Map's result is then
    the MapRunArn and where the results went, as on AWS."""
    spec, parameters = state.writer
    arguments = parameters(effective, frame)
    if spec is not None:
        handler = lookup(spec, frame.run.resources, arguments)
        if handler is None:
            raise StatesError(errors.RESULT_WRITER_FAILED,
                              f"No callable is registered for the ResultWriter resource '{spec.resource}'")
        try:
            frame.invoke(handler, dict(arguments, Results=results))
        except Exception as exc:  # noqa: BLE001
            raise StatesError(errors.RESULT_WRITER_FAILED, str(exc)) from None
    prefix = arguments.get("Prefix", "") if isinstance(arguments, dict) else ""
    return {"MapRunArn": frame.run.map_run_arn(state.name),
            "ResultWriterDetails": {
                "Bucket": arguments.get("Bucket") if isinstance(arguments, dict) else None,
                "Key": f"{prefix}/{uuid.uuid4()}/manifest.json" if prefix else f"{uuid.uuid4()}/manifest.json"}}


COMPILERS = {
    "Pass": compile_pass,
    "Task": compile_task,
    "Choice": compile_choice,
    "Wait": compile_wait,
    "Succeed": compile_succeed,
    "Fail": compile_fail,
    "Parallel": compile_parallel,
    "Map": compile_map,
}
