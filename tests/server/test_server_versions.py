"""State machine versions and aliases through boto3: publish (on create, on update, on its
own), list, describe, delete; aliases with weighted routing; executions started with a
version or an alias ARN, which run that version's own definition and record it."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from .support import ROLE, definition, wait_done


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def says(label: str) -> str:
    """A definition whose output names it."""
    return definition({"P": {"Type": "Pass", "Result": {"ran": label}, "End": True}})


def output_of(sfn, arn: str, **start) -> tuple[str, dict]:
    execution = sfn.start_execution(stateMachineArn=arn, **start)["executionArn"]
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])["ran"], described


def test_publish_on_create_and_update_and_describe_version(sfn):
    created = sfn.create_state_machine(name="V", definition=says("one"), roleArn=ROLE,
                                       publish=True, versionDescription="first")
    arn = created["stateMachineArn"]
    v1 = created["stateMachineVersionArn"]
    assert v1 == f"{arn}:1"
    # idempotent create with publish: the same machine, the same version
    again = sfn.create_state_machine(name="V", definition=says("one"), roleArn=ROLE,
                                     publish=True)
    assert again["stateMachineVersionArn"] == v1

    updated = sfn.update_state_machine(stateMachineArn=arn, definition=says("two"),
                                       publish=True, versionDescription="second")
    v2 = updated["stateMachineVersionArn"]
    assert v2 == f"{arn}:2"
    # update without publish: no version
    plain = sfn.update_state_machine(stateMachineArn=arn, definition=says("three"))
    assert "stateMachineVersionArn" not in plain

    described = sfn.describe_state_machine(stateMachineArn=v1)
    assert described["stateMachineArn"] == v1
    assert described["name"] == "V"
    assert json.loads(described["definition"]) == json.loads(says("one"))
    assert described["description"] == "first"
    assert described["status"] == "ACTIVE"
    d2 = sfn.describe_state_machine(stateMachineArn=v2)
    assert d2["revisionId"] == updated["revisionId"]
    assert d2["description"] == "second"
    # the machine itself has moved on; its versions have not
    latest = sfn.describe_state_machine(stateMachineArn=arn)
    assert json.loads(latest["definition"]) == json.loads(says("three"))
    assert "description" not in latest

    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=f"{arn}:9")
    with pytest.raises(sfn.exceptions.ValidationException) as excinfo:
        sfn.create_state_machine(name="W", definition=says("w"), roleArn=ROLE,
                                 versionDescription="no publish")
    assert "publish is true" in str(excinfo.value)
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.update_state_machine(stateMachineArn=arn, definition=says("x"),
                                 versionDescription="no publish")
    # an update that changes nothing keeps the revision; publish then gives its version
    same = sfn.update_state_machine(stateMachineArn=arn, publish=True)
    assert same["revisionId"] == latest["revisionId"]
    assert same["stateMachineVersionArn"] == f"{arn}:3"
    assert sfn.update_state_machine(stateMachineArn=arn, definition=says("three"),
                                    publish=True)["stateMachineVersionArn"] == f"{arn}:3"


def test_publish_is_idempotent_and_checks_the_revision(sfn, make_machine):
    arn = make_machine("P", says("one"))
    with pytest.raises(sfn.exceptions.ConflictException) as excinfo:
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="not-the-revision")
    assert "current State Machine revision" in str(excinfo.value)
    first = sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="INITIAL",
                                              description="d")
    assert first["stateMachineVersionArn"] == f"{arn}:1"
    # same revision: the same version back, with its creation date
    again = sfn.publish_state_machine_version(stateMachineArn=arn)
    assert again["stateMachineVersionArn"] == first["stateMachineVersionArn"]
    assert again["creationDate"] == first["creationDate"]
    revision = sfn.update_state_machine(stateMachineArn=arn,
                                        definition=says("two"))["revisionId"]
    with pytest.raises(sfn.exceptions.ConflictException):
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="INITIAL")
    second = sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=revision)
    assert second["stateMachineVersionArn"] == f"{arn}:2"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.publish_state_machine_version(stateMachineArn=arn.replace(":P", ":Nope"))
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.publish_state_machine_version(stateMachineArn=f"{arn}:1")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.publish_state_machine_version(stateMachineArn="arn:aws:nope")


def test_list_versions_paginates_newest_first_and_numbers_are_not_reused(sfn, make_machine):
    arn = make_machine("L", says("0"))
    for i in range(5):
        sfn.update_state_machine(stateMachineArn=arn, definition=says(str(i + 1)),
                                 publish=True)
    seen, token = [], None
    while True:
        page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2,
                                               **({"nextToken": token} if token else {}))
        assert len(page["stateMachineVersions"]) <= 2
        seen += [v["stateMachineVersionArn"] for v in page["stateMachineVersions"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [f"{arn}:{n}" for n in (5, 4, 3, 2, 1)]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_state_machine_versions(stateMachineArn=arn, nextToken="garbage!")

    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:5")
    sfn.delete_state_machine_version(stateMachineVersionArn=f"{arn}:5")   # gone: no error
    published = sfn.update_state_machine(stateMachineArn=arn, definition=says("6"),
                                         publish=True)
    assert published["stateMachineVersionArn"] == f"{arn}:6"
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed][:2] == [f"{arn}:6", f"{arn}:4"]
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.delete_state_machine_version(stateMachineVersionArn=arn)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.delete_state_machine_version(stateMachineVersionArn="not-an-arn")


def test_execution_on_a_version_runs_that_version(sfn, make_machine):
    arn = make_machine("E", says("one"))
    v1 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=says("two"))
    ran, described = output_of(sfn, v1, name="on-v1")
    assert ran == "one"                           # the version is immutable
    assert described["stateMachineArn"] == arn
    assert described["stateMachineVersionArn"] == v1
    assert "stateMachineAliasArn" not in described
    assert described["executionArn"].endswith(":execution:E:on-v1")
    ran, plain = output_of(sfn, arn, name="latest")
    assert ran == "two"
    assert "stateMachineVersionArn" not in plain
    # the execution's machine is the version's definition
    for_execution = sfn.describe_state_machine_for_execution(
        executionArn=described["executionArn"])
    assert json.loads(for_execution["definition"]) == json.loads(says("one"))
    # names are unique per state machine, whichever ARN started them
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=v1, name="latest", input='{"other": 1}')
    # list by version; by the machine: all
    by_version = sfn.list_executions(stateMachineArn=v1)["executions"]
    assert [e["name"] for e in by_version] == ["on-v1"]
    assert by_version[0]["stateMachineVersionArn"] == v1
    everything = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert {e["name"] for e in everything} == {"on-v1", "latest"}
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=f"{arn}:7")


def test_alias_lifecycle_and_execution(sfn, make_machine):
    arn = make_machine("A", says("one"))
    v1 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=says("two"))
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    routing = [{"stateMachineVersionArn": v1, "weight": 100}]
    created = sfn.create_state_machine_alias(name="PROD", routingConfiguration=routing,
                                             description="production")
    alias = created["stateMachineAliasArn"]
    assert alias == f"{arn}:PROD"
    # idempotent; a different configuration under the same name conflicts
    again = sfn.create_state_machine_alias(name="PROD", routingConfiguration=routing,
                                           description="production")
    assert again["creationDate"] == created["creationDate"]
    with pytest.raises(sfn.exceptions.ConflictException):
        sfn.create_state_machine_alias(name="PROD", routingConfiguration=[
            {"stateMachineVersionArn": v2, "weight": 100}])

    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert described["name"] == "PROD"
    assert described["description"] == "production"
    assert described["routingConfiguration"] == routing

    ran, execution = output_of(sfn, alias, name="via-alias")
    assert ran == "one"
    assert execution["stateMachineArn"] == arn
    assert execution["stateMachineAliasArn"] == alias
    assert execution["stateMachineVersionArn"] == v1

    sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
        {"stateMachineVersionArn": v2, "weight": 100}])
    assert output_of(sfn, alias)[0] == "two"
    sfn.update_state_machine_alias(stateMachineAliasArn=alias, description="moved")
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert described["description"] == "moved"
    assert described["routingConfiguration"] == [{"stateMachineVersionArn": v2,
                                                   "weight": 100}]
    assert described["updateDate"] >= described["creationDate"]
    by_alias = sfn.list_executions(stateMachineArn=alias)["executions"]
    assert len(by_alias) == 2 and all(e["stateMachineAliasArn"] == alias for e in by_alias)

    # list aliases: of the machine (newest first, paginated), of a version
    beta = sfn.create_state_machine_alias(name="beta", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    page = sfn.list_state_machine_aliases(stateMachineArn=arn, maxResults=1)
    assert [a["stateMachineAliasArn"] for a in page["stateMachineAliases"]] == [beta]
    rest = sfn.list_state_machine_aliases(stateMachineArn=arn, nextToken=page["nextToken"])
    assert [a["stateMachineAliasArn"] for a in rest["stateMachineAliases"]] == [alias]
    assert "nextToken" not in rest
    of_v1 = sfn.list_state_machine_aliases(stateMachineArn=v1)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in of_v1] == [beta]

    sfn.delete_state_machine_alias(stateMachineAliasArn=beta)
    sfn.delete_state_machine_alias(stateMachineAliasArn=beta)     # gone: no error
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_state_machine_alias(stateMachineAliasArn=beta)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.update_state_machine_alias(stateMachineAliasArn=beta, description="x")
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.start_execution(stateMachineArn=beta)
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.update_state_machine_alias(stateMachineAliasArn=alias)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_state_machine_alias(stateMachineAliasArn=v1)
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.describe_state_machine(stateMachineArn=alias)


def test_routing_configuration_rules(sfn, make_machine):
    arn = make_machine("R", says("one"))
    v1 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=says("two"))
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    other = make_machine("Other", says("other"), publish=True)
    other_v1 = f"{other}:1"

    def rejected(routing, name="bad") -> str:
        with pytest.raises(ClientError) as excinfo:
            sfn.create_state_machine_alias(name=name, routingConfiguration=routing)
        return code(excinfo)

    assert rejected([{"stateMachineVersionArn": v1, "weight": 70},
                     {"stateMachineVersionArn": v2, "weight": 29}]) == "ValidationException"
    assert rejected([{"stateMachineVersionArn": v1, "weight": 50},
                     {"stateMachineVersionArn": v1, "weight": 50}]) == "ValidationException"
    assert rejected([{"stateMachineVersionArn": arn, "weight": 100}]) == "ValidationException"
    assert rejected([{"stateMachineVersionArn": v1, "weight": 50},
                     {"stateMachineVersionArn": other_v1, "weight": 50}]) == \
        "ValidationException"
    assert rejected([{"stateMachineVersionArn": v1, "weight": 40},
                     {"stateMachineVersionArn": v2, "weight": 30},
                     {"stateMachineVersionArn": f"{arn}:3", "weight": 30}]) == \
        "ValidationException"                                   # at most two versions
    assert rejected([{"stateMachineVersionArn": v1, "weight": 101}]) == "ValidationException"
    assert rejected([{"stateMachineVersionArn": f"{arn}:9", "weight": 100}]) == \
        "ResourceNotFound"
    assert rejected([{"stateMachineVersionArn": v1, "weight": 100}], name="123") == \
        "ValidationException"
    assert rejected([{"stateMachineVersionArn": v1, "weight": 100}], name="has space") == \
        "ValidationException"
    with pytest.raises(ParamValidationError):                   # boto3's own check
        sfn.create_state_machine_alias(name="x", routingConfiguration=[])
    alias = sfn.create_state_machine_alias(name="ok", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    with pytest.raises(sfn.exceptions.ValidationException):     # another machine's version
        sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
            {"stateMachineVersionArn": other_v1, "weight": 100}])
    assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"][0][
        "stateMachineAliasArn"] == alias


def test_weighted_routing(sfn, make_machine):
    arn = make_machine("W", says("one"), kind="EXPRESS", publish=True)
    sfn.update_state_machine(stateMachineArn=arn, definition=says("two"))
    v1, v2 = f"{arn}:1", sfn.publish_state_machine_version(
        stateMachineArn=arn)["stateMachineVersionArn"]
    alias = sfn.create_state_machine_alias(name="split", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100},
        {"stateMachineVersionArn": v2, "weight": 0}])["stateMachineAliasArn"]

    def ran() -> str:
        result = sfn.start_sync_execution(stateMachineArn=alias)
        assert result["status"] == "SUCCEEDED", result
        return json.loads(result["output"])["ran"]

    assert {ran() for _ in range(10)} == {"one"}                # 100 / 0: always v1
    sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 0},
        {"stateMachineVersionArn": v2, "weight": 100}])
    assert {ran() for _ in range(10)} == {"two"}                # 0 / 100: always v2
    sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 50},
        {"stateMachineVersionArn": v2, "weight": 50}])
    # 50 / 50: both over 60 runs (each missing has probability 2**-60)
    assert {ran() for _ in range(60)} == {"one", "two"}


def test_delete_rules(sfn, make_machine):
    arn = make_machine("D", says("one"), publish=True)
    v1 = f"{arn}:1"
    alias = sfn.create_state_machine_alias(name="live", routingConfiguration=[
        {"stateMachineVersionArn": v1, "weight": 100}])["stateMachineAliasArn"]
    with pytest.raises(sfn.exceptions.ConflictException) as excinfo:
        sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    assert "[live]" in str(excinfo.value)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=v1)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=v1)

    # deleting the machine deletes its versions and aliases; a qualified ARN is refused
    sfn.update_state_machine(stateMachineArn=arn, definition=says("two"), publish=True)
    sfn.create_state_machine_alias(name="again", routingConfiguration=[
        {"stateMachineVersionArn": f"{arn}:2", "weight": 100}])
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.delete_state_machine(stateMachineArn=f"{arn}:2")
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=f"{arn}:2")
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_state_machine_alias(stateMachineAliasArn=f"{arn}:again")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_state_machine_versions(stateMachineArn=arn)
    # a machine made again under the name starts its versions at 1
    remade = make_machine("D", says("three"), publish=True)
    assert sfn.list_state_machine_versions(stateMachineArn=remade)[
        "stateMachineVersions"][0]["stateMachineVersionArn"] == f"{arn}:1"


def test_versions_and_aliases_survive_a_restart(tmp_path):
    from asl.server import running_server

    from .support import client

    db = str(tmp_path / "v.db")
    with running_server(db=db) as url:
        sfn = client(url)
        arn = sfn.create_state_machine(name="S", definition=says("one"), roleArn=ROLE,
                                       publish=True)["stateMachineArn"]
        sfn.update_state_machine(stateMachineArn=arn, definition=says("two"))
        sfn.create_state_machine_alias(name="PROD", routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 100}])
        name = output_of(sfn, f"{arn}:PROD", name="before")[1]["executionArn"]
    with running_server(db=db) as url:
        sfn = client(url)
        assert output_of(sfn, f"{arn}:PROD")[0] == "one"
        described = sfn.describe_execution(executionArn=name)
        assert described["stateMachineAliasArn"] == f"{arn}:PROD"
        assert described["stateMachineVersionArn"] == f"{arn}:1"
        assert sfn.update_state_machine(stateMachineArn=arn, publish=True)[
            "stateMachineVersionArn"] == f"{arn}:2"
