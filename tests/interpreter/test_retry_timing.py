"""Retry timing under the VirtualClock, JitterStrategy FULL included, and the reruns of
Parallel branches and Map iterations."""

import threading

import pytest

import asl

from .support import T0, machine, run

FLAKY = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True, "Retry": [
    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 5, "JitterStrategy": "FULL"}]}}}
NOMINAL = [2, 6, 18, 54, 162]


def jittered(seed: int):
    result, scripts, clock = run(FLAKY, {}, {"t": [{"raise": ["E", ""]}]}, seed=seed)
    assert result.status == "FAILED" and len(scripts["t"].calls) == 6
    return [w for w in clock.waits if w.kind == "Retry"]


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_full_jitter_stays_within_the_nominal_delay(seed):
    waits = jittered(seed)
    assert [w.intended for w in waits] == NOMINAL
    for wait in waits:
        assert 0 <= wait.seconds <= wait.intended
        assert wait.state == "T"


def test_full_jitter_is_deterministic_for_a_seed():
    assert [w.seconds for w in jittered(3)] == [w.seconds for w in jittered(3)]
    assert [w.seconds for w in jittered(3)] != [w.seconds for w in jittered(4)]


def test_full_jitter_is_actually_random():
    seconds = [w.seconds for w in jittered(0)]
    assert seconds != NOMINAL
    assert len(set(seconds)) == len(seconds)


def test_jitter_applies_after_max_delay_seconds():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True, "Retry": [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 10, "MaxAttempts": 3,
         "MaxDelaySeconds": 15, "JitterStrategy": "FULL"}]}}}
    result, _, clock = run(definition, {}, {"t": [{"raise": ["E", ""]}]}, seed=5)
    waits = [w for w in clock.waits if w.kind == "Retry"]
    assert [w.intended for w in waits] == [10, 15, 15]
    assert all(0 <= w.seconds <= w.intended for w in waits)


def test_jitter_none_is_exact():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True, "Retry": [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3, "JitterStrategy": "NONE"}]}}}
    _, _, clock = run(definition, {}, {"t": [{"raise": ["E", ""]}]})
    assert clock.schedule == [("T", "Retry", 2), ("T", "Retry", 6), ("T", "Retry", 18)]


def test_retry_delays_move_virtual_time():
    result, _, clock = run(FLAKY, {}, {"t": [{"raise": ["E", ""]}]}, seed=9)
    assert result.stop_time - result.start_time == pytest.approx(sum(w.seconds for w in clock.waits))


@pytest.mark.parametrize("concurrency", ["threads", "sequential"])
def test_parallel_retry_reruns_every_branch(concurrency):
    """Reference 8: Retry on a Parallel re-runs all branches (here B fails its first run
    only once A has run, so each branch must run exactly twice)."""
    a_ran = threading.Event()
    calls = {"a": 0, "b": 0}

    def a(payload):
        calls["a"] += 1
        a_ran.set()
        return "a"

    def b(payload):
        calls["b"] += 1
        if calls["b"] == 1:
            a_ran.wait(5)
            raise asl.TaskFailed("Flaky", "first run")
        return "b"

    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
        "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1, "IntervalSeconds": 4}],
        "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:a", "End": True}}},
                     {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:b", "End": True}}}]}}}
    clock = asl.VirtualClock(start=T0)
    result = machine(definition).execute({}, resources={"a": a, "b": b}, clock=clock, concurrency=concurrency)
    assert (result.status, result.output) == ("SUCCEEDED", ["a", "b"])
    assert calls == {"a": 2, "b": 2}
    assert clock.schedule == [("P", "Retry", 4)]


def test_parallel_branches_share_virtual_time():
    """Branches that each wait run side by side: 10 s and 30 s take 30 s together."""
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Next": "After", "Branches": [
        {"StartAt": "W1", "States": {"W1": {"Type": "Wait", "Seconds": 10, "End": True}}},
        {"StartAt": "W2", "States": {"W2": {"Type": "Wait", "Seconds": 30, "End": True}}}]},
        "After": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "End": True}}}
    result, _, clock = run(definition, {})
    assert result.output == {"t": "2023-11-14T22:13:50Z"}
    assert sorted(clock.schedule) == [("W1", "Wait", 10), ("W2", "Wait", 30)]
