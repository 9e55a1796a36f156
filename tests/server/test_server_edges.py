"""What the server refuses, as AWS refuses it: strict JSON, a state name given twice,
the Express-only rules."""

import json

import pytest

from .support import FUNCTION, ROLE, definition, task


def test_an_express_machine_with_a_callback_task_is_an_invalid_definition(sfn):
    text = definition({"T": task("arn:aws:states:::lambda:invoke.waitForTaskToken",
                                 Parameters={"FunctionName": "f"}, End=True)})
    with pytest.raises(sfn.exceptions.InvalidDefinition, match="Express"):
        sfn.create_state_machine(name="cb", definition=text, roleArn=ROLE, type="EXPRESS")
    created = sfn.create_state_machine(name="cb", definition=text, roleArn=ROLE)
    assert created["stateMachineArn"].endswith(":stateMachine:cb")


def test_a_state_name_given_twice_is_an_invalid_definition(sfn):
    text = ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true},'
            ' "A": {"Type": "Succeed"}}}')
    with pytest.raises(sfn.exceptions.InvalidDefinition, match="DUPLICATE_STATE_NAME"):
        sfn.create_state_machine(name="twice", definition=text, roleArn=ROLE)


@pytest.mark.parametrize("text", ['{"a": NaN}', '[Infinity]', '["\\ud800"]'])
def test_input_json_cannot_carry_is_invalid_execution_input(sfn, make_machine, text):
    arn = make_machine("m", {"T": task(FUNCTION.format("double"), End=True)})
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input=text)


def test_an_express_execution_has_the_express_context(sfn, make_machine):
    arn = make_machine("ctx", {"A": {"Type": "Pass", "Parameters": {"e.$": "$$.Execution"},
                                     "End": True}}, kind="EXPRESS")
    response = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert response["status"] == "SUCCEEDED"
    assert "RedriveCount" not in json.loads(response["output"])["e"]
