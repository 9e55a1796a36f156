"""AWS Step Functions Local mock files (MockConfigFile), run unchanged.

A mock file names, per state machine, test cases that map Task state names to mocked
responses; a mocked response lists, by invocation number (``"0"``, ``"1-2"``), either a
``Return`` (the task's whole result, as the service would return it) or a ``Throw``
(``Error`` and ``Cause``)::

    {"StateMachines": {"Saga": {"TestCases": {"HappyPath": {"Charge": "ChargeOK"}}}},
     "MockedResponses": {"ChargeOK": {"0": {"Return": {"StatusCode": 200, "Payload": {}}}}}}

:func:`mock_resources` turns one test case into a resources mapping; states the test
case does not mock use the real resources given alongside.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from asl.definition.scopes import walk_states
from asl.errors import TaskFailed
from asl.payload import NotJSON, loads
from asl.resources import RawResult, lookup, parse_resource


class MockConfigError(ValueError):
    """The mock file cannot be used; the message says why."""


def load_mock_config(path: str | Path) -> dict:
    try:
        config = loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MockConfigError(f"cannot read mock file '{path}': {exc.strerror}") from None
    except (NotJSON, UnicodeDecodeError) as exc:
        raise MockConfigError(f"mock file '{path}' is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or not isinstance(config.get("StateMachines"), dict):
        raise MockConfigError(f"mock file '{path}' has no 'StateMachines' object")
    return config


def find_test_case(config: dict, test_case: str, state_machine: str | None = None) -> dict:
    """The test case's ``{state name: mocked response name}`` mapping.

    ``state_machine`` picks the StateMachines entry; without it the test case name must
    belong to exactly one state machine of the file.
    """
    machines = config["StateMachines"]
    if state_machine is not None:
        cases = (machines.get(state_machine) or {}).get("TestCases") or {}
        if test_case not in cases:
            raise MockConfigError(f"state machine '{state_machine}' has no test case '{test_case}'")
        return cases[test_case]
    owners = [name for name, m in machines.items()
              if test_case in ((m or {}).get("TestCases") or {})]
    if not owners:
        known = sorted({c for m in machines.values() for c in ((m or {}).get("TestCases") or {})})
        raise MockConfigError(f"no test case '{test_case}' in the mock file; it has: "
                              f"{', '.join(known) or 'none'}")
    if len(owners) > 1:
        raise MockConfigError(f"test case '{test_case}' exists for several state machines "
                              f"({', '.join(owners)}); name one")
    return machines[owners[0]]["TestCases"][test_case]


def _responses_by_call(name: str, response: dict) -> list[tuple[int, int, dict]]:
    ranges = []
    for key, answer in response.items():
        try:
            low, _, high = key.partition("-")
            ranges.append((int(low), int(high or low), answer))
        except ValueError:
            raise MockConfigError(f"mocked response '{name}': '{key}' is not an invocation "
                                  "number or range like '0' or '1-2'") from None
        if not isinstance(answer, dict) or not ({"Return", "Throw"} & set(answer)):
            raise MockConfigError(f"mocked response '{name}' [{key}] needs a Return or a Throw")
    return sorted(ranges)


def mock_resources(definition: dict, config: dict, test_case: dict,
                   real_resources: dict | None = None) -> dict:
    """A resources mapping that answers the test case's states from the mock file."""
    real_resources = real_resources or {}
    mocked = {}
    for state_name, response_name in test_case.items():
        response = config.get("MockedResponses", {}).get(response_name)
        if not isinstance(response, dict):
            raise MockConfigError(f"test case maps state '{state_name}' to '{response_name}', "
                                  "which is not in MockedResponses")
        mocked[state_name] = _responses_by_call(response_name, response)
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def answer(state: str, payload: Any, context) -> Any:
        with lock:
            call = counts.get(state, 0)
            counts[state] = call + 1
        for low, high, reply in mocked[state]:
            if low <= call <= high:
                if "Throw" in reply:
                    throw = reply["Throw"] or {}
                    raise TaskFailed(throw.get("Error", "MockedError"), throw.get("Cause", ""))
                return RawResult(reply["Return"])
        raise TaskFailed("States.Runtime",
                         f"the mock has no response for call {call} of state '{state}'")

    def dispatcher_for(resource: str):
        spec = parse_resource(resource)

        def dispatch(payload, context):
            state = context.context["State"]["Name"]
            if state in mocked:
                return answer(state, payload, context)
            handler = lookup(spec, real_resources, payload)
            if handler is None:
                raise TaskFailed("States.Runtime", f"state '{state}' is neither mocked by the "
                                                   f"test case nor has a resource callable")
            return handler(payload)
        return dispatch

    resources = dict(real_resources)
    for resource in _resources_of(definition, set(mocked)):
        resources[resource] = dispatcher_for(resource)
    return resources


def _resources_of(definition: dict, states: set) -> set:
    return {ref.definition["Resource"] for ref in walk_states(definition)
            if ref.type == "Task" and ref.name in states}
