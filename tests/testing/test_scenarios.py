"""The scenario runner: every Task fails once, then for good; what each run leaves behind."""

from pathlib import Path

import pytest

import asl
from asl.testing import Ledger, format_scenarios, scenario_problems, scenarios

BROKEN = sorted(p.stem for p in (Path(__file__).parent / "broken").glob("*.json"))


def run_scenarios(machine, order_saga):
    ledger = Ledger()
    return scenarios(machine, order_saga.resources(ledger), order_saga.order, ledger=ledger)


def test_the_hardened_order_saga_scenarios(order_saga):
    rows = run_scenarios(order_saga.hardened, order_saga)
    table = [(r.fault, r.kind, r.status, r.terminal, r.compensations, r.effects_left) for r in rows]
    everything = ("reservation:o-1", "payment:o-1", "shipment:o-1", "notification:o-1")
    chain = ("CompensateShip", "CompensateCharge", "CompensateReserve")
    assert table[:5] == [
        ("(none)", "baseline", "SUCCEEDED", "SendNotification", (), everything),
        ("ReserveInventory: States.TaskFailed (attempt 1)", "fault", "FAILED", "FailHandler", (), ()),
        ("ChargePayment: States.TaskFailed (attempt 1)", "fault", "FAILED", "FailHandler", chain[2:], ()),
        ("CreateShipment: States.TaskFailed (attempt 1)", "fault", "FAILED", "FailHandler", chain[1:], ()),
        ("SendNotification: States.TaskFailed (attempt 1)", "fault", "FAILED", "FailHandler", chain, ()),
    ]
    # Compensations fail on top of the first scenario that reaches them: once (absorbed
    # by their Retry), then on every attempt (nothing can compensate then).
    ship = [r for r in rows if r.fault.endswith("CompensateShip: States.TaskFailed (attempt 1)")][0]
    assert (ship.kind, ship.status, ship.effects_left) == ("recovery-fault", "FAILED", ())
    assert ship.compensations == chain       # a retry is no new visit: entered once
    exhausted = [r for r in rows if r.kind == "recovery-exhausted"]
    assert [r.effects_left for r in exhausted] == [everything[:3], everything[:2], everything[:1]]
    assert scenario_problems(rows) == []


def test_the_original_order_saga_leaves_effects_when_a_compensation_fails_once(order_saga):
    problems = scenario_problems(run_scenarios(order_saga.machine, order_saga))
    assert problems == [
        "SendNotification: States.TaskFailed (attempt 1); CompensateShip: States.TaskFailed "
        "(attempt 1): 'reservation:o-1' is still in place after a FAILED execution (never "
        "compensated); 'payment:o-1' is still in place after a FAILED execution (never "
        "compensated); 'shipment:o-1' is still in place after a FAILED execution (never compensated)",
        "CreateShipment: States.TaskFailed (attempt 1); CompensateCharge: States.TaskFailed "
        "(attempt 1): 'reservation:o-1' is still in place after a FAILED execution (never "
        "compensated); 'payment:o-1' is still in place after a FAILED execution (never compensated)",
        "ChargePayment: States.TaskFailed (attempt 1); CompensateReserve: States.TaskFailed "
        "(attempt 1): 'reservation:o-1' is still in place after a FAILED execution (never compensated)",
    ]


@pytest.mark.parametrize("name, fault_at", [
    ("catch-all-shadows-specific", "ChargePayment"),
    ("catch-wrong-compensation", "CreateShipment"),
    ("compensation-not-chained", "CreateShipment"),
])
def test_each_broken_saga_shows_in_the_scenarios(order_saga, name, fault_at):
    assert name in BROKEN
    problems = scenario_problems(run_scenarios(order_saga.broken(name), order_saga))
    assert problems and problems[0].startswith(f"{fault_at}: States.TaskFailed (attempt 1): ")
    assert "still in place after a FAILED execution" in problems[0]


def test_a_fault_escaping_a_state_with_catch_rules_is_a_problem(order_saga):
    definition = order_saga.hardened_definition()
    definition["States"]["ChargePayment"]["Catch"][0]["ErrorEquals"] = ["PaymentDeclined"]
    rows = run_scenarios(asl.StateMachine(definition), order_saga)
    charge = [r for r in rows if r.fault == "ChargePayment: States.TaskFailed (attempt 1)"][0]
    assert (charge.escaped, charge.catch_expected, charge.terminal) == (True, True, "ChargePayment")
    assert ("ChargePayment: States.TaskFailed (attempt 1): the fault escapes every Catch (FAILED "
            "with States.TaskFailed at 'ChargePayment'), although Catch rules are there"
            ) in scenario_problems(rows)


def test_errors_retries_and_timeouts(order_saga):
    definition = order_saga.hardened_definition()
    definition["States"]["ChargePayment"]["Retry"] = [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}]
    definition["States"]["ChargePayment"]["TimeoutSeconds"] = 5
    ledger = Ledger()
    rows = scenarios(asl.StateMachine(definition), order_saga.resources(ledger), order_saga.order,
                     ledger=ledger, errors=["States.Timeout"])
    charge = [(r.fault, r.status, r.compensations) for r in rows
              if r.fault.startswith("ChargePayment") and r.kind in ("fault", "exhausted")]
    assert charge == [("ChargePayment: timeout (attempt 1)", "SUCCEEDED", ()),
                      ("ChargePayment: timeout (every attempt)", "FAILED", ("CompensateReserve",))]


def test_without_a_ledger_rows_have_no_effects(order_saga):
    rows = scenarios(order_saga.hardened, order_saga.resources(Ledger()), order_saga.order)
    assert all(r.effects_left is None and r.violations == () for r in rows)


def test_format_scenarios_is_a_markdown_table(order_saga):
    text = format_scenarios(run_scenarios(order_saga.machine, order_saga)).splitlines()
    assert text[0] == "| Fault | Status | Terminal state | Compensations fired | Effects left |"
    assert text[1] == "|---|---|---|---|---|"
    assert text[2] == ("| (none) | SUCCEEDED | SendNotification | - | reservation:o-1, payment:o-1, "
                       "shipment:o-1, notification:o-1 |")
    assert text[4] == ("| ChargePayment: States.TaskFailed (attempt 1) | FAILED | FailHandler | "
                       "CompensateReserve | none |")
    assert "| FAILED (escaped) | CompensateReserve | CompensateReserve | reservation:o-1 |" in text[-1]


def test_without_a_ledger_a_compensation_failing_once_is_still_a_problem(order_saga):
    rows = scenarios(order_saga.machine, order_saga.resources(Ledger()), order_saga.order)
    assert scenario_problems(rows) == [
        f"{first}: States.TaskFailed (attempt 1); {compensation}: States.TaskFailed (attempt 1): "
        f"one failure of '{compensation}' ends the execution before the compensation completes "
        "(no Retry absorbs it)"
        for first, compensation in (("SendNotification", "CompensateShip"),
                                    ("CreateShipment", "CompensateCharge"),
                                    ("ChargePayment", "CompensateReserve"))]
