"""Map Runs: DescribeMapRun, ListMapRuns and UpdateMapRun.

A Map Run is one run of a Distributed Map state. The engine keeps its facts as it goes,
in a :class:`asl.states.map.MapRunRecord` on the execution's run: the child workflow
executions (and items) per status, MaxConcurrency and the tolerated failures (which
UpdateMapRun changes in place, so the running Map obeys them), start and stop. Nothing
here runs a second interpreter or guesses from the history.

:class:`MapRuns` (one per :class:`~asl.server.service.Service`) answers from two places:

* a Map Run of an execution running in this server: its record, live;
* any other: the ``map_runs`` table of the server's SQLite store, written when a Map Run
  starts and again when it ends (the engine tells :data:`asl.states.map.MAP_RUN_OBSERVERS`,
  and the manager whose service runs that execution writes it). So a finished Map Run is
  described after its execution ended, and after the server restarted.

A Map Run stored RUNNING whose execution no longer runs (the server stopped under it) is
told ABORTED, stopped when its execution was.

The table lives in the store's database but belongs to this module: its schema and queries
are here, run on the store's connection under ``store.lock``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import weakref
from typing import Any

from asl.server.protocol import ApiError
from asl.states import map as map_state

__all__ = ["MapRuns", "manager"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS map_runs (
    arn             TEXT PRIMARY KEY,
    execution_arn   TEXT NOT NULL,
    start_date      REAL NOT NULL,
    record          TEXT NOT NULL      -- MapRunRecord.snapshot(), with the redrive facts
);
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs (execution_arn, start_date);
"""

_PARTITION = r"arn:aws[\w-]*"
#: ``arn:aws:states:<region>:<account>:mapRun:<machine>/<label or state>:<id>``
_MAP_RUN_ARN = re.compile(
    rf"^({_PARTITION}):states:([a-z0-9-]+):(\d{{12}}):mapRun:([^:/]+)/(.+):([^:]+)$")

#: DescribeMapRun's counts, in the service model's order.
_COUNTS = ("pending", "running", "succeeded", "failed", "timedOut", "aborted", "total",
           "resultsWritten")

#: Every live manager, so the engine's notices reach the one whose service runs the run.
_MANAGERS: "weakref.WeakSet[MapRuns]" = weakref.WeakSet()
_CREATE = threading.Lock()


def manager(service) -> "MapRuns":
    """The service's Map Runs (made on first use: the service makes it when it starts)."""
    found = getattr(service, "_map_runs", None)
    if found is None:
        with _CREATE:
            found = getattr(service, "_map_runs", None)
            if found is None:
                found = service._map_runs = MapRuns(service)
    return found


def _observe(event: str, record) -> None:
    """The engine's notice that a Map Run started or ended: its service stores it."""
    for owner in list(_MANAGERS):
        if owner.owns(record):
            owner.keep(event, record)
            return


map_state.MAP_RUN_OBSERVERS.append(_observe)


class MapRuns:
    """The Map Runs of one service: live records and the ``map_runs`` table."""

    def __init__(self, service) -> None:
        self.service = service
        self.store = service.store
        with self.store.lock:
            self.store._db.executescript(_SCHEMA)
        _MANAGERS.add(self)

    # -- the engine's notices ------------------------------------------------------------------

    def owns(self, record) -> bool:
        """Whether ``record``'s run is an execution of this service (a STANDARD one; a
        start waits for StartExecution to have registered it)."""
        service = self.service
        if getattr(service, "_closed", False) or not service._lock.acquire(timeout=5):
            return False
        try:
            live = service._live.get(record.execution_arn)
        finally:
            service._lock.release()
        return (live is not None and not live.express
                and getattr(live.execution, "_run", None) is record.run)

    def keep(self, event: str, record) -> None:
        """Store the record: when it starts (a redrive continues the stored Map Run: its
        first start, one redrive more) and when it ends."""
        with self.store.lock:
            if getattr(self.service, "_closed", False):      # the store may be closed too
                return
            row = self._row(record.arn) if event == "started" else None
            if row is not None:
                before = row["record"]
                if record.restarted:            # the same run, resumed by a new server
                    record.start = before["startDate"]
                    record.redrive_count = before.get("redriveCount", 0)
                    record.redrive_time = before.get("redriveDate")
                elif record.resumed:            # RedriveExecution resumed this Map Run
                    record.redrive_count = before.get("redriveCount", 0) + 1
                    record.redrive_time = record.start
                    record.start = before["startDate"]
            snapshot = record.snapshot()
            self._write("INSERT OR REPLACE INTO map_runs (arn, execution_arn, start_date,"
                        " record) VALUES (?, ?, ?, ?)",
                        (record.arn, record.execution_arn, snapshot["startDate"],
                         json.dumps(snapshot, separators=(",", ":"))))

    # -- the store -------------------------------------------------------------------------------

    def _write(self, sql: str, args: tuple) -> None:
        db = self.store._db
        with self.store.lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(sql, args)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _row(self, arn: str) -> dict | None:
        with self.store.lock:
            row = self.store._db.execute(
                "SELECT arn, execution_arn, record FROM map_runs WHERE arn = ?",
                (arn,)).fetchone()
        return None if row is None else {"arn": row[0], "execution_arn": row[1],
                                         "record": json.loads(row[2])}

    def _rows_of(self, execution_arn: str) -> list[dict]:
        with self.store.lock:
            rows = self.store._db.execute(
                "SELECT record FROM map_runs WHERE execution_arn = ? ORDER BY start_date, arn",
                (execution_arn,)).fetchall()
        return [json.loads(row[0]) for row in rows]

    # -- finding Map Runs --------------------------------------------------------------------------

    def _live_runs(self) -> list:
        """The engine runs of this service's STANDARD executions running now."""
        service = self.service
        with service._lock:
            lives = [live for live in service._live.values() if not live.express]
        return [(live.arn, getattr(live.execution, "_run", None)) for live in lives]

    def _live_records(self, execution_arn: str | None = None) -> dict:
        """Map Run ARN -> the record, for the runs now live (one execution's, if given)."""
        found = {}
        for arn, run in self._live_runs():
            if execution_arn is not None and arn != execution_arn:
                continue
            for record in list((getattr(run, "map_runs", None) or {}).values()):
                found[record.arn] = record
        return found

    def _snapshot(self, map_run_arn: str) -> tuple[dict | None, Any]:
        """(what is known of the Map Run, its live record or None)."""
        record = self._live_records().get(map_run_arn)
        if record is not None:
            return record.snapshot(), record
        row = self._row(map_run_arn)
        return (None, None) if row is None else (self._settled(row["record"]), None)

    def _settled(self, stored: dict) -> dict:
        """A stored Map Run: RUNNING only while its execution runs here."""
        if stored["status"] != "RUNNING":
            return stored
        live = {arn for arn, _run in self._live_runs()}
        if stored["executionArn"] in live:
            return stored
        execution = self.store.execution(stored["executionArn"])
        stored = dict(stored, status="ABORTED",
                      stopDate=execution["stop_date"] if execution else None)
        for key in ("executionCounts", "itemCounts"):
            counts = dict(stored[key])
            counts["aborted"] += counts["running"]
            counts["running"] = 0
            stored[key] = counts
        return stored

    # -- shapes --------------------------------------------------------------------------------

    def _redrivable(self, execution_arn: str) -> bool:
        row = self.store.execution(execution_arn)
        try:
            return row is not None and self.service._not_redrivable(row) is None
        except Exception:  # noqa: BLE001 - a service without redrive: nothing is
            return False

    def _described(self, known: dict) -> dict:
        ended = known["status"] != "RUNNING"
        not_redrivable = ended and not self._redrivable(known["executionArn"])
        response = {"mapRunArn": known["mapRunArn"], "executionArn": known["executionArn"],
                    "status": known["status"], "startDate": known["startDate"]}
        if known.get("stopDate") is not None and ended:
            response["stopDate"] = known["stopDate"]
        response.update({
            "maxConcurrency": known["maxConcurrency"],
            "toleratedFailurePercentage": float(known["toleratedFailurePercentage"]),
            "toleratedFailureCount": int(known["toleratedFailureCount"])})
        for key in ("itemCounts", "executionCounts"):
            counts = known[key]
            shaped = {name: int(counts.get(name, 0)) for name in _COUNTS}
            unsuccessful = shaped["failed"] + shaped["aborted"] + shaped["timedOut"]
            shaped["failuresNotRedrivable"] = unsuccessful if not_redrivable else 0
            shaped["pendingRedrive"] = (shaped["pending"] if not ended and known.get("resumed")
                                        and not known.get("restarted") else 0)
            response[key] = shaped
        response["redriveCount"] = int(known.get("redriveCount") or 0)
        if known.get("redriveDate") is not None:
            response["redriveDate"] = known["redriveDate"]
        return response

    @staticmethod
    def _list_item(known: dict) -> dict:
        match = _MAP_RUN_ARN.match(known["mapRunArn"])
        partition, region, account, machine, run_name = match.groups()[:5]
        item = {"executionArn": known["executionArn"], "mapRunArn": known["mapRunArn"],
                # the Map Run's own state machine: the machine, then the Label or state name
                "stateMachineArn": f"{partition}:states:{region}:{account}:stateMachine:"
                                   f"{machine}/{run_name}",
                "startDate": known["startDate"]}
        if known["status"] != "RUNNING" and known.get("stopDate") is not None:
            item["stopDate"] = known["stopDate"]
        return item

    # -- the actions -------------------------------------------------------------------------------

    @staticmethod
    def _check_arn(arn: str) -> None:
        if _MAP_RUN_ARN.match(arn) is None:
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this "
                                         f"context: {arn}'")

    @staticmethod
    def _not_found(arn: str) -> ApiError:
        return ApiError("ResourceNotFound", "Request references a resource that does not "
                                            f"exist: '{arn}'", resourceName=arn)

    def describe(self, p: dict) -> dict:
        arn = p["mapRunArn"]
        self._check_arn(arn)
        known, _record = self._snapshot(arn)
        if known is None:
            raise self._not_found(arn)
        return self._described(known)

    def list(self, p: dict) -> dict:
        execution_arn = p["executionArn"]
        self.service._require_execution(execution_arn)      # InvalidArn, ExecutionDoesNotExist
        limit = p.get("maxResults") or 100
        offset = _read_offset(p.get("nextToken"))
        runs = {known["mapRunArn"]: self._settled(known)
                for known in self._rows_of(execution_arn)}
        for arn, record in self._live_records(execution_arn).items():
            runs[arn] = record.snapshot()
        ordered = sorted(runs.values(), key=lambda known: (known["startDate"],
                                                           known["mapRunArn"]))
        response: dict = {"mapRuns": [self._list_item(known)
                                      for known in ordered[offset:offset + limit]]}
        if offset + limit < len(ordered):
            response["nextToken"] = _page_token(offset + limit)
        return response

    def update(self, p: dict) -> dict:
        arn = p["mapRunArn"]
        self._check_arn(arn)
        keys = ("maxConcurrency", "toleratedFailurePercentage", "toleratedFailureCount")
        if all(p.get(key) is None for key in keys):
            raise ApiError("ValidationException", "At least one of maxConcurrency, "
                           "toleratedFailurePercentage and toleratedFailureCount must be given",
                           reason="MISSING_REQUIRED_PARAMETER")
        known, record = self._snapshot(arn)
        if known is None:
            raise self._not_found(arn)
        if record is None or record.status != "RUNNING":
            raise ApiError("ValidationException", f"Map Run '{arn}' is {known['status']}: "
                           "only a running Map Run can be updated",
                           reason="CANNOT_UPDATE_COMPLETED_MAP_RUN")
        record.update(max_concurrency=p.get("maxConcurrency"),
                      tolerated_count=p.get("toleratedFailureCount"),
                      tolerated_percentage=p.get("toleratedFailurePercentage"))
        return {}


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _read_offset(token: str | None) -> int:
    if token is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except Exception:  # noqa: BLE001 - any malformed token is the client's
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ApiError("InvalidToken", f"Invalid Token: '{token}'")
    return offset
