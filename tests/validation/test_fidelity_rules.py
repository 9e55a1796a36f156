"""Validator rules brought in line with what AWS accepts and refuses (issue 13).

Each rule: a definition -> its diagnostics (code, severity, location); for the rules that
decide whether a definition loads, also a run: ``StateMachine(definition).execute(input)``.

* A string holding ``{% ... %}`` that is not flush at both ends is a literal on AWS.
* Intrinsic calls with a wrong argument count or a certainly-wrong literal load, warn
  (INTRINSIC_ARGUMENTS, asl's own code) and fail with ``States.Runtime`` when they run.
* ``Version`` is "1.0"; state names are 1 to 80 characters; ItemReader.Resource is one
  AWS supports; a JSONata expression may not read the top-level context
  (UNSUPPORTED_JSONATA_EXPRESSION).
* A Task's Resource is an ARN: a bare word (``"charge"``) is SCHEMA_VALIDATION_FAILED,
  "Value is not a valid resource ARN", as AWS answers; the resources key ``"charge"`` still
  answers ``arn:aws:lambda:...:function:charge``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import asl
from asl.cli import main
from asl.validation import ValidationError, is_valid, validate
from asl.validation.diagnostics import (
    ERROR,
    INTRINSIC_ARGUMENTS,
    INVALID_JSONATA_EXPRESSION,
    SCHEMA_VALIDATION_FAILED,
    UNSUPPORTED_JSONATA_EXPRESSION,
    WARNING,
)

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
PROCESSOR = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
             "StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}


def diagnostics(definition):
    return [(d.code, d.severity, d.location) for d in validate(definition)]


def jsonata(states, start=None):
    return {"QueryLanguage": "JSONata", "StartAt": start or next(iter(states)), "States": states}


def jsonpath(states, start=None):
    return {"StartAt": start or next(iter(states)), "States": states}


# -- 1. "{% ... %}" not flush at both ends is a literal string -------------------------------

LITERALS = [" {% $states.input.x %}", "{% $states.input.x %} ", "a {% 1 %}", "{% 1 %} b",
            "{% 1", "1 %}", "{%}", "\n{% 1 %}", "{% (1 %} "]


@pytest.mark.parametrize("text", LITERALS)
def test_a_string_not_flush_with_its_delimiters_is_valid(text):
    definition = jsonata({"A": {"Type": "Pass", "Output": {"v": text, "w": [text]},
                                "Assign": {"z": text}, "End": True}})
    assert diagnostics(definition) == []


@pytest.mark.parametrize("text", LITERALS)
def test_a_string_not_flush_with_its_delimiters_is_output_as_written(text):
    definition = jsonata({
        "A": {"Type": "Pass", "Output": {"v": text, "w": [text]}, "Assign": {"z": text},
              "Next": "B"},
        "B": {"Type": "Pass", "Output": {"z": "{% $z %}", "in": "{% $states.input %}"},
              "End": True}})
    result = asl.StateMachine(definition).execute({"x": 5})
    assert result.status == "SUCCEEDED"
    assert result.output == {"z": text, "in": {"v": text, "w": [text]}}


def test_a_whole_output_that_is_a_literal_is_the_output():
    definition = jsonata({"A": {"Type": "Pass", "Output": " {% $states.input %}", "End": True}})
    assert diagnostics(definition) == []
    assert asl.StateMachine(definition).execute({"x": 1}).output == " {% $states.input %}"


def test_a_task_receives_a_literal_argument_unevaluated():
    definition = jsonata({"T": {"Type": "Task", "Resource": LAMBDA,
                                "Arguments": {"a": "x {% $states.input.n %}",
                                              "b": "{% $states.input.n %}"},
                                "End": True}})
    assert diagnostics(definition) == []
    result = asl.StateMachine(definition).execute({"n": 7}, resources={LAMBDA: lambda event: event})
    assert result.status == "SUCCEEDED"
    assert result.output == {"a": "x {% $states.input.n %}", "b": 7}


def test_a_flush_expression_that_does_not_parse_is_still_refused():
    definition = jsonata({"A": {"Type": "Pass", "Output": {"v": "{% (1 %}"}, "End": True}})
    assert diagnostics(definition) == [(INVALID_JSONATA_EXPRESSION, ERROR, "/States/A/Output/v")]
    with pytest.raises(ValidationError):
        asl.StateMachine(definition)


# -- 2. Intrinsic argument problems: a warning, then States.Runtime when the call runs -------

WRONG_CALLS = [
    ("States.Hash($.d, 'SHA-3')", "States.Hash", "unknown algorithm 'SHA-3'"),
    ("States.ArrayLength('x')", "States.ArrayLength", "argument 1 must be an array, not a string"),
    ("States.ArrayLength()", "States.ArrayLength", "takes 1 argument(s), got 0"),
    ("States.Hash('hello')", "States.Hash", "takes 2 argument(s), got 1"),
    ("States.MathAdd(true, 1)", "States.MathAdd", "must be a number, not a boolean"),
    ("States.Format('{}', States.ArrayLength(3))", "States.ArrayLength", "must be an array"),
]


@pytest.mark.parametrize("call, function, problem", WRONG_CALLS, ids=[c[0] for c in WRONG_CALLS])
def test_an_intrinsic_with_wrong_arguments_is_a_warning(call, function, problem):
    definition = jsonpath({"A": {"Type": "Pass", "Parameters": {"v.$": call}, "End": True}})
    found = validate(definition)
    assert [(d.code, d.severity, d.location) for d in found] == [
        (INTRINSIC_ARGUMENTS, WARNING, "/States/A/Parameters/v.$")]
    assert f"{function}: " in found[0].message and problem in found[0].message
    assert "States.Runtime" in found[0].message
    assert is_valid(found)


@pytest.mark.parametrize("call, function, problem", WRONG_CALLS, ids=[c[0] for c in WRONG_CALLS])
def test_an_intrinsic_with_wrong_arguments_loads_and_fails_with_states_runtime(call, function, problem):
    definition = jsonpath({"A": {"Type": "Pass", "Parameters": {"v.$": call}, "End": True}})
    result = asl.StateMachine(definition).execute({"d": "data"})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause == ("An error occurred while executing the state 'A' (entered at the "
                            f"event id #2). Invalid arguments in {function}")


def test_the_failure_is_not_caught_even_by_states_all():
    definition = jsonpath({
        "T": {"Type": "Task", "Resource": LAMBDA, "Parameters": {"n.$": "States.ArrayLength('x')"},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Succeed"}})
    assert diagnostics(definition) == [(INTRINSIC_ARGUMENTS, WARNING, "/States/T/Parameters/n.$")]
    result = asl.StateMachine(definition).execute({}, resources={LAMBDA: lambda event: event})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_the_state_runs_normally_until_the_call_is_reached():
    definition = jsonpath({
        "Ok": {"Type": "Pass", "Result": 1, "Next": "Choose"},
        "Choose": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Done"}],
                   "Default": "Bad"},
        "Bad": {"Type": "Pass", "Parameters": {"v.$": "States.Hash($, 'SHA-3')"}, "End": True},
        "Done": {"Type": "Succeed"}})
    result = asl.StateMachine(definition).execute({})
    assert (result.status, result.output) == ("SUCCEEDED", 1)


@pytest.mark.parametrize("place", ["Parameters", "ResultSelector", "Assign", "ItemSelector"])
def test_every_template_field_warns_and_fails_at_run_time(place):
    state = {"Type": "Map", "ItemsPath": "$.xs", "End": True,
             "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
             place: {"v.$": "States.ArrayLength('x')"}}
    definition = jsonpath({"M": state})
    assert diagnostics(definition) == [(INTRINSIC_ARGUMENTS, WARNING, f"/States/M/{place}/v.$")]
    result = asl.StateMachine(definition).execute({"xs": [1]})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause.endswith("Invalid arguments in States.ArrayLength")


def test_fail_error_path_and_cause_path_warn_and_fail_at_run_time():
    definition = jsonpath({"F": {"Type": "Fail", "ErrorPath": "States.Hash($.d, 'SHA-3')",
                                 "CausePath": "States.Format()"}})
    assert diagnostics(definition) == [(INTRINSIC_ARGUMENTS, WARNING, "/States/F/ErrorPath"),
                                       (INTRINSIC_ARGUMENTS, WARNING, "/States/F/CausePath")]
    result = asl.StateMachine(definition).execute({"d": "x"})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause.endswith("Invalid arguments in States.Hash")


def test_a_non_string_intrinsic_in_error_path_is_still_an_error():
    definition = jsonpath({"F": {"Type": "Fail", "ErrorPath": "States.ArrayLength($.a)"}})
    assert diagnostics(definition) == [(SCHEMA_VALIDATION_FAILED, ERROR, "/States/F/ErrorPath")]


@pytest.mark.parametrize("call", ["States.Array(", "States.Foo()", "States.Format('a\\n')",
                                  "States.Array(" * 11 + ")" * 11])
def test_grammar_errors_in_intrinsics_are_still_refused(call):
    definition = jsonpath({"A": {"Type": "Pass", "Parameters": {"v.$": call}, "End": True}})
    assert diagnostics(definition) == [(SCHEMA_VALIDATION_FAILED, ERROR, "/States/A/Parameters/v.$")]
    with pytest.raises(ValidationError):
        asl.StateMachine(definition)


def test_one_warning_per_wrong_call_nested_or_not():
    definition = jsonpath({"A": {"Type": "Pass", "End": True, "Parameters": {
        "v.$": "States.Array(States.ArrayLength('x'), States.Hash('a', 'SHA-3'))"}}})
    found = validate(definition)
    assert [d.code for d in found] == [INTRINSIC_ARGUMENTS, INTRINSIC_ARGUMENTS]
    assert "States.ArrayLength" in found[0].message and "States.Hash" in found[1].message


def test_valid_calls_give_no_warning():
    definition = jsonpath({"A": {"Type": "Pass", "End": True, "Parameters": {
        "h.$": "States.Hash($.d, 'SHA-256')", "n.$": "States.ArrayLength(States.Array(1, 2))"}}})
    assert diagnostics(definition) == []
    assert asl.StateMachine(definition).execute({"d": "x"}).output["n"] == 2


# -- 3a. Version ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2.0", "1", "1.0 ", 1.0, 1, None, ""])
def test_a_version_other_than_1_0_is_refused(version):
    definition = {"Version": version, "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    found = validate(definition)
    assert [(d.code, d.severity, d.location) for d in found] == [
        (SCHEMA_VALIDATION_FAILED, ERROR, "/Version")]
    assert found[0].message == "The field 'Version' should be \"1.0\""


def test_version_1_0_or_none_is_accepted():
    for top in ({"Version": "1.0"}, {}):
        definition = {**top, "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
        assert diagnostics(definition) == []
        assert asl.StateMachine(definition).execute({}).status == "SUCCEEDED"


# -- 3b. State names: 1 to 80 characters --------------------------------------------------------

def test_an_empty_state_name_is_refused():
    definition = {"StartAt": "", "States": {"": {"Type": "Succeed"}}}
    found = validate(definition)
    assert [(d.code, d.severity, d.location) for d in found] == [
        (SCHEMA_VALIDATION_FAILED, ERROR, "/States/")]
    assert "cannot be empty" in found[0].message
    with pytest.raises(ValidationError):
        asl.StateMachine(definition)


@pytest.mark.parametrize("length, ok", [(1, True), (80, True), (81, False)])
def test_state_name_length(length, ok):
    name = "é" * length  # characters, not bytes
    definition = {"StartAt": name, "States": {name: {"Type": "Succeed"}}}
    expected = [] if ok else [(SCHEMA_VALIDATION_FAILED, ERROR, f"/States/{name}")]
    assert diagnostics(definition) == expected


def test_an_empty_name_in_a_map_item_processor_is_located():
    definition = jsonpath({"M": {"Type": "Map", "End": True, "ItemProcessor": {
        "StartAt": "", "States": {"": {"Type": "Pass", "End": True}}}}})
    assert diagnostics(definition) == [(SCHEMA_VALIDATION_FAILED, ERROR, "/States/M/ItemProcessor/States/")]


# -- 3c. ItemReader.Resource --------------------------------------------------------------------

def reader_map(resource, **reader):
    return jsonpath({"M": {"Type": "Map", "End": True, "ItemProcessor": PROCESSOR,
                           "ItemReader": {"Resource": resource, **reader}}})


@pytest.mark.parametrize("resource", [
    "arn:aws:states:::s3:getObject", "arn:aws:states:::s3:listObjectsV2",
    "arn:aws-cn:states:::s3:getObject", "arn:aws-us-gov:states:::s3:listObjectsV2",
])
def test_supported_item_reader_resources(resource):
    assert diagnostics(reader_map(resource, Parameters={"Bucket": "b", "Key": "k"})) == []


@pytest.mark.parametrize("resource", [
    "arn:aws:states:::s3:unknownOperation", "arn:aws:states:::s3:getObject.sync",
    "arn:aws:states:::s3:putObject", "arn:aws:states:::aws-sdk:s3:getObject",
    "arn:aws:states:::dynamodb:scan", "s3:getObject", "items", "",
    "arn:aws:states:us-east-1:123456789012:s3:getObject",
])
def test_unsupported_item_reader_resources_are_refused(resource):
    found = validate(reader_map(resource, Parameters={"Bucket": "b", "Key": "k"}))
    assert [(d.code, d.severity, d.location) for d in found] == [
        (SCHEMA_VALIDATION_FAILED, ERROR, "/States/M/ItemReader/Resource")]
    assert "'arn:aws:states:::s3:getObject' or 'arn:aws:states:::s3:listObjectsV2'" in found[0].message


def test_a_supported_item_reader_runs():
    definition = reader_map("arn:aws:states:::s3:getObject", ReaderConfig={"InputType": "JSON"},
                            Parameters={"Bucket": "b", "Key": "k.json"})
    result = asl.StateMachine(definition).execute(
        {}, resources={"arn:aws:states:::s3:getObject": lambda arguments: '[1, 2]'})
    assert (result.status, result.output) == ("SUCCEEDED", [1, 2])


# -- 3d. UNSUPPORTED_JSONATA_EXPRESSION: reading the top-level context --------------------------

def pass_output(output):
    return jsonata({"E": {"Type": "Pass", "Output": output, "End": True}})


@pytest.mark.parametrize("expression, names", [
    ("phone", ["phone"]),
    ("phone[0]", ["phone"]),
    ("phone.number", ["phone"]),
    ("$.phone", ["$"]),
    ("$", ["$"]),
    ("$$", ["$$"]),
    ("$$.Execution.Id", ["$$"]),
    ("aaa + bbb", ["aaa", "bbb"]),
    ("aaa + aaa", ["aaa"]),
    ("$states.input.a = phone", ["phone"]),
    ("{aaa: 1}", ["aaa"]),
    ("[a, 1]", ["a"]),
    ("-a", ["a"]),
    ("a ? b : c", ["a", "b", "c"]),
    ("($x := a; $x)", ["a"]),
    ("(a).b", ["a"]),
    ("$string(a)", ["a"]),
    ("$map($states.input.a, function($x){ b })", ["b"]),
    ("$states.input ~> $f(z)", ["z"]),
])
def test_top_level_references_are_refused(expression, names):
    definition = pass_output({"v": "{% " + expression + " %}"})
    found = validate(definition)
    assert [(d.code, d.severity, d.location) for d in found] == [
        (UNSUPPORTED_JSONATA_EXPRESSION, ERROR, "/States/E/Output/v")] * len(names)
    for diagnostic, name in zip(found, names):
        aws = ("Reference to '$$' is not supported." if name == "$$"
               else f"Reference to '{name}' at the top level is not supported.")
        assert diagnostic.message.startswith(aws)
    with pytest.raises(ValidationError):
        asl.StateMachine(definition)


@pytest.mark.parametrize("expression", [
    "$states.input.phone", "$states.input.phone[0]", "$states.input.items[phone > 3]",
    "$map($states.input.a, function($x){ $x.phone })", "$phone", "$states.context.Execution.Id",
    "$states.input^(x)", "$states.input{k: v}", "$sum($states.input.xs)", "'phone'", "1 + 2",
    "$states.input.a.(b + c)", "$states.input ~> |$|{'a': 1}|", "($x := 1; $x + 1)",
])
def test_anchored_expressions_are_accepted(expression):
    assert diagnostics(pass_output({"v": "{% " + expression + " %}"})) == []


@pytest.mark.parametrize("definition, location", [
    (jsonata({"E": {"Type": "Pass", "Assign": {"v": "{% phone %}"}, "End": True}}),
     "/States/E/Assign/v"),
    (pass_output({"a": {"b": ["{% phone %}"]}}), "/States/E/Output/a/b/0"),
    (jsonata({"C": {"Type": "Choice", "Choices": [{"Condition": "{% phone = 1 %}", "Next": "E"}],
                    "Default": "E"}, "E": {"Type": "Pass", "End": True}}),
     "/States/C/Choices/0/Condition"),
    (jsonata({"E": {"Type": "Wait", "Seconds": "{% phone %}", "End": True}}), "/States/E/Seconds"),
    (jsonata({"E": {"Type": "Fail", "Cause": "{% phone %}"}}), "/States/E/Cause"),
    (jsonata({"M": {"Type": "Map", "Items": "{% phone %}", "End": True,
                    "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}}}),
     "/States/M/Items"),
    (jsonata({"M": {"Type": "Map", "Items": "{% $states.input.a %}", "End": True,
                    "ItemProcessor": {"StartAt": "I", "States": {"I": {
                        "Type": "Pass", "Output": {"v": "{% phone %}"}, "End": True}}}}}),
     "/States/M/ItemProcessor/States/I/Output/v"),
    (jsonata({"P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "B", "States": {
        "B": {"Type": "Pass", "Output": {"v": "{% phone %}"}, "End": True}}}]}}),
     "/States/P/Branches/0/States/B/Output/v"),
    (jsonata({"E": {"Type": "Task", "Resource": LAMBDA, "End": True,
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Output": {"v": "{% phone %}"},
                               "Next": "F"}]},
              "F": {"Type": "Pass", "End": True}}),
     "/States/E/Catch/0/Output/v"),
    (jsonata({"E": {"Type": "Task", "Resource": LAMBDA, "End": True,
                    "Arguments": {"Payload": {"Comment": "{% phone %}"}}}}),
     "/States/E/Arguments/Payload/Comment"),
])
def test_every_jsonata_field_is_checked_and_located(definition, location):
    assert diagnostics(definition) == [(UNSUPPORTED_JSONATA_EXPRESSION, ERROR, location)]


def test_an_earlier_assign_does_not_make_the_bare_name_legal():
    states = {"A": {"Type": "Pass", "Assign": {"phone": "{% 1 %}"}, "Next": "E"},
              "E": {"Type": "Pass", "Output": {"v": "{% phone %}"}, "End": True}}
    assert diagnostics(jsonata(states, "A")) == [
        (UNSUPPORTED_JSONATA_EXPRESSION, ERROR, "/States/E/Output/v")]
    states["E"]["Output"]["v"] = "{% $phone %}"
    definition = jsonata(states, "A")
    assert diagnostics(definition) == []
    assert asl.StateMachine(definition).execute({}).output == {"v": 1}


@pytest.mark.parametrize("definition", [
    jsonpath({"E": {"Type": "Pass", "Parameters": {"v": "{% phone %}"}, "End": True}}),
    jsonata({"E": {"Type": "Pass", "Comment": "{% phone %}", "End": True}}),
    jsonata({"E": {"Type": "Task", "Resource": LAMBDA, "End": True,
                   "Retry": [{"ErrorEquals": ["{% phone %}"]}]}}),
    jsonata({"M": {"Type": "Map", "End": True, "ItemProcessor": PROCESSOR, "ItemReader": {
        "Resource": "arn:aws:states:::s3:getObject", "Arguments": {"Bucket": "b", "Key": "k"},
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                         "CSVHeaders": ["{% phone %}"]}}}}),
    pass_output({"v": " {% phone %}"}),  # not an expression at all
], ids=["JSONPath state", "Comment", "ErrorEquals", "CSVHeaders", "literal"])
def test_strings_aws_does_not_evaluate_are_not_checked(definition):
    assert diagnostics(definition) == []


def test_a_syntax_error_is_reported_instead_of_references():
    assert diagnostics(pass_output({"v": "{% phone[1,2) %}"})) == [
        (INVALID_JSONATA_EXPRESSION, ERROR, "/States/E/Output/v")]


# -- 3e. A Task's Resource is an ARN ------------------------------------------------------------

def task_machine(resource, **fields):
    return jsonpath({"T": {"Type": "Task", "Resource": resource, "End": True, **fields}})


NOT_ARNS = [
    "charge", "ProcessOrderFunction", "saga-charge", "", " ", "arn:", "arn:aws", "arn:aws:lambda",
    "arn:aws:lambda:us-east-1", "arn:aws:lambda:us-east-1:123456789012",
    "arn:aws:lambda:us-east-1:123456789012:", "lambda:invoke", "states:::lambda:invoke",
    "ARN:aws:states:::lambda:invoke", " arn:aws:states:::lambda:invoke",
    "arn:aws:states:::lambda:invoke ", "arn:<PARTITION>:states:::lambda:invoke",
    "arn:azure:states:::lambda:invoke", "arn:aws::::x", "arn:aws:Lambda:::x",
    "arn:aws:lambda:us-east-1:123456789012:function:my function",
    "{% 'arn:aws:lambda:us-east-1:123456789012:function:' & $states.input.f %}",
    "$.resource", "https://example.com/charge",
]
ARNS = [
    LAMBDA, LAMBDA + ":prod", LAMBDA + ":7", "arn:aws:states:::lambda:invoke",
    "arn:aws:states:::lambda:invoke.waitForTaskToken", "arn:aws:states:::states:startExecution.sync:2",
    "arn:aws:states:::aws-sdk:s3:listBuckets", "arn:aws:states:::dynamodb:putItem",
    "arn:aws:states:::http:invoke", "arn:aws:states:us-east-1:123456789012:activity:review",
    "arn:aws-cn:lambda:cn-north-1:123456789012:function:work",
    "arn:aws-us-gov:states:::sqs:sendMessage.waitForTaskToken",
    "arn:aws-iso-b:states:::sns:publish", "arn:aws-eusc:states:::ecs:runTask.sync",
]
PLACEHOLDERS = ["${ChargeFunctionArn}", "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:charge"]


@pytest.mark.parametrize("resource", NOT_ARNS)
def test_a_task_resource_that_is_not_an_arn_is_refused(resource):
    found = validate(task_machine(resource))
    assert [(d.code, d.severity, d.location) for d in found] == [
        (SCHEMA_VALIDATION_FAILED, ERROR, "/States/T/Resource")]
    assert found[0].message.startswith("Value is not a valid resource ARN")


@pytest.mark.parametrize("resource", ARNS + PLACEHOLDERS)
def test_a_task_resource_that_is_an_arn_is_accepted(resource):
    assert diagnostics(task_machine(resource)) == []


def test_a_bare_word_is_refused_in_every_scope_and_language():
    task = {"Type": "Task", "Resource": "charge", "End": True}
    definition = jsonata({
        "P": {"Type": "Parallel", "Next": "M", "Branches": [{"StartAt": "B", "States": {"B": task}}]},
        "M": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "I", "States": {"I": task}}}})
    assert diagnostics(definition) == [
        (SCHEMA_VALIDATION_FAILED, ERROR, "/States/P/Branches/0/States/B/Resource"),
        (SCHEMA_VALIDATION_FAILED, ERROR, "/States/M/ItemProcessor/States/I/Resource")]


def test_the_message_says_which_arn_to_write():
    [found] = validate(task_machine("charge"))
    assert found.message == (
        "Value is not a valid resource ARN: 'charge'. A Task's Resource is an ARN: for a Lambda "
        "function, 'arn:aws:lambda:us-east-1:123456789012:function:charge' (a resources mapping "
        "may still key it by 'charge')")
    [found] = validate(task_machine("not a name"))
    assert "'arn:aws:lambda:<region>:<account>:function:<name>'" in found.message


def test_a_resource_of_the_wrong_type_is_reported_once():
    assert diagnostics(task_machine(42)) == [(SCHEMA_VALIDATION_FAILED, ERROR, "/States/T/Resource")]


def test_state_machine_refuses_a_bare_word():
    with pytest.raises(ValidationError) as raised:
        asl.StateMachine(task_machine("charge"))
    assert [(d.code, d.location) for d in raised.value.diagnostics] == [
        (SCHEMA_VALIDATION_FAILED, "/States/T/Resource")]
    assert "Value is not a valid resource ARN: 'charge'" in str(raised.value)


def test_test_state_refuses_a_bare_word():
    with pytest.raises(ValidationError) as raised:
        asl.test_state({"Type": "Task", "Resource": "charge", "End": True}, {},
                       resources={"charge": lambda payload: payload})
    assert [d.code for d in raised.value.diagnostics] == [SCHEMA_VALIDATION_FAILED]


def test_asl_validate_refuses_a_bare_word(tmp_path):
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(task_machine("charge")), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("ERROR SCHEMA_VALIDATION_FAILED /States/T/Resource: "
                               "Value is not a valid resource ARN: 'charge'.")
    assert lines[-1] == f"{path}: 1 error"


def test_asl_run_refuses_a_bare_word_before_calling_anything(tmp_path):
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(task_machine("charge")), encoding="utf-8")
    handlers = tmp_path / "handlers.py"
    handlers.write_text("RESOURCES = {'charge': lambda payload: 1 / 0}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "--resources", str(handlers)])
    assert result.exit_code == 2
    assert "Value is not a valid resource ARN" in result.output


@pytest.mark.parametrize("resource, key", [
    ("arn:aws:lambda:us-east-1:123456789012:function:charge", "charge"),
    ("arn:aws:lambda:eu-west-1:999999999999:function:charge:prod", "charge"),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:charge", "charge"),
    ("arn:aws:states:us-east-1:123456789012:activity:charge", "charge"),
    ("arn:aws:lambda:us-east-1:123456789012:function:charge",
     "arn:aws:lambda:us-east-1:123456789012:function:charge"),
])
def test_the_short_resources_key_still_answers_the_arn(resource, key):
    result = asl.StateMachine(task_machine(resource)).execute(
        {"amount": 5}, resources={key: lambda order: {"charged": order["amount"]}})
    assert (result.status, result.output) == ("SUCCEEDED", {"charged": 5})


def test_the_short_key_answers_lambda_invoke_by_function_name():
    definition = task_machine("arn:aws:states:::lambda:invoke",
                              Parameters={"FunctionName": "charge", "Payload.$": "$"})
    result = asl.StateMachine(definition).execute({"amount": 5}, resources={"charge": lambda o: 7})
    assert (result.status, result.output["Payload"]) == ("SUCCEEDED", 7)


def test_every_valid_corpus_definition_passes_the_whole_validator():
    for path in sorted((Path(__file__).parent / "valid").glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        assert [str(d) for d in validate(definition) if d.severity == ERROR] == [], path.name
