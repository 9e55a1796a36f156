"""Reference paths as Jayway (AWS's JSONPath library) reads them."""

import asl


def test_a_dot_before_a_bracket_is_still_a_reference_path():
    """Jayway accepts ``$.abc.['def ghi']`` (the AWS docs' intrinsic example writes it so)."""
    definition = {"StartAt": "P", "States": {"P": {
        "Type": "Pass", "Parameters": {"v.$": "$.abc.['def ghi']"}, "End": True}}}
    result = asl.StateMachine(definition).execute({"abc": {"def ghi": 7}})
    assert result.output == {"v": 7}
