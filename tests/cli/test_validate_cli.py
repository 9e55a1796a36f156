"""``asl validate``: output, exit codes (0 valid, 1 invalid, 2 unusable input), never a traceback."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from asl.cli import main

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
VALID = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": LAMBDA, "End": True}}}
INVALID = {"StartAt": "ChargePayment", "States": {
    "ChargePayment": {"Type": "Task", "Resource": LAMBDA, "Next": "Ship",
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]},
    "Done": {"Type": "Succeed"},
    "Wait": {"Type": "Wait", "Timestamp": "tomorrow", "End": True}}}
WARNS = {"StartAt": "Work", "States": {"Work": {
    "Type": "Task", "Resource": LAMBDA, "Parameters": {"id": "$.id"}, "End": True}}}


def run(*args, stdin=None):
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


@pytest.fixture
def write(tmp_path):
    def write(name, content):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2),
                            encoding="utf-8")
        return str(path)
    return write


def test_valid_definition(write):
    path = write("definition.json", VALID)
    result = run("validate", path)
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == (f"{path}: valid\n", "")


def test_invalid_definition_lists_each_problem_and_a_summary(write):
    path = write("definition.json", INVALID)
    result = run("validate", path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "ERROR MISSING_TRANSITION_TARGET /States/ChargePayment/Next: "
        "'Next' names 'Ship', which is not a state of this machine",
        'ERROR MISSING_TRANSITION_TARGET /States/Wait: State "Wait" is not reachable.',
        "ERROR SCHEMA_VALIDATION_FAILED /States/Wait/Timestamp: String does not match RFC3339 timestamp",
        f"{path}: 3 errors",
    ]


def test_warnings_alone_keep_a_definition_valid(write):
    path = write("definition.json", WARNS)
    result = run("validate", path)
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("WARNING NO_DOLLAR /States/Work/Parameters/id: ")
    assert result.output.splitlines()[-1] == f"{path}: valid (1 warning)"


@pytest.mark.parametrize("definition, valid, exit_code", [(VALID, True, 0), (INVALID, False, 1),
                                                          (WARNS, True, 0)])
def test_json_output(write, definition, valid, exit_code):
    result = run("validate", "--json", write("definition.json", definition))
    assert result.exit_code == exit_code
    report = json.loads(result.output)
    assert report["valid"] is valid
    assert all(set(d) == {"severity", "code", "message", "location"} for d in report["diagnostics"])
    assert all(d["severity"] in ("ERROR", "WARNING") for d in report["diagnostics"])
    assert (report["diagnostics"] == []) is (definition is VALID)


def test_yaml_file(write):
    path = write("machine.asl.yml", f"StartAt: Work\nStates:\n  Work:\n    Type: Task\n"
                                    f"    Resource: {LAMBDA}\n    Next: Nowhere\n")
    result = run("validate", path)
    assert result.exit_code == 1
    assert "/States/Work/Next" in result.output


def test_stdin():
    result = run("validate", "-", stdin=json.dumps(INVALID))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "<stdin>: 3 errors"
    assert run("validate", "-", stdin=json.dumps(VALID)).stdout == "<stdin>: valid\n"


@pytest.mark.parametrize("name, content, message", [
    ("empty.json", "", "empty.json: empty file"),
    ("blank.json", "  \n\n", "blank.json: empty file"),
    ("syntax.json", '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass" "End": true}\n  }\n}\n',
     "syntax.json: invalid JSON at line 4, column 26: Expecting ',' delimiter"),
    ("array.json", "[1, 2, 3]", "array.json: not a JSON object (got an array)"),
    ("garbage.json", bytes(range(256)) * 4, "garbage.json: not a text file"),
    ("garbage.yaml", b"\xfe\xfd\xfc" * 50, "garbage.yaml: not UTF-8 text"),
    ("scalar.yaml", "just words\n", "scalar.yaml: not a JSON object (got a string)"),
], ids=["empty", "blank", "syntax", "array", "garbage", "not-utf8", "scalar"])
def test_unusable_files_exit_2_with_one_line(write, name, content, message):
    result = run("validate", write(name, content))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr


def test_missing_file_and_directory(tmp_path):
    result = run("validate", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2
    assert "Is a directory" in result.stderr


def test_empty_stdin():
    result = run("validate", "-", stdin="")
    assert (result.exit_code, result.stderr) == (2, "error: <stdin>: empty input\n")


def test_deep_nesting_is_not_a_crash(write):
    result = run("validate", write("deep.json", "[" * 200_000))
    assert result.exit_code == 2
    assert "nested too deeply" in result.stderr


def test_help_and_version():
    result = run("--help")
    assert result.exit_code == 0
    assert "Amazon States Language" in result.output and "validate" in result.output
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("asl, version ")
    assert run("validate", "--help").exit_code == 0


def test_usage_errors_exit_2():
    assert run("validate").exit_code == 2
    assert run("validate", "--bogus", "x.json").exit_code == 2


# -- as a real process -------------------------------------------------------------------

@pytest.mark.parametrize("content, exit_code", [(json.dumps(VALID), 0), (json.dumps(INVALID), 1),
                                                ("{oops", 2)])
def test_python_dash_m_asl_reads_stdin(content, exit_code):
    process = subprocess.run([sys.executable, "-m", "asl", "validate", "-"], input=content,
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == exit_code
    assert "Traceback" not in process.stdout + process.stderr
    if exit_code == 2:
        assert process.stderr == "error: <stdin>: invalid JSON at line 1, column 2: " \
                                 "Expecting property name enclosed in double quotes\n"


def test_importing_the_cli_is_cheap():
    # The server (http.server, sqlite3) loads only for `asl serve`.
    code = ("import sys, asl.cli; heavy = {'jsonschema', 'jsonata', 'jsonpath_ng', 'yaml', "
            "'http.server', 'sqlite3', 'asl.server.host'} & set(sys.modules); "
            "print(sorted(heavy))")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert process.stdout.strip() == "[]"


def test_strict_turns_warnings_into_a_failed_validation(tmp_path):
    path = tmp_path / "machine.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Pass", "Parameters": {"n.$": "States.ArrayLength('x')"}, "End": True}}}))
    plain = run("validate", str(path))
    assert plain.exit_code == 0 and "INTRINSIC_ARGUMENTS" in plain.output
    strict = run("validate", "--strict", str(path))
    assert strict.exit_code == 1 and "INTRINSIC_ARGUMENTS" in strict.output
