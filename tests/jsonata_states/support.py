"""Scripted tasks and a case runner for the JSONata-state and variables behaviour tests.

A *case* is plain data (the JSON files under ``cases/``)::

    {"name": "...", "source": "the AWS page (or recording) it reproduces",
     "definition": {...}, "input": {...},
     "tasks": {"resource key": [{"return": 1}, {"raise": ["Err", "cause"]}, ...]},
     "expect": {"status": ..., "output": ..., "error": ..., "cause": ...}}

``tasks`` maps a key of the resources mapping (a Lambda function name, a Resource ARN)
to a script: the n-th call plays the n-th step and the last step repeats. Steps:
``{"return": v}``, ``{"echo": true}`` (the task's input), ``{"raise": [error, cause]}``
(exactly that Error and Cause), ``{"sleep": s, ...}`` (spend ``s`` virtual seconds first).

``expect`` may also hold ``cause_prefix``, ``cause_contains`` (a string or a list of
strings), ``states`` (names entered, in order), ``calls`` (the inputs each script
received), ``call_counts``, ``waits`` (the VirtualClock's ``(state, kind, seconds)``
schedule) and ``assigned`` (``[state name, assignedVariables]`` of every ...StateExited
event that assigned variables, in history order, values as AWS serialises them).

Only the small pieces needed here are written out (the interpreter suite's helpers
live in another test package, which importlib mode does not let us import).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

import asl

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"

REGION = "us-east-1"
ACCOUNT = "123456789012"
MACHINE = "JsonataMachine"
EXECUTION = "exec-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CaseRole"
#: 2023-11-14T22:13:20Z: a whole second, so $now() and Context timestamps are exact.
T0 = 1_700_000_000
EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:{EXECUTION}"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{MACHINE}"


def located(state: str, event_id: int) -> str:
    """AWS's prefix of a States.Runtime / States.QueryEvaluationError cause."""
    return (f"An error occurred while executing the state '{state}' "
            f"(entered at the event id #{event_id}). ")


class Script:
    """A task callable that plays its steps in order and records what it was given."""

    def __init__(self, steps: list[dict]) -> None:
        self.steps = steps
        self.calls: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, payload, context):
        with self._lock:
            step = self.steps[min(len(self.calls), len(self.steps) - 1)]
            self.calls.append(payload)
        if "sleep" in step:
            context.sleep(step["sleep"])
        if "raise" in step:
            raise asl.TaskFailed(*step["raise"])
        if step.get("echo"):
            return payload
        return step.get("return")


def machine(definition: dict) -> asl.StateMachine:
    return asl.StateMachine(definition, name=MACHINE, region=REGION, account=ACCOUNT,
                            role_arn=ROLE_ARN)


def run(definition: dict, input: Any = None, tasks: dict | None = None, *,
        concurrency: str = "threads"):
    """Execute under a VirtualClock starting at T0; returns (result, scripts, clock)."""
    scripts = {key: Script(steps) for key, steps in (tasks or {}).items()}
    clock = asl.VirtualClock(start=T0, seed=0)
    result = machine(definition).execute({} if input is None else input, resources=scripts,
                                         clock=clock, name=EXECUTION, concurrency=concurrency)
    return result, scripts, clock


def assigned_variables(result) -> list:
    """``[state name, assignedVariables]`` of each ...StateExited event that assigned."""
    return [[e["stateExitedEventDetails"]["name"], e["stateExitedEventDetails"]["assignedVariables"]]
            for e in result.history
            if e["type"].endswith("StateExited") and "assignedVariables" in e["stateExitedEventDetails"]]


def check(case: dict, result, scripts: dict, clock) -> None:
    """Assert every expectation of a case, naming the field that differs."""
    expect = case["expect"]
    summary = (f"status={result.status} error={result.error!r} cause={result.cause!r} "
               f"output={json.dumps(result.output)[:600]} states={result.states}")
    if "status" in expect:
        assert result.status == expect["status"], summary
    if "output" in expect:
        assert json.dumps(result.output, sort_keys=True) == \
            json.dumps(expect["output"], sort_keys=True), summary
    for field in ("error", "cause"):
        if field in expect:
            assert getattr(result, field) == expect[field], summary
    if "cause_prefix" in expect:
        assert (result.cause or "").startswith(expect["cause_prefix"]), summary
    contains = expect.get("cause_contains", [])
    for text in [contains] if isinstance(contains, str) else contains:
        assert text in (result.cause or ""), summary
    if "states" in expect:
        assert result.states == expect["states"], summary
    for key, calls in expect.get("calls", {}).items():
        assert scripts[key].calls == calls, f"calls of {key}: {scripts[key].calls}"
    for key, count in expect.get("call_counts", {}).items():
        assert len(scripts[key].calls) == count, f"call count of {key}: {scripts[key].calls}"
    if "waits" in expect:
        assert [list(w) for w in clock.schedule] == expect["waits"], "VirtualClock schedule"
    if "assigned" in expect:
        assert assigned_variables(result) == expect["assigned"], summary


def run_case(case: dict, concurrency: str = "threads"):
    result, scripts, clock = run(case["definition"], case.get("input"), case.get("tasks"),
                                 concurrency=concurrency)
    check(case, result, scripts, clock)
    return result


def load_cases(*names: str) -> list:
    """Every case of the named files under ``cases/`` as pytest params, id'd by name."""
    params = []
    for name in names:
        for case in json.loads((CASES_DIR / name).read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{Path(name).stem}:{case['name']}"))
    return params
