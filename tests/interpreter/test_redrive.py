"""Redrive (RedriveExecution) in-process: an unsuccessful execution goes on from the state
that did not succeed, with the same input, without running again what succeeded."""

import pytest

import asl

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"


class Flaky:
    """A callable that fails its first ``failures`` calls, counting every call."""

    def __init__(self, failures=1, result=None):
        self.failures, self.calls, self.result = failures, [], result

    def __call__(self, payload):
        self.calls.append(payload)
        if len(self.calls) <= self.failures:
            raise asl.TaskFailed("Broken", f"call {len(self.calls)}")
        return self.result if self.result is not None else {"ok": len(self.calls)}


def _task(name, **fields):
    return {"Type": "Task", "Resource": ARN.format(name), **fields}


def test_a_redrive_runs_on_from_the_failed_state_with_its_input():
    first, second = Flaky(0, {"a": 1}), Flaky(1, {"b": 2})
    machine = asl.StateMachine({"StartAt": "First", "States": {
        "First": _task("first", ResultPath="$.first", Next="Second"),
        "Second": _task("second", ResultPath="$.second", End=True)}})
    resources = {"first": first, "second": second}
    failed = machine.execute({"order": 7}, resources)
    assert (failed.status, failed.error) == ("FAILED", "Broken")
    redriven = machine.redrive(failed, resources)
    assert redriven.status == "SUCCEEDED"
    assert redriven.output == {"order": 7, "first": {"a": 1}, "second": {"b": 2}}
    assert len(first.calls) == 1                       # not run again
    assert second.calls == [{"order": 7, "first": {"a": 1}}] * 2
    assert (redriven.name, redriven.execution_arn) == (failed.name, failed.execution_arn)
    types = [e["type"] for e in redriven.history]
    assert types[:len(failed.history)] == [e["type"] for e in failed.history]
    redrive_event = redriven.history[len(failed.history)]
    assert redrive_event["type"] == "ExecutionRedriven"
    assert redrive_event["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert [e["id"] for e in redriven.history] == list(range(1, len(redriven.history) + 1))


def test_the_context_object_counts_redrives():
    check = Flaky(1)
    machine = asl.StateMachine({"StartAt": "Check", "States": {
        "Check": _task("check", Parameters={"count.$": "$$.Execution.RedriveCount"},
                       End=True)}})
    failed = machine.execute({}, {"check": check})
    again = machine.redrive(failed, {"check": check})
    assert again.status == "SUCCEEDED"
    assert [call["count"] for call in check.calls] == [0, 1]


def test_only_failed_parallel_branches_run_again():
    good, bad = Flaky(0, {"good": True}), Flaky(1, {"bad": "fixed"})
    machine = asl.StateMachine({"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Good", "States": {"Good": _task("good", End=True)}},
            {"StartAt": "Bad", "States": {"Bad": _task("bad", End=True)}}]}}})
    resources = {"good": good, "bad": bad}
    failed = machine.execute({}, resources, concurrency="sequential")
    assert failed.status == "FAILED"
    redriven = machine.redrive(failed, resources, concurrency="sequential")
    assert redriven.status == "SUCCEEDED"
    assert redriven.output == [{"good": True}, {"bad": "fixed"}]
    assert (len(good.calls), len(bad.calls)) == (1, 2)


def test_only_failed_map_iterations_run_again():
    seen = []

    def work(item):
        seen.append(item)
        if item == 2 and seen.count(2) == 1:
            raise asl.TaskFailed("Broken", "item 2")
        return item * 10

    machine = asl.StateMachine({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True, "ItemProcessor": {
            "StartAt": "Work", "States": {"Work": _task("work", End=True)}}}}})
    failed = machine.execute([1, 2, 3], {"work": work}, concurrency="sequential")
    assert failed.status == "FAILED"
    redriven = machine.redrive(failed, {"work": work}, concurrency="sequential")
    assert redriven.output == [10, 20, 30]
    assert sorted(seen) == [1, 2, 2] or sorted(seen) == [1, 2, 2, 3]
    assert seen.count(1) == 1


def test_an_iteration_resumes_at_its_own_failed_state():
    calls = {"prepare": 0, "finish": 0}

    def prepare(item):
        calls["prepare"] += 1
        return item

    def finish(item):
        calls["finish"] += 1
        if calls["finish"] == 1:
            raise asl.TaskFailed("Broken", "first try")
        return {"done": item}

    machine = asl.StateMachine({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": True, "ItemProcessor": {"StartAt": "Prepare", "States": {
            "Prepare": _task("prepare", Next="Finish"),
            "Finish": _task("finish", End=True)}}}}})
    resources = {"prepare": prepare, "finish": finish}
    failed = machine.execute(["x"], resources)
    redriven = machine.redrive(failed, resources)
    assert redriven.output == [{"done": "x"}]
    assert calls == {"prepare": 1, "finish": 2}


def test_variables_assigned_before_the_failure_are_there_after_a_redrive():
    flaky = Flaky(1, {"fine": True})
    machine = asl.StateMachine({"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"greeting": "hello"}, "Next": "Use"},
        "Use": {"Type": "Task", "Resource": ARN.format("use"), "Arguments": "{% $greeting %}",
                "End": True}}})
    failed = machine.execute({}, {"use": flaky})
    machine.redrive(failed, {"use": flaky})
    assert flaky.calls == ["hello", "hello"]


def test_a_succeeded_execution_cannot_be_redriven():
    machine = asl.StateMachine({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    with pytest.raises(ValueError, match="cannot be redriven"):
        machine.redrive(machine.execute({}))


def test_a_stopped_execution_can_be_redriven():
    import threading
    release = threading.Event()
    machine = asl.StateMachine({"StartAt": "Slow", "States": {
        "Slow": _task("slow", ResultPath="$.slow", End=True)}})

    def blocked(payload):
        release.wait(10)
        return "late"

    execution = machine.start({"n": 1}, {"slow": blocked})
    import time
    time.sleep(0.1)
    execution.stop(error="Halt", cause="operator")
    stopped = execution.result(timeout=5)
    release.set()
    assert stopped.status == "ABORTED"
    again = machine.redrive(stopped, {"slow": lambda payload: "quick"})
    assert (again.status, again.output) == ("SUCCEEDED", {"n": 1, "slow": "quick"})
    assert again.execution_arn == stopped.execution_arn


def test_a_timed_out_execution_can_be_redriven():
    machine = asl.StateMachine({"StartAt": "W", "TimeoutSeconds": 5, "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "done", "End": True}}})
    timed_out = machine.execute({}, clock=asl.VirtualClock())
    assert timed_out.status == "TIMED_OUT"
    again = machine.redrive(timed_out, clock=asl.VirtualClock())
    assert again.status == "TIMED_OUT"          # the Wait starts again, and is as long
    assert [e["type"] for e in again.history].count("WaitStateEntered") == 2
