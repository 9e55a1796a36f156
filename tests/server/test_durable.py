"""``asl serve`` killed with SIGKILL in the middle of executions, then started again on
the same SQLite file (issue 15): every execution that was RUNNING goes on where it was,
driven by boto3 as a user drives it. The handlers run in the server's process, so they
report what they saw (task tokens, how often they were called) through files."""

from __future__ import annotations

import json
import time

import pytest

from .support import FUNCTION, ROLE, Serve, client, definition, task, wait_done, wait_for

HANDLERS = '''
import os
import pathlib
import time

OUT = pathlib.Path(os.environ["ASL_DURABLE_DIR"])


class Declined(Exception):
    pass


def _count(name):
    path = OUT / (name + ".count")
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    return calls


def callback(payload, context):
    """A .waitForTaskToken task: hand the token to the test, answer later."""
    _count("callback-" + payload["key"])
    (OUT / ("token-" + payload["key"])).write_text(context.token)


def flaky(payload):
    calls = _count("flaky")
    if calls == 1:
        raise Declined("the first attempt fails")
    return {"attempts": calls}


def charge(payload):
    item = str(payload.get("item", "order"))
    _count("charge-" + item)
    if (OUT / ("decline-" + item)).exists():
        raise Declined("card declined for " + item)
    return {"charged": item}


def reserve(payload):
    _count("reserve")
    return {"reserved": True}


def slow(payload, context):
    """Blocks until the test lets it go; records each delivery's attempt id."""
    with open(OUT / "slow.attempts", "a") as attempts:
        attempts.write(context.attempt_id + "\\n")
    _count("slow")      # after the id: the test kills the server once it sees the count
    while not (OUT / "release").exists():
        time.sleep(0.02)
    return {"done": True}


RESOURCES = {"callback": callback, "flaky": flaky, "charge": charge, "reserve": reserve,
             "slow": slow}
'''

CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def _callback(key: str) -> dict:
    """A callback task handing its token over under ``key`` (``$``: the state's input)."""
    payload = {"key.$": "$"} if key == "$" else {"key": key}
    return task(CALLBACK, Parameters={"FunctionName": "callback", "Payload": payload},
                End=True)


@pytest.fixture
def out(tmp_path):
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture
def serve(tmp_path, out, monkeypatch):
    handlers = tmp_path / "handlers.py"
    handlers.write_text(HANDLERS)
    monkeypatch.setenv("ASL_DURABLE_DIR", str(out))
    server = Serve(tmp_path / "asl.db", handlers).start()
    yield server
    server.kill()


def _machine(sfn, name: str, states: dict, **extra) -> str:
    return sfn.create_state_machine(name=name, definition=definition(states, **extra),
                                    roleArn=ROLE)["stateMachineArn"]


def _calls(out, name: str) -> int:
    path = out / f"{name}.count"
    return int(path.read_text()) if path.exists() else 0


def _history(sfn, arn: str) -> list[dict]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    return events


def _types(events) -> list[str]:
    return [e["type"] for e in events]


def test_a_callback_sent_after_the_kill_completes_the_task(serve, out):
    sfn = client(serve.url)
    arn = _machine(sfn, "Approve", {"T": _callback("one")})
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    token = wait_for(lambda: (out / "token-one").exists() and (out / "token-one").read_text())
    wait_for(lambda: "TaskSubmitted" in _types(_history(sfn, execution)))
    serve.restart()
    sfn = client(serve.url)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}
    assert _calls(out, "callback-one") == 1          # handed over once, not again
    assert _types(_history(sfn, execution)) == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
        "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]


def test_an_activity_task_taken_before_the_kill_is_answered_after_it(serve):
    sfn = client(serve.url)
    activity = sfn.create_activity(name="review")["activityArn"]
    arn = _machine(sfn, "Review", {"R": task(activity, End=True)})
    execution = sfn.start_execution(stateMachineArn=arn, input='{"doc": 7}')["executionArn"]
    polled = sfn.get_activity_task(activityArn=activity, workerName="w1")
    assert json.loads(polled["input"]) == {"doc": 7}
    wait_for(lambda: "ActivityStarted" in _types(_history(sfn, execution)))
    serve.restart()
    sfn = client(serve.url)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=polled["taskToken"], output='{"verdict": "ok"}')
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"verdict": "ok"}
    types = _types(_history(sfn, execution))
    assert types.count("ActivityScheduled") == 1 and types.count("ActivityStarted") == 1


def test_a_wait_ends_when_it_would_have_ended_without_the_kill(serve):
    sfn = client(serve.url)
    arn = _machine(sfn, "Pause", {"W": {"Type": "Wait", "Seconds": 3, "End": True}})
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    time.sleep(1)
    serve.restart()
    sfn = client(serve.url)
    assert wait_done(sfn, execution, timeout=15)["status"] == "SUCCEEDED"
    events = _history(sfn, execution)
    assert _types(events) == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited",
                              "ExecutionSucceeded"]
    waited = (events[2]["timestamp"] - events[1]["timestamp"]).total_seconds()
    assert 2.9 <= waited < 3 + 2.5        # counted from entry, not from the restart


def test_a_retry_back_off_goes_on_and_the_failed_attempt_is_not_repeated(serve, out):
    sfn = client(serve.url)
    arn = _machine(sfn, "Retries", {"T": task(FUNCTION.format("flaky"), Retry=[
        {"ErrorEquals": ["Declined"], "IntervalSeconds": 2, "MaxAttempts": 2}], End=True)})
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    # killed once the failure is recorded (before, the attempt would still be in flight)
    wait_for(lambda: "LambdaFunctionFailed" in _types(_history(sfn, execution)))
    serve.restart()
    sfn = client(serve.url)
    described = wait_done(sfn, execution, timeout=15)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"attempts": 2}
    assert _calls(out, "flaky") == 2
    types = _types(_history(sfn, execution))
    assert types.count("LambdaFunctionFailed") == 1
    assert types.count("LambdaFunctionSucceeded") == 1


def test_a_map_waiting_on_a_callback_per_item_goes_on(serve, out):
    sfn = client(serve.url)
    arn = _machine(sfn, "Fanout", {"M": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": _callback("$")}}}})
    items = ["a", "b", "c"]
    execution = sfn.start_execution(stateMachineArn=arn,
                                    input=json.dumps({"items": items}))["executionArn"]
    wait_for(lambda: all((out / f"token-{item}").exists() for item in items))
    wait_for(lambda: _types(_history(sfn, execution)).count("TaskSubmitted") == 3)
    serve.restart()
    sfn = client(serve.url)
    for item in reversed(items):
        sfn.send_task_success(taskToken=(out / f"token-{item}").read_text(),
                              output=json.dumps({"answer": item}))
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [{"answer": item} for item in items]
    assert [_calls(out, f"callback-{item}") for item in items] == [1, 1, 1]
    types = _types(_history(sfn, execution))
    assert types.count("MapIterationStarted") == 3 and types.count("TaskSubmitted") == 3


def test_a_callable_running_at_the_kill_is_called_again_with_the_same_attempt_id(serve, out):
    """At-least-once: what a callable did before the kill is not known, so it runs again;
    its attempt id is the same, for use as an idempotency key."""
    sfn = client(serve.url)
    arn = _machine(sfn, "Slow", {"T": task(FUNCTION.format("slow"), End=True)})
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    wait_for(lambda: _calls(out, "slow") == 1)
    serve.restart()
    wait_for(lambda: _calls(out, "slow") == 2)
    (out / "release").write_text("")
    sfn = client(serve.url)
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"done": True}
    first, second = (out / "slow.attempts").read_text().split()
    assert first == second
    types = _types(_history(sfn, execution))
    assert types.count("LambdaFunctionScheduled") == 1      # the history shows one call


def test_a_saga_that_failed_before_the_kill_is_redriven_after_it(serve, out):
    sfn = client(serve.url)
    arn = _machine(sfn, "Saga", {
        "Reserve": task(FUNCTION.format("reserve"), ResultPath="$.reserve", Next="Charge"),
        "Charge": task(FUNCTION.format("charge"), ResultPath="$.charge", End=True)})
    (out / "decline-order").write_text("")
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    failed = wait_done(sfn, execution)
    assert (failed["status"], failed["error"]) == ("FAILED", "Declined")
    serve.restart()
    (out / "decline-order").unlink()
    sfn = client(serve.url)
    sfn.redrive_execution(executionArn=execution)
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"reserve": {"reserved": True},
                                               "charge": {"charged": "order"}}
    assert described["redriveCount"] == 1
    assert (_calls(out, "reserve"), _calls(out, "charge-order")) == (1, 2)
    assert _types(_history(sfn, execution)).count("ExecutionRedriven") == 1


def test_a_map_that_failed_before_the_kill_redrives_only_its_unfinished_items(serve, out):
    sfn = client(serve.url)
    arn = _machine(sfn, "Charges", {"M": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": True,
        "ItemSelector": {"item.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": "Charge", "States": {
            "Charge": task(FUNCTION.format("charge"), End=True)}}}})
    (out / "decline-2").write_text("")
    execution = sfn.start_execution(stateMachineArn=arn,
                                    input='{"items": [1, 2, 3]}')["executionArn"]
    failed = wait_done(sfn, execution)
    assert (failed["status"], failed["error"]) == ("FAILED", "Declined")
    serve.restart()
    (out / "decline-2").unlink()
    sfn = client(serve.url)
    sfn.redrive_execution(executionArn=execution)
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [{"charged": str(i)} for i in (1, 2, 3)]
    assert [_calls(out, f"charge-{i}") for i in (1, 2, 3)] == [1, 2, 1]
