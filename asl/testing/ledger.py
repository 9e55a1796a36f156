"""A ledger of side effects, and the saga property it must satisfy after an execution.

Test handlers record what they do: ``ledger.do("payment:o-1")`` when a forward step takes
effect, ``ledger.undo("payment:o-1")`` when its compensation reverses it. After the run,
:func:`assert_compensated` checks the saga property: a run that succeeded left every
effect in place; a run that failed left none, each undone exactly once, in the reverse
order of the dos, and nothing was undone that was never done.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Ledger", "LedgerEvent", "assert_compensated", "compensation_violations"]

DO = "do"
UNDO = "undo"


@dataclass(frozen=True)
class LedgerEvent:
    kind: str                 # "do" or "undo"
    effect: str
    info: dict = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"{self.kind} {self.effect}"


class Ledger:
    """Thread-safe record of forward effects and their compensations, in call order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[LedgerEvent] = []

    def do(self, effect_id: str, **info: Any) -> None:
        """A forward step took effect."""
        with self._lock:
            self._events.append(LedgerEvent(DO, effect_id, info))

    def undo(self, effect_id: str, **info: Any) -> None:
        """A compensation reversed ``effect_id`` (recorded even if it was never done:
        that is a violation :func:`assert_compensated` reports)."""
        with self._lock:
            self._events.append(LedgerEvent(UNDO, effect_id, info))

    def undo_if_done(self, effect_id: str, **info: Any) -> bool:
        """An idempotent compensation: reverse ``effect_id`` only if it is in place (what a
        compensation of a Parallel group's step must do: the catch cannot know which
        branch got how far). Returns whether it undid something."""
        with self._lock:
            if effect_id not in _left(self._events):
                return False
            self._events.append(LedgerEvent(UNDO, effect_id, info))
            return True

    def is_done(self, effect_id: str) -> bool:
        """Whether ``effect_id`` is in place now."""
        return effect_id in self.effects_left()

    def effects_left(self) -> list[str]:
        """Effects done and not undone, in the order they were done."""
        with self._lock:
            return _left(self._events)

    @property
    def events(self) -> list[LedgerEvent]:
        with self._lock:
            return list(self._events)

    def reset(self) -> None:
        """Forget everything (between executions)."""
        with self._lock:
            self._events.clear()

    def __repr__(self) -> str:
        return f"Ledger({', '.join(str(e) for e in self.events)})"


def _left(events: list[LedgerEvent]) -> list[str]:
    left: list[str] = []
    for event in events:
        if event.kind == DO:
            left.append(event.effect)
        elif event.effect in left:
            # The most recent do of this effect is the one undone.
            del left[len(left) - 1 - left[::-1].index(event.effect)]
    return left


def compensation_violations(result, ledger: Ledger) -> list[str]:
    """Every way the run broke the saga property (empty when it holds).

    ``result`` is an ExecutionResult (or anything with ``.status``, such as a FaultRun's
    ``.result``). SUCCEEDED: nothing may be undone. Any other status (FAILED, TIMED_OUT,
    ABORTED): every effect done must be undone exactly once, undos in the reverse order
    of the dos. Always: no undo of something not in place at that moment.
    """
    status = getattr(result, "status", result)
    events = ledger.events
    problems: list[str] = []
    in_place: list[str] = []
    done_at: dict[str, int] = {}
    undone: list[str] = []
    for i, event in enumerate(events):
        if event.kind == DO:
            in_place.append(event.effect)
            done_at.setdefault(event.effect, i)
            continue
        if event.effect not in in_place:
            what = "was undone again" if event.effect in undone else "was never done"
            problems.append(f"undo of '{event.effect}' (event {i + 1}), which {what}")
            continue
        in_place.remove(event.effect)
        undone.append(event.effect)
    if status == "SUCCEEDED":
        problems.extend(f"'{effect}' was undone although the execution SUCCEEDED"
                        for effect in dict.fromkeys(undone))
        return problems
    problems.extend(f"'{effect}' is still in place after a {status} execution "
                    "(never compensated)" for effect in in_place)
    # Reverse order: of two undone effects, the one done later is undone first.
    for i, a in enumerate(undone):
        for b in undone[i + 1:]:
            if done_at.get(a, 0) < done_at.get(b, 0):
                problems.append(f"'{a}' was undone before '{b}', although '{b}' was done "
                                "after it (compensations must run in reverse order)")
    return problems


def assert_compensated(result, ledger: Ledger, context: str | None = None) -> None:
    """Raise AssertionError listing every violation of the saga property.

    ``result`` is an ExecutionResult or a :class:`~asl.testing.faults.FaultRun` (whose
    ``describe()`` is added to the message, with the ledger's events).
    """
    execution = getattr(result, "result", result)
    problems = compensation_violations(execution, ledger)
    if not problems:
        return
    lines = [f"saga property violated ({execution.status}"
             + (f": {execution.error}" if getattr(execution, "error", None) else "") + "):"]
    lines.extend(f"  - {p}" for p in problems)
    lines.append("ledger: " + (", ".join(str(e) for e in ledger.events) or "(empty)"))
    if hasattr(result, "describe"):
        lines.append(result.describe())
    if context:
        lines.append(context)
    raise AssertionError("\n".join(lines))
