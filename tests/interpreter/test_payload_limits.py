"""The 256 KiB payload limit holds however a state's output grows (exact UTF-8 bytes)."""

import pytest

import asl

LIMIT = 256 * 1024


def chain(result_paths):
    states = {}
    for i, path in enumerate(result_paths):
        states[f"T{i}"] = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:blob",
                           "ResultPath": path, "Next": f"T{i + 1}"}
    states[f"T{len(result_paths)}"] = {"Type": "Succeed"}
    return {"StartAt": "T0", "States": states}


@pytest.mark.parametrize("sizes, paths, status", [
    ([100_000, 100_000], ["$.a", "$.b"], "SUCCEEDED"),           # 200 KB in all
    ([150_000, 150_000], ["$.a", "$.b"], "FAILED"),              # 300 KB: the second output
    ([150_000, 150_000], ["$.a", "$.a"], "SUCCEEDED"),           # replaced, not added
    ([150_000, 150_000], ["$", "$"], "SUCCEEDED"),
    ([150_000, 150_000], [None, None], "SUCCEEDED"),             # results discarded
    ([LIMIT, 0], ["$.a", "$.b"], "FAILED"),                      # the result alone
])
def test_output_size_limit(sizes, paths, status):
    calls = iter(sizes)
    result = asl.StateMachine(chain(paths)).execute({}, {"blob": lambda _: "x" * next(calls)})
    assert result.status == status
    if status == "FAILED":
        assert result.error == "States.DataLimitExceeded"


def test_multibyte_characters_count_as_their_utf8_bytes():
    # 100,000 characters of 3 bytes each: 300 KB although only 100,000 characters.
    result = asl.StateMachine(chain(["$.a"])).execute({}, {"blob": lambda _: "€" * 100_000})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")


def test_a_pass_state_that_doubles_its_input_is_caught():
    definition = {"StartAt": "Grow", "States": {
        "Grow": {"Type": "Pass", "Parameters": {"a.$": "$", "b.$": "$"}, "Next": "Grow2"},
        "Grow2": {"Type": "Pass", "Parameters": {"a.$": "$", "b.$": "$"}, "End": True}}}
    result = asl.StateMachine(definition).execute({"s": "y" * 100_000})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    assert result.states == ["Grow", "Grow2"]

