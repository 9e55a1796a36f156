"""The order saga end to end: real handlers, a real SQLite database, faults from the input;
then every fault plan hypothesis can draw, checked on the handlers' ledger, and the
`asl faults` table of the README."""

import importlib.util
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings

import asl
from asl.testing import assert_compensated, fault_plans, run_with_faults

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MACHINE = asl.StateMachine.from_file(HERE / "order-saga.asl.json", name="OrderSaga")
COMPENSATIONS = ["CompensateShip", "CompensateCharge", "CompensateReserve"]
#: The table that holds each effect the ledger records.
TABLE_OF = {"reservation": "inventory", "payment": "payments", "shipment": "shipments",
            "notification": "notifications"}


def load_handlers():
    spec = importlib.util.spec_from_file_location("order_saga_handlers", HERE / "handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    monkeypatch.setenv("ORDER_SAGA_DB", str(tmp_path / "saga.db"))
    return load_handlers()


@pytest.fixture(scope="module")
def machine():
    return MACHINE


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


# -- every fault plan: the saga property on the ledger ------------------------------------------

SAGA = load_handlers()


@contextmanager
def fresh_database():
    """ORDER_SAGA_DB pointing at a new, empty database for one execution."""
    saved = os.environ.get("ORDER_SAGA_DB")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ORDER_SAGA_DB"] = str(Path(tmp) / "saga.db")
        try:
            yield
        finally:
            if saved is None:
                del os.environ["ORDER_SAGA_DB"]
            else:
                os.environ["ORDER_SAGA_DB"] = saved


@settings(max_examples=150, deadline=None)
@given(plan=fault_plans(MACHINE, max_faults=2, transient=COMPENSATIONS))
def test_whatever_fails_every_completed_step_is_undone_once_in_reverse(plan):
    """Any step failing with any error, on any attempt, with compensations failing too (but
    less often than their Retry allows): a SUCCEEDED run keeps every effect, any other
    undoes each completed one exactly once, in reverse order."""
    SAGA.LEDGER.reset()
    with fresh_database():
        run = run_with_faults(MACHINE, SAGA.RESOURCES, plan, {"order_id": "o-1"})
        # The ledger tells the truth: the tables still holding the order are its effects.
        held = {table for table in TABLE_OF.values() if count(SAGA, table)}
    assert held == {TABLE_OF[effect.split(":")[0]] for effect in SAGA.LEDGER.effects_left()}
    assert_compensated(run, SAGA.LEDGER)


# -- the README shows what `asl faults` prints --------------------------------------------------

def test_the_readme_shows_what_asl_faults_prints(readme_faults):
    # A sound saga: no PROBLEM line, exit status 0.
    assert readme_faults(HERE, "ORDER_SAGA_DB") == 0
