"""JSONPath Choice Rules: every operator, its Path variant, type rules and path errors.

Expected values marked "recorded" come from LocalStack's snapshots of real AWS executions
(tests/aws/services/stepfunctions/v2/choice_operators); the rest follow the ASL spec and
the AWS docs.
"""

from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from asl.states.choice import (
    INVALID_PATH_DETAIL, NO_CHOICE_MATCHED_CAUSE, compile_rule, no_choice_matched,
)
from asl.errors import RUNTIME, StatesError


def env(variables=None, context=None):
    return SimpleNamespace(context=context if context is not None else {}, variables=variables or {})


def evaluate(rule, data, variables=None, context=None):
    return compile_rule(rule)(data, env(variables, context))


def literal(op, variable, operand):
    """The rule ``{"Variable": "$.v", op: operand}`` and its input."""
    return {"Variable": "$.v", op: operand}, {"v": variable}


def via_path(op, variable, operand):
    """The same test through ``opPath``: the operand is read from ``$.o``."""
    return {"Variable": "$.v", op + "Path": "$.o"}, {"v": variable, "o": operand}


# (operator, Variable's value, operand, expected)
COMPARISONS = [
    # Strings: exact, no trimming or folding (recorded).
    ("StringEquals", "Hello", "Hello", True),
    ("StringEquals", "hello", "Hello", False),
    ("StringEquals", " ", "     ", False),
    ("StringEquals", "\t\n", "\t\r\n", False),
    ("StringEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),  # still a string
    ("StringEquals", "", "", True),
    ("StringGreaterThan", "", "", False),
    ("StringGreaterThan", "A", "A ", False),
    ("StringGreaterThan", "A", "A\t\n\r", False),
    ("StringGreaterThan", "AB", "ABC", False),
    ("StringGreaterThan", "b", "a", True),
    ("StringGreaterThanEquals", "", "", True),
    ("StringGreaterThanEquals", "A", "AB", False),
    ("StringGreaterThanEquals", "AB", "A", True),
    ("StringLessThan", "", "", False),
    ("StringLessThan", "A", "AB", True),
    ("StringLessThan", "AB", "A", False),
    ("StringLessThan", "B", "a", True),  # no case folding: 'B' < 'a'
    ("StringLessThanEquals", "", "", True),
    ("StringLessThanEquals", "A", "AB", True),
    ("StringLessThanEquals", "AB", "A", False),
    # UTF-16 code units (Java compareTo): an astral character (surrogates D800-DFFF)
    # sorts before U+E000-U+FFFF, although its code point is higher.
    ("StringLessThan", "\U0001F600", "\uFF21", True),
    ("StringLessThan", "\U0001F600", "\uE000", True),
    ("StringGreaterThan", "\uFFFF", "\U00010000", True),
    ("StringGreaterThan", "\U0001F600", "\uD7FF", True),  # below the surrogates: as code points
    ("StringLessThan", "a\U0001F600", "a\uFB01", True),
    ("StringLessThanEquals", "\U0001F600", "\U0001F600", True),
    ("StringEquals", "\U0001F600", "\U0001F600", True),
    # Numbers: int and float compare by value (recorded: 0 == 0.0, -0 == 0, 1 == 1.0).
    ("NumericEquals", 0, 0.0, True),
    ("NumericEquals", 0.0, 0, True),
    ("NumericEquals", -0, 0, True),
    ("NumericEquals", -0.0, 0, True),
    ("NumericEquals", 1, 1.0, True),
    ("NumericEquals", 2.22, 2.22, True),
    ("NumericEquals", 1.1, 1, False),
    ("NumericGreaterThan", 0, 1, False),
    ("NumericGreaterThan", 1, 1, False),
    ("NumericGreaterThan", 1, 0, True),
    ("NumericGreaterThan", 1.5, 1, True),
    ("NumericGreaterThanEquals", 1, 1, True),
    ("NumericGreaterThanEquals", 0, 1, False),
    ("NumericGreaterThanEquals", 1, 0.5, True),
    ("NumericLessThan", 0, 1, True),
    ("NumericLessThan", 1, 1, False),
    ("NumericLessThan", -2.25, -2, True),
    ("NumericLessThanEquals", 1, 1.0, True),
    ("NumericLessThanEquals", 1, 0, False),
    ("NumericLessThanEquals", 7, 8, True),
    # Booleans.
    ("BooleanEquals", True, True, True),
    ("BooleanEquals", False, False, True),
    ("BooleanEquals", True, False, False),
    ("BooleanEquals", False, True, False),
    # Timestamps compare as instants (recorded T0/T1 cases, plus offsets and fractions).
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampEquals", "2012-10-09T20:00:55+01:00", "2012-10-09T19:00:55Z", True),
    ("TimestampEquals", "2012-10-09T19:00:55.000Z", "2012-10-09T19:00:55Z", True),
    ("TimestampEquals", "2012-10-09T19:00:55.000000001Z", "2012-10-09T19:00:55Z", False),
    ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", False),
    ("TimestampGreaterThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThan", "2012-10-09T19:00:55.000000001Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThan", "2012-10-09T19:30:00+01:00", "2012-10-09T19:00:00Z", False),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", True),
    ("TimestampLessThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ("TimestampLessThan", "2012-10-09T23:59:59-01:00", "2012-10-10T00:00:00Z", False),
    ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampLessThanEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
]

OPERATORS = sorted({op for op, *_ in COMPARISONS})


@pytest.mark.parametrize("op, value, operand, expected", COMPARISONS)
def test_comparison_with_a_literal(op, value, operand, expected):
    assert evaluate(*literal(op, value, operand)) is expected


@pytest.mark.parametrize("op, value, operand, expected", COMPARISONS)
def test_comparison_with_a_path_operand(op, value, operand, expected):
    assert evaluate(*via_path(op, value, operand)) is expected


# A value of the wrong type makes every comparison false (recorded for these values).
WRONG_TYPE = {
    "String": [None, 0, 0.0, 1, 1.1, [], [""], {}, {"A": 0}, False, True],
    "Numeric": [None, "", " ", "0", "1", "1.0", [], [""], {}, {"A": 0}, False, True],
    "Boolean": [None, 0, 0.0, 1, 1.1, "", "true", "True", [], [True], {}, {"A": 0}],
    "Timestamp": [None, 0, 0.0, 1, 1.1, "", " ", [], [""], {}, {"A": 0}, False, True,
                  "2023-02-24 12:15:56.832957", "2012-10-09T19:00:55", "2023-02-24",
                  "2012-10-09t19:00:55z", "2012-02-30T19:00:55Z"],
}
GOOD_OPERAND = {"String": "HelloWorld", "Numeric": 1, "Boolean": True, "Timestamp": "2012-10-09T19:00:55Z"}
MISMATCHES = [
    (op, family, value)
    for op in OPERATORS
    for family in WRONG_TYPE
    if op.startswith(family)
    for value in WRONG_TYPE[family]
]


@pytest.mark.parametrize("op, family, value", MISMATCHES, ids=[f"{o}-{v!r}" for o, _, v in MISMATCHES])
def test_type_mismatch_is_false_never_an_error(op, family, value):
    operand = GOOD_OPERAND[family]
    assert evaluate(*literal(op, value, operand)) is False
    assert evaluate(*via_path(op, value, operand)) is False     # wrong-typed Variable
    assert evaluate(*via_path(op, operand, value)) is False     # wrong-typed Path operand


# Choice Is* operators (recorded, except IsTimestamp): value -> the operators true for it.
TYPE_TABLE = [
    (None, {"IsNull"}),
    (0, {"IsNumeric"}),
    (0.0, {"IsNumeric"}),
    (1, {"IsNumeric"}),
    (1.1, {"IsNumeric"}),
    (-1e300, {"IsNumeric"}),
    ("", {"IsString"}),
    (" ", {"IsString"}),
    ("HelloWorld", {"IsString"}),
    ("1", {"IsString"}),
    ("null", {"IsString"}),
    ("2012-10-09T19:00:55", {"IsString"}),
    ("2023-02-24", {"IsString"}),
    ("2012-10-09T19:00:55Z", {"IsString", "IsTimestamp"}),
    ("2012-10-09T19:00:55+01:00", {"IsString", "IsTimestamp"}),
    ("2012-10-09T19:00:55.123456789-08:00", {"IsString", "IsTimestamp"}),
    ([], set()),
    ([""], set()),
    ({}, set()),
    ({"A": 0}, set()),
    (True, {"IsBoolean"}),
    (False, {"IsBoolean"}),
]
TYPE_OPERATORS = ["IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"]
TYPE_CASES = [(op, value, op in ops) for value, ops in TYPE_TABLE for op in TYPE_OPERATORS]


@pytest.mark.parametrize("op, value, expected", TYPE_CASES, ids=[f"{o}-{v!r}" for o, v, _ in TYPE_CASES])
def test_type_operators_and_their_negations(op, value, expected):
    assert evaluate(*literal(op, value, True)) is expected
    assert evaluate(*literal(op, value, False)) is (not expected)


@pytest.mark.parametrize("value", [v for v, _ in TYPE_TABLE], ids=repr)
def test_is_present_is_true_for_any_existing_value_null_included(value):
    assert evaluate(*literal("IsPresent", value, True)) is True
    assert evaluate(*literal("IsPresent", value, False)) is False


# StringMatches: '*' is any run of characters; '\*' a literal star; '\\' a backslash.
# Patterns are written as Python strings, i.e. after JSON decoding.
MATCHES = [
    ("foo*.log", "foo23.log", True),     # ASL spec examples
    ("*.log", "zebra.log", True),
    ("foo*.*", "foobar.zebra", True),
    ("log-*.txt", "log-.txt", True),
    ("log-*.txt", "log-2024.txt.gz", False),
    ("log-*.txt", "LOG-1.txt", False),
    ("*", "", True),
    ("*", "anything\nat all", True),
    ("", "", True),
    ("", "x", False),
    ("a*b*c", "abc", True),
    ("a*b*c", "aXbYbZc", True),
    ("a*b*c", "acb", False),
    ("a**b", "ab", True),
    ("a.c", "abc", False),               # only '*' is special
    ("a?c", "abc", False),
    ("[ab]", "a", False),
    ("[ab]", "[ab]", True),
    ("^a$", "^a$", True),
    ("a+", "aa", False),
    ("\\*", "*", True),                  # JSON "\\*"
    ("\\*", "x", False),
    ("foo\\*.log", "foo*.log", True),
    ("foo\\*.log", "foo2.log", False),
    ("\\\\", "\\", True),                # JSON "\\\\"
    ("a\\\\*", "a\\bc", True),           # escaped backslash, then a wildcard
    ("a\\\\*", "abc", False),
    ("\\\\\\*", "\\*", True),
    ("\\a", "a", True),                  # a backslash always escapes the next character
    ("\U0001F600*", "\U0001F600!", True),
]


@pytest.mark.parametrize("pattern, value, expected", MATCHES)
def test_string_matches(pattern, value, expected):
    assert evaluate(*literal("StringMatches", value, pattern)) is expected


@pytest.mark.parametrize("value", WRONG_TYPE["String"], ids=repr)
def test_string_matches_non_strings_is_false(value):
    assert evaluate(*literal("StringMatches", value, "*")) is False


MISSING_OPERATORS = [
    ("StringEquals", "x"), ("StringLessThan", "x"), ("StringMatches", "*"),
    ("NumericEquals", 1), ("NumericGreaterThanEquals", 1), ("BooleanEquals", True),
    ("TimestampEquals", "2012-10-09T19:00:55Z"), ("IsNull", True), ("IsNull", False),
    ("IsNumeric", True), ("IsString", False), ("IsBoolean", True), ("IsTimestamp", True),
]
MISSING_PATHS = [
    ("$.missing", {"v": 1}, None, None),
    ("$.a.b", {"a": {}}, None, None),
    ("$.a.b", {"v": 1}, None, None),          # intermediate node missing
    ("$.a[3]", {"a": [1, 2]}, None, None),
    ("$.a.b", {"a": 5}, None, None),          # stepping into a scalar
    ("$missingVariable", {}, {"other": 1}, None),
    ("$order.total", {}, {"order": {}}, None),
    ("$$.Execution.Nope", {}, None, {"Execution": {"Id": "arn"}}),
]


@pytest.mark.parametrize("op, operand", MISSING_OPERATORS)
@pytest.mark.parametrize("path, data, variables, context", MISSING_PATHS)
def test_missing_variable_fails_with_states_runtime(op, operand, path, data, variables, context):
    with pytest.raises(StatesError) as caught:
        evaluate({"Variable": path, op: operand}, data, variables, context)
    assert caught.value.error == RUNTIME
    assert caught.value.cause == (
        f"Invalid path '{path}': The choice state's condition path references an invalid value.")


@pytest.mark.parametrize("path, data, variables, context", MISSING_PATHS)
def test_is_present_never_fails_on_a_missing_path(path, data, variables, context):
    assert evaluate({"Variable": path, "IsPresent": True}, data, variables, context) is False
    assert evaluate({"Variable": path, "IsPresent": False}, data, variables, context) is True


@pytest.mark.parametrize("op", [o + "Path" for o in OPERATORS])
def test_missing_path_operand_fails_with_states_runtime(op):
    value = {"String": "a", "Numeric": 1, "Boolean": True, "Timestamp": "2012-10-09T19:00:55Z"}
    family = next(f for f in value if op.startswith(f))
    with pytest.raises(StatesError) as caught:
        evaluate({"Variable": "$.v", op: "$.right"}, {"v": value[family]})
    assert caught.value.error == RUNTIME
    assert caught.value.cause == INVALID_PATH_DETAIL.format(path="$.right")


def test_missing_variable_is_reported_before_a_missing_operand():
    with pytest.raises(StatesError, match=r"Invalid path '\$\.left'"):
        evaluate({"Variable": "$.left", "NumericEqualsPath": "$.right"}, {})


# Variables and the Context object, on either side.
SOURCES = [
    ({"Variable": "$count", "NumericGreaterThan": 2}, {}, {"count": 3}, None, True),
    ({"Variable": "$order.items[1].sku", "StringEquals": "B"}, {},
     {"order": {"items": [{"sku": "A"}, {"sku": "B"}]}}, None, True),
    ({"Variable": "$.n", "NumericLessThanPath": "$limit"}, {"n": 5}, {"limit": 10}, None, True),
    ({"Variable": "$x", "NumericEqualsPath": "$y"}, {}, {"x": 1, "y": 1.0}, None, True),
    ({"Variable": "$$.State.RetryCount", "NumericEquals": 0}, {}, None, {"State": {"RetryCount": 0}}, True),
    ({"Variable": "$.t", "TimestampGreaterThanPath": "$$.Execution.StartTime"},
     {"t": "2024-01-02T03:04:06Z"}, None, {"Execution": {"StartTime": "2024-01-02T03:04:05.123Z"}}, True),
    ({"Variable": "$$.Execution.Input.kind", "StringEqualsPath": "$.kind"},
     {"kind": "a"}, None, {"Execution": {"Input": {"kind": "b"}}}, False),
    ({"Variable": "$maybe", "IsNull": True}, {}, {"maybe": None}, None, True),
    ({"Variable": "$maybe", "IsPresent": True}, {}, {"maybe": None}, None, True),
    ({"Variable": "$$.Task.Token", "IsPresent": True}, {}, None, {"State": {}}, False),
    ({"Variable": "$", "IsNull": True}, None, None, None, True),        # whole input
    ({"Variable": "$", "NumericEquals": 7}, 7, None, None, True),
    ({"Variable": "$[0]", "StringEquals": "a"}, ["a", "b"], None, None, True),
    ({"Variable": "$.a['b c']", "BooleanEquals": True}, {"a": {"b c": True}}, None, None, True),
]


@pytest.mark.parametrize("rule, data, variables, context, expected", SOURCES)
def test_variables_and_context_as_operands(rule, data, variables, context, expected):
    assert evaluate(rule, data, variables, context) is expected


# And / Or / Not: nesting and short-circuit evaluation.
PRESENT_X = {"Variable": "$.x", "IsPresent": True}
X_IS_5 = {"Variable": "$.x", "NumericEquals": 5}
TRUE = {"Variable": "$.t", "BooleanEquals": True}
FALSE = {"Variable": "$.t", "BooleanEquals": False}
LOGIC = [
    ({"And": [TRUE, TRUE]}, True),
    ({"And": [TRUE, FALSE]}, False),
    ({"And": [TRUE]}, True),
    ({"Or": [FALSE, FALSE]}, False),
    ({"Or": [FALSE, TRUE]}, True),
    ({"Not": TRUE}, False),
    ({"Not": {"Not": TRUE}}, True),
    ({"Not": {"And": [TRUE, FALSE]}}, True),
    ({"Or": [{"And": [TRUE, FALSE]}, {"Not": FALSE}]}, True),
    ({"And": [{"Or": [FALSE, TRUE]}, {"Not": {"Or": [FALSE, FALSE]}}, TRUE]}, True),
    # A missing path in a branch that is never evaluated does not fail.
    ({"And": [PRESENT_X, X_IS_5]}, False),
    ({"And": [FALSE, X_IS_5]}, False),
    ({"Or": [TRUE, X_IS_5]}, True),
    ({"Or": [{"Not": PRESENT_X}, X_IS_5]}, True),
    ({"Not": {"And": [PRESENT_X, X_IS_5]}}, True),
]


@pytest.mark.parametrize("rule, expected", LOGIC)
def test_boolean_operators(rule, expected):
    assert evaluate(rule, {"t": True}) is expected


@pytest.mark.parametrize("rule", [
    {"And": [TRUE, X_IS_5]},
    {"Or": [FALSE, X_IS_5]},
    {"Not": X_IS_5},
])
def test_missing_path_in_an_evaluated_branch_fails(rule):
    with pytest.raises(StatesError, match=r"Invalid path '\$\.x'"):
        evaluate(rule, {"t": True})


def test_guarded_path_is_read_when_present():
    assert evaluate({"And": [PRESENT_X, X_IS_5]}, {"x": 5}) is True


def test_next_assign_and_comment_are_ignored():
    rule = {"Variable": "$.v", "StringEquals": "a", "Next": "S", "Assign": {"x": 1}, "Comment": "c"}
    assert evaluate(rule, {"v": "a"}) is True
    nested = {"And": [{"Variable": "$.v", "IsString": True, "Comment": "inner"}], "Next": "S"}
    assert evaluate(nested, {"v": "a"}) is True


# The AWS docs' Choice state example (Choice workflow state page).
DOCS_CHOICES = [
    ({"Not": {"Variable": "$.type", "StringEquals": "Private"}}, "Public"),
    ({"Variable": "$.value", "NumericEquals": 0}, "ValueIsZero"),
    ({"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
              {"Variable": "$.value", "NumericLessThan": 30}]}, "ValueInTwenties"),
]


def choose(choices, data):
    """The Next of the first matching rule, or None (the executor's Default/failure)."""
    for rule, next_state in choices:
        if compile_rule(rule)(data, env()):
            return next_state
    return None


@pytest.mark.parametrize("data, expected", [
    ({"type": "Private", "value": 22}, "ValueInTwenties"),  # the docs' worked example
    ({"type": "Public", "value": 22}, "Public"),
    ({"type": "Private", "value": 0}, "ValueIsZero"),
    ({"type": "Private", "value": 30}, None),
    ({"type": "Private", "value": "22"}, None),              # a numeric string is not a number
])
def test_aws_docs_choice_state_example(data, expected):
    assert choose(DOCS_CHOICES, data) == expected


def test_aws_docs_example_fails_without_the_type_field():
    # "If the state input doesn't contain the $.type field, the execution fails."
    with pytest.raises(StatesError, match=r"Invalid path '\$\.type'"):
        choose(DOCS_CHOICES, {"value": 22})


@pytest.mark.parametrize("rule, data, expected", [
    ({"Variable": "$.foo", "NumericEquals": 1}, {"foo": 1}, True),
    ({"Variable": "$.foo", "StringEquals": "MyString"}, {"foo": "MyString"}, True),
    ({"Variable": "$.foo", "StringGreaterThan": "MyStringABC"}, {"foo": "MyStringABD"}, True),
    ({"Variable": "$.foo", "StringGreaterThan": "MyStringABC"}, {"foo": "MyString"}, False),
    ({"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}, {"foo": "2001-01-01T12:00:00Z"}, True),
    ({"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}, {"foo": "2001-01-01T13:00:00+01:00"}, True),
])
def test_aws_docs_choice_rule_examples(rule, data, expected):
    assert evaluate(rule, data) is expected


def test_no_choice_matched_error_has_aws_wording():
    error = no_choice_matched("CheckStatus", 2)
    assert error.error == RUNTIME
    assert error.cause == ("An error occurred while executing the state 'CheckStatus' (entered at the "
                           "event id #2). Failed to transition out of the state. The state does not "
                           "point to a next state.")
    assert NO_CHOICE_MATCHED_CAUSE.format(state="CheckStatus", event_id=2) == error.cause


# Rules that cannot be compiled raise ValueError naming the problem.
BAD_RULES = [
    ("not an object", "must be an object"),
    ({}, "needs 'And', 'Or', 'Not' or 'Variable'"),
    ({"Next": "S"}, "needs 'And', 'Or', 'Not' or 'Variable'"),
    ({"Variable": "$.v"}, "exactly one comparison operator"),
    ({"Variable": "$.v", "StringEquals": "a", "NumericEquals": 1}, "exactly one comparison operator"),
    ({"Variable": "$.v", "StringContains": "a"}, "Unknown Choice comparison operator 'StringContains'"),
    ({"Variable": "$.v", "StringMatchesPath": "$.p"}, "Unknown Choice comparison operator 'StringMatchesPath'"),
    ({"Variable": "$.v", "IsPresentPath": "$.p"}, "Unknown Choice comparison operator"),
    ({"Variable": "$.v", "StringEquals": 1}, "'StringEquals' takes a string"),
    ({"Variable": "$.v", "NumericEquals": "1"}, "'NumericEquals' takes a number"),
    ({"Variable": "$.v", "NumericEquals": True}, "'NumericEquals' takes a number"),
    ({"Variable": "$.v", "BooleanEquals": "true"}, "'BooleanEquals' takes true or false"),
    ({"Variable": "$.v", "IsNull": 1}, "'IsNull' takes true or false"),
    ({"Variable": "$.v", "IsPresent": "yes"}, "'IsPresent' takes true or false"),
    ({"Variable": "$.v", "TimestampEquals": "2016-03-14 01:59:00Z"}, "RFC 3339 timestamp"),
    ({"Variable": "$.v", "TimestampEquals": 5}, "RFC 3339 timestamp"),
    ({"Variable": "$.v", "StringMatches": "abc\\"}, "dangling escape"),
    ({"Variable": "$.v", "StringMatches": 5}, "string pattern"),
    ({"Variable": "v", "StringEquals": "a"}, "'Variable'"),
    ({"Variable": 5, "StringEquals": "a"}, "'Variable' must be a path string"),
    ({"Variable": "$.v", "StringEqualsPath": "v"}, "'StringEqualsPath'"),
    ({"Variable": "$.v", "StringEqualsPath": 3}, "'StringEqualsPath' must be a path string"),
    ({"And": []}, "non-empty array"),
    ({"Or": {}}, "non-empty array"),
    ({"Not": [TRUE]}, "'Not' takes one Choice Rule"),
    ({"And": [TRUE], "Variable": "$.v"}, "no other test field"),
    ({"And": [TRUE], "Or": [TRUE]}, "no other test field"),
    ({"And": [{"Variable": "$.v"}]}, "exactly one comparison operator"),
    ({"Condition": "{% true %}", "Next": "S"}, "JSONata"),
]


@pytest.mark.parametrize("rule, message", BAD_RULES, ids=[m for _, m in BAD_RULES])
def test_uncompilable_rules_raise_value_error(rule, message):
    with pytest.raises(ValueError) as caught:
        compile_rule(rule)
    assert message in str(caught.value)


# --- properties -------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
timestamps = st.sampled_from([
    "2012-10-09T19:00:55Z", "2012-10-09T20:00:55+01:00", "2012-10-09T19:00:55.5Z",
    "2012-10-09T19:00:56Z", "2012-10-09T19:00:55", "1999-12-31T23:59:59.999999999-00:00",
])
any_value = json_values | timestamps | st.text(alphabet="\ud7ff\ue000\uffff\U00010000\U0001f600ab", max_size=4)


def operand_for(op):
    if op.startswith("String"):
        return st.text(max_size=6) | st.text(alphabet="\ue000\uffff\U00010000\U0001f600a", max_size=4)
    if op.startswith("Numeric"):
        return st.integers(-100, 100) | st.floats(-100, 100, allow_nan=False)
    if op.startswith("Boolean"):
        return st.booleans()
    return timestamps.filter(lambda t: t.endswith(("Z", "00")))


data_test_rules = st.sampled_from(OPERATORS + TYPE_OPERATORS + ["IsPresent", "StringMatches"]).flatmap(
    lambda op: (st.booleans() if op.startswith("Is")
                else st.sampled_from(["*", "a*", "\\*", "*b*"]) if op == "StringMatches"
                else operand_for(op)).map(lambda operand: {"Variable": "$.v", op: operand}))


@given(data_test_rules, any_value)
def test_predicates_never_raise_when_the_path_exists(rule, value):
    assert evaluate(rule, {"v": value}) in (True, False)


@given(data_test_rules, any_value)
def test_not_is_the_negation(rule, value):
    assert evaluate({"Not": rule}, {"v": value}) is (not evaluate(rule, {"v": value}))


@given(st.sampled_from(TYPE_OPERATORS + ["IsPresent"]), any_value)
def test_is_operators_true_and_false_forms_are_complements(op, value):
    data = {"v": value}
    assert evaluate({"Variable": "$.v", op: True}, data) is not evaluate({"Variable": "$.v", op: False}, data)


numbers = st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False)


@given(numbers, numbers)
def test_numeric_equals_is_symmetric_across_value_and_path(a, b):
    forward = evaluate({"Variable": "$.a", "NumericEqualsPath": "$.b"}, {"a": a, "b": b})
    backward = evaluate({"Variable": "$.b", "NumericEqualsPath": "$.a"}, {"a": a, "b": b})
    with_literal = evaluate({"Variable": "$.a", "NumericEquals": b}, {"a": a})
    assert forward is backward is with_literal is (a == b)


strings = st.text(alphabet=st.characters(codec="utf-8"), max_size=6) | st.text(
    alphabet="\ud7ff\ue000\uffff\U00010000\U0001f600a", max_size=4)


@given(strings, strings)
def test_string_ordering_is_a_strict_total_order(a, b):
    data = {"a": a, "b": b}
    lt = evaluate({"Variable": "$.a", "StringLessThanPath": "$.b"}, data)
    gt = evaluate({"Variable": "$.a", "StringGreaterThanPath": "$.b"}, data)
    eq = evaluate({"Variable": "$.a", "StringEqualsPath": "$.b"}, data)
    assert not (lt and gt)
    assert [lt, gt, eq].count(True) == 1
    assert evaluate({"Variable": "$.a", "StringLessThanEqualsPath": "$.b"}, data) is (lt or eq)
    assert evaluate({"Variable": "$.a", "StringGreaterThanEqualsPath": "$.b"}, data) is (gt or eq)
    # Java's compareTo: compare UTF-16 code units.
    assert lt is (list(_units(a)) < list(_units(b)))


def _units(text):
    data = text.encode("utf-16-be", "surrogatepass")
    return (int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))


@given(st.text(alphabet="ab*\\", max_size=8).filter(lambda p: not _dangling(p)), st.text(alphabet="ab*\\", max_size=8))
def test_string_matches_agrees_with_a_reference_matcher(pattern, value):
    assert evaluate(*literal("StringMatches", value, pattern)) is _glob(_tokens(pattern), value)


def _dangling(pattern):
    return (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 1


def _tokens(pattern):
    tokens, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            tokens.append(("lit", pattern[i + 1]))
            i += 2
        else:
            tokens.append(("star", None) if pattern[i] == "*" else ("lit", pattern[i]))
            i += 1
    return tokens


def _glob(tokens, value):
    if not tokens:
        return value == ""
    kind, char = tokens[0]
    if kind == "star":
        return any(_glob(tokens[1:], value[i:]) for i in range(len(value) + 1))
    return value[:1] == char and _glob(tokens[1:], value[1:])
