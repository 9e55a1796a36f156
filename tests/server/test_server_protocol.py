"""The wire protocol with raw HTTP: AWS-shaped 400s for every kind of bad request,
nothing written, the server alive afterwards."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

import pytest

from .support import ROLE, definition

PASS = definition({"P": {"Type": "Pass", "End": True}})


def post(url: str, action: str | None, body: bytes | str, method: str = "POST"):
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "Authorization": "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=abc"}
    if action is not None:
        headers["X-Amz-Target"] = f"AWSStepFunctions.{action}"
    data = body.encode() if isinstance(body, str) else body
    connection.request(method, "/", body=data, headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, payload


@pytest.mark.parametrize("action, body, expected", [
    ("ListStateMachines", b"{not json", "SerializationException"),
    ("ListStateMachines", b"\xff\xfe{}", "SerializationException"),
    ("ListStateMachines", b"[1, 2]", "SerializationException"),
    ("CreateStateMachine", json.dumps({"name": "X", "roleArn": ROLE}), "ValidationException"),
    ("CreateStateMachine", json.dumps({"name": 7, "definition": PASS, "roleArn": ROLE}),
     "SerializationException"),
    ("CreateStateMachine", json.dumps({"name": "X" * 81, "definition": PASS, "roleArn": ROLE}),
     "ValidationException"),
    ("CreateStateMachine", json.dumps({"name": "X", "definition": PASS, "roleArn": ROLE,
                                       "type": "TURBO"}), "ValidationException"),
    ("ListStateMachines", json.dumps({"maxResults": 5000}), "ValidationException"),
    ("DescribeStateMachine", json.dumps({"stateMachineArn": "nope"}), "InvalidArn"),
    ("FlyToTheMoon", b"{}", "UnknownOperationException"),
    (None, b"{}", "UnknownOperationException"),
    ("DescribeMapRun", json.dumps({"mapRunArn": "x"}), "InvalidArn"),
])
def test_bad_requests_are_aws_shaped_400s(server, action, body, expected):
    status, payload = post(server, action, body)
    assert status == 400
    assert payload["__type"] == expected
    assert isinstance(payload["message"], str) and payload["message"]
    # nothing was written, and the server still serves
    status, listed = post(server, "ListStateMachines", b"{}")
    assert status == 200 and listed["stateMachines"] == []


def test_validation_message_lists_every_violation(server):
    status, payload = post(server, "CreateStateMachine", json.dumps({"name": ""}))
    assert status == 400 and payload["__type"] == "ValidationException"
    assert payload["message"].startswith("3 validation errors detected")
    assert "'definition' failed to satisfy constraint: Member must not be null" in payload["message"]


def test_get_is_refused_and_empty_body_is_an_empty_request(server):
    status, payload = post(server, None, b"", method="GET")
    assert status == 400 and payload["__type"] == "UnknownOperationException"
    status, payload = post(server, "ListStateMachines", b"")
    assert status == 200 and payload == {"stateMachines": []}


def test_oversized_body_is_refused_without_reading_it(server):
    parsed = urlparse(server)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
    connection.putrequest("POST", "/")
    connection.putheader("X-Amz-Target", "AWSStepFunctions.CreateStateMachine")
    connection.putheader("Content-Length", str(64 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 400
    assert json.loads(response.read())["__type"] == "ValidationException"
    connection.close()
    status, listed = post(server, "ListStateMachines", b"{}")
    assert status == 200 and listed["stateMachines"] == []


def test_serve_command_help():
    from click.testing import CliRunner

    from asl.server.command import serve_command

    result = CliRunner().invoke(serve_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--resources", "--region", "--account", "--mock"):
        assert option in result.output
    bad = CliRunner().invoke(serve_command, ["--resources", "no/such/file.py"])
    assert bad.exit_code == 2 and "does not exist" in bad.output
