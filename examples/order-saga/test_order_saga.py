"""The order saga end to end: real handlers, a real SQLite database, faults from the input."""

import importlib.util
from pathlib import Path

import pytest

import asl

HERE = Path(__file__).resolve().parent


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    monkeypatch.setenv("ORDER_SAGA_DB", str(tmp_path / "saga.db"))
    spec = importlib.util.spec_from_file_location("order_saga_handlers", HERE / "handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def machine():
    return asl.StateMachine.from_file(HERE / "order-saga.asl.json", name="OrderSaga")


def count(handlers, table, order_id="o-1"):
    with handlers.connect() as db:
        return db.execute(f"SELECT COUNT(*) FROM {table} WHERE order_id = ?", (order_id,)).fetchone()[0]


def test_happy_path_leaves_the_order_everywhere(machine, handlers):
    result = machine.execute({"order_id": "o-1"}, handlers.RESOURCES)
    assert result.status == "SUCCEEDED"
    assert result.output["payment"]["payment_id"].startswith("pay-")
    assert result.output["shipment"]["tracking_number"].startswith("TRK-")
    assert [count(handlers, t) for t in ("inventory", "payments", "shipments", "notifications")] == [1, 1, 1, 1]


@pytest.mark.parametrize("fail_at, compensations, error", [
    ("charge", ["CompensateReserve"], "PaymentDeclined"),
    ("ship", ["CompensateCharge", "CompensateReserve"], "ShipmentFailed"),
    ("notify", ["CompensateShip", "CompensateCharge", "CompensateReserve"], "NotificationFailed"),
])
def test_a_failure_compensates_every_completed_step_in_reverse(machine, handlers, fail_at,
                                                                 compensations, error):
    result = machine.execute({"order_id": "o-1", "fail_at": fail_at}, handlers.RESOURCES)
    assert (result.status, result.error, result.cause) == ("FAILED", "OrderFailed", "saga compensated")
    assert [s for s in result.states if s.startswith("Compensate")] == compensations
    assert result.states[-1] == "FailHandler"
    for table in ("inventory", "payments", "shipments", "notifications"):
        assert count(handlers, table) == 0, f"{table} still holds the order after fail_at={fail_at}"
    # The caught error travelled in the state data, as ResultPath "$.error" put it there.
    failed = [e for e in result.history if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == [error]


def test_a_failure_at_reserve_needs_no_compensation(machine, handlers):
    result = machine.execute({"order_id": "o-1", "fail_at": "reserve"}, handlers.RESOURCES)
    assert result.status == "FAILED"
    assert [s for s in result.states if s.startswith("Compensate")] == []
    assert count(handlers, "inventory") == 0


def test_the_scenario_script_prints_the_four_scenarios(capsys, monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("order_saga_scenarios", HERE / "scenarios.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.run_scenarios()
    assert [r[0] for r in rows] == ["(none)", "charge", "ship", "notify"]
    assert [r[1] for r in rows] == ["SUCCEEDED", "FAILED", "FAILED", "FAILED"]
    assert rows[0][4] == "inventory, payments, shipments, notifications"
    assert all(r[4] == "none" for r in rows[1:])
