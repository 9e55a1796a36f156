"""Static error flows and findings: what each Task does with each error, without running it."""

from pathlib import Path

import pytest

from asl.analysis import (UNNAMED_ERROR, Flow, declared_compensations, error_flows, findings,
                          format_table)

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"
BROKEN = sorted(p.stem for p in (Path(__file__).parent / "broken").glob("*.json"))


def task(**fields):
    state = {"Type": "Task", "Resource": LAMBDA, **fields}
    if "Next" not in fields:
        state.setdefault("End", True)
    return state


def machine(states):
    return {"StartAt": next(iter(states)), "States": states}


CHARGE = machine({
    "Charge": task(Next="Done",
                   Retry=[{"ErrorEquals": ["Gateway.Busy", "States.Timeout"], "MaxAttempts": 3,
                           "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 4},
                          {"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}],
                   Catch=[{"ErrorEquals": ["Card.Declined"], "Next": "Declined"},
                          {"ErrorEquals": ["States.TaskFailed"], "Next": "Broken"}]),
    "Declined": {"Type": "Fail", "Error": "Declined"},
    "Broken": {"Type": "Fail", "Error": "Broken"},
    "Done": {"Type": "Succeed"},
})


def flows_by_error(definition, state):
    return {f.error: f for f in error_flows(definition) if f.state == state}


@pytest.mark.parametrize("error, retries, delays, catcher, next_state, fails", [
    ("Gateway.Busy", 3, (2, 3, 4), 1, "Broken", None),       # TaskFailed catches it after
    ("States.Timeout", 3, (2, 3, 4), None, None, "execution"),  # TaskFailed never matches Timeout
    ("Card.Declined", 0, (), 0, "Declined", None),              # MaxAttempts 0: not retried
    ("States.TaskFailed", 0, (), 1, "Broken", None),
    (UNNAMED_ERROR, 0, (), 1, "Broken", None),
])
def test_retry_then_catch_as_aws_decides(error, retries, delays, catcher, next_state, fails):
    flow = flows_by_error(CHARGE, "Charge")[error]
    assert (flow.retries, flow.delays, flow.catcher, flow.next, flow.fails) == (
        retries, delays, catcher, next_state, fails)


def test_errors_listed_are_the_rule_names_then_taskfailed_timeout_and_an_unnamed_one():
    assert list(flows_by_error(CHARGE, "Charge")) == [
        "Gateway.Busy", "States.Timeout", "Card.Declined", "States.TaskFailed", UNNAMED_ERROR]


def test_an_uncaught_error_in_a_branch_fails_the_enclosing_state():
    definition = machine({
        "Both": {"Type": "Parallel", "End": True, "Branches": [
            machine({"Ship": task()})],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Undo"}]},
        "Undo": task(),
    })
    ship = flows_by_error(definition, "Ship")["States.TaskFailed"]
    assert (ship.fails, ship.enclosing) == ("Parallel 'Both'", ("Both",))
    assert flows_by_error(definition, "Both")["States.TaskFailed"].next == "Undo"


def test_format_table_one_line_per_flow():
    table = format_table(error_flows(CHARGE)).splitlines()
    assert table[0].split() == ["State", "Error", "Retry", "Then"]
    assert "3x after 2s, 3s, 4s [Retry[0]]" in table[2] and table[2].endswith("Catch[1] -> Broken")
    assert table[3].endswith("fails the execution")
    assert len(table) == 2 + 5


def test_flow_describe_reads_as_a_sentence():
    flow = Flow("Charge", "X", 0, 2, (1, 2), False, 0, "Undo", None)
    assert flow.describe() == "Charge on X: retried 2x after 1s, 2s [Retry[0]], then Catch[0] -> Undo"


# -- rule findings --------------------------------------------------------------------------

@pytest.mark.parametrize("rules, code, severity", [
    ({"Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "End"},
                {"ErrorEquals": ["Card.Declined"], "Next": "End"}]}, "SHADOWED_CATCHER", "ERROR"),
    ({"Catch": [{"ErrorEquals": ["A", "B"], "Next": "End"},
                {"ErrorEquals": ["B"], "Next": "End"}]}, "UNREACHABLE_CATCHER", "ERROR"),
    ({"Retry": [{"ErrorEquals": ["States.TaskFailed"]}, {"ErrorEquals": ["A"]}]},
     "SHADOWED_RETRIER", "WARNING"),
    ({"Catch": [{"ErrorEquals": ["A"], "Next": "End"},
                {"ErrorEquals": ["A", "B"], "Next": "End"}]}, "SHADOWED_CATCHER_NAME", "WARNING"),
    ({"Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "End"}]}, "RULE_NEVER_MATCHES", "WARNING"),
])
def test_rules_that_can_never_be_used(rules, code, severity):
    definition = machine({"Work": task(Next="End", **rules), "End": {"Type": "Succeed"}})
    found = [(f.code, f.severity, f.state) for f in findings(definition)]
    assert found == [(code, severity, "Work")]


@pytest.mark.parametrize("rules", [
    {"Catch": [{"ErrorEquals": ["A"], "Next": "End"}, {"ErrorEquals": ["States.ALL"], "Next": "End"}]},
    # A later States.ALL still catches States.Timeout, which TaskFailed leaves.
    {"Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "End"},
               {"ErrorEquals": ["States.ALL"], "Next": "End"}]},
    {"Retry": [{"ErrorEquals": ["A"]}, {"ErrorEquals": ["States.Timeout"]}, {"ErrorEquals": ["States.ALL"]}]},
])
def test_rules_that_all_get_their_turn_are_fine(rules):
    definition = machine({"Work": task(Next="End", **rules), "End": {"Type": "Succeed"}})
    assert findings(definition) == []


# -- saga findings --------------------------------------------------------------------------

def codes(found):
    return sorted({(f.code, f.state) for f in found if f.severity == "ERROR"})


def test_the_hardened_order_saga_has_no_finding(order_saga):
    assert findings(order_saga.hardened_definition(), order_saga.compensations) == []


def test_the_original_order_saga_only_lacks_retries_on_its_compensations(order_saga):
    found = findings(order_saga.definition(), order_saga.compensations)
    assert {(f.severity, f.code, f.state) for f in found} == {
        ("WARNING", "COMPENSATION_WITHOUT_RETRY", c) for c in order_saga.compensation_states}


@pytest.mark.parametrize("name, expected", [
    ("catch-all-shadows-specific", [("COMPENSATION_MISSING", "ChargePayment"),
                                    ("FAULT_ESCAPES", "ChargePayment"),
                                    ("SHADOWED_CATCHER", "ChargePayment")]),
    ("catch-wrong-compensation", [("COMPENSATION_MISSING", "CreateShipment")]),
    ("compensation-not-chained", [("COMPENSATION_MISSING", "CreateShipment"),
                                  ("COMPENSATION_MISSING", "SendNotification")]),
])
def test_each_broken_saga_is_found(order_saga, name, expected):
    assert name in BROKEN
    assert codes(findings(order_saga.broken_definition(name), order_saga.compensations)) == expected


def test_a_finding_names_the_fault_the_path_and_the_step_left_behind(order_saga):
    found = findings(order_saga.broken_definition("catch-wrong-compensation"), order_saga.compensations)
    assert str(found[0]) == (
        "ERROR CreateShipment: 'CreateShipment' fails with States.TaskFailed, States.Timeout, "
        "(any other error) -> Catch[0] -> CompensateReserve -> FailHandler: completed step "
        "'ChargePayment' is never compensated ('CompensateCharge' does not run)")


SAGA = {
    "StartAt": "A",
    "States": {
        "A": task(Next="B", Comment="[compensation: UndoA]",
                  Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]),
        "B": task(Next="C", Comment="books B [compensation: UndoB]",
                  Catch=[{"ErrorEquals": ["States.ALL"], "Next": "UndoA"}]),
        "C": task(Next="Done", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "UndoB"}]),
        "Done": {"Type": "Succeed"},
        "UndoB": task(Next="UndoA", Retry=[{"ErrorEquals": ["States.ALL"]}]),
        "UndoA": task(Next="Failed", Retry=[{"ErrorEquals": ["States.ALL"]}]),
        "Failed": {"Type": "Fail", "Error": "SagaFailed"},
    },
}


def variant(**changes):
    definition = {"StartAt": "A", "States": {k: dict(v) for k, v in SAGA["States"].items()}}
    for state, fields in changes.items():
        definition["States"].setdefault(state, {}).update(fields)
    return definition


def test_compensations_are_read_from_the_comment_convention():
    assert declared_compensations(SAGA) == {"A": ("UndoA",), "B": ("UndoB",)}
    assert findings(SAGA) == []


@pytest.mark.parametrize("changes, code, state", [
    # B's compensation runs after A's: reverse order broken.
    ({"C": {"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "UndoA"}]},
      "UndoA": {"Next": "UndoB"}, "UndoB": {"Next": "Failed"}}, "COMPENSATION_ORDER", "C"),
    # A Pass and an ordinary Task (no compensation) on the compensation path change nothing.
    ({"UndoA": {"Next": "Log"}, "Log": {"Type": "Pass", "Next": "Alert"},
      "Alert": task(Next="Failed")}, None, None),
    # B's catch runs UndoB: B never completed.
    ({"B": {"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "UndoB"}]}}, "COMPENSATION_NOT_DONE", "B"),
    # C's catch only handles one error: the rest escape with A and B done.
    ({"C": {"Catch": [{"ErrorEquals": ["Specific"], "Next": "UndoB"}]}}, "FAULT_ESCAPES", "C"),
])
def test_saga_paths_that_break_compensation(changes, code, state):
    found = findings(variant(**changes))
    if code is None:
        assert found == []
    else:
        assert (code, state) in codes(found)


def test_a_compensation_reached_twice_is_found():
    compensations = {"A": ("UndoA", "UndoA2"), "B": "UndoB"}
    definition = variant(UndoA={"Next": "UndoA2"},
                         UndoA2=task(Next="Failed", Retry=[{"ErrorEquals": ["States.ALL"]}]))
    assert ("COMPENSATION_TWICE", "C") in codes(findings(definition, compensations))


def test_compensating_then_succeeding_is_a_warning():
    found = findings(variant(UndoA={"Next": "Done"}))
    assert {f.code for f in found} == {"COMPENSATED_THEN_SUCCEEDS"}
    assert all(f.severity == "WARNING" for f in found)


def test_a_compensation_that_is_no_state_is_an_error():
    found = findings(SAGA, {"A": "Nope"})
    assert ("COMPENSATION_UNKNOWN", "A") in codes(found)


GROUP = {
    "StartAt": "A",
    "States": {
        "A": task(Next="Both", Comment="[compensation: UndoA]",
                  Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]),
        "Both": {"Type": "Parallel", "Next": "Done", "Branches": [
            machine({"B": task(Comment="[compensation: UndoB]")}),
            machine({"C": task(Comment="[compensation: UndoC]")})],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "UndoC"}]},
        "Done": {"Type": "Succeed"},
        "UndoC": task(Next="UndoB", Retry=[{"ErrorEquals": ["States.ALL"]}]),
        "UndoB": task(Next="UndoA", Retry=[{"ErrorEquals": ["States.ALL"]}]),
        "UndoA": task(Next="Failed", Retry=[{"ErrorEquals": ["States.ALL"]}]),
        "Failed": {"Type": "Fail", "Error": "SagaFailed"},
    },
}


def test_a_parallel_group_compensated_as_a_whole_is_fine():
    assert findings(GROUP) == []


def test_a_group_catch_that_forgets_a_sibling_branch_is_a_warning():
    definition = {"StartAt": "A", "States": dict(GROUP["States"])}
    definition["States"]["Both"] = dict(GROUP["States"]["Both"],
                                        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "UndoA"}])
    found = {(f.severity, f.code, f.state) for f in findings(definition)}
    assert found == {("WARNING", "COMPENSATION_MAYBE_MISSING", "B"),
                     ("WARNING", "COMPENSATION_MAYBE_MISSING", "C")}


def test_a_group_catch_that_skips_the_steps_before_the_group_is_an_error():
    definition = {"StartAt": "A", "States": dict(GROUP["States"])}
    definition["States"]["UndoB"] = dict(GROUP["States"]["UndoB"], Next="Failed")
    assert codes(findings(definition)) == [("COMPENSATION_MISSING", "B"), ("COMPENSATION_MISSING", "C")]
