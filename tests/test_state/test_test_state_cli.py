"""`asl test-state` and `asl.test_state`: the same engine as executions, from the shell."""

import json
import subprocess
import sys

import asl

TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
        "Retry": [{"ErrorEquals": ["Timeout"], "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["Declined"], "Next": "Refuse"}], "Next": "Done"}


def _asl(*args):
    return subprocess.run([sys.executable, "-m", "asl", "test-state", *args],
                          capture_output=True, text=True, timeout=60)


def test_a_retriable_error_prints_aws_shape_and_exits_0(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(TASK))
    done = _asl(str(state), "--input", '{"n": 1}', "--inspection-level", "DEBUG",
                "--mock", '{"errorOutput": {"error": "Timeout", "cause": "slow"}}')
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert (output["status"], output["error"]) == ("RETRIABLE", "Timeout")
    assert output["inspectionData"]["errorDetails"] == {"retryIndex": 0,
                                                        "retryBackoffIntervalSeconds": 1}
    assert json.loads(output["inspectionData"]["afterParameters"]) == {
        "FunctionName": "charge", "Payload": {"n": 1}}


def test_a_caught_error_names_the_next_state(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(TASK))
    done = _asl(str(state), "--mock", '{"errorOutput": {"error": "Declined"}}')
    output = json.loads(done.stdout)
    assert (output["status"], output["nextState"]) == ("CAUGHT_ERROR", "Refuse")


def test_a_failed_state_exits_1_and_a_bad_state_exits_2(tmp_path):
    fail = tmp_path / "fail.json"
    fail.write_text(json.dumps({"Type": "Fail", "Error": "Nope", "Cause": "no"}))
    done = _asl(str(fail))
    assert done.returncode == 1 and json.loads(done.stdout)["status"] == "FAILED"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Type": "Pass", "Nope": 1, "End": True}))
    done = _asl(str(bad))
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_the_api_is_exported_from_asl():
    result = asl.test_state({"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r",
                             "Next": "After"}, {"a": 1})
    assert (result.status, result.next_state, result.output) == (
        "SUCCEEDED", "After", {"a": 1, "r": {"x": 1}})
