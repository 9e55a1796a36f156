"""The input/output pipeline every state shares, in AWS's order.

JSONPath::

    raw input -> InputPath -> Parameters -> [the state's work] -> ResultSelector
              -> ResultPath (into the raw input) -> OutputPath -> output

JSONata: Arguments (over ``$states.input``) -> [work] -> Output (over ``$states``, with
``result`` for Task, Parallel and Map); without Output the output is the result. Assign
(either language) is evaluated over what the state saw, before the output replaces it.

:class:`ResultState` is the base of the four types that produce a result (Pass, Task,
Parallel, Map): :meth:`ResultState.finish` is the second half of the pipeline for all of
them. The shared compile-time helpers for numeric and template settings live here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from asl import errors
from asl.errors import RUNTIME, StatesError
from asl.language import JSONATA, Constant
from asl.language.paths import (ABSENT, PathField, compile_result_path, compile_selector,
                                compile_template, compile_value_path)
from asl.payload import PAYLOAD_LIMIT, check_size, dumps
from asl.states.base import CompileOptions, Frame, State, Step


def common_fields(name: str, definition: dict, options: CompileOptions) -> dict:
    """The :class:`State` fields of any state, as keyword arguments for its dataclass."""
    jsonata = definition.get("QueryLanguage", options.query_language) == JSONATA
    fields: dict = {"name": name, "next": definition.get("Next"), "jsonata": jsonata}
    if jsonata:
        fields["assign"] = jsonata_field(definition, "Assign")
        fields["output"] = jsonata_field(definition, "Output")
    else:
        fields["input_path"] = compile_selector(definition.get("InputPath", ABSENT))
        fields["output_path"] = compile_selector(definition.get("OutputPath", ABSENT))
        if "Assign" in definition:
            fields["assign"] = compile_template(definition["Assign"])
    return fields


def result_fields(definition: dict, jsonata: bool, parameters_field: str | None = "Parameters") -> dict:
    """The :class:`ResultState` fields: Parameters (or Arguments), ResultSelector, ResultPath."""
    if jsonata:
        return {"parameters": as_data_evaluator(jsonata_field(definition, "Arguments"))
                if parameters_field else None}
    result_path = definition.get("ResultPath", ABSENT)
    return {
        "parameters": (compile_template(definition[parameters_field])
                       if parameters_field and parameters_field in definition else None),
        "result_selector": (compile_template(definition["ResultSelector"])
                            if "ResultSelector" in definition else None),
        "result_path": compile_result_path(result_path),
        # The keys ResultPath may add around the result, generously, in bytes.
        "result_path_overhead": 2 * len(result_path) + 8 if isinstance(result_path, str) else 8,
    }


def states_variable(frame: Frame, raw: Any, **more: Any) -> dict:
    """``$states``: the state's input and the Context object, plus result/errorOutput.
    The Context object is built only if an expression reads it (see StatesVars)."""
    states = {"input": raw, "context": lambda: frame.context}
    states.update(more)
    return states


# -- JSONata fields ------------------------------------------------------------------------

def jsonata_field(definition: dict, field: str, expected: str | None = None,
                  label: str | None = None) -> Callable | None:
    """A JSONata-mode field compiled to ``evaluate(states, frame)``, or None when absent.

    ``expected`` ("integer", "array", "boolean", "string"...) makes a value of another
    type a States.QueryEvaluationError with AWS's cause (constants were checked by the
    validator).
    """
    if field not in definition:
        return None
    from asl.language.jsonata import Expression, expect_type
    from asl.language.jsonata import compile_template as compile_jsonata

    evaluate = compile_jsonata(definition[field], label or field)
    if isinstance(evaluate, Constant):
        return evaluate
    if expected is None or not isinstance(evaluate, Expression):
        return lambda states, frame: evaluate(states, frame.variables, frame.clock.time())
    expression, where = evaluate.expression, label or field

    def checked(states, frame):
        value = evaluate(states, frame.variables, frame.clock.time())
        return expect_type(value, expected, expression, where)
    return checked


def as_data_evaluator(evaluate: Callable | None) -> Callable | None:
    """A JSONata field as an ``f(data, frame)`` evaluator, data being ``$states.input``."""
    if evaluate is None or isinstance(evaluate, Constant):
        return evaluate
    return lambda data, frame: evaluate(states_variable(frame, data), frame)


# -- settings: numbers and templates --------------------------------------------------------

def number_setting(definition: dict, field: str, jsonata: bool, expected: str = "integer"):
    """A numeric field: a static number, its JSONPath ``...Path`` twin (a
    :class:`PathField`), a JSONata expression ``f(data, frame)``, or None when absent."""
    value = definition.get(field)
    if jsonata and isinstance(value, str):
        return as_data_evaluator(jsonata_field(definition, field, expected))
    if field in definition:
        return value
    if field + "Path" in definition:
        return compile_value_path(definition[field + "Path"])
    return None


def resolve_number(setting, frame: Frame, data: Any, field: str, kind: type = int,
                   positive: bool = False):
    """A numeric setting's value for this run: a static one as is; from a ``...Path``
    (numeric strings are parsed, as AWS does) or a JSONata expression (its type already
    checked)."""
    if setting is None or not callable(setting):
        return setting
    number = setting(data, frame)
    from_path = isinstance(setting, PathField)
    if from_path:
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
                                       f"which is not a valid {name}: {setting.text}")
    if positive and number <= 0:
        raise StatesError(RUNTIME if from_path else errors.QUERY_EVALUATION_ERROR,
                          f"The {field}{'Path' if from_path else ''} field must be a positive "
                          f"integer, but was {number}")
    return number


def template_setting(definition: dict, jsonata: bool, jsonpath_field: str,
                     jsonata_field_name: str) -> Callable | None:
    """A payload template (JSONPath) or a JSONata template, as ``f(data, frame)``."""
    if jsonata:
        return as_data_evaluator(jsonata_field(definition, jsonata_field_name))
    if jsonpath_field in definition:
        return compile_template(definition[jsonpath_field])
    return None


# -- states that produce a result -------------------------------------------------------------

@dataclass(slots=True, kw_only=True, eq=False)
class ResultState(State):
    """A state with a result: Pass, Task, Parallel, Map.

    ``parameters`` is Parameters (JSONPath) or Arguments (JSONata) as ``f(data, frame)``;
    ``result_path`` places the result into the raw input (JSONPath only).
    """

    parameters: Callable | None = None
    result_selector: Callable | None = None
    result_path: Callable[[Any, Any], Any] | None = None
    result_path_overhead: int = 8

    #: Whether ``$states.result`` exists for this type's Output and Assign (not for Pass).
    result_in_states: ClassVar[bool] = True

    def effective_input(self, frame: Frame, raw: Any) -> Any:
        """JSONPath: InputPath, then Parameters. JSONata: Arguments (default: the input)."""
        data = raw if self.input_path is None else self.input_path(raw, frame)
        if self.parameters is not None:
            data = self.parameters(data, frame)
        return data

    def finish(self, frame: Frame, raw: Any, size: int | None, result: Any,
               result_size: int | None, assign_input: Any) -> Step:
        """From a result to the state's output, and the state's exit.

        JSONPath: Assign (over ``assign_input``), ResultSelector, ResultPath into the raw
        input, OutputPath. JSONata: Assign and Output over ``$states``, both reading the
        variables as they were on entry. ``size`` and ``result_size`` (bytes, when known)
        bound the output's size, so that it is measured only when the bound is too high.
        """
        bound = None
        if self.jsonata:
            states = (states_variable(frame, raw, result=result) if self.result_in_states
                      else states_variable(frame, raw))
            assigned = self.assign(states, frame) if self.assign is not None else None
            output = self.output(states, frame) if self.output is not None else result
        else:
            assigned = self.assign(assign_input, frame) if self.assign is not None else None
            if self.result_selector is not None:
                result = self.result_selector(result, frame)
            elif size is not None and result_size is not None:
                # The raw input plus the result plus the keys ResultPath adds: an upper
                # bound of the output's size (OutputPath only selects from it).
                bound = size + result_size + self.result_path_overhead
            output = self.result_path(raw, result)
            if self.output_path is not None:
                output = self.output_path(output, frame)
        output_size = bound if bound is not None and bound <= PAYLOAD_LIMIT else \
            check_size(output, self.name)
        frame.exit(self, output, assigned)
        return self.next, output, output_size


def exit_without_result(state: State, frame: Frame, raw: Any, effective: Any, size: int | None,
                        next_state: str | None, assign, output) -> Step:
    """Choice, Wait and Succeed have no result: Assign and the output come from the input.

    JSONPath: the effective input (after InputPath) through OutputPath, so the input's
    size still bounds it. JSONata: the Output, else the raw input.
    """
    if state.jsonata:
        states = states_variable(frame, raw)
        assigned = assign(states, frame) if assign is not None else None
        if output is not None:
            result = output(states, frame)
            size = check_size(result, state.name)
        else:
            result = raw
    else:
        assigned = assign(effective, frame) if assign is not None else None
        result = effective if state.output_path is None else state.output_path(effective, frame)
    frame.exit(state, result, assigned)
    return next_state, result, size
