"""Run the order saga's four scenarios and print them as a table.

    python examples/order-saga/scenarios.py

Each scenario uses a fresh SQLite database and checks it afterwards: which tables still
hold the order.
"""

import importlib.util
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import asl

HERE = Path(__file__).resolve().parent
TABLES = ("inventory", "payments", "shipments", "notifications")


def load_handlers():
    spec = importlib.util.spec_from_file_location("order_saga_handlers", HERE / "handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows_left(database: str, order_id: str) -> list[str]:
    with sqlite3.connect(database) as db:
        return [t for t in TABLES
                if db.execute(f"SELECT COUNT(*) FROM {t} WHERE order_id = ?", (order_id,)).fetchone()[0]]


def run_scenarios():
    handlers = load_handlers()
    machine = asl.StateMachine.from_file(HERE / "order-saga.asl.json", name="OrderSaga")
    rows = []
    for fail_at in (None, "charge", "ship", "notify"):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["ORDER_SAGA_DB"] = str(Path(tmp) / "saga.db")
            order = {"order_id": "o-1", "sku": "SKU-1", "amount": 42.0}
            if fail_at:
                order["fail_at"] = fail_at
            result = machine.execute(order, handlers.RESOURCES)
            compensations = [s for s in result.states if s.startswith("Compensate")]
            rows.append((fail_at or "(none)", result.status, " -> ".join(compensations) or "-",
                         result.states[-1], ", ".join(rows_left(os.environ["ORDER_SAGA_DB"], "o-1")) or "none"))
    return rows


def main() -> int:
    print("| fail_at | status | compensations fired | end state | tables holding the order |")
    print("|---|---|---|---|---|")
    for row in run_scenarios():
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
