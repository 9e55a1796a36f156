"""The ``States.*`` intrinsic functions of JSONPath states, parsed once, evaluated cheaply.

An intrinsic call is the value of a ``.$`` key (or of a Fail state's ``ErrorPath`` /
``CausePath``) such as ``States.Format('Hello {}', $.name)``. :func:`compile_intrinsic`
parses it into a tree of small closures: literal arguments become constants, path
arguments are compiled with :func:`asl.language.jsonpath.compile_path`, and every call node
holds the function's implementation, taken from the table ``_FUNCTIONS``. Running it
is only closure calls: no text is looked at again.

Grammar (AWS): ``Name(arg, ...)`` where an argument is a single-quoted string (escapes
``\\'`` ``\\{`` ``\\}`` ``\\\\``), a number, ``null``, ``true``/``false``, a path
(``$.x``, ``$$.x``, ``$var``) or a nested call, at most 10 calls deep.

Errors:

* what is wrong in the text itself is an :class:`IntrinsicSyntaxError` at parse time
  (unknown function, bad escape, too deep, unbalanced, trailing text); so are a wrong
  argument count and a literal argument whose type is certainly wrong, unless compiled
  with ``strict=False``, as definitions are: AWS accepts those and fails with
  ``States.Runtime`` when the call runs, and the validator warns about them
  (:func:`intrinsic_problems`);
* what fails while running is ``States.Runtime`` (AWS reserves the spec's
  ``States.IntrinsicFailure`` for future use) with AWS's cause
  ``Invalid arguments in States.<Name>``; :class:`IntrinsicFailure` also carries the
  precise ``reason``;
* a path argument that matches nothing raises :class:`asl.language.jsonpath.PathNotFound`
  unchanged: the caller knows the field and words the cause.

Where AWS's observed behaviour departs from its documentation, AWS's behaviour wins;
each such choice is noted at the function that makes it.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import uuid
from decimal import Decimal
from typing import Any, Callable

from asl.errors import RUNTIME, StatesError
from asl.language import HASH_ALGORITHMS, is_number
from asl.language.jsonpath import PathSyntaxError, compile_path
from asl.payload import dumps

__all__ = [
    "IntrinsicSyntaxError", "IntrinsicFailure", "Intrinsic", "STRING_RETURNING",
    "FUNCTION_NAMES", "MAX_NESTING", "is_intrinsic_call", "compile_intrinsic",
    "check_intrinsic", "intrinsic_problems",
]

#: Calls may be nested this deep (the outermost call is level 1) [AWS].
MAX_NESTING = 10

#: The functions a Fail state's ErrorPath / CausePath may call: they return a string [AWS].
STRING_RETURNING = frozenset({
    "States.Format", "States.JsonToString", "States.ArrayGetItem", "States.Base64Encode",
    "States.Base64Decode", "States.Hash", "States.UUID",
})

# Limits AWS documents for the string functions, in Java characters (UTF-16 code units).
_MAX_STRING_LENGTH = 10_000
_MAX_RANGE_LENGTH = 1000
_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1

Evaluator = Callable[[Any, Any], Any]


class IntrinsicSyntaxError(ValueError):
    """The text is not a valid intrinsic function call (found when the definition loads)."""


class IntrinsicFailure(StatesError):
    """An intrinsic failed while running: ``States.Runtime``, with AWS's cause.

    ``cause`` is AWS's wording, ``Invalid arguments in States.<Name>``; ``function`` is
    the function's name and ``reason`` says precisely what was wrong.
    """

    def __init__(self, function: str, reason: str) -> None:
        super().__init__(RUNTIME, f"Invalid arguments in {function}")
        self.function = function
        self.reason = reason


class Intrinsic:
    """A compiled intrinsic call: ``evaluate(data, env)`` returns its JSON value.

    ``data`` is what ``$`` refers to; ``env`` has ``context`` (``$$``) and ``variables``.
    ``text`` is the call as written, ``name`` the outermost function's name.
    """

    __slots__ = ("text", "name", "evaluate")

    def __init__(self, text: str, name: str, evaluate: Evaluator) -> None:
        self.text = text
        self.name = name
        self.evaluate = evaluate

    @property
    def returns_string(self) -> bool:
        """Whether the call may stand in a Fail state's ErrorPath / CausePath."""
        return self.name in STRING_RETURNING

    def __repr__(self) -> str:
        return f"Intrinsic({self.text!r})"


# -- Value helpers -----------------------------------------------------------------------

def _fail(function: str, reason: str) -> IntrinsicFailure:
    return IntrinsicFailure(function, reason)


def _kind(value) -> str:
    """The JSON type of a value, for messages and static checks."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _java_length(text: str) -> int:
    """String length as Java counts it (UTF-16 code units), for AWS's 10,000 limit."""
    if len(text) <= _MAX_STRING_LENGTH // 2:
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _truncate(function: str, value, what: str) -> int:
    """An integer argument: a non-integer is cut toward zero.

    The docs say non-integers are "rounded off to the nearest integer", but AWS was
    observed to truncate: ArrayPartition(x, 2.6) chunks by 2, ArrayRange(1.6, 1.4, 1)
    gives [1], MathRandom(1.4, 1.6) fails as an empty range, ArrayGetItem(a, 1.2) is a[1].
    """
    if not is_number(value):
        raise _fail(function, f"the {what} must be a number, not {_kind(value)}")
    if type(value) is float:
        if not math.isfinite(value):
            raise _fail(function, f"the {what} must be a finite number")
        return int(value)
    return value


def _java_round(function: str, value, what: str) -> int:
    """Java's Math.round: half-up toward +infinity (1.5 -> 2, -1.5 -> -1, -0.5 -> 0) [observed]."""
    if not is_number(value):
        raise _fail(function, f"the {what} must be a number, not {_kind(value)}")
    if type(value) is int:
        return value
    if not math.isfinite(value):
        raise _fail(function, f"the {what} must be a finite number")
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def _java_double(value: float) -> str:
    """Java's Double.toString: plain in [1e-3, 1e7), else ``1.0E10`` style notation."""
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    power = len(digits) - 1 + exponent
    digits = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{digits[0]}.{digits[1:] or '0'}E{power}"


def _display(value) -> str:
    """How States.Format shows an argument: strings bare, null as ``null`` [observed].

    Objects and arrays come out as Java's Map/List toString, ``{Arg1=1, Arg2=[]}``,
    rather than failing as the spec says [observed].
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return _java_double(value)
    if type(value) is int:
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(_display, value)) + "]"
    return "{" + ", ".join(f"{k}={_display(v)}" for k, v in value.items()) + "}"


def _json_equal(a, b) -> bool:
    """Deep JSON equality: 1 == 1.0, but a boolean never equals a number."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if ta is not tb:
        return False
    if ta is list:
        return len(a) == len(b) and all(map(_json_equal, a, b))
    if ta is dict:
        return a.keys() == b.keys() and all(_json_equal(v, b[k]) for k, v in a.items())
    return a == b


def _identity(value):
    """A hashable key equal for exactly the values :func:`_json_equal` finds equal."""
    t = type(value)
    if t is bool:
        return ("b", value)
    if t is int or t is float:
        return ("n", value)  # Python hashes 1 and 1.0 alike and finds them equal
    if t is list:
        return ("a", tuple(map(_identity, value)))
    if t is dict:
        return ("o", frozenset((k, _identity(v)) for k, v in value.items()))
    return ("s", value) if t is str else ("z",)


class _JavaRandom:
    """java.util.Random, so that a seeded States.MathRandom draws what AWS draws.

    Evidence: AWS returned -5 for ``States.MathRandom(-5, 5, 42)``, i.e.
    ``-5 + new Random(42).nextInt(10)``; AWS's JSONata ``$random(seed)`` is documented
    (by third parties, bit for bit) as java.util.Random too.
    """

    __slots__ = ("_seed",)
    _MULTIPLIER, _MASK = 0x5DEECE66D, (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + 0xB) & self._MASK
        result = self._seed >> (48 - bits)
        return result - (1 << 32) if result >= 1 << 31 else result

    def next_int(self, bound: int) -> int:
        """``nextInt(bound)``: uniform in [0, bound), bound a positive int32."""
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < 1 << 31:  # Java's int overflow test, written without overflow
                return r
            u = self._next(31)


# -- States.Format templates ---------------------------------------------------------------

class _Template:
    """A Format template cut at its ``{}`` placeholders; ``error`` if it is malformed."""

    __slots__ = ("chunks", "error")

    def __init__(self, chunks: list[str], error: str | None = None) -> None:
        self.chunks = chunks
        self.error = error

    @property
    def placeholders(self) -> int:
        return len(self.chunks) - 1


def _parse_template(text: str) -> _Template:
    """Cut a Format template at ``{}``; ``\\{`` ``\\}`` ``\\'`` ``\\\\`` are literal.

    A ``{`` not followed by ``}``, or a lone ``}``, makes the template invalid: AWS
    fails ``'Hello {'``, ``'Hello {{}}'`` and ``'}'`` when the state runs [observed].
    """
    chunks: list[str] = []
    current: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "'{}\\":
            current.append(text[i + 1])
            i += 2
        elif c == "{":
            if i + 1 < n and text[i + 1] == "}":
                chunks.append("".join(current))
                current = []
                i += 2
            else:
                return _Template([], f"unmatched '{{' at position {i} of the template")
        elif c == "}":
            return _Template([], f"unmatched '}}' at position {i} of the template")
        else:
            current.append(c)
            i += 1
    chunks.append("".join(current))
    return _Template(chunks)


def _render(template: _Template, values) -> str:
    if template.error:
        raise _fail("States.Format", template.error)
    if len(values) != template.placeholders:
        raise _fail("States.Format", f"the template has {template.placeholders} '{{}}' "
                                     f"placeholder(s) but {len(values)} argument(s) follow it")
    chunks = template.chunks
    parts = [chunks[0]]
    for value, chunk in zip(values, chunks[1:]):
        parts.append(_display(value))
        parts.append(chunk)
    return "".join(parts)


# -- The 18 functions ----------------------------------------------------------------------
# Each takes the evaluated arguments and returns the JSON result or raises IntrinsicFailure.

def _string_arg(function: str, value, what: str, limit: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(function, f"the {what} must be a string, not {_kind(value)}")
    if limit and _java_length(value) > _MAX_STRING_LENGTH:
        raise _fail(function, f"the {what} is longer than {_MAX_STRING_LENGTH} characters")
    return value


def _array_arg(function: str, value) -> list:
    if not isinstance(value, list):
        raise _fail(function, f"the first argument must be an array, not {_kind(value)}")
    return value


def states_format(template, *values) -> str:
    """States.Format(template, args...): each ``{}`` replaced by the next argument."""
    text = _string_arg("States.Format", template, "template")
    return _render(_parse_template(text), values)


def states_string_to_json(text) -> Any:
    """States.StringToJson(s): parse JSON text; a blank string gives null [observed]."""
    text = _string_arg("States.StringToJson", text, "argument")
    if not text.strip(" \t\n\r"):
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _fail("States.StringToJson", f"the argument is not valid JSON: {exc}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def states_json_to_string(value) -> str:
    """States.JsonToString(x): compact JSON text of any value, e.g. ``{"a":1}``."""
    return dumps(value)


def states_array(*values) -> list:
    """States.Array(args...): the arguments as an array (none gives [])."""
    return list(values)


def states_array_partition(array, size) -> list:
    """States.ArrayPartition(array, n): chunks of n items, the last one possibly shorter."""
    array = _array_arg("States.ArrayPartition", array)
    n = _truncate("States.ArrayPartition", size, "chunk size")
    if n <= 0:
        raise _fail("States.ArrayPartition", f"the chunk size must be positive, got {size}")
    return [array[i:i + n] for i in range(0, len(array), n)]


def states_array_contains(array, value) -> bool:
    """States.ArrayContains(array, v): whether an item deeply equals v."""
    array = _array_arg("States.ArrayContains", array)
    return any(_json_equal(item, value) for item in array)


def states_array_range(start, end, step) -> list:
    """States.ArrayRange(start, end, step): end included only when a step lands on it.

    Equal bounds give ``[start]`` whatever the step's sign; a step pointing away from
    end gives []; step 0 and results over 1000 items fail [observed].
    """
    function = "States.ArrayRange"
    first = _truncate(function, start, "start")
    last = _truncate(function, end, "end")
    increment = _truncate(function, step, "step")
    if increment == 0:
        raise _fail(function, "the step must not be zero")
    count = (last - first) // increment + 1
    if count > _MAX_RANGE_LENGTH:
        raise _fail(function, f"the range would have {count} items, more than "
                              f"{_MAX_RANGE_LENGTH}")
    if count <= 0:
        return []
    return list(range(first, first + count * increment, increment))


def states_array_get_item(array, index) -> Any:
    """States.ArrayGetItem(array, i): the item at zero-based index i; out of range fails."""
    array = _array_arg("States.ArrayGetItem", array)
    i = _truncate("States.ArrayGetItem", index, "index")
    if not 0 <= i < len(array):
        raise _fail("States.ArrayGetItem",
                    f"index {index} is out of range for an array of {len(array)} item(s)")
    return array[i]


def states_array_length(array) -> int:
    """States.ArrayLength(array): the number of items."""
    return len(_array_arg("States.ArrayLength", array))


def states_array_unique(array) -> list:
    """States.ArrayUnique(array): duplicates removed (deep equality), first occurrences kept."""
    array = _array_arg("States.ArrayUnique", array)
    seen = set()
    unique = []
    for item in array:
        key = _identity(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def states_base64_encode(text) -> str:
    """States.Base64Encode(s): Base64 of the UTF-8 bytes, on one line; s <= 10,000 chars."""
    text = _string_arg("States.Base64Encode", text, "argument", limit=True)
    return base64.b64encode(text.encode("utf-8", "replace")).decode("ascii")


_BASE64_ALPHABET = re.compile(r"[^A-Za-z0-9+/]+")


def states_base64_decode(text) -> str:
    """States.Base64Decode(s): the UTF-8 text of Base64 data; s <= 10,000 chars.

    AWS decodes leniently [observed]: characters outside the alphabet are skipped
    (``'!!!invalid!!!'``, surrounding spaces), padding may be missing (``'abc'``) and
    decoding stops at the first ``=`` (``'ab==cd'``). Invalid UTF-8 becomes U+FFFD.
    """
    text = _string_arg("States.Base64Decode", text, "argument", limit=True)
    data = _BASE64_ALPHABET.sub("", text.split("=", 1)[0])
    if len(data) % 4 == 1:  # six lone bits cannot make a byte
        data = data[:-1]
    data += "=" * (-len(data) % 4)
    return base64.b64decode(data).decode("utf-8", "replace")


def states_hash(data, algorithm) -> str:
    """States.Hash(data, algorithm): lowercase hex digest of the UTF-8 text of data.

    Data that is not a string is hashed as its JSON text [observed: AWS hashes numbers
    and objects]; the text may have at most 10,000 characters. The algorithm is one of
    MD5, SHA-1, SHA-256, SHA-384, SHA-512, spelt exactly so.
    """
    function = "States.Hash"
    algorithm = _string_arg(function, algorithm, "algorithm")
    digest = HASH_ALGORITHMS.get(algorithm)
    if digest is None:
        raise _fail(function, f"unknown algorithm {algorithm!r}: use one of "
                              + ", ".join(HASH_ALGORITHMS))
    text = data if isinstance(data, str) else dumps(data)
    _string_arg(function, text, "data", limit=True)
    return digest(text.encode("utf-8", "replace")).hexdigest()


def states_json_merge(first, second, deep) -> dict:
    """States.JsonMerge(a, b, false): shallow merge, b's keys win; deep mode is unsupported.

    Only a boolean ``true`` is refused: AWS merges shallowly for any other third
    argument, even the string ``'false'`` [observed].
    """
    function = "States.JsonMerge"
    if not isinstance(first, dict):
        raise _fail(function, f"the first argument must be an object, not {_kind(first)}")
    if not isinstance(second, dict):
        raise _fail(function, f"the second argument must be an object, not {_kind(second)}")
    if deep is True:
        raise _fail(function, "deep merging is not supported: the third argument must be false")
    return {**first, **second}


_NO_SEED = object()


def states_math_random(start, end, seed=_NO_SEED) -> int:
    """States.MathRandom(start, end[, seed]): an integer in [start, end).

    Non-integers are truncated (see :func:`_truncate`); ``start`` must be below ``end``.
    A seed makes the draw java.util.Random's, hence AWS's, so it is repeatable.
    """
    function = "States.MathRandom"
    low = _truncate(function, start, "start")
    high = _truncate(function, end, "end")
    if low >= high:
        raise _fail(function, f"the start ({start}) must be less than the end ({end})")
    if high - low > _INT32_MAX:
        raise _fail(function, "the range is wider than 2147483647")
    if seed is _NO_SEED:
        return random.randrange(low, high)
    return low + _JavaRandom(_truncate(function, seed, "seed")).next_int(high - low)


def states_math_add(first, second) -> int:
    """States.MathAdd(a, b): each argument rounded as Java's Math.round, then added.

    Arguments and sum must fit in a 32-bit signed integer. MathAdd(1.49, 1.5) = 3 and
    MathAdd(-0.5, 0.5) = 1 [observed].
    """
    function = "States.MathAdd"
    a = _java_round(function, first, "first argument")
    b = _java_round(function, second, "second argument")
    for value in (a, b, a + b):
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise _fail(function, f"{value} is outside the 32-bit integer range "
                                  f"[{_INT32_MIN}, {_INT32_MAX}]")
    return a + b


def states_string_split(text, delimiters) -> list:
    """States.StringSplit(s, delimiters): split at ANY character of delimiters.

    Empty tokens are dropped, like Java's StringTokenizer: ``(',,,', ',')`` gives [],
    ``('a,,b', ',')`` gives ["a", "b"] and ``''`` gives [] [AWS, observed].
    """
    function = "States.StringSplit"
    text = _string_arg(function, text, "first argument")
    delimiters = _string_arg(function, delimiters, "delimiter argument")
    if not delimiters:
        return [text] if text else []
    first = delimiters[0]
    if len(delimiters) > 1:
        text = text.translate({ord(c): first for c in delimiters[1:]})
    return [token for token in text.split(first) if token]


def states_uuid() -> str:
    """States.UUID(): a random version 4 UUID."""
    return str(uuid.uuid4())


# -- The function table ---------------------------------------------------------------------
# Argument kinds for the static check: "any" or the JSON type the argument must have.

class _Function:
    __slots__ = ("name", "implementation", "min_args", "max_args", "kinds", "rest", "returns")

    def __init__(self, name, implementation, kinds, returns, min_args=None, max_args=None,
                 rest=None):
        self.name = name
        self.implementation = implementation
        self.kinds = kinds
        self.rest = rest  # the kind of every argument after ``kinds`` (variadic functions)
        self.min_args = len(kinds) if min_args is None else min_args
        self.max_args = len(kinds) if max_args is None and rest is None else max_args
        self.returns = returns

    def arity(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"

    def kind_of(self, position: int) -> str:
        return self.kinds[position] if position < len(self.kinds) else self.rest


_FUNCTIONS = {f.name: f for f in (
    _Function("States.Format", states_format, ["string"], "string", rest="any"),
    _Function("States.StringToJson", states_string_to_json, ["string"], "any"),
    _Function("States.JsonToString", states_json_to_string, ["any"], "string"),
    _Function("States.Array", states_array, [], "array", rest="any"),
    _Function("States.ArrayPartition", states_array_partition, ["array", "number"], "array"),
    _Function("States.ArrayContains", states_array_contains, ["array", "any"], "boolean"),
    _Function("States.ArrayRange", states_array_range, ["number"] * 3, "array"),
    _Function("States.ArrayGetItem", states_array_get_item, ["array", "number"], "any"),
    _Function("States.ArrayLength", states_array_length, ["array"], "number"),
    _Function("States.ArrayUnique", states_array_unique, ["array"], "array"),
    _Function("States.Base64Encode", states_base64_encode, ["string"], "string"),
    _Function("States.Base64Decode", states_base64_decode, ["string"], "string"),
    _Function("States.Hash", states_hash, ["any", "string"], "string"),
    _Function("States.JsonMerge", states_json_merge, ["object", "object", "any"], "object"),
    _Function("States.MathRandom", states_math_random, ["number"] * 3, "number",
              min_args=2),
    _Function("States.MathAdd", states_math_add, ["number", "number"], "number"),
    _Function("States.StringSplit", states_string_split, ["string", "string"], "array"),
    _Function("States.UUID", states_uuid, [], "string"),
)}

#: The names of the intrinsic functions AWS provides.
FUNCTION_NAMES = frozenset(_FUNCTIONS)


# -- Parsing -------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9._]+")
_CALL_START = re.compile(r"[A-Za-z0-9._]+\(")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_WHITESPACE = " \t\n\r"
_KEYWORDS = {"null": None, "true": True, "false": False}


class _Literal:
    """A constant argument; ``raw`` is a string literal's text with escapes kept."""

    __slots__ = ("value", "raw")

    def __init__(self, value, raw=None) -> None:
        self.value = value
        self.raw = raw

    @property
    def kind(self) -> str:
        return _kind(self.value)

    def evaluator(self) -> Evaluator:
        value = self.value
        return lambda data, env: value


class _PathArg:
    __slots__ = ("path",)
    kind = "any"

    def __init__(self, path) -> None:
        self.path = path

    def evaluator(self) -> Evaluator:
        return self.path.get


class _Call:
    __slots__ = ("function", "args", "static_error")

    def __init__(self, function: _Function, args: list, static_error: str | None) -> None:
        self.function = function
        self.args = args
        self.static_error = static_error

    @property
    def kind(self) -> str:
        return self.function.returns

    def evaluator(self) -> Evaluator:
        function = self.function
        if self.static_error is not None:  # only when compiled with strict=False
            error = self.static_error

            def invalid(data, env):
                raise _fail(function.name, error)
            return invalid
        if function.name == "States.Format" and isinstance(self.args[0], _Literal):
            return _format_with_literal_template(self.args[0].raw, self.args[1:])
        return _call_evaluator(function.implementation, [a.evaluator() for a in self.args])


def _call_evaluator(implementation, getters: list[Evaluator]) -> Evaluator:
    """Evaluate the arguments in order, then call; unrolled for the usual argument counts."""
    if not getters:
        return lambda data, env: implementation()
    if len(getters) == 1:
        (g0,) = getters
        return lambda data, env: implementation(g0(data, env))
    if len(getters) == 2:
        g0, g1 = getters
        return lambda data, env: implementation(g0(data, env), g1(data, env))
    if len(getters) == 3:
        g0, g1, g2 = getters
        return lambda data, env: implementation(g0(data, env), g1(data, env), g2(data, env))
    getters = tuple(getters)
    return lambda data, env: implementation(*[g(data, env) for g in getters])


def _format_with_literal_template(raw: str, args: list) -> Evaluator:
    """States.Format whose template is written in the call: cut it once, at load time."""
    template = _parse_template(raw)
    getters = tuple(a.evaluator() for a in args)
    return lambda data, env: _render(template, [g(data, env) for g in getters])


class _Parser:
    """Recursive descent over the call text; every error names the position."""

    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.pos = 0
        self.strict = strict

    def error(self, message: str, pos: int | None = None) -> IntrinsicSyntaxError:
        at = self.pos if pos is None else pos
        return IntrinsicSyntaxError(
            f"Invalid intrinsic function call {self.text!r}: {message} (at position {at})")

    def skip_whitespace(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in _WHITESPACE:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> _Call:
        call = self.call(1)
        self.skip_whitespace()
        if self.pos < len(self.text):
            raise self.error(f"unexpected {self.text[self.pos:]!r} after the call")
        return call

    def call(self, depth: int) -> _Call:
        start = self.pos
        match = _NAME.match(self.text, self.pos)
        if match is None or self.text[match.end():match.end() + 1] != "(":
            raise self.error("expected a function call such as States.Format(...)")
        name = match.group()
        function = _FUNCTIONS.get(name)
        if function is None:
            hint = ("" if name.startswith("States.") else
                    "; only the built-in States.* functions exist")
            raise self.error(f"unknown intrinsic function {name!r}{hint}", start)
        if depth > MAX_NESTING:
            raise self.error(f"intrinsic functions are nested more than {MAX_NESTING} "
                             "levels deep", start)
        self.pos = match.end() + 1
        args = self.arguments(depth, name)
        problem = self.static_problem(function, args)
        if problem is not None and self.strict:
            raise self.error(f"{name}: {problem}", start)
        return _Call(function, args, problem)

    def arguments(self, depth: int, name: str) -> list:
        args = []
        self.skip_whitespace()
        if self.peek() == ")":
            self.pos += 1
            return args
        while True:
            self.skip_whitespace()
            if not self.peek():
                raise self.error(f"unbalanced parentheses: {name}( is never closed")
            args.append(self.argument(depth))
            self.skip_whitespace()
            c = self.peek()
            if c == ",":
                self.pos += 1
            elif c == ")":
                self.pos += 1
                return args
            elif not c:
                raise self.error(f"unbalanced parentheses: {name}( is never closed")
            else:
                raise self.error(f"expected ',' or ')' in the arguments of {name}, found {c!r}")

    def argument(self, depth: int):
        c = self.peek()
        if c == "'":
            return self.string()
        if c == "$":
            return self.path()
        if c == "-" or c.isdigit():
            return self.number()
        if c in ",)":
            raise self.error("an argument is missing")
        match = _NAME.match(self.text, self.pos)
        if match is not None:
            word = match.group()
            if word in _KEYWORDS and not self.text.startswith("(", match.end()):
                self.pos = match.end()
                self.expect_delimiter(word)
                return _Literal(_KEYWORDS[word])
            if self.text.startswith("(", match.end()):
                return self.call(depth + 1)
            raise self.error(f"{word!r} is not an argument: use a quoted string, a number, "
                             "null, true, false, a path or a function call")
        raise self.error(f"unexpected {c!r}: an argument must be a quoted string, a number, "
                         "null, true, false, a path or a function call")

    def expect_delimiter(self, what: str) -> None:
        """A literal must be followed by whitespace, ',' or ')' (so ``1.`` or ``nulls`` fail)."""
        c = self.peek()
        if c and c not in _WHITESPACE and c not in ",)":
            raise self.error(f"unexpected {c!r} after {what!r}")

    def string(self) -> _Literal:
        """A single-quoted string; only ``\\'`` ``\\{`` ``\\}`` ``\\\\`` may be escaped."""
        text, n = self.text, len(self.text)
        start = self.pos
        i = start + 1
        value: list[str] = []
        while i < n:
            c = text[i]
            if c == "\\":
                if i + 1 >= n:
                    break
                escaped = text[i + 1]
                if escaped not in "'{}\\":
                    raise self.error(f"invalid escape '\\{escaped}' in a string: only \\', "
                                     "\\{, \\} and \\\\ are allowed", i)
                value.append(escaped)
                i += 2
            elif c == "'":
                self.pos = i + 1
                self.expect_delimiter(text[start:i + 1])
                return _Literal("".join(value), text[start + 1:i])
            else:
                value.append(c)
                i += 1
        raise self.error("unterminated string: a closing ' is missing", start)

    def number(self) -> _Literal:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.error(f"invalid number starting with {self.peek()!r}")
        self.pos = match.end()
        literal = match.group()
        self.expect_delimiter(literal)
        if match.group(1) or match.group(2):
            return _Literal(float(literal))
        return _Literal(int(literal))

    def path(self) -> _PathArg:
        """A path argument runs to the first ',', ')' or space outside brackets and quotes."""
        text, n = self.text, len(self.text)
        start = i = self.pos
        depth = 0
        while i < n:
            c = text[i]
            if c in "'\"":
                i = self._skip_quoted(i)
                continue
            if c in "[(":
                depth += 1
            elif c in "])":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (c == "," or c in _WHITESPACE):
                break
            i += 1
        self.pos = i
        source = text[start:i]
        try:
            return _PathArg(compile_path(_dot_bracket_to_bracket(source)))
        except PathSyntaxError as exc:
            raise self.error(f"invalid path argument {source!r}: {exc}", start) from None

    def _skip_quoted(self, i: int) -> int:
        text, n = self.text, len(self.text)
        quote = text[i]
        i += 1
        while i < n:
            if text[i] == "\\":
                i += 2
            elif text[i] == quote:
                return i + 1
            else:
                i += 1
        raise self.error("unterminated quoted name in a path argument")

    @staticmethod
    def static_problem(function: _Function, args: list) -> str | None:
        """What is certainly wrong with the arguments, known without running: arity, and
        literals (or calls) whose JSON type cannot be what the function needs."""
        count = len(args)
        if count < function.min_args or (function.max_args is not None
                                         and count > function.max_args):
            return f"takes {function.arity()} argument(s), got {count}"
        for position, arg in enumerate(args):
            needed = function.kind_of(position)
            have = arg.kind
            if needed == "any" or have == "any" or have == needed:
                continue
            return (f"argument {position + 1} must be {_article(needed)} {needed}, "
                    f"not {_article(have)} {have}")
        if function.name == "States.Hash" and isinstance(args[1], _Literal) \
                and args[1].value not in HASH_ALGORITHMS:
            return (f"unknown algorithm {args[1].value!r}: use one of "
                    + ", ".join(HASH_ALGORITHMS))
        return None


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def _dot_bracket_to_bracket(path: str) -> str:
    """``$.abc.['def ghi']`` (the AWS docs' own example) means ``$.abc['def ghi']``."""
    if ".[" not in path:
        return path
    out = []
    i, n = 0, len(path)
    while i < n:
        c = path[i]
        if c in "'\"":
            j = i + 1
            while j < n and path[j] != c:
                j += 2 if path[j] == "\\" else 1
            out.append(path[i:j + 1])
            i = j + 1
            continue
        if c == "." and path.startswith("[", i + 1) and (i == 0 or path[i - 1] != "."):
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# -- Public API ----------------------------------------------------------------------------

def is_intrinsic_call(text: str) -> bool:
    """Whether a ``.$`` value is an intrinsic call (a name then ``(``) rather than a path."""
    return isinstance(text, str) and _CALL_START.match(text) is not None


def compile_intrinsic(text: str, *, strict: bool = True) -> Intrinsic:
    """Parse an intrinsic call once; raises :class:`IntrinsicSyntaxError` if it is invalid.

    With ``strict=False`` a wrong argument count or a certainly-wrong literal type is
    not a load-time error but ``States.Runtime`` when the call runs, which is when AWS
    reports those (it accepts such definitions) [observed].
    """
    if not isinstance(text, str):
        raise IntrinsicSyntaxError(f"An intrinsic function call must be a string, not {text!r}")
    call = _Parser(text, strict).parse()
    return Intrinsic(text, call.function.name, call.evaluator())


def check_intrinsic(text: str) -> str | None:
    """None if ``text`` is a valid intrinsic call, arguments included, else why not
    (the strict check: the first problem :func:`compile_intrinsic` would raise)."""
    try:
        compile_intrinsic(text)
    except IntrinsicSyntaxError as exc:
        return str(exc)
    return None


def intrinsic_problems(text: str) -> tuple[str | None, list[str]]:
    """For the validator: ``(syntax error, argument problems)`` of an intrinsic call.

    The syntax error (unknown function, bad escape, unbalanced, too deep...) makes AWS
    refuse the definition. The argument problems (a wrong argument count, a literal of
    a type the function cannot take, an unknown ``States.Hash`` algorithm), one per
    call, outermost first, are ones AWS accepts and reports only when the call runs, as
    ``States.Runtime`` [observed]; asl finds them statically and words them like
    ``States.Hash: unknown algorithm 'SHA-3': use one of MD5, ...``.
    """
    if not isinstance(text, str):
        return f"An intrinsic function call must be a string, not {text!r}", []
    try:
        call = _Parser(text, strict=False).parse()
    except IntrinsicSyntaxError as exc:
        return str(exc), []
    problems = []
    pending = [call]
    while pending:
        node = pending.pop(0)
        if node.static_error is not None:
            problems.append(f"{node.function.name}: {node.static_error}")
        pending.extend(arg for arg in node.args if isinstance(arg, _Call))
    return None, problems
