"""The four-step order saga (order_saga.json): reserve -> charge -> ship -> notify.

Every forward step catches States.ALL with ResultPath $.error into the compensation of
the step before it; compensations run backwards (CompensateShip -> CompensateCharge ->
CompensateReserve) and end in the Fail state "saga compensated". A failed reservation
has nothing to undo and goes straight to its own Fail state.
"""

import json
from pathlib import Path

import pytest

import asl

from .support import T0

DEFINITION = json.loads((Path(__file__).parent / "order_saga.json").read_text(encoding="utf-8"))
ORDER = {"orderId": "o-42", "items": [{"sku": "A1", "qty": 2}], "amount": 99.5, "address": "1 Main St"}

FORWARD = ["ReserveInventory", "ChargePayment", "ShipOrder", "NotifyCustomer"]


class CarrierUnavailable(Exception):
    pass


class Services:
    """The saga's resources: each records its calls in one shared log; ``fault`` makes
    one forward step fail."""

    def __init__(self, fault: str | None = None, flaky_compensation: bool = False):
        self.fault = fault
        self.flaky_compensation = flaky_compensation
        self.log: list[tuple[str, dict]] = []

    def reserve(self, payload):
        self.log.append(("reserve", payload))
        if self.fault == "reserve":
            raise asl.TaskFailed("OutOfStock", "sku A1 is out of stock")
        return {"reservationId": "r-1"}

    def charge(self, payload):
        self.log.append(("charge", payload))
        if self.fault == "charge":
            raise asl.TaskFailed("PaymentDeclined", "card declined")
        return {"paymentId": "p-1", "extra": "dropped by ResultSelector"}

    def ship(self, payload):
        self.log.append(("ship", payload))
        if self.fault == "ship":
            raise CarrierUnavailable("no truck today")
        return {"trackingId": "t-1"}

    def notify(self, payload):
        self.log.append(("notify", payload))
        if self.fault == "notify":
            raise asl.TaskFailed("SNS.InvalidParameterException", "topic is gone")
        return {"MessageId": "m-1"}

    def cancel_shipment(self, payload):
        self.log.append(("cancel-shipment", payload))
        if self.flaky_compensation and sum(1 for name, _ in self.log if name == "cancel-shipment") == 1:
            raise asl.TaskFailed("Lambda.ServiceException", "try again")
        return {"cancelled": True}

    def refund(self, payload):
        self.log.append(("refund", payload))
        return {"refunded": True}

    def release(self, payload):
        self.log.append(("release", payload))
        return {}

    def resources(self) -> dict:
        return {
            "saga-reserve": self.reserve,
            "saga-charge": self.charge,
            "arn:aws:lambda:us-east-1:123456789012:function:saga-ship": self.ship,
            "arn:aws:states:::sns:publish": self.notify,
            "saga-cancel-shipment": self.cancel_shipment,
            "saga-refund": self.refund,
            "arn:aws:states:::dynamodb:putItem": self.release,
        }

    def calls(self) -> list[str]:
        return [name for name, _ in self.log]

    def payload(self, name: str) -> dict:
        return next(payload for called, payload in self.log if called == name)


def run_saga(services: Services):
    sm = asl.StateMachine(DEFINITION, name="OrderSaga", region="us-east-1", account="123456789012",
                          role_arn="arn:aws:iam::123456789012:role/Saga")
    clock = asl.VirtualClock(start=T0)
    return sm.execute(ORDER, resources=services.resources(), clock=clock, name="exec-1"), clock


def entered_input(result, state: str) -> dict:
    event = next(e for e in result.history if e["type"].endswith("StateEntered")
                 and e["stateEnteredEventDetails"]["name"] == state)
    return json.loads(event["stateEnteredEventDetails"]["input"])


SCENARIOS = {
    # fault: (states entered, calls in order, error, cause)
    None: (FORWARD + ["OrderCompleted"],
           ["reserve", "charge", "ship", "notify"], None, None),
    "charge": (["ReserveInventory", "ChargePayment", "CompensateReserve", "SagaFailed"],
               ["reserve", "charge", "release"], "SagaCompensated", "saga compensated"),
    "ship": (["ReserveInventory", "ChargePayment", "ShipOrder", "CompensateCharge", "CompensateReserve", "SagaFailed"],
             ["reserve", "charge", "ship", "refund", "release"], "SagaCompensated", "saga compensated"),
    "notify": (FORWARD + ["CompensateShip", "CompensateCharge", "CompensateReserve", "SagaFailed"],
               ["reserve", "charge", "ship", "notify", "cancel-shipment", "refund", "release"],
               "SagaCompensated", "saga compensated"),
}


@pytest.mark.parametrize("fault", list(SCENARIOS), ids=["no-fault", "fault-at-charge", "fault-at-ship", "fault-at-notify"])
def test_saga_scenarios(fault):
    states, calls, error, cause = SCENARIOS[fault]
    services = Services(fault)
    result, _ = run_saga(services)
    assert result.states == states
    assert services.calls() == calls
    assert result.status == ("SUCCEEDED" if fault is None else "FAILED")
    assert (result.error, result.cause) == (error, cause)
    assert result.history[-1]["type"] == ("ExecutionSucceeded" if fault is None else "ExecutionFailed")


def test_no_fault_output_carries_every_step_result():
    services = Services()
    result, _ = run_saga(services)
    assert result.output == dict(ORDER,
                                 reservation={"reservationId": "r-1"},
                                 payment={"paymentId": "p-1"},
                                 shipment={"trackingId": "t-1"},
                                 notification={"MessageId": "m-1"})
    assert services.payload("reserve") == {"orderId": "o-42", "items": [{"sku": "A1", "qty": 2}]}
    assert services.payload("charge") == {"orderId": "o-42", "amount": 99.5, "reservationId": "r-1"}
    assert services.payload("ship") == {"orderId": "o-42", "address": "1 Main St"}
    assert services.payload("notify") == {"TopicArn": "arn:aws:sns:us-east-1:123456789012:orders",
                                          "Message": "Order o-42 shipped as t-1"}


def test_compensations_receive_what_they_undo():
    services = Services("notify")
    result, _ = run_saga(services)
    assert services.payload("cancel-shipment") == {"orderId": "o-42", "trackingId": "t-1"}
    assert services.payload("refund") == {"orderId": "o-42", "paymentId": "p-1"}
    assert services.payload("release") == {"TableName": "Reservations",
                                           "Item": {"reservationId": {"S": "r-1"}, "status": {"S": "RELEASED"}}}


@pytest.mark.parametrize("fault, first_compensation, error", [
    ("charge", "CompensateReserve", {"Error": "PaymentDeclined", "Cause": "card declined"}),
    ("notify", "CompensateShip", {"Error": "SNS.InvalidParameterException", "Cause": "topic is gone"}),
])
def test_the_error_is_kept_beside_the_order(fault, first_compensation, error):
    """The catchers use ResultPath $.error: the compensation sees the order and the error."""
    result, _ = run_saga(Services(fault))
    data = entered_input(result, first_compensation)
    assert data["error"] == error
    assert data["orderId"] == "o-42"


def test_lambda_exception_reaches_the_compensation_as_json_cause():
    result, _ = run_saga(Services("ship"))
    error = entered_input(result, "CompensateCharge")["error"]
    assert error["Error"] == "CarrierUnavailable"
    cause = json.loads(error["Cause"])
    assert (cause["errorType"], cause["errorMessage"]) == ("CarrierUnavailable", "no truck today")


def test_failed_reservation_has_nothing_to_compensate():
    services = Services("reserve")
    result, _ = run_saga(services)
    assert result.states == ["ReserveInventory", "ReservationFailed"]
    assert services.calls() == ["reserve"]
    assert (result.status, result.error, result.cause) == ("FAILED", "OutOfStock", "sku A1 is out of stock")


def test_a_flaky_compensation_is_retried_and_the_order_kept():
    services = Services("notify", flaky_compensation=True)
    result, clock = run_saga(services)
    assert services.calls() == ["reserve", "charge", "ship", "notify",
                                "cancel-shipment", "cancel-shipment", "refund", "release"]
    assert (result.status, result.error) == ("FAILED", "SagaCompensated")
    assert clock.schedule == [("CompensateShip", "Retry", 1)]
