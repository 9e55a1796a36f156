"""State and edge coverage: which transitions of a definition the tests ever took.

The edges of a definition (:func:`definition_edges`) are every way control can move:
``Next``, each Choice target (its rules and Default, grouped by target), each Catch and
each Retry. :func:`exercised` reads them back from an execution history, AWS-shaped, so
recorded AWS histories work too: a state entered right after state X exited is X's
Next/Choice edge, or its Catch edge when X's last event before exiting is a failure
(the catcher is the first that matches the failure's error, as AWS picks it); a new
attempt scheduled right after a failure is a Retry edge. Parallel/Map failures carry no
error in the history, so their catcher is recognised by its Next and their retries are
credited to the first retrier.

:class:`Coverage` accumulates executions across machines and reports what was never
exercised: the failure paths a team never tested.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from asl.analysis import walk_states
from asl.errors import matches

__all__ = ["Edge", "definition_edges", "exercised", "Coverage", "MachineCoverage",
           "format_report"]

NEXT, CHOICE, CATCH, RETRY = "Next", "Choice", "Catch", "Retry"

_FAILURES = frozenset({
    "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed",
    "LambdaFunctionFailed", "LambdaFunctionTimedOut", "LambdaFunctionStartFailed",
    "LambdaFunctionScheduleFailed", "ActivityFailed", "ActivityTimedOut",
    "ActivityScheduleFailed", "ParallelStateFailed", "MapStateFailed",
})
_ATTEMPTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled",
                       "ParallelStateStarted", "MapStateStarted"})


@dataclass(frozen=True, order=True)
class Edge:
    """One way control moves: ``source`` --``label``--> ``target``."""

    source: str
    kind: str          # Next | Choice | Catch | Retry
    target: str
    label: str

    def __str__(self) -> str:
        return f"{self.source} --{self.label}--> {self.target}"


class _Model:
    """A definition's states and edges, indexed for reading histories."""

    def __init__(self, definition: dict) -> None:
        self.states: list[str] = []
        self.edges: list[Edge] = []
        self.types: dict[str, str] = {}
        self.next: dict[str, Edge] = {}
        self.choice: dict[tuple[str, str], Edge] = {}
        self.catchers: dict[str, list[tuple[tuple, Edge]]] = {}
        self.retriers: dict[str, list[tuple[tuple, Edge]]] = {}
        for ref in walk_states(definition):
            name, state = ref.name, ref.definition
            self.states.append(name)
            self.types[name] = ref.type
            if ref.type == "Choice":
                labels: dict[str, list[str]] = {}
                for i, rule in enumerate(state.get("Choices") or ()):
                    labels.setdefault(rule.get("Next"), []).append(f"Choices[{i}]")
                if state.get("Default"):
                    labels.setdefault(state["Default"], []).append("Default")
                for target, names in labels.items():
                    edge = Edge(name, CHOICE, target, ", ".join(names))
                    self.choice[(name, target)] = edge
                    self.edges.append(edge)
            elif state.get("Next"):
                edge = Edge(name, NEXT, state["Next"], NEXT)
                self.next[name] = edge
                self.edges.append(edge)
            for i, rule in enumerate(state.get("Retry") or ()):
                names = tuple(rule.get("ErrorEquals") or ())
                edge = Edge(name, RETRY, name, f"Retry[{i}] ({', '.join(names)})")
                self.retriers.setdefault(name, []).append((names, edge))
                self.edges.append(edge)
            for i, rule in enumerate(state.get("Catch") or ()):
                names = tuple(rule.get("ErrorEquals") or ())
                edge = Edge(name, CATCH, rule.get("Next", ""), f"Catch[{i}] ({', '.join(names)})")
                self.catchers.setdefault(name, []).append((names, edge))
                self.edges.append(edge)

    def catch_edge(self, state: str, error: str | None, target: str | None) -> Edge | None:
        rules = self.catchers.get(state, ())
        if error is not None:
            for names, edge in rules:
                if matches(names, error):
                    return edge if target is None or edge.target == target else None
        return next((edge for _n, edge in rules if edge.target == target), None)

    def retry_edge(self, state: str, error: str | None) -> Edge | None:
        rules = self.retriers.get(state, ())
        if error is None:
            return rules[0][1] if rules else None
        return next((edge for names, edge in rules if matches(names, error)), None)


def definition_edges(definition: dict) -> list[Edge]:
    """Every edge of the definition, nested scopes included, in document order."""
    return list(_Model(definition).edges)


def _details(event: dict) -> dict:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _exercised(model: _Model, history: list[dict]) -> tuple[set[str], set[Edge]]:
    by_id = {e["id"]: e for e in history}
    entered_after: dict[int, str] = {}
    states: set[str] = set()
    for event in history:
        if event["type"].endswith("StateEntered"):
            name = _details(event).get("name")
            states.add(name)
            entered_after[event.get("previousEventId", 0)] = name
    edges: set[Edge] = set()
    for event in history:
        kind = event["type"]
        previous = by_id.get(event.get("previousEventId"))
        failed = previous is not None and previous["type"] in _FAILURES
        if kind.endswith("StateExited"):
            name = _details(event).get("name")
            target = entered_after.get(event["id"])
            if failed:
                edge = model.catch_edge(name, _details(previous).get("error"), target)
            elif target is None:
                edge = None
            elif model.types.get(name) == "Choice":
                edge = model.choice.get((name, target))
            else:
                edge = model.next.get(name)
            if edge is not None:
                edges.add(edge)
        elif kind in _ATTEMPTS and failed:
            name = _visit_of(by_id, event)
            edge = model.retry_edge(name, _details(previous).get("error"))
            if edge is not None:
                edges.add(edge)
    return states, edges


def _visit_of(by_id: dict, event: dict) -> str | None:
    """The state whose visit ``event`` belongs to: the nearest StateEntered before it
    on the same thread of execution."""
    while event is not None:
        if event["type"].endswith("StateEntered"):
            return _details(event).get("name")
        event = by_id.get(event.get("previousEventId"))
    return None


def exercised(definition: dict, history: list[dict]) -> tuple[set[str], set[Edge]]:
    """The states entered and the edges taken in one execution history."""
    return _exercised(_Model(definition), history)


@dataclass
class MachineCoverage:
    """What the executions of one definition exercised."""

    name: str
    states: list[str]
    edges: list[Edge]
    executions: int = 0
    states_hit: set[str] = field(default_factory=set)
    edges_hit: set[Edge] = field(default_factory=set)

    @property
    def missing_states(self) -> list[str]:
        return [s for s in self.states if s not in self.states_hit]

    @property
    def missing_edges(self) -> list[Edge]:
        return [e for e in self.edges if e not in self.edges_hit]

    def percent(self) -> float:
        total = len(self.states) + len(self.edges)
        hit = total - len(self.missing_states) - len(self.missing_edges)
        return 100.0 if not total else 100.0 * hit / total

    def to_dict(self) -> dict:
        def edge(e: Edge) -> dict:
            return {"source": e.source, "kind": e.kind, "target": e.target, "label": e.label}
        return {
            "name": self.name, "executions": self.executions,
            "states": {"total": len(self.states), "exercised": len(self.states) - len(self.missing_states),
                       "missing": self.missing_states},
            "edges": {"total": len(self.edges), "exercised": len(self.edges) - len(self.missing_edges),
                      "missing": [edge(e) for e in self.missing_edges],
                      "by_kind": _by_kind(self)},
            "percent": round(self.percent(), 1),
        }


def _by_kind(machine: MachineCoverage) -> dict:
    counts: dict[str, list[int]] = {}
    for e in machine.edges:
        hit, total = counts.setdefault(e.kind, [0, 0])
        counts[e.kind] = [hit + (e in machine.edges_hit), total + 1]
    return {k: {"exercised": v[0], "total": v[1]} for k, v in counts.items()}


class Coverage:
    """Accumulates executions of any number of machines (thread-safe).

    Machines with the same definition share one entry; ``record`` takes the definition,
    an ExecutionResult (or a history list) and a display name.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._machines: dict[str, tuple[_Model, MachineCoverage]] = {}

    def key(self, definition: dict, name: str) -> str:
        text = json.dumps(definition, sort_keys=True, default=str)
        return name + ":" + hashlib.sha1(text.encode()).hexdigest()[:12]

    def record(self, definition: dict, result: Any, name: str = "StateMachine",
               key: str | None = None) -> None:
        history = result if isinstance(result, list) else result.history
        key = key or self.key(definition, name)
        with self._lock:
            entry = self._machines.get(key)
            if entry is None:
                model = _Model(definition)
                entry = self._machines[key] = (model, MachineCoverage(
                    name, list(model.states), list(model.edges)))
        model, machine = entry
        states, edges = _exercised(model, history)
        with self._lock:
            machine.executions += 1
            machine.states_hit |= states
            machine.edges_hit |= edges

    def machines(self) -> list[MachineCoverage]:
        """One entry per definition; names made unique when two definitions share one."""
        with self._lock:
            entries = [m for _model, m in self._machines.values()]
        seen: dict[str, int] = {}
        for m in entries:
            seen[m.name] = seen.get(m.name, 0) + 1
        counters: dict[str, int] = {}
        out = []
        for m in sorted(entries, key=lambda m: m.name):
            if seen[m.name] > 1:
                counters[m.name] = counters.get(m.name, 0) + 1
                m = MachineCoverage(f"{m.name} #{counters[m.name]}", m.states, m.edges,
                                    m.executions, m.states_hit, m.edges_hit)
            out.append(m)
        return out

    def report(self) -> dict:
        """The JSON-ready report: one entry per machine."""
        return {"machines": [m.to_dict() for m in self.machines()]}


def format_report(machines: Iterable[MachineCoverage]) -> str:
    """A text report: per machine, the totals, then every state and edge never exercised."""
    lines = []
    for m in machines:
        by_kind = ", ".join(f"{k} {v['exercised']}/{v['total']}" for k, v in _by_kind(m).items())
        lines.append(f"{m.name}: {m.percent():.0f}% ({m.executions} executions) - states "
                     f"{len(m.states) - len(m.missing_states)}/{len(m.states)}"
                     + (f", edges: {by_kind}" if by_kind else ""))
        for state in m.missing_states:
            lines.append(f"  never entered: {state}")
        for edge in m.missing_edges:
            lines.append(f"  never taken:   {edge}")
    return "\n".join(lines) if lines else "no state machine was executed"
