"""The four-step order saga written in JSONata behaves exactly as its JSONPath twin.

Both definitions run with the same handlers (``examples/order-saga/handlers.py``, each
run on a fresh SQLite database) in the four scenarios: no fault, and a fault at charge,
ship or notify. They must end with the same status, output, error and cause, enter the
same states in the same order, hand every handler the same input, and leave the same
rows in the database.

The handlers draw payment and tracking ids from ``uuid.uuid4``, and a Lambda failure's
cause carries a fresh ``requestId``: both are made deterministic, so that whole outputs
can be compared rather than their shapes.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import sqlite3
import uuid
from pathlib import Path

import pytest

import asl

SAGA = Path(__file__).resolve().parents[3] / "examples" / "order-saga"
TABLES = ("inventory", "payments", "shipments", "notifications")
SCENARIOS = (None, "charge", "ship", "notify")


def load_handlers():
    """A private instance of the example's handlers module, loaded from its path."""
    spec = importlib.util.spec_from_file_location("order_saga_twin_handlers", SAGA / "handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _CountingUuid:
    """Stands in for the ``uuid`` module inside the handlers: uuid4() counts up."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._numbers))


class _Recorder:
    """Wraps a handler: records the input it got, then calls it."""

    def __init__(self, name: str, handler, calls: list) -> None:
        self.name, self.handler, self.calls = name, handler, calls

    def __call__(self, payload):
        self.calls.append((self.name, _normalised(payload)))
        return self.handler(payload)


_REQUEST_ID = re.compile(r'"requestId": "[0-9a-f-]{36}"')


def _normalised(value):
    """The payload with the random requestId of a Lambda error cause blanked."""
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    if isinstance(value, str):
        return _REQUEST_ID.sub('"requestId": "<id>"', value)
    return value


@pytest.fixture(scope="module")
def machines():
    return {
        "JSONPath": asl.StateMachine.from_file(SAGA / "order-saga.asl.json", name="OrderSaga"),
        "JSONata": asl.StateMachine.from_file(SAGA / "order-saga.jsonata.asl.json", name="OrderSaga"),
    }


def run_saga(machine, fail_at, database: Path, monkeypatch):
    monkeypatch.setenv("ORDER_SAGA_DB", str(database))
    handlers = load_handlers()
    handlers.uuid = _CountingUuid()
    calls: list = []
    resources = {name: _Recorder(name, handler, calls) for name, handler in handlers.RESOURCES.items()}
    order = {"order_id": "o-1", "sku": "SKU-1", "amount": 42.0}
    if fail_at:
        order["fail_at"] = fail_at
    result = machine.execute(order, resources, clock=asl.VirtualClock(start=1_700_000_000),
                             name="saga-1")
    with sqlite3.connect(database) as db:
        rows = {table: db.execute(f"SELECT * FROM {table} ORDER BY order_id").fetchall()
                for table in TABLES}
    return result, calls, rows


def test_the_twin_is_the_same_saga_written_in_jsonata():
    jsonpath = json.loads((SAGA / "order-saga.asl.json").read_text())
    jsonata = json.loads((SAGA / "order-saga.jsonata.asl.json").read_text())
    assert jsonata["QueryLanguage"] == "JSONata" and "QueryLanguage" not in jsonpath
    assert list(jsonata["States"]) == list(jsonpath["States"])
    for name, state in jsonpath["States"].items():
        twin = jsonata["States"][name]
        for field in ("Type", "Resource", "Next", "End", "Retry", "Error", "Cause"):
            assert twin.get(field) == state.get(field), (name, field)
        assert [c["Next"] for c in twin.get("Catch", [])] == [c["Next"] for c in state.get("Catch", [])]
    assert asl.validate(SAGA / "order-saga.jsonata.asl.json") == []


@pytest.mark.parametrize("fail_at", SCENARIOS, ids=lambda f: f"fail_at={f}")
def test_jsonata_twin_behaves_as_the_jsonpath_saga(machines, fail_at, tmp_path, monkeypatch):
    outcomes = {}
    for language, machine in machines.items():
        outcomes[language] = run_saga(machine, fail_at, tmp_path / f"{language}.db", monkeypatch)
    (path_result, path_calls, path_rows) = outcomes["JSONPath"]
    (ata_result, ata_calls, ata_rows) = outcomes["JSONata"]

    assert ata_result.status == path_result.status
    assert ata_result.output == path_result.output
    assert json.dumps(ata_result.output) == json.dumps(path_result.output)   # same key order
    assert (ata_result.error, ata_result.cause) == (path_result.error, path_result.cause)
    assert ata_result.states == path_result.states
    assert ata_calls == path_calls
    assert ata_rows == path_rows

    # And the scenario is the one intended, so that the comparison compares something.
    if fail_at is None:
        assert path_result.status == "SUCCEEDED"
        assert set(path_result.output) == {"order_id", "sku", "amount", "reservation", "payment",
                                           "shipment", "notification"}
    else:
        assert (path_result.status, path_result.error, path_result.cause) == \
            ("FAILED", "OrderFailed", "saga compensated")
        assert path_result.states[-1] == "FailHandler"
        assert all(not rows for rows in path_rows.values())
        compensation_inputs = [payload for name, payload in path_calls
                               if name in ("cancel-shipment", "refund-payment", "release-inventory")]
        assert compensation_inputs and all("error" in payload for payload in compensation_inputs)


@pytest.mark.parametrize("fail_at", SCENARIOS, ids=lambda f: f"fail_at={f}")
def test_both_twins_record_the_same_state_outputs(machines, fail_at, tmp_path, monkeypatch):
    """State by state, the ...StateExited outputs are the same in both histories."""
    exits = {}
    for language, machine in machines.items():
        result, _, _ = run_saga(machine, fail_at, tmp_path / f"{language}.db", monkeypatch)
        exits[language] = [(e["type"], e["stateExitedEventDetails"]["name"],
                            _normalised(json.loads(e["stateExitedEventDetails"]["output"])))
                           for e in result.history if e["type"].endswith("StateExited")]
    assert exits["JSONata"] == exits["JSONPath"]
    assert exits["JSONPath"], "no state exited"
