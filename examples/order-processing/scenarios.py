"""Run the order-processing scenarios under a virtual clock and print them as a Markdown table.

    python examples/order-processing/scenarios.py

Each scenario starts from a valid order and changes one thing; it runs the real handlers
on a fresh SQLite database, Parallel branches one after the other (so that the table is
the same on every run). Time is virtual: the 5/10/20 s retry back-off and the 24-hour
approval window pass at once and are reported.
"""

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

import asl

HERE = Path(__file__).resolve().parent

ORDER = {"order_id": "o-1", "type": "express", "email": "ann@example.com",
         "items": [{"sku": "SKU-1", "quantity": 2}], "amount": 59.9, "card": "4242424242424242",
         "auto_approval": "approve"}

#: (what happens, what differs from ORDER; None removes the field)
SCENARIOS = [
    ("express order, approved", {}),
    ("standard order, approved", {"type": "standard"}),
    ("gateway times out 3 times", {"gateway_timeouts": 3}),
    ("gateway times out 4 times", {"gateway_timeouts": 4}),
    ("card declined", {"card": "4000000000000002"}),
    ("no items", {"items": []}),
    ("validator takes 30 s", {"validation_delay_seconds": 30}),
    ("SKU out of stock", {"items": [{"sku": "SKU-OUT", "quantity": 1}]}),
    ("approver rejects", {"auto_approval": "reject"}),
    ("nobody answers", {"auto_approval": None}),
]


def order(changes: dict) -> dict:
    merged = {**ORDER, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def load_handlers():
    spec = importlib.util.spec_from_file_location("order_processing_handlers", HERE / "handlers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_machine() -> asl.StateMachine:
    return asl.StateMachine.from_file(HERE / "order-processing.asl.json", name="OrderProcessing")


def run_scenarios() -> list[dict]:
    handlers, machine = load_handlers(), load_machine()
    rows, saved = [], os.environ.get("ORDER_PROCESSING_DB")
    try:
        for label, changes in SCENARIOS:
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["ORDER_PROCESSING_DB"] = str(Path(tmp) / "orders.db")
                clock = asl.VirtualClock(start=0)
                # Sequential branches: which branch fails first must not depend on threads.
                result = machine.execute(order(changes), handlers.RESOURCES, clock=clock,
                                         concurrency="sequential")
                rows.append({"scenario": label, "changes": changes, "result": result,
                             "waits": clock.schedule})
    finally:
        if saved is None:
            os.environ.pop("ORDER_PROCESSING_DB", None)
        else:
            os.environ["ORDER_PROCESSING_DB"] = saved
    return rows


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds:g} s"


def table(rows: list[dict]) -> str:
    lines = ["| scenario | input change | status | error | states entered | virtual time |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        result = row["result"]
        states = " -> ".join(result.states)
        retries = [seconds for state, kind, seconds in row["waits"] if kind == "Retry"]
        elapsed = _duration(result.stop_time - result.start_time)
        if retries:
            elapsed += " (retries after " + ", ".join(_duration(s) for s in retries) + ")"
        change = ", ".join(f"`{k}: {json.dumps(v)}`" for k, v in row["changes"].items()) or "-"
        lines.append(f"| {row['scenario']} | {change} | {result.status} | {result.error or '-'} | "
                     f"{states} | {elapsed} |")
    return "\n".join(lines)


def main() -> int:
    print(table(run_scenarios()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
