"""The engine's Journal (:class:`asl.execution.Journal`) kept in the server's store.

Each record is committed as it is written, before the run moves on: after a ``kill -9``
the server rebuilds every RUNNING execution from its records (``StateMachine._restore``)
and the same run loop goes on where it was.
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
    """The journal of one execution, appended to ``store``."""

    def __init__(self, store: Store, arn: str, stopped: threading.Event) -> None:
        self.store = store
        self.arn = arn
        self._seq = itertools.count(store.last_seq(arn) + 1)
        self._lock = threading.Lock()
        self._stopped = stopped      # set when the server stops recording (Service.close)

    def _append(self, record: list) -> None:
        text = _encode(record)
        with self._lock:     # seq order is write order: causes come before their effects
            if not self._stopped.is_set():
                self.store.append(self.arn, next(self._seq), text)

    def event(self, path: tuple, event: tuple, own: bool) -> None:
        self._append(["event", path, event, own])

    def record(self, kind: str, path: tuple, body: Any) -> None:
        self._append([kind, path, body])
