"""Run the orchestration saga's scenarios and print them as a Markdown table.

    python examples/orchestration-saga/scenarios.py

Each scenario runs the real handlers on a fresh SQLite database, then reads the order's
status history back from it.
"""

import importlib.util
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import asl

HERE = Path(__file__).resolve().parent

#: (what happens, execution input)
SCENARIOS = [
    ("in stock, card accepted", {"order_id": "o-1", "sku": "SKU-1", "quantity": 2, "amount": 42.0,
                                 "card": "4242424242424242"}),
    ("SKU out of stock", {"order_id": "o-1", "sku": "SKU-OUT", "quantity": 1, "amount": 42.0,
                          "card": "4242424242424242"}),
    ("card declined", {"order_id": "o-1", "sku": "SKU-1", "quantity": 2, "amount": 42.0,
                       "card": "4000000000000002"}),
    ("gateway error (not caught)", {"order_id": "o-1", "sku": "SKU-1", "quantity": 2, "amount": 42.0,
                                    "card": "4000000000000119"}),
]


def load_handlers():
    spec = importlib.util.spec_from_file_location("orchestration_saga_handlers", HERE / "handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_machine() -> asl.StateMachine:
    return asl.StateMachine.from_file(HERE / "orchestration-saga.asl.json", name="OrchestrationSaga")


def order_history(database: str, order_id: str) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute(
            "SELECT status FROM order_events WHERE order_id = ? ORDER BY seq", (order_id,))]


def run_scenarios() -> list[dict]:
    """Every scenario on its own database: the result and the order's status history."""
    handlers, machine = load_handlers(), load_machine()
    rows, saved = [], os.environ.get("ORCHESTRATION_SAGA_DB")
    try:
        for label, order in SCENARIOS:
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["ORCHESTRATION_SAGA_DB"] = str(Path(tmp) / "saga.db")
                result = machine.execute(order, handlers.RESOURCES, clock=asl.VirtualClock())
                rows.append({"scenario": label, "input": order, "result": result,
                             "history": order_history(os.environ["ORCHESTRATION_SAGA_DB"], order["order_id"])})
    finally:
        if saved is None:
            os.environ.pop("ORCHESTRATION_SAGA_DB", None)
        else:
            os.environ["ORCHESTRATION_SAGA_DB"] = saved
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| scenario | input | status | error: cause | states entered | order status in the database |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        result = row["result"]
        outcome = (f"`{result.error}`: {result.cause}" if result.status != "SUCCEEDED"
                   else f"tracking number `{result.output['tracking_number'][:4]}...`")
        if result.cause and result.cause.startswith("{"):        # a Lambda error payload
            outcome = f"`{result.error}`: {json.loads(result.cause)['errorMessage']}"
        shown = {k: v for k, v in row["input"].items() if k in ("sku", "card")}
        lines.append(f"| {row['scenario']} | `{json.dumps(shown)}` | {result.status} | {outcome} | "
                     f"{' -> '.join(result.states)} | {' -> '.join(row['history'])} |")
    return "\n".join(lines)


def main() -> int:
    print(table(run_scenarios()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
