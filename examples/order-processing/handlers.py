"""Handlers of the order-processing workflow: every side effect is a row in SQLite.

``asl run --resources examples/order-processing/handlers.py`` loads ``RESOURCES``, keyed by
the Lambda function names in the definition (``request-approval`` is the ``FunctionName``
of the ``lambda:invoke.waitForTaskToken`` task).

An order::

    {"order_id": "o-1", "type": "express" | "standard", "email": "ann@example.com",
     "items": [{"sku": "SKU-1", "quantity": 2}], "amount": 59.9, "card": "4242424242424242"}

What the input can make happen (no mocks: the handlers react to the data):

* ``ValidationError`` for an order with no items, a non-positive amount or an unknown type;
  ``"validation_delay_seconds": N`` makes the validator take N seconds (virtual time under
  a VirtualClock), beyond the state's TimeoutSeconds (10) for N > 10;
* ``"gateway_timeouts": N``: the first N payment attempts raise ``PaymentGatewayTimeout``
  (every attempt is a row in ``payment_attempts``); the card ``4000000000000002`` raises
  ``PaymentDeclined``;
* an SKU without enough stock (``SKU-OUT`` has none) raises ``InventoryUnavailable`` in
  the ReserveInventory branch (all items or none: nothing is reserved then);
* ``request_approval`` records the task token in ``approvals`` and returns: someone must
  answer with SendTaskSuccess / SendTaskFailure (``Execution.send_task_success`` in the
  tests). With ``"auto_approval": "approve"`` or ``"reject"`` in the order it answers itself at
  once, which is how ``asl run`` can show the whole flow; with neither, nobody answers and
  the task times out after 24 hours (at once under ``--virtual-time``).

The database is ``ORDER_PROCESSING_DB`` (default: ``order-processing.db`` in the working
directory).

The side effects a failure should undo are also recorded in ``LEDGER``, an
``asl.testing.Ledger``: ProcessPayment, ReserveInventory and the shipping handlers call
``LEDGER.do("payment:<order_id>")`` (``reservation:``, ``shipment:``) once their rows are
written; the compensations undo them (ReleaseInventory with ``undo_if_done``: it runs
whether or not its branch reserved anything). Not recorded: the order row and its
status history (the record of what happened, kept whatever the outcome), the approval
request (the task token, a pointer for the approver), and the confirmation e-mail (it
cannot be unsent; and whether it went out before the other branch failed depends on
thread timing). ``asl faults --resources handlers.py`` reads the ledger for its "effects
left" column.
"""

import os
import sqlite3
import uuid
from contextlib import contextmanager

from asl.testing import Ledger

#: The effects in place: payment, reservation, shipment (":<order_id>").
LEDGER = Ledger()

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, type TEXT, amount REAL, status TEXT);
CREATE TABLE IF NOT EXISTS order_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT,
                                         status TEXT);
CREATE TABLE IF NOT EXISTS payment_attempts (order_id TEXT, attempt INTEGER, outcome TEXT);
CREATE TABLE IF NOT EXISTS payments (order_id TEXT PRIMARY KEY, payment_id TEXT, amount REAL,
                                     refunded INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, available INTEGER);
CREATE TABLE IF NOT EXISTS reservations (order_id TEXT, sku TEXT, quantity INTEGER);
CREATE TABLE IF NOT EXISTS emails (order_id TEXT, recipient TEXT, subject TEXT);
CREATE TABLE IF NOT EXISTS approvals (order_id TEXT PRIMARY KEY, task_token TEXT);
CREATE TABLE IF NOT EXISTS shipments (order_id TEXT PRIMARY KEY, service TEXT, tracking_number TEXT);
INSERT OR IGNORE INTO stock VALUES ('SKU-1', 100), ('SKU-2', 100), ('SKU-OUT', 0);
"""

ORDER_TYPES = ("express", "standard")
DECLINED_CARD = "4000000000000002"


class ValidationError(Exception):
    """The order is malformed."""


class PaymentGatewayTimeout(Exception):
    """The payment gateway did not answer in time: worth retrying."""


class PaymentDeclined(Exception):
    """The card was declined: not worth retrying."""


class InventoryUnavailable(Exception):
    """Not enough stock for an item."""


def database_path() -> str:
    return os.environ.get("ORDER_PROCESSING_DB", "order-processing.db")


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


def set_status(db: sqlite3.Connection, order_id: str, status: str) -> None:
    db.execute("UPDATE orders SET status = ? WHERE order_id = ?", (status, order_id))
    db.execute("INSERT INTO order_events (order_id, status) VALUES (?, ?)", (order_id, status))


def validate_order(order, task):
    """Check the order; ``task.sleep`` spends (virtual) time, so a slow validator meets
    the state's TimeoutSeconds."""
    delay = order.get("validation_delay_seconds", 0)
    if delay:
        task.sleep(delay)
    problems = []
    if not order.get("items"):
        problems.append("no items")
    if not isinstance(order.get("amount"), (int, float)) or order["amount"] <= 0:
        problems.append("amount must be positive")
    if order.get("type") not in ORDER_TYPES:
        problems.append(f"type must be one of {', '.join(ORDER_TYPES)}")
    if problems:
        raise ValidationError(f"order {order.get('order_id')}: {'; '.join(problems)}")
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?, ?, 'VALIDATED')",
                   (order["order_id"], order["type"], order["amount"]))
        db.execute("INSERT INTO order_events (order_id, status) VALUES (?, 'VALIDATED')", (order["order_id"],))
    return {"valid": True, "items": len(order["items"])}


def process_payment(order):
    with transaction() as db:
        attempt = 1 + db.execute("SELECT COUNT(*) FROM payment_attempts WHERE order_id = ?",
                                 (order["order_id"],)).fetchone()[0]
        if attempt <= order.get("gateway_timeouts", 0):
            outcome = "TIMEOUT"
        elif order.get("card") == DECLINED_CARD:
            outcome = "DECLINED"
        else:
            outcome = "CHARGED"
        db.execute("INSERT INTO payment_attempts VALUES (?, ?, ?)", (order["order_id"], attempt, outcome))
        if outcome == "CHARGED":
            payment_id = f"pay-{uuid.uuid4().hex[:8]}"
            db.execute("INSERT OR REPLACE INTO payments VALUES (?, ?, ?, 0)",
                       (order["order_id"], payment_id, order["amount"]))
            set_status(db, order["order_id"], "PAID")
        elif outcome == "DECLINED":
            set_status(db, order["order_id"], "PAYMENT_DECLINED")
    if outcome == "TIMEOUT":
        raise PaymentGatewayTimeout(f"no answer from the payment gateway (attempt {attempt})")
    if outcome == "DECLINED":
        raise PaymentDeclined(f"card ending {order['card'][-4:]} declined")
    LEDGER.do(f"payment:{order['order_id']}")
    return {"payment_id": payment_id, "attempts": attempt}


def reserve_inventory(order):
    with transaction() as db:
        # All items or none: the transaction rolls back if one is missing.
        for item in order["items"]:
            taken = db.execute("UPDATE stock SET available = available - ? WHERE sku = ? AND available >= ?",
                               (item["quantity"], item["sku"], item["quantity"])).rowcount
            if not taken:
                raise InventoryUnavailable(f"{item['quantity']} x {item['sku']} not in stock")
            db.execute("INSERT INTO reservations VALUES (?, ?, ?)",
                       (order["order_id"], item["sku"], item["quantity"]))
    LEDGER.do(f"reservation:{order['order_id']}")
    return {"reserved": [item["sku"] for item in order["items"]]}


def send_confirmation(order):
    recipient = order.get("email", "customer@example.com")
    with transaction() as db:
        db.execute("INSERT INTO emails VALUES (?, ?, ?)",
                   (order["order_id"], recipient, f"We have your order {order['order_id']}"))
    return {"emailed": recipient}


def release_inventory(order):
    """Undo ReserveInventory, if its branch got that far: the Parallel's Catch cannot know
    whether it did, so this puts back only what the order holds (and nothing twice)."""
    with transaction() as db:
        held = db.execute("SELECT sku, quantity FROM reservations WHERE order_id = ?",
                          (order["order_id"],)).fetchall()
        for sku, quantity in held:
            db.execute("UPDATE stock SET available = available + ? WHERE sku = ?", (quantity, sku))
        db.execute("DELETE FROM reservations WHERE order_id = ?", (order["order_id"],))
    LEDGER.undo_if_done(f"reservation:{order['order_id']}")
    return {"released": [sku for sku, _ in held]}


def refund_payment(order):
    """Undo ProcessPayment (the Parallel's Catch put the error in ``$.error``)."""
    with transaction() as db:
        db.execute("UPDATE payments SET refunded = 1 WHERE order_id = ?", (order["order_id"],))
        set_status(db, order["order_id"], "REFUNDED")
    LEDGER.undo(f"payment:{order['order_id']}")
    return {"refunded": order["payment"]["payment_id"]}


def request_approval(payload, task):
    """Ask a human to approve: store the task token where the approval UI would find it.

    The task's result is whatever the approver sends with SendTaskSuccess; a rejection is
    SendTaskFailure with the error ``ApprovalRejected``.
    """
    order = payload["order"]
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO approvals VALUES (?, ?)", (order["order_id"], payload["taskToken"]))
        set_status(db, order["order_id"], "AWAITING_APPROVAL")
    if order.get("auto_approval") == "approve":
        task.send_task_success({"approved": True, "approver": "auto"})
    elif order.get("auto_approval") == "reject":
        task.send_task_failure("ApprovalRejected", "rejected automatically (auto_approval: reject)")
    return {"requested": True}


def _ship(order, service):
    tracking = f"{service[:3].upper()}-{uuid.uuid4().hex[:8].upper()}"
    with transaction() as db:
        db.execute("INSERT OR REPLACE INTO shipments VALUES (?, ?, ?)", (order["order_id"], service, tracking))
        set_status(db, order["order_id"], "SHIPPED")
    LEDGER.do(f"shipment:{order['order_id']}")
    return {"service": service, "tracking_number": tracking}


def ship_express(order):
    return _ship(order, "express")


def ship_standard(order):
    return _ship(order, "standard")


RESOURCES = {
    "validate-order": validate_order,
    "process-payment": process_payment,
    "reserve-inventory": reserve_inventory,
    "send-confirmation": send_confirmation,
    "release-inventory": release_inventory,
    "refund-payment": refund_payment,
    "request-approval": request_approval,
    "ship-express": ship_express,
    "ship-standard": ship_standard,
}
