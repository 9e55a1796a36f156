"""What the server remembers: state machines (with their versions and aliases),
executions, their history and task tokens, in SQLite (one file, or ``:memory:``).

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
CREATE TABLE IF NOT EXISTS state_machine_versions (
    arn             TEXT PRIMARY KEY,
    machine_arn     TEXT NOT NULL,
    number          INTEGER NOT NULL,
    definition      TEXT NOT NULL,
    role_arn        TEXT NOT NULL,
    type            TEXT NOT NULL,
    revision_id     TEXT NOT NULL,
    description     TEXT,
    creation_date   REAL NOT NULL,
    logging         TEXT NOT NULL,
    tracing         TEXT NOT NULL,
    encryption      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_by_machine ON state_machine_versions (machine_arn, number);
-- the last version number given out per machine: numbers are never reused
CREATE TABLE IF NOT EXISTS version_counters (
    machine_arn     TEXT PRIMARY KEY,
    last            INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS state_machine_aliases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    arn             TEXT NOT NULL UNIQUE,
    machine_arn     TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    routing         TEXT NOT NULL,
    creation_date   REAL NOT NULL,
    update_date     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS aliases_by_machine ON state_machine_aliases (machine_arn, id);
-- the version and alias an execution was started through (none: the unqualified ARN)
CREATE TABLE IF NOT EXISTS execution_qualifiers (
    execution_arn   TEXT PRIMARY KEY,
    version_arn     TEXT,
    alias_arn       TEXT
);
-- how often an execution was redriven, and when last
CREATE TABLE IF NOT EXISTS execution_redrives (
    execution_arn   TEXT PRIMARY KEY,
    redrive_count   INTEGER NOT NULL,
    redrive_date    REAL NOT NULL
);
-- how an execution runs: its task tokens' seed (stable across a restart), its mock test case
CREATE TABLE IF NOT EXISTS execution_runs (
    execution_arn   TEXT PRIMARY KEY,
    token_seed      TEXT NOT NULL,
    test_case       TEXT
);
-- the engine's journal of a run (asl.execution.Journal), in the order it was written:
-- what a restart rebuilds a RUNNING execution from, and a redrive a FAILED one
CREATE TABLE IF NOT EXISTS journal (
    execution_arn   TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    record          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS qualifiers_by_version ON execution_qualifiers (version_arn);
CREATE INDEX IF NOT EXISTS qualifiers_by_alias ON execution_qualifiers (alias_arn);
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
        """The machine, with its versions and aliases (as AWS's DeleteStateMachine)."""
        self._write([("DELETE FROM state_machines WHERE arn = ?", (arn,)),
                     ("DELETE FROM state_machine_versions WHERE machine_arn = ?", (arn,)),
                     ("DELETE FROM version_counters WHERE machine_arn = ?", (arn,)),
                     ("DELETE FROM state_machine_aliases WHERE machine_arn = ?", (arn,))])

    def list_machines(self, after_id: int, limit: int) -> list[dict]:
        rows = self._all("SELECT * FROM state_machines WHERE id > ? ORDER BY id LIMIT ?",
                         (after_id, limit))
        return [_machine(row) for row in rows]

    # -- executions ------------------------------------------------------------------------

    _QUALIFIED = ("SELECT e.*, q.version_arn AS version_arn, q.alias_arn AS alias_arn"
                  " FROM executions e LEFT JOIN execution_qualifiers q"
                  " ON q.execution_arn = e.arn")

    def execution(self, arn: str) -> dict | None:
        """An execution, with ``version_arn`` and ``alias_arn`` (None when started with
        the unqualified state machine ARN)."""
        return _execution(self._one(f"{self._QUALIFIED} WHERE e.arn = ?", (arn,)))

    def add_execution(self, *, arn: str, machine: dict, name: str, input: str,
                      start_date: float, trace_header: str | None,
                      version_arn: str | None = None, alias_arn: str | None = None) -> None:
        """``machine`` is what the execution runs: the state machine's row, or that row
        with a version's definition, role, revision and configuration."""
        qualifiers = []
        if version_arn is not None or alias_arn is not None:
            qualifiers.append(("INSERT OR REPLACE INTO execution_qualifiers"
                               " (execution_arn, version_arn, alias_arn) VALUES (?, ?, ?)",
                               (arn, version_arn, alias_arn)))
        self._write(qualifiers + [(
            "INSERT INTO executions (arn, machine_id, state_machine_arn, name, status, input,"
            " start_date, trace_header, machine_name, definition, role_arn,"
            " machine_update_date, revision_id, logging, tracing)"
            " VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (arn, machine["id"], machine["arn"], name, input, start_date, trace_header,
             machine["name"], machine["definition"], machine["role_arn"],
             machine["update_date"], machine["revision_id"], _json(machine["logging"]),
             _json(machine["tracing"])))])

    def list_executions(self, machine_id: int, status: str | None, before_seq: int | None,
                        limit: int, *, version_arn: str | None = None,
                        alias_arn: str | None = None) -> list[dict]:
        sql = f"{self._QUALIFIED} WHERE e.machine_id = ?"
        args: list = [machine_id]
        if status is not None:
            sql += " AND e.status = ?"
            args.append(status)
        if before_seq is not None:
            sql += " AND e.seq < ?"
            args.append(before_seq)
        if version_arn is not None:
            sql += " AND q.version_arn = ?"
            args.append(version_arn)
        if alias_arn is not None:
            sql += " AND q.alias_arn = ?"
            args.append(alias_arn)
        sql += " ORDER BY e.seq DESC LIMIT ?"
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

    def redrive_execution(self, arn: str, count: int, date: float) -> None:
        """The execution runs again (RedriveExecution): RUNNING, its outcome cleared."""
        self._write([
            ("UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL,"
             " cause = NULL, stop_date = NULL WHERE arn = ?", (arn,)),
            ("INSERT OR REPLACE INTO execution_redrives (execution_arn, redrive_count,"
             " redrive_date) VALUES (?, ?, ?)", (arn, count, date))])

    def redrives(self, arn: str) -> tuple[int, float | None]:
        """(redrive count, date of the last redrive) of an execution."""
        row = self._one("SELECT redrive_count, redrive_date FROM execution_redrives"
                        " WHERE execution_arn = ?", (arn,))
        return (row[0], row[1]) if row is not None else (0, None)

    # -- the engine's journal ----------------------------------------------------------------

    def add_run(self, arn: str, token_seed: str, test_case: str | None) -> None:
        self._write([("INSERT OR REPLACE INTO execution_runs (execution_arn, token_seed,"
                      " test_case) VALUES (?, ?, ?)", (arn, token_seed, test_case))])

    def run_of(self, arn: str) -> dict | None:
        row = self._one("SELECT * FROM execution_runs WHERE execution_arn = ?", (arn,))
        return dict(row) if row is not None else None

    def append_many(self, arn: str, records: list[tuple[int, str]]) -> None:
        """Journal records ``(seq, text)``, committed together before returning."""
        self._write([("INSERT INTO journal (execution_arn, seq, record) VALUES (?, ?, ?)",
                      (arn, seq, text)) for seq, text in records])

    def journal(self, arn: str) -> list:
        return [json.loads(r[0]) for r in self._all(
            "SELECT record FROM journal WHERE execution_arn = ? ORDER BY seq", (arn,))]

    def last_seq(self, arn: str) -> int:
        row = self._one("SELECT MAX(seq) FROM journal WHERE execution_arn = ?", (arn,))
        return row[0] or 0

    def drop_journal(self, arn: str) -> None:
        self._write([("DELETE FROM journal WHERE execution_arn = ?", (arn,))])

    def waiting_tokens(self, arn: str) -> list[str]:
        return [r[0] for r in self._all("SELECT token FROM task_tokens WHERE execution_arn = ?"
                                        " AND status = 'WAITING'", (arn,))]

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

    # -- versions --------------------------------------------------------------------------

    def version(self, arn: str) -> dict | None:
        row = self._one("SELECT * FROM state_machine_versions WHERE arn = ?", (arn,))
        return _version(row)

    def version_of_revision(self, machine_arn: str, revision_id: str) -> dict | None:
        row = self._one("SELECT * FROM state_machine_versions WHERE machine_arn = ? AND"
                        " revision_id = ? ORDER BY number DESC LIMIT 1",
                        (machine_arn, revision_id))
        return _version(row)

    def count_versions(self, machine_arn: str) -> int:
        row = self._one("SELECT COUNT(*) FROM state_machine_versions WHERE machine_arn = ?",
                        (machine_arn,))
        return row[0]

    def add_version(self, machine: dict, description: str | None,
                    creation_date: float) -> dict:
        """Publish the machine's current revision as its next version number (numbers
        are never given out twice, even after a version is deleted)."""
        with self.lock:
            row = self._one("SELECT last FROM version_counters WHERE machine_arn = ?",
                            (machine["arn"],))
            number = (row[0] if row is not None else 0) + 1
            arn = f"{machine['arn']}:{number}"
            self._write([
                ("INSERT OR REPLACE INTO version_counters (machine_arn, last) VALUES (?, ?)",
                 (machine["arn"], number)),
                ("INSERT INTO state_machine_versions (arn, machine_arn, number, definition,"
                 " role_arn, type, revision_id, description, creation_date, logging, tracing,"
                 " encryption) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (arn, machine["arn"], number, machine["definition"], machine["role_arn"],
                  machine["type"], machine["revision_id"], description, creation_date,
                  _json(machine["logging"]), _json(machine["tracing"]),
                  _json(machine["encryption"])))])
            return self.version(arn)

    def list_versions(self, machine_arn: str, below: int | None, limit: int) -> list[dict]:
        """Newest first (descending version number, which is creation order)."""
        sql = "SELECT * FROM state_machine_versions WHERE machine_arn = ?"
        args: list = [machine_arn]
        if below is not None:
            sql += " AND number < ?"
            args.append(below)
        sql += " ORDER BY number DESC LIMIT ?"
        args.append(limit)
        return [_version(row) for row in self._all(sql, args)]

    def delete_version(self, arn: str) -> None:
        self._write([("DELETE FROM state_machine_versions WHERE arn = ?", (arn,))])

    # -- aliases ---------------------------------------------------------------------------

    def alias(self, arn: str) -> dict | None:
        return _alias(self._one("SELECT * FROM state_machine_aliases WHERE arn = ?", (arn,)))

    def count_aliases(self, machine_arn: str) -> int:
        row = self._one("SELECT COUNT(*) FROM state_machine_aliases WHERE machine_arn = ?",
                        (machine_arn,))
        return row[0]

    def add_alias(self, *, arn: str, machine_arn: str, name: str, description: str | None,
                  routing: list[dict], creation_date: float) -> dict:
        self._write([("INSERT INTO state_machine_aliases (arn, machine_arn, name, description,"
                      " routing, creation_date, update_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (arn, machine_arn, name, description, _json(routing), creation_date,
                       creation_date))])
        return self.alias(arn)

    def update_alias(self, arn: str, *, update_date: float, description: Any = ...,
                     routing: Any = ...) -> None:
        sets, args = ["update_date = ?"], [update_date]
        if description is not ...:
            sets.append("description = ?")
            args.append(description)
        if routing is not ...:
            sets.append("routing = ?")
            args.append(_json(routing))
        self._write([(f"UPDATE state_machine_aliases SET {', '.join(sets)} WHERE arn = ?",
                      (*args, arn))])

    def delete_alias(self, arn: str) -> None:
        self._write([("DELETE FROM state_machine_aliases WHERE arn = ?", (arn,))])

    def list_aliases(self, machine_arn: str, below_id: int | None, limit: int) -> list[dict]:
        """Newest first."""
        sql = "SELECT * FROM state_machine_aliases WHERE machine_arn = ?"
        args: list = [machine_arn]
        if below_id is not None:
            sql += " AND id < ?"
            args.append(below_id)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [_alias(row) for row in self._all(sql, args)]


def _version(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    version = dict(row)
    for key in ("logging", "tracing", "encryption"):
        version[key] = json.loads(version[key])
    return version


def _alias(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    alias = dict(row)
    alias["routing"] = json.loads(alias["routing"])
    return alias
