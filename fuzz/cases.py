"""Generated cases for the fuzz campaign: mutated definitions, inputs and task behaviours,
and the oracle every case must satisfy.

Used by ``tests/reliability/test_fuzz.py`` (a few thousand examples, derandomized in CI)
and by ``fuzz/campaign.py`` (100,000 cases, counts printed). The oracle:

* ``asl.validate`` returns diagnostics or raises ``DefinitionError``, nothing else;
* ``StateMachine`` accepts the definition exactly when ``validate`` finds no ERROR;
* ``execute`` returns a result (or raises one of asl's documented exceptions before the
  run) whose cause never says "internal error" and whose history is JSON.
"""

from __future__ import annotations

import copy
import json

from hypothesis import strategies as st

import asl
from asl.definition import DefinitionError
from asl.definition.scopes import walk_states

# -- seeds: small definitions in the shapes users write ---------------------------------------

_TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Work",
         "ResultPath": "$.result", "Next": "Decide",
         "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2, "IntervalSeconds": 1}],
         "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}]}

SEEDS = [
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.p",
                                      "End": True}}},
    {"StartAt": "Work", "States": {
        "Work": _TASK,
        "Decide": {"Type": "Choice", "Choices": [
            {"Variable": "$.result.ok", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Failed"},
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "Failed", "Cause": "it failed"}}},
    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
                                "P": {"Type": "Parallel", "End": True, "Branches": [
                                    {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": True}}},
                                    {"StartAt": "B2", "States": {"B2": {
                                        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:b2", "End": True}}}]}}},
    {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                                      "ItemProcessor": {"StartAt": "I", "States": {"I": {
                                          "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:item", "End": True}}},
                                      "End": True}}},
    {"QueryLanguage": "JSONata", "StartAt": "J", "States": {
        "J": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:j", "Arguments": {"n": "{% $states.input.n %}"},
              "Output": "{% $states.result %}", "Assign": {"seen": "{% $states.input %}"},
              "Next": "K"},
        "K": {"Type": "Pass", "Output": "{% $seen %}", "End": True}}},
]

_FIELDS = ["Type", "Next", "End", "Resource", "InputPath", "OutputPath", "ResultPath",
           "Parameters", "ResultSelector", "Result", "Retry", "Catch", "Seconds",
           "SecondsPath", "Timestamp", "TimeoutSeconds", "HeartbeatSeconds", "Choices",
           "Default", "Branches", "ItemsPath", "ItemProcessor", "MaxConcurrency", "Error",
           "Cause", "Arguments", "Output", "Assign", "QueryLanguage", "Items", "Comment"]
_STRINGS = ["$", "$.a", "$.items", "$.result", "$$.Execution.Id", "States.ALL",
            "States.Format('{}', $.a)", "{% $states.input %}", "{% 1 / 0 %}", "Done",
            "Failed", "A", "Pass", "Task", "Map", "Wait", "", "$[0]", "$.a[*]", "\u00e9",
            "{% $string($states.input) %}", "2026-01-01T00:00:00Z"]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                         st.floats(allow_nan=False, allow_infinity=False, width=32),
                         st.sampled_from(_STRINGS), st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["a", "b", "items", "n", "ok"]),
                                                 inner, max_size=4)), max_leaves=12)


@st.composite
def mutated_definitions(draw) -> dict:
    """A seed with a few random edits to one state each (delete, replace, add a field)."""
    definition = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 3))):
        refs = list(walk_states(definition))
        state = draw(st.sampled_from(refs)).definition
        action = draw(st.sampled_from(["delete", "replace", "add", "top"]))
        if action == "delete" and state:
            state.pop(draw(st.sampled_from(sorted(state))))
        elif action == "replace" and state:
            state[draw(st.sampled_from(sorted(state)))] = draw(json_values)
        elif action == "add":
            state[draw(st.sampled_from(_FIELDS))] = draw(json_values)
        else:
            definition[draw(st.sampled_from(["TimeoutSeconds", "QueryLanguage", "StartAt",
                                             "Version"]))] = draw(json_values)
    return definition


def _behaviour(kind: str, value):
    def handler(payload):
        if kind == "return":
            return value
        if kind == "echo":
            return payload
        if kind == "fail":
            raise asl.TaskFailed("Boom", "it broke")
        if kind == "raise":
            raise ValueError("bad value")
        if kind == "not-json":
            return {"s": {1, 2}}
        return float("nan")
    return handler


behaviours = st.tuples(st.sampled_from(["return", "echo", "fail", "raise", "not-json", "nan"]),
                       json_values)


def resources_for(definition: dict, draw_behaviour) -> dict:
    resources = {}
    for ref in walk_states(definition):
        resource = ref.definition.get("Resource")
        if isinstance(resource, str):
            resources[resource] = _behaviour(*draw_behaviour())
    return resources


# -- the oracle -----------------------------------------------------------------------------------

def check_case(definition: dict, execution_input, resources: dict) -> str:
    """Run one case; raise AssertionError if asl broke a promise. Returns the outcome's
    kind (for the campaign's counts)."""
    try:
        diagnostics = asl.validate(definition)
    except DefinitionError:
        return "unreadable"
    invalid = any(d.severity == "ERROR" for d in diagnostics)
    try:
        machine = asl.StateMachine(definition)
    except asl.ValidationError:
        assert invalid, "StateMachine refused what validate accepts"
        return "invalid"
    assert not invalid, f"StateMachine accepted what validate refuses: {diagnostics}"
    try:
        result = machine.execute(execution_input, resources, clock=asl.VirtualClock())
    except (asl.MissingResourceError, asl.InvalidExecutionInput):
        return "refused-before-run"
    assert result.status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
    assert "internal error" not in (result.cause or ""), result.cause
    json.dumps(result.history)
    json.dumps(result.output)
    return result.status
