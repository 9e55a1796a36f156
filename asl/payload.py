"""JSON payloads: their compact text, independent copies, and AWS's 256 KiB limit.

Values cross into user code (task callables) and back; the interpreter gives each side
its own copy so that a callable mutating its input cannot change the state data, the
history or a compiled template. A copy is a round trip through JSON text, which is also
what tells a value's size and rejects what JSON cannot hold.
"""

from __future__ import annotations

import json
from typing import Any

from asl.errors import DATA_LIMIT_EXCEEDED, StatesError

#: State input/output and task input/result are limited to 256 KiB of UTF-8 JSON.
PAYLOAD_LIMIT = 256 * 1024

# Built once: json.dumps with non-default options builds an encoder on every call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_decode = json.JSONDecoder().decode


def dumps(value: Any) -> str:
    """Compact JSON, as AWS prints payloads in causes and history (non-ASCII kept)."""
    try:
        return _encode(value)
    except ValueError:                      # NaN or infinity: only in error messages
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _marshal(value: Any) -> str:
    try:
        return _encode(value)
    except (TypeError, ValueError) as exc:
        raise StatesError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


def _fits(text: str) -> bool:
    # A character is at most 4 bytes of UTF-8: short texts need no encoding to be measured.
    return len(text) <= PAYLOAD_LIMIT // 4 or len(text.encode("utf-8")) <= PAYLOAD_LIMIT


def _too_large(what: str) -> StatesError:
    return StatesError(DATA_LIMIT_EXCEEDED,
                       f"The state/task '{what}' returned a result with a size exceeding the "
                       "maximum number of bytes service limit.")


def copy(value: Any) -> Any:
    """An independent deep copy; a value JSON cannot hold is ``Runtime.MarshalError``."""
    return _decode(_marshal(value))


def check_size(value: Any, what: str) -> None:
    """States.DataLimitExceeded when ``value`` is over 256 KiB of UTF-8 JSON."""
    if not _fits(_marshal(value)):
        raise _too_large(what)


def checked_copy(value: Any, what: str) -> Any:
    """:func:`copy` and :func:`check_size` in one serialisation."""
    text = _marshal(value)
    if not _fits(text):
        raise _too_large(what)
    return _decode(text)
