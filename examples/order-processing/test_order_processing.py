"""Order processing end to end: Retry back-off, a Parallel with a compensating Catch, a
human approval through a task token, and a Choice by order type, on a real SQLite database
and a virtual clock; then fault plans drawn by hypothesis, checked on the handlers' ledger,
and the `asl faults` table of the README."""

import importlib.util
import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

import asl
from asl.cli import main as cli
from asl.graph import render
from asl.testing import Fault, assert_compensated, fault_plans, run_with_faults

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFINITION = HERE / "order-processing.asl.json"
MACHINE = asl.StateMachine.from_file(DEFINITION, name="OrderProcessing")
DAY = 86400


def load(module_name, file_name):
    spec = importlib.util.spec_from_file_location(module_name, HERE / file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def handlers(tmp_path, monkeypatch):
    monkeypatch.setenv("ORDER_PROCESSING_DB", str(tmp_path / "orders.db"))
    return load("order_processing_handlers", "handlers.py")


@pytest.fixture(scope="module")
def machine():
    return MACHINE


def order(**fields):
    """A valid order that waits for a human approval unless ``auto_approval`` is given."""
    return {"order_id": "o-1", "type": "express", "email": "ann@example.com",
            "items": [{"sku": "SKU-1", "quantity": 2}], "amount": 59.9, "card": "4242424242424242", **fields}


def query(handlers, sql, *args):
    with handlers.transaction() as db:
        return db.execute(sql, args).fetchall()


def statuses(handlers):
    return [s for (s,) in query(handlers, "SELECT status FROM order_events ORDER BY seq")]


# -- the human approval: a task token answered from outside ---------------------------------

def start_and_wait_for_approval(machine, handlers, **fields):
    execution = machine.start(order(**fields), handlers.RESOURCES, clock=asl.VirtualClock())
    token = execution.wait_for_task_token(timeout=5)
    # The approval request stored the very token the task waits on.
    assert query(handlers, "SELECT order_id, task_token FROM approvals") == [("o-1", token)]
    return execution, token


def test_an_approval_sent_from_outside_completes_the_order(machine, handlers):
    execution, token = start_and_wait_for_approval(machine, handlers)
    execution.send_task_success(token, {"approved": True, "approver": "alice"})
    result = execution.result(timeout=5)
    assert result.status == "SUCCEEDED"
    assert result.output["approval"] == {"approved": True, "approver": "alice"}
    assert result.states[-3:] == ["RouteByOrderType", "ShipExpress", "OrderCompleted"]
    assert statuses(handlers) == ["VALIDATED", "PAID", "AWAITING_APPROVAL", "SHIPPED"]
    assert query(handlers, "SELECT service, tracking_number FROM shipments") == [
        ("express", result.output["shipment"]["tracking_number"])]
    assert query(handlers, "SELECT sku, quantity FROM reservations") == [("SKU-1", 2)]
    assert query(handlers, "SELECT recipient FROM emails") == [("ann@example.com",)]


def test_a_rejection_sent_from_outside_ends_in_order_rejected(machine, handlers):
    execution, token = start_and_wait_for_approval(machine, handlers)
    execution.send_task_failure(token, "ApprovalRejected", "amount over alice's limit")
    result = execution.result(timeout=5)
    assert (result.status, result.error, result.cause) == (
        "FAILED", "ApprovalRejected", "The order was rejected by an approver")
    assert result.states[-2:] == ["WaitForApproval", "OrderRejected"]
    failed = [e["taskFailedEventDetails"] for e in result.history if e["type"] == "TaskFailed"]
    assert failed == [{"resourceType": "lambda", "resource": "invoke.waitForTaskToken",
                       "error": "ApprovalRejected", "cause": "amount over alice's limit"}]
    assert query(handlers, "SELECT * FROM shipments") == []


def test_a_failure_no_catch_names_fails_the_execution_with_it(machine, handlers):
    execution, token = start_and_wait_for_approval(machine, handlers)
    execution.send_task_failure(token, "ApproverUnavailable", "nobody on call")
    result = execution.result(timeout=5)
    assert (result.status, result.error, result.cause) == ("FAILED", "ApproverUnavailable", "nobody on call")
    assert result.states[-1] == "WaitForApproval"


def test_nobody_answers_so_the_24_hour_window_passes_in_virtual_time(machine, handlers):
    clock = asl.VirtualClock(start=0)
    began = time.perf_counter()
    result = machine.execute(order(), handlers.RESOURCES, clock=clock)
    assert time.perf_counter() - began < 2
    assert (result.status, result.error, result.cause) == ("FAILED", "ApprovalTimedOut", "No approval within 24 hours")
    assert result.states[-2:] == ["WaitForApproval", "ApprovalTimedOut"]
    assert result.stop_time - result.start_time == DAY
    timed_out = [e for e in result.history if e["type"] == "TaskTimedOut"]
    assert [e["taskTimedOutEventDetails"]["error"] for e in timed_out] == ["States.Timeout"]
    assert statuses(handlers)[-1] == "AWAITING_APPROVAL"


@pytest.mark.parametrize("decision, end, error", [
    ("approve", "OrderCompleted", None),
    ("reject", "OrderRejected", "ApprovalRejected"),
])
def test_the_approval_callable_may_answer_its_own_token(machine, handlers, decision, end, error):
    result = machine.execute(order(auto_approval=decision), handlers.RESOURCES, clock=asl.VirtualClock())
    assert (result.states[-1], result.error) == (end, error)


# -- routing by order type --------------------------------------------------------------

@pytest.mark.parametrize("order_type, ship_state", [("express", "ShipExpress"), ("standard", "ShipStandard")])
def test_the_choice_routes_by_order_type(machine, handlers, order_type, ship_state):
    result = machine.execute(order(type=order_type, auto_approval="approve"), handlers.RESOURCES,
                             clock=asl.VirtualClock())
    assert result.status == "SUCCEEDED"
    assert result.states[-2:] == [ship_state, "OrderCompleted"]
    assert query(handlers, "SELECT service FROM shipments") == [(order_type,)]


# -- payment: retry back-off and a typed decline ---------------------------------------------

@pytest.mark.parametrize("timeouts, status, attempts", [
    (0, "SUCCEEDED", ["CHARGED"]),
    (1, "SUCCEEDED", ["TIMEOUT", "CHARGED"]),
    (3, "SUCCEEDED", ["TIMEOUT"] * 3 + ["CHARGED"]),
    (4, "FAILED", ["TIMEOUT"] * 4),
])
def test_gateway_timeouts_are_retried_after_5_10_and_20_seconds(machine, handlers, timeouts, status, attempts):
    clock = asl.VirtualClock(start=0)
    result = machine.execute(order(gateway_timeouts=timeouts, auto_approval="approve"), handlers.RESOURCES,
                             clock=clock)
    assert result.status == status
    assert clock.schedule == [("ProcessPayment", "Retry", s) for s in (5.0, 10.0, 20.0)][:timeouts]
    assert [o for (o,) in query(handlers, "SELECT outcome FROM payment_attempts ORDER BY attempt")] == attempts
    if status == "FAILED":
        # MaxAttempts 3 is spent: the error is not one the Catch names, so the execution fails.
        assert result.error == "PaymentGatewayTimeout"
        assert result.states == ["ValidateOrder", "ProcessPayment"]
        assert query(handlers, "SELECT * FROM payments") == []
    else:
        assert result.output["payment"]["attempts"] == len(attempts)


def test_a_declined_card_is_not_retried(machine, handlers):
    clock = asl.VirtualClock(start=0)
    result = machine.execute(order(card="4000000000000002"), handlers.RESOURCES, clock=clock)
    assert (result.status, result.error, result.cause) == ("FAILED", "PaymentDeclined", "The payment was declined")
    assert result.states == ["ValidateOrder", "ProcessPayment", "PaymentFailed"]
    assert clock.schedule == []
    assert statuses(handlers) == ["VALIDATED", "PAYMENT_DECLINED"]


# -- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [{"items": []}, {"amount": 0}, {"type": "overnight"}, {"amount": "ten"}])
def test_an_invalid_order_is_caught_as_a_validation_error(machine, handlers, fields):
    result = machine.execute(order(**fields), handlers.RESOURCES, clock=asl.VirtualClock())
    assert (result.status, result.error) == ("FAILED", "ValidationError")
    assert result.states == ["ValidateOrder", "ValidationFailed"]
    assert query(handlers, "SELECT * FROM orders") == []


@pytest.mark.parametrize("delay, status, error, elapsed", [
    (5, "SUCCEEDED", None, 5),
    (30, "FAILED", "States.Timeout", 10),
])
def test_a_slow_validator_meets_timeout_seconds(machine, handlers, delay, status, error, elapsed):
    clock = asl.VirtualClock(start=0)
    result = machine.execute(order(validation_delay_seconds=delay, auto_approval="approve"), handlers.RESOURCES,
                             clock=clock)
    assert (result.status, result.error) == (status, error)
    assert result.stop_time - result.start_time == elapsed


# -- the parallel fulfilment and its compensation ------------------------------------------------

@pytest.mark.parametrize("concurrency", ["threads", "sequential"])
def test_missing_stock_in_one_branch_refunds_the_payment(machine, handlers, concurrency):
    result = machine.execute(order(items=[{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-OUT", "quantity": 1}]),
                             handlers.RESOURCES, clock=asl.VirtualClock(), concurrency=concurrency)
    assert (result.status, result.error, result.cause) == (
        "FAILED", "FulfillmentFailed", "Fulfillment failed; the payment was refunded")
    assert result.states[-3:] == ["ReleaseInventory", "CompensatePayment", "OrderFailed"]
    assert query(handlers, "SELECT refunded FROM payments") == [(1,)]
    assert statuses(handlers)[-1] == "REFUNDED"
    # The reservation is all or nothing: SKU-1 was not taken either (ReleaseInventory, which
    # runs whichever branch failed, had nothing to put back).
    assert query(handlers, "SELECT * FROM reservations") == []
    assert query(handlers, "SELECT available FROM stock WHERE sku = 'SKU-1'") == [(100,)]
    # The Parallel failed with its branch's own error, which the compensation received.
    entered = [json.loads(e["stateEnteredEventDetails"]["input"]) for e in result.history
               if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "CompensatePayment"]
    assert entered[0]["error"]["Error"] == "InventoryUnavailable"


def test_a_failed_confirmation_releases_the_stock_the_other_branch_reserved(machine, handlers):
    # Branches one after the other: ReserveInventory takes the stock, then the e-mail fails.
    run = run_with_faults(machine, handlers.RESOURCES, [Fault("SendConfirmation", "MailServerDown")],
                          order(), concurrency="sequential")
    assert run.result.states[-5:] == ["ReserveInventory", "SendConfirmation", "ReleaseInventory",
                                      "CompensatePayment", "OrderFailed"]
    assert query(handlers, "SELECT * FROM reservations") == []
    assert query(handlers, "SELECT available FROM stock WHERE sku = 'SKU-1'") == [(100,)]
    assert query(handlers, "SELECT refunded FROM payments") == [(1,)]
    assert [str(e) for e in handlers.LEDGER.events] == [
        "do payment:o-1", "do reservation:o-1", "undo reservation:o-1", "undo payment:o-1"]


# -- the scenario table, the README and its commands -------------------------------------------

def test_the_scenario_script_and_the_readme_agree():
    scenarios = load("order_processing_scenarios", "scenarios.py")
    rows = scenarios.run_scenarios()
    assert [r["result"].status for r in rows] == ["SUCCEEDED"] * 3 + ["FAILED"] * 7
    readme = (HERE / "README.md").read_text()
    assert scenarios.table(rows) in readme
    assert render(json.loads(DEFINITION.read_text())) in readme


@pytest.mark.parametrize("fields, exit_code, expected", [
    ({"auto_approval": "approve", "gateway_timeouts": 2}, 0, '"service": "express"'),
    ({}, 1, "FAILED: ApprovalTimedOut: No approval within 24 hours"),
])
def test_the_readme_commands_run(tmp_path, monkeypatch, fields, exit_code, expected):
    monkeypatch.setenv("ORDER_PROCESSING_DB", str(tmp_path / "cli.db"))
    result = CliRunner().invoke(cli, [
        "run", str(DEFINITION), "--resources", str(HERE / "handlers.py"), "--virtual-time", "--trace",
        "--input", json.dumps(order(**fields))])
    assert result.exit_code == exit_code, result.output
    assert expected in result.output


# -- every fault plan: the saga property where the design compensates ---------------------------

FLOW = load("order_processing_ledger_handlers", "handlers.py")
APPROVED = order(auto_approval="approve")
#: The compensations, which must eventually succeed: they fail only attempts their Retry absorbs.
COMPENSATIONS = ["ReleaseInventory", "CompensatePayment"]
#: Every Task whose failure the design undoes, or that fails before anything is done.
UNDONE = ["ValidateOrder", "ProcessPayment", "ReserveInventory", "SendConfirmation", *COMPENSATIONS]
#: Failures from the approval on keep the payment and the reservation (see the README).
KEPT = ["WaitForApproval", "ShipExpress"]


@contextmanager
def fresh_database():
    """ORDER_PROCESSING_DB pointing at a new, empty database for one execution."""
    saved = os.environ.get("ORDER_PROCESSING_DB")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ORDER_PROCESSING_DB"] = str(Path(tmp) / "orders.db")
        try:
            yield
        finally:
            if saved is None:
                del os.environ["ORDER_PROCESSING_DB"]
            else:
                os.environ["ORDER_PROCESSING_DB"] = saved


def run_plan(plan):
    FLOW.LEDGER.reset()
    with fresh_database():
        return run_with_faults(MACHINE, FLOW.RESOURCES, plan, APPROVED)


@settings(max_examples=120, deadline=None)
@given(plan=fault_plans(MACHINE, max_faults=2, states=UNDONE, transient=COMPENSATIONS))
def test_a_failure_before_the_approval_leaves_nothing_behind(plan):
    """Validation, payment, either fulfilment branch (on threads: the other branch may or may
    not have run), with the compensations failing too: the order succeeds with every
    effect, or fails with none, each undone once, in reverse order."""
    assert_compensated(run_plan(plan), FLOW.LEDGER)


@settings(max_examples=30, deadline=None)
@given(plan=fault_plans(MACHINE, states=KEPT))
def test_a_failure_from_the_approval_on_keeps_the_payment_and_the_reservation(plan):
    """What the design leaves out, pinned down: no compensation runs, the payment and the
    reservation stay; a timeout and a rejection end in their Fail states, any other error
    fails the execution as is."""
    run = run_plan(plan)
    if not plan.faults:
        assert FLOW.LEDGER.effects_left() == ["payment:o-1", "reservation:o-1", "shipment:o-1"]
        return
    fault = plan.faults[0]
    ends = {("WaitForApproval", "States.Timeout"): ("ApprovalTimedOut", "ApprovalTimedOut"),
            ("WaitForApproval", "ApprovalRejected"): ("OrderRejected", "ApprovalRejected")}
    expected = ends.get((fault.state, fault.error), (fault.state, fault.error))
    assert (run.result.status, run.result.states[-1], run.result.error) == ("FAILED", *expected)
    assert [str(e) for e in FLOW.LEDGER.events] == ["do payment:o-1", "do reservation:o-1"]


# -- the README shows what `asl faults` prints --------------------------------------------------

def test_the_readme_shows_what_asl_faults_prints(readme_faults):
    # Exit status 1: the PROBLEM lines the README shows and explains (failures the design
    # deliberately does not compensate).
    assert readme_faults(HERE, "ORDER_PROCESSING_DB") == 1
