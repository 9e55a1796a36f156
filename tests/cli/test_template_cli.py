"""Definitions where users keep them: the CLI and StateMachine.from_template on
CloudFormation/SAM templates and cdk output (issue 16)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import asl

TEMPLATES = Path(__file__).resolve().parents[1] / "definition" / "templates"
INLINE = TEMPLATES / "inline-definition.yaml"
SAM = TEMPLATES / "sam-stock-trading" / "template.yaml"
CDK = TEMPLATES / "cdk" / "OrderStack.template.json"

HANDLERS = '''
def process(payload):
    return dict(payload, processed=True)

RESOURCES = {
    "ProcessFunction": process,
    "arn:aws:states:::sqs:sendMessage": lambda payload: {"MessageId": "m-1"},
    "arn:aws:states:::sns:publish": lambda payload: {"MessageId": "n-1"},
}
'''


def _asl(*args):
    return subprocess.run([sys.executable, "-m", "asl", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("template", [INLINE, SAM, CDK], ids=["inline", "sam", "cdk"])
def test_validate_reads_the_state_machine_out_of_a_template(template):
    done = _asl("validate", str(template))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("valid")


def test_run_executes_a_template_state_machine_with_handlers_keyed_by_logical_id(tmp_path):
    handlers = tmp_path / "handlers.py"
    handlers.write_text(HANDLERS)
    done = _asl("run", str(INLINE), "--state-machine", "Pipeline", "--resources", str(handlers),
                "--input", '{"order": {"id": 7}}', "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "SUCCEEDED"
    assert result["output"]["processed"] is True
    assert result["output"]["about"]["function"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:ProcessFunction")
    assert result["states"] == ["Process", "Describe", "Enqueue", "Alert"]


def test_an_unknown_logical_id_is_one_line_naming_the_choices():
    done = _asl("validate", str(INLINE), "--state-machine", "Nope")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Nope" in done.stderr
    assert "Traceback" not in done.stderr


def test_from_template_builds_and_runs():
    machine = asl.StateMachine.from_template(INLINE, "Pipeline")
    assert machine.name == "Pipeline"
    result = machine.execute({"order": {"id": 1}}, {
        "ProcessFunction": lambda payload: payload,
        "arn:aws:states:::sqs:sendMessage": lambda payload: {},
        "arn:aws:states:::sns:publish": lambda payload: {}})
    assert result.status == "SUCCEEDED"
    assert result.output["about"]["stack"] == "asl-stack"


def test_a_plain_definition_is_not_taken_for_a_template(tmp_path):
    path = tmp_path / "machine.json"
    path.write_text(json.dumps({"Comment": "Resources: none", "StartAt": "A",
                                "States": {"A": {"Type": "Pass", "End": True}}}))
    assert _asl("validate", str(path)).returncode == 0


def test_diagnostics_of_a_template_say_where_in_the_template_the_definition_is(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  Flow:\n"
        "    Type: AWS::StepFunctions::StateMachine\n"
        "    Properties:\n"
        "      DefinitionString: !Sub '{\"StartAt\": \"Missing\", \"States\": "
        "{\"A\": {\"Type\": \"Pass\", \"End\": true}}}'\n")
    done = _asl("validate", str(template))
    assert done.returncode == 1
    assert "the state machine at Resources/Flow/Properties.DefinitionString" in done.stdout
    assert "MISSING_TRANSITION_TARGET /StartAt" in done.stdout
    report = json.loads(_asl("validate", "--json", str(template)).stdout)
    assert report["definitionLocation"] == "Resources/Flow/Properties.DefinitionString"
    run = _asl("run", str(template))
    assert run.returncode == 2 and "Resources/Flow/Properties.DefinitionString" in run.stderr
