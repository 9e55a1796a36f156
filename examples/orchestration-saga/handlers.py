"""Handlers of the orchestration saga: typed errors, and an order whose status lives in SQLite.

``asl run --resources examples/orchestration-saga/handlers.py`` loads ``RESOURCES``, keyed by
the Lambda function names in the definition's Resource ARNs.

Each handler takes the previous one's output and returns the order one step further on:
CreateOrder turns the request into an order (CREATED), ReserveInventory returns the
reserved order (RESERVED), ChargePayment the paid order (PAID), CreateShipment the shipped
order with its tracking number (SHIPPED).

Failures are typed: a handler raises an exception *class*, and as the Lambda runtime
reports the class name as ``errorType``, the error the state machine sees is that name
(``InventoryUnavailable``, ``PaymentDeclined``) and its Catch can name it. Before raising,
the handler records what happened to the order (INVENTORY_FAILED, PAYMENT_DECLINED).

Scenarios come from the input alone, with no fault flags: the stock decides whether an SKU
can be reserved (``SKU-OUT`` has none, ``SKU-2`` has 5), the card number whether a charge
goes through (``4000000000000002`` is declined, ``4000000000000119`` makes the gateway fail
with an error nobody catches).

The database is ``ORCHESTRATION_SAGA_DB`` (default: ``orchestration-saga.db`` in the working
directory); its ``order_events`` table keeps every status an order went through.

The side effects a failure should undo are also recorded in ``LEDGER``, an
``asl.testing.Ledger``: ReserveInventory, ChargePayment and CreateShipment call
``LEDGER.do("reservation:<order_id>")`` (``payment:``, ``shipment:``) once their rows are
written, ReleaseInventory ``LEDGER.undo("reservation:<order_id>")`` once the stock is back.
The order row CreateOrder writes is not one: it is the record of what happened to the
order, kept (with its last status) whatever the outcome. ``asl faults --resources
handlers.py`` reads the ledger for its "effects left" column.
"""

import os
import sqlite3
import uuid
from contextlib import contextmanager

from asl.testing import Ledger

#: The effects in place: reservation, payment, shipment (":<order_id>").
LEDGER = Ledger()

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, sku TEXT, quantity INTEGER,
                                   amount REAL, status TEXT, tracking_number TEXT);
CREATE TABLE IF NOT EXISTS order_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT,
                                         status TEXT);
CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, available INTEGER);
CREATE TABLE IF NOT EXISTS reservations (order_id TEXT PRIMARY KEY, sku TEXT, quantity INTEGER);
CREATE TABLE IF NOT EXISTS payments (order_id TEXT PRIMARY KEY, payment_id TEXT, amount REAL);
CREATE TABLE IF NOT EXISTS shipments (order_id TEXT PRIMARY KEY, tracking_number TEXT);
INSERT OR IGNORE INTO stock VALUES ('SKU-1', 100), ('SKU-2', 5), ('SKU-OUT', 0);
"""

DECLINED_CARD = "4000000000000002"
GATEWAY_ERROR_CARD = "4000000000000119"


class InventoryUnavailable(Exception):
    """Not enough stock for the order's SKU."""


class PaymentDeclined(Exception):
    """The card was declined."""


class PaymentGatewayError(Exception):
    """The payment gateway failed: no Catch names this error."""


def database_path() -> str:
    return os.environ.get("ORCHESTRATION_SAGA_DB", "orchestration-saga.db")


def connect() -> sqlite3.Connection:
    connection = sqlite3.connect(database_path())
    connection.executescript(SCHEMA)
    return connection


@contextmanager
def transaction():
    """A connection that commits (or rolls back) and closes at the end of the block."""
    connection = connect()
    try:
        with connection:
            yield connection
    finally:
        connection.close()


def set_status(db: sqlite3.Connection, order_id: str, status: str) -> None:
    db.execute("UPDATE orders SET status = ? WHERE order_id = ?", (status, order_id))
    db.execute("INSERT INTO order_events (order_id, status) VALUES (?, ?)", (order_id, status))


def create_order(request):
    order = {"order_id": request.get("order_id") or f"ord-{uuid.uuid4().hex[:8]}",
             "sku": request.get("sku", "SKU-1"), "quantity": request.get("quantity", 1),
             "amount": request.get("amount", 10.0), "card": request.get("card", "4242424242424242")}
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, 'CREATED', NULL)",
                   (order["order_id"], order["sku"], order["quantity"], order["amount"]))
        db.execute("INSERT INTO order_events (order_id, status) VALUES (?, 'CREATED')", (order["order_id"],))
    return {**order, "status": "CREATED"}


def reserve_inventory(order):
    with transaction() as db:
        # One statement checks and takes the stock, so two orders cannot both get the last unit.
        taken = db.execute("UPDATE stock SET available = available - ? WHERE sku = ? AND available >= ?",
                           (order["quantity"], order["sku"], order["quantity"])).rowcount
        if not taken:
            set_status(db, order["order_id"], "INVENTORY_FAILED")
    if not taken:
        raise InventoryUnavailable(f"{order['quantity']} x {order['sku']} not in stock "
                                   f"for order {order['order_id']}")
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO reservations VALUES (?, ?, ?)",
                   (order["order_id"], order["sku"], order["quantity"]))
        set_status(db, order["order_id"], "RESERVED")
    LEDGER.do(f"reservation:{order['order_id']}")
    return {**order, "status": "RESERVED"}


def charge_payment(order):
    if order["card"] == GATEWAY_ERROR_CARD:
        raise PaymentGatewayError("the payment gateway returned HTTP 502")
    if order["card"] == DECLINED_CARD:
        with transaction() as db:
            set_status(db, order["order_id"], "PAYMENT_DECLINED")
        raise PaymentDeclined(f"card ending {order['card'][-4:]} declined for order {order['order_id']}")
    payment_id = f"pay-{uuid.uuid4().hex[:8]}"
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO payments VALUES (?, ?, ?)",
                   (order["order_id"], payment_id, order["amount"]))
        set_status(db, order["order_id"], "PAID")
    LEDGER.do(f"payment:{order['order_id']}")
    return {**order, "status": "PAID", "payment_id": payment_id}


def create_shipment(order):
    tracking = f"TRK-{uuid.uuid4().hex[:8].upper()}"
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO shipments VALUES (?, ?)", (order["order_id"], tracking))
        db.execute("UPDATE orders SET tracking_number = ? WHERE order_id = ?", (tracking, order["order_id"]))
        set_status(db, order["order_id"], "SHIPPED")
    LEDGER.do(f"shipment:{order['order_id']}")
    return {**order, "status": "SHIPPED", "tracking_number": tracking}


def release_inventory(order):
    """Undo ReserveInventory: put the stock back. Its input is the reserved order plus the
    caught error in ``error`` (the Catch's ResultPath)."""
    with transaction() as db:
        row = db.execute("SELECT sku, quantity FROM reservations WHERE order_id = ?",
                         (order["order_id"],)).fetchone()
        if row:     # idempotent: releasing twice puts the stock back once
            db.execute("UPDATE stock SET available = available + ? WHERE sku = ?", (row[1], row[0]))
            db.execute("DELETE FROM reservations WHERE order_id = ?", (order["order_id"],))
        set_status(db, order["order_id"], "INVENTORY_RELEASED")
    LEDGER.undo(f"reservation:{order['order_id']}")
    return {**order, "status": "INVENTORY_RELEASED"}


RESOURCES = {
    "create-order": create_order,
    "reserve-inventory": reserve_inventory,
    "charge-payment": charge_payment,
    "create-shipment": create_shipment,
    "release-inventory": release_inventory,
}
