"""The compensation property under every fault plan, and broken sagas it catches.

The property: after any run, the Ledger shows either every effect in place (SUCCEEDED)
or none, each undone once, in reverse order (FAILED). Runs use the VirtualClock, so
retry back-off costs nothing and 1,000 plans take a few seconds.
"""

from pathlib import Path

import pytest
from hypothesis import find, given, settings

from asl.saga import Group, Saga, Step
from asl.testing import (FaultPlan, Ledger, assert_compensated, compensation_violations,
                         fault_plans, run_with_faults)

BROKEN = sorted(p.stem for p in (Path(__file__).parent / "broken").glob("*.json"))
#: The forward state a broken saga mishandles: the single fault the search must find.
BROKEN_AT = {"catch-all-shadows-specific": "ChargePayment",
             "catch-wrong-compensation": "CreateShipment",
             "compensation-not-chained": "CreateShipment"}


def holds(machine, resources, ledger, order, plan, **options):
    ledger.reset()
    run = run_with_faults(machine, resources, plan, order, **options)
    assert_compensated(run, ledger)


def violated(machine, resources, ledger, order):
    def check(plan):
        ledger.reset()
        run = run_with_faults(machine, resources, plan, order)
        return bool(compensation_violations(run.result, ledger))
    return check


def test_the_order_saga_compensates_every_fault_of_its_forward_steps(order_saga):
    """Up to two faults among the forward steps: a small space, which Hypothesis exhausts
    (every such plan runs) well before max_examples."""
    ledger = Ledger()
    resources = order_saga.resources(ledger)

    @settings(max_examples=1000, deadline=None)
    @given(fault_plans(order_saga.machine, max_faults=2, states=order_saga.forward))
    def compensated(plan):
        holds(order_saga.machine, resources, ledger, order_saga.order, plan)

    compensated()


def test_a_failing_compensation_leaves_effects_behind_in_the_original_order_saga(order_saga):
    """A finding about examples/order-saga: its compensations have no Retry, so one
    transient failure of a compensation leaves the saga half undone."""
    ledger = Ledger()
    plan = find(fault_plans(order_saga.machine, max_faults=2),
                violated(order_saga.machine, order_saga.resources(ledger), ledger, order_saga.order))
    assert {f.state for f in plan.faults} == {"ChargePayment", "CompensateReserve"}


def test_with_retried_compensations_it_survives_1000_fault_plans(order_saga):
    """The order saga with a Retry on each compensation: faults anywhere, compensations
    failing only as often as their Retry absorbs. 1,000 plans run in about 2.5 s."""
    ledger = Ledger()
    resources = order_saga.resources(ledger)
    plans = []

    @settings(max_examples=1000, deadline=None, database=None)
    @given(fault_plans(order_saga.hardened, max_faults=3,
                       transient=order_saga.compensation_states))
    def compensated(plan):
        plans.append(plan)
        holds(order_saga.hardened, resources, ledger, order_saga.order, plan)

    compensated()
    assert len(plans) >= 900 and any(
        f.state in order_saga.compensation_states for plan in plans for f in plan.faults)


@pytest.mark.parametrize("name", BROKEN)
def test_the_property_catches_each_broken_saga(order_saga, name):
    machine = order_saga.broken(name)
    ledger = Ledger()
    resources = order_saga.resources(ledger)

    @settings(max_examples=200, deadline=None, database=None)
    @given(fault_plans(machine, max_faults=2, states=order_saga.forward))
    def compensated(plan):
        holds(machine, resources, ledger, order_saga.order, plan)

    with pytest.raises(AssertionError, match="saga property violated"):
        compensated()
    smallest = find(fault_plans(machine, states=order_saga.forward),
                    violated(machine, resources, ledger, order_saga.order))
    assert [f.state for f in smallest.faults] == [BROKEN_AT[name]]


# -- a generated saga ----------------------------------------------------------------------

FN = "arn:aws:lambda:us-east-1:123456789012:function:"   # + name: the resources key is the name

SAGA = Saga("Checkout", [
    Step("ReserveInventory", FN + "reserve", compensation=FN + "release"),
    Step("ChargePayment", FN + "charge", compensation=FN + "refund", timeout_seconds=10,
         retry=[{"ErrorEquals": ["Gateway.Busy"], "IntervalSeconds": 2, "MaxAttempts": 2}]),
    Group("Fulfil", [[Step("CreateShipment", FN + "ship", compensation=FN + "cancel-shipment")],
                     [Step("IssueInvoice", FN + "invoice", compensation=FN + "void-invoice"),
                      Step("EmailInvoice", FN + "email")]]),
    Step("SendNotification", FN + "notify"),
])


def saga_resources(ledger: Ledger) -> dict:
    """Forward steps record their effect; compensations of the Parallel group's steps are
    idempotent (the group's catch cannot know which branch got how far)."""
    def forward(effect):
        return lambda data: ledger.do(effect) or {"done": effect}

    def undo(effect):
        return lambda data: ledger.undo(effect) or {}

    def undo_if_done(effect):
        return lambda data: ledger.undo_if_done(effect) and {}

    return {"reserve": forward("reservation"), "charge": forward("payment"),
            "ship": forward("shipment"), "invoice": forward("invoice"), "email": forward("email"),
            "notify": forward("notification"),
            "release": undo("reservation"), "refund": undo("payment"),
            "cancel-shipment": undo_if_done("shipment"), "void-invoice": undo_if_done("invoice")}


def test_a_generated_saga_compensates_under_every_fault_plan():
    machine = SAGA.state_machine()
    ledger = Ledger()
    resources = saga_resources(ledger)
    # "email" has no compensation: it is a notification, nothing to undo. Count it out.
    resources["email"] = lambda data: {}

    @settings(max_examples=400, deadline=None)
    @given(fault_plans(machine, max_faults=3, transient=SAGA.compensation_states()))
    def compensated(plan):
        holds(machine, resources, ledger, {"order": 1}, plan, concurrency="sequential")

    compensated()
    ledger.reset()
    run = run_with_faults(machine, resources, FaultPlan(), {"order": 1})
    assert run.result.status == "SUCCEEDED"
    assert ledger.effects_left() == ["reservation", "payment", "shipment", "invoice", "notification"]
