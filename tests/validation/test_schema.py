"""The schema pass: ASL's structural rules, reported as AWS's SCHEMA_VALIDATION_FAILED diagnostics."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from asl.validation.diagnostics import ERROR, SCHEMA_VALIDATION_FAILED, Diagnostic
from asl.validation.schema import SCHEMA_PATH, schema_diagnostics

VALID = sorted((Path(__file__).parent / "valid").glob("*.json"))
PUBLISHED_SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PUBLISHED = Draft202012Validator(PUBLISHED_SCHEMA)
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
# Wording that would mean a raw jsonschema message leaked through.
RAW_WORDING = ("valid under", "is not of type", "Additional properties", "is a required property",
               "is not valid here", "should be non-empty", "is too long", "does not match")


def machine(state, **top):
    return {"StartAt": "S", "States": {"S": state}, **top}


def task(**fields):
    return {"Type": "Task", "Resource": LAMBDA, "End": True, **fields}


def pass_state(**fields):
    return {"Type": "Pass", "End": True, **fields}


def choice(*rules, **fields):
    return {"Type": "Choice", "Choices": list(rules), "Default": "S", **fields}


def rule(**fields):
    return {"Variable": "$.x", "Next": "S", **fields}


def nested(**fields):
    return {"Variable": "$.x", **fields}


def parallel(*branches, **fields):
    return {"Type": "Parallel", "Branches": list(branches), "End": True, **fields}


def branch(state=None, **fields):
    return {"StartAt": "Inner", "States": {"Inner": state or pass_state()}, **fields}


def map_state(**fields):
    return {"Type": "Map", "ItemProcessor": branch(), "End": True, **fields}


def distributed(**fields):
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **branch()}
    return {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}


def jsonata(state):
    return machine(state, QueryLanguage="JSONata")


def assert_clean(diagnostics):
    for diagnostic in diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert (diagnostic.code, diagnostic.severity) == (SCHEMA_VALIDATION_FAILED, ERROR)
        assert diagnostic.location == "" or diagnostic.location.startswith("/")
        assert not any(raw in diagnostic.message for raw in RAW_WORDING), diagnostic.message


# ---------------------------------------------------------------------------------------
# Valid definitions: no diagnostic, from this pass or from the published schema alone.

def test_the_valid_corpus_is_large_enough():
    assert len(VALID) >= 25


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.stem)
def test_valid_definition_has_no_schema_diagnostic(path):
    definition = json.loads(path.read_text(encoding="utf-8"))
    assert schema_diagnostics(definition) == []
    assert list(PUBLISHED.iter_errors(definition)) == []


def nested_machine(depth, leaf):
    """Parallel and Map states alternating ``depth`` levels deep around ``leaf``; and its location."""
    definition, location = {"StartAt": "Leaf", "States": {"Leaf": leaf}}, "/States/Leaf"
    for level in range(depth):
        if level % 2:
            state, inside = parallel(definition), "Branches/0"
        else:
            state, inside = map_state(ItemProcessor=definition), "ItemProcessor"
        definition = {"StartAt": f"Level{level}", "States": {f"Level{level}": state}}
        location = f"/States/Level{level}/{inside}{location}"
    return definition, location


def test_parallel_and_map_nested_fifty_deep_are_valid():
    definition, _ = nested_machine(50, pass_state())
    assert schema_diagnostics(definition) == []


def test_a_mistake_fifty_levels_deep_is_located():
    definition, location = nested_machine(50, pass_state(Resultpath="$.typo"))
    [diagnostic] = schema_diagnostics(definition)
    assert diagnostic.location == f"{location}/Resultpath"
    assert "Field 'Resultpath' is not supported by a Pass state" in diagnostic.message


# ---------------------------------------------------------------------------------------
# One structural mistake each: (definition, location, part of the message, diagnostics).

LABEL = "L" * 41
NAME_81 = "N" * 81
INVALID = {
    # Unknown fields, at several depths.
    "unknown top-level field": (
        machine(pass_state(), Foo=1), "/Foo",
        "Field 'Foo' is not supported at the top level of a state machine; allowed fields: Comment, QueryLanguage, "
        "StartAt, States, TimeoutSeconds, Version"),
    "unknown Task field": (
        machine(task(Foo=1)), "/States/S/Foo",
        "Field 'Foo' is not supported by a Task state; allowed fields: Arguments, Assign, Catch, Comment, Credentials, End, "
        "HeartbeatSeconds, HeartbeatSecondsPath, InputPath, Next, Output, OutputPath, Parameters, QueryLanguage, Resource, "
        "ResultPath, ResultSelector, Retry, TimeoutSeconds, TimeoutSecondsPath, Type"),
    "unknown Retrier field": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "Delay": 3}])), "/States/S/Retry/0/Delay",
        "Field 'Delay' is not supported by a Retrier; allowed fields: BackoffRate, Comment, ErrorEquals"),
    "unknown Catcher field": (
        machine(task(Catch=[{"ErrorEquals": ["X"], "Next": "S", "Then": "S"}])), "/States/S/Catch/0/Then",
        "Field 'Then' is not supported by a Catcher"),
    "unknown field in a nested Choice rule": (
        machine(choice({"And": [nested(StringEquals="a", Foo=1)], "Next": "S"})),
        "/States/S/Choices/0/And/0/Foo", "Field 'Foo' is not supported by a nested Choice rule"),
    "unknown ReaderConfig field": (
        machine(distributed(ItemReader={"Resource": "arn:aws:states:::s3:getObject", "Parameters": {},
                                        "ReaderConfig": {"Format": "CSV"}})),
        "/States/S/ItemReader/ReaderConfig/Format", "Field 'Format' is not supported by a ReaderConfig"),
    "unknown field of a state inside a branch": (
        machine(parallel(branch(pass_state(Foo=1)))), "/States/S/Branches/0/States/Inner/Foo",
        "Field 'Foo' is not supported by a Pass state"),
    "unknown Branch field": (
        machine(parallel(branch(Name="b"))), "/States/S/Branches/0/Name", "Field 'Name' is not supported by a Parallel branch"),
    "QueryLanguage on an ItemProcessor": (
        machine(map_state(ItemProcessor=branch(QueryLanguage="JSONata"))), "/States/S/ItemProcessor/QueryLanguage",
        "Field 'QueryLanguage' is not supported by an ItemProcessor"),
    "Retry on a Pass state": (
        machine(pass_state(Retry=[])), "/States/S/Retry", "Field 'Retry' is not supported by a Pass state"),
    "Catch on a Wait state": (
        machine({"Type": "Wait", "Seconds": 1, "End": True, "Catch": []}), "/States/S/Catch",
        "Field 'Catch' is not supported by a Wait state"),
    "TimeoutSeconds on a Parallel state": (
        machine(parallel(branch(), TimeoutSeconds=5)), "/States/S/TimeoutSeconds",
        "Field 'TimeoutSeconds' is not supported by a Parallel state"),
    "Next on a Succeed state": (
        machine({"Type": "Succeed", "Next": "S"}), "/States/S/Next", "Field 'Next' is not supported by a Succeed state"),
    "End on a Fail state": (
        machine({"Type": "Fail", "End": True}), "/States/S/End", "Field 'End' is not supported by a Fail state"),
    "End on a Choice state": (
        machine(choice(rule(IsPresent=True), End=True)), "/States/S/End", "Field 'End' is not supported by a Choice state"),
    "Next on a Choice state": (
        machine(choice(rule(IsPresent=True), Next="S")), "/States/S/Next", "Field 'Next' is not supported by a Choice state"),
    # Missing fields.
    "missing StartAt": (
        {"States": {"S": pass_state()}}, "", "The field 'StartAt' is required but was missing"),
    "missing States": (
        {"StartAt": "S"}, "", "The field 'States' is required but was missing"),
    "missing Type": (
        machine({"End": True}), "/States/S", "The field 'Type' is required but was missing"),
    "missing Resource": (
        machine({"Type": "Task", "End": True}), "/States/S", "The field 'Resource' is required but was missing"),
    "missing Choices": (
        machine({"Type": "Choice"}), "/States/S", "The field 'Choices' is required but was missing"),
    "missing Branches": (
        machine({"Type": "Parallel", "End": True}), "/States/S", "The field 'Branches' is required but was missing"),
    "branch without StartAt": (
        machine(parallel({"States": {"Inner": pass_state()}})), "/States/S/Branches/0",
        "The field 'StartAt' is required but was missing"),
    "catcher without Next": (
        machine(task(Catch=[{"ErrorEquals": ["States.ALL"]}])), "/States/S/Catch/0",
        "The field 'Next' is required but was missing"),
    "retrier without ErrorEquals": (
        machine(task(Retry=[{"MaxAttempts": 1}])), "/States/S/Retry/0", "The field 'ErrorEquals' is required but was missing"),
    "ItemReader without Resource": (
        machine(distributed(ItemReader={"Parameters": {}})), "/States/S/ItemReader",
        "The field 'Resource' is required but was missing"),
    "distributed Map without ExecutionType": (
        machine(map_state(ItemProcessor={"ProcessorConfig": {"Mode": "DISTRIBUTED"}, **branch()})),
        "/States/S/ItemProcessor/ProcessorConfig", "The field 'ExecutionType' is required but was missing"),
    "Credentials without RoleArn": (
        machine(task(Credentials={})), "/States/S/Credentials", "The field 'RoleArn' or 'RoleArn.$' is required"),
    # Types and values.
    "unknown Type": (
        machine({"Type": "Lambda", "End": True}), "/States/S/Type",
        "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"),
    "Type that is not a string": (
        machine({"Type": ["Task"], "End": True}), "/States/S/Type", "The field 'Type' should have one of these values: [Task,"),
    "States that is not an object": (
        {"StartAt": "S", "States": [pass_state()]}, "/States", "The field 'States' should be an object"),
    "state that is not an object": (
        machine("Pass"), "/States/S", "The state 'S' should be an object"),
    "StartAt that is not a string": (
        {"StartAt": 1, "States": {"S": pass_state()}}, "/StartAt", "The field 'StartAt' should be a string"),
    "Comment that is not a string": (
        machine(pass_state(Comment=["a"])), "/States/S/Comment", "The field 'Comment' should be a string"),
    "InputPath that is a number": (
        machine(pass_state(InputPath=5)), "/States/S/InputPath", "The field 'InputPath' should be a string or null"),
    "Parameters that is a string": (
        machine(task(Parameters="$.x")), "/States/S/Parameters", "The field 'Parameters' should be an object"),
    "Assign that is a list": (
        machine(pass_state(Assign=[1])), "/States/S/Assign", "The field 'Assign' should be an object"),
    "ReaderConfig that is a string": (
        machine(distributed(ItemReader={"Resource": "arn:aws:states:::s3:getObject", "Parameters": {},
                                        "ReaderConfig": "CSV"})),
        "/States/S/ItemReader/ReaderConfig", "The field 'ReaderConfig' should be an object"),
    "ItemBatcher that is a list": (
        machine(distributed(ItemBatcher=[{"MaxItemsPerBatch": 5}])), "/States/S/ItemBatcher",
        "The field 'ItemBatcher' should be an object"),
    "Credentials that is a string": (
        machine(task(Credentials="arn:aws:iam::1:role/r")), "/States/S/Credentials",
        "The field 'Credentials' should be an object"),
    "Resource that is an object": (
        machine(task(Resource={"arn": LAMBDA})), "/States/S/Resource", "The field 'Resource' should be a string"),
    "ErrorEquals that is a string": (
        machine(task(Retry=[{"ErrorEquals": "States.ALL"}])), "/States/S/Retry/0/ErrorEquals",
        "The field 'ErrorEquals' should be an array"),
    "error name that is not a string": (
        machine(task(Catch=[{"ErrorEquals": ["A", 7], "Next": "S"}])), "/States/S/Catch/0/ErrorEquals/1",
        "The field 'ErrorEquals[1]' should be a string"),
    "End that is false": (
        machine(pass_state(End=False)), "/States/S/End", "The field 'End' should be true"),
    "unknown top-level QueryLanguage": (
        machine(pass_state(), QueryLanguage="JSONPATH"), "/QueryLanguage",
        "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]"),
    "unknown JitterStrategy": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "JitterStrategy": "PARTIAL"}])), "/States/S/Retry/0/JitterStrategy",
        "should have one of these values: [FULL, NONE]"),
    "unknown processor Mode": (
        machine(map_state(ItemProcessor={"ProcessorConfig": {"Mode": "PARALLEL"}, **branch()})),
        "/States/S/ItemProcessor/ProcessorConfig/Mode", "should have one of these values: [INLINE, DISTRIBUTED]"),
    "unknown InputType": (
        machine(distributed(ItemReader={"Resource": "arn:aws:states:::s3:getObject", "Parameters": {},
                                        "ReaderConfig": {"InputType": "XML"}})),
        "/States/S/ItemReader/ReaderConfig/InputType", "[CSV, JSON, JSONL, PARQUET, MANIFEST]"),
    "state name over 80 characters": (
        {"StartAt": NAME_81, "States": {NAME_81: pass_state()}}, f"/States/{NAME_81}",
        "is 81 characters long; names have at most 80 characters"),
    # Numeric ranges.
    "BackoffRate below 1": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "BackoffRate": 0.5}])), "/States/S/Retry/0/BackoffRate",
        "The field 'BackoffRate' should be at least 1, but was 0.5"),
    "IntervalSeconds 0": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "IntervalSeconds": 0}])), "/States/S/Retry/0/IntervalSeconds",
        "should be at least 1, but was 0"),
    "IntervalSeconds not an integer": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "IntervalSeconds": 1.5}])), "/States/S/Retry/0/IntervalSeconds",
        "should be an integer"),
    "MaxAttempts negative": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "MaxAttempts": -1}])), "/States/S/Retry/0/MaxAttempts",
        "should be at least 0, but was -1"),
    "MaxAttempts too large": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "MaxAttempts": 100000000}])), "/States/S/Retry/0/MaxAttempts",
        "should be at most 99999999"),
    "MaxDelaySeconds too large": (
        machine(task(Retry=[{"ErrorEquals": ["X"], "MaxDelaySeconds": 31622401}])), "/States/S/Retry/0/MaxDelaySeconds",
        "should be at most 31622400, but was 31622401"),
    "TimeoutSeconds 0": (
        machine(task(TimeoutSeconds=0)), "/States/S/TimeoutSeconds", "should be at least 1, but was 0"),
    "HeartbeatSeconds as a string": (
        machine(task(HeartbeatSeconds="60")), "/States/S/HeartbeatSeconds",
        "The field 'HeartbeatSeconds' should be an integer from 1 to 99999999"),
    "top-level TimeoutSeconds negative": (
        machine(pass_state(), TimeoutSeconds=-5), "/TimeoutSeconds", "should be at least 1, but was -5"),
    "Wait Seconds negative": (
        machine({"Type": "Wait", "Seconds": -1, "End": True}), "/States/S/Seconds", "should be at least 0, but was -1"),
    "Wait Seconds fractional": (
        machine({"Type": "Wait", "Seconds": 1.5, "End": True}), "/States/S/Seconds",
        "The field 'Seconds' should be an integer of at least 0"),
    "ToleratedFailurePercentage over 100": (
        machine(distributed(ToleratedFailurePercentage=100.5)), "/States/S/ToleratedFailurePercentage",
        "should be at most 100, but was 100.5"),
    "ToleratedFailureCount negative": (
        machine(distributed(ToleratedFailureCount=-1)), "/States/S/ToleratedFailureCount", "should be at least 0"),
    "MaxConcurrency negative": (
        machine(map_state(MaxConcurrency=-2)), "/States/S/MaxConcurrency", "should be at least 0, but was -2"),
    "Label over 40 characters": (
        machine(distributed(Label=LABEL)), "/States/S/Label", "The field 'Label' should be at most 40 characters long"),
    "MaxInputBytesPerBatch over 256 KiB": (
        machine(distributed(ItemBatcher={"MaxInputBytesPerBatch": 262145})), "/States/S/ItemBatcher/MaxInputBytesPerBatch",
        "should be at most 262144"),
    "MaxItems -1": (     # 0 is accepted and means no limit [AWS, recorded]
        machine(distributed(ItemReader={"Resource": "arn:aws:states:::s3:getObject", "Parameters": {},
                                        "ReaderConfig": {"MaxItems": -1}})),
        "/States/S/ItemReader/ReaderConfig/MaxItems", "should be at least 0"),
    # Non-empty arrays.
    "empty Branches": (
        machine(parallel()), "/States/S/Branches", "The field 'Branches' cannot be empty"),
    "empty Choices": (
        machine(choice()), "/States/S/Choices", "The field 'Choices' cannot be empty"),
    "empty ErrorEquals": (
        machine(task(Retry=[{"ErrorEquals": []}])), "/States/S/Retry/0/ErrorEquals", "The field 'ErrorEquals' cannot be empty"),
    "empty And": (
        machine(choice({"And": [], "Next": "S"})), "/States/S/Choices/0/And", "The field 'And' cannot be empty"),
    # Next / End.
    "Next and End together": (
        machine(pass_state(Next="S")), "/States/S", "The fields 'Next' and 'End' cannot be used together"),
    "neither Next nor End": (
        machine({"Type": "Task", "Resource": LAMBDA}), "/States/S", "The field 'Next' or 'End' is required"),
    "neither Next nor End on a Map": (
        machine({"Type": "Map", "ItemProcessor": branch()}), "/States/S", "The field 'Next' or 'End' is required"),
    # X versus XPath, and other exclusive forms.
    "Wait with Seconds and SecondsPath": (
        machine({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}), "/States/S",
        "The fields 'Seconds' and 'SecondsPath' cannot be used together"),
    "Wait with Timestamp and TimestampPath": (
        machine({"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "TimestampPath": "$.t", "End": True}), "/States/S",
        "The fields 'Timestamp' and 'TimestampPath' cannot be used together"),
    "Wait without a form": (
        machine({"Type": "Wait", "End": True}), "/States/S",
        "One of the fields 'Seconds', 'Timestamp', 'SecondsPath' or 'TimestampPath' is required"),
    "Fail with Error and ErrorPath": (
        machine({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}), "/States/S",
        "The fields 'Error' and 'ErrorPath' cannot be used together"),
    "Fail with Cause and CausePath": (
        machine({"Type": "Fail", "Cause": "C", "CausePath": "$.c"}), "/States/S",
        "The fields 'Cause' and 'CausePath' cannot be used together"),
    "TimeoutSeconds and TimeoutSecondsPath": (
        machine(task(TimeoutSeconds=5, TimeoutSecondsPath="$.t")), "/States/S",
        "The fields 'TimeoutSeconds' and 'TimeoutSecondsPath' cannot be used together"),
    "HeartbeatSeconds and HeartbeatSecondsPath": (
        machine(task(HeartbeatSeconds=5, HeartbeatSecondsPath="$.h")), "/States/S",
        "The fields 'HeartbeatSeconds' and 'HeartbeatSecondsPath' cannot be used together"),
    "MaxConcurrency and MaxConcurrencyPath": (
        machine(map_state(MaxConcurrency=1, MaxConcurrencyPath="$.m")), "/States/S",
        "The fields 'MaxConcurrency' and 'MaxConcurrencyPath' cannot be used together"),
    "ToleratedFailurePercentage and its Path": (
        machine(distributed(ToleratedFailurePercentage=1, ToleratedFailurePercentagePath="$.p")), "/States/S",
        "The fields 'ToleratedFailurePercentage' and 'ToleratedFailurePercentagePath' cannot be used together"),
    "MaxItemsPerBatch and its Path": (
        machine(distributed(ItemBatcher={"MaxItemsPerBatch": 1, "MaxItemsPerBatchPath": "$.b"})), "/States/S/ItemBatcher",
        "The fields 'MaxItemsPerBatch' and 'MaxItemsPerBatchPath' cannot be used together"),
    "MaxItems and MaxItemsPath": (
        machine(distributed(ItemReader={"Resource": "arn:aws:states:::s3:getObject", "Parameters": {},
                                        "ReaderConfig": {"MaxItems": 1, "MaxItemsPath": "$.m"}})),
        "/States/S/ItemReader/ReaderConfig", "The fields 'MaxItems' and 'MaxItemsPath' cannot be used together"),
    "Map with ItemSelector and Parameters": (
        machine(map_state(ItemSelector={}, Parameters={})), "/States/S",
        "The fields 'ItemSelector' and 'Parameters' cannot be used together"),
    "Map with ItemProcessor and Iterator": (
        machine(map_state(Iterator=branch())), "/States/S",
        "The fields 'ItemProcessor' and 'Iterator' cannot be used together"),
    "Map without ItemProcessor": (
        machine({"Type": "Map", "End": True}), "/States/S", "The field 'ItemProcessor' or 'Iterator' is required"),
    "ItemBatcher without a limit": (
        machine(distributed(ItemBatcher={"BatchInput": {}})), "/States/S/ItemBatcher",
        "At least one of the fields 'MaxItemsPerBatch', 'MaxItemsPerBatchPath', 'MaxInputBytesPerBatch' or "
        "'MaxInputBytesPerBatchPath' is required"),
    "empty ResultWriter": (
        machine(distributed(ResultWriter={})), "/States/S/ResultWriter", "The field 'Resource' or 'WriterConfig' is required"),
    "ResultWriter without a bucket": (
        machine(distributed(ResultWriter={"Resource": "arn:aws:states:::s3:putObject"})), "/States/S/ResultWriter",
        "The field 'Parameters' or 'Arguments' is required"),
    # Choice rule shape.
    "rule with two comparison operators": (
        machine(choice(rule(StringEquals="a", NumericEquals=1))), "/States/S/Choices/0",
        "The fields 'StringEquals' and 'NumericEquals' cannot be used together"),
    "rule with Variable but no operator": (
        machine(choice(rule())), "/States/S/Choices/0", "One of the fields 'StringEquals', 'StringEqualsPath', "),
    "rule with nothing to test": (
        machine(choice({"Next": "S"})), "/States/S/Choices/0",
        "One of the fields 'And', 'Or', 'Not', 'Variable' or 'Condition' is required"),
    "operator without Variable": (
        machine(choice({"StringEquals": "a", "Next": "S"})), "/States/S/Choices/0",
        "The field 'Variable' is required by 'StringEquals' but was missing"),
    "rule mixing And and a data test": (
        machine(choice({"And": [nested(IsPresent=True)], "Variable": "$.x", "IsNull": True, "Next": "S"})),
        "/States/S/Choices/0", "The fields 'And' and 'Variable' cannot be used together"),
    "top-level rule without Next": (
        machine(choice({"Variable": "$.x", "IsPresent": True})), "/States/S/Choices/0",
        "The field 'Next' is required but was missing"),
    "nested rule with Next": (
        machine(choice({"And": [rule(IsPresent=True)], "Next": "S"})), "/States/S/Choices/0/And/0/Next",
        "Field 'Next' is not supported by a nested Choice rule"),
    "rule under Not with Next": (
        machine(choice({"Not": rule(IsPresent=True), "Next": "S"})), "/States/S/Choices/0/Not/Next",
        "Field 'Next' is not supported by a nested Choice rule"),
    "nested rule with Assign": (
        machine(choice({"Or": [nested(IsPresent=True, Assign={})], "Next": "S"})),
        "/States/S/Choices/0/Or/0/Assign", "Field 'Assign' is not supported by a nested Choice rule"),
    "numeric operator with a string": (
        machine(choice(rule(NumericEquals="3"))), "/States/S/Choices/0/NumericEquals",
        "The field 'NumericEquals' should be a number"),
    "type test with a string": (
        machine(choice(rule(IsNull="yes"))), "/States/S/Choices/0/IsNull", "The field 'IsNull' should be a boolean"),
    "Not holding a list": (
        machine(choice({"Not": [nested(IsPresent=True)], "Next": "S"})), "/States/S/Choices/0/Not",
        "The field 'Not' should be an object"),
    "Default that is not a string": (
        machine(choice(rule(IsPresent=True), Default=3)), "/States/S/Default", "The field 'Default' should be a string"),
    # JSONata forms.
    "JSONata TimeoutSeconds that is not an expression": (
        jsonata(task(TimeoutSeconds="soon")), "/States/S/TimeoutSeconds",
        "The field 'TimeoutSeconds' should be an integer from 1 to 99999999 or a JSONata expression ('{% ... %}')"),
    "JSONata Items that is a string": (
        jsonata(map_state(Items="$.list")), "/States/S/Items", "The field 'Items' should be an array or a JSONata expression"),
    "JSONata Condition that is a string": (
        jsonata(choice({"Condition": "yes", "Next": "S"})), "/States/S/Choices/0/Condition",
        "The field 'Condition' should be a boolean or a JSONata expression"),
    "JSONata Seconds with a badly closed expression": (
        jsonata({"Type": "Wait", "Seconds": "{% 5 }", "End": True}), "/States/S/Seconds",
        "The field 'Seconds' should be an integer of at least 0 or a JSONata expression"),
    "JSONata Arguments that is a list": (
        jsonata(task(Arguments=[1])), "/States/S/Arguments",
        "The field 'Arguments' should be an object or a JSONata expression"),
    "JSONata ToleratedFailurePercentage out of range": (
        jsonata(distributed(ToleratedFailurePercentage=-1)), "/States/S/ToleratedFailurePercentage",
        "should be at least 0, but was -1"),
}

# A '{% ... %}' expression in a JSONPath state: the published schema cannot know the
# state's language, so only this pass rejects it.
JSONPATH_ONLY = {
    "expression as TimeoutSeconds in a JSONPath state": (
        machine(task(TimeoutSeconds="{% 5 %}")), "/States/S/TimeoutSeconds",
        "The field 'TimeoutSeconds' should be an integer from 1 to 99999999"),
    "expression as MaxConcurrency in a JSONPath state of a JSONata machine": (
        {"QueryLanguage": "JSONata", "StartAt": "S",
         "States": {"S": map_state(QueryLanguage="JSONPath", MaxConcurrency="{% 2 %}")}},
        "/States/S/MaxConcurrency", "The field 'MaxConcurrency' should be an integer of at least 0"),
    "expression as ItemSelector in a JSONPath state": (
        machine(map_state(ItemSelector="{% $states.input %}")), "/States/S/ItemSelector",
        "The field 'ItemSelector' should be an object"),
}


@pytest.mark.parametrize("definition, location, message", INVALID.values(), ids=INVALID.keys())
def test_one_structural_mistake_gives_one_diagnostic(definition, location, message):
    diagnostics = schema_diagnostics(definition)
    assert_clean(diagnostics)
    assert [(d.location, message in d.message) for d in diagnostics] == [(location, True)], diagnostics
    assert not PUBLISHED.is_valid(definition)


@pytest.mark.parametrize("definition, location, message", JSONPATH_ONLY.values(), ids=JSONPATH_ONLY.keys())
def test_jsonata_expression_cannot_replace_a_value_in_a_jsonpath_state(definition, location, message):
    diagnostics = schema_diagnostics(definition)
    assert_clean(diagnostics)
    assert [(d.location, message in d.message) for d in diagnostics] == [(location, True)], diagnostics


def test_every_mistake_is_reported_at_once():
    definition = {
        "StartAt": "A", "Comment": 7, "Extra": True,
        "States": {
            "A": {"Type": "Task", "Resource": LAMBDA, "Next": "B", "End": True,
                  "Retry": [{"ErrorEquals": [], "BackoffRate": 0.5}]},
            "B": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "C"}]},
            "C": {"Type": "Wait", "Seconds": 5, "Timestamp": "2016-03-14T01:59:00Z", "End": True},
            "D": {"Type": "Parallel", "Branches": [], "End": True},
            "E": {"Type": "Step"},
            "F": {"Type": "Map", "End": True,
                  "ItemProcessor": {"StartAt": "G", "States": {"G": {"Type": "Fail", "Error": "X", "ErrorPath": "$.e"}}}},
        }}
    diagnostics = schema_diagnostics(definition)
    assert_clean(diagnostics)
    assert sorted(d.location for d in diagnostics) == sorted([
        "/Comment", "/Extra", "/States/E/Type",
        "/States/A", "/States/A/Retry/0/ErrorEquals", "/States/A/Retry/0/BackoffRate",
        "/States/B/Choices/0", "/States/C", "/States/D/Branches", "/States/F/ItemProcessor/States/G"])


@pytest.mark.parametrize("definition", [[], [{"StartAt": "S"}], "definition", "", 0, 12.5, True, None],
                         ids=repr)
def test_a_definition_that_is_not_an_object_gets_a_diagnostic(definition):
    assert schema_diagnostics(definition) == [
        Diagnostic("", SCHEMA_VALIDATION_FAILED, "Definition must be a valid JSON object")]


def test_a_missing_schema_file_is_reported_clearly():
    script = ("import pathlib, asl.validation.schema as schema\n"
              "schema.SCHEMA_PATH = pathlib.Path('/nowhere/asl.schema.json')\n"
              "[found] = schema.schema_diagnostics({'StartAt': 'S', 'States': {}})\n"
              "print(found.location, found.code, found.message)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.startswith(" SCHEMA_VALIDATION_FAILED The ASL JSON Schema could not be read from "
                                    "/nowhere/asl.schema.json")


# ---------------------------------------------------------------------------------------
# Robustness and speed.

def test_deeply_nested_values_do_not_break_the_pass():
    parameters = innermost = {}
    for _ in range(5000):
        innermost["x"] = {}
        innermost = innermost["x"]
    [diagnostic] = schema_diagnostics(machine(task(Parameters=parameters, Typo=1)))
    assert diagnostic.location == "/States/S/Typo"


def test_a_choice_rule_nested_beyond_reason_gets_a_diagnostic_not_an_exception():
    negated = nested(IsPresent=True)
    for _ in range(100):
        negated = {"Not": negated}
    assert schema_diagnostics(machine(choice(dict(negated, Next="S")))) == []
    for _ in range(3000):
        negated = {"Not": negated}
    assert schema_diagnostics(machine(choice(dict(negated, Next="S")))) == [
        Diagnostic("/States/S", SCHEMA_VALIDATION_FAILED, "The definition is nested too deeply to be validated")]


def test_states_nested_a_thousand_deep_do_not_break_the_pass():
    definition, location = nested_machine(1000, pass_state(Unknown=1))
    [diagnostic] = schema_diagnostics(definition)
    assert diagnostic.location == f"{location}/Unknown"


def large_definition(count):
    """A chain of ``count`` Task, Choice, Map and Wait states."""
    states = {}
    for index in range(count):
        transition = {"Next": f"S{index + 1}"} if index < count - 1 else {"End": True}
        if index % 4 == 0:
            states[f"S{index}"] = {
                "Type": "Task", "Resource": LAMBDA, "Parameters": {"Payload.$": "$"}, "ResultPath": "$.r",
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": f"S{count - 1}"}], **transition}
        elif index % 4 == 1 and index < count - 1:
            states[f"S{index}"] = choice({"And": [nested(IsPresent=True), nested(NumericGreaterThan=3)],
                                          "Next": f"S{index + 1}"}, Default=f"S{index + 1}")
        elif index % 4 == 2:
            states[f"S{index}"] = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": branch(), **transition}
        else:
            states[f"S{index}"] = {"Type": "Wait", "Seconds": 1, **transition}
    return {"StartAt": "S0", "States": states}


def test_a_twenty_thousand_state_definition_is_validated_quickly():
    definition = large_definition(20_000)
    assert schema_diagnostics(large_definition(30)) == []
    started = time.perf_counter()
    assert schema_diagnostics(definition) == []
    assert time.perf_counter() - started < 5


def test_a_definition_full_of_mistakes_is_validated_quickly():
    definition = large_definition(5_000)
    for state in definition["States"].values():
        state["Typo"] = True
    started = time.perf_counter()
    assert len(schema_diagnostics(definition)) == 5_000
    assert time.perf_counter() - started < 2.5


# ---------------------------------------------------------------------------------------
# Properties.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)

FIELD_NAMES = sorted({name for part in PUBLISHED_SCHEMA["$defs"].values() if isinstance(part, dict)
                      for name in part.get("properties", {})} | {"Unknown"})
STATE_TYPE_NAMES = ["Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map"]
ASL_VALUES = (json_values | st.sampled_from(["Task", "Pass", "Map", "DISTRIBUTED", "$.x", "{% 1 %}", "JSONata"])
              | st.integers(-2, 3))


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_any_json_value_gives_diagnostics_not_exceptions(value):
    assert_clean(schema_diagnostics(value))


states_of_any_shape = st.dictionaries(
    st.text(max_size=4),
    st.builds(dict, st.dictionaries(st.sampled_from(FIELD_NAMES), ASL_VALUES, max_size=6),
              Type=st.sampled_from([*STATE_TYPE_NAMES, "Other"])),
    max_size=3)


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({"States": states_of_any_shape}, optional={"StartAt": json_values}))
def test_any_state_shaped_value_gives_diagnostics_not_exceptions(definition):
    assert_clean(schema_diagnostics(definition))


def containers(value, path=()):
    """Every object and array inside ``value``, with its path."""
    if isinstance(value, (dict, list)):
        yield path, value
        for key, item in (value.items() if isinstance(value, dict) else enumerate(value)):
            yield from containers(item, (*path, key))


@st.composite
def mutated_definitions(draw):
    """A valid definition from the corpus with a few fields added, replaced or removed."""
    definition = copy.deepcopy(json.loads(draw(st.sampled_from(VALID)).read_text(encoding="utf-8")))
    for _ in range(draw(st.integers(1, 3))):
        path, target = draw(st.sampled_from(list(containers(definition))))
        if isinstance(target, dict) and target and draw(st.booleans()):
            del target[draw(st.sampled_from(sorted(target)))]
        elif isinstance(target, dict):
            target[draw(st.sampled_from(FIELD_NAMES))] = draw(ASL_VALUES)
        elif target:
            target[draw(st.integers(0, len(target) - 1))] = draw(ASL_VALUES)
    return definition


def language_neutral(definition):
    """True if the published schema and this pass must agree (no expression in a JSONPath state)."""
    text = json.dumps(definition)
    return "{%" not in text or (definition.get("QueryLanguage") == "JSONata" and '"JSONPath"' not in text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_definitions())
def test_the_pass_agrees_with_the_published_schema(definition):
    diagnostics = schema_diagnostics(definition)
    assert_clean(diagnostics)
    if language_neutral(definition):
        assert (diagnostics == []) == PUBLISHED.is_valid(definition)


# ---------------------------------------------------------------------------------------
# The published schema on its own (for editors).

def test_the_schema_is_a_2020_12_schema_with_an_id():
    Draft202012Validator.check_schema(PUBLISHED_SCHEMA)
    assert PUBLISHED_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert PUBLISHED_SCHEMA["$id"] == "https://asl.dev/schemas/asl.schema.json"
    assert PUBLISHED_SCHEMA["title"] and PUBLISHED_SCHEMA["description"]


def test_every_field_in_the_schema_is_described_for_editors():
    parts = [PUBLISHED_SCHEMA, *PUBLISHED_SCHEMA["$defs"].values()]
    undescribed = [name for part in parts if isinstance(part, dict)
                   for name, field in part.get("properties", {}).items()
                   if "description" not in field and "description" not in PUBLISHED_SCHEMA["$defs"].get(
                       field.get("$ref", "").removeprefix("#/$defs/"), {})]
    assert undescribed == []
