"""Retry and Catch: what happens when a Task, Parallel or Map state fails.

The algorithm (AWS developer guide, "Handling errors"):

* ``States.Runtime`` is never retried nor caught.
* The *first* retrier whose ErrorEquals matches decides: if its MaxAttempts are not used
  up, wait ``IntervalSeconds * BackoffRate ** (attempt - 1)`` (capped by MaxDelaySeconds,
  then scaled by a random factor under JitterStrategy FULL) and run the state again.
  Counters are per retrier and last for one visit of the state.
* Otherwise (no retrier matches, or the first matching one is exhausted: there is no
  fall-through to later retriers) the first matching catcher routes to its Next, with
  the Error Output placed by its ResultPath into the state's raw input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from asl.errors import RUNTIME, StatesError, matches
from asl.language.paths import ABSENT, compile_result_path, compile_template
from asl.payload import check_size
from asl.states.base import Frame, State, Step
from asl.states.io import jsonata_field, states_variable


#: No wait can outlast an execution, which runs one year at most; a longer delay would
#: only push virtual time past what datetime (and the history) can show.
LONGEST_DELAY = 366 * 86400.0


@dataclass(frozen=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: bool = False

    def delay(self, attempt: int) -> float:
        """The wait before retry number ``attempt`` (1-based), before jitter."""
        try:
            seconds = self.interval_seconds * self.backoff_rate ** (attempt - 1)
        except OverflowError:       # BackoffRate 2 past ~1,000 attempts
            seconds = float("inf")
        if self.max_delay_seconds is not None:
            seconds = min(seconds, self.max_delay_seconds)
        return min(seconds, LONGEST_DELAY)


@dataclass(frozen=True)
class Catcher:
    """A compiled catcher. JSONPath: ``place`` is its ResultPath, ``assign`` a template
    over the Error Output. JSONata: ``output`` and ``assign`` are evaluated over
    ``$states`` (with ``errorOutput``); without Output the Error Output is the output."""

    error_equals: tuple[str, ...]
    next: str
    place: Callable[[Any, Any], Any] | None = None
    assign: Callable | None = None
    jsonata: bool = False
    output: Callable | None = None


def compile_retriers(definitions) -> tuple[Retrier, ...]:
    return tuple(
        Retrier(
            error_equals=tuple(r["ErrorEquals"]),
            interval_seconds=r.get("IntervalSeconds", 1),
            max_attempts=r.get("MaxAttempts", 3),
            backoff_rate=r.get("BackoffRate", 2.0),
            max_delay_seconds=r.get("MaxDelaySeconds"),
            jitter=r.get("JitterStrategy", "NONE") == "FULL",
        )
        for r in definitions or ()
    )


def compile_catchers(definitions, jsonata: bool = False) -> tuple[Catcher, ...]:
    """Compile Catch (in the state's query language)."""
    if jsonata:
        return tuple(
            Catcher(error_equals=tuple(c["ErrorEquals"]), next=c["Next"], jsonata=True,
                    output=jsonata_field(c, "Output"), assign=jsonata_field(c, "Assign"))
            for c in definitions or ())
    return tuple(
        Catcher(
            error_equals=tuple(c["ErrorEquals"]),
            next=c["Next"],
            place=compile_result_path(c.get("ResultPath", ABSENT)),
            assign=compile_template(c["Assign"]) if "Assign" in c else None,
        )
        for c in definitions or ()
    )


def find_retrier(retriers, error: str) -> int | None:
    """Index of the first retrier matching ``error`` (it alone decides), or None."""
    for i, retrier in enumerate(retriers):
        if matches(retrier.error_equals, error):
            return i
    return None


def find_catcher(catchers, error: str) -> Catcher | None:
    for catcher in catchers:
        if matches(catcher.error_equals, error):
            return catcher
    return None


def run_with_retry(state: State, frame: Frame, raw: Any, retriers: tuple[Retrier, ...],
                   catchers: tuple[Catcher, ...], attempt: Callable[[], Step]) -> Step:
    """Run ``attempt()`` (one try of the state's work, to its exit) under its Retry and
    Catch rules: the per-state pipeline of Task, Parallel and Map, read top-down."""
    # After a restart in a back-off: what is left of it is waited out, counts kept.
    counters = frame.resumed_retries(state) or [0] * len(retriers)
    while True:
        try:
            return attempt()
        except StatesError as exc:
            frame.locate(exc)
            error = exc.error or ""
            if error == RUNTIME:
                raise
            index = find_retrier(retriers, error)
            if index is not None:
                retrier = retriers[index]
                if counters[index] < retrier.max_attempts:
                    counters[index] += 1
                    delay = retrier.delay(counters[index])
                    applied = frame.clock.jitter(delay) if retrier.jitter else delay
                    frame.retrying(state, exc, applied, delay, counters)
                    continue
            catcher = find_catcher(catchers, error)
            if catcher is None:
                raise
            return _caught(state, frame, raw, exc, catcher)


def _caught(state: State, frame: Frame, raw: Any, exc: StatesError, catcher: Catcher) -> Step:
    """The Catcher's transition: its output from the Error Output, its Assign, its Next."""
    error_output = exc.error_output()
    if catcher.jsonata:      # Output and Assign over $states, errorOutput included
        states = states_variable(frame, raw, errorOutput=error_output)
        output = catcher.output(states, frame) if catcher.output else error_output
        assigned = catcher.assign(states, frame) if catcher.assign else None
    else:                    # ResultPath places the Error Output into the raw input
        output = catcher.place(raw, error_output)
        assigned = catcher.assign(error_output, frame) if catcher.assign else None
    frame.caught(state, exc, catcher.next)
    size = check_size(output, state.name)
    frame.exit(state, output, assigned)
    return catcher.next, output, size
