"""JSON payloads: their compact text, independent copies, and AWS's 256 KiB limit.

Values cross into user code (task callables) and back; the interpreter gives each side
its own copy so that a callable mutating its input cannot change the state data, the
history or a compiled template. A copy is a round trip through JSON text, which is also
what tells a value's size and rejects what JSON cannot hold.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring
from typing import Any, Callable

from asl.errors import DATA_LIMIT_EXCEEDED, StatesError

#: State input/output and task input/result are limited to 256 KiB of UTF-8 JSON.
PAYLOAD_LIMIT = 256 * 1024

def _not_json(value: Any):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make_encoder():
    """The compact, non-ASCII-keeping, NaN-refusing encoder, built once.

    json.dumps (and JSONEncoder.encode) build a new C encoder on every call, which is half
    the cost of encoding a small payload; this one is built once.
    """
    from json.encoder import c_make_encoder, encode_basestring

    if c_make_encoder is None:                  # no C accelerator: the plain way
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                allow_nan=False).encode
    encoder = c_make_encoder(None, _not_json, encode_basestring, None, ":", ",",
                             False, False, False)

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return encode_basestring(value)
        return "".join(encoder(value, 0))
    return encode


_encode = _make_encoder()
_scan = json.JSONDecoder().scan_once     # our own compact text: no whitespace to skip


def _decode(text: str) -> Any:
    return _scan(text, 0)[0]


def dumps(value: Any) -> str:
    """Compact JSON, as AWS prints payloads in causes and history (non-ASCII kept)."""
    try:
        return _encode(value)
    except (ValueError, TypeError, RecursionError):   # only ever in error messages
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=repr)


#: A UTF-16 surrogate code point: JSON text is UTF-8, which cannot hold one on its own.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: ``\uD800``..``\uDFFF`` escapes in JSON text (a pair is fine, a lone one is not).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class NotJSON(ValueError):
    """Text or a value that AWS's JSON payloads cannot be: NaN, Infinity, a lone
    surrogate, or not JSON at all."""


def loads(text: str) -> Any:
    """Strict JSON, as AWS reads payloads: no NaN or Infinity, no lone surrogates.

    Raises :class:`NotJSON` with a one-line reason.
    """
    def refuse(name: str):
        raise NotJSON(f"{name} is not a JSON value")
    try:
        value = json.loads(text, parse_constant=refuse)
    except NotJSON:
        raise
    except RecursionError:
        raise NotJSON("nested too deeply") from None
    except ValueError as exc:
        raise NotJSON(str(exc)) from None
    if _SURROGATE.search(text) or _SURROGATE_ESCAPE.search(text):
        _marshal(value, NotJSON)
    return value


_LONE_SURROGATE = "a string holds a lone UTF-16 surrogate, which UTF-8 JSON cannot carry"
_CIRCULAR = "circular reference detected"
_NOT_FINITE = "Out of range float values are not JSON compliant"


def _marshal_error(reason: str) -> StatesError:
    """What the Lambda runtime reports for a result JSON cannot hold."""
    return StatesError("Runtime.MarshalError", f"Unable to marshal response: {reason}")


def _marshal(value: Any, failure: Callable[[str], Exception] = _marshal_error) -> str:
    """Compact JSON of ``value``; what JSON cannot hold raises ``failure(reason)``."""
    try:
        text = _encode(value)
    except (TypeError, ValueError) as exc:
        raise failure(str(exc)) from None
    except RecursionError:        # a value that contains itself (or is nested absurdly deep)
        raise failure(_CIRCULAR) from None
    if not text.isascii() and _SURROGATE.search(text):
        raise failure(_LONE_SURROGATE)
    return text


def _fits(text: str) -> bool:
    # A character is at most 4 bytes of UTF-8: short texts need no encoding to be measured.
    return len(text) <= PAYLOAD_LIMIT // 4 or len(text.encode("utf-8")) <= PAYLOAD_LIMIT


def _size(text: str) -> int:
    """An upper bound of the UTF-8 size of ``text`` (exact for ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _too_large(what: str) -> StatesError:
    return StatesError(DATA_LIMIT_EXCEEDED,
                       f"The state/task '{what}' returned a result with a size exceeding the "
                       "maximum number of bytes service limit.")


# -- copies -----------------------------------------------------------------------------------
#
# A JSON round trip (C encoder, then C decoder) costs ~4 us for a saga-sized payload; the
# walk below copies the plain dicts, lists and scalars JSON decoding gives, in ~2 us, and
# sums an upper bound of the UTF-8 size as it goes (a string counts 6 bytes a character,
# its worst escape, until it is long enough to be measured exactly). Anything else (a
# subclass, a tuple, a Decimal) is copied by the round trip, with its exact size and
# errors. Only when the bound exceeds a limit is the exact size computed.

_EXACT_STRING = 1024            # longer strings are measured exactly, not bounded
_INT_BOUND = 10 ** 18           # ints below it print in at most 20 characters
_INFINITY = float("inf")


def _copy_bounded(value: Any) -> tuple[Any, int]:
    kind = type(value)
    if kind is str:
        if value.isascii():
            if len(value) <= _EXACT_STRING:
                return value, 6 * len(value) + 2
            return value, len(encode_basestring(value))
        if _SURROGATE.search(value):
            raise _marshal_error(_LONE_SURROGATE)
        return value, 3 * len(encode_basestring(value))
    if kind is dict:
        copied, bound = {}, 2
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return _round_trip(value)
            # Short ASCII strings, ints and None inline: a call per leaf is most of the walk.
            item_kind = type(item)
            if item_kind is str and len(item) <= _EXACT_STRING and item.isascii():
                copied[key] = item
                bound += 6 * (len(key) + len(item)) + 6
            elif item_kind is int and -_INT_BOUND < item < _INT_BOUND:
                copied[key] = item
                bound += 6 * len(key) + 24
            elif item is None:
                copied[key] = None
                bound += 6 * len(key) + 9
            else:
                copied[key], size = _copy_bounded(item)
                bound += 6 * len(key) + 4 + size
        return copied, bound
    if kind is list:
        copied, bound = [], 2
        for item in value:
            item, size = _copy_bounded(item)
            copied.append(item)
            bound += size + 1
        return copied, bound
    if kind is int:
        return value, 20 if -_INT_BOUND < value < _INT_BOUND else len(str(value))
    if kind is float:
        if value != value or value in (_INFINITY, -_INFINITY):
            raise _marshal_error(_NOT_FINITE)
        return value, 24
    if value is None or kind is bool:
        return value, 5
    return _round_trip(value)


def _round_trip(value: Any) -> tuple[Any, int]:
    text = _marshal(value)
    return _decode(text), _size(text)


def _bounded(value: Any) -> tuple[Any, int]:
    try:
        return _copy_bounded(value)
    except RecursionError:          # a value that contains itself, or absurdly deep
        raise _marshal_error(_CIRCULAR) from None


def copy(value: Any) -> Any:
    """An independent deep copy; a value JSON cannot hold is ``Runtime.MarshalError``."""
    return _bounded(value)[0]


def clone(value: Any) -> Any:
    """A deep copy of data the interpreter already holds: plain JSON values, checked when
    they came in, so only the containers need copying (and nothing needs checking)."""
    kind = type(value)
    if kind is dict:
        copied = {}
        for key, item in value.items():     # leaves inline: a call per leaf costs most
            item_kind = type(item)
            copied[key] = clone(item) if item_kind is dict or item_kind is list else item
        return copied
    if kind is list:
        return [clone(item) if type(item) is dict or type(item) is list else item
                for item in value]
    return value


def check_size(value: Any, what: str) -> int:
    """States.DataLimitExceeded when ``value`` is over 256 KiB of UTF-8 JSON; else its size."""
    text = _marshal(value)
    if not _fits(text):
        raise _too_large(what)
    return _size(text)


def checked_copy(value: Any, what: str) -> tuple[Any, int]:
    """:func:`copy` and :func:`check_size` in one walk: ``(copy, size bound)``, the bound
    at most 256 KiB (the exact size when the cheap bound is over)."""
    copied, bound = _bounded(value)
    if bound > PAYLOAD_LIMIT:
        text = _marshal(copied)
        if not _fits(text):
            raise _too_large(what)
        bound = _size(text)
    return copied, bound


def sized_copy(value: Any) -> tuple[Any, int]:
    """:func:`copy`, and an upper bound of the value's size."""
    return _bounded(value)
