"""Execution history: recorded compactly while running, shaped like AWS's when read.

While an execution runs, an event is a tuple ``(id, type, time, previous_id, details)``
whose details hold Python values, not JSON text: recording costs a tuple and a small
dict. :meth:`History.events` turns them into AWS's HistoryEvent dicts (``id``,
``previousEventId``, ``timestamp``, ``type``, ``<type>EventDetails`` with payloads as JSON
strings) only when somebody reads them. Values are safe to keep by reference because
the interpreter never mutates a payload in place.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

from asl.payload import dumps

#: Standard workflows fail once their history would exceed this many events.
MAX_EVENTS = 25_000

# Detail fields that hold a JSON payload: AWS gives them as JSON text plus a
# ``<field>Details: {"truncated": false}`` companion (parameters has none).
_PAYLOAD_FIELDS = ("input", "output")
_JSON_FIELDS = ("input", "output", "parameters")


def _details_key(event_type: str) -> str:
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


def iso_timestamp(epoch: float) -> str:
    """An epoch time as ISO-8601 UTC with milliseconds, the way the console shows it."""
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class HistoryLimitExceeded(Exception):
    """The execution tried to record more than MAX_EVENTS events."""


class History:
    """The append-only event log of one execution (thread-safe appends)."""

    __slots__ = ("_events", "_ids", "limit")

    def __init__(self, limit: int | None = MAX_EVENTS) -> None:
        self._events: list[tuple] = []
        self._ids = itertools.count(1)   # next() is atomic in CPython: ids never repeat
        self.limit = limit

    def add(self, event_type: str, time: float, previous: int, details: dict | None = None) -> int:
        """Record an event; returns its id (to pass as ``previous`` to the next one)."""
        event_id = next(self._ids)
        limit = self.limit
        # The last of the MAX_EVENTS places is kept for the event that closes the execution.
        if limit is not None and event_id >= limit:
            self._ids = itertools.count(event_id)   # the id goes to the closing event
            raise HistoryLimitExceeded()
        self._events.append((event_id, event_type, time, previous, details))
        return event_id

    def __len__(self) -> int:
        return len(self._events)

    def continued(self) -> "History":
        """A copy that goes on from the last event (a redrive's history)."""
        history = History(self.limit if self.limit is not None else MAX_EVENTS)
        history._events = list(self._events)
        history._ids = itertools.count(len(self._events) + 1)
        return history

    def types(self) -> list[str]:
        """The event types in order: cheap, for assertions and traces."""
        return [e[1] for e in sorted(self._events)]

    def events(self) -> list[dict]:
        """The history as AWS's GetExecutionHistory returns it."""
        return [shape(event) for event in sorted(self._events)]

    def raw(self) -> list[tuple]:
        """The compact events, in id order (what a durable host stores)."""
        return sorted(self._events)

    @classmethod
    def restored(cls, events: list[tuple]) -> "History":
        """A history that goes on from compact events a host stored (a restart)."""
        history = cls()
        history._events = [tuple(e) for e in events]
        history._ids = itertools.count(max((e[0] for e in events), default=0) + 1)
        return history


def shape(event: tuple) -> dict:
    """One compact event as AWS's HistoryEvent."""
    event_id, event_type, time, previous, details = event
    shaped_event = {"id": event_id, "previousEventId": previous,
                    "timestamp": iso_timestamp(time), "type": event_type}
    if details is not None:
        shaped = {}
        for key, value in details.items():
            if key in _JSON_FIELDS:
                shaped[key] = dumps(value)
                if key in _PAYLOAD_FIELDS:
                    shaped[key + "Details"] = {"truncated": False}
            elif key == "assignedVariables":
                shaped[key] = {k: dumps(v) for k, v in value.items()}
                shaped["assignedVariablesDetails"] = {"truncated": False}
            else:
                shaped[key] = value
        shaped_event[_details_key(event_type)] = shaped
    return shaped_event
