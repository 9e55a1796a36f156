"""Size limits of workflow variables [AWS docs, workflow-variables, "Size limits"]:

* one variable holds at most 256 KiB;
* all the values of one ``Assign`` together hold at most 256 KiB;
* all the variables stored in an execution hold at most 10 MiB.

Sizes are of the UTF-8 JSON text, as for payloads. The error AWS reports when a limit
is crossed is not in the docs; these tests take ``States.DataLimitExceeded``, the error
of every other size limit of Step Functions.

Large values are built by the expressions themselves (``$pad``): the execution input is
itself limited to 256 KiB.
"""

from __future__ import annotations

import pytest

import asl

from .support import run

KIB = 1024
DATA_LIMIT = "States.DataLimitExceeded"


def padded(characters: int) -> str:
    """An expression giving a string whose JSON text is ``characters`` + 2 bytes."""
    return "{% $pad('', " + str(characters) + ", 'x') %}"


def assigning(assign: dict) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": assign, "Next": "Read"},
        "Read": {"Type": "Pass", "Output": "{% $count($keys($states.input)) %}", "End": True}}}


def test_a_variable_just_under_256_kib_is_stored():
    result, _, _ = run(assigning({"big": padded(256 * KIB - 2)}))
    assert result.status == "SUCCEEDED", result.cause


def test_a_variable_over_256_kib_fails_the_state():
    result, _, _ = run(assigning({"big": padded(256 * KIB)}))
    assert (result.status, result.error) == ("FAILED", DATA_LIMIT)
    assert result.states == ["Set"]


def test_one_assign_over_256_kib_in_all_fails_the_state():
    result, _, _ = run(assigning({"a": padded(150 * KIB), "b": padded(150 * KIB)}))
    assert (result.status, result.error) == ("FAILED", DATA_LIMIT)


def test_a_jsonpath_assign_is_limited_too():
    definition = {"StartAt": "Make", "States": {
        "Make": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"s": padded(200 * KIB)}, "Next": "Set"},
        "Set": {"Type": "Pass", "Assign": {"a.$": "$.s", "b.$": "$.s"}, "End": True}}}
    result, _, _ = run(definition)
    assert (result.status, result.error) == ("FAILED", DATA_LIMIT)


def test_variables_may_add_up_beyond_256_kib_across_states():
    definition = {"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"a": padded(200 * KIB)}, "Next": "B"},
        "B": {"Type": "Pass", "Assign": {"b": padded(200 * KIB)}, "Next": "C"},
        "C": {"Type": "Pass", "Output": "{% $length($a) + $length($b) %}", "End": True}}}
    result, _, _ = run(definition)
    assert (result.status, result.output) == ("SUCCEEDED", 400 * KIB)


@pytest.mark.parametrize("states, expected", [(39, "SUCCEEDED"), (42, "FAILED")])
def test_all_variables_of_an_execution_hold_at_most_10_mib(states, expected):
    """Each state stores a new 250 KiB variable: 39 of them fit in 10 MiB, 42 do not."""
    names = [f"S{i}" for i in range(states)]
    definition = {"QueryLanguage": "JSONata", "StartAt": names[0], "States": {
        name: {"Type": "Pass", "Assign": {f"v{i}": padded(250 * KIB)},
               **({"Next": names[i + 1]} if i + 1 < states else {"End": True})}
        for i, name in enumerate(names)}}
    result, _, _ = run(definition)
    assert result.status == expected, result.cause
    if expected == "FAILED":
        assert result.error == DATA_LIMIT


def test_a_jsonata_output_over_256_kib_fails_the_state():
    """The 256 KiB payload limit applies to what Output builds, as to any state output."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "Big", "States": {
        "Big": {"Type": "Pass", "Output": {"s": padded(256 * KIB)}, "End": True}}}
    result, _, _ = run(definition)
    assert (result.status, result.error) == ("FAILED", DATA_LIMIT)


def test_reassigning_a_variable_replaces_its_size_in_the_10_mib_total():
    """Only what is stored counts: 60 reassignments of one 200 KB variable are 200 KB."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "Loop", "States": {
        "Loop": {"Type": "Pass", "Assign": {"blob": "{% $pad('', 200000, 'x') %}",
                                            "n": "{% $exists($n) ? $n + 1 : 1 %}"},
                 "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Condition": "{% $n < 60 %}", "Next": "Loop"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"}}}
    result = asl.StateMachine(definition).execute({})
    assert result.status == "SUCCEEDED", result.cause
