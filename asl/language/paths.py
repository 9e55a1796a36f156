"""The JSONPath input/output pipeline, compiled: InputPath, payload templates, ResultPath, OutputPath.

Each ``compile_*`` function turns a field's value from the definition into a plain
function (or ``None`` where the field is the identity), so that running a state is a
few calls over precompiled objects. The pipeline, in AWS's order::

    raw input -> InputPath -> Parameters -> [work] -> ResultSelector -> ResultPath -> OutputPath

Nothing here mutates a value it was given: ResultPath copies the objects on the way to
the node it sets and shares everything else, so payloads can be passed by reference.
"""

from __future__ import annotations

from typing import Any, Callable

from asl.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from asl.language import Constant
from asl.language.intrinsics import compile_intrinsic
from asl.language.jsonpath import PathNotFound, compile_path, compile_reference_path
from asl.payload import dumps


class _Absent:
    """A field that is not in the state at all (distinct from a field that is null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()

Evaluator = Callable[[Any, Any], Any]


# -- InputPath / OutputPath / ItemsPath / *Path fields -----------------------------------

def compile_selector(value: Any, field: str = "InputPath") -> Evaluator | None:
    """InputPath and OutputPath: absent selects everything (None = identity), null gives {}.

    A path that matches nothing is States.Runtime with Jayway's wording:
    ``Invalid path '$.x' : No results for path: $['x']``.
    """
    if value is ABSENT or value == "$":
        return None
    if value is None:
        return lambda data, env: {}
    return compile_value_path(value)


class PathField:
    """A path that must select a value (InputPath, ItemsPath, the ``...Path`` fields):
    a miss is States.Runtime ``Invalid path ...``. ``text`` is the path as written, for
    causes that quote it."""

    __slots__ = ("text", "_get")

    def __init__(self, text: str) -> None:
        self.text = text
        self._get = compile_path(text).get

    def __call__(self, data: Any, env: Any) -> Any:
        try:
            return self._get(data, env)
        except PathNotFound as exc:
            raise StatesError(RUNTIME, str(exc)) from None

    def __repr__(self) -> str:
        return f"PathField({self.text!r})"


def compile_value_path(text: str) -> PathField:
    """A path whose miss is States.Runtime ``Invalid path ...`` (InputPath, ItemsPath, *Path)."""
    return PathField(text)


# -- Payload templates -------------------------------------------------------------------

def compile_template(template: Any) -> Evaluator:
    """A payload template (Parameters, ResultSelector, ItemSelector, JSONPath Assign, ...).

    Keys ending in ``.$`` hold a path (``$.x``), a context path (``$$.x``), a variable
    (``$v``) or an intrinsic call, evaluated and stored under the key without ``.$``;
    every other value is copied literally, at any depth (arrays included).
    """
    if isinstance(template, dict):
        return _compile_object(template)
    if isinstance(template, list):
        items = [compile_template(v) for v in template]
        if all(isinstance(i, Constant) for i in items):
            return Constant(template)
        return lambda data, env: [i(data, env) for i in items]
    return Constant(template)


def _compile_object(template: dict) -> Evaluator:
    entries = []
    dynamic = False
    for key, value in template.items():
        if key.endswith(".$") and isinstance(value, str):
            entries.append((key[:-2], compile_expression(value, key)))
            dynamic = True
        else:
            sub = compile_template(value)
            dynamic = dynamic or not isinstance(sub, Constant)
            entries.append((key, sub))
    if not dynamic:
        return Constant(template)
    entries = tuple(entries)

    def build(data, env):
        return {key: evaluate(data, env) for key, evaluate in entries}
    return build


def compile_expression(text: str, field: str) -> Evaluator:
    """The value of one ``.$`` key: a path, a context path, a variable or an intrinsic."""
    if text.startswith("$"):
        get = compile_path(text).get

        def select(data, env):
            try:
                return get(data, env)
            except PathNotFound:
                raise StatesError(RUNTIME, f"The JSONPath '{text}' specified for the field "
                                           f"'{field}' could not be found in the input "
                                           f"'{dumps(data)}'") from None
        return select
    # Not strict: a wrong argument count or a certainly-wrong literal is States.Runtime
    # when the call runs, as on AWS, which accepts such definitions [observed].
    intrinsic = compile_intrinsic(text, strict=False).evaluate

    def call(data, env):
        try:
            return intrinsic(data, env)
        except PathNotFound as exc:
            raise StatesError(RUNTIME, f"The JSONPath '{exc.path}' specified for the field "
                                       f"'{field}' could not be found in the input "
                                       f"'{dumps(data)}'") from None
    return call


# -- ResultPath --------------------------------------------------------------------------

def compile_result_path(value: Any) -> Callable[[Any, Any], Any]:
    """ResultPath: where the result goes in the state's *raw* input.

    Absent or ``$``: the result replaces the input. null: the result is discarded and
    the raw input passes through. ``$.a.b``: a copy of the raw input with the result at
    ``a.b``, intermediate objects created as needed.
    """
    if value is ABSENT or value == "$":
        return lambda raw, result: result
    if value is None:
        return lambda raw, result: raw
    steps = compile_reference_path(value).steps

    def place(raw, result):
        try:
            return _set(raw, steps, 0, result)
        except _NotAnObject:
            raise StatesError(RESULT_PATH_MATCH_FAILURE,
                              f"Unable to apply ResultPath '{value}' to input '{dumps(raw)}'") from None
    return place


class _NotAnObject(Exception):
    pass


def _set(node: Any, steps: tuple, i: int, result: Any) -> Any:
    """A copy of ``node`` with ``result`` at ``steps[i:]``; only the spine is copied."""
    if i == len(steps):
        return result
    step = steps[i]
    if type(step) is int:
        if type(node) is not list or step >= len(node):
            raise _NotAnObject()
        copy = list(node)
        copy[step] = _set(node[step], steps, i + 1, result)
        return copy
    if node is None and i > 0:
        node = {}
    if type(node) is not dict:
        raise _NotAnObject()
    copy = dict(node)
    child = node.get(step)
    copy[step] = _set(child if child is not None or step in node else {}, steps, i + 1, result) \
        if i + 1 < len(steps) else result
    return copy
