"""The Context object ($$) as AWS fills it (reference section 11, AWS docs
input-output-contextobject)."""

import re

import asl

from .support import (ACCOUNT, EXECUTION, EXECUTION_ARN, MACHINE, REGION, ROLE_ARN,
                      STATE_MACHINE_ARN, T0, machine, run)

START = "2023-11-14T22:13:20Z"     # T0


def context_seen_by_task(definition, input=None, **options):
    contexts = []

    def capture(payload, context):
        contexts.append(context.context)
        if len(contexts) < options.get("fail_times", 0) + 1:
            raise asl.TaskFailed("Flaky", "again")
        return payload

    result = machine(definition).execute(input or {}, resources={"capture": capture},
                                         clock=asl.VirtualClock(start=T0), name=EXECUTION)
    return result, contexts


def test_execution_and_state_machine_fields():
    definition = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:capture", "End": True}}}
    result, [context] = context_seen_by_task(definition, {"order": "o-1"})
    assert result.status == "SUCCEEDED"
    execution = context["Execution"]
    assert execution["Id"] == EXECUTION_ARN == (
        f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{MACHINE}:{EXECUTION}")
    assert execution["Name"] == EXECUTION
    assert execution["Input"] == {"order": "o-1"}
    assert execution["RoleArn"] == ROLE_ARN
    assert execution["StartTime"] == START
    assert context["StateMachine"] == {"Id": STATE_MACHINE_ARN, "Name": MACHINE}
    assert context["State"] == {"Name": "Work", "EnteredTime": START, "RetryCount": 0}
    assert "Task" not in context        # only .waitForTaskToken tasks get a token


def test_machine_identity_comes_from_the_constructor():
    sm = asl.StateMachine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"c.$": "$$"}, "End": True}}},
                          name="OrderSaga", region="eu-west-3", account="210987654321",
                          role_arn="arn:aws:iam::210987654321:role/Saga")
    context = sm.execute({}, name="run-7", clock=asl.VirtualClock(start=T0)).output["c"]
    assert context["Execution"]["Id"] == "arn:aws:states:eu-west-3:210987654321:execution:OrderSaga:run-7"
    assert context["Execution"]["RoleArn"] == "arn:aws:iam::210987654321:role/Saga"
    assert context["StateMachine"] == {"Id": "arn:aws:states:eu-west-3:210987654321:stateMachine:OrderSaga",
                                       "Name": "OrderSaga"}
    assert sm.arn == context["StateMachine"]["Id"]


def test_execution_name_defaults_to_a_unique_id():
    sm = machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"n.$": "$$.Execution.Name", "id.$": "$$.Execution.Id"}, "End": True}}})
    first = sm.execute({}).output
    second = sm.execute({}).output
    assert first["n"] != second["n"]
    assert first["id"].endswith(":" + first["n"])
    assert re.fullmatch(r"[0-9a-zA-Z-]{1,80}", first["n"])


def test_pass_state_context_has_no_retry_count():
    """Reference 11 [observed]: a Pass state's context had State.{Name, EnteredTime}."""
    result, _, _ = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"state.$": "$$.State"}, "End": True}}})
    assert result.output == {"state": {"Name": "P", "EnteredTime": START}}


def test_retry_count_counts_the_retries_of_a_task():
    definition = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:capture", "End": True,
                                                          "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3}]}}}
    result, contexts = context_seen_by_task(definition, fail_times=2)
    assert result.status == "SUCCEEDED"
    assert [c["State"]["RetryCount"] for c in contexts] == [0, 1, 2]
    # the state was entered once: EnteredTime stays, though virtual time moved on (1 s + 2 s)
    assert {c["State"]["EnteredTime"] for c in contexts} == {START}


def test_retry_count_resets_on_the_next_state():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:capture", "Next": "B", "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1}]},
        "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:capture", "End": True}}}
    result, contexts = context_seen_by_task(definition, fail_times=1)
    assert [(c["State"]["Name"], c["State"]["RetryCount"]) for c in contexts] == [("A", 0), ("A", 1), ("B", 0)]


def test_entered_time_follows_the_virtual_clock():
    definition = {"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"entered.$": "$$.State.EnteredTime", "start.$": "$$.Execution.StartTime"}, "End": True}}}
    result, _, _ = run(definition)
    assert result.output == {"entered": "2023-11-14T22:13:30Z", "start": START}


def test_entered_time_with_milliseconds():
    sm = machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "End": True}}})
    output = sm.execute({}, clock=asl.VirtualClock(start=T0 + 0.25)).output
    assert output == {"t": "2023-11-14T22:13:20.250Z"}


def test_whole_context_as_input_path():
    """Reference 11 [observed]: "InputPath": "$$" is legal and makes the context the input."""
    result, _, _ = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$$", "End": True}}}, {"x": 1})
    assert result.output["Execution"]["Input"] == {"x": 1}
    assert result.output["State"]["Name"] == "P"
    assert result.output["StateMachine"]["Name"] == MACHINE


def test_context_input_is_the_original_input_in_later_states():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"replaced": True}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"now.$": "$", "original.$": "$$.Execution.Input"}, "End": True}}}
    result, _, _ = run(definition, {"first": 1})
    assert result.output == {"now": {"replaced": True}, "original": {"first": 1}}


def test_task_token_in_parameters_of_a_callback_task():
    tokens = []

    def send(payload, context):
        tokens.append((payload["token"], context.token, context.context["Task"]["Token"]))
        context.send_task_success("ok")
        return {}

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                                                   "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}}
    result = machine(definition).execute({}, resources={"f": lambda p, c: send(p, c)}, clock=asl.VirtualClock(start=T0))
    assert result.output == "ok"
    [(in_payload, token, in_context)] = tokens
    assert in_payload == token == in_context
    assert isinstance(token, str) and 0 < len(token) <= 1024


def test_each_map_iteration_and_branch_sees_its_own_state_name():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Parameters": {"n.$": "$$.State.Name"}, "End": True}}},
        {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "Parameters": {"n.$": "$$.State.Name"}, "End": True}}}]}}}
    result, _, _ = run(definition)
    assert result.output == [{"n": "Left"}, {"n": "Right"}]
