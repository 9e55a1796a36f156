"""The definition is read once; that same object is validated, compiled and run.

A key given twice is visible only in the text, so every entry point that starts from text
(``StateMachine``, ``from_file``, ``asl run``, ``asl validate``) must refuse a state name
given twice, instead of one of them silently running the last one.
"""

import json
import subprocess
import sys

import pytest

import asl
from asl.definition import read_definition

TWICE = ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true},'
         ' "A": {"Type": "Pass", "Result": 2, "End": true}}}')


def test_state_machine_from_text_refuses_a_state_given_twice():
    with pytest.raises(asl.ValidationError) as caught:
        asl.StateMachine(TWICE)
    assert [d.code for d in caught.value.diagnostics] == ["DUPLICATE_STATE_NAME"]


def test_from_file_refuses_a_state_given_twice(tmp_path):
    path = tmp_path / "machine.json"
    path.write_text(TWICE)
    with pytest.raises(asl.ValidationError):
        asl.StateMachine.from_file(path)


def test_a_loaded_definition_is_validated_as_read():
    loaded = read_definition(TWICE)
    assert [d.code for d in asl.validate(loaded)] == ["DUPLICATE_STATE_NAME"]
    with pytest.raises(asl.ValidationError):
        asl.StateMachine(loaded)


def test_a_loaded_definition_without_duplicates_runs():
    loaded = read_definition('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}')
    assert asl.StateMachine(loaded).execute({"x": 1}).output == {"x": 1}


def test_a_field_given_twice_is_only_a_warning_and_the_last_value_runs():
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "Result": 2, "End": true}}}'
    assert [(d.severity, d.code) for d in asl.validate(text)] == [("WARNING", "DUPLICATE_FIELD")]
    assert asl.StateMachine(text).execute().output == 2


@pytest.mark.parametrize("command", ["run", "validate"])
def test_cli_refuses_a_state_given_twice(tmp_path, command):
    path = tmp_path / "machine.json"
    path.write_text(TWICE)
    done = subprocess.run([sys.executable, "-m", "asl", command, str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == (2 if command == "run" else 1)
    assert "DUPLICATE_STATE_NAME" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_substitutions_apply_to_a_loaded_definition():
    loaded = read_definition('{"StartAt": "A", "States": {"A": {"Type": "Pass",'
                             ' "Result": "${Greeting}", "End": true}}}')
    machine = asl.StateMachine(loaded, substitutions={"Greeting": "hello"})
    assert machine.execute().output == "hello"
    assert json.loads(json.dumps(machine.definition))["States"]["A"]["Result"] == "hello"
