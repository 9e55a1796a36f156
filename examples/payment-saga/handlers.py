"""Handlers of the payment saga: five forward steps, four compensations, all over SQLite.

``asl run --resources examples/payment-saga/handlers.py`` loads ``RESOURCES``, keyed by the
Lambda function names in the definition's Resource ARNs.

Forward steps and what undoes them:

==================  ====================  =====================
step                does                  compensation
==================  ====================  =====================
CreateOrder         order CREATED         CancelOrder: CANCELLED
ChargePayment       payment CHARGED       RefundPayment: REFUNDED
ReserveInventory    stock taken           ReleaseInventory: stock back
CreateShipment      shipment CREATED      CancelShipment: CANCELLED
SendConfirmation    e-mail sent           (none: an e-mail cannot be unsent)
==================  ====================  =====================

Compensations are idempotent: each undoes only what is in place, so a retried
compensation (they retry every error, after 1 s, 2 s, 4 s) never undoes twice.

Faults are injected by the input alone: ``"fail_at": "order" | "charge" | "reserve" |
"ship" | "confirm"`` makes that step raise; ``"flaky": ["refund", ...]`` makes the named
compensations (``order``, ``refund``, ``release``, ``shipment``) fail on their first call,
so that their Retry shows. Every call, forward or compensating, is a row in ``saga_log``
with its outcome.

The database is ``PAYMENT_SAGA_DB`` (default: ``payment-saga.db`` in the working directory).

Every side effect is also recorded in ``LEDGER``, an ``asl.testing.Ledger``: a forward step
calls ``LEDGER.do("<effect>:<order_id>")`` (``order``, ``payment``, ``reservation``,
``shipment``, ``confirmation``) once its rows are written, a compensation ``LEDGER.undo(...)``
once it has reversed them. ``asl faults --resources handlers.py`` reads it for its "effects
left" column; the property test checks the saga property on it.
"""

import os
import sqlite3
import uuid
from contextlib import contextmanager

from asl.testing import Ledger

#: The effects in place: order, payment, reservation, shipment, confirmation (":<order_id>").
LEDGER = Ledger()

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, customer TEXT, status TEXT);
CREATE TABLE IF NOT EXISTS payments (order_id TEXT PRIMARY KEY, payment_id TEXT, amount REAL, status TEXT);
CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, available INTEGER);
CREATE TABLE IF NOT EXISTS reservations (order_id TEXT PRIMARY KEY, sku TEXT, quantity INTEGER, status TEXT);
CREATE TABLE IF NOT EXISTS shipments (order_id TEXT PRIMARY KEY, tracking_number TEXT, status TEXT);
CREATE TABLE IF NOT EXISTS confirmations (order_id TEXT, email TEXT);
CREATE TABLE IF NOT EXISTS saga_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT,
                                     action TEXT, outcome TEXT);
INSERT OR IGNORE INTO stock VALUES ('SKU-1', 100);
"""


class OrderRejected(Exception):
    pass


class PaymentDeclined(Exception):
    pass


class InventoryUnavailable(Exception):
    pass


class ShipmentFailed(Exception):
    pass


class ConfirmationFailed(Exception):
    pass


class CompensationGlitch(Exception):
    """A transient failure of a compensation: its Retry takes care of it."""


def database_path() -> str:
    return os.environ.get("PAYMENT_SAGA_DB", "payment-saga.db")


@contextmanager
def transaction():
    """A connection that commits (or rolls back) and closes at the end of the block."""
    connection = sqlite3.connect(database_path())
    try:
        connection.executescript(SCHEMA)
        with connection:
            yield connection
    finally:
        connection.close()


def log(db: sqlite3.Connection, order: dict, action: str, outcome: str = "done") -> None:
    db.execute("INSERT INTO saga_log (order_id, action, outcome) VALUES (?, ?, ?)",
               (order["order_id"], action, outcome))


def _fault(order: dict, step: str, action: str, error: type) -> None:
    if order.get("fail_at") == step:
        with transaction() as db:
            log(db, order, action, "failed")
        raise error(f"{action} failed for order {order['order_id']} (fail_at={step})")


def _glitch(order: dict, name: str, action: str) -> None:
    """Fail the first call of a compensation listed in ``flaky``."""
    if name not in order.get("flaky", ()):
        return
    with transaction() as db:
        calls = db.execute("SELECT COUNT(*) FROM saga_log WHERE order_id = ? AND action = ?",
                           (order["order_id"], action)).fetchone()[0]
        if calls == 0:
            log(db, order, action, "glitch")
    if calls == 0:
        raise CompensationGlitch(f"{action} could not reach its service (first call)")


# -- forward steps ----------------------------------------------------------------------

def create_order(order):
    _fault(order, "order", "create-order", OrderRejected)
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?, 'CREATED')",
                   (order["order_id"], order.get("customer", "ann@example.com")))
        log(db, order, "create-order")
    LEDGER.do(f"order:{order['order_id']}")
    return {"status": "CREATED"}


def charge_payment(order):
    _fault(order, "charge", "charge-payment", PaymentDeclined)
    payment_id = f"pay-{uuid.uuid4().hex[:8]}"
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO payments VALUES (?, ?, ?, 'CHARGED')",
                   (order["order_id"], payment_id, order.get("amount", 10.0)))
        log(db, order, "charge-payment")
    LEDGER.do(f"payment:{order['order_id']}")
    return {"payment_id": payment_id}


def reserve_inventory(order):
    _fault(order, "reserve", "reserve-inventory", InventoryUnavailable)
    sku, quantity = order.get("sku", "SKU-1"), order.get("quantity", 1)
    with transaction() as db:
        db.execute("UPDATE stock SET available = available - ? WHERE sku = ?", (quantity, sku))
        db.execute("INSERT OR REPLACE INTO reservations VALUES (?, ?, ?, 'RESERVED')",
                   (order["order_id"], sku, quantity))
        log(db, order, "reserve-inventory")
    LEDGER.do(f"reservation:{order['order_id']}")
    return {"sku": sku, "quantity": quantity}


def create_shipment(order):
    _fault(order, "ship", "create-shipment", ShipmentFailed)
    tracking = f"TRK-{uuid.uuid4().hex[:8].upper()}"
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO shipments VALUES (?, ?, 'CREATED')", (order["order_id"], tracking))
        log(db, order, "create-shipment")
    LEDGER.do(f"shipment:{order['order_id']}")
    return {"tracking_number": tracking}


def send_confirmation(order):
    _fault(order, "confirm", "send-confirmation", ConfirmationFailed)
    with transaction() as db:
        db.execute("INSERT INTO confirmations VALUES (?, ?)",
                   (order["order_id"], order.get("customer", "ann@example.com")))
        log(db, order, "send-confirmation")
    LEDGER.do(f"confirmation:{order['order_id']}")
    return {"sent": True}


# -- compensations (their input is the state data, with the caught error in $.error) ---------

def cancel_shipment(order):
    _glitch(order, "shipment", "cancel-shipment")
    with transaction() as db:
        db.execute("UPDATE shipments SET status = 'CANCELLED' WHERE order_id = ? AND status = 'CREATED'",
                   (order["order_id"],))
        log(db, order, "cancel-shipment")
    LEDGER.undo(f"shipment:{order['order_id']}")
    return {"cancelled": True}


def release_inventory(order):
    _glitch(order, "release", "release-inventory")
    with transaction() as db:
        row = db.execute("SELECT sku, quantity FROM reservations WHERE order_id = ? AND status = 'RESERVED'",
                         (order["order_id"],)).fetchone()
        if row:
            db.execute("UPDATE stock SET available = available + ? WHERE sku = ?", (row[1], row[0]))
            db.execute("UPDATE reservations SET status = 'RELEASED' WHERE order_id = ?", (order["order_id"],))
        log(db, order, "release-inventory")
    LEDGER.undo(f"reservation:{order['order_id']}")
    return {"released": bool(row)}


def refund_payment(order):
    _glitch(order, "refund", "refund-payment")
    with transaction() as db:
        db.execute("UPDATE payments SET status = 'REFUNDED' WHERE order_id = ? AND status = 'CHARGED'",
                   (order["order_id"],))
        log(db, order, "refund-payment")
    LEDGER.undo(f"payment:{order['order_id']}")
    return {"refunded": True}


def cancel_order(order):
    _glitch(order, "order", "cancel-order")
    with transaction() as db:
        db.execute("UPDATE orders SET status = 'CANCELLED' WHERE order_id = ?", (order["order_id"],))
        log(db, order, "cancel-order")
    LEDGER.undo(f"order:{order['order_id']}")
    return {"cancelled": True}


RESOURCES = {
    "create-order": create_order,
    "charge-payment": charge_payment,
    "reserve-inventory": reserve_inventory,
    "create-shipment": create_shipment,
    "send-confirmation": send_confirmation,
    "cancel-shipment": cancel_shipment,
    "release-inventory": release_inventory,
    "refund-payment": refund_payment,
    "cancel-order": cancel_order,
}
