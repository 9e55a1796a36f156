"""Threads of execution: a failing branch or iteration stops its siblings, and one
StateMachine runs many executions at once (real clock, short bounds)."""

import time
from concurrent.futures import ThreadPoolExecutor

import asl

from .support import T0, machine


def test_a_failing_branch_stops_the_other_branches():
    """Reference 8, Parallel: if any branch fails, all the others are stopped."""
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 3600, "Next": "Never"},
                                       "Never": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:never", "End": True}}},
        {"StartAt": "Boom", "States": {"Boom": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:boom", "End": True}}}]}}}
    never = []

    def boom(payload):
        time.sleep(0.05)
        raise asl.TaskFailed("Boom", "branch 2")

    started = time.monotonic()
    result = machine(definition).execute({}, resources={"boom": boom, "never": never.append})
    assert (result.status, result.error, result.cause) == ("FAILED", "Boom", "branch 2")
    assert time.monotonic() - started < 5
    assert never == []


def test_a_failing_iteration_stops_the_other_iterations():
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True,
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "Next": "After"},
                                                       "After": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:after", "End": True}}}}}}
    after = []

    def work(item):
        if item == 0:
            raise asl.TaskFailed("ItemFailed", "item 0")
        time.sleep(0.3)
        return item

    started = time.monotonic()
    result = machine(definition).execute(list(range(5)), resources={"work": work, "after": after.append})
    assert (result.status, result.error) == ("FAILED", "ItemFailed")
    assert time.monotonic() - started < 5
    assert after == [], "no iteration goes on to its next state once one failed"


def test_one_machine_runs_many_executions_at_once():
    definition = {"StartAt": "Double", "States": {
        "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "ResultPath": "$.doubled", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Name"},
        "Name": {"Type": "Pass", "Parameters": {"n.$": "$.n", "doubled.$": "$.doubled", "name.$": "$$.Execution.Name"}, "End": True}}}
    sm = machine(definition)

    def double(payload):
        time.sleep(0.01)
        return payload["n"] * 2

    def one(n):
        return sm.execute({"n": n}, resources={"double": double}, clock=asl.VirtualClock(start=T0), name=f"run-{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(16)))
    assert [r.output for r in results] == [{"n": n, "doubled": 2 * n, "name": f"run-{n}"} for n in range(16)]
    assert all(len(r.history) == len(results[0].history) for r in results)


def test_wait_until_a_past_timestamp_continues_at_once():
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "End": True}}}
    clock = asl.VirtualClock(start=T0)
    result = machine(definition).execute({"a": 1}, clock=clock)
    assert (result.status, result.output) == ("SUCCEEDED", {"a": 1})
    assert clock.time() == T0

    started = time.monotonic()
    assert machine(definition).execute({}).status == "SUCCEEDED"       # real clock too
    assert time.monotonic() - started < 1
