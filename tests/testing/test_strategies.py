"""fault_plans: only plans the machine can experience, and they shrink to the simplest."""

import subprocess
import sys

import pytest
from hypothesis import find, given, settings

import asl
from asl.testing import Fault, FaultPlan, fault_plans, machine_errors, task_states

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"

RULES = {
    "StartAt": "Charge",
    "States": {
        "Charge": {"Type": "Task", "Resource": LAMBDA, "Next": "Each",
                   "Retry": [{"ErrorEquals": ["Gateway.Busy"], "MaxAttempts": 2},
                             {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
                   "Catch": [{"ErrorEquals": ["Card.Declined", "States.Runtime"], "Next": "Done"}]},
        "Each": {"Type": "Map", "End": True, "ItemProcessor": {
            "StartAt": "Notify", "States": {"Notify": {"Type": "Task", "Resource": LAMBDA, "End": True}}}},
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture(scope="module")
def rules():
    return asl.StateMachine(RULES)


def test_errors_are_the_names_rules_distinguish_plus_taskfailed_timeout_and_an_unnamed_one(rules, order_saga):
    assert machine_errors(rules) == ["States.TaskFailed", "Gateway.Busy", "Card.Declined",
                                     "States.Timeout", "Injected.UnnamedError"]
    assert machine_errors(order_saga.machine) == ["States.TaskFailed", "States.Timeout",
                                                  "Injected.UnnamedError"]


@settings(max_examples=300, deadline=None)
@given(fault_plans(asl.StateMachine(RULES), max_faults=3))
def test_plans_name_task_states_with_meaningful_attempts(plan):
    tasks = {t.name: t for t in task_states(RULES)}
    assert isinstance(plan, FaultPlan) and len(plan) <= 3
    assert len({(f.state, f.attempt, f.call) for f in plan.faults}) == len(plan)
    for fault in plan.faults:
        assert fault.state in tasks
        assert fault.timeout == (fault.error == "States.Timeout")
        if fault.state == "Charge":
            budget = 2 if fault.error == "Gateway.Busy" else 1    # the first matching retrier
            assert fault.attempt is None or 1 <= fault.attempt <= budget + 1
            assert fault.call is None
        else:                                   # Notify: no Retry, but one call per item
            assert fault.attempt is None
            assert fault.call in (None, 1, 2, 3)


def test_given_errors_and_states_restrict_the_plans(rules):
    plan = find(fault_plans(rules, errors=["Boom"], states=["Notify"]), lambda p: len(p) == 1)
    assert plan == FaultPlan.of(Fault("Notify", "Boom"))
    with pytest.raises(ValueError, match="not Task states"):
        fault_plans(rules, states=["Each"])


def test_plans_shrink_to_one_fault_on_the_earliest_state_with_the_simplest_error(order_saga):
    plan = find(fault_plans(order_saga.machine, max_faults=3),
                lambda p: any(f.state != "ReserveInventory" for f in p.faults))
    assert plan == FaultPlan.of(Fault("ChargePayment"))


def test_plans_shrink_to_the_empty_plan(order_saga):
    assert find(fault_plans(order_saga.machine, max_faults=2), lambda p: True) == FaultPlan()


def test_transient_states_only_fail_attempts_their_retry_absorbs(order_saga):
    hardened = order_saga.hardened
    strategy = fault_plans(hardened, max_faults=4, transient=order_saga.compensation_states)

    @settings(max_examples=200, deadline=None)
    @given(strategy)
    def check(plan):
        for name in order_saga.compensation_states:
            faults = [f for f in plan.faults if f.state == name]
            assert all(f.attempt is not None and 1 <= f.attempt <= 3 for f in faults)
            assert len(faults) <= 3
    check()


def test_a_machine_with_no_task_has_only_the_empty_plan():
    machine = asl.StateMachine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert find(fault_plans(machine), lambda p: True) == FaultPlan()


def test_importing_asl_or_asl_testing_does_not_import_hypothesis():
    code = ("import sys, asl, asl.testing; "
            "assert 'hypothesis' not in sys.modules and 'asl.testing.strategies' not in sys.modules; "
            "import asl.testing as t; t.fault_plans; assert 'hypothesis' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    subprocess.run([sys.executable, "-c", "import sys, asl; assert 'asl.testing' not in sys.modules"],
                   check=True)
