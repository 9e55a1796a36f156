"""RedriveExecution and TestState through real boto3."""

import json

import pytest

from .support import FUNCTION, ROLE, task, wait_done


class FailOnce:
    def __init__(self):
        self.calls = 0

    def __call__(self, payload):
        self.calls += 1
        if self.calls == 1:
            raise ValueError("first call fails")
        return {"second": payload["value"] * 2}


@pytest.fixture
def resources(tokens):
    from .support import boom, double
    return {"double": double, "boom": boom, "callback": tokens, "flaky": FailOnce()}


def test_a_failed_execution_is_redriven_from_its_failed_state(sfn, make_machine, resources):
    arn = make_machine("redrivable", {
        "First": task(FUNCTION.format("double"), ResultPath="$.first", Next="Second"),
        "Second": task(FUNCTION.format("flaky"), ResultPath="$.second", End=True)})
    execution = sfn.start_execution(stateMachineArn=arn, name="run-1",
                                    input='{"value": 3}')["executionArn"]
    failed = wait_done(sfn, execution)
    assert failed["status"] == "FAILED"
    assert (failed["redriveStatus"], failed["redriveCount"]) == ("REDRIVABLE", 0)
    redriven_at = sfn.redrive_execution(executionArn=execution)["redriveDate"]
    done = wait_done(sfn, execution)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"value": 3, "first": {"value": 6},
                                          "second": {"second": 6}}
    assert done["redriveCount"] == 1 and done["redriveDate"] == redriven_at
    assert done["redriveStatus"] == "NOT_REDRIVABLE"
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    types = [e["type"] for e in events]
    assert types.count("ExecutionRedriven") == 1
    assert types.count("TaskStateEntered") == 3          # First once, Second twice
    assert resources["flaky"].calls == 2
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable):
        sfn.redrive_execution(executionArn=execution)


def test_a_succeeded_execution_is_not_redrivable(sfn, make_machine):
    arn = make_machine("fine", {"A": {"Type": "Pass", "End": True}})
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert wait_done(sfn, execution)["redriveStatus"] == "NOT_REDRIVABLE"
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable):
        sfn.redrive_execution(executionArn=execution)


def test_test_state_runs_one_state_with_a_mock(sfn):
    state = json.dumps({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
                        "Catch": [{"ErrorEquals": ["Declined"], "Next": "Refuse"}],
                        "Next": "Done"})
    caught = sfn.test_state(definition=state, roleArn=ROLE, input='{"n": 1}',
                            mock={"errorOutput": {"error": "Declined", "cause": "card"}})
    assert (caught["status"], caught["nextState"], caught["error"]) == (
        "CAUGHT_ERROR", "Refuse", "Declined")
    passed = sfn.test_state(definition=json.dumps({"Type": "Pass", "Result": 1,
                                                   "ResultPath": "$.r", "Next": "N"}),
                            input='{"a": 0}', inspectionLevel="DEBUG")
    assert passed["status"] == "SUCCEEDED"
    assert json.loads(passed["output"]) == {"a": 0, "r": 1}
    assert json.loads(passed["inspectionData"]["afterResultPath"]) == {"a": 0, "r": 1}


def test_test_state_refuses_an_invalid_state(sfn):
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.test_state(definition=json.dumps({"Type": "Pass", "Bogus": 1, "End": True}))


def test_test_state_calls_the_servers_resources_without_a_mock(sfn):
    state = json.dumps({"Type": "Task", "Resource": FUNCTION.format("double"), "End": True})
    result = sfn.test_state(definition=state, input='{"value": 21}')
    assert json.loads(result["output"]) == {"value": 42}
