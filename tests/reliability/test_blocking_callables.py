"""Every time limit holds while a user's callable blocks (issue 12, "Time and control").

The callables here block in real time (time.sleep or an Event that is never set); each
test bounds its own wall time generously (a loaded CI machine), but far below how long the
callable would block if asl waited for it.
"""

import asyncio
import threading
import time

import pytest

import asl

BLOCK = 30.0          # a callable left to run this long would fail the test by its timer


def _blocker(seconds=BLOCK):
    def handler(payload):
        time.sleep(seconds)
        return {"late": True}
    return handler


def _task(resource="block", **fields):
    """A Task on the Lambda function ``resource``, which the resources key ``resource`` answers."""
    return {"Type": "Task", "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{resource}",
            **fields}


def _machine(states, start="T", **top):
    return asl.StateMachine({"StartAt": start, "States": states, **top})


def test_machine_timeout_ends_the_run_while_a_task_blocks():
    machine = _machine({"T": _task(End=True)}, TimeoutSeconds=1)
    began = time.monotonic()
    result = machine.execute({}, {"block": _blocker()})
    assert result.status == "TIMED_OUT"
    assert time.monotonic() - began < 5


def test_machine_timeout_ends_a_parallel_of_blocked_branches():
    branches = [{"StartAt": n, "States": {n: _task(End=True)}} for n in ("A", "B")]
    machine = _machine({"P": {"Type": "Parallel", "Branches": branches, "End": True}},
                       start="P", TimeoutSeconds=1)
    began = time.monotonic()
    result = machine.execute({}, {"block": _blocker()})
    assert result.status == "TIMED_OUT"
    assert time.monotonic() - began < 5


@pytest.mark.parametrize("where", ["last", "middle", "parallel", "map"])
def test_stop_aborts_at_once_whatever_the_callable_does(where):
    started = threading.Event()

    def handler(payload):
        started.set()
        time.sleep(BLOCK)
        return {"late": True}

    states = {
        "last": {"T": _task(End=True)},
        "middle": {"T": _task(Next="After"), "After": {"Type": "Pass", "End": True}},
        "parallel": {"T": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": n, "States": {n: _task(End=True)}} for n in ("A", "B")]}},
        "map": {"T": {"Type": "Map", "End": True, "ItemsPath": "$.items", "ItemProcessor": {
            "StartAt": "B", "States": {"B": _task(End=True)}}}},
    }[where]
    execution = _machine(states).start({"items": [1, 2, 3]}, {"block": handler})
    assert started.wait(10)
    began = time.monotonic()
    execution.stop(error="Halt", cause="by the test")
    result = execution.result(timeout=5)
    assert time.monotonic() - began < 1.0
    assert (result.status, result.error, result.cause) == ("ABORTED", "Halt", "by the test")
    assert "late" not in str(result.output)


def test_the_late_result_of_an_abandoned_callable_is_discarded():
    release, returned = threading.Event(), threading.Event()

    def handler(payload):
        release.wait(10)
        returned.set()
        return {"late": True}

    execution = _machine({"T": _task(End=True)}).start({}, {"block": handler})
    time.sleep(0.1)
    execution.stop()
    result = execution.result(timeout=5)
    release.set()
    assert returned.wait(5)
    time.sleep(0.1)
    assert result.status == "ABORTED"
    assert execution.result(timeout=1).status == "ABORTED"
    assert result.history[-1]["type"] == "ExecutionAborted"


@pytest.mark.parametrize("field", ["TimeoutSeconds", "HeartbeatSeconds"])
def test_task_limits_bound_real_blocking_under_the_virtual_clock(field):
    limits = {"TimeoutSeconds": 2} if field == "TimeoutSeconds" else {"TimeoutSeconds": 100,
                                                                      "HeartbeatSeconds": 2}
    machine = _machine({"T": _task(End=True, **limits)})
    began = time.monotonic()
    result = machine.execute({}, {"block": _blocker()}, clock=asl.VirtualClock())
    assert time.monotonic() - began < 10
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


def test_task_timeout_bounds_real_blocking_in_real_time():
    machine = _machine({"T": _task(End=True, TimeoutSeconds=1)})
    began = time.monotonic()
    result = machine.execute({}, {"block": _blocker()})
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert time.monotonic() - began < 5


def test_async_callable_works_inside_a_running_event_loop():
    async def handler(payload):
        await asyncio.sleep(0)
        return {"doubled": payload["n"] * 2}

    machine = _machine({"T": _task(resource="double", End=True)})

    async def main():
        return machine.execute({"n": 21}, {"double": handler})

    result = asyncio.run(main())
    assert (result.status, result.output) == ("SUCCEEDED", {"doubled": 42})


def _retry_forever(max_delay):
    retrier = {"ErrorEquals": ["States.ALL"], "MaxAttempts": 99999999, "BackoffRate": 2,
               "IntervalSeconds": 1}
    if max_delay is not None:
        retrier["MaxDelaySeconds"] = max_delay

    def fails(payload):
        raise RuntimeError("always")

    machine = _machine({"T": _task(resource="fails", End=True, Retry=[retrier])})
    return machine.execute({}, {"fails": fails}, clock=asl.VirtualClock())


def test_doubling_retry_delays_end_at_the_one_year_execution_limit():
    result = _retry_forever(None)
    assert result.status == "TIMED_OUT"
    history = result.history            # readable: no timestamp past the year 9999
    assert history[-1]["type"] == "ExecutionTimedOut"
    assert 365 * 86400 - 1 <= result.stop_time - result.start_time <= 365 * 86400 + 1


def test_capped_retry_delays_end_at_the_history_limit():
    result = _retry_forever(5)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "25000" in result.cause.replace(",", "")
