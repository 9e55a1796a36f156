"""Strict JSON at every edge, hostile definitions, and CLI errors as one clean line (issue 12)."""

import json
import subprocess
import sys
import time

import pytest

import asl

PASS = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def _asl(*args, stdin=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "asl", *args], capture_output=True, text=True,
                          input=stdin, timeout=timeout)


def _one_clean_line(done):
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr and "Error: " not in lines[0][7:20]
    assert "[Errno" not in done.stderr
    return lines[0]


@pytest.fixture
def machine_file(tmp_path):
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(PASS))
    return str(path)


@pytest.mark.parametrize("text", ['{"a": NaN}', '[Infinity]', '-Infinity', '["\\udc00"]', '{"a":'])
@pytest.mark.parametrize("command", ["run", "faults"])
def test_bad_input_json_is_one_line_and_exit_2(machine_file, command, text):
    done = _asl(command, machine_file, "--input", text)
    assert done.returncode == 2
    assert "--input" in _one_clean_line(done)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "\udc00", {1, 2}])
def test_api_input_that_json_cannot_carry_is_refused_before_the_run(value):
    with pytest.raises(asl.InvalidExecutionInput, match="not JSON"):
        asl.StateMachine(PASS).execute({"x": value})


@pytest.mark.parametrize("value", [float("nan"), float("-inf"), "a\ud800b"])
def test_a_callable_result_json_cannot_carry_fails_the_task(value):
    machine = asl.StateMachine({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:r", "End": True}}})
    result = machine.execute({}, {"r": lambda payload: {"v": value}})
    assert (result.status, result.error) == ("FAILED", "Runtime.MarshalError")
    assert "internal error" not in result.cause
    json.dumps(result.history)          # the history stays JSON


def test_a_definition_dict_holding_nan_is_not_json():
    with pytest.raises(asl.definition.DefinitionError, match="not JSON"):
        asl.StateMachine({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"v": float("nan")}, "End": True}}})


def test_a_pass_result_with_a_lone_surrogate_fails_the_state_not_asl():
    machine = asl.StateMachine({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"v": "\udfff"}, "End": True}}})
    result = machine.execute({})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "surrogate" in result.cause


def test_a_pass_result_over_256_kib_loads_and_fails_the_execution():
    machine = asl.StateMachine({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"v": "x" * 300_000}, "End": True}}})
    result = machine.execute({})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_validate_prints_state_names_with_lone_surrogates(tmp_path):
    path = tmp_path / "machine.json"
    path.write_text('{"StartAt": "\\udc00", "States": {"\\udc00": {"Type": "Pass"}}}')
    done = _asl("validate", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "SCHEMA_VALIDATION_FAILED" in done.stdout


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    lines.append("StartAt: A\nStates: {A: {Type: Pass, Result: *a9, End: true}}")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 1000
    began = time.monotonic()
    with pytest.raises(asl.definition.DefinitionError, match="aliases expand"):
        asl.validate(path)
    assert time.monotonic() - began < 1.0
    done = _asl("validate", str(path))
    assert done.returncode == 2 and "aliases expand" in _one_clean_line(done)


def test_a_self_referencing_yaml_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [*a]\nStartAt: A\nStates: {A: {Type: Pass, End: true}}\n")
    with pytest.raises(asl.definition.DefinitionError, match="contains it"):
        asl.StateMachine(path)


def _nested_parallels(levels):
    definition = {"StartAt": "S0", "States": {"S0": {"Type": "Pass", "End": True}}}
    for depth in range(1, levels + 1):
        definition = {"StartAt": f"P{depth}", "States": {f"P{depth}": {
            "Type": "Parallel", "Branches": [definition], "End": True}}}
    return definition


def test_parallels_nested_to_the_documented_depth_run():
    result = asl.StateMachine(_nested_parallels(100)).execute({"x": 1})
    assert result.status == "SUCCEEDED"
    value = result.output
    for _ in range(100):
        value = value[0]
    assert value == {"x": 1}


def test_parallels_nested_deeper_are_refused_with_a_clear_diagnostic():
    with pytest.raises(asl.ValidationError) as caught:
        asl.StateMachine(json.dumps(_nested_parallels(150)))
    assert [d.code for d in caught.value.diagnostics] == ["NESTING_TOO_DEEP"]
    with pytest.raises((asl.ValidationError, asl.definition.DefinitionError)):
        asl.StateMachine(_nested_parallels(400))    # too deep even for json.dumps


def test_input_nested_a_thousand_deep_is_a_clear_answer():
    value: object = 1
    for _ in range(1000):
        value = {"a": value}
    machine = asl.StateMachine(PASS)
    try:
        result = machine.execute(value)
    except asl.InvalidExecutionInput as exc:
        assert "nested" in str(exc) or "not JSON" in str(exc)
    else:
        assert result.status == "SUCCEEDED"


def test_check_on_an_invalid_definition_prints_diagnostics_and_exits_1(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"StartAt": "X", "States": {"A": {"Type": "Pass"}}}')
    done = _asl("check", str(path))
    assert done.returncode == 1
    assert "MISSING_TRANSITION_TARGET" in done.stdout


@pytest.mark.parametrize("fails", [False, True])
def test_graph_path_accepts_what_run_history_writes(tmp_path, fails):
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                             "B": {"Type": "Fail", "Error": "E"} if fails
                                             else {"Type": "Succeed"}}}
    machine = tmp_path / "machine.json"
    machine.write_text(json.dumps(definition))
    run = _asl("run", str(machine), "--history")
    history = tmp_path / "history.json"
    history.write_text(run.stderr[:run.stderr.rindex("}") + 1])
    done = _asl("graph", str(machine), "--path", str(history))
    assert done.returncode == 0, done.stderr
    assert "flowchart" in done.stdout


@pytest.mark.parametrize("content", [None, "{not json", '{"unrelated": 1}'])
def test_graph_path_errors_name_the_file(machine_file, tmp_path, content):
    path = tmp_path / "path.json"
    if content is not None:
        path.write_text(content)
    done = _asl("graph", machine_file, "--path", str(path))
    assert done.returncode == 2
    assert str(path) in _one_clean_line(done)


def test_a_missing_definition_file_is_one_clean_line(tmp_path):
    done = _asl("run", str(tmp_path / "nope.json"))
    assert done.returncode == 2
    assert "nope.json" in _one_clean_line(done)


def test_run_help_lists_every_json_field():
    done = _asl("run", "--help")
    for field in ("executionArn", "status", "output", "error", "cause", "states"):
        assert field in done.stdout


def test_a_listener_cannot_change_state_data_or_history():
    def listener(event_type, details):
        if isinstance(details, dict):
            details.clear()
            details["injected"] = True

    machine = asl.StateMachine({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Result": {"kept": 1}, "End": True}}})
    result = machine.execute({"x": 1}, on_event=listener)
    assert result.output == {"kept": 1}
    assert all("injected" not in json.dumps(event) for event in result.history)


def test_a_raising_listener_is_reported_as_such():
    def listener(event_type, details):
        if event_type == "PassStateEntered":
            raise KeyError("listener bug")

    result = asl.StateMachine(PASS).execute({}, on_event=listener)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "on_event listener raised KeyError" in result.cause
    assert "internal error" not in result.cause
    assert result.history[-1]["type"] == "ExecutionFailed"


def test_a_non_callable_resource_is_refused_before_the_run_with_the_state_named():
    machine = asl.StateMachine({"StartAt": "Charge", "States": {
        "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge", "End": True}}})
    with pytest.raises((TypeError, asl.MissingResourceError), match="Charge"):
        machine.execute({}, {"charge": "not a function"})
