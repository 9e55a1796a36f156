"""Saga definitions: steps and compensations in, a valid, compensating ASL machine out."""

import json

import pytest

import asl
from asl.analysis import declared_compensations, findings
from asl.saga import Group, Saga, SagaError, Step
from asl.testing import Fault, FaultPlan, Ledger, assert_compensated, run_with_faults

FN = "arn:aws:lambda:us-east-1:123456789012:function:"   # + name: the resources key is the name

ORDER = Saga("Order", [
    Step("Reserve", FN + "reserve", compensation=FN + "release"),
    Step("Charge", FN + "charge", compensation=FN + "refund",
         retry=[{"ErrorEquals": ["Gateway.Busy"], "MaxAttempts": 2}]),
    Step("Notify", FN + "notify"),
])

YAML = """
name: Order
steps:
  - {name: Reserve, resource: "arn:aws:lambda:us-east-1:123456789012:function:reserve",
     compensation: "arn:aws:lambda:us-east-1:123456789012:function:release"}
  - name: Charge
    resource: arn:aws:lambda:us-east-1:123456789012:function:charge
    compensation: arn:aws:lambda:us-east-1:123456789012:function:refund
    retry: [{ErrorEquals: [Gateway.Busy], MaxAttempts: 2}]
  - {name: Notify, resource: "arn:aws:lambda:us-east-1:123456789012:function:notify"}
"""


def test_the_generated_machine_chains_compensations_in_reverse_into_a_fail_state():
    states = ORDER.to_asl()["States"]
    assert list(states) == ["Reserve", "Charge", "Notify", "SagaSucceeded",
                            "CompensateCharge", "CompensateReserve", "SagaFailed"]
    catch = {name: states[name]["Catch"] for name in ("Reserve", "Charge", "Notify")}
    assert catch["Reserve"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                 "Next": "SagaFailed"}]
    assert catch["Charge"][0]["Next"] == "CompensateReserve"
    assert catch["Notify"][0]["Next"] == "CompensateCharge"
    assert states["CompensateCharge"]["Next"] == "CompensateReserve"
    assert states["CompensateReserve"]["Next"] == "SagaFailed"
    assert states["CompensateCharge"]["Retry"][0]["ErrorEquals"] == ["States.ALL"]
    assert states["Charge"]["Retry"] == [{"ErrorEquals": ["Gateway.Busy"], "MaxAttempts": 2}]
    assert states["Notify"]["Next"] == "SagaSucceeded"
    assert states["SagaSucceeded"] == {"Type": "Succeed"}
    assert states["SagaFailed"] == {"Type": "Fail", "Error": "SagaFailed", "Cause": "saga compensated"}


@pytest.mark.parametrize("saga", [
    ORDER,
    Saga("Grouped", [Step("A", FN + "a", compensation=FN + "undo-a"),
                     Group("Both", [Step("B", FN + "b", compensation=FN + "undo-b"),
                                    [Step("C", FN + "c", compensation=FN + "undo-c"), Step("D", FN + "d")]]),
                     Step("E", FN + "e", compensation=FN + "undo-e"), Step("F", FN + "f")]),
    Saga("Plain", [Step("only step", FN + "x")]),
])
def test_generated_machines_are_valid_and_the_analysis_finds_nothing(saga):
    definition = saga.to_asl()
    assert [d for d in asl.validate(definition) if d.severity == "ERROR"] == []
    assert findings(definition) == []
    assert findings(definition, saga.compensations()) == []
    assert {k: v[0] for k, v in declared_compensations(definition).items()} == saga.compensations()


def test_a_group_catches_into_its_own_compensations_first():
    saga = Saga("Grouped", [Step("A", FN + "a", compensation=FN + "undo-a"),
                            Group("Both", [Step("B", FN + "b", compensation=FN + "undo-b"),
                                           Step("C", FN + "c", compensation=FN + "undo-c")]),
                            Step("D", FN + "d")])
    states = saga.to_asl()["States"]
    assert states["Both"]["Type"] == "Parallel"
    assert [b["StartAt"] for b in states["Both"]["Branches"]] == ["B", "C"]
    assert "Catch" not in states["Both"]["Branches"][0]["States"]["B"]
    assert states["Both"]["Catch"][0]["Next"] == "CompensateC"
    assert states["D"]["Catch"][0]["Next"] == "CompensateC"
    assert [states[n]["Next"] for n in ("CompensateC", "CompensateB", "CompensateA")] == [
        "CompensateB", "CompensateA", "SagaFailed"]


def test_from_yaml_and_json_files_equal_the_python_saga(tmp_path):
    (tmp_path / "order.yaml").write_text(YAML)
    assert Saga.from_file(tmp_path / "order.yaml").to_asl() == ORDER.to_asl()
    import yaml
    (tmp_path / "order.json").write_text(json.dumps(yaml.safe_load(YAML)))
    assert Saga.from_file(tmp_path / "order.json").to_asl() == ORDER.to_asl()


def test_from_dict_reads_groups_and_options():
    saga = Saga.from_dict({"name": "S", "fail_error": "Undone", "steps": [
        {"name": "A", "resource": FN + "a", "compensation": FN + "undo-a"},
        {"parallel": "G", "branches": [[{"name": "B", "resource": FN + "b"}], {"name": "C", "resource": FN + "c"}]}]})
    definition = saga.to_asl()
    assert definition["States"]["SagaFailed"]["Error"] == "Undone"
    assert [b["StartAt"] for b in definition["States"]["G"]["Branches"]] == ["B", "C"]
    assert saga.compensations() == {"A": "CompensateA"}


@pytest.mark.parametrize("data, message", [
    ({"steps": []}, "needs 'name' and 'steps'"),
    ({"name": "S", "steps": [{"name": "A"}]}, "steps\\[0\\]: a step needs 'name' and 'resource'"),
    ({"name": "S", "steps": [{"name": "A", "resource": "a", "undo": "x"}]}, "unknown step field"),
    ({"name": "S", "steps": [{"name": "A", "resource": "a"}, {"name": "A", "resource": "b"}]},
     "state names used twice: \\['A'\\]"),
    ({"name": "S", "steps": []}, "has no steps"),
])
def test_unusable_descriptions_say_why(data, message):
    with pytest.raises(SagaError, match=message):
        Saga.from_dict(data)


def test_a_generated_saga_runs_and_compensates():
    ledger = Ledger()
    resources = {"reserve": lambda d: ledger.do("r") or {}, "charge": lambda d: ledger.do("c") or {},
                 "notify": lambda d: {}, "release": lambda d: ledger.undo("r") or {},
                 "refund": lambda d: ledger.undo("c") or {}}
    machine = ORDER.state_machine()
    assert machine.name == "Order"
    run = run_with_faults(machine, resources, FaultPlan.of(Fault("Notify", "Boom")), {})
    assert (run.result.status, run.result.error) == ("FAILED", "SagaFailed")
    assert run.result.states == ["Reserve", "Charge", "Notify", "CompensateCharge",
                                 "CompensateReserve", "SagaFailed"]
    assert_compensated(run, ledger)
