"""Handlers of the order saga: every side effect is a row in a real SQLite database.

``asl run --resources examples/order-saga/handlers.py`` loads ``RESOURCES``: one entry per
step, keyed by the Lambda function name in the definition's Resource ARNs.

Faults are injected by the input alone: ``"fail_at": "charge" | "ship" | "notify"``
makes that step raise, so every scenario runs the real handlers with no mocks.

The database is ``ORDER_SAGA_DB`` (default: ``order-saga.db`` in the working directory).

Every side effect is also recorded in ``LEDGER``, an ``asl.testing.Ledger``: a step calls
``LEDGER.do("<effect>:<order_id>")`` once its row is written, a compensation
``LEDGER.undo(...)`` once the row is deleted. ``asl faults --resources handlers.py`` reads
it for its "effects left" column; the property test checks the saga property on it.
"""

import os
import sqlite3
import uuid

from asl.testing import Ledger

#: The effects in place: reservation, payment, shipment, notification (":<order_id>").
LEDGER = Ledger()

SCHEMA = """
CREATE TABLE IF NOT EXISTS inventory (order_id TEXT PRIMARY KEY, sku TEXT, quantity INTEGER);
CREATE TABLE IF NOT EXISTS payments (order_id TEXT PRIMARY KEY, payment_id TEXT, amount REAL);
CREATE TABLE IF NOT EXISTS shipments (order_id TEXT PRIMARY KEY, tracking_number TEXT);
CREATE TABLE IF NOT EXISTS notifications (order_id TEXT, topic TEXT, message TEXT);
"""


class InventoryUnavailable(Exception):
    pass


class PaymentDeclined(Exception):
    pass


class ShipmentFailed(Exception):
    pass


class NotificationFailed(Exception):
    pass


def database_path() -> str:
    return os.environ.get("ORDER_SAGA_DB", "order-saga.db")


def connect() -> sqlite3.Connection:
    connection = sqlite3.connect(database_path())
    connection.executescript(SCHEMA)
    return connection


def _fault(order: dict, step: str, error: type) -> None:
    if order.get("fail_at") == step:
        raise error(f"{step} failed for order {order['order_id']} (fail_at={step})")


def reserve_inventory(order):
    _fault(order, "reserve", InventoryUnavailable)
    with connect() as db:
        db.execute("INSERT OR REPLACE INTO inventory VALUES (?, ?, ?)",
                   (order["order_id"], order.get("sku", "SKU-1"), order.get("quantity", 1)))
    LEDGER.do(f"reservation:{order['order_id']}")
    return {"reserved": True}


def charge_payment(order):
    _fault(order, "charge", PaymentDeclined)
    payment_id = f"pay-{uuid.uuid4().hex[:8]}"
    with connect() as db:
        db.execute("INSERT OR REPLACE INTO payments VALUES (?, ?, ?)",
                   (order["order_id"], payment_id, order.get("amount", 10.0)))
    LEDGER.do(f"payment:{order['order_id']}")
    return {"payment_id": payment_id}


def create_shipment(order):
    _fault(order, "ship", ShipmentFailed)
    tracking = f"TRK-{uuid.uuid4().hex[:8].upper()}"
    with connect() as db:
        db.execute("INSERT OR REPLACE INTO shipments VALUES (?, ?)", (order["order_id"], tracking))
    LEDGER.do(f"shipment:{order['order_id']}")
    return {"tracking_number": tracking}


def send_notification(order):
    _fault(order, "notify", NotificationFailed)
    with connect() as db:
        db.execute("INSERT INTO notifications VALUES (?, ?, ?)",
                   (order["order_id"], "order-events", f"order {order['order_id']} shipped"))
    LEDGER.do(f"notification:{order['order_id']}")
    return {"notified": True}


def cancel_shipment(order):
    with connect() as db:
        db.execute("DELETE FROM shipments WHERE order_id = ?", (order["order_id"],))
    LEDGER.undo(f"shipment:{order['order_id']}")
    return {"cancelled": True}


def refund_payment(order):
    with connect() as db:
        db.execute("DELETE FROM payments WHERE order_id = ?", (order["order_id"],))
    LEDGER.undo(f"payment:{order['order_id']}")
    return {"refunded": True}


def release_inventory(order):
    with connect() as db:
        db.execute("DELETE FROM inventory WHERE order_id = ?", (order["order_id"],))
    LEDGER.undo(f"reservation:{order['order_id']}")
    return {"released": True}


RESOURCES = {
    "reserve-inventory": reserve_inventory,
    "charge-payment": charge_payment,
    "create-shipment": create_shipment,
    "send-notification": send_notification,
    "cancel-shipment": cancel_shipment,
    "refund-payment": refund_payment,
    "release-inventory": release_inventory,
}
