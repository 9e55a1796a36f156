"""The one walker of a definition's nested scopes.

A state machine is a tree of scopes: the machine's own ``States``, each Parallel branch
(``Branches[i]``) and each Map's item processor (``ItemProcessor``, or the legacy
``Iterator``). Validation, compilation, the graph, the analyses, mock files and the
testing toolkit all need to go down that tree; they all do it here.

The walk is iterative (a definition nested hundreds of levels deep costs no Python
stack) and tolerant: anything that is not the shape it expects (a ``States`` that is not
an object, a branch that is a string) is skipped, because reporting it is the
validator's job, not the walker's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

#: The kinds of scope, as the validator's messages name them.
MACHINE, BRANCH, PROCESSOR = "machine", "branch", "processor"


def pointer_key(key: Any) -> str:
    """One JSON-pointer segment (RFC 6901 escaping)."""
    return str(key).replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, slots=True)
class Scope:
    """One ``{StartAt, States}`` object of the definition.

    ``at`` is its JSON pointer (``""`` for the machine), ``kind`` one of MACHINE, BRANCH,
    PROCESSOR, ``depth`` 0 for the machine, ``parent`` the state holding it (None for
    the machine), ``branch`` the branch index of a Parallel's scope.
    """

    body: dict
    at: str
    kind: str
    depth: int = 0
    parent: "StateRef | None" = None
    branch: int | None = None

    @property
    def states(self) -> dict:
        states = self.body.get("States")
        return states if isinstance(states, dict) else {}

    @property
    def enclosing(self) -> tuple[str, ...]:
        """Names of the Parallel and Map states around this scope, outermost first."""
        names: list[str] = []
        scope: Scope | None = self
        while scope is not None and scope.parent is not None:
            names.append(scope.parent.name)
            scope = scope.parent.scope
        return tuple(reversed(names))


@dataclass(frozen=True, slots=True)
class StateRef:
    """One state where it is: its name, its definition, its pointer and its scope."""

    name: str
    definition: dict
    at: str
    scope: Scope

    @property
    def type(self) -> str:
        kind = self.definition.get("Type")
        return kind if isinstance(kind, str) else ""

    @property
    def enclosing(self) -> tuple[str, ...]:
        return self.scope.enclosing

    @property
    def branch(self) -> int | None:
        return self.scope.branch


def nested_scopes(state: Any, at: str = "") -> list[tuple[str, dict, str, int | None]]:
    """The scopes directly inside one state: ``(pointer, body, kind, branch index)``.

    A Parallel's branches in order; a Map's ``ItemProcessor`` (or, when there is none,
    its legacy ``Iterator``). Anything malformed is left out.
    """
    if not isinstance(state, dict):
        return []
    kind = state.get("Type")
    found = []
    if kind == "Parallel":
        branches = state.get("Branches")
        if isinstance(branches, list):
            found = [(f"{at}/Branches/{i}", branch, BRANCH, i)
                     for i, branch in enumerate(branches) if isinstance(branch, dict)]
    elif kind == "Map":
        field = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        processor = state.get(field)
        if isinstance(processor, dict):
            found = [(f"{at}/{field}", processor, PROCESSOR, None)]
    return found


def walk_scopes(definition: Any) -> Iterator[Scope]:
    """Every scope, the machine first, each scope before the scopes inside its states,
    in document order."""
    if not isinstance(definition, dict):
        return
    stack = [Scope(definition, "", MACHINE)]
    while stack:
        scope = stack.pop()
        yield scope
        inner = []
        for ref in _refs(scope):
            for at, body, kind, branch in nested_scopes(ref.definition, ref.at):
                inner.append(Scope(body, at, kind, scope.depth + 1, ref, branch))
        stack.extend(reversed(inner))


def walk_states(definition: Any) -> Iterator[StateRef]:
    """Every state at any depth, in document order: a Parallel or Map state comes
    before the states of its branches or processor, which come before its next sibling."""
    if not isinstance(definition, dict):
        return
    stack: list[Any] = [Scope(definition, "", MACHINE)]
    while stack:
        item = stack.pop()
        if isinstance(item, StateRef):
            yield item
            continue
        pending: list[Any] = []
        for ref in _refs(item):
            pending.append(ref)
            for at, body, kind, branch in nested_scopes(ref.definition, ref.at):
                pending.append(Scope(body, at, kind, item.depth + 1, ref, branch))
        stack.extend(reversed(pending))


def _refs(scope: Scope) -> list[StateRef]:
    base = f"{scope.at}/States/"
    return [StateRef(name, state, base + pointer_key(name), scope)
            for name, state in scope.states.items() if isinstance(state, dict)]
