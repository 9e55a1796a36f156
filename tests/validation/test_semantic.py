"""The semantic pass: graph, paths, templates, query languages, error rules, warnings."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.validation.diagnostics import ERROR, WARNING, Diagnostic
from asl.validation.semantic import SHADOWED_RULE, semantic_diagnostics

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"


def machine(states, start=None, **top):
    return {**top, "StartAt": start or next(iter(states)), "States": states}


def task(**fields):
    state = {"Type": "Task", "Resource": LAMBDA, **fields}
    if "Next" not in fields:
        state.setdefault("End", True)
    return state


def found(definition):
    return {(d.code, d.location) for d in semantic_diagnostics(definition)}


def messages(definition):
    return {d.location: d.message for d in semantic_diagnostics(definition)}


ORDER_WORKFLOW = machine({
    "Validate": task(Parameters={"order.$": "$.order", "at.$": "$$.State.EnteredTime",
                                 "id.$": "States.Format('order-{}', $.order.id)",
                                 "lines": [{"sku.$": "$.order.sku", "qty": 1}]},
                     ResultSelector={"valid.$": "$.Payload.valid"}, ResultPath="$.validation",
                     Assign={"orderId.$": "$.Payload.id", "attempts": 0},
                     Retry=[{"ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
                             "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2},
                            {"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0},
                            {"ErrorEquals": ["States.ALL"]}],
                     Catch=[{"ErrorEquals": ["InvalidOrder"], "ResultPath": "$.error", "Next": "Reject"},
                            {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Reject"}],
                     TimeoutSeconds=30, HeartbeatSeconds=10, Next="IsValid"),
    "IsValid": {"Type": "Choice", "Choices": [
        {"And": [{"Variable": "$.validation.valid", "BooleanEquals": True},
                 {"Not": {"Variable": "$$.Execution.Input.dryRun", "IsPresent": True}}],
         "Next": "Fulfil", "Assign": {"decision": "ship"}},
        {"Variable": "$orderId", "StringEqualsPath": "$.blockedId", "Next": "Reject"},
        {"Variable": "$.order.placedAt", "TimestampLessThan": "2016-03-14T01:59:00Z", "Next": "Reject"},
    ], "Default": "Reject"},
    "Fulfil": {"Type": "Parallel", "Branches": [
        machine({"Pack": task(InputPath="$.order", OutputPath="$.Payload")}),
        machine({"Notify": {"Type": "Pass", "Result": {"sent": True}, "ResultPath": "$.notified",
                            "Next": "Pause"},
                 "Pause": {"Type": "Wait", "SecondsPath": "$.delay", "End": True}}),
    ], "ResultPath": "$.fulfilment", "Next": "ShipEach"},
    "ShipEach": {"Type": "Map", "ItemsPath": "$.order.items", "MaxConcurrency": 4,
                 "ItemSelector": {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                 "ItemProcessor": machine({"Ship": task(Parameters={"item.$": "$.item"})}),
                 "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Reject": {"Type": "Fail", "ErrorPath": "States.Format('Rejected {}', $.order.id)",
               "CausePath": "$.error.Cause"},
}, Comment="A typical order workflow")

JSONATA_WORKFLOW = machine({
    "Quote": task(Arguments={"FunctionName": LAMBDA, "Payload": "{% $states.input.order %}"},
                  Output="{% $states.result.Payload %}",
                  Assign={"total": "{% $states.result.Payload.total %}"},
                  TimeoutSeconds="{% $states.input.timeout %}",
                  Catch=[{"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}",
                          "Assign": {"failure": "{% $states.errorOutput.Cause %}"}, "Next": "Failed"}],
                  Next="Big?"),
    "Big?": {"Type": "Choice", "Choices": [
        {"Condition": "{% $total > 100 %}", "Next": "Each", "Output": {"big": True}}],
        "Default": "Each"},
    "Each": {"Type": "Map", "Items": "{% $states.input.items %}",
             "ItemSelector": {"value": "{% $states.context.Map.Item.Value %}"},
             "ItemProcessor": machine({"Wait": {"Type": "Wait", "Seconds": "{% 1 %}", "End": True}}),
             "Next": "Done"},
    "Done": {"Type": "Succeed", "Output": "{% $states.input %}"},
    "Failed": {"Type": "Fail", "Error": "{% $failure %}", "Cause": "failed"},
}, QueryLanguage="JSONata")


@pytest.mark.parametrize("definition", [ORDER_WORKFLOW, JSONATA_WORKFLOW], ids=["jsonpath", "jsonata"])
def test_a_valid_workflow_has_no_diagnostics(definition):
    assert semantic_diagnostics(definition) == []


# -- graph -------------------------------------------------------------------------------

def test_missing_target_message_names_the_state_and_the_scope():
    definition = machine({"ChargePayment": task(Next="Ship", Catch=[
        {"ErrorEquals": ["States.ALL"], "Next": "Done"}]), "Done": {"Type": "Succeed"}})
    assert semantic_diagnostics(definition) == [Diagnostic(
        "/States/ChargePayment/Next", "MISSING_TRANSITION_TARGET",
        "'Next' names 'Ship', which is not a state of this machine")]


@pytest.mark.parametrize("container, noun", [
    (lambda inner: {"Type": "Parallel", "Branches": [inner], "End": True}, "branch"),
    (lambda inner: {"Type": "Map", "ItemProcessor": inner, "End": True}, "item processor"),
])
def test_scopes_are_closed_and_named_in_messages(container, noun):
    inner = machine({"In": {"Type": "Pass", "Next": "Out"}, "End": {"Type": "Succeed"}})
    definition = machine({"Outer": container(inner), "Out": {"Type": "Succeed"}})
    field = "Branches/0" if noun == "branch" else "ItemProcessor"
    text = messages(definition)
    assert text[f"/States/Outer/{field}/States/In/Next"] == \
        f"'Next' names 'Out', which is not a state of this {noun}"
    assert text[f"/States/Outer/{field}/States/End"] == 'State "End" is not reachable.'
    assert text["/States/Out"] == 'State "Out" is not reachable.'


def test_unreachable_uses_aws_wording_and_follows_every_transition():
    definition = machine({
        "Try": task(Next="Choose", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]),
        "Choose": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "ByRule"}],
                   "Default": "ByDefault"},
        "ByRule": {"Type": "Succeed"}, "ByDefault": {"Type": "Succeed"}, "Caught": {"Type": "Succeed"},
        "Island": {"Type": "Pass", "Next": "Island2"}, "Island2": {"Type": "Succeed"},
    })
    assert semantic_diagnostics(definition) == [
        Diagnostic("/States/Island", "MISSING_TRANSITION_TARGET", 'State "Island" is not reachable.'),
        Diagnostic("/States/Island2", "MISSING_TRANSITION_TARGET", 'State "Island2" is not reachable.'),
    ]


def test_a_scope_without_terminal_state_reports_only_that():
    # AWS does not list unreachable states of a scope that has no terminal state.
    definition = machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"},
                          "C": {"Type": "Pass", "Next": "A"}})
    assert semantic_diagnostics(definition) == [
        Diagnostic("", "MISSING_END_STATE", "Workflow has no terminal state")]


def test_state_names_are_unique_across_the_whole_machine():
    definition = machine({"P": {"Type": "Parallel", "End": True, "Branches": [
        machine({"Work": {"Type": "Succeed"}}), machine({"Work": {"Type": "Succeed"}})]}})
    [duplicate] = semantic_diagnostics(definition)
    assert (duplicate.code, duplicate.location) == ("DUPLICATE_STATE_NAME", "/States/P/Branches/1/States/Work")
    assert "/States/P/Branches/0/States/Work" in duplicate.message


def test_the_later_duplicate_in_the_text_is_the_one_reported():
    definition = machine({"P": {"Type": "Parallel", "Next": "X", "Branches": [
        machine({"X": {"Type": "Succeed"}})]}, "X": {"Type": "Succeed"}})
    assert found(definition) == {("DUPLICATE_STATE_NAME", "/States/X")}


@pytest.mark.parametrize("name, location", [
    ("__proto__", "/States/__proto__"),
    ("constructor", "/States/constructor"),
    ("with spaces and.dots", "/States/with spaces and.dots"),
    ("注文を確認 ✓", "/States/注文を確認 ✓"),
    ("a/b~c", "/States/a~1b~0c"),
    ("$.looks.like.a.path", "/States/$.looks.like.a.path"),
])
def test_weird_state_names_work_and_are_escaped_in_pointers(name, location):
    definition = machine({name: {"Type": "Pass", "Next": name + "!"}, "Done": {"Type": "Succeed"}})
    assert found(definition) == {("MISSING_TRANSITION_TARGET", location + "/Next"),
                                 ("MISSING_TRANSITION_TARGET", "/States/Done")}
    assert semantic_diagnostics(machine({name: {"Type": "Succeed"}})) == []


def nested(depth, mistake=False):
    """Parallel and Map alternately, ``depth`` levels deep, with unique state names."""
    if depth == 0:
        leaf = {"Type": "Pass", "Next": "Nowhere"} if mistake else {"Type": "Succeed"}
        return machine({"Leaf": leaf} if not mistake else {"Leaf": leaf, "LeafEnd": {"Type": "Succeed"}})
    inner = nested(depth - 1, mistake)
    if depth % 2:
        return machine({f"P{depth}": {"Type": "Parallel", "Branches": [inner], "End": True}})
    return machine({f"M{depth}": {"Type": "Map", "ItemProcessor": inner, "End": True}})


def test_fifty_levels_of_parallel_and_map():
    assert semantic_diagnostics(nested(50)) == []
    locations = found(nested(50, mistake=True))
    path = "".join(f"/States/P{d}/Branches/0" if d % 2 else f"/States/M{d}/ItemProcessor"
                   for d in range(50, 0, -1))
    assert locations == {("MISSING_TRANSITION_TARGET", path + "/States/Leaf/Next"),
                         ("MISSING_TRANSITION_TARGET", path + "/States/LeafEnd")}


def chain(n):
    states = {f"S{i}": {"Type": "Pass", "Parameters": {"i": i, "x.$": "$.x"}, "ResultPath": "$.r",
                        "Next": f"S{i + 1}"} for i in range(n)}
    states[f"S{n}"] = {"Type": "Succeed"}
    return machine(states, start="S0")


def test_a_twenty_thousand_state_chain():
    definition = chain(20_000)
    assert semantic_diagnostics(definition) == []
    definition["States"]["S9999"]["Next"] = "S20001"
    result = semantic_diagnostics(definition)
    assert result[0] == Diagnostic("/States/S9999/Next", "MISSING_TRANSITION_TARGET",
                                   "'Next' names 'S20001', which is not a state of this machine")
    assert len(result) == 1 + 10_001  # S10000 ... S20000 can no longer be reached


# -- Retry and Catch ---------------------------------------------------------------------

@pytest.mark.parametrize("error_lists, shadowed", [
    ([["A"], ["B"]], []),
    ([["A", "B"], ["B"]], [1]),
    ([["A"], ["B"], ["A", "B"]], [2]),
    ([["States.TaskFailed"], ["Lambda.Unknown"]], [1]),
    ([["States.TaskFailed"], ["States.Timeout"]], []),           # TaskFailed never matches Timeout
    ([["States.TaskFailed"], ["States.DataLimitExceeded"]], []),  # must be named explicitly
    ([["States.Timeout"], ["States.TaskFailed"]], []),
    ([["States.TaskFailed"], ["States.TaskFailed", "Custom"]], [1]),
    ([["States.ALL"], ["A"]], [1]),
    ([["A"], ["States.ALL"]], []),
])
def test_rules_hidden_by_earlier_rules_are_warned_about(error_lists, shadowed):
    retriers = [{"ErrorEquals": names} for names in error_lists]
    warnings = [d for d in semantic_diagnostics(machine({"A": task(Retry=retriers)}))
                if d.code == SHADOWED_RULE]
    assert [d.location for d in warnings] == [f"/States/A/Retry/{i}" for i in shadowed]
    assert all(d.severity == WARNING for d in warnings)


@pytest.mark.parametrize("error_lists, locations", [
    ([["States.ALL", "A"]], ["/States/A/Retry/0/ErrorEquals"]),
    ([["States.ALL"], ["A"]], ["/States/A/Retry/0/ErrorEquals"]),
    ([["States.Permissions", "States.HeartbeatTimeout", "States.Http.Socket"]], []),
    ([["States.Unknown", "Custom.Error", "States.Timeout"]], ["/States/A/Retry/0/ErrorEquals/0"]),
])
def test_states_all_and_predefined_names(error_lists, locations):
    retriers = [{"ErrorEquals": names} for names in error_lists]
    errors = [d.location for d in semantic_diagnostics(machine({"A": task(Retry=retriers)}))
              if d.severity == ERROR]
    assert errors == locations


@pytest.mark.parametrize("fields, ok", [
    ({"TimeoutSeconds": 60, "HeartbeatSeconds": 59}, True),
    ({"TimeoutSeconds": 60, "HeartbeatSeconds": 60}, False),
    ({"TimeoutSeconds": 60, "HeartbeatSeconds": 61}, False),
    ({"HeartbeatSeconds": 600}, True),
    ({"TimeoutSecondsPath": "$.t", "HeartbeatSeconds": 600}, True),
])
def test_heartbeat_must_be_below_timeout(fields, ok):
    assert (found(machine({"A": task(**fields)})) == set()) is ok


# -- paths -------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, ok", [
    ("InputPath", "$", True), ("InputPath", "$$", True), ("InputPath", "$.a[?(@.b > 1)]", True),
    ("InputPath", "$myVar.items[0]", True), ("InputPath", None, True),
    ("InputPath", "a.b", False), ("InputPath", "$.a[", False),
    ("InputPath", "States.Format('{}', $.a)", False),
    ("OutputPath", "$..a", True), ("OutputPath", "$.a b", False),
    ("ResultPath", "$.a.b[0]", True), ("ResultPath", "$", True), ("ResultPath", None, True),
    ("ResultPath", "$['with space']", True),
    ("ResultPath", "$.a[*]", False), ("ResultPath", "$$.x", False), ("ResultPath", "$x", False),
    ("TimeoutSecondsPath", "$.t", True), ("TimeoutSecondsPath", "$t", True),
    ("TimeoutSecondsPath", "$.t[0:2]", False), ("HeartbeatSecondsPath", "$..t", False),
])
def test_path_fields(field, value, ok):
    definition = machine({"A": task(**{field: value})})
    assert (found(definition) == set()) is ok, semantic_diagnostics(definition)


# -- payload templates -------------------------------------------------------------------

@pytest.mark.parametrize("value, ok", [
    ("$", True), ("$.a.b", True), ("$$", True), ("$$.Execution.Id", True), ("$total", True),
    ("$order.lines[0]", True), ("$.a[*].b", True), ("$.a[?(@.ok == true)]", True),
    ("States.Format('{} {}', $.a, $$.Execution.Name)", True), ("States.UUID()", True),
    ("States.JsonMerge($.a, $.b, false)", True),
    ("hello", False), (3, False), (None, False), ({"a": 1}, False), ("$.a[", False),
    ("States.Nope($.a)", False), ("States.Format('{}', $.a", False),
])
def test_dollar_fields_hold_a_path_or_an_intrinsic_call(value, ok):
    for field in ("Parameters", "ResultSelector"):
        definition = machine({"A": task(**{field: {"outer": [{"x.$": value}]}})})
        result = semantic_diagnostics(definition)
        assert (result == []) is ok, result
        if not ok:
            assert result[0].location == f"/States/A/{field}/outer/0/x.$"
            assert result[0].message.startswith(
                "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic "
                "function call")


def test_no_dollar_warns_about_paths_and_calls_used_as_literals():
    definition = machine({"A": task(Parameters={"a": "$.a", "b": "$$.Execution.Id",
                                                "c": "States.UUID()", "d": "$5.00", "e": "$",
                                                "f": "plain", "g": ["$.in.array"]})})
    assert found(definition) == {("NO_DOLLAR", "/States/A/Parameters/a"),
                                 ("NO_DOLLAR", "/States/A/Parameters/b"),
                                 ("NO_DOLLAR", "/States/A/Parameters/c")}
    assert all(d.severity == WARNING for d in semantic_diagnostics(definition))


def test_pass_result_is_static_warns_about_dynamic_looking_results():
    definition = machine({"A": {"Type": "Pass", "Result": {"id.$": "$.id", "ref": "$.x",
                                                          "ok": "plain", "list": ["$$.Execution.Id"]},
                                "End": True}})
    assert found(definition) == {("PASS_RESULT_IS_STATIC", "/States/A/Result/id.$"),
                                 ("PASS_RESULT_IS_STATIC", "/States/A/Result/ref"),
                                 ("PASS_RESULT_IS_STATIC", "/States/A/Result/list/0")}


@pytest.mark.parametrize("field, value, ok", [
    ("ErrorPath", "$.error", True), ("ErrorPath", "$$.Execution.Name", True),
    ("ErrorPath", "States.Format('E{}', $.code)", True), ("CausePath", "States.JsonToString($)", True),
    ("CausePath", "States.UUID()", True),
    ("CausePath", "States.StringToJson($.a)", False), ("CausePath", "States.ArrayLength($.a)", False),
    ("ErrorPath", "$.errors[*]", False),
])
def test_fail_paths_are_reference_paths_or_string_intrinsics(field, value, ok):
    definition = machine({"F": {"Type": "Fail", field: value}})
    assert (found(definition) == set()) is ok


# -- Choice ------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, problems", [
    ({"Variable": "$.when", "TimestampEquals": "2016-03-14T01:59:00Z"}, set()),
    ({"Variable": "$.when", "TimestampGreaterThan": "2016-03-14T01:59:00.123456789+05:30"}, set()),
    ({"Variable": "$.when", "TimestampEquals": "2016-03-14"}, {"TimestampEquals"}),
    ({"Variable": "$.when", "TimestampLessThanEquals": "2016-03-14t01:59:00z"}, {"TimestampLessThanEquals"}),
    ({"Variable": "$.a", "NumericEqualsPath": "$.b[*]"}, {"NumericEqualsPath"}),
    ({"Variable": "$.a", "TimestampEqualsPath": "$$.State.EnteredTime"}, set()),
    ({"Variable": "$..a", "IsPresent": True}, {"Variable"}),
])
def test_choice_rule_operands(rule, problems):
    definition = machine({"C": {"Type": "Choice", "Choices": [{**rule, "Next": "D"}], "Default": "D"},
                          "D": {"Type": "Succeed"}})
    assert found(definition) == {("SCHEMA_VALIDATION_FAILED", f"/States/C/Choices/0/{p}") for p in problems}


def test_timestamp_messages_are_aws_wording():
    definition = machine({"W": {"Type": "Wait", "Timestamp": "2016-03-14 01:59:00", "End": True}})
    assert messages(definition) == {"/States/W/Timestamp": "String does not match RFC3339 timestamp"}


def test_no_path_warns_about_operands_that_look_like_paths():
    definition = machine({"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.a", "StringEquals": "$.b", "Next": "D"},
        {"Variable": "$.a", "StringEquals": "$5", "Next": "D"}], "Default": "D"}, "D": {"Type": "Succeed"}})
    [warning] = semantic_diagnostics(definition)
    assert (warning.code, warning.severity, warning.location) == \
        ("NO_PATH", WARNING, "/States/C/Choices/0/StringEquals")
    assert "StringEqualsPath" in warning.message


# -- query languages ---------------------------------------------------------------------

def test_a_state_can_not_downgrade_a_jsonata_machine():
    definition = machine({"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
                         QueryLanguage="JSONata")
    assert messages(definition) == {"/States/A": "'QueryLanguage' can not be 'JSONPath' if set to "
                                                 "'JSONata' for whole state machine"}


@pytest.mark.parametrize("top, own, field, ok", [
    (None, None, "Parameters", True), (None, "JSONata", "Parameters", False),
    (None, "JSONata", "Arguments", True), (None, None, "Arguments", False),
    ("JSONata", None, "Arguments", True), ("JSONata", None, "ResultSelector", False),
    ("JSONata", "JSONata", "Output", True), ("JSONPath", None, "Output", False),
])
def test_fields_of_the_other_query_language_are_errors(top, own, field, ok):
    state = task(**{field: {"a": 1}})
    if own:
        state["QueryLanguage"] = own
    definition = machine({"A": state}, **({"QueryLanguage": top} if top else {}))
    result = semantic_diagnostics(definition)
    assert (result == []) is ok
    if not ok:
        assert result[0].location == "/States/A" and f"field '{field}'" in result[0].message


def test_nested_states_inherit_the_machines_language_not_their_parents():
    inner = machine({"B": {"Type": "Pass", "Output": {"x": 1}, "End": True}})
    definition = machine({"P": {"Type": "Parallel", "QueryLanguage": "JSONata", "Branches": [inner],
                                "Output": "{% $states.result %}", "End": True}})
    assert found(definition) == {("SCHEMA_VALIDATION_FAILED", "/States/P/Branches/0/States/B")}


@pytest.mark.parametrize("text, ok", [
    ("{% $states.input.a + 1 %}", True), ("{%$states.input%}", True), ("plain text", True),
    ("{% $sum($states.input.items.price) %}", True), ("100%", True),
    ("{% $states.input.a + %}", False), ("{% %}", False), ("{%%}", False), ("{% (1 %}", False),
    # Not flush at both ends: a literal string on AWS, neither refused nor evaluated.
    ("{% 1", True), (" {% 1 %}", True), ("{% 1 %} ", True), ("1 %}", True), ("{%}", True),
])
def test_jsonata_expressions_must_parse(text, ok):
    definition = machine({"A": {"Type": "Pass", "Output": {"v": [text]}, "End": True}},
                         QueryLanguage="JSONata")
    assert (found(definition) == set()) is ok
    if not ok:
        assert found(definition) == {("INVALID_JSONATA_EXPRESSION", "/States/A/Output/v/0")}


@pytest.mark.parametrize("place, expression, ok", [
    ("output", "$states.result", True), ("output", "$states.errorOutput", False),
    ("arguments", "$states.input", True), ("arguments", "$states.context.Execution.Id", True),
    ("arguments", "$states.result", False), ("arguments", "$states.errorOutput", False),
    ("catcher", "$states.errorOutput", True), ("catcher", "$states.result", False),
    ("assign", "$states.result", True), ("choice", "$states.result", False),
    ("output", "$states.results", False),
])
def test_states_fields_are_available_only_where_aws_provides_them(place, expression, ok):
    value = "{% " + expression + " %}"
    state = task()
    if place == "output":
        state["Output"] = value
    elif place == "arguments":
        state["Arguments"] = {"v": value}
    elif place == "assign":
        state["Assign"] = {"v": value}
    elif place == "catcher":
        state.pop("End")
        state.update(Next="D", Catch=[{"ErrorEquals": ["States.ALL"], "Output": value, "Next": "D"}])
    else:
        state = {"Type": "Choice", "Choices": [{"Condition": value, "Next": "D"}], "Default": "D"}
    definition = machine({"A": state, "D": {"Type": "Succeed"}}, QueryLanguage="JSONata")
    result = [d.code for d in semantic_diagnostics(definition)
              if d.code.endswith("_JSONATA_EXPRESSION")]
    assert (result == []) is ok
    if not ok:
        # AWS files $states.errorOutput outside a Catcher with the top-level references.
        assert result == ["UNSUPPORTED_JSONATA_EXPRESSION" if "errorOutput" in expression
                          else "INVALID_JSONATA_EXPRESSION"]


# -- Assign ------------------------------------------------------------------------------

@pytest.mark.parametrize("language, key, ok", [
    ("JSONPath", "total", True), ("JSONPath", "total.$", True), ("JSONPath", "_x1", True),
    ("JSONPath", "prénom", True), ("JSONPath", "v" * 80, True),
    ("JSONPath", "v" * 81, False), ("JSONPath", "1st", False), ("JSONPath", "a-b", False),
    ("JSONPath", "a.b", False), ("JSONPath", "states", False), ("JSONPath", "states.$", False),
    ("JSONPath", "", False), ("JSONata", "total", True), ("JSONata", "total.$", False),
    ("JSONata", "states", False),
])
def test_assign_keys_are_variable_names(language, key, ok):
    value = "$.a" if key.endswith(".$") else 1
    definition = machine({"A": {"Type": "Pass", "Assign": {key: value}, "End": True}},
                         QueryLanguage=language)
    assert (found(definition) == set()) is ok


# -- robustness --------------------------------------------------------------------------

FIELDS = ["Type", "Next", "End", "StartAt", "States", "Branches", "ItemProcessor", "Iterator",
          "Choices", "Default", "Variable", "And", "Or", "Not", "StringEquals", "TimestampEquals",
          "NumericEqualsPath", "Condition", "Retry", "Catch", "ErrorEquals", "Parameters",
          "ResultSelector", "ResultPath", "InputPath", "OutputPath", "Assign", "Arguments", "Output",
          "QueryLanguage", "Result", "ErrorPath", "CausePath", "Error", "Cause", "Timestamp",
          "TimeoutSeconds", "HeartbeatSeconds", "ItemReader", "ItemBatcher", "ResultWriter",
          "ReaderConfig", "MaxItemsPath", "BatchInput", "Items", "ItemSelector", "x.$"]
TYPES = ["Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=8) | st.sampled_from(TYPES + ["JSONata", "JSONPath", "$.a", "$$", "$x",
                                                             "{% 1 %}", "{% ( %}", "States.ALL",
                                                             "States.UUID()", "A", "B"]))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), children, max_size=5),
    max_leaves=30)
small_json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(FIELDS), children, max_size=3), max_leaves=8)


@settings(max_examples=300)
@given(json_values)
def test_never_raises_on_any_json_value(value):
    assert isinstance(semantic_diagnostics(value), list)


@settings(max_examples=150)
@given(st.dictionaries(st.sampled_from(["A", "B", "__proto__"]),
                       st.dictionaries(st.sampled_from(FIELDS), small_json_values, max_size=6),
                       max_size=3),
       st.sampled_from([None, "JSONata", "JSONPath", 3]))
def test_never_raises_on_states_with_any_fields(states, language):
    definition = {"StartAt": "A", "States": states}
    if language is not None:
        definition["QueryLanguage"] = language
    result = semantic_diagnostics(definition)
    assert all(isinstance(d, Diagnostic) and d.severity in (ERROR, WARNING) for d in result)


def test_deeply_nested_values_do_not_exhaust_the_stack():
    deep = {"x.$": "$.a["}
    for _ in range(5000):
        deep = {"inner": [deep]}
    definition = machine({"A": task(Parameters=deep)})
    [problem] = semantic_diagnostics(definition)
    assert problem.location.endswith("/inner/0/x.$")
