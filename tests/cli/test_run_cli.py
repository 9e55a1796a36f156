"""`asl run`: outputs and exit codes for each outcome, and a clear line for each user mistake."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from asl.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAGA = ROOT / "examples" / "order-saga"

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hi {}', $.who)"}, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "it broke"}}}
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "End": True}}}
HANDLERS = "RESOURCES = {'double': lambda event: {'n': event['n'] * 2}}\n"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def invoke(*args, stdin=None):
    result = CliRunner().invoke(main, ["run", *args], input=stdin)
    assert "Traceback" not in result.output
    return result


def test_succeeded_prints_the_output_and_exits_0(tmp_path):
    result = invoke(write(tmp_path, "m.json", PASS), "--input", '{"who": "ada"}')
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"greeting": "hi ada"}


def test_failed_prints_error_and_cause_on_stderr_and_exits_1(tmp_path):
    result = invoke(write(tmp_path, "m.json", FAIL))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "FAILED: Oops: it broke" in result.stderr


def test_json_prints_the_result_whatever_the_status(tmp_path):
    result = invoke(write(tmp_path, "m.json", FAIL), "--json", "--name", "exec-7")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["status"] == "FAILED" and body["error"] == "Oops" and body["cause"] == "it broke"
    assert body["executionArn"].endswith(":execution:StateMachine:exec-7")
    assert body["output"] is None


def test_input_from_a_file_and_from_stdin(tmp_path):
    machine = write(tmp_path, "m.json", PASS)
    data = write(tmp_path, "in.json", {"who": "bob"})
    assert json.loads(invoke(machine, "--input", "@" + data).stdout) == {"greeting": "hi bob"}
    assert json.loads(invoke(machine, "--input", "-", stdin='{"who": "cy"}').stdout) == {"greeting": "hi cy"}


def test_resources_from_a_file(tmp_path):
    result = invoke(write(tmp_path, "m.json", TASK), "--resources", write(tmp_path, "h.py", HANDLERS),
                    "--input", '{"n": 21}')
    assert result.exit_code == 0 and json.loads(result.stdout) == {"n": 42}


def test_substitutions_fill_placeholders(tmp_path):
    machine = dict(TASK)
    machine["States"] = {"T": dict(TASK["States"]["T"], Resource="${DoubleArn}")}
    result = invoke(write(tmp_path, "m.json", machine), "--resources", write(tmp_path, "h.py", HANDLERS),
                    "--sub", "DoubleArn=arn:aws:lambda:us-east-1:123456789012:function:double",
                    "--input", '{"n": 2}')
    assert result.exit_code == 0 and json.loads(result.stdout) == {"n": 4}


@pytest.mark.parametrize("make_args, message", [
    (lambda t: [str(t / "nope.json")], "nope.json"),
    (lambda t: [write(t, "m.json", {"StartAt": "X", "States": {}})], "invalid definition"),
    (lambda t: [write(t, "m.json", PASS), "--input", "{not json"], "not valid JSON"),
    (lambda t: [write(t, "m.json", PASS), "--input", "@" + str(t / "missing.json")], "cannot read input file"),
    (lambda t: [write(t, "m.json", TASK)], "no callable registered"),
    (lambda t: [write(t, "m.json", TASK), "--resources", write(t, "h.py", "import no_such_module\n")],
     "cannot load resources"),
    (lambda t: [write(t, "m.json", TASK), "--resources", write(t, "h.py", "X = 1\n")], "RESOURCES"),
    (lambda t: [write(t, "m.json", TASK), "--resources", "no.such.module"], "cannot load resources"),
    (lambda t: [write(t, "m.json", TASK), "--mock", write(t, "mock.json", "{}"), "--test-case", "x"],
     "StateMachines"),
])
def test_user_mistakes_exit_2_with_one_clear_message(tmp_path, make_args, message):
    result = invoke(*make_args(tmp_path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_trace_and_history_go_to_stderr(tmp_path):
    result = invoke(write(tmp_path, "m.json", TASK), "--resources", write(tmp_path, "h.py", HANDLERS),
                    "--input", '{"n": 1}', "--trace", "--history")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"n": 2}
    assert "-> T (Task)" in result.stderr
    assert '"type": "LambdaFunctionScheduled"' in result.stderr


MOCK = {
    "StateMachines": {"Doubler": {"TestCases": {
        "Retried": {"T": "FlakyThenOk"},
        "Broken": {"T": "AlwaysFails"}}}},
    "MockedResponses": {
        "FlakyThenOk": {"0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "flaky"}},
                        "1-2": {"Return": {"n": 99}}},
        "AlwaysFails": {"0-9": {"Throw": {"Error": "Boom", "Cause": "mocked"}}},
    },
}


def test_mock_file_answers_tasks_with_numbered_responses(tmp_path):
    machine = {"StartAt": "T", "States": {"T": dict(TASK["States"]["T"], Retry=[
        {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1}])}}
    path = write(tmp_path, "m.json", machine)
    mock = write(tmp_path, "mock.json", MOCK)
    ok = invoke(path, "--mock", mock, "--test-case", "Retried", "--virtual-time")
    assert ok.exit_code == 0 and json.loads(ok.stdout) == {"n": 99}
    broken = invoke(path, "--mock", mock, "--test-case", "Broken", "--json")
    assert json.loads(broken.stdout)["error"] == "Boom"


def test_python_dash_m_asl_runs_the_order_saga(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "asl", "run", str(SAGA / "order-saga.asl.json"),
         "--resources", str(SAGA / "handlers.py"), "--input", '{"order_id": "o-9", "fail_at": "ship"}'],
        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert "FAILED: OrderFailed: saga compensated" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_graph_highlights_the_path_of_a_json_run(tmp_path):
    run_json = tmp_path / "run.json"
    result = invoke(write(tmp_path, "m.json", FAIL), "--json")
    run_json.write_text(result.stdout)
    assert json.loads(result.stdout)["states"] == ["F"]
    drawing = CliRunner().invoke(main, ["graph", write(tmp_path, "m2.json", FAIL), "--path", str(run_json)])
    assert drawing.exit_code == 0
    assert drawing.stdout.startswith("flowchart TD")
    assert "visited" in drawing.stdout
    dot = CliRunner().invoke(main, ["graph", str(SAGA / "order-saga.asl.json"), "--format", "dot"])
    assert dot.exit_code == 0 and dot.stdout.lstrip().startswith("digraph")


def test_graph_mistakes_exit_2(tmp_path):
    bad_path = tmp_path / "p.json"
    bad_path.write_text('{"status": "FAILED"}')
    for args in (["graph", str(tmp_path / "none.json")],
                 ["graph", str(SAGA / "order-saga.asl.json"), "--path", str(bad_path)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "Traceback" not in result.output
