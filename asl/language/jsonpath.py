"""JSONPath as ASL uses it: parsed once, evaluated many times.

A path string names one of three roots:

* ``$...``  the data the field applies to (a state's input, a task's result, ...);
* ``$$...`` the Context object (``$$.Execution.Id``): strip one ``$``, apply the rest;
* ``$name...`` a workflow variable (``$order.total``).

Reference paths (only ``.field``, ``['field']`` and ``[index]`` steps) are compiled to a
tuple of steps and walked directly: they are the common case and must be cheap.
Anything else (wildcards, ``..``, filters, slices, unions) is delegated to jsonpath-ng
and always yields a list of the matched values, as Jayway (AWS's library) does for an
indefinite path.

Failures carry Jayway's wording because AWS puts it in the Cause of States.Runtime:
``No results for path: $['a']`` when the last step is missing, ``Missing property in
path $['a']`` when an intermediate one is.
"""

from __future__ import annotations

import re
from typing import Any

_MISSING = object()

#: A variable name as ASL defines it: a Unicode identifier.
_VARIABLE_RE = re.compile(r"\$([^\W\d]\w*)")
# One step of a reference path.
_STEP_RE = re.compile(
    r"""\.(?P<dot>[^.\[\]\s'"()*?@,:=<>!&|]+)"""
    # Jayway also accepts a dot before a bracket: $.abc.['def ghi'] (an AWS docs example).
    r"""|\.?\[\s*'(?P<sq>(?:[^'\\]|\\.)*)'\s*\]"""
    r"""|\.?\[\s*"(?P<dq>(?:[^"\\]|\\.)*)"\s*\]"""
    r"""|\.?\[\s*(?P<index>-?\d+)\s*\]"""
)


class PathSyntaxError(ValueError):
    """The text is not a path of the kind the field requires."""


class PathNotFound(Exception):
    """A path matched nothing in the data; ``detail`` is Jayway's wording of why."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"Invalid path '{path}' : {detail}")
        self.path = path
        self.detail = detail


def _bracket(steps) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


def _parse_steps(rest: str):
    """Parse the steps after the root; None if they are not all reference steps."""
    steps = []
    pos = 0
    while pos < len(rest):
        m = _STEP_RE.match(rest, pos)
        if m is None:
            return None
        if m.group("dot") is not None:
            steps.append(m.group("dot"))
        elif m.group("sq") is not None:
            steps.append(re.sub(r"\\(.)", r"\1", m.group("sq")))
        elif m.group("dq") is not None:
            steps.append(re.sub(r"\\(.)", r"\1", m.group("dq")))
        else:
            index = int(m.group("index"))
            if index < 0:
                return None
            steps.append(index)
        pos = m.end()
    return tuple(steps)


class Path:
    """A compiled path. ``get(data, env)`` evaluates it.

    ``env`` is any object with ``context`` (the Context object) and ``variables``
    (a mapping of workflow variables) attributes; only the root the path names is read.
    """

    __slots__ = ("text", "root", "variable", "steps", "_indefinite")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.startswith("$"):
            raise PathSyntaxError(f"'{text}' is not a JSONPath: it must start with '$'")
        self.text = text
        self.variable = None
        if text.startswith("$$"):
            self.root = "context"
            rest = text[2:]
        else:
            m = _VARIABLE_RE.match(text)
            if m:
                self.root = "variable"
                self.variable = m.group(1)
                rest = text[m.end():]
            else:
                self.root = "input"
                rest = text[1:]
        self.steps = _parse_steps(rest)
        self._indefinite = None
        if self.steps is None:
            self._indefinite = _compile_indefinite("$" + rest, text)

    @property
    def is_reference(self) -> bool:
        """True for a Reference Path: it can only ever identify a single node."""
        return self.steps is not None

    def _root_value(self, data, env):
        if self.root == "input":
            return data
        if self.root == "context":
            return env.context
        variables = env.variables
        if variables is None or self.variable not in variables:
            raise PathNotFound(self.text, f"No results for path: $['{self.variable}']")
        return variables[self.variable]

    def get(self, data: Any, env: Any = None) -> Any:
        """The value the path selects; raises :class:`PathNotFound` if there is none."""
        value = self._root_value(data, env)
        steps = self.steps
        if steps is None:
            return [m.value for m in self._indefinite.find(value)]
        last = len(steps) - 1
        for i, step in enumerate(steps):
            value = _step(value, step)
            if value is _MISSING:
                if i == last:
                    raise PathNotFound(self.text, f"No results for path: {_bracket(steps)}")
                raise PathNotFound(self.text, f"Missing property in path {_bracket(steps[: i + 1])}")
        return value

    def exists(self, data: Any, env: Any = None) -> bool:
        """Whether the path selects a node (that node may be null): Choice ``IsPresent``."""
        try:
            value = self.get(data, env)
        except PathNotFound:
            return False
        return self.steps is not None or bool(value)

    def __repr__(self) -> str:
        return f"Path({self.text!r})"


def _step(value, step):
    if type(step) is int:
        if type(value) is list and step < len(value):
            return value[step]
        return _MISSING
    if type(value) is dict:
        return value.get(step, _MISSING)
    return _MISSING


def _compile_indefinite(expression: str, original: str):
    # Imported here: most definitions only use reference paths, and jsonpath-ng's
    # parser generator is slow to import.
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse

    try:
        return parse(expression)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001
        raise PathSyntaxError(f"'{original}' is not a valid JSONPath: {exc}") from None


def compile_path(text: str) -> Path:
    """Compile any ASL path (reference or not). Raises :class:`PathSyntaxError`."""
    return Path(text)


def compile_reference_path(text: str) -> Path:
    """Compile a Reference Path (ResultPath, Choice Variable, ...): a single node only."""
    path = compile_path(text)
    if not path.is_reference:
        raise PathSyntaxError(
            f"'{text}' is not a valid Reference Path: only '.field', \"['field']\" and "
            "'[index]' steps are allowed (no wildcards, filters, slices or unions)")
    return path


def is_variable_name(name: str) -> bool:
    """A workflow variable name: a Unicode identifier (ID_Start, then ID_Continue)."""
    return isinstance(name, str) and name.isidentifier()
