"""Scripted task behaviours and a case runner for the interpreter's behaviour tests.

A *case* is plain data (JSON files under ``cases/`` or dicts in the test modules)::

    {"name": "...", "source": "where AWS documents or recorded this",
     "definition": {...}, "input": {...},
     "tasks": {"resource key": [{"return": 1}, {"raise": ["Err", "cause"]}, ...]},
     "expect": {"status": ..., "output": ..., "error": ..., "cause": ...}}

``tasks`` maps a key of the resources mapping (a Resource ARN, a function name, ...) to a
script: the n-th call plays the n-th step, and the last step repeats once the script is
used up. Steps:

* ``{"return": v}``: return ``v``;
* ``{"echo": true}``: return the task's input unchanged;
* ``{"big": n}``: return a string of ``n`` characters (for the 256 KiB payload limit);
* ``{"raise": [error, cause]}``: raise ``asl.TaskFailed(error, cause)`` (exact Error/Cause);
* ``{"exception": [class name, message]}``: raise a Python exception of that class
  (a builtin one when it exists, else a fresh ``Exception`` subclass of that name);
* ``{"sleep": s, ...}``: spend ``s`` seconds through ``context.sleep`` first (virtual
  time under a VirtualClock), then play the rest of the step.

``expect`` may also hold ``cause_prefix``, ``cause_suffix``, ``cause_contains`` (a
string or a list of strings), ``states`` (names entered, in order), ``calls`` (inputs each
script received, in call order), ``call_counts``, ``waits`` (the VirtualClock's ``(state,
kind, seconds)`` schedule) and ``assigned`` (``[state name, assignedVariables]`` of every
...StateExited event that assigned variables, in history order).
"""

from __future__ import annotations

import builtins
import json
import threading
from pathlib import Path
from typing import Any

import asl

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"

REGION = "us-east-1"
ACCOUNT = "123456789012"
MACHINE = "CaseMachine"
EXECUTION = "exec-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CaseRole"
#: 2023-11-14T22:13:20Z: a whole second, so Context timestamps carry no fraction.
T0 = 1_700_000_000
EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:{EXECUTION}"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{MACHINE}"

RUNTIME_PREFIX = "An error occurred while executing the state '{state}' (entered at the event id #{event_id}). "


def runtime_prefix(state: str, event_id: int) -> str:
    """AWS's prefix of every States.Runtime cause raised inside a state."""
    return RUNTIME_PREFIX.format(state=state, event_id=event_id)


_EXCEPTION_CLASSES: dict[str, type] = {}


def exception_class(name: str) -> type:
    """A builtin exception class by name, or one made up once for the name."""
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls
    if name not in _EXCEPTION_CLASSES:
        _EXCEPTION_CLASSES[name] = type(name, (Exception,), {})
    return _EXCEPTION_CLASSES[name]


class Script:
    """A task callable that plays its steps in order and records what it was given."""

    def __init__(self, steps: list[dict]) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        self.steps = steps
        self.calls: list[Any] = []
        self.contexts: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, payload, context):
        with self._lock:
            step = self.steps[min(len(self.calls), len(self.steps) - 1)]
            self.calls.append(payload)
            self.contexts.append(context.context)
        if "sleep" in step:
            context.sleep(step["sleep"])
        if "raise" in step:
            error, cause = step["raise"]
            raise asl.TaskFailed(error, cause)
        if "exception" in step:
            name, message = step["exception"]
            raise exception_class(name)(message)
        if step.get("echo"):
            return payload
        if "big" in step:
            return "x" * step["big"]
        return step.get("return")


def scripts_for(tasks: dict | None) -> dict[str, Script]:
    return {key: Script(steps) for key, steps in (tasks or {}).items()}


def machine(definition: dict, name: str = MACHINE) -> asl.StateMachine:
    return asl.StateMachine(definition, name=name, region=REGION, account=ACCOUNT,
                            role_arn=ROLE_ARN)


def run(definition: dict, input: Any = None, tasks: dict | None = None, *,
        concurrency: str = "threads", resources: dict | None = None, seed: int = 0,
        name: str = MACHINE):
    """Execute under a VirtualClock; returns (result, scripts, clock)."""
    scripts = scripts_for(tasks)
    clock = asl.VirtualClock(start=T0, seed=seed)
    mapping = dict(scripts)
    mapping.update(resources or {})
    result = machine(definition, name).execute(
        {} if input is None else input, resources=mapping, clock=clock, name=EXECUTION,
        concurrency=concurrency)
    return result, scripts, clock


def check(case: dict, result, scripts: dict[str, Script], clock) -> None:
    """Assert every expectation of a case, naming the field that differs."""
    expect = case["expect"]
    summary = (f"status={result.status} error={result.error!r} cause={result.cause!r} "
               f"output={json.dumps(result.output)[:500]}")
    if "status" in expect:
        assert result.status == expect["status"], summary
    if "output" in expect:
        assert result.output == expect["output"], summary
        assert json.dumps(result.output, sort_keys=True) == json.dumps(expect["output"], sort_keys=True), \
            "same value but not the same JSON (int vs float?)"
    for field in ("error", "cause"):
        if field in expect:
            assert getattr(result, field) == expect[field], summary
    if "cause_prefix" in expect:
        assert (result.cause or "").startswith(expect["cause_prefix"]), summary
    if "cause_suffix" in expect:
        assert (result.cause or "").endswith(expect["cause_suffix"]), summary
    contains = expect.get("cause_contains", [])
    for text in [contains] if isinstance(contains, str) else contains:
        assert text in (result.cause or ""), summary
    if "states" in expect:
        assert result.states == expect["states"], summary
    for key, calls in expect.get("calls", {}).items():
        assert scripts[key].calls == calls, f"calls of {key}"
    for key, count in expect.get("call_counts", {}).items():
        assert len(scripts[key].calls) == count, f"call count of {key}: {scripts[key].calls}"
    if "waits" in expect:
        assert [list(w) for w in clock.schedule] == expect["waits"], "VirtualClock schedule"
    if "assigned" in expect:
        assert assigned_variables(result) == expect["assigned"], summary


def assigned_variables(result) -> list:
    """``[state name, assignedVariables]`` of each ...StateExited event that assigned."""
    return [[e["stateExitedEventDetails"]["name"], e["stateExitedEventDetails"]["assignedVariables"]]
            for e in result.history
            if e["type"].endswith("StateExited") and "assignedVariables" in e["stateExitedEventDetails"]]


def run_case(case: dict, concurrency: str = "threads", name: str = MACHINE):
    result, scripts, clock = run(case["definition"], case.get("input"), case.get("tasks"),
                                 concurrency=concurrency, name=name)
    check(case, result, scripts, clock)
    return result


def load_cases(*names: str, directory: Path = CASES_DIR) -> list:
    """Every case of the named files under ``directory`` as pytest params, id'd by name."""
    import pytest

    params = []
    for name in names:
        for case in json.loads((directory / name).read_text(encoding="utf-8")):
            params.append(pytest.param(case, id=f"{Path(name).stem}:{case['name']}"))
    return params


def single(state: dict, name: str = "S", **extra_states) -> dict:
    """A machine whose start state is ``state`` (given End: true unless it has Next)."""
    state = dict(state)
    if state.get("Type") not in ("Choice", "Succeed", "Fail") and "Next" not in state:
        state.setdefault("End", True)
    return {"StartAt": name, "States": {name: state, **extra_states}}


def event_types(result) -> list[str]:
    return [e["type"] for e in result.history]
