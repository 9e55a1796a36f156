"""Task states: how callables are found, called and answered, as AWS calls resources.

Scripted behaviours that fit a table live in cases/task.json; this module holds what
needs real Python: exception payloads, async and context-taking callables, real threads
and real time (one short TimeoutSeconds test), and the callback pattern.
"""

import asyncio
import json
import threading
import time

import pytest

import asl

from .support import ACCOUNT, EXECUTION_ARN, REGION, T0, machine, single

FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"   # + name: resolved by the name
LAMBDA_ARN = FUNCTION + "saga-charge"
ACTIVITY_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:saga-charge"
INVOKE = "arn:aws:states:::lambda:invoke"


def task(resource: str, **fields) -> dict:
    return single({"Type": "Task", "Resource": resource, **fields}, name="T")


def execute(definition, input=None, resources=None, **options):
    options.setdefault("clock", asl.VirtualClock(start=T0))
    return machine(definition).execute({} if input is None else input,
                                       resources=resources or {}, name="exec-1", **options)


class PaymentDeclined(Exception):
    pass


def declined(payload):
    raise PaymentDeclined("card declined")


# -- exceptions -> Error and Cause ------------------------------------------------------

@pytest.mark.parametrize("definition", [
    task(LAMBDA_ARN),
    task(INVOKE, Parameters={"FunctionName": "saga-charge", "Payload.$": "$"}),
], ids=["lambda-arn", "lambda-invoke"])
def test_lambda_exception_gives_error_type_and_json_cause(definition):
    """Reference 14.19: Error is the bare errorType; Cause is a JSON string with
    errorMessage, errorType, requestId and stackTrace."""
    result = execute(definition, resources={"saga-charge": declined})
    assert (result.status, result.error) == ("FAILED", "PaymentDeclined")
    cause = json.loads(result.cause)
    assert cause["errorMessage"] == "card declined"
    assert cause["errorType"] == "PaymentDeclined"
    assert isinstance(cause["requestId"], str) and cause["requestId"]
    assert isinstance(cause["stackTrace"], list)
    assert all(isinstance(line, str) for line in cause["stackTrace"])
    assert any("declined" in line for line in cause["stackTrace"]), "the function's own frame"


def test_lambda_builtin_exception_name():
    def handler(payload):
        return payload["missing"]
    result = execute(task(LAMBDA_ARN), resources={"saga-charge": handler})
    assert result.error == "KeyError"
    assert json.loads(result.cause)["errorType"] == "KeyError"


def test_lambda_exception_caught_keeps_json_cause_in_error_output():
    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA_ARN, "End": True,
              "Catch": [{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "H"}]},
        "H": {"Type": "Pass", "End": True}}}
    result = execute(definition, {"id": 1}, resources={"saga-charge": declined})
    assert result.status == "SUCCEEDED"
    assert result.output["id"] == 1
    assert result.output["error"]["Error"] == "PaymentDeclined"
    assert json.loads(result.output["error"]["Cause"])["errorMessage"] == "card declined"


def test_non_lambda_exception_cause_is_the_message():
    result = execute(task("arn:aws:states:::dynamodb:putItem", Parameters={"TableName": "t"}),
                     resources={"arn:aws:states:::dynamodb:putItem": declined})
    assert (result.error, result.cause) == ("PaymentDeclined", "card declined")


@pytest.mark.parametrize("resource", [LAMBDA_ARN, ACTIVITY_ARN], ids=["lambda", "activity"])
def test_task_failed_keeps_exact_error_and_cause(resource):
    def handler(payload):
        raise asl.TaskFailed("PaymentDeclined", "card declined")
    result = execute(task(resource), resources={"saga-charge": handler, resource: handler})
    assert (result.status, result.error, result.cause) == ("FAILED", "PaymentDeclined", "card declined")


# -- lambda:invoke wrapping ---------------------------------------------------------------

def test_lambda_invoke_result_shape():
    """Reference 8: {ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
    StatusCode}; a plain Lambda ARN returns the bare payload."""
    wrapped = execute(task(INVOKE, Parameters={"FunctionName": "f", "Payload": {"a": 1}}),
                      resources={"f": lambda p: {"echo": p}}).output
    assert set(wrapped) == {"ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"}
    assert wrapped["Payload"] == {"echo": {"a": 1}}
    assert (wrapped["StatusCode"], wrapped["ExecutedVersion"]) == (200, "$LATEST")
    assert wrapped["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert isinstance(wrapped["SdkResponseMetadata"]["RequestId"], str)

    bare = execute(task(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"), {"a": 1},
                   resources={"f": lambda p: {"echo": p}}).output
    assert bare == {"echo": {"a": 1}}


@pytest.mark.parametrize("payload", [None, "str", 0, 0.0, True, [], {}])
def test_lambda_invoke_payload_any_json_type(payload):
    result = execute(task(INVOKE, Parameters={"FunctionName": "f"}, OutputPath="$.Payload"),
                     resources={"f": lambda p: payload})
    assert result.status == "SUCCEEDED"
    assert json.dumps(result.output) == json.dumps(payload)


def test_lambda_invoke_dynamic_function_name_with_no_callable():
    result = execute(task(INVOKE, Parameters={"FunctionName.$": "$.fn"}), {"fn": "nobody"},
                     resources={"someone": lambda p: 1})
    assert (result.status, result.error) == ("FAILED", "Lambda.ResourceNotFoundException")


# -- finding callables --------------------------------------------------------------------

def test_missing_resources_are_reported_before_running():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": LAMBDA_ARN, "Next": "P"},
        "P": {"Type": "Parallel", "Next": "M", "Branches": [
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}}}]},
        "M": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "C", "States": {
            "C": {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "saga-notify"}, "End": True}}}}}}
    sm = machine(definition)
    called = []
    with pytest.raises(asl.MissingResourceError) as info:
        sm.execute({}, resources={"unrelated": called.append})
    assert sorted(info.value.missing) == sorted([
        ("A", LAMBDA_ARN), ("B", "arn:aws:states:::sns:publish"), ("C", INVOKE)])
    assert called == []
    with pytest.raises(asl.MissingResourceError):
        sm.start({}, resources={})


def test_invalid_definition_raises_validation_error():
    with pytest.raises(asl.ValidationError):
        asl.StateMachine({"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": True}}})


# -- how callables are called -------------------------------------------------------------

def test_async_callables_are_awaited():
    async def reserve(payload):
        await asyncio.sleep(0)
        return {"reserved": payload["sku"]}

    async def charge(payload, context):
        await asyncio.sleep(0)
        raise asl.TaskFailed("PaymentDeclined", context.context["State"]["Name"])

    definition = {"StartAt": "Reserve", "States": {
        "Reserve": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:reserve", "ResultPath": "$.r", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge", "End": True}}}
    result = execute(definition, {"sku": 42}, resources={"reserve": reserve, "charge": charge})
    assert (result.error, result.cause) == ("PaymentDeclined", "Charge")


def test_async_callable_exception_on_lambda():
    async def handler(payload):
        raise ValueError("async boom")
    result = execute(task(LAMBDA_ARN), resources={"saga-charge": handler})
    assert result.error == "ValueError"
    assert json.loads(result.cause)["errorMessage"] == "async boom"


def test_context_argument_gives_the_context_object():
    seen = {}

    def handler(payload, context):
        seen["context"] = context.context
        seen["token"] = context.token
        context.heartbeat()          # harmless outside a callback task
        return "ok"

    result = execute(task(FUNCTION + "work"), {"in": 1}, resources={"work": handler})
    assert result.output == "ok"
    assert seen["token"] is None
    assert seen["context"]["State"]["Name"] == "T"
    assert seen["context"]["Execution"]["Id"] == EXECUTION_ARN
    assert seen["context"]["Execution"]["Input"] == {"in": 1}
    assert "Task" not in seen["context"]


def test_callable_objects_and_one_argument_functions():
    class Counter:
        def __init__(self):
            self.n = 0

        def __call__(self, payload):
            self.n += 1
            return self.n

    counter = Counter()
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:count", "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:count", "ResultPath": "$.b", "End": True}}}
    assert execute(definition, {}, resources={"count": counter}).output == {"a": 1, "b": 2}


def test_callable_gets_its_own_copy_of_the_input():
    def vandal(payload):
        payload["order"]["total"] = 0
        payload.clear()
        return None

    definition = task(FUNCTION + "vandal", ResultPath=None)
    result = execute(definition, {"order": {"total": 5}}, resources={"vandal": vandal})
    assert result.output == {"order": {"total": 5}}


def test_returned_value_is_copied():
    shared = {"n": 1}

    def give(payload):
        return shared

    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:give", "Next": "B"},
        "B": {"Type": "Pass", "Result": 2, "ResultPath": "$.n", "End": True}}}
    result = execute(definition, {}, resources={"give": give})
    assert result.output == {"n": 2}
    assert shared == {"n": 1}


# -- TimeoutSeconds -----------------------------------------------------------------------

def test_timeout_seconds_with_a_really_hanging_callable():
    """The one real-time test: TimeoutSeconds 1 and a callable sleeping 3 s -> States.Timeout
    after about 1 s, not 3."""
    def hang(payload):
        time.sleep(3)
        return "too late"

    started = time.monotonic()
    result = machine(task(FUNCTION + "hang", TimeoutSeconds=1)).execute({}, resources={"hang": hang})
    elapsed = time.monotonic() - started
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert elapsed < 2.5


def test_timeout_seconds_under_virtual_clock_with_context_sleep():
    clock = asl.VirtualClock(start=T0)

    def slow(payload, context):
        context.sleep(100)
        return "too late"

    result = execute(task(FUNCTION + "slow", TimeoutSeconds=30), resources={"slow": slow}, clock=clock)
    assert (result.status, result.error, result.cause) == ("FAILED", "States.Timeout", "")
    assert result.stop_time - result.start_time == 30


def test_timeout_under_virtual_clock_is_retried_and_caught():
    calls = []

    def slow(payload, context):
        calls.append(1)
        context.sleep(10)
        return "late"

    definition = {"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow", "TimeoutSeconds": 5, "End": True,
              "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2, "IntervalSeconds": 1}],
              "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}]},
        "Late": {"Type": "Pass", "End": True}}}
    clock = asl.VirtualClock(start=T0)
    result = execute(definition, resources={"slow": slow}, clock=clock)
    assert result.output == {"Error": "States.Timeout", "Cause": ""}
    assert len(calls) == 3
    assert clock.schedule == [("T", "Task", 5), ("T", "Retry", 1), ("T", "Task", 5), ("T", "Retry", 2), ("T", "Task", 5)]


# -- .waitForTaskToken ---------------------------------------------------------------------

CALLBACK = {"StartAt": "Approve", "States": {
    "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
                "ResultPath": "$.approval", "Next": "Done",
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}]},
    "Rejected": {"Type": "Pass", "End": True},
    "Done": {"Type": "Succeed"}}}


def _queue():
    messages = []

    def send(payload):
        messages.append(payload)
        return {"MessageId": "m-1"}
    return messages, send


def test_wait_for_task_token_success_from_another_thread():
    messages, send = _queue()
    execution = machine(CALLBACK).start({"order": "o-1"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send})
    token = execution.wait_for_task_token(timeout=5)
    assert messages == [{"QueueUrl": "q", "MessageBody": {"token": token, "order": "o-1"}}]
    assert execution.task_tokens() == [token]
    worker = threading.Thread(target=execution.send_task_success, args=(token, {"approved": True}))
    worker.start()
    result = execution.result(timeout=5)
    worker.join()
    assert result.status == "SUCCEEDED"
    assert result.output == {"order": "o-1", "approval": {"approved": True}}
    assert execution.task_tokens() == []


def test_wait_for_task_token_failure_from_another_thread_is_caught():
    messages, send = _queue()
    execution = machine(CALLBACK).start({"order": "o-1"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send})
    token = execution.wait_for_task_token(timeout=5)
    threading.Thread(target=execution.send_task_failure, args=(token, "Rejected", "manager said no")).start()
    result = execution.result(timeout=5)
    assert result.status == "SUCCEEDED"
    assert result.output == {"order": "o-1", "rejection": {"Error": "Rejected", "Cause": "manager said no"}}
    assert result.states == ["Approve", "Rejected"]


def test_wait_for_task_token_failure_uncaught_fails_the_execution():
    messages, send = _queue()
    execution = machine(CALLBACK).start({"order": "o-1"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send})
    token = execution.wait_for_task_token(timeout=5)
    execution.send_task_failure(token, "Expired", "too slow")
    result = execution.result(timeout=5)
    assert (result.status, result.error, result.cause) == ("FAILED", "Expired", "too slow")


def test_wait_for_task_token_answered_by_the_callable_itself():
    def send(payload, context):
        assert context.token == payload["MessageBody"]["token"]
        assert context.context["Task"]["Token"] == context.token
        context.send_task_success({"approved": "inline"})
        return {"MessageId": "m"}

    result = execute(CALLBACK, {"order": "o"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send})
    assert result.output == {"order": "o", "approval": {"approved": "inline"}}


def test_wait_for_task_token_times_out_under_virtual_clock():
    definition = json.loads(json.dumps(CALLBACK))
    definition["States"]["Approve"]["TimeoutSeconds"] = 3600
    clock = asl.VirtualClock(start=T0)
    result = execute(definition, {"order": "o"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": lambda p: {}},
                     clock=clock)
    assert (result.status, result.error, result.cause) == ("FAILED", "States.Timeout", "")
    assert result.stop_time - result.start_time == 3600


def test_heartbeat_missed_under_virtual_clock_is_states_timeout():
    """Reference 8 [observed]: a missed heartbeat was reported as States.Timeout."""
    definition = json.loads(json.dumps(CALLBACK))
    definition["States"]["Approve"].update(TimeoutSeconds=3600, HeartbeatSeconds=60)
    result = execute(definition, {"order": "o"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": lambda p: {}})
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert result.stop_time - result.start_time == 60


def test_heartbeats_keep_a_callback_task_alive():
    definition = json.loads(json.dumps(CALLBACK))
    definition["States"]["Approve"].update(TimeoutSeconds=3600, HeartbeatSeconds=10)
    clock = asl.VirtualClock(start=T0)
    messages, send = _queue()
    execution = machine(definition).start({"order": "o"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send},
                                          clock=clock)
    token = execution.wait_for_task_token(timeout=5)
    for _ in range(3):                    # 24 virtual seconds pass, a heartbeat every 8
        clock.advance(8)
        execution.send_task_heartbeat(token)
    time.sleep(0.1)                       # the waiting task looks at the clock now and then
    assert not execution.done
    execution.send_task_success(token, "approved")
    result = execution.result(timeout=5)
    assert (result.status, result.output["approval"]) == ("SUCCEEDED", "approved")


def test_heartbeat_missed_while_started():
    definition = json.loads(json.dumps(CALLBACK))
    definition["States"]["Approve"].update(TimeoutSeconds=3600, HeartbeatSeconds=10)
    clock = asl.VirtualClock(start=T0)
    messages, send = _queue()
    execution = machine(definition).start({"order": "o"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send},
                                          clock=clock)
    token = execution.wait_for_task_token(timeout=5)
    clock.advance(8)
    execution.send_task_heartbeat(token)
    clock.advance(11)                     # no heartbeat for 11 s > HeartbeatSeconds
    result = execution.result(timeout=5)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


def test_unknown_token_is_refused():
    messages, send = _queue()
    execution = machine(CALLBACK).start({"order": "o"}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": send})
    token = execution.wait_for_task_token(timeout=5)
    with pytest.raises(KeyError):
        execution.send_task_success("not-a-token", {})
    execution.send_task_success(token, 1)
    assert execution.result(timeout=5).status == "SUCCEEDED"
    with pytest.raises(KeyError):
        execution.send_task_success(token, 2)     # that task already finished
