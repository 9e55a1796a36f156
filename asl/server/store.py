"""What the server remembers: state machines, executions, their history and task tokens,
in SQLite (one file, or ``:memory:``).

One connection serves every thread; an RLock serialises its use (``with store.lock:``
makes several calls one atomic step). A file database runs in WAL mode, so another
process (a second server, ``sqlite3`` on the command line) can read it while this one
writes. Every write commits at once: an event recorded is an event on disk.

Timestamps are epoch seconds (floats). JSON columns hold compact JSON text.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any, Iterable

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state_machines (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    arn             TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    definition      TEXT NOT NULL,
    role_arn        TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (type IN ('STANDARD', 'EXPRESS')),
    creation_date   REAL NOT NULL,
    update_date     REAL NOT NULL,
    revision_id     TEXT NOT NULL,
    logging         TEXT NOT NULL,
    tracing         TEXT NOT NULL,
    encryption      TEXT NOT NULL,
    tags            TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS executions (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    arn                 TEXT NOT NULL UNIQUE,
    machine_id          INTEGER NOT NULL,
    state_machine_arn   TEXT NOT NULL,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL,
    input               TEXT NOT NULL,
    output              TEXT,
    error               TEXT,
    cause               TEXT,
    start_date          REAL NOT NULL,
    stop_date           REAL,
    trace_header        TEXT,
    -- the machine as this execution ran it (DescribeStateMachineForExecution)
    machine_name        TEXT NOT NULL,
    definition          TEXT NOT NULL,
    role_arn            TEXT NOT NULL,
    machine_update_date REAL NOT NULL,
    revision_id         TEXT NOT NULL,
    logging             TEXT NOT NULL,
    tracing             TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (machine_id, seq);
CREATE TABLE IF NOT EXISTS history_events (
    execution_arn   TEXT NOT NULL,
    id              INTEGER NOT NULL,
    event           TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_tokens (
    token           TEXT PRIMARY KEY,
    execution_arn   TEXT NOT NULL,
    state_name      TEXT,
    status          TEXT NOT NULL CHECK (status IN ('WAITING', 'CLOSED')),
    created         REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS task_tokens_by_execution ON task_tokens (execution_arn);
CREATE TABLE IF NOT EXISTS activities (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    arn             TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    creation_date   REAL NOT NULL,
    tags            TEXT NOT NULL DEFAULT '{}'
);
"""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _machine(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    machine = dict(row)
    for key in ("logging", "tracing", "encryption", "tags"):
        machine[key] = json.loads(machine[key])
    return machine


def _execution(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    execution = dict(row)
    for key in ("logging", "tracing"):
        execution[key] = json.loads(execution[key])
    return execution


class Store:
    """The server's SQLite database. ``path`` is a file name or ``":memory:"``."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self.lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # -- helpers ---------------------------------------------------------------------------

    def _one(self, sql: str, args: Iterable = ()) -> sqlite3.Row | None:
        with self.lock:
            return self._db.execute(sql, tuple(args)).fetchone()

    def _all(self, sql: str, args: Iterable = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        """Run the statements as one transaction, committed before returning."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self._db.execute(sql, args)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- state machines --------------------------------------------------------------------

    def machine(self, arn: str) -> dict | None:
        return _machine(self._one("SELECT * FROM state_machines WHERE arn = ?", (arn,)))

    def add_machine(self, *, arn: str, name: str, definition: str, role_arn: str, type: str,
                    creation_date: float, revision_id: str, logging: dict, tracing: dict,
                    encryption: dict, tags: dict) -> dict:
        self._write([(
            "INSERT INTO state_machines (arn, name, definition, role_arn, type, creation_date,"
            " update_date, revision_id, logging, tracing, encryption, tags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (arn, name, definition, role_arn, type, creation_date, creation_date, revision_id,
             _json(logging), _json(tracing), _json(encryption), _json(tags)))])
        return self.machine(arn)

    _MACHINE_FIELDS = {"definition": False, "role_arn": False, "update_date": False,
                       "revision_id": False, "logging": True, "tracing": True,
                       "encryption": True, "tags": True}

    def update_machine(self, arn: str, **fields: Any) -> None:
        sets, args = [], []
        for key, value in fields.items():
            is_json = self._MACHINE_FIELDS[key]     # KeyError: not a field one may set
            sets.append(f"{key} = ?")
            args.append(_json(value) if is_json else value)
        if sets:
            self._write([(f"UPDATE state_machines SET {', '.join(sets)} WHERE arn = ?",
                          (*args, arn))])

    def delete_machine(self, arn: str) -> None:
        self._write([("DELETE FROM state_machines WHERE arn = ?", (arn,))])

    def list_machines(self, after_id: int, limit: int) -> list[dict]:
        rows = self._all("SELECT * FROM state_machines WHERE id > ? ORDER BY id LIMIT ?",
                         (after_id, limit))
        return [_machine(row) for row in rows]

    # -- executions ------------------------------------------------------------------------

    def execution(self, arn: str) -> dict | None:
        return _execution(self._one("SELECT * FROM executions WHERE arn = ?", (arn,)))

    def add_execution(self, *, arn: str, machine: dict, name: str, input: str,
                      start_date: float, trace_header: str | None) -> None:
        self._write([(
            "INSERT INTO executions (arn, machine_id, state_machine_arn, name, status, input,"
            " start_date, trace_header, machine_name, definition, role_arn,"
            " machine_update_date, revision_id, logging, tracing)"
            " VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (arn, machine["id"], machine["arn"], name, input, start_date, trace_header,
             machine["name"], machine["definition"], machine["role_arn"],
             machine["update_date"], machine["revision_id"], _json(machine["logging"]),
             _json(machine["tracing"])))])

    def list_executions(self, machine_id: int, status: str | None, before_seq: int | None,
                        limit: int) -> list[dict]:
        sql = "SELECT * FROM executions WHERE machine_id = ?"
        args: list = [machine_id]
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if before_seq is not None:
            sql += " AND seq < ?"
            args.append(before_seq)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit)
        return [_execution(row) for row in self._all(sql, args)]

    def running_executions(self) -> list[dict]:
        return [_execution(r) for r in self._all(
            "SELECT * FROM executions WHERE status = 'RUNNING' ORDER BY seq")]

    def finish_execution(self, arn: str, *, status: str, output: str | None,
                         error: str | None, cause: str | None, stop_date: float,
                         events: list[dict] | None = None) -> None:
        """Close an execution: its status, and (when given) its whole history replacing
        what was recorded while it ran; its task tokens close too."""
        statements = [(
            "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_date = ?"
            " WHERE arn = ?", (status, output, error, cause, stop_date, arn))]
        if events is not None:
            statements.append(("DELETE FROM history_events WHERE execution_arn = ?", (arn,)))
            statements.extend(("INSERT INTO history_events (execution_arn, id, event)"
                               " VALUES (?, ?, ?)", (arn, event["id"], _json(event)))
                              for event in events)
        statements.append(("UPDATE task_tokens SET status = 'CLOSED' WHERE execution_arn = ?",
                           (arn,)))
        self._write(statements)

    # -- history ---------------------------------------------------------------------------

    def add_event(self, arn: str, event: dict) -> None:
        self._write([("INSERT OR REPLACE INTO history_events (execution_arn, id, event)"
                      " VALUES (?, ?, ?)", (arn, event["id"], _json(event)))])

    def last_event_id(self, arn: str) -> int:
        row = self._one("SELECT MAX(id) FROM history_events WHERE execution_arn = ?", (arn,))
        return row[0] or 0

    def events(self, arn: str, *, after: int | None, reverse: bool, limit: int) -> list[dict]:
        sql = "SELECT event FROM history_events WHERE execution_arn = ?"
        args: list = [arn]
        if after is not None:
            sql += " AND id < ?" if reverse else " AND id > ?"
            args.append(after)
        sql += f" ORDER BY id {'DESC' if reverse else 'ASC'} LIMIT ?"
        args.append(limit)
        return [json.loads(row[0]) for row in self._all(sql, args)]

    # -- task tokens -----------------------------------------------------------------------

    def add_token(self, token: str, execution_arn: str, state_name: str | None,
                  created: float) -> None:
        self._write([("INSERT OR IGNORE INTO task_tokens (token, execution_arn, state_name,"
                      " status, created) VALUES (?, ?, ?, 'WAITING', ?)",
                      (token, execution_arn, state_name, created))])

    def token(self, token: str) -> dict | None:
        row = self._one("SELECT * FROM task_tokens WHERE token = ?", (token,))
        return dict(row) if row is not None else None

    def close_token(self, token: str) -> None:
        self._write([("UPDATE task_tokens SET status = 'CLOSED' WHERE token = ?", (token,))])

    # -- activities ------------------------------------------------------------------------

    def activity(self, arn: str) -> dict | None:
        row = self._one("SELECT * FROM activities WHERE arn = ?", (arn,))
        if row is None:
            return None
        activity = dict(row)
        activity["tags"] = json.loads(activity["tags"])
        return activity

    def add_activity(self, arn: str, name: str, creation_date: float, tags: dict) -> dict:
        self._write([("INSERT INTO activities (arn, name, creation_date, tags)"
                      " VALUES (?, ?, ?, ?)", (arn, name, creation_date, _json(tags)))])
        return self.activity(arn)

    def delete_activity(self, arn: str) -> None:
        self._write([("DELETE FROM activities WHERE arn = ?", (arn,))])

    def list_activities(self, after_id: int, limit: int) -> list[dict]:
        rows = self._all("SELECT * FROM activities WHERE id > ? ORDER BY id LIMIT ?",
                         (after_id, limit))
        return [dict(row) for row in rows]
