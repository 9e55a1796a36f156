"""Run the payment saga's scenarios and print them as a Markdown table.

    python examples/payment-saga/scenarios.py

Each scenario makes one step fail (or none), on a fresh SQLite database and a virtual
clock, and reports the compensations that ran, in order, and what the database holds
afterwards.
"""

import importlib.util
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import asl

HERE = Path(__file__).resolve().parent

#: (fail_at, compensations that fail on their first call)
SCENARIOS = [(None, []), ("order", []), ("charge", []), ("reserve", []), ("ship", []), ("confirm", []),
             ("ship", ["refund"])]


def load_handlers():
    spec = importlib.util.spec_from_file_location("payment_saga_handlers", HERE / "handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_machine(definition: dict | None = None) -> asl.StateMachine:
    """The hand-written machine, or ``definition`` (e.g. the one generated from the YAML)."""
    if definition is None:
        return asl.StateMachine.from_file(HERE / "payment-saga.asl.json", name="PaymentSaga")
    return asl.StateMachine(definition, name="PaymentSaga")


def database_state(database: str, order_id: str) -> dict:
    """What each table says about the order (``-`` where it has no row)."""
    state = {}
    with sqlite3.connect(database) as db:
        for table in ("orders", "payments", "reservations", "shipments"):
            row = db.execute(f"SELECT status FROM {table} WHERE order_id = ?", (order_id,)).fetchone()
            state[table] = row[0] if row else "-"
        state["confirmations"] = db.execute("SELECT COUNT(*) FROM confirmations WHERE order_id = ?",
                                            (order_id,)).fetchone()[0]
        state["stock"] = db.execute("SELECT available FROM stock WHERE sku = 'SKU-1'").fetchone()[0]
        state["log"] = db.execute("SELECT action, outcome FROM saga_log WHERE order_id = ? ORDER BY seq",
                                  (order_id,)).fetchall()
    return state


def compensations(result, machine_definition: dict) -> list[str]:
    """The compensating states entered, in order (a compensation's Comment says what it undoes)."""
    states = machine_definition["States"]
    return [s for s in result.states if states[s].get("Comment", "").startswith("undoes ")]


def run_scenarios(definition: dict | None = None) -> list[dict]:
    handlers, machine = load_handlers(), load_machine(definition)
    rows, saved = [], os.environ.get("PAYMENT_SAGA_DB")
    try:
        for fail_at, flaky in SCENARIOS:
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["PAYMENT_SAGA_DB"] = str(Path(tmp) / "saga.db")
                order = {"order_id": "o-1", "sku": "SKU-1", "quantity": 2, "amount": 42.0}
                if fail_at:
                    order["fail_at"] = fail_at
                if flaky:
                    order["flaky"] = flaky
                clock = asl.VirtualClock(start=0)
                result = machine.execute(order, handlers.RESOURCES, clock=clock)
                rows.append({"fail_at": fail_at, "flaky": flaky, "result": result, "waits": clock.schedule,
                             "compensations": compensations(result, machine.definition),
                             "database": database_state(os.environ["PAYMENT_SAGA_DB"], "o-1")})
    finally:
        if saved is None:
            os.environ.pop("PAYMENT_SAGA_DB", None)
        else:
            os.environ["PAYMENT_SAGA_DB"] = saved
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| fail_at | status | compensations fired | retries | end state | order | payment | "
             "reservation | shipment | stock |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        result, db = row["result"], row["database"]
        fail_at = row["fail_at"] or "(none)"
        if row["flaky"]:
            fail_at += f" (first {', '.join(row['flaky'])} call fails)"
        retries = ", ".join(f"{state} after {seconds:g} s" for state, kind, seconds in row["waits"]
                            if kind == "Retry") or "-"
        lines.append(f"| {fail_at} | {result.status} | {' -> '.join(row['compensations']) or '-'} | {retries} | "
                     f"{result.states[-1]} | {db['orders']} | {db['payments']} | {db['reservations']} | "
                     f"{db['shipments']} | {db['stock']} |")
    return "\n".join(lines)


def main() -> int:
    print(table(run_scenarios()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
