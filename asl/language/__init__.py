"""The expression languages a definition is written in, shared by validation and compilation.

* :mod:`~asl.language.jsonpath`: JSONPath paths and reference paths (Jayway's dialect);
* :mod:`~asl.language.paths`: the JSONPath I/O pipeline pieces (selectors, payload
  templates, ResultPath), compiled to evaluators;
* :mod:`~asl.language.intrinsics`: the ``States.*`` intrinsic functions;
* :mod:`~asl.language.jsonata`: JSONata through jsonata-python, with AWS's functions;
* :mod:`~asl.language.timestamps`: ISO-8601 timestamps as AWS reads and writes them.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

#: The two values of ``QueryLanguage``; JSONPath is the default.
JSONPATH = "JSONPath"
JSONATA = "JSONata"

#: The algorithms of ``States.Hash`` and JSONata's ``$hash``, by AWS's names.
HASH_ALGORITHMS = {
    "MD5": hashlib.md5, "SHA-1": hashlib.sha1, "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384, "SHA-512": hashlib.sha512,
}


def is_number(value: Any) -> bool:
    """A JSON number: Python's bool is an int, but JSON's boolean is not a number."""
    return type(value) is int or type(value) is float


def is_jsonata_expression(value: Any) -> bool:
    """A JSONata expression string: starts exactly with ``{%`` and ends exactly with ``%}``.

    Anything else is a plain literal string, neither refused by validation nor evaluated:
    surrounding whitespace (``" {% $x %}"``), text around the delimiters (``"a {% 1 %}"``)
    or only one delimiter (``"{% 1"``) [recorded on AWS]. ``"{%}"`` is too short to be both.
    The validator and every compiler decide with this one function.
    """
    return (type(value) is str and len(value) >= 4
            and value.startswith("{%") and value.endswith("%}"))


class Constant:
    """An evaluator whose value is fixed at compile time (a literal, or a template with
    nothing to evaluate). It takes and ignores any arguments, so JSONata fields use it too."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, *ignored: Any) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"


#: Set by the execution on each of its threads: ``evaluation.check`` raises when the run
#: is stopped or past its TimeoutSeconds; a long JSONata evaluation calls it.
evaluation = threading.local()
