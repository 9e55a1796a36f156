"""Execution history: AWS's event types, in AWS's order, with AWS's detail shapes
(reference section 12, API HistoryEvent)."""

import json

import pytest

from .support import ACCOUNT, REGION, ROLE_ARN, event_types, run

LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"


def details(event: dict) -> dict:
    keys = [k for k in event if k.endswith("EventDetails")]
    assert len(keys) <= 1, event
    return event[keys[0]] if keys else {}


def assert_well_formed(history: list[dict]) -> None:
    """Ids run 1..N; every previousEventId points to an earlier event, except that the
    first two (ExecutionStarted and the first state's Entered) have 0, as AWS records."""
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    assert history[0]["previousEventId"] == 0
    assert history[1]["previousEventId"] == 0
    for event in history[2:]:
        assert 0 < event["previousEventId"] < event["id"], event
    for event in history:
        assert set(event) >= {"id", "previousEventId", "timestamp", "type"}
        assert isinstance(event["timestamp"], str)


def assert_linear(history: list[dict]) -> None:
    """Without Parallel or Map, each event follows the one before it (the first state's
    Entered event has previousEventId 0, as in AWS's recorded histories)."""
    assert [e["previousEventId"] for e in history] == [0, 0] + list(range(2, len(history)))


def test_pass_execution():
    result, _, _ = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"b": 2}, "End": True}}}, {"a": 1})
    history = result.history
    assert event_types(result) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert_well_formed(history)
    assert_linear(history)
    started, entered, exited, succeeded = history
    assert details(started)["input"] == '{"a":1}'
    assert details(started)["roleArn"] == ROLE_ARN
    assert details(entered) == {"name": "P", "input": '{"a":1}', "inputDetails": {"truncated": False}}
    assert details(exited) == {"name": "P", "output": '{"b":2}', "outputDetails": {"truncated": False}}
    assert details(succeeded)["output"] == '{"b":2}'
    assert entered["type"] == "PassStateEntered" and "stateEnteredEventDetails" in entered
    assert "stateExitedEventDetails" in exited
    assert "executionStartedEventDetails" in started and "executionSucceededEventDetails" in succeeded


def test_payloads_are_json_text():
    result, _, _ = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {"s": "é\"", "n": [1.5, None]})
    entered = result.history[1]
    assert json.loads(details(entered)["input"]) == {"s": "é\"", "n": [1.5, None]}


def test_lambda_task_events():
    result, _, _ = run({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True}}},
                       {"x": 1}, {"fn": [{"return": {"y": 2}}]})
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                                   "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
                                   "ExecutionSucceeded"]
    assert_well_formed(result.history)
    assert_linear(result.history)
    scheduled = details(result.history[2])
    assert scheduled["resource"] == LAMBDA_ARN
    assert json.loads(scheduled["input"]) == {"x": 1}
    assert json.loads(details(result.history[4])["output"]) == {"y": 2}


def test_lambda_task_failure_events():
    result, _, _ = run({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True}}},
                       {}, {"fn": [{"raise": ["Boom", "why"]}]})
    assert event_types(result)[-3:] == ["LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"]
    assert details(result.history[-2]) == {"error": "Boom", "cause": "why"}
    assert details(result.history[-1]) == {"error": "Boom", "cause": "why"}


def test_integration_task_events():
    definition = {"StartAt": "Put", "States": {"Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                                                       "Parameters": {"TableName": "Orders", "Item.$": "$.item"}, "End": True}}}
    result, _, _ = run(definition, {"item": {"id": {"S": "1"}}}, {"arn:aws:states:::dynamodb:putItem": [{"return": {"ok": 1}}]})
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                   "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert_linear(result.history)
    scheduled, started, succeeded = (details(e) for e in result.history[2:5])
    assert scheduled["resourceType"] == "dynamodb"
    assert scheduled["resource"] == "putItem"
    assert scheduled["region"] == REGION
    assert json.loads(scheduled["parameters"]) == {"TableName": "Orders", "Item": {"id": {"S": "1"}}}
    assert (started["resourceType"], started["resource"]) == ("dynamodb", "putItem")
    assert (succeeded["resourceType"], succeeded["resource"]) == ("dynamodb", "putItem")
    assert json.loads(succeeded["output"]) == {"ok": 1}


def test_lambda_invoke_is_an_integration():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                   "Parameters": {"FunctionName": "fn", "Payload": {"a": 1}}, "End": True}}}
    result, _, _ = run(definition, {}, {"fn": [{"return": 1}]})
    scheduled = details(result.history[2])
    assert result.history[2]["type"] == "TaskScheduled"
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke")
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "fn", "Payload": {"a": 1}}


def test_integration_failure_and_timeout_events():
    failing = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}}}
    result, _, _ = run(failing, {}, {"arn:aws:states:::sns:publish": [{"raise": ["SNS.Boom", "c"]}]})
    assert result.history[-2]["type"] == "TaskFailed"
    assert details(result.history[-2]) == {"resourceType": "sns", "resource": "publish", "error": "SNS.Boom", "cause": "c"}

    slow = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "TimeoutSeconds": 1, "End": True}}}
    result, _, _ = run(slow, {}, {"arn:aws:states:::sns:publish": [{"sleep": 5, "return": 1}]})
    assert event_types(result)[-2:] == ["TaskTimedOut", "ExecutionFailed"]
    assert details(result.history[-2])["error"] == "States.Timeout"
    assert details(result.history[2])["timeoutInSeconds"] == 1


def test_lambda_timeout_event():
    slow = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA_ARN, "TimeoutSeconds": 1, "End": True}}}
    result, _, _ = run(slow, {}, {"fn": [{"sleep": 5, "return": 1}]})
    assert event_types(result)[-2:] == ["LambdaFunctionTimedOut", "ExecutionFailed"]


def test_retries_repeat_scheduling_without_a_new_state_entered():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True,
                                                   "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 2}]}}}
    result, _, _ = run(definition, {}, {"arn:aws:states:::sns:publish": [{"raise": ["Flaky", ""]}, {"raise": ["Flaky", ""]}, {"return": 1}]})
    assert event_types(result) == [
        "ExecutionStarted", "TaskStateEntered",
        "TaskScheduled", "TaskStarted", "TaskFailed",
        "TaskScheduled", "TaskStarted", "TaskFailed",
        "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded"]
    assert_well_formed(result.history)
    assert_linear(result.history)


def test_caught_error_exits_the_state_with_the_catcher_output():
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Next": "Ok",
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}]},
        "Ok": {"Type": "Succeed"},
        "Handle": {"Type": "Pass", "End": True}}}
    result, _, _ = run(definition, {"a": 1}, {"arn:aws:states:::sns:publish": [{"raise": ["Boom", "c"]}]})
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed",
                                   "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    exited = details(result.history[5])
    assert json.loads(exited["output"]) == {"a": 1, "err": {"Error": "Boom", "Cause": "c"}}
    assert_linear(result.history)


def test_choice_wait_succeed_events():
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "W"}]},
        "W": {"Type": "Wait", "Seconds": 5, "Next": "S"},
        "S": {"Type": "Succeed"}}}
    result, _, _ = run(definition, {"go": True})
    assert event_types(result) == ["ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited",
                                   "WaitStateEntered", "WaitStateExited", "SucceedStateEntered",
                                   "SucceedStateExited", "ExecutionSucceeded"]
    assert_linear(result.history)


def test_wait_moves_the_event_timestamps():
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}}
    result, _, _ = run(definition)
    entered, exited = result.history[1], result.history[2]
    assert entered["timestamp"].startswith("2023-11-14T22:13:20")
    assert exited["timestamp"].startswith("2023-11-14T22:13:25")


def test_fail_state_events():
    result, _, _ = run({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}})
    assert event_types(result) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert details(result.history[-1]) == {"error": "E", "cause": "C"}
    assert_linear(result.history)


def test_runtime_failure_names_the_entered_event():
    result, _, _ = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "InputPath": "$.x", "End": True}}})
    entered_b = next(e for e in result.history if e["type"] == "PassStateEntered" and details(e)["name"] == "B")
    assert f"(entered at the event id #{entered_b['id']})" in result.cause
    assert event_types(result)[-1] == "ExecutionFailed"


def test_parallel_events():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]}}}
    result, _, _ = run(definition, {}, concurrency="sequential")
    assert event_types(result) == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
                                   "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited",
                                   "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    assert_well_formed(result.history)


def test_parallel_failure_events():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "E", "Cause": "C"}}}]}}}
    result, _, _ = run(definition)
    assert event_types(result) == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted",
                                   "FailStateEntered", "ParallelStateFailed", "ExecutionFailed"]
    assert_well_formed(result.history)


def test_parallel_retry_starts_the_branches_again():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
                                                   "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1}],
                                                   "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:a", "End": True}}}]}}}
    result, _, _ = run(definition, {}, {"a": [{"raise": ["E", ""]}, {"return": 1}]})
    types = event_types(result)
    assert types.count("ParallelStateEntered") == 1
    assert types.count("ParallelStateStarted") == 2
    assert types.count("ParallelStateFailed") == 1
    assert types[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]


def test_map_events():
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True,
                                                   "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}}}
    result, _, _ = run(definition, ["a", "b", "c"], concurrency="sequential")
    iteration = ["MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded"]
    assert event_types(result) == (["ExecutionStarted", "MapStateEntered", "MapStateStarted"] + iteration * 3
                                   + ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"])
    assert_well_formed(result.history)
    assert details(result.history[2]) == {"length": 3}
    iterations = [details(e) for e in result.history if e["type"].startswith("MapIteration")]
    assert iterations == [{"name": "M", "index": i} for i in (0, 0, 1, 1, 2, 2)]


def test_map_events_with_threads_keep_one_start_and_end_per_index():
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True,
                                                   "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True}}}}}}
    result, _, _ = run(definition, list(range(6)), {"t": [{"echo": True}]})
    assert_well_formed(result.history)
    started = sorted(details(e)["index"] for e in result.history if e["type"] == "MapIterationStarted")
    succeeded = sorted(details(e)["index"] for e in result.history if e["type"] == "MapIterationSucceeded")
    assert started == succeeded == list(range(6))
    by_id = {e["id"]: e for e in result.history}
    for event in result.history:
        if event["type"] == "MapIterationSucceeded":     # each iteration's chain leads back to its start
            walk = event
            while walk["type"] != "MapIterationStarted":
                walk = by_id[walk["previousEventId"]]
            assert details(walk) == details(event)


def test_map_failure_events():
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": True,
                                                   "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}}}}
    result, _, _ = run(definition, [1, 2])
    assert event_types(result) == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted",
                                   "FailStateEntered", "MapIterationFailed", "MapStateFailed", "ExecutionFailed"]


def test_distributed_map_run_events():
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}}}
    result, _, _ = run(definition, [1], concurrency="sequential")
    types = event_types(result)
    assert types[:4] == ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted"]
    assert types[-4:] == ["MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    assert details(result.history[3])["mapRunArn"].startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:mapRun:")


def test_callback_task_records_task_submitted():
    def send(payload, context):
        context.send_task_success({"ok": True})
        return {"MessageId": "m"}

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                                                   "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"}, "End": True}}}
    result, _, _ = run(definition, {}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send})
    assert event_types(result) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                   "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert json.loads(details(result.history[4])["output"]) == {"MessageId": "m"}
    assert json.loads(details(result.history[5])["output"]) == {"ok": True}


def test_assigned_variables_are_json_text():
    """Reference 7: assignedVariables maps each name to its JSON-serialised value."""
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": {"timeout": 300, "name": "abc"}, "End": True}}}
    result, _, _ = run(definition)
    exited = details(result.history[2])
    assert exited["assignedVariables"] == {"timeout": "300", "name": "\"abc\""}
    assert exited["assignedVariablesDetails"] == {"truncated": False}


@pytest.mark.parametrize("definition, input, tasks", [
    ({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {}, None),
    ({"StartAt": "F", "States": {"F": {"Type": "Fail"}}}, {}, None),
    ({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True, "Retry": [{"ErrorEquals": ["States.ALL"]}]}}},
     {}, {"t": [{"raise": ["E", ""]}]}),
])
def test_the_execution_end_event_is_last(definition, input, tasks):
    result, _, _ = run(definition, input, tasks)
    assert event_types(result)[0] == "ExecutionStarted"
    assert event_types(result)[-1] == {"SUCCEEDED": "ExecutionSucceeded", "FAILED": "ExecutionFailed"}[result.status]
    assert sum(t.startswith("Execution") for t in event_types(result)) == 2
    assert_well_formed(result.history)
