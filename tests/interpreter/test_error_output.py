"""The Error Output a Catcher receives always holds two strings."""

import pytest

import asl


@pytest.mark.parametrize("fail, expected", [
    ({"Type": "Fail", "Error": "E"}, {"Error": "E", "Cause": ""}),
    ({"Type": "Fail", "Cause": "why"}, {"Error": "", "Cause": "why"}),
    ({"Type": "Fail"}, {"Error": "", "Cause": ""}),
])
def test_a_fail_state_without_error_or_cause_gives_empty_strings(fail, expected):
    """AWS binds an empty string for a missing Error or Cause (LocalStack's error-output
    code, written against AWS; Timeout's recorded output has ``"Cause": ""``)."""
    definition = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [{"StartAt": "F", "States": {"F": fail}}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "D"}], "End": True},
        "D": {"Type": "Pass", "End": True}}}
    result = asl.StateMachine(definition).execute({})
    assert (result.status, result.output) == ("SUCCEEDED", expected)
