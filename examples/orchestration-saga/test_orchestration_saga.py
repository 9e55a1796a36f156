"""The orchestration saga end to end: typed errors caught by name, real handlers, a real
SQLite database checked directly; then fault plans drawn by hypothesis, checked on the
handlers' ledger, and the `asl faults` table of the README."""

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
from asl.cli import main as cli
from asl.graph import render
from asl.testing import assert_compensated, fault_plans, run_with_faults

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFINITION = HERE / "orchestration-saga.asl.json"
MACHINE = asl.StateMachine.from_file(DEFINITION, name="OrchestrationSaga")


def load(module_name, file_name):
    spec = importlib.util.spec_from_file_location(module_name, HERE / file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATION_SAGA_DB", str(tmp_path / "saga.db"))
    return load("orchestration_saga_handlers", "handlers.py")


@pytest.fixture(scope="module")
def machine():
    return MACHINE


def order(**fields):
    return {"order_id": "o-1", "sku": "SKU-1", "quantity": 2, "amount": 42.0,
            "card": "4242424242424242", **fields}


def query(handlers, sql, *args):
    with handlers.transaction() as db:
        return db.execute(sql, args).fetchall()


def status_history(handlers, order_id="o-1"):
    return [s for (s,) in query(handlers, "SELECT status FROM order_events WHERE order_id = ? ORDER BY seq",
                                order_id)]


def stock(handlers, sku):
    return query(handlers, "SELECT available FROM stock WHERE sku = ?", sku)[0][0]


def test_happy_path_ships_the_order(machine, handlers):
    result = machine.execute(order(), handlers.RESOURCES)
    assert result.status == "SUCCEEDED"
    assert result.states == ["CreateOrder", "ReserveInventory", "ChargePayment", "CreateShipment"]
    assert result.output["status"] == "SHIPPED"
    assert query(handlers, "SELECT status, tracking_number FROM orders") == [
        ("SHIPPED", result.output["tracking_number"])]
    assert status_history(handlers) == ["CREATED", "RESERVED", "PAID", "SHIPPED"]
    assert stock(handlers, "SKU-1") == 98
    assert query(handlers, "SELECT payment_id, amount FROM payments") == [(result.output["payment_id"], 42.0)]
    assert query(handlers, "SELECT tracking_number FROM shipments") == [(result.output["tracking_number"],)]


def test_each_handler_gets_the_previous_ones_output(machine, handlers):
    result = machine.execute(order(), handlers.RESOURCES)
    inputs = [json.loads(e["lambdaFunctionScheduledEventDetails"]["input"])
              for e in result.history if e["type"] == "LambdaFunctionScheduled"]
    outputs = [json.loads(e["lambdaFunctionSucceededEventDetails"]["output"])
               for e in result.history if e["type"] == "LambdaFunctionSucceeded"]
    assert inputs[1:] == outputs[:-1]
    assert [o["status"] for o in outputs] == ["CREATED", "RESERVED", "PAID", "SHIPPED"]
    assert outputs[-1] == result.output


@pytest.mark.parametrize("sku, quantity", [("SKU-OUT", 1), ("SKU-2", 6), ("SKU-UNKNOWN", 1)])
def test_missing_stock_is_caught_by_name_and_fails_at_once(machine, handlers, sku, quantity):
    result = machine.execute(order(sku=sku, quantity=quantity), handlers.RESOURCES)
    assert (result.status, result.error, result.cause) == ("FAILED", "InventoryUnavailable", "Inventory unavailable")
    assert result.states == ["CreateOrder", "ReserveInventory", "InventoryUnavailableFail"]
    assert status_history(handlers) == ["CREATED", "INVENTORY_FAILED"]
    assert query(handlers, "SELECT status FROM orders") == [("INVENTORY_FAILED",)]
    assert query(handlers, "SELECT * FROM reservations") == []
    assert query(handlers, "SELECT * FROM payments") == []
    assert stock(handlers, "SKU-2") == 5
    # The Lambda runtime reports the exception class name as the error.
    failed = [e["lambdaFunctionFailedEventDetails"] for e in result.history if e["type"] == "LambdaFunctionFailed"]
    assert [f["error"] for f in failed] == ["InventoryUnavailable"]
    assert json.loads(failed[0]["cause"])["errorType"] == "InventoryUnavailable"


def test_a_declined_card_releases_the_inventory_then_fails(machine, handlers):
    result = machine.execute(order(card="4000000000000002"), handlers.RESOURCES)
    assert (result.status, result.error, result.cause) == (
        "FAILED", "PaymentDeclined", "Payment declined and inventory released")
    assert result.states == ["CreateOrder", "ReserveInventory", "ChargePayment", "ReleaseInventory",
                             "PaymentDeclinedFail"]
    assert status_history(handlers) == ["CREATED", "RESERVED", "PAYMENT_DECLINED", "INVENTORY_RELEASED"]
    assert query(handlers, "SELECT status FROM orders") == [("INVENTORY_RELEASED",)]
    assert stock(handlers, "SKU-1") == 100
    assert query(handlers, "SELECT * FROM reservations") == []
    assert query(handlers, "SELECT * FROM payments") == []
    # The compensation received the reserved order with the caught error beside it.
    entered = [e["stateEnteredEventDetails"] for e in result.history if e["type"] == "TaskStateEntered"]
    release_input = json.loads(entered[-1]["input"])
    assert release_input["status"] == "RESERVED"
    assert release_input["error"]["Error"] == "PaymentDeclined"
    assert json.loads(release_input["error"]["Cause"])["errorMessage"].startswith("card ending 0002 declined")


def test_an_error_no_catch_names_fails_the_execution_and_keeps_the_reservation(machine, handlers):
    result = machine.execute(order(card="4000000000000119"), handlers.RESOURCES)
    assert (result.status, result.error) == ("FAILED", "PaymentGatewayError")
    assert json.loads(result.cause)["errorMessage"] == "the payment gateway returned HTTP 502"
    assert result.states == ["CreateOrder", "ReserveInventory", "ChargePayment"]
    assert status_history(handlers) == ["CREATED", "RESERVED"]
    assert stock(handlers, "SKU-1") == 98


def test_two_orders_cannot_both_take_the_last_units(machine, handlers):
    first = machine.execute(order(order_id="a", sku="SKU-2", quantity=3), handlers.RESOURCES)
    second = machine.execute(order(order_id="b", sku="SKU-2", quantity=3), handlers.RESOURCES)
    assert (first.status, second.error) == ("SUCCEEDED", "InventoryUnavailable")
    assert stock(handlers, "SKU-2") == 2


def test_the_scenario_script_and_the_readme_agree():
    scenarios = load("orchestration_saga_scenarios", "scenarios.py")
    rows = scenarios.run_scenarios()
    assert [r["result"].status for r in rows] == ["SUCCEEDED", "FAILED", "FAILED", "FAILED"]
    assert [r["history"][-1] for r in rows] == ["SHIPPED", "INVENTORY_FAILED", "INVENTORY_RELEASED", "RESERVED"]
    readme = (HERE / "README.md").read_text()
    assert scenarios.table(rows) in readme
    assert render(json.loads(DEFINITION.read_text())) in readme


@pytest.mark.parametrize("card, exit_code, expected", [
    ("4242424242424242", 0, '"status": "SHIPPED"'),
    ("4000000000000002", 1, "FAILED: PaymentDeclined: Payment declined and inventory released"),
])
def test_the_readme_commands_run(tmp_path, monkeypatch, card, exit_code, expected):
    monkeypatch.setenv("ORCHESTRATION_SAGA_DB", str(tmp_path / "cli.db"))
    result = CliRunner().invoke(cli, [
        "run", str(DEFINITION), "--resources", str(HERE / "handlers.py"), "--trace",
        "--input", json.dumps({"order_id": "o-1", "sku": "SKU-1", "quantity": 2, "card": card})])
    assert result.exit_code == exit_code
    assert expected in result.output


# -- every fault plan: named errors are compensated, any other keeps what was done ---------------

SAGA = load("orchestration_saga_ledger_handlers", "handlers.py")
FORWARD = ["CreateOrder", "ReserveInventory", "ChargePayment", "CreateShipment"]
#: What each forward step leaves in place (CreateOrder's order row is a record, not an effect).
EFFECT = {"ReserveInventory": "reservation:o-1", "ChargePayment": "payment:o-1", "CreateShipment": "shipment:o-1"}
#: The table holding each effect.
TABLE = {"reservation:o-1": "reservations", "payment:o-1": "payments", "shipment:o-1": "shipments"}
#: (step, the error its Catch names): the Fail state it ends in.
CAUGHT = {("ReserveInventory", "InventoryUnavailable"): "InventoryUnavailableFail",
          ("ChargePayment", "PaymentDeclined"): "PaymentDeclinedFail"}


@contextmanager
def fresh_database():
    """ORCHESTRATION_SAGA_DB pointing at a new database (full stock) for one execution."""
    saved = os.environ.get("ORCHESTRATION_SAGA_DB")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ORCHESTRATION_SAGA_DB"] = str(Path(tmp) / "saga.db")
        try:
            yield
        finally:
            if saved is None:
                del os.environ["ORCHESTRATION_SAGA_DB"]
            else:
                os.environ["ORCHESTRATION_SAGA_DB"] = saved


@settings(max_examples=150, deadline=None)
@given(plan=fault_plans(MACHINE, max_faults=2, transient=["ReleaseInventory"]))
def test_a_named_error_is_compensated_and_any_other_keeps_what_was_done(plan):
    """Any step failing with any error (ReleaseInventory only as often as its Retry absorbs):
    an error a Catch names ends in its Fail state with the saga property holding; any other
    fails the execution as is, where it was raised, with the completed steps' effects kept
    and no compensation run (the README's "only the named errors are caught")."""
    SAGA.LEDGER.reset()
    with fresh_database():
        run = run_with_faults(MACHINE, SAGA.RESOURCES, plan, order())
        held = {table for table in TABLE.values() if query(SAGA, f"SELECT * FROM {table}")}
    left = SAGA.LEDGER.effects_left()
    assert held == {TABLE[effect] for effect in left}, "the database and the ledger disagree"
    first = next((call for call in run.calls if call.faulted), None)
    if first is None:
        assert (run.result.status, left) == ("SUCCEEDED", list(EFFECT.values()))
        return
    error = plan.fault_for(first.state, first.attempt, 1).error
    if (first.state, error) in CAUGHT:
        assert run.result.states[-1] == CAUGHT[first.state, error]
        assert_compensated(run, SAGA.LEDGER)
    else:
        result = run.result
        assert (result.status, result.error, result.states[-1]) == ("FAILED", error, first.state)
        done = FORWARD[:FORWARD.index(first.state)]
        assert [str(e) for e in SAGA.LEDGER.events] == [f"do {EFFECT[s]}" for s in done if s in EFFECT]


# -- the README shows what `asl faults` prints --------------------------------------------------

def test_the_readme_shows_what_asl_faults_prints(readme_faults):
    # Exit status 1: the PROBLEM lines the README shows and explains (errors no Catch names).
    assert readme_faults(HERE, "ORCHESTRATION_SAGA_DB") == 1
