"""`asl faults`, `asl check` and `asl saga` on a sound saga and on deliberately broken ones."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from asl.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAGA = ROOT / "examples" / "order-saga" / "order-saga.asl.json"
BROKEN = ROOT / "tests" / "testing" / "broken"

LEDGER_HANDLERS = '''
from asl.testing import Ledger

LEDGER = Ledger()

def forward(effect):
    def handler(order):
        LEDGER.do(effect + ":" + order["order_id"])
        return {effect: True}
    return handler

def compensate(effect):
    def handler(order):
        LEDGER.undo(effect + ":" + order["order_id"])
        return {"undone": effect}
    return handler

RESOURCES = {
    "reserve-inventory": forward("reservation"), "charge-payment": forward("payment"),
    "create-shipment": forward("shipment"), "send-notification": forward("notification"),
    "cancel-shipment": compensate("shipment"), "refund-payment": compensate("payment"),
    "release-inventory": compensate("reservation"),
}
'''

COMPENSATIONS = ["--compensation", "ReserveInventory=CompensateReserve",
                 "--compensation", "ChargePayment=CompensateCharge",
                 "--compensation", "CreateShipment=CompensateShip"]


@pytest.fixture
def handlers(tmp_path):
    path = tmp_path / "ledger_handlers.py"
    path.write_text(LEDGER_HANDLERS)
    return str(path)


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def test_faults_on_the_sound_saga_finds_nothing(handlers):
    result = invoke("faults", str(SAGA), "--resources", handlers, "--input", '{"order_id": "o-1"}')
    assert result.exit_code == 0, result.output
    assert "| SendNotification: States.TaskFailed (attempt 1) | FAILED | FailHandler | " \
           "CompensateShip -> CompensateCharge -> CompensateReserve | none |" in result.stdout
    assert "PROBLEM" not in result.stdout


@pytest.mark.parametrize("broken", ["compensation-not-chained", "catch-wrong-compensation"])
def test_faults_reports_effects_left_by_a_broken_saga(handlers, broken):
    result = invoke("faults", str(BROKEN / f"{broken}.json"), "--resources", handlers,
                    "--input", '{"order_id": "o-1"}', "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["problems"]
    assert any(row["effects_left"] for row in report["scenarios"])


def test_check_on_the_sound_saga_has_no_error():
    result = invoke("check", str(SAGA), *COMPENSATIONS)
    assert result.exit_code == 0, result.output
    assert "SendNotification" in result.stdout and "Catch[0] -> CompensateShip" in result.stdout


@pytest.mark.parametrize("broken", ["compensation-not-chained", "catch-wrong-compensation",
                                    "catch-all-shadows-specific"])
def test_check_flags_each_broken_saga(broken):
    result = invoke("check", str(BROKEN / f"{broken}.json"), *COMPENSATIONS)
    assert ("ERROR" in result.stdout) or ("WARNING" in result.stdout)
    if broken != "catch-all-shadows-specific":
        assert result.exit_code == 1


def test_saga_prints_asl_that_validates(tmp_path):
    saga = tmp_path / "saga.yaml"
    saga.write_text("name: Payment\nsteps:\n"
                    "  - name: ChargePayment\n    resource: arn:aws:lambda:us-east-1:123456789012:function:charge\n"
                    "    compensation: arn:aws:lambda:us-east-1:123456789012:function:refund\n"
                    "  - name: CreateShipment\n    resource: arn:aws:lambda:us-east-1:123456789012:function:ship\n"
                    "    compensation: arn:aws:lambda:us-east-1:123456789012:function:cancel\n")
    result = invoke("saga", str(saga))
    assert result.exit_code == 0, result.output
    definition = json.loads(result.stdout)
    import asl
    assert [d for d in asl.validate(definition) if d.severity == "ERROR"] == []


@pytest.mark.parametrize("args, message", [
    (["faults", "missing.json"], "missing.json"),
    (["check", "missing.json"], "missing.json"),
    (["saga", "missing.yaml"], "missing.yaml"),
    (["check", str(SAGA), "--compensation", "nonsense"], "STEP=COMPENSATION"),
])
def test_mistakes_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output
