"""The JSONata-state and variables behaviour tests run on the interpreter suite's case
runner (``tests/interpreter/support.py``); only the machine's name and the case folder
are their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import support
from ..support import EXECUTION, T0

__all__ = ["CASES_DIR", "EXECUTION", "MACHINE", "T0", "load_cases", "machine", "run",
           "run_case"]

CASES_DIR = Path(__file__).resolve().parent / "cases"
MACHINE = "JsonataMachine"


def machine(definition: dict):
    return support.machine(definition, MACHINE)


def run(definition: dict, input: Any = None, tasks: dict | None = None, *,
        concurrency: str = "threads"):
    """Execute under a VirtualClock starting at T0; returns (result, scripts, clock)."""
    return support.run(definition, input, tasks, concurrency=concurrency, name=MACHINE)


def run_case(case: dict, concurrency: str = "threads"):
    return support.run_case(case, concurrency, name=MACHINE)


def load_cases(*names: str) -> list:
    return support.load_cases(*names, directory=CASES_DIR)
