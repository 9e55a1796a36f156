"""Execution-level outcomes: payload size limit, the machine's TimeoutSeconds, the
history limit and StopExecution (reference sections 4, 9, 12 and 13)."""

import time

import pytest

import asl

from .support import T0, event_types, machine, run, single

LIMIT = 256 * 1024
DATA_LIMIT_CAUSE_END = "' returned a result with a size exceeding the maximum number of bytes service limit."


def test_task_result_over_256_kib_is_data_limit_exceeded():
    result, _, _ = run(single({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:big"}, name="T"), {}, {"big": [{"big": LIMIT + 10}]})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    assert result.cause.startswith("The state/task '")
    assert result.cause.endswith(DATA_LIMIT_CAUSE_END)


def test_result_just_under_the_limit_passes():
    result, _, _ = run(single({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:big"}, name="T"), {}, {"big": [{"big": LIMIT - 100}]})
    assert result.status == "SUCCEEDED"
    assert len(result.output) == LIMIT - 100


def test_limit_counts_utf8_bytes_not_characters():
    # 100,000 three-byte characters: 300,000 bytes of UTF-8
    result, _, _ = run(single({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:big"}, name="T"), {}, {"big": [{"return": "€" * 100_000}]})
    assert result.error == "States.DataLimitExceeded"


def test_state_output_over_the_limit_is_data_limit_exceeded():
    """Reference 4: state output must be <= 256 KiB: two 150 KB halves merged by ResultPath."""
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:half", "ResultPath": "$.one", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:half", "ResultPath": "$.two", "End": True}}}
    result, _, _ = run(definition, {}, {"half": [{"big": 150_000}]})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    assert result.states == ["A", "B"]


def test_machine_timeout_seconds_times_the_execution_out():
    definition = {"TimeoutSeconds": 10, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 60, "Next": "After"},
        "After": {"Type": "Pass", "End": True}}}
    result, _, clock = run(definition, {})
    assert result.status == "TIMED_OUT"
    # DescribeExecution of a timed-out execution shows no error or cause; the event has them.
    assert (result.error, result.cause) == (None, None)
    assert result.output is None
    assert event_types(result)[-1] == "ExecutionTimedOut"
    assert result.history[-1]["executionTimedOutEventDetails"]["error"] == "States.Timeout"
    assert "After" not in result.states
    assert result.stop_time - result.start_time == 10


def test_machine_timeout_during_retries():
    definition = {"TimeoutSeconds": 5, "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True,
                  "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 10}]}}}
    result, scripts, _ = run(definition, {}, {"t": [{"raise": ["E", ""]}]})
    assert result.status == "TIMED_OUT"
    assert len(scripts["t"].calls) < 5


def test_machine_timeout_is_not_caught_by_a_task_catcher():
    definition = {"TimeoutSeconds": 5, "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]},
        "H": {"Type": "Pass", "End": True}}}
    result, _, _ = run(definition, {}, {"t": [{"sleep": 60, "return": 1}]})
    assert result.status == "TIMED_OUT"
    assert "H" not in result.states


def test_machine_timeout_with_real_time():
    definition = {"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}
    started = time.monotonic()
    result = machine(definition).execute({})
    assert result.status == "TIMED_OUT"
    assert time.monotonic() - started < 5


def test_runaway_loop_fails_at_the_history_limit():
    """Standard workflows fail when the history would pass 25,000 events: never hang."""
    definition = {"StartAt": "Spin", "States": {
        "Spin": {"Type": "Pass", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}], "Default": "Spin"},
        "Done": {"Type": "Succeed"}}}
    started = time.monotonic()
    result, _, _ = run(definition, {})
    assert result.status == "FAILED"
    assert time.monotonic() - started < 20
    history = result.history
    assert event_types(result)[-1] == "ExecutionFailed"
    assert [e["id"] for e in history] == list(range(1, len(history) + 1)), "ids stay sequential"
    assert 24_990 <= len(history) <= 25_000


def test_stop_aborts_a_waiting_execution():
    execution = machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}).start({})
    time.sleep(0.05)
    assert not execution.done
    execution.stop("Operator.Cancelled", "stopped by the test")
    result = execution.result(timeout=5)
    assert result.status == "ABORTED"
    assert (result.error, result.cause) == ("Operator.Cancelled", "stopped by the test")
    assert result.output is None
    assert event_types(result)[-1] == "ExecutionAborted"


def test_stop_aborts_an_execution_waiting_for_a_task_token():
    definition = single({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                         "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"}}, name="T")
    execution = machine(definition).start({}, resources={"arn:aws:states:::sqs:sendMessage.waitForTaskToken": lambda p: {}})
    execution.wait_for_task_token(timeout=5)
    execution.stop()
    result = execution.result(timeout=5)
    assert result.status == "ABORTED"
    assert (result.error, result.cause) == (None, None)


def test_stop_aborts_parallel_branches():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "W1", "States": {"W1": {"Type": "Wait", "Seconds": 3600, "End": True}}},
        {"StartAt": "W2", "States": {"W2": {"Type": "Wait", "Seconds": 3600, "End": True}}}]}}}
    execution = machine(definition).start({})
    time.sleep(0.05)
    execution.stop("Stop", "now")
    result = execution.result(timeout=5)
    assert result.status == "ABORTED"


def test_result_times_out_while_running():
    execution = machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}).start({})
    with pytest.raises(TimeoutError):
        execution.result(timeout=0.01)
    execution.stop()
    assert execution.result(timeout=5).status == "ABORTED"


def test_virtual_clock_skips_long_waits():
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86_400 * 300, "End": True}}}
    started = time.monotonic()
    clock = asl.VirtualClock(start=T0)
    result = machine(definition).execute({}, clock=clock)
    assert result.status == "SUCCEEDED"
    assert time.monotonic() - started < 1
    assert clock.time() == T0 + 86_400 * 300


def _express(definition: dict):
    return asl.StateMachine(definition, type="EXPRESS").execute(
        {}, clock=asl.VirtualClock(start=T0))


def test_an_express_execution_times_out_after_five_minutes():
    """AWS's quota: an Express workflow runs five minutes at most, TimeoutSeconds or not."""
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
    result = _express(definition)
    assert result.status == "TIMED_OUT"
    assert result.stop_time - result.start_time == 300
    assert event_types(result)[-1] == "ExecutionTimedOut"
    # A shorter TimeoutSeconds still wins; the same Wait in a Standard machine just waits.
    result = _express({**definition, "TimeoutSeconds": 30})
    assert (result.status, result.stop_time - result.start_time) == ("TIMED_OUT", 30)
    result, _, _ = run(definition, {})
    assert (result.status, result.stop_time - result.start_time) == ("SUCCEEDED", 600)


def test_an_express_execution_has_no_history_quota():
    """The 25,000-event quota is a Standard workflow's; an Express one runs past it."""
    definition = {"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.n", "Next": "Spin"},
        "Spin": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThanEquals": 9000, "Next": "Done"}],
            "Default": "Spin"},
        "Done": {"Type": "Succeed"}}}
    result = _express(definition)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output == {"n": 9000}
    assert len(result.history) > 25_000
    standard, _, _ = run(definition, {})
    assert (standard.status, len(standard.history)) == ("FAILED", 25_000)
