"""Rules of reference section 14 that AWS enforces on the definition itself, checked
through the interpreter's public constructor, and the distributed Map variable scope."""

import pytest

import asl

from .support import run


def catching(*catchers) -> dict:
    states = {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True, "Catch": list(catchers)},
              "H": {"Type": "Pass", "End": True}}
    return {"StartAt": "T", "States": states}


@pytest.mark.parametrize("definition", [
    catching({"ErrorEquals": ["States.ALL"], "Next": "H"}, {"ErrorEquals": ["Other"], "Next": "H"}),
    catching({"ErrorEquals": ["States.ALL", "Other"], "Next": "H"}),
    {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t", "End": True,
                                      "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Other"]}]}}},
], ids=["catcher-not-last", "catcher-not-alone", "retrier-not-last"])
def test_states_all_must_be_alone_and_last(definition):
    """Reference 14.5: States.ALL must be the only entry in its array and in the last
    retrier or catcher (a definition-time error)."""
    with pytest.raises(asl.ValidationError):
        asl.StateMachine(definition)


def test_states_all_alone_and_last_is_accepted():
    asl.StateMachine(catching({"ErrorEquals": ["Other"], "Next": "H"}, {"ErrorEquals": ["States.ALL"], "Next": "H"}))


def test_distributed_map_children_cannot_read_outer_variables():
    """Reference 7 / 14.17 [AWS]: distributed Map child workflows cannot reference
    outer-scope variables (inline ones can). How AWS reports it is not recorded: either
    the definition is refused or the execution fails; it must not run with the value."""
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"outer": 1}, "Next": "M"},
        "M": {"Type": "Map", "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$outer"}, "End": True}}}}}}
    try:
        result, _, _ = run(definition, [1])
    except asl.ValidationError:
        return
    assert result.status == "FAILED", result.output
