"""The payment saga end to end: every failure compensates the completed steps in reverse
order, on a real SQLite database; the saga file generates the same machine; every fault
plan hypothesis can draw keeps the saga property on the handlers' ledger; the README shows
what `asl faults` prints."""

import importlib.util
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

import asl
from asl.analysis import findings
from asl.cli import main as cli
from asl.graph import render
from asl.saga import Saga
from asl.testing import assert_compensated, fault_plans, run_with_faults

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFINITION = HERE / "payment-saga.asl.json"
MACHINE = asl.StateMachine.from_file(DEFINITION, name="PaymentSaga")
SAGA_FILE = HERE / "payment-saga.saga.yaml"
FORWARD = ["CreateOrder", "ChargePayment", "ReserveInventory", "CreateShipment", "SendConfirmation"]


def load(module_name, file_name):
    spec = importlib.util.spec_from_file_location(module_name, HERE / file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    monkeypatch.setenv("PAYMENT_SAGA_DB", str(tmp_path / "saga.db"))
    return load("payment_saga_handlers", "handlers.py")


@pytest.fixture(scope="module")
def machine():
    return MACHINE


def order(**fields):
    return {"order_id": "o-1", "sku": "SKU-1", "quantity": 2, "amount": 42.0, **fields}


def query(handlers, sql, *args):
    with handlers.transaction() as db:
        return db.execute(sql, args).fetchall()


def status(handlers, table):
    rows = query(handlers, f"SELECT status FROM {table} WHERE order_id = 'o-1'")
    return rows[0][0] if rows else None


def stock(handlers):
    return query(handlers, "SELECT available FROM stock WHERE sku = 'SKU-1'")[0][0]


def logged(handlers, outcome="done"):
    return [a for (a,) in query(handlers, "SELECT action FROM saga_log WHERE outcome = ? ORDER BY seq", outcome)]


def test_happy_path_does_every_step_and_undoes_nothing(machine, handlers):
    result = machine.execute(order(), handlers.RESOURCES, clock=asl.VirtualClock())
    assert result.status == "SUCCEEDED"
    assert result.states == FORWARD + ["SagaSucceeded"]
    assert [status(handlers, t) for t in ("orders", "payments", "reservations", "shipments")] == [
        "CREATED", "CHARGED", "RESERVED", "CREATED"]
    assert stock(handlers) == 98
    assert logged(handlers) == ["create-order", "charge-payment", "reserve-inventory", "create-shipment",
                                "send-confirmation"]
    assert result.output["payment"]["payment_id"].startswith("pay-")
    assert result.output["shipment"]["tracking_number"].startswith("TRK-")


@pytest.mark.parametrize("fail_at, error, compensations, tables", [
    ("order", "OrderRejected", [], [None, None, None, None]),
    ("charge", "PaymentDeclined", ["CancelOrder"], ["CANCELLED", None, None, None]),
    ("reserve", "InventoryUnavailable", ["RefundPayment", "CancelOrder"], ["CANCELLED", "REFUNDED", None, None]),
    ("ship", "ShipmentFailed", ["ReleaseInventory", "RefundPayment", "CancelOrder"],
     ["CANCELLED", "REFUNDED", "RELEASED", None]),
    ("confirm", "ConfirmationFailed", ["CancelShipment", "ReleaseInventory", "RefundPayment", "CancelOrder"],
     ["CANCELLED", "REFUNDED", "RELEASED", "CANCELLED"]),
])
def test_a_failure_compensates_the_completed_steps_in_reverse_order(machine, handlers, fail_at, error,
                                                                    compensations, tables):
    result = machine.execute(order(fail_at=fail_at), handlers.RESOURCES, clock=asl.VirtualClock())
    assert (result.status, result.error, result.cause) == (
        "FAILED", "PaymentSagaFailed", "The payment saga failed; every completed step was compensated")
    failed_step = ["order", "charge", "reserve", "ship", "confirm"].index(fail_at)
    assert result.states == FORWARD[:failed_step + 1] + compensations + ["SagaFailed"]
    assert [status(handlers, t) for t in ("orders", "payments", "reservations", "shipments")] == tables
    assert stock(handlers) == 100
    # The database saw the compensations in the same order as the state machine ran them.
    undo = {"CancelOrder": "cancel-order", "RefundPayment": "refund-payment",
            "ReleaseInventory": "release-inventory", "CancelShipment": "cancel-shipment"}
    assert [a for a in logged(handlers) if a in undo.values()] == [undo[c] for c in compensations]
    # The failing step's own error is in the history, and travelled to the compensations in $.error.
    failed = [e["lambdaFunctionFailedEventDetails"]["error"] for e in result.history
              if e["type"] == "LambdaFunctionFailed"]
    assert failed == [error]
    inputs = [json.loads(e["stateEnteredEventDetails"]["input"]) for e in result.history
              if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] in compensations]
    assert [i["error"]["Error"] for i in inputs] == [error] * len(compensations)


def test_a_failure_at_create_shipment_releases_refunds_and_cancels_in_that_order(machine, handlers):
    result = machine.execute(order(fail_at="ship"), handlers.RESOURCES, clock=asl.VirtualClock())
    assert result.states[4:] == ["ReleaseInventory", "RefundPayment", "CancelOrder", "SagaFailed"]
    assert logged(handlers)[-3:] == ["release-inventory", "refund-payment", "cancel-order"]


def test_a_flaky_compensation_is_retried_until_it_succeeds(machine, handlers):
    clock = asl.VirtualClock(start=0)
    result = machine.execute(order(fail_at="confirm", flaky=["refund", "shipment"]), handlers.RESOURCES,
                             clock=clock)
    assert result.states[5:] == ["CancelShipment", "ReleaseInventory", "RefundPayment", "CancelOrder", "SagaFailed"]
    assert clock.schedule == [("CancelShipment", "Retry", 1.0), ("RefundPayment", "Retry", 1.0)]
    assert logged(handlers, "glitch") == ["cancel-shipment", "refund-payment"]
    assert [status(handlers, t) for t in ("orders", "payments", "reservations", "shipments")] == [
        "CANCELLED", "REFUNDED", "RELEASED", "CANCELLED"]


def test_compensations_are_idempotent(handlers):
    handlers.create_order(order())
    handlers.charge_payment(order())
    handlers.reserve_inventory(order())
    for _ in range(2):
        handlers.release_inventory(order())
        handlers.refund_payment(order())
    assert stock(handlers) == 100
    assert status(handlers, "payments") == "REFUNDED"


def test_every_fault_path_compensates_what_ran(machine):
    # The static saga check (asl.analysis) reads the [compensation: ...] Comments.
    assert findings(machine.definition) == []


# -- the saga file ------------------------------------------------------------------------

def test_the_saga_file_generates_the_hand_written_definition():
    assert Saga.from_file(SAGA_FILE).to_asl() == json.loads(DEFINITION.read_text())


def test_the_generated_machine_behaves_as_the_hand_written_one():
    scenarios = load("payment_saga_scenarios", "scenarios.py")
    by_hand = scenarios.run_scenarios()
    generated = scenarios.run_scenarios(Saga.from_file(SAGA_FILE).to_asl())
    for a, b in zip(by_hand, generated, strict=True):
        assert (a["result"].status, a["result"].error, a["result"].cause, a["result"].states) == (
            b["result"].status, b["result"].error, b["result"].cause, b["result"].states)
        assert (a["compensations"], a["waits"], a["database"]) == (b["compensations"], b["waits"], b["database"])


# -- the scenario table, the README and its commands -------------------------------------------

def test_the_scenario_script_and_the_readme_agree():
    scenarios = load("payment_saga_scenarios", "scenarios.py")
    rows = scenarios.run_scenarios()
    assert [r["compensations"] for r in rows][4] == ["ReleaseInventory", "RefundPayment", "CancelOrder"]
    readme = (HERE / "README.md").read_text()
    assert scenarios.table(rows) in readme
    assert render(json.loads(DEFINITION.read_text())) in readme


@pytest.mark.parametrize("fields, exit_code, expected", [
    ({}, 0, '"tracking_number": "TRK-'),
    ({"fail_at": "ship"}, 1, "FAILED: PaymentSagaFailed"),
])
def test_the_readme_commands_run(tmp_path, monkeypatch, fields, exit_code, expected):
    monkeypatch.setenv("PAYMENT_SAGA_DB", str(tmp_path / "cli.db"))
    result = CliRunner().invoke(cli, [
        "run", str(DEFINITION), "--resources", str(HERE / "handlers.py"), "--virtual-time", "--trace",
        "--input", json.dumps(order(**fields))])
    assert result.exit_code == exit_code, result.output
    assert expected in result.output
    if fields:
        trace = [line.strip() for line in result.output.splitlines() if line.strip().startswith("-> ")]
        assert trace[-4:] == ["-> ReleaseInventory (Task)", "-> RefundPayment (Task)", "-> CancelOrder (Task)",
                              "-> SagaFailed (Fail)"]


# -- every fault plan: the saga property on the ledger ------------------------------------------

SAGA = load("payment_saga_ledger_handlers", "handlers.py")
COMPENSATIONS = ["CancelShipment", "ReleaseInventory", "RefundPayment", "CancelOrder"]
#: Each effect the ledger records, and the row that shows it in place in the database.
IN_PLACE = {
    "order:o-1": "SELECT 1 FROM orders WHERE status = 'CREATED'",
    "payment:o-1": "SELECT 1 FROM payments WHERE status = 'CHARGED'",
    "reservation:o-1": "SELECT 1 FROM reservations WHERE status = 'RESERVED'",
    "shipment:o-1": "SELECT 1 FROM shipments WHERE status = 'CREATED'",
    "confirmation:o-1": "SELECT 1 FROM confirmations",
}


@contextmanager
def fresh_database():
    """PAYMENT_SAGA_DB pointing at a new database (stock 100) for one execution."""
    saved = os.environ.get("PAYMENT_SAGA_DB")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PAYMENT_SAGA_DB"] = str(Path(tmp) / "saga.db")
        try:
            yield
        finally:
            if saved is None:
                del os.environ["PAYMENT_SAGA_DB"]
            else:
                os.environ["PAYMENT_SAGA_DB"] = saved


@settings(max_examples=150, deadline=None)
@given(plan=fault_plans(MACHINE, max_faults=2, transient=COMPENSATIONS))
def test_whatever_fails_every_completed_step_is_undone_once_in_reverse(plan):
    """Any step failing with any error, on any attempt, with compensations failing too (but
    less often than their Retry allows): a SUCCEEDED run keeps every effect, any other
    undoes each completed one exactly once, in reverse order."""
    SAGA.LEDGER.reset()
    with fresh_database():
        run = run_with_faults(MACHINE, SAGA.RESOURCES, plan, order())
        # The ledger tells the truth: what the database holds is its effects left.
        held = [effect for effect, sql in IN_PLACE.items() if query(SAGA, sql)]
        assert stock(SAGA) == (98 if "reservation:o-1" in held else 100)
    assert held == SAGA.LEDGER.effects_left()
    assert_compensated(run, SAGA.LEDGER)


# -- the README shows what `asl faults` prints --------------------------------------------------

def test_the_readme_shows_what_asl_faults_prints(readme_faults):
    # A sound saga: no PROBLEM line, exit status 0.
    assert readme_faults(HERE, "PAYMENT_SAGA_DB") == 0
