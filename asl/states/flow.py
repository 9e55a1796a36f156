"""Pass, Succeed and Fail: the states that do no work of their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from asl import errors
from asl.errors import RUNTIME, StatesError
from asl.language.paths import compile_expression
from asl.payload import check_size, dumps
from asl.states.base import CompileOptions, Frame, State, Step
from asl.states.io import (ResultState, as_data_evaluator, common_fields, exit_without_result,
                           jsonata_field, result_fields)
from asl.language import is_jsonata_expression


@dataclass(slots=True, kw_only=True, eq=False)
class PassState(ResultState):
    """Pass: the result is ``Result`` if given (it wins over Parameters), else the
    effective input; then ResultPath into the raw input, then OutputPath."""

    type: ClassVar[str] = "Pass"
    result_in_states: ClassVar[bool] = False

    has_result: bool = False
    result: Any = None
    result_size: int | None = None
    result_error: tuple[str, str] | None = None    # a Result no payload can carry

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "PassState":
        fields = common_fields(name, definition, options)
        has_result = "Result" in definition
        result_size = result_error = None
        if has_result:
            # AWS loads such a definition and fails the execution when the state runs.
            try:
                result_size = check_size(definition["Result"], name)
            except StatesError as exc:
                result_error = (exc.error if exc.error == errors.DATA_LIMIT_EXCEEDED
                                else errors.RUNTIME, exc.cause)
        return cls(**fields, **result_fields(definition, fields["jsonata"]),
                   has_result=has_result, result=definition.get("Result"),
                   result_size=result_size, result_error=result_error)

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)
        effective = self.effective_input(frame, raw)
        if self.has_result:
            if self.result_error is not None:
                raise StatesError(*self.result_error)
            result, result_size = self.result, self.result_size
        else:
            # The input itself (or a part of it): the input's size bounds it.
            result, result_size = effective, size if self.parameters is None else None
        return self.finish(frame, raw, size, result, result_size, result)


@dataclass(slots=True, kw_only=True, eq=False)
class SucceedState(State):
    """Succeed: ends the execution (or the branch/iteration) with its input, filtered."""

    type: ClassVar[str] = "Succeed"

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "SucceedState":
        return cls(**common_fields(name, definition, options))

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)
        effective = raw if self.input_path is None else self.input_path(raw, frame)
        return exit_without_result(self, frame, raw, effective, size, None, None, self.output)


#: A Fail field: a static string (or None), or ``f(raw, frame)`` giving one.
FailField = str | None | Callable[[Any, Any], Any]


@dataclass(slots=True, kw_only=True, eq=False)
class FailState(State):
    """Fail: stops with Error and Cause (static, from ErrorPath/CausePath, or JSONata)."""

    type: ClassVar[str] = "Fail"

    error: FailField = None
    cause: FailField = None

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "FailState":
        fields = common_fields(name, definition, options)
        jsonata = fields["jsonata"]
        return cls(**fields, error=_fail_field(definition, "Error", jsonata),
                   cause=_fail_field(definition, "Cause", jsonata))

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)
        error = _fail_value(self.error, frame, raw, "Error")
        cause = _fail_value(self.cause, frame, raw, "Cause")
        raise StatesError(error, cause, located=True)   # its cause is its own: no prefix


def _fail_field(definition: dict, field: str, jsonata: bool) -> FailField:
    """ErrorPath/CausePath (a path or an intrinsic), a JSONata expression that must give
    a string, or the static string."""
    if field + "Path" in definition:
        return compile_expression(definition[field + "Path"], field + "Path")
    if jsonata and is_jsonata_expression(definition.get(field)):
        return as_data_evaluator(jsonata_field(definition, field, "string"))
    return definition.get(field)


def _fail_value(value: FailField, frame: Frame, raw: Any, field: str):
    if value is None or isinstance(value, str):
        return value
    result = value(raw, frame)
    if not isinstance(result, str):
        raise StatesError(RUNTIME, f"The {field}Path field must reference a string, "
                                   f"but was {dumps(result)}")
    return result
