"""Rules of variables and JSONata states that hold for every value.

* A value assigned in one language reads back unchanged in the other, and the history
  records it as its compact JSON text.
* Every expression of an Assign sees the values of state entry: swapping two variables
  in one Assign swaps them, whatever they hold.
* A JSONata state with no Output passes its input through (Pass), and ``$states.input``
  is that input, whatever it is.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from .support import run

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 53), max_value=2 ** 53)
           | st.floats(allow_nan=False, allow_infinity=False, width=32) | st.text(max_size=8))
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=3)
                    | st.dictionaries(st.text(max_size=4), children, max_size=3), max_leaves=8)

FAST = settings(max_examples=40, deadline=None)


def same_json(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@FAST
@given(value=JSON)
def test_jsonata_assign_reads_back_in_jsonpath_and_jsonata(value):
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "QueryLanguage": "JSONata", "Assign": {"v": "{% $states.input.v %}"}, "Output": {}, "Next": "Path"},
        "Path": {"Type": "Pass", "Parameters": {"fromPath.$": "$v"}, "Next": "Ata"},
        "Ata": {"Type": "Pass", "QueryLanguage": "JSONata",
                "Output": {"fromPath": "{% $states.input.fromPath %}", "fromAta": "{% $v %}"}, "End": True}}}
    result, _, _ = run(definition, {"v": value})
    assert result.status == "SUCCEEDED", result.cause
    assert same_json(result.output, {"fromPath": value, "fromAta": value})
    [set_exit] = [e for e in result.history if e["type"] == "PassStateExited"][:1]
    text = set_exit["stateExitedEventDetails"]["assignedVariables"]["v"]
    assert text == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@FAST
@given(value=JSON)
def test_jsonpath_assign_reads_back_in_jsonata(value):
    definition = {"StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"v.$": "$.v"}, "Next": "Ata"},
        "Ata": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"v": "{% $v %}"}, "End": True}}}
    result, _, _ = run(definition, {"v": value})
    assert result.status == "SUCCEEDED", result.cause
    assert same_json(result.output, {"v": value})


@FAST
@given(x=JSON, a=JSON, language=st.sampled_from(["JSONata", "JSONPath"]))
def test_one_assign_swaps_two_variables(x, a, language):
    swap = ({"x": "{% $a %}", "a": "{% $x %}"} if language == "JSONata"
            else {"x.$": "$a", "a.$": "$x"})
    definition = {"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "QueryLanguage": "JSONata",
                 "Assign": {"x": "{% $states.input.x %}", "a": "{% $states.input.a %}"}, "Next": "Swap"},
        "Swap": {"Type": "Pass", "QueryLanguage": language, "Assign": swap, "Next": "Show"},
        "Show": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"x": "{% $x %}", "a": "{% $a %}"}, "End": True}}}
    result, _, _ = run(definition, {"x": x, "a": a})
    assert result.status == "SUCCEEDED", result.cause
    assert same_json(result.output, {"x": a, "a": x})


@FAST
@given(value=JSON.filter(lambda v: v is not None))   # execute(None) means "no input": {}
def test_a_pass_without_output_passes_any_input(value):
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "Q"},
        "Q": {"Type": "Pass", "Output": {"input": "{% $states.input %}"}, "End": True}}}
    result, _, _ = run(definition, value)
    assert result.status == "SUCCEEDED", result.cause
    assert same_json(result.output, {"input": value})
