"""Executions through boto3: start, describe, list, history, stop, callbacks, sync
Express, mock test cases, and their AWS errors."""

from __future__ import annotations

import json
import threading

import pytest

from .support import FUNCTION, ROLE, client, definition, task, wait_done, wait_for

DOUBLE = {"A": task(FUNCTION.format("double"), End=True)}
CALLBACK = {"Wait": task("arn:aws:states:::lambda:invoke.waitForTaskToken",
                         Parameters={"FunctionName": "callback",
                                     "Payload": {"token.$": "$$.Task.Token"}},
                         HeartbeatSeconds=5, End=True)}
WAIT = {"W": {"Type": "Wait", "Seconds": 30, "End": True}}


def test_start_describe_and_history(sfn, make_machine):
    arn = make_machine("Double", DOUBLE)
    started = sfn.start_execution(stateMachineArn=arn, name="run-1", input='{"value": 21}')
    assert started["executionArn"] == \
        "arn:aws:states:us-east-1:123456789012:execution:Double:run-1"
    described = wait_done(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"value": 42}
    assert described["input"] == '{"value": 21}'
    assert described["stopDate"] >= described["startDate"]
    assert described["redriveCount"] == 0
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    types = [e["type"] for e in events]
    assert types == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                     "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
                     "ExecutionSucceeded"]
    assert [e["id"] for e in events] == list(range(1, 8))
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == {"value": 42}


def test_history_pagination_reverse_and_data(sfn, make_machine):
    arn = make_machine("Pages", DOUBLE)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"value": 1}')["executionArn"]
    wait_done(sfn, execution)
    page = sfn.get_execution_history(executionArn=execution, maxResults=3)
    assert [e["id"] for e in page["events"]] == [1, 2, 3]
    rest = sfn.get_execution_history(executionArn=execution, maxResults=3,
                                     nextToken=page["nextToken"])
    assert [e["id"] for e in rest["events"]] == [4, 5, 6]
    last = sfn.get_execution_history(executionArn=execution, maxResults=3,
                                     nextToken=rest["nextToken"])
    assert [e["id"] for e in last["events"]] == [7] and "nextToken" not in last
    backwards = sfn.get_execution_history(executionArn=execution, reverseOrder=True,
                                          maxResults=2)
    assert [e["id"] for e in backwards["events"]] == [7, 6]
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)
    assert "input" not in bare["events"][0]["executionStartedEventDetails"]
    assert "output" not in bare["events"][-1]["executionSucceededEventDetails"]
    paginator = sfn.get_paginator("get_execution_history")
    ids = [e["id"] for p in paginator.paginate(executionArn=execution,
                                               PaginationConfig={"PageSize": 2})
           for e in p["events"]]
    assert ids == list(range(1, 8))
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.get_execution_history(executionArn=execution, nextToken="bad")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.get_execution_history(executionArn=execution + "-missing")


def test_failures_and_missing_resource(sfn, make_machine):
    arn = make_machine("Boom", {"A": task(FUNCTION.format("boom"), End=True)})
    failed = wait_done(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert failed["status"] == "FAILED"
    assert failed["error"] == "ValueError"
    assert json.loads(failed["cause"])["errorMessage"] == "no good"
    assert "output" not in failed
    # a Task with no callable fails the execution as AWS does for a missing function
    arn = make_machine("Missing", {"A": task(FUNCTION.format("nobody"), End=True)})
    missing = wait_done(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert missing["status"] == "FAILED"
    assert missing["error"] == "Lambda.ResourceNotFoundException"
    # lambda:invoke with an unknown FunctionName beside one with a known one
    arn = make_machine("MissingInvoke", {
        "A": task("arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "double",
                                                                "Payload": {"value": 2}},
                  OutputPath="$.Payload", Next="B"),
        "B": task("arn:aws:states:::lambda:invoke",
                  Parameters={"FunctionName": "ghost", "Payload.$": "$"}, End=True)})
    invoked = wait_done(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert invoked["status"] == "FAILED"
    assert invoked["error"] == "Lambda.ResourceNotFoundException"
    assert "ghost" in invoked["cause"]


def test_start_execution_errors(sfn, make_machine):
    arn = make_machine("Errs", WAIT)
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input="{nope")
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input=json.dumps({"x": "y" * 262_144}))
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=arn, name="bad/name")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=arn + "Gone")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.start_execution(stateMachineArn="arn:aws:lambda:us-east-1:123456789012:function:f")
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []
    # same name and input while running: the same execution; other input: a conflict
    first = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 1}')
    assert again["executionArn"] == first["executionArn"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 2}')
    sfn.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="once", input='{"a": 1}')
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=first["executionArn"] + "x")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:foo")


def test_stop_execution(sfn, make_machine):
    arn = make_machine("Stoppable", WAIT)
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    running = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in running][:2] == ["ExecutionStarted", "WaitStateEntered"]
    stopped = sfn.stop_execution(executionArn=execution, error="Halt", cause="by test")
    assert stopped["stopDate"]
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "ABORTED"
    assert described["error"] == "Halt" and described["cause"] == "by test"
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Halt", "cause": "by test"}


def test_list_executions_filter_and_pagination(sfn, make_machine):
    arn = make_machine("Many", DOUBLE)
    done = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}",
                                input='{"value": 1}')["executionArn"] for i in range(5)]
    for execution in done:
        wait_done(sfn, execution)
    failing = sfn.start_execution(stateMachineArn=arn, name="bad", input="{}")["executionArn"]
    assert wait_done(sfn, failing)["status"] == "FAILED"
    page = sfn.list_executions(stateMachineArn=arn, maxResults=4)
    assert [e["name"] for e in page["executions"]] == ["bad", "e4", "e3", "e2"]   # newest first
    rest = sfn.list_executions(stateMachineArn=arn, maxResults=4, nextToken=page["nextToken"])
    assert [e["name"] for e in rest["executions"]] == ["e1", "e0"]
    assert "nextToken" not in rest
    succeeded = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]
    assert len(succeeded) == 5 and {e["status"] for e in succeeded} == {"SUCCEEDED"}
    failed = sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"]
    assert [e["name"] for e in failed] == ["bad"]
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_executions(stateMachineArn=arn + "Gone")


def test_callback_success_failure_heartbeat(sfn, make_machine, tokens):
    arn = make_machine("Callback", CALLBACK)
    first = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    token = wait_for(lambda: tokens.seen and tokens.seen[-1])
    sfn.send_task_heartbeat(taskToken=token)
    assert sfn.describe_execution(executionArn=first)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    described = wait_done(sfn, first)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}
    # the token is spent
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output="{}")
    second = sfn.start_execution(stateMachineArn=arn, input='{"n": 2}')["executionArn"]
    token = wait_for(lambda: len(tokens.seen) == 2 and tokens.seen[-1])
    with pytest.raises(sfn.exceptions.InvalidOutput):
        sfn.send_task_success(taskToken=token, output="{not json")
    sfn.send_task_failure(taskToken=token, error="Rejected", cause="no budget")
    described = wait_done(sfn, second)
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Rejected", "no budget")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="not-a-token", output="{}")
    with pytest.raises(sfn.exceptions.TaskDoesNotExist):
        sfn.send_task_heartbeat(taskToken="0" * 64)


def test_callback_answered_from_another_client(server, make_machine, tokens):
    arn = make_machine("Elsewhere", CALLBACK)
    sfn = client(server)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = wait_for(lambda: tokens.seen and tokens.seen[-1])
    worker = threading.Thread(
        target=lambda: client(server).send_task_success(taskToken=token, output='"done"'))
    worker.start()
    worker.join()
    assert json.loads(wait_done(sfn, execution)["output"]) == "done"


def test_start_sync_execution_express_only(sfn, make_machine):
    express = make_machine("Fast", DOUBLE, kind="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=express, input='{"value": 5}')
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"value": 10}
    assert ":express:Fast:" in result["executionArn"]
    failed = sfn.start_sync_execution(stateMachineArn=express, input='{}')
    assert failed["status"] == "FAILED" and failed["error"] == "KeyError"
    standard = make_machine("Slow", DOUBLE)
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=standard, input="{}")
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.list_executions(stateMachineArn=express)
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_sync_execution(stateMachineArn=express, input="[")
    started = sfn.start_execution(stateMachineArn=express, input='{"value": 1}')
    assert ":express:Fast:" in started["executionArn"]


def test_mock_test_case(tmp_path):
    from asl.server import running_server

    mock = {"StateMachines": {"Order": {"TestCases": {
                "HappyPath": {"Charge": "ChargeOK"},
                "Declined": {"Charge": "ChargeDeclined"}}}},
            "MockedResponses": {
                "ChargeOK": {"0": {"Return": {"charged": True}}},
                "ChargeDeclined": {"0": {"Throw": {"Error": "Card.Declined", "Cause": "no"}}}}}
    states = {"Charge": task(FUNCTION.format("charge"), End=True)}
    with running_server(db=":memory:", mock_config=mock) as url:
        sfn = client(url)
        arn = sfn.create_state_machine(name="Order", definition=definition(states),
                                       roleArn=ROLE)["stateMachineArn"]
        happy = sfn.start_execution(stateMachineArn=arn + "#HappyPath")["executionArn"]
        assert json.loads(wait_done(sfn, happy)["output"]) == {"charged": True}
        declined = sfn.start_execution(stateMachineArn=arn + "#Declined")["executionArn"]
        assert wait_done(sfn, declined)["error"] == "Card.Declined"
        with pytest.raises(sfn.exceptions.ClientError) as excinfo:
            sfn.start_execution(stateMachineArn=arn + "#NoSuchCase")
        assert excinfo.value.response["Error"]["Code"] == "ValidationException"


def test_callbacks_inside_map_and_a_timed_out_token(sfn, make_machine, tokens):
    arn = make_machine("MapCallbacks", {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": {**CALLBACK["Wait"]}}}}})
    execution = sfn.start_execution(stateMachineArn=arn,
                                    input='{"items": [1, 2, 3]}')["executionArn"]
    wait_for(lambda: len(tokens.seen) == 3)
    for i, token in enumerate(tokens.seen):
        sfn.send_task_success(taskToken=token, output=json.dumps({"i": i}))
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert sorted(r["i"] for r in json.loads(described["output"])) == [0, 1, 2]
    ask = {k: v for k, v in CALLBACK["Wait"].items() if k != "HeartbeatSeconds"}
    quick = make_machine("Quick", {"Wait": {**ask, "TimeoutSeconds": 1}})
    timed = sfn.start_execution(stateMachineArn=quick)["executionArn"]
    token = wait_for(lambda: len(tokens.seen) == 4 and tokens.seen[-1])
    described = wait_done(sfn, timed)
    assert described["status"] == "FAILED" and described["error"] == "States.Timeout"
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output="{}")
