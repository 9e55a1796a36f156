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
# The server from the wheel: one real request in AWS's wire format (stdlib client only).
import socket
import time
import urllib.request

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = subprocess.Popen(["asl", "serve", "--port", str(port)], stderr=subprocess.PIPE)
try:
    for _ in range(100):
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/", data=b"{}", method="POST",
                headers={"X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                         "Content-Type": "application/x-amz-json-1.0"})
            with urllib.request.urlopen(request, timeout=5) as response:
                assert json.loads(response.read()) == {"stateMachines": []}
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise AssertionError("asl serve did not answer")
finally:
    server.terminate()
    server.wait(timeout=10)
print("smoke: API, CLI and server work from the installed wheel")
