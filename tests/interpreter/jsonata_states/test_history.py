"""What the execution history tells about JSONata states and variables.

``...StateExited.stateExitedEventDetails.assignedVariables`` maps each variable a state
assigned to its value as JSON text (``"timeout": "300"``, ``"name": "\\"abc\\""``), with
``assignedVariablesDetails: {"truncated": false}`` [AWS API, recorded on AWS]. A state
that assigns nothing has neither. Values of expression fields show where AWS shows the
evaluated value (``TaskScheduled.timeoutInSeconds``/``heartbeatInSeconds``).
"""

from __future__ import annotations

import json

import pytest

from .support import run

TASK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def exited(result, name: str) -> dict:
    [event] = [e for e in result.history
               if e["type"].endswith("StateExited") and e["stateExitedEventDetails"]["name"] == name]
    return event["stateExitedEventDetails"]


@pytest.mark.parametrize("value, text", [
    ("abc", '"abc"'),
    (300, "300"),
    (0.5, "0.5"),
    (True, "true"),
    (None, "null"),
    ([], "[]"),
    ({}, "{}"),
    ({"a": [1, {"b": None}], "é": "ü"}, '{"a":[1,{"b":null}],"é":"ü"}'),
])
@pytest.mark.parametrize("language", ["JSONata", "JSONPath"])
def test_assigned_variables_are_json_text(value, text, language):
    """Recorded on AWS (LocalStack BASE_CONSTANT_LITERALS): constants of every JSON type,
    each serialised compactly."""
    definition = {"QueryLanguage": language, "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"v": value}, "End": True}}}
    result, _, _ = run(definition)
    details = exited(result, "Set")
    assert details["assignedVariables"] == {"v": text}
    assert details["assignedVariablesDetails"] == {"truncated": False}
    assert json.loads(details["assignedVariables"]["v"]) == value


def test_strings_that_look_like_queries_are_constants():
    """Recorded on AWS (LocalStack BASE_CONSTANT_LITERALS): in a JSONPath Assign only '.$' keys
    are evaluated: paths, variables, intrinsics and '{% %}' under plain keys stay strings.
    In a JSONata Assign only '{% %}' strings are evaluated."""
    literals = {"constant_str_path": "$.no.such.path", "constant_str_var": "$noSuchVar",
                "constant_str_contextpath": "$$.Execution.Id",
                "constant_str_intrinsic_func": "States.Format('Format Func {}', $varname)"}
    jsonpath = {**literals, "constant_str_jsonata_expr": "{% $varname.varfield %}"}
    result, _, _ = run({"StartAt": "State0", "States": {"State0": {"Type": "Pass", "Assign": jsonpath, "End": True}}})
    assert exited(result, "State0")["assignedVariables"] == {k: json.dumps(v) for k, v in jsonpath.items()}
    result, _, _ = run({"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Assign": literals, "End": True}}})
    assert exited(result, "State0")["assignedVariables"] == {k: json.dumps(v) for k, v in literals.items()}


def test_expression_values_are_recorded_evaluated():
    definition = {"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"timeout": "{% $states.input.t * 100 %}", "name": "{% $states.input.n %}",
                                           "pair": "{% [$states.input.n, $states.input.t] %}"}, "End": True}}}
    result, _, _ = run(definition, {"t": 3, "n": "abc"})
    assert exited(result, "Set")["assignedVariables"] == {
        "timeout": "300", "name": '"abc"', "pair": '["abc",3]'}


def test_a_state_without_assign_records_no_variables():
    definition = {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        "B": {"Type": "Pass", "Output": "{% $x %}", "End": True}}}
    result, _, _ = run(definition)
    assert "assignedVariables" not in exited(result, "B")
    assert "assignedVariablesDetails" not in exited(result, "B")


def test_a_caught_error_records_the_catcher_assignments():
    definition = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK_ARN, "Assign": {"ok": True},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"error": "{% $states.errorOutput.Error %}"},
                         "Next": "Done"}], "End": True},
        "Done": {"Type": "Succeed"}}}
    result, _, _ = run(definition, {}, {"f": [{"raise": ["Oops", "bad"]}]})
    details = exited(result, "T")
    assert details["assignedVariables"] == {"error": '"Oops"'}
    assert json.loads(details["output"]) == {"Error": "Oops", "Cause": "bad"}


def test_iteration_assignments_are_recorded_in_the_iteration():
    """Recorded on AWS (LocalStack BASE_SCOPE_MAP): each iteration's Exited event carries its
    own assignments; the Map's Exited event carries none."""
    definition = {"StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Assign": {"x": 42, "items": [1, 2, 3]}, "Next": "State1"},
        "State1": {"Type": "Map", "ItemsPath": "$items", "MaxConcurrency": 1,
                   "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Inner",
                                     "States": {"Inner": {"Type": "Pass", "Assign": {"innerX.$": "$x"}, "End": True}}},
                   "Next": "State2"},
        "State2": {"Type": "Pass", "Assign": {"final.$": "$x"}, "End": True}}}
    result, _, _ = run(definition, {"input_value": "input_value_literal"})
    types = [e["type"] for e in result.history]
    assert types == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "MapStateEntered", "MapStateStarted",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
        "MapStateSucceeded", "MapStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    inner = [e["stateExitedEventDetails"] for e in result.history
             if e["type"] == "PassStateExited" and e["stateExitedEventDetails"]["name"] == "Inner"]
    assert [(d["assignedVariables"], d["output"]) for d in inner] == [({"innerX": "42"}, str(i)) for i in (1, 2, 3)]
    assert "assignedVariables" not in exited(result, "State1")
    assert exited(result, "State2")["assignedVariables"] == {"final": "42"}


def test_timeout_and_heartbeat_expressions_are_scheduled_evaluated():
    definition = {"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
              "TimeoutSeconds": "{% $states.input.limit %}", "HeartbeatSeconds": "{% $states.input.limit - 10 %}",
              "End": True}}}
    result, _, _ = run(definition, {"limit": 60}, {"f": [{"return": "ok"}]})
    [scheduled] = [e["taskScheduledEventDetails"] for e in result.history if e["type"] == "TaskScheduled"]
    assert (scheduled["timeoutInSeconds"], scheduled["heartbeatInSeconds"]) == (60, 50)
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "f", "Payload": {"limit": 60}}


UNDEFINED = "{% $doesNotExist %}"
LOCATED = "An error occurred while executing the state '{state}' (entered at the event id #{id}). "
NOTHING = "The JSONata expression '$doesNotExist' specified for the field '{field}' returned nothing (undefined)."


@pytest.mark.parametrize("states, failing, entered_id, location, types, previous", [
    # Recorded on AWS (LocalStack snapshots BASE_UNDEFINED_*, Nov 2024).
    ({"State0": {"Type": "Pass", "Output": UNDEFINED, "End": True}}, "State0", 2, "Output",
     ["ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"], [0, 0, 0, 3]),
    ({"State0": {"Type": "Pass", "Output": {"result": UNDEFINED}, "End": True}}, "State0", 2, "Output/result",
     ["ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"], [0, 0, 0, 3]),
    ({"State0": {"Type": "Pass", "Assign": {"result": UNDEFINED}, "End": True}}, "State0", 2, "Assign/result",
     ["ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"], [0, 0, 0, 3]),
    ({"State0": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": UNDEFINED, "End": True}},
     "State0", 2, "Arguments",
     ["ExecutionStarted", "TaskStateEntered", "EvaluationFailed", "ExecutionFailed"], [0, 0, 0, 3]),
    ({"State0": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"FunctionName": UNDEFINED}, "End": True}},
     "State0", 2, "Arguments/FunctionName",
     ["ExecutionStarted", "TaskStateEntered", "EvaluationFailed", "ExecutionFailed"], [0, 0, 0, 3]),
    ({"State0": {"Type": "Pass", "Next": "State1"}, "State1": {"Type": "Pass", "Next": "State2"},
      "State2": {"Type": "Pass", "Output": {"result": UNDEFINED}, "End": True}}, "State2", 6, "Output/result",
     ["ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited",
      "PassStateEntered", "EvaluationFailed", "ExecutionFailed"], [0, 0, 2, 3, 4, 5, 5, 7]),
], ids=["BASE_UNDEFINED_OUTPUT", "BASE_UNDEFINED_OUTPUT_FIELD", "BASE_UNDEFINED_ASSIGN", "BASE_UNDEFINED_ARGUMENTS",
        "BASE_UNDEFINED_ARGUMENTS_FIELD", "BASE_UNDEFINED_OUTPUT_MULTIPLE_STATES"])
def test_a_failed_expression_is_an_evaluation_failed_event(states, failing, entered_id, location, types, previous):
    """AWS records an EvaluationFailed event {error, cause, location, state} (its
    previousEventId is the one of the state's Entered event), then ExecutionFailed; the
    failing state has no Exited event."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "State0", "States": states}
    result, _, _ = run(definition)
    cause = LOCATED.format(state=failing, id=entered_id) + NOTHING.format(field=location)
    assert (result.status, result.error, result.cause) == ("FAILED", "States.QueryEvaluationError", cause)
    assert [e["type"] for e in result.history] == types
    assert [e["previousEventId"] for e in result.history] == previous
    [failed] = [e for e in result.history if e["type"] == "EvaluationFailed"]
    assert failed["evaluationFailedEventDetails"] == {
        "cause": cause, "error": "States.QueryEvaluationError", "location": location, "state": failing}
    assert result.history[-1]["executionFailedEventDetails"] == {
        "cause": cause, "error": "States.QueryEvaluationError"}
