"""What is worked out once and reused: the compiled form of an equal definition, and how
to call a callable (issue 14). Behaviour only; the costs are measured in benchmarks/."""

import copy

import pytest

import asl
from asl.resources import Invoker

DEFINITION = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.a", "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
          "End": True}}}


def test_machines_from_equal_definitions_share_the_compiled_form():
    first = asl.StateMachine(copy.deepcopy(DEFINITION), name="one")
    second = asl.StateMachine(copy.deepcopy(DEFINITION), name="two")
    assert first._scope is second._scope
    assert (first.name, second.name) == ("one", "two")
    assert second.execute({}, {"f": lambda p: p}).output == {"a": {"n": 1}}


def test_changing_the_callers_dict_afterwards_changes_no_machine():
    definition = copy.deepcopy(DEFINITION)
    machine = asl.StateMachine(definition)
    definition["States"]["A"]["Result"]["n"] = 2
    assert machine.execute({}, {"f": lambda p: p}).output == {"a": {"n": 1}}
    assert asl.StateMachine(definition).execute({}, {"f": lambda p: p}).output == {"a": {"n": 2}}


def test_an_invalid_definition_is_refused_every_time():
    broken = {"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": True}}}
    for _ in range(2):
        with pytest.raises(asl.ValidationError):
            asl.StateMachine(broken)


def test_the_type_is_part_of_what_is_reused():
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "f"}, "End": True}}}
    asl.StateMachine(definition)
    with pytest.raises(asl.ValidationError):
        asl.StateMachine(definition, type="EXPRESS")


def test_fresh_closures_of_one_def_are_called_the_same_way():
    def make(offset):
        def handler(payload, context):
            return {"n": payload["n"] + offset, "state": context.context["State"]["Name"]}
        return handler

    first, second = Invoker.of(make(1)), Invoker.of(make(2))
    assert first.wants_context and second.wants_context
    machine = asl.StateMachine(DEFINITION)
    for offset in (1, 2):
        result = machine.execute({"n": 1}, {"f": make(offset)})
        assert result.output == {"n": 1 + offset, "state": "T"}


def test_a_function_with_one_parameter_gets_no_context():
    def handler(payload):
        return payload

    assert not Invoker.of(handler).wants_context
