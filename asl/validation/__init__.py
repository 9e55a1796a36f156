"""Validate a state machine definition as AWS's ValidateStateMachineDefinition does.

``validate(definition)`` runs two passes over the definition and returns every problem
at once, in document order:

* the schema pass (:mod:`asl.validation.schema`): types, required and unknown fields,
  enums, ranges, field combinations;
* the semantic pass (:mod:`asl.validation.semantic`): the state graph, paths, templates,
  query languages, error rules, and AWS's warnings.

Both always run, so a structural mistake never hides a semantic one. A definition is
valid when no diagnostic has severity ERROR; warnings do not make it invalid.
"""

from __future__ import annotations

from typing import Any, Iterable

from asl.validation.diagnostics import (
    DUPLICATE_STATE_NAME,
    ERROR,
    NESTING_TOO_DEEP,
    WARNING,
    Diagnostic,
)

__all__ = ["Diagnostic", "ValidationError", "validate", "is_valid", "DUPLICATE_FIELD"]

#: Our own warning code: one JSON/YAML object gave the same key twice (the last one wins).
DUPLICATE_FIELD = "DUPLICATE_FIELD"

_LAST = float("inf")


class ValidationError(ValueError):
    """A definition with errors. ``diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic], message: str | None = None) -> None:
        self.diagnostics = list(diagnostics)
        self.message = message or _summary(self.diagnostics)
        super().__init__(self.message)

    def __str__(self) -> str:
        lines = [self.message]
        lines.extend(f"  {diagnostic}" for diagnostic in self.diagnostics)
        return "\n".join(lines)


def validate(definition: Any) -> list[Diagnostic]:
    """Every problem of ``definition`` (a dict, JSON/YAML text, a path or a
    :class:`asl.definition.LoadedDefinition`), in document order.

    Raises :class:`asl.definition.DefinitionError` when the definition cannot be read or
    is not a JSON object; any object, however wrong, gives diagnostics instead.
    """
    from asl.definition import LoadedDefinition, read_definition
    from asl.validation.schema import schema_diagnostics
    from asl.validation.semantic import semantic_diagnostics

    loaded = definition if isinstance(definition, LoadedDefinition) else read_definition(definition)
    found = _duplicate_key_diagnostics(loaded.duplicate_keys)
    found.extend(schema_diagnostics(loaded.definition))
    found.extend(semantic_diagnostics(loaded.definition))
    found.extend(_nesting_diagnostics(loaded.definition))
    return _in_document_order(list(dict.fromkeys(found)), loaded.definition)


def is_valid(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when no diagnostic is an ERROR (warnings are allowed, as on AWS)."""
    return not any(d.severity == ERROR for d in diagnostics)


def _summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity == ERROR for d in diagnostics)
    warnings = sum(d.severity == WARNING for d in diagnostics)
    parts = [_count(errors, "error")]
    if warnings:
        parts.append(_count(warnings, "warning"))
    return f"invalid state machine definition: {', '.join(parts)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


#: Parallel and Map states nested in each other at most this deep. AWS documents no
#: limit; asl compiles and runs nested scopes recursively, and 100 levels keep far
#: below Python's stack (see docs/fidelity.md).
MAX_NESTING_DEPTH = 100


def _nesting_diagnostics(definition: dict) -> list[Diagnostic]:
    from asl.definition.scopes import walk_scopes
    for scope in walk_scopes(definition):
        if scope.depth > MAX_NESTING_DEPTH:
            return [Diagnostic(scope.at, NESTING_TOO_DEEP,
                               f"Parallel and Map states are nested more than "
                               f"{MAX_NESTING_DEPTH} levels deep, which asl does not run")]
    return []


def _duplicate_key_diagnostics(pointers: Iterable[str]) -> list[Diagnostic]:
    """A key given twice in one object of the text: JSON and YAML keep only the last."""
    found = []
    for at in pointers:
        parent, _, key = at.rpartition("/")
        key = key.replace("~1", "/").replace("~0", "~")
        if parent.endswith("/States") or parent == "/States":
            found.append(Diagnostic(at, DUPLICATE_STATE_NAME,
                                    f"State '{key}' is defined twice in the same 'States' object: "
                                    "only the last definition would be kept"))
        else:
            found.append(Diagnostic(at, DUPLICATE_FIELD,
                                    f"The field '{key}' is given twice in the same object: only "
                                    "the last value is used", WARNING))
    return found


def _in_document_order(diagnostics: list[Diagnostic], definition: dict) -> list[Diagnostic]:
    """Sort by where each location is in the document (stable: pass order breaks ties)."""
    positions: dict[int, dict] = {}

    def position(location: str) -> tuple:
        node: Any = definition
        key = []
        for part in location.split("/")[1:] if location else ():
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                index = positions.get(id(node))
                if index is None:
                    index = positions[id(node)] = {k: i for i, k in enumerate(node)}
                i = index.get(part)
                node = node.get(part) if i is not None else None
                key.append(_LAST if i is None else i)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                key.append(int(part))
                node = node[int(part)]
            else:
                key.append(_LAST)
                node = None
        return tuple(key)

    return sorted(diagnostics, key=lambda d: position(d.location))
