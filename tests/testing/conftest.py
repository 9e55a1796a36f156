"""Shared fixtures of the saga-testing tests: the order saga, hardened and broken, and
Ledger-based copies of its handlers (no SQLite: effects are ledger entries)."""

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import asl
from asl.testing import Ledger

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ORDER_SAGA = ROOT / "examples" / "order-saga" / "order-saga.asl.json"
BROKEN = HERE / "broken"

#: Forward step -> compensating state of the order saga.
ORDER_COMPENSATIONS = {"ReserveInventory": "CompensateReserve",
                       "ChargePayment": "CompensateCharge",
                       "CreateShipment": "CompensateShip"}
FORWARD = ["ReserveInventory", "ChargePayment", "CreateShipment", "SendNotification"]
COMPENSATIONS = ["CompensateShip", "CompensateCharge", "CompensateReserve"]
COMPENSATION_RETRY = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1,
                       "MaxAttempts": 3, "BackoffRate": 2.0}]


def order_definition() -> dict:
    """The order saga example without the Retry on its compensations: the fragile first
    version, which these tests show the toolkit catching (the example now has them)."""
    definition = json.loads(ORDER_SAGA.read_text())
    for name in COMPENSATIONS:
        definition["States"][name].pop("Retry", None)
    return definition


def hardened_definition() -> dict:
    """The order saga with a Retry on each compensation (what the broken copies start from)."""
    definition = order_definition()
    for name in COMPENSATIONS:
        definition["States"][name]["Retry"] = copy.deepcopy(COMPENSATION_RETRY)
    return definition


def broken_definition(name: str) -> dict:
    return json.loads((BROKEN / f"{name}.json").read_text())


BROKEN_SAGAS = sorted(p.stem for p in BROKEN.glob("*.json"))


def order_resources(ledger: Ledger) -> dict:
    """The order saga's handlers, recording effects in ``ledger`` instead of SQLite.

    Each forward handler records its effect, each compensation undoes one (even one
    never done: the ledger reports that), exactly as the SQLite handlers would act.
    """
    def forward(effect):
        def handler(order):
            ledger.do(f"{effect}:{order['order_id']}")
            return {effect: True}
        return handler

    def compensate(effect):
        def handler(order):
            ledger.undo(f"{effect}:{order['order_id']}")
            return {"undone": effect}
        return handler

    return {
        "reserve-inventory": forward("reservation"),
        "charge-payment": forward("payment"),
        "create-shipment": forward("shipment"),
        "send-notification": forward("notification"),
        "cancel-shipment": compensate("shipment"),
        "refund-payment": compensate("payment"),
        "release-inventory": compensate("reservation"),
    }


ORDER = {"order_id": "o-1", "sku": "SKU-1", "amount": 42.0}


@pytest.fixture(scope="session")
def order_saga():
    """Everything about the order saga a test needs (test modules cannot import conftest
    under --import-mode=importlib, so it comes as one fixture)."""
    return SimpleNamespace(
        machine=asl.StateMachine(order_definition(), name="OrderSaga"),
        hardened=asl.StateMachine(hardened_definition(), name="OrderSagaHardened"),
        definition=order_definition, hardened_definition=hardened_definition,
        broken=lambda name: asl.StateMachine(broken_definition(name), name=name),
        broken_definition=broken_definition, broken_names=BROKEN_SAGAS,
        resources=order_resources, order=dict(ORDER), compensations=dict(ORDER_COMPENSATIONS),
        forward=list(FORWARD), compensation_states=list(COMPENSATIONS))
