"""Smoke test of an installed asl (run by .ci/run from outside the checkout).

Checks that the package imports from site-packages, not from the checkout, and that the
API and the CLI validate, run and report as a user would see them.
"""

import json
import os
import subprocess
import sys

import asl

checkout = os.environ.get("ASL_CHECKOUT", "")
assert checkout and not asl.__file__.startswith(checkout), f"asl imported from {asl.__file__}"

definition = {
    "StartAt": "Charge",
    "States": {
        "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
                   "ResultPath": "$.payment", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
result = asl.StateMachine(definition).execute({"amount": 5}, resources={"charge": lambda e: {"ok": e["amount"]}})
assert (result.status, result.output) == ("SUCCEEDED", {"amount": 5, "payment": {"ok": 5}}), result
assert asl.validate(definition) == []
assert any(d.code == "MISSING_TRANSITION_TARGET"
           for d in asl.validate({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}))


def cli(*args, stdin=None):
    return subprocess.run(["asl", *args], capture_output=True, text=True, input=stdin, timeout=60)


done = cli("validate", "saga.asl.json")
assert done.returncode == 0 and "valid" in done.stdout, done
done = cli("run", "-", "--input", '{"amount": 5}', stdin=json.dumps(
    {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.r", "End": True}}}))
assert done.returncode == 0 and json.loads(done.stdout) == {"amount": 5, "r": 1}, done
done = cli("graph", "saga.asl.json")
assert done.returncode == 0 and "flowchart" in done.stdout, done
done = subprocess.run([sys.executable, "-m", "asl", "--help"], capture_output=True, text=True, timeout=60)
assert done.returncode == 0 and "validate" in done.stdout, done
print("smoke: API and CLI work from the installed wheel")
