"""State machine actions through boto3: create, describe, list, update, delete, validate,
tags, and their AWS errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .support import FUNCTION, ROLE, definition, task

PASS = definition({"P": {"Type": "Pass", "End": True}})


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_create_describe_and_idempotent_create(sfn):
    created = sfn.create_state_machine(name="Hello", definition=PASS, roleArn=ROLE)
    arn = created["stateMachineArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:Hello"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == "Hello"
    assert described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD"
    assert json.loads(described["definition"]) == json.loads(PASS)
    assert described["roleArn"] == ROLE
    assert described["loggingConfiguration"]["level"] == "OFF"
    # same name, same definition: the same machine back
    again = sfn.create_state_machine(name="Hello", definition=PASS, roleArn=ROLE)
    assert again["stateMachineArn"] == arn
    assert again["creationDate"] == created["creationDate"]
    other = definition({"Q": {"Type": "Pass", "End": True}})
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        sfn.create_state_machine(name="Hello", definition=other, roleArn=ROLE)


def test_invalid_definition_carries_diagnostics(sfn):
    bad = definition({"A": {"Type": "Pass", "Next": "Nowhere"}})
    with pytest.raises(sfn.exceptions.InvalidDefinition) as excinfo:
        sfn.create_state_machine(name="Bad", definition=bad, roleArn=ROLE)
    assert "Invalid State Machine Definition" in str(excinfo.value)
    assert "/States/A/Next" in str(excinfo.value)
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.create_state_machine(name="Bad", definition="{not json", roleArn=ROLE)
    assert sfn.list_state_machines()["stateMachines"] == []


def test_invalid_name_and_role(sfn):
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.create_state_machine(name="has space", definition=PASS, roleArn=ROLE)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.create_state_machine(name="Ok", definition=PASS, roleArn="not-an-arn")


def test_list_state_machines_paginates(sfn):
    for i in range(7):
        sfn.create_state_machine(name=f"M{i}", definition=PASS, roleArn=ROLE)
    first = sfn.list_state_machines(maxResults=3)
    assert [m["name"] for m in first["stateMachines"]] == ["M0", "M1", "M2"]
    second = sfn.list_state_machines(maxResults=3, nextToken=first["nextToken"])
    assert [m["name"] for m in second["stateMachines"]] == ["M3", "M4", "M5"]
    third = sfn.list_state_machines(maxResults=3, nextToken=second["nextToken"])
    assert [m["name"] for m in third["stateMachines"]] == ["M6"]
    assert "nextToken" not in third
    paginator = sfn.get_paginator("list_state_machines")
    names = [m["name"] for page in paginator.paginate(PaginationConfig={"PageSize": 2})
             for m in page["stateMachines"]]
    assert names == [f"M{i}" for i in range(7)]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_state_machines(nextToken="garbage!")


def test_update_and_delete(sfn):
    arn = sfn.create_state_machine(name="U", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    before = sfn.describe_state_machine(stateMachineArn=arn)["revisionId"]
    new = definition({"Z": {"Type": "Succeed"}})
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=new)
    assert updated["revisionId"] != before
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(described["definition"]) == json.loads(new)
    assert described["revisionId"] == updated["revisionId"]
    with pytest.raises(ClientError) as excinfo:
        sfn.update_state_machine(stateMachineArn=arn)
    assert code(excinfo) == "MissingRequiredParameter"
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.update_state_machine(stateMachineArn=arn, definition='{"StartAt": "X", "States": {}}')
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.update_state_machine(stateMachineArn=arn, definition=new)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_state_machine(stateMachineArn="arn:aws:states:us-east-1:1:nope")


def test_validate_state_machine_definition(sfn):
    ok = sfn.validate_state_machine_definition(definition=PASS)
    assert ok["result"] == "OK" and ok["diagnostics"] == []
    bad = sfn.validate_state_machine_definition(
        definition=definition({"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Fail"}}))
    assert bad["result"] == "FAIL"
    assert {d["severity"] for d in bad["diagnostics"]} == {"ERROR"}
    assert any(d["location"] == "/States/A/Next" for d in bad["diagnostics"])
    assert all(d["code"] and d["message"] for d in bad["diagnostics"])
    with_warnings = sfn.validate_state_machine_definition(
        definition=definition({"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Fail"}}),
        severity="WARNING")
    assert len(with_warnings["diagnostics"]) >= len(bad["diagnostics"])
    truncated = sfn.validate_state_machine_definition(
        definition='{"States": {"A": {"Type": "Nope"}, "B": {"Type": "Nope"}}}', maxResults=1)
    assert truncated["result"] == "FAIL" and len(truncated["diagnostics"]) == 1
    assert truncated["truncated"] is True
    not_json = sfn.validate_state_machine_definition(definition="{")
    assert not_json["result"] == "FAIL"
    assert not_json["diagnostics"][0]["code"] == "INVALID_JSON_DESCRIPTION"


def test_tags(sfn):
    arn = sfn.create_state_machine(name="T", definition=PASS, roleArn=ROLE,
                                   tags=[{"key": "team", "value": "a"}])["stateMachineArn"]
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "a"}]
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "dev"},
                                            {"key": "team", "value": "b"}])
    tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags == {"team": "b", "env": "dev"}
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}]
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_tags_for_resource(resourceArn=arn + "Gone")
    with pytest.raises(sfn.exceptions.TooManyTags):
        sfn.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])


def test_describe_state_machine_for_execution(sfn, make_machine):
    arn = make_machine("ForExec", {"A": task(FUNCTION.format("double"), End=True)})
    execution = sfn.start_execution(stateMachineArn=arn, input='{"value": 1}')["executionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=PASS)
    described = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert described["stateMachineArn"] == arn
    assert "double" in described["definition"]       # the definition it ran, not the new one
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_state_machine_for_execution(executionArn=execution + "x")
