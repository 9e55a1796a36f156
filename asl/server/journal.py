"""The engine's Journal (:class:`asl.execution.Journal`) kept in the server's store.

The records of a run are committed whenever it flushes (at each state transition, and
before it calls out or waits):
after a ``kill -9`` the server rebuilds every RUNNING execution from its records
(``StateMachine._restore``) and the same run loop goes on where it was.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from asl.server.store import Store

__all__ = ["StoreJournal"]

# One encoder for every record: json.dumps with options builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class StoreJournal:
    """The journal of one execution, appended to ``store``: records are kept in order
    and written in one transaction when the run flushes (each transition, and before it
    calls out or waits), so a Task state costs two commits, not one per record."""

    def __init__(self, store: Store, arn: str, stopped: threading.Event) -> None:
        self.store = store
        self.arn = arn
        self._seq = itertools.count(store.last_seq(arn) + 1)
        self._pending: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._stopped = stopped      # set when the server stops recording (Service.close)

    def _append(self, record: list) -> None:
        text = _encode(record)
        with self._lock:     # seq order is write order: causes come before their effects
            self._pending.append((next(self._seq), text))

    def event(self, path: tuple, event: tuple, own: bool) -> None:
        self._append(["event", path, event, own])

    def record(self, kind: str, path: tuple, body: Any) -> None:
        self._append([kind, path, body])

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            if pending and not self._stopped.is_set():
                self.store.append_many(self.arn, pending)
