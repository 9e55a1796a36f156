"""What the validator rejects before anything runs, for JSONata states and variables.

AWS's ValidateStateMachineDefinition reports JSONata problems with the code
INVALID_JSONATA_EXPRESSION (syntax, $states members that do not exist where the
expression is), UNSUPPORTED_JSONATA_EXPRESSION (top-level references, and
$states.errorOutput outside a Catcher), and every other rule violation as SCHEMA_VALIDATION_FAILED: fields of
the other query language, a JSONPath state in a JSONata machine, the reserved variable
name ``states``, names that are not identifiers. Each row: a definition and the exact
``(code, location)`` of every ERROR expected; an empty list means valid.
"""

from __future__ import annotations

import pytest

import asl

INVALID_JSONATA = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED_JSONATA = "UNSUPPORTED_JSONATA_EXPRESSION"
SCHEMA = "SCHEMA_VALIDATION_FAILED"
TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": True}
PROCESSOR = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
DONE = {"Done": {"Type": "Succeed"}}


def machine(state: dict, language: str | None = "JSONata", **more_states) -> dict:
    definition = {"StartAt": "S", "States": {"S": state, **more_states}}
    if language:
        definition["QueryLanguage"] = language
    return definition


def catcher(**fields) -> dict:
    return {**TASK, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done", **fields}]}


def choice(**rule) -> dict:
    return {"Type": "Choice", "Choices": [{"Condition": True, "Next": "Done", **rule}]}


CASES = [
    # -- $states.result only in the Output and Assign of Task, Parallel and Map [AWS] --------
    ("result in Pass Output", machine({"Type": "Pass", "Output": "{% $states.result %}", "End": True}),
     [(INVALID_JSONATA, "/States/S/Output")]),
    ("result in Pass Assign", machine({"Type": "Pass", "Assign": {"x": "{% $states.result %}"}, "End": True}),
     [(INVALID_JSONATA, "/States/S/Assign/x")]),
    ("result in Succeed Output", machine({"Type": "Succeed", "Output": "{% $states.result.a %}"}),
     [(INVALID_JSONATA, "/States/S/Output")]),
    ("result in Task Arguments", machine({**TASK, "Arguments": {"a": "{% $states.result %}"}}),
     [(INVALID_JSONATA, "/States/S/Arguments/a")]),
    ("result in Task TimeoutSeconds", machine({**TASK, "TimeoutSeconds": "{% $states.result %}"}),
     [(INVALID_JSONATA, "/States/S/TimeoutSeconds")]),
    ("result in Choice Condition", machine(choice(Condition="{% $states.result %}"), **DONE),
     [(INVALID_JSONATA, "/States/S/Choices/0/Condition")]),
    ("result in Choice rule Output", machine(choice(Output="{% $states.result %}"), **DONE),
     [(INVALID_JSONATA, "/States/S/Choices/0/Output")]),
    ("result in Choice rule Assign", machine(choice(Assign={"x": "{% $states.result %}"}), **DONE),
     [(INVALID_JSONATA, "/States/S/Choices/0/Assign/x")]),
    ("result in Wait Seconds", machine({"Type": "Wait", "Seconds": "{% $states.result %}", "End": True}),
     [(INVALID_JSONATA, "/States/S/Seconds")]),
    ("result in Map Items", machine({"Type": "Map", "Items": "{% $states.result %}", "ItemProcessor": PROCESSOR, "End": True}),
     [(INVALID_JSONATA, "/States/S/Items")]),
    ("result in Map ItemSelector", machine({"Type": "Map", "ItemSelector": {"v": "{% $states.result %}"}, "ItemProcessor": PROCESSOR, "End": True}),
     [(INVALID_JSONATA, "/States/S/ItemSelector/v")]),
    ("result in Fail Cause", machine({"Type": "Fail", "Cause": "{% $states.result %}"}),
     [(INVALID_JSONATA, "/States/S/Cause")]),
    ("result in a Catcher Output", machine(catcher(Output="{% $states.result %}"), **DONE),
     [(INVALID_JSONATA, "/States/S/Catch/0/Output")]),
    ("result in a Catcher Assign", machine(catcher(Assign={"x": "{% $states.result %}"}), **DONE),
     [(INVALID_JSONATA, "/States/S/Catch/0/Assign/x")]),
    ("result in Task Output and Assign", machine({**TASK, "Output": "{% $states.result %}", "Assign": {"x": "{% $states.result.a %}"}}),
     []),
    ("result in Parallel Output", machine({"Type": "Parallel", "Branches": [PROCESSOR], "Output": "{% $states.result[0] %}", "End": True}),
     []),
    ("result in Map Assign", machine({"Type": "Map", "ItemProcessor": PROCESSOR, "Assign": {"n": "{% $count($states.result) %}"}, "End": True}),
     []),
    # -- $states.errorOutput only in a Catcher [AWS] -------------------------------------------
    ("errorOutput in Task Output", machine({**TASK, "Output": "{% $states.errorOutput %}"}),
     [(UNSUPPORTED_JSONATA, "/States/S/Output")]),
    ("errorOutput in Pass Assign", machine({"Type": "Pass", "Assign": {"e": "{% $states.errorOutput %}"}, "End": True}),
     [(UNSUPPORTED_JSONATA, "/States/S/Assign/e")]),
    ("errorOutput in a Catcher", machine(catcher(Output="{% $states.errorOutput %}", Assign={"e": "{% $states.errorOutput.Cause %}"}), **DONE),
     []),
    # -- $states has four members ------------------------------------------------------------
    ("an unknown $states member", machine({"Type": "Pass", "Output": "{% $states.inputs %}", "End": True}),
     [(INVALID_JSONATA, "/States/S/Output")]),
    ("input and context anywhere", machine({**TASK, "Arguments": {"i": "{% $states.input %}", "c": "{% $states.context.Execution.Id %}"}}),
     []),
    # -- syntax --------------------------------------------------------------------------------
    ("a syntax error nested in a template", machine({"Type": "Pass", "Output": {"a": ["ok", "{% $states.input. %}"]}, "End": True}),
     [(INVALID_JSONATA, "/States/S/Output/a/1")]),
    ("a syntax error in a Condition", machine(choice(Condition="{% $states.input.a = %}"), **DONE),
     [(INVALID_JSONATA, "/States/S/Choices/0/Condition")]),
    ("a syntax error in an Assign", machine({"Type": "Pass", "Assign": {"x": "{% (1 + %}"}, "End": True}),
     [(INVALID_JSONATA, "/States/S/Assign/x")]),
    ("whitespace before {% makes a literal [recorded on AWS]",
     machine({"Type": "Pass", "Output": " {% 1 %}", "End": True}), []),
    # -- fields of the other query language [spec, AWS] ---------------------------------------
    ("InputPath in a JSONata Task", machine({**TASK, "InputPath": "$.a"}), [(SCHEMA, "/States/S")]),
    ("Parameters in a JSONata Task", machine({**TASK, "Parameters": {"a.$": "$.a"}}), [(SCHEMA, "/States/S")]),
    ("ResultSelector in a JSONata Task", machine({**TASK, "ResultSelector": {"a.$": "$.a"}}), [(SCHEMA, "/States/S")]),
    ("ResultPath in a JSONata Task", machine({**TASK, "ResultPath": "$.r"}), [(SCHEMA, "/States/S")]),
    ("OutputPath in a JSONata Task", machine({**TASK, "OutputPath": "$.r"}), [(SCHEMA, "/States/S")]),
    ("Result in a JSONata Pass", machine({"Type": "Pass", "Result": {"a": 1}, "End": True}), [(SCHEMA, "/States/S")]),
    ("ItemsPath in a JSONata Map", machine({"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": PROCESSOR, "End": True}),
     [(SCHEMA, "/States/S")]),
    ("SecondsPath in a JSONata Wait", machine({"Type": "Wait", "SecondsPath": "$.s", "End": True}), [(SCHEMA, "/States/S")]),
    ("ErrorPath in a JSONata Fail", machine({"Type": "Fail", "ErrorPath": "$.e"}), [(SCHEMA, "/States/S")]),
    ("TimeoutSecondsPath in a JSONata Task", machine({**TASK, "TimeoutSecondsPath": "$.t"}), [(SCHEMA, "/States/S")]),
    ("Variable in a JSONata Choice rule", machine({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "Done"}]}, **DONE),
     [(SCHEMA, "/States/S/Choices/0"), (SCHEMA, "/States/S/Choices/0")]),   # Variable, IsPresent
    ("ResultPath in a JSONata Catcher", machine(catcher(ResultPath="$.error"), **DONE), [(SCHEMA, "/States/S/Catch/0")]),
    ("Arguments in a JSONPath Task", machine({**TASK, "Arguments": {"a": 1}}, language=None), [(SCHEMA, "/States/S")]),
    ("Output in a JSONPath Pass", machine({"Type": "Pass", "Output": 1, "End": True}, language=None), [(SCHEMA, "/States/S")]),
    ("Items in a JSONPath Map", machine({"Type": "Map", "Items": [1], "ItemProcessor": PROCESSOR, "End": True}, language=None),
     [(SCHEMA, "/States/S")]),
    ("Condition in a JSONPath Choice rule", machine(choice(), language=None, **DONE), [(SCHEMA, "/States/S/Choices/0")]),
    ("Output in a JSONPath Catcher", machine(catcher(Output=1), language=None, **DONE), [(SCHEMA, "/States/S/Catch/0")]),
    # -- query languages: JSONata may be chosen per state; JSONPath cannot undo a JSONata machine
    ("a JSONata state in a JSONPath machine", machine({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}", "End": True}, language=None),
     []),
    ("a JSONPath state in a JSONata machine", machine({"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}),
     [(SCHEMA, "/States/S")]),
    ("branch states take the machine's language, not the Parallel's",
     machine({"Type": "Parallel", "QueryLanguage": "JSONata", "End": True,
              "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": "{% 1 %}", "End": True}}}]}, language=None),
     [(SCHEMA, "/States/S/Branches/0/States/B")]),
    # -- variable names ------------------------------------------------------------------------
    ("'states' is reserved (JSONata Assign)", machine({"Type": "Pass", "Assign": {"states": 1}, "End": True}),
     [(SCHEMA, "/States/S/Assign/states")]),
    ("'states' is reserved (JSONPath Assign)", machine({"Type": "Pass", "Assign": {"states.$": "$"}, "End": True}, language=None),
     [(SCHEMA, "/States/S/Assign/states.$")]),
    ("'states' is reserved (Catcher Assign)", machine(catcher(Assign={"states": "x"}), **DONE),
     [(SCHEMA, "/States/S/Catch/0/Assign/states")]),
    ("'states' is reserved (Choice rule Assign)", machine(choice(Assign={"states": 1}), **DONE),
     [(SCHEMA, "/States/S/Choices/0/Assign/states")]),
    ("names are identifiers", machine({"Type": "Pass", "Assign": {"1abc": 1, "a-b": 2, "ok_1": 3, "ünïcode": 4}, "End": True}),
     [(SCHEMA, "/States/S/Assign/1abc"), (SCHEMA, "/States/S/Assign/a-b")]),
    ("names are at most 80 characters", machine({"Type": "Pass", "Assign": {"a" * 80: 1, "b" * 81: 2}, "End": True}),
     [(SCHEMA, "/States/S/Assign/" + "b" * 81)]),
    ("no Assign on Succeed", machine({"Type": "Succeed", "Assign": {"x": 1}}), [(SCHEMA, "/States/S/Assign")]),
    ("no Assign on Fail", machine({"Type": "Fail", "Assign": {"x": 1}}), [(SCHEMA, "/States/S/Assign")]),
    # -- literal values of expression fields are checked like any value ----------------------
    ("a Condition literal must be a boolean", machine(choice(Condition=1), **DONE), [(SCHEMA, "/States/S/Choices/0/Condition")]),
    ("a literal Seconds must not be negative", machine({"Type": "Wait", "Seconds": -1, "End": True}), [(SCHEMA, "/States/S/Seconds")]),
    ("a literal TimeoutSeconds must be a number", machine({**TASK, "TimeoutSeconds": "ten"}), [(SCHEMA, "/States/S/TimeoutSeconds")]),
    ("a literal Fail Error must be a string", machine({"Type": "Fail", "Error": 5}), [(SCHEMA, "/States/S/Error")]),
]


@pytest.mark.parametrize("definition, expected", [pytest.param(d, e, id=name) for name, d, e in CASES])
def test_validator(definition, expected):
    found = [(d.code, d.location) for d in asl.validate(definition) if d.severity == "ERROR"]
    assert found == expected


def test_an_inner_scope_may_not_assign_an_outer_variable_name():
    """Reference §7 [spec, AWS]: inner scopes may read outer variables but may not assign a
    name that an outer scope assigns; variable names are unique across scopes."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "Set", "States": {
        "Set": {"Type": "Pass", "Assign": {"total": 0}, "Next": "Par"},
        "Par": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Assign": {"total": 1}, "End": True}}}]}}}
    errors = [d for d in asl.validate(definition) if d.severity == "ERROR"]
    assert [d.location for d in errors] == ["/States/Par/Branches/0/States/Inner/Assign/total"]


def test_invalid_definitions_are_refused_before_running():
    """A StateMachine is not built from a definition the validator rejects."""
    with pytest.raises(asl.ValidationError) as caught:
        asl.StateMachine(machine({"Type": "Pass", "Output": "{% $states.result %}", "End": True}))
    assert [(d.code, d.location) for d in caught.value.diagnostics] == [(INVALID_JSONATA, "/States/S/Output")]
