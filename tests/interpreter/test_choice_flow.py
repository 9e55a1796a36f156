"""Choice states end to end: each operator picks the branch AWS would pick.

One machine shape for every row: ``C`` (a Choice with the row's rule, Next "Yes",
Default "No") -> ``Yes`` or ``No`` (Pass states whose Result names the branch).
The rule-level semantics (every operator, type rules, UTF-16 ordering) are unit-tested
in tests/choice; here they run through a whole execution.
"""

import pytest

from .support import run, runtime_prefix


def choice_machine(rule: dict, default: bool = True) -> dict:
    choice = {"Type": "Choice", "Choices": [dict(rule, Next="Yes")]}
    states = {"C": choice, "Yes": {"Type": "Pass", "Result": "yes", "End": True}}
    if default:
        choice["Default"] = "No"
        states["No"] = {"Type": "Pass", "Result": "no", "End": True}
    return {"StartAt": "C", "States": states}


T = "2016-03-14T01:59:00Z"

ROWS = [
    # strings
    ({"Variable": "$.v", "StringEquals": "a"}, {"v": "a"}, "yes"),
    ({"Variable": "$.v", "StringEquals": "a"}, {"v": "A"}, "no"),
    ({"Variable": "$.v", "StringEquals": "1"}, {"v": 1}, "no"),          # type mismatch: false
    ({"Variable": "$.v", "StringEquals": "null"}, {"v": None}, "no"),
    ({"Variable": "$.v", "StringEquals": " "}, {"v": "     "}, "no"),    # compared as-is
    ({"Variable": "$.v", "StringLessThan": "b"}, {"v": "a"}, "yes"),
    ({"Variable": "$.v", "StringGreaterThan": "b"}, {"v": "a"}, "no"),
    ({"Variable": "$.v", "StringLessThanEquals": "a"}, {"v": "a"}, "yes"),
    ({"Variable": "$.v", "StringGreaterThanEquals": "b"}, {"v": "c"}, "yes"),
    ({"Variable": "$.v", "StringEqualsPath": "$.w"}, {"v": "x", "w": "x"}, "yes"),
    ({"Variable": "$.v", "StringLessThanPath": "$.w"}, {"v": "x", "w": "y"}, "yes"),
    ({"Variable": "$.v", "StringEquals": T}, {"v": T}, "yes"),             # a timestamp is a string
    ({"Variable": "$.v", "StringMatches": "log-*.txt"}, {"v": "log-2024.txt"}, "yes"),
    ({"Variable": "$.v", "StringMatches": "log-*.txt"}, {"v": "log-2024.csv"}, "no"),
    ({"Variable": "$.v", "StringMatches": "*"}, {"v": ""}, "yes"),
    ({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "a*b"}, "yes"),  # escaped star is literal
    ({"Variable": "$.v", "StringMatches": "a\\*b"}, {"v": "axxb"}, "no"),
    # numbers
    ({"Variable": "$.v", "NumericEquals": 1}, {"v": 1.0}, "yes"),
    ({"Variable": "$.v", "NumericEquals": 0}, {"v": 0.0}, "yes"),
    ({"Variable": "$.v", "NumericEquals": 1}, {"v": True}, "no"),        # booleans are not numbers
    ({"Variable": "$.v", "NumericEquals": 1}, {"v": "1"}, "no"),         # numeric strings are not numbers
    ({"Variable": "$.v", "NumericEquals": 9007199254740993}, {"v": 9007199254740992}, "no"),  # no float coercion
    ({"Variable": "$.v", "NumericEquals": 9007199254740993}, {"v": 9007199254740993}, "yes"),
    ({"Variable": "$.v", "NumericLessThan": 2}, {"v": 1.5}, "yes"),
    ({"Variable": "$.v", "NumericGreaterThan": 2}, {"v": 2}, "no"),
    ({"Variable": "$.v", "NumericLessThanEquals": 2}, {"v": 2}, "yes"),
    ({"Variable": "$.v", "NumericGreaterThanEquals": 2.5}, {"v": 3}, "yes"),
    ({"Variable": "$.v", "NumericEqualsPath": "$.w"}, {"v": 7, "w": 7.0}, "yes"),
    ({"Variable": "$.v", "NumericGreaterThanPath": "$.w"}, {"v": 8, "w": 7}, "yes"),
    ({"Variable": "$.v", "NumericLessThanEqualsPath": "$.w"}, {"v": 8, "w": 7}, "no"),
    # booleans
    ({"Variable": "$.v", "BooleanEquals": True}, {"v": True}, "yes"),
    ({"Variable": "$.v", "BooleanEquals": True}, {"v": 1}, "no"),
    ({"Variable": "$.v", "BooleanEquals": True}, {"v": "true"}, "no"),
    ({"Variable": "$.v", "BooleanEqualsPath": "$.w"}, {"v": False, "w": False}, "yes"),
    # timestamps: instants, offsets honoured; an invalid timestamp makes the test false
    ({"Variable": "$.v", "TimestampEquals": T}, {"v": "2016-03-14T02:59:00+01:00"}, "yes"),
    ({"Variable": "$.v", "TimestampEquals": T}, {"v": "2016-03-14T01:59:00.000Z"}, "yes"),
    ({"Variable": "$.v", "TimestampLessThan": T}, {"v": "2016-03-14T01:58:59Z"}, "yes"),
    ({"Variable": "$.v", "TimestampGreaterThan": T}, {"v": "2016-03-14T01:58:59Z"}, "no"),
    ({"Variable": "$.v", "TimestampLessThanEquals": T}, {"v": T}, "yes"),
    ({"Variable": "$.v", "TimestampGreaterThanEquals": T}, {"v": "2017-01-01T00:00:00Z"}, "yes"),
    ({"Variable": "$.v", "TimestampGreaterThanPath": "$.w"}, {"v": "2016-03-14T02:00:00Z", "w": T}, "yes"),
    ({"Variable": "$.v", "TimestampEquals": T}, {"v": "2016-03-14 01:59:00"}, "no"),
    ({"Variable": "$.v", "TimestampLessThan": T}, {"v": 12}, "no"),
    # type tests
    ({"Variable": "$.v", "IsNull": True}, {"v": None}, "yes"),
    ({"Variable": "$.v", "IsNull": True}, {"v": 0}, "no"),
    ({"Variable": "$.v", "IsNull": False}, {"v": "x"}, "yes"),
    ({"Variable": "$.v", "IsPresent": True}, {"v": None}, "yes"),       # present even when null
    ({"Variable": "$.v", "IsPresent": True}, {}, "no"),                 # a missing path never errors here
    ({"Variable": "$.v", "IsPresent": False}, {}, "yes"),
    ({"Variable": "$.v.deep", "IsPresent": False}, {"v": {}}, "yes"),
    ({"Variable": "$.v", "IsNumeric": True}, {"v": 1.5}, "yes"),
    ({"Variable": "$.v", "IsNumeric": True}, {"v": "1"}, "no"),
    ({"Variable": "$.v", "IsString": True}, {"v": ""}, "yes"),
    ({"Variable": "$.v", "IsString": True}, {"v": None}, "no"),
    ({"Variable": "$.v", "IsBoolean": True}, {"v": False}, "yes"),
    ({"Variable": "$.v", "IsBoolean": True}, {"v": 0}, "no"),
    ({"Variable": "$.v", "IsTimestamp": True}, {"v": T}, "yes"),
    ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2016-03-14"}, "no"),
    # boolean combinations
    ({"And": [{"Variable": "$.v", "IsPresent": True}, {"Variable": "$.v", "NumericGreaterThan": 1}]}, {}, "no"),
    ({"And": [{"Variable": "$.v", "IsPresent": True}, {"Variable": "$.v", "NumericGreaterThan": 1}]}, {"v": 2}, "yes"),
    ({"Or": [{"Variable": "$.v", "StringEquals": "a"}, {"Variable": "$.v", "StringEquals": "b"}]}, {"v": "b"}, "yes"),
    ({"Or": [{"Variable": "$.v", "StringEquals": "a"}, {"Variable": "$.w", "StringEquals": "b"}]}, {"v": "a"}, "yes"),
    ({"Not": {"Variable": "$.v", "StringEquals": "a"}}, {"v": "b"}, "yes"),
    ({"Not": {"Variable": "$.v", "StringEquals": "a"}}, {"v": "a"}, "no"),
    ({"And": [{"Not": {"Variable": "$.v", "IsNull": True}},
              {"Or": [{"Variable": "$.v", "NumericLessThan": 0}, {"Variable": "$.v", "NumericGreaterThan": 10}]}]},
     {"v": 11}, "yes"),
    # the Context object and nested paths
    ({"Variable": "$$.Execution.Input.flag", "BooleanEquals": True}, {"flag": True}, "yes"),
    ({"Variable": "$$.State.Name", "StringEquals": "C"}, {}, "yes"),
    ({"Variable": "$.a.b[1]", "NumericEquals": 2}, {"a": {"b": [1, 2]}}, "yes"),
]


@pytest.mark.parametrize("rule, data, branch", ROWS, ids=[f"{i}-{next(k for k in r if k != 'Variable')}" for i, (r, _, _) in enumerate(ROWS)])
def test_operator_picks_the_branch(rule, data, branch):
    result, _, _ = run(choice_machine(rule), data)
    assert (result.status, result.output) == ("SUCCEEDED", branch), (result.error, result.cause)
    assert result.states == ["C", "Yes" if branch == "yes" else "No"]


@pytest.mark.parametrize("rule, data", [
    ({"Variable": "$.v", "StringEquals": "a"}, {}),
    ({"Variable": "$.v", "IsNull": True}, {}),
    ({"Variable": "$.v", "NumericEqualsPath": "$.w"}, {"v": 1}),
    ({"Or": [{"Variable": "$.v", "StringEquals": "a"}, {"Variable": "$.w", "StringEquals": "b"}]}, {"v": "x"}),
])
def test_missing_path_fails_the_execution(rule, data):
    """Reference 14.12: for any operator but IsPresent a missing path is States.Runtime,
    and Choice has no Catch: the execution fails, even though there is a Default."""
    result, _, _ = run(choice_machine(rule), data)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause.startswith(runtime_prefix("C", 2))
    assert "The choice state's condition path references an invalid value." in result.cause
    assert result.states == ["C"]


def test_rules_are_evaluated_in_order_first_true_wins():
    definition = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 100, "Next": "Big"},
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Medium"},
            {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Small"}],
            "Default": "Tiny"},
        "Big": {"Type": "Pass", "Result": "big", "End": True},
        "Medium": {"Type": "Pass", "Result": "medium", "End": True},
        "Small": {"Type": "Pass", "Result": "small", "End": True},
        "Tiny": {"Type": "Pass", "Result": "tiny", "End": True}}}
    outputs = [run(definition, {"n": n})[0].output for n in (1000, 50, 5, 0)]
    assert outputs == ["big", "medium", "small", "tiny"]


def test_no_match_without_default_is_states_runtime():
    result, _, _ = run(choice_machine({"Variable": "$.v", "StringEquals": "a"}, default=False), {"v": "b"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause == runtime_prefix("C", 2) + (
        "Failed to transition out of the state. The state does not point to a next state.")


def test_no_match_is_not_caught_by_an_enclosing_parallel():
    inner = choice_machine({"Variable": "$.v", "StringEquals": "a"}, default=False)
    definition = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [inner], "End": True,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]},
        "Handled": {"Type": "Succeed"}}}
    result, _, _ = run(definition, {"v": "b"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_choice_loop_until_condition():
    definition = {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 5, "Next": "Done"}],
                  "Default": "Inc"},
        "Inc": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Check"},
        "Done": {"Type": "Succeed"}}}
    result, _, _ = run(definition, {"n": 0})
    assert result.output == {"n": 5}
    assert result.states == ["Check", "Inc"] * 5 + ["Check", "Done"]
