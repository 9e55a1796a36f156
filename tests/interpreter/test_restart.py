"""Restart from a journal (the seam ``asl serve`` is durable through): a run whose host
stopped at any moment is rebuilt from what its Journal holds and goes on where it was,
with the history it would have had, waiting states still waiting, and no callable that
had returned called again (one that was running is called again: at-least-once).

A "kill" here is the journal going deaf at some point: the records up to then are all a
new host would find. The records make a JSON round trip, as they do through SQLite.
"""

import json
import threading
import time

import pytest

import asl

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


class MemoryJournal:
    """A journal as a durable host keeps it: records are safe only once flushed, so a
    kill loses what the run recorded since its last flush (the engine must flush before
    anything it waits on)."""

    def __init__(self):
        self.records, self.pending, self.lock, self.deaf = [], [], threading.Lock(), False

    def _keep(self, record):
        with self.lock:
            if not self.deaf:
                self.pending.append(json.loads(json.dumps(record)))

    def event(self, path, event, own):
        self._keep(["event", path, event, own])

    def record(self, kind, path, body):
        self._keep([kind, path, body])

    def flush(self):
        with self.lock:
            if not self.deaf:
                self.records.extend(self.pending)
            self.pending = []

    def kill(self):
        with self.lock:
            self.deaf = True
            return list(self.records)


class Counting:
    """A callable that counts its calls and answers from a function of the payload."""

    def __init__(self, answer=lambda payload: {"ok": True}):
        self.answer, self.calls = answer, []

    def __call__(self, payload, context=None):
        self.calls.append((payload, context.attempt_id if context else None))
        return self.answer(payload)


def _task(name, **fields):
    return {"Type": "Task", "Resource": ARN.format(name), **fields}


def _start(machine, value, resources, clock=None, name="run-1"):
    journal = MemoryJournal()
    execution = machine._start_journaled(value, resources, journal, token_seed="seed",
                                         name=name, clock=clock)
    return execution, journal


def _restore(machine, records, resources, clock=None, journal=None, name="run-1",
             start_time=None, ended=None):
    start = start_time if start_time is not None else next(
        r[2][2] for r in records if r[0] == "event")
    started = next(r[2][4] for r in records if r[0] == "event")   # ExecutionStarted
    return machine._restore(records, resources, journal, name=name,
                            input_value=started["input"],
                            start_time=start, token_seed="seed", clock=clock, ended=ended)


def _shape(history):
    return [{k: v for k, v in e.items() if k != "timestamp"} for e in history]


def _until(predicate, timeout=5.0):
    give_up = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


SAGA = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": _task("reserve", ResultPath="$.reserved", Assign={"reserved": "$.reserved"},
                         Next="Check"),
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.reserved.ok", "BooleanEquals": True, "Next": "Pause"}],
            "Default": "Undo"},
        "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Charge"},
        "Charge": _task("charge", ResultPath="$.charged", Retry=[
            {"ErrorEquals": ["Declined"], "IntervalSeconds": 5, "MaxAttempts": 2}],
            Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Undo"}],
            Next="Ship"),
        "Ship": _task("ship", ResultPath="$.shipped", End=True),
        "Undo": _task("undo", ResultPath="$.undone", Next="Failed"),
        "Failed": {"Type": "Fail", "Error": "OrderFailed", "Cause": "compensated"},
    },
}


def _saga_resources(charge_failures):
    state = {"charges": 0}

    def charge(payload):
        state["charges"] += 1
        if state["charges"] <= charge_failures:
            raise asl.TaskFailed("Declined", f"attempt {state['charges']}")
        return {"charged": payload["order"]}

    return {"reserve": lambda p: {"ok": True}, "charge": charge,
            "ship": lambda p: {"tracking": "T-" + p["order"]}, "undo": lambda p: {"undone": 1}}


@pytest.mark.parametrize("charge_failures", [0, 1, 5])
def test_a_restart_after_any_record_ends_as_the_uninterrupted_run_with_its_history(
        charge_failures):
    machine = asl.StateMachine(SAGA)
    execution, journal = _start(machine, {"order": "o-1"}, _saga_resources(charge_failures),
                                clock=asl.VirtualClock(start=1000.0))
    reference = execution.result(timeout=10)
    records = journal.kill()
    assert reference.status == ("SUCCEEDED" if charge_failures < 3 else "FAILED")
    for cut in range(1, len(records) + 1):
        restored = _restore(machine, records[:cut], _saga_resources(0),
                            clock=asl.VirtualClock(start=2000.0), journal=MemoryJournal())
        result = restored.result(timeout=10)
        if cut < len(records) and charge_failures:
            # The charges left to fail differ from the reference's after a restart; only
            # where the restart resumes past the Charge state can the end be compared.
            continue
        assert (result.status, result.output, result.error, result.cause) == (
            reference.status, reference.output, reference.error, reference.cause), cut
        assert _shape(result.history) == _shape(reference.history), cut


def test_a_callback_waiting_at_the_kill_is_still_waiting_with_the_same_token():
    sent = Counting(lambda payload: {"sent": True})
    machine = asl.StateMachine({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": CALLBACK, "Parameters": {
            "FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token"}},
            "ResultPath": "$.answer", "End": True}}})
    execution, journal = _start(machine, {"id": 1}, {"approve": sent})
    token = execution.wait_for_task_token()
    records = journal.kill()
    execution.stop()

    restored = _restore(machine, records, {"approve": sent}, journal=MemoryJournal())
    _until(lambda: token in restored.task_tokens())
    assert len(sent.calls) == 1                   # its callable had returned: not called again
    restored.send_task_success(token, {"approved": True})
    result = restored.result(timeout=5)
    assert result.status == "SUCCEEDED"
    assert result.output == {"id": 1, "answer": {"approved": True}}
    types = [e["type"] for e in result.history]
    assert types == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                     "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert [e["previousEventId"] for e in result.history] == [0, 0, 2, 3, 4, 5, 6, 7]


def test_a_wait_goes_on_for_what_is_left_of_it():
    machine = asl.StateMachine({"StartAt": "Pause", "States": {
        "Pause": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution, journal = _start(machine, {}, {})
    _until(lambda: len(journal.records) >= 2)          # the Wait was entered
    records = journal.kill()
    execution.stop()
    entered = next(r[2][2] for r in records if r[0] == "event" and r[2][1] == "WaitStateEntered")

    clock = asl.VirtualClock(start=entered + 1000)
    result = _restore(machine, records, {}, clock=clock).result(timeout=5)
    assert result.status == "SUCCEEDED"
    assert [(w.kind, w.seconds) for w in clock.waits] == [("Wait", pytest.approx(2600))]
    assert [e["type"] for e in result.history] == [
        "ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]


def test_a_retry_back_off_goes_on_for_what_is_left_with_its_counts():
    seen = []

    def flaky(payload, context):
        seen.append(context.context["State"].get("RetryCount"))
        if len(seen) == 1:
            raise asl.TaskFailed("Busy", "try later")
        return {"done": len(seen)}

    machine = asl.StateMachine({"StartAt": "Work", "States": {
        "Work": _task("work", Retry=[{"ErrorEquals": ["Busy"], "IntervalSeconds": 600,
                                      "MaxAttempts": 1}], End=True)}})
    execution, journal = _start(machine, {}, {"work": flaky})
    _until(lambda: any(r[0] == "retry" for r in journal.records))
    records = journal.kill()
    execution.stop()
    wake = next(r[2][1] for r in records if r[0] == "retry")

    clock = asl.VirtualClock(start=wake - 30)
    result = _restore(machine, records, {"work": flaky}, clock=clock).result(timeout=5)
    assert (result.status, result.output) == ("SUCCEEDED", {"done": 2})
    assert seen == [0, 1]                         # one call before, one after; RetryCount kept
    assert [(w.kind, w.seconds) for w in clock.waits] == [("Retry", pytest.approx(30))]
    assert [e["type"] for e in result.history].count("LambdaFunctionFailed") == 1


def test_a_callable_running_at_the_kill_is_called_again_with_the_same_attempt_id():
    release = threading.Event()
    calls = []

    def slow(payload, context):
        calls.append(context.attempt_id)
        if len(calls) == 1:
            release.wait(5)
        return {"n": len(calls)}

    machine = asl.StateMachine({"StartAt": "Work", "States": {"Work": _task("work", End=True)}})
    execution, journal = _start(machine, {}, {"work": slow})
    _until(lambda: calls)
    records = journal.kill()
    execution.stop()
    release.set()

    result = _restore(machine, records, {"work": slow}).result(timeout=5)
    assert (result.status, result.output) == ("SUCCEEDED", {"n": 2})
    assert len(calls) == 2 and calls[0] == calls[1] and len(calls[0]) == 64
    assert [e["type"] for e in result.history] == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
        "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
        "ExecutionSucceeded"]


def test_inside_a_map_only_the_unfinished_iteration_goes_on():
    tokens = {}
    work = Counting(lambda payload: {"item": payload["item"]})

    def ask(payload):
        tokens[payload["item"]] = payload["token"]
        return {}

    item_states = {"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [
            {"Variable": "$.item", "NumericEquals": 1, "Next": "Ask"}], "Default": "Work"},
        "Work": _task("work", End=True),
        "Ask": {"Type": "Task", "Resource": CALLBACK, "Parameters": {
            "FunctionName": "ask", "Payload": {"item.$": "$.item", "token.$": "$$.Task.Token"}},
            "End": True}}}
    machine = asl.StateMachine({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"item.$": "$$.Map.Item.Value"},
        "ItemProcessor": item_states, "End": True}}})
    resources = {"work": work, "ask": ask}
    execution, journal = _start(machine, {"items": [0, 1, 2]}, resources)
    _until(lambda: execution.task_tokens() and len(work.calls) == 2
           and sum(r[0] == "done" for r in journal.records) == 2)
    records = journal.kill()
    execution.stop()

    restored = _restore(machine, records, resources, journal=MemoryJournal())
    _until(lambda: tokens[1] in restored.task_tokens())
    restored.send_task_success(tokens[1], {"item": 1, "approved": True})
    result = restored.result(timeout=5)
    assert result.status == "SUCCEEDED"
    assert result.output == [{"item": 0}, {"item": 1, "approved": True}, {"item": 2}]
    assert len(work.calls) == 2                   # the finished iterations did not run again
    types = [e["type"] for e in result.history]
    assert types.count("MapIterationStarted") == 3 and types.count("MapIterationSucceeded") == 3
    assert types.count("MapStateStarted") == 1 and types.count("TaskSubmitted") == 1


def test_a_failed_branch_stays_failed_and_a_tolerated_map_goes_on():
    tokens = []

    def ask(payload):
        tokens.append(payload["token"])
        return {}

    bad_calls = []

    def bad(payload):
        bad_calls.append(payload)
        raise asl.TaskFailed("Bad", "item 0")

    item_states = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                   "StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [
            {"Variable": "$", "NumericEquals": 0, "Next": "Bad"}], "Default": "Ask"},
        "Bad": _task("bad", End=True),
        "Ask": {"Type": "Task", "Resource": CALLBACK, "Parameters": {
            "FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}}
    machine = asl.StateMachine({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "ItemProcessor": item_states,
        "ToleratedFailureCount": 1, "End": True}}})
    resources = {"ask": ask, "bad": bad}
    execution, journal = _start(machine, {"items": [0, 1]}, resources)
    _until(lambda: tokens and any(r[0] == "failed" for r in journal.records))
    records = journal.kill()
    execution.stop()

    restored = _restore(machine, records, resources, journal=MemoryJournal())
    _until(lambda: tokens[0] in restored.task_tokens())
    restored.send_task_success(tokens[0], {"fine": True})
    result = restored.result(timeout=5)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    # the failed item's output as an uninterrupted run gives it; it was not run again
    assert result.output == [{"Error": "Bad", "Cause": "item 0"}, {"fine": True}]
    assert len(bad_calls) == 1


def test_an_ended_run_restored_can_be_redriven():
    machine = asl.StateMachine(SAGA)
    resources = _saga_resources(5)
    execution, journal = _start(machine, {"order": "o-2"}, resources,
                                clock=asl.VirtualClock(start=0.0))
    failed = execution.result(timeout=10)
    assert failed.status == "FAILED"
    records = journal.kill()

    restored = _restore(machine, records, resources, ended="FAILED")
    redriven = machine._redrive_journaled(restored, _saga_resources(0), MemoryJournal(),
                                          clock=asl.VirtualClock(start=10.0)).result(timeout=5)
    assert redriven.status == "FAILED"            # it failed at the Fail state: run again
    assert [e["type"] for e in redriven.history][len(failed.history)] == "ExecutionRedriven"
    assert redriven.history[:len(failed.history)] == failed.history


def test_a_run_restored_before_its_first_event_starts_afresh():
    machine = asl.StateMachine({"StartAt": "Done", "States": {"Done": {"Type": "Pass",
                                                                        "End": True}}})
    result = machine._restore([], {}, None, name="run-0", input_value={"a": 1},
                              start_time=time.time(), token_seed="seed").result(timeout=5)
    assert (result.status, result.output) == ("SUCCEEDED", {"a": 1})
    assert [e["type"] for e in result.history][0] == "ExecutionStarted"


NESTED = {
    "QueryLanguage": "JSONata",
    "StartAt": "Setup",
    "States": {
        "Setup": {"Type": "Pass", "Assign": {"factor": 10}, "Next": "Both"},
        "Both": {"Type": "Parallel", "Next": "Sum", "Branches": [
            {"StartAt": "Each", "States": {"Each": {
                "Type": "Map", "Items": "{% $states.input.items %}", "End": True,
                "ItemProcessor": {"StartAt": "Times", "States": {
                    "Times": {"Type": "Task", "Resource": ARN.format("times"),
                              "Arguments": {"n": "{% $states.input %}", "f": "{% $factor %}"},
                              "Assign": {"last": "{% $states.result %}"},
                              "Output": "{% $states.result %}", "End": True}}}}}},
            {"StartAt": "Hold", "States": {
                "Hold": {"Type": "Wait", "Seconds": 5, "Next": "Echo"},
                "Echo": {"Type": "Task", "Resource": ARN.format("echo"), "End": True}}}]},
        "Sum": {"Type": "Pass", "Output": "{% $sum($states.input[0]) + $factor %}",
                "End": True},
    },
}


def test_a_restart_inside_parallel_and_map_branches_ends_as_the_uninterrupted_run():
    resources = {"times": lambda p: p["n"] * p["f"], "echo": lambda p: p}
    machine = asl.StateMachine(NESTED)
    execution, journal = _start(machine, {"items": [1, 2, 3]}, resources,
                                clock=asl.VirtualClock(start=0.0))
    reference = execution.result(timeout=10)
    records = journal.kill()
    assert (reference.status, reference.output) == ("SUCCEEDED", 70)
    expected = sorted(e["type"] for e in reference.history)
    for cut in range(1, len(records) + 1):
        result = _restore(machine, records[:cut], resources,
                          clock=asl.VirtualClock(start=100.0)).result(timeout=10)
        assert (result.status, result.output) == ("SUCCEEDED", 70), (cut, result.cause)
        assert sorted(e["type"] for e in result.history) == expected, cut
        assert [e["id"] for e in result.history] == list(range(1, len(expected) + 1))
