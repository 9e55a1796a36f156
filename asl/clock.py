"""Time, injected: the real clock, and a virtual one for tests.

An execution never calls ``time`` directly: Wait states, Retry back-off, timeouts,
``$$.State.EnteredTime`` and history timestamps all go through a clock.

Clocks *fork*: each Parallel branch and Map iteration gets its own view of time, so that
under the :class:`VirtualClock` two branches that each wait 10 s take 10 s together, not
20 s, exactly as they would on AWS. The parent then resumes at the latest branch's time.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RecordedWait:
    """One wait the VirtualClock skipped: who waited, why, and for how long."""

    state: str
    kind: str             # "Wait", "Retry" or "Task" (a task's simulated duration)
    seconds: float        # the delay actually applied (after MaxDelaySeconds and jitter)
    intended: float       # the delay before jitter
    at: float             # virtual epoch seconds when the wait started


class RealClock:
    """Wall-clock time; sleeps really sleep (the frame polls its stop signal between
    short sleeps, so the clock itself need not be interruptible)."""

    virtual = False

    time = staticmethod(time.time)      # the C function itself: read ~35 times a run

    def sleep(self, seconds: float, *, state: str = "", kind: str = "Wait",
              intended: float | None = None) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def fork(self) -> "RealClock":
        return self

    def join(self, forks) -> None:
        pass

    def jitter(self, upper: float) -> float:
        return random.uniform(0, upper)


class VirtualClock:
    """Simulated time: waits return at once, advance the clock and are recorded.

    ``VirtualClock(start=0.0, seed=0)``: ``start`` is the epoch second the clock starts at
    (default: the real time when it is made), ``seed`` drives JitterStrategy FULL so a
    test can assert on an exact retry schedule. ``waits`` lists every wait skipped, in
    the order the waits started.
    """

    virtual = True

    def __init__(self, start: float | None = None, seed: int | None = 0) -> None:
        self._now = time.time() if start is None else float(start)
        self._seed = seed
        self._random: random.Random | None = None   # made at the first jitter: seeding costs
        self._lock = threading.Lock()
        self.waits: list[RecordedWait] = []

    def time(self) -> float:
        return self._now

    def sleep(self, seconds: float, *, state: str = "", kind: str = "Wait",
              intended: float | None = None) -> None:
        seconds = max(0.0, seconds)
        with self._lock:
            self.waits.append(RecordedWait(state, kind, seconds,
                                           seconds if intended is None else intended, self._now))
        self._now += seconds

    def advance(self, seconds: float) -> None:
        """Move time forward, as if something outside the machine took that long."""
        self._now += max(0.0, seconds)

    def fork(self) -> "VirtualClock":
        child = VirtualClock.__new__(VirtualClock)
        child._now = self._now
        child._seed = self._seed
        child._random = self._generator()       # one sequence for the clock and its forks
        child._lock = self._lock
        child.waits = self.waits
        return child

    def join(self, forks) -> None:
        for f in forks:
            if f._now > self._now:
                self._now = f._now

    def _generator(self) -> random.Random:
        with self._lock:
            if self._random is None:
                self._random = random.Random(self._seed)
            return self._random

    def jitter(self, upper: float) -> float:
        generator = self._generator()
        with self._lock:
            return generator.uniform(0, upper)

    @property
    def schedule(self) -> list[tuple[str, str, float]]:
        """The waits as ``(state, kind, seconds)`` tuples: handy in assertions."""
        return [(w.state, w.kind, w.seconds) for w in self.waits]
