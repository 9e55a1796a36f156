"""The SQLite store across restarts: in-process (running_server twice on one file) and
the ``asl serve`` command killed with SIGKILL, driven by boto3 and the real AWS CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from asl.server import running_server

from .support import FUNCTION, ROLE, Serve, client, definition, task, wait_done

DOUBLE = definition({"A": task(FUNCTION.format("double"), End=True)})
WAIT = definition({"W": {"Type": "Wait", "Seconds": 60, "End": True}})


def test_restart_keeps_machines_and_finished_executions(tmp_path, resources):
    db = str(tmp_path / "store.db")
    with running_server(db=db, resources=resources) as url:
        sfn = client(url)
        arn = sfn.create_state_machine(name="Durable", definition=DOUBLE, roleArn=ROLE,
                                       tags=[{"key": "k", "value": "v"}])["stateMachineArn"]
        done = sfn.start_execution(stateMachineArn=arn, name="done",
                                   input='{"value": 4}')["executionArn"]
        assert wait_done(sfn, done)["status"] == "SUCCEEDED"
        history = sfn.get_execution_history(executionArn=done)["events"]
        waiting_arn = sfn.create_state_machine(name="Waits", definition=WAIT,
                                               roleArn=ROLE)["stateMachineArn"]
        waiting = sfn.start_execution(stateMachineArn=waiting_arn, name="w")["executionArn"]
    with running_server(db=db, resources=resources) as url:
        sfn = client(url)
        names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
        assert names == ["Durable", "Waits"]
        assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]
        described = sfn.describe_execution(executionArn=done)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"value": 8}
        assert sfn.get_execution_history(executionArn=done)["events"] == history
        # the execution waiting when the first server stopped goes on waiting
        interrupted = sfn.describe_execution(executionArn=waiting)
        assert interrupted["status"] == "RUNNING"
        events = sfn.get_execution_history(executionArn=waiting)["events"]
        assert [e["type"] for e in events] == ["ExecutionStarted", "WaitStateEntered"]
        sfn.stop_execution(executionArn=waiting)
        assert wait_done(sfn, waiting)["status"] == "ABORTED"
        # and the restarted server runs new executions of the stored machines
        again = sfn.start_execution(stateMachineArn=arn, input='{"value": 1}')["executionArn"]
        assert json.loads(wait_done(sfn, again)["output"]) == {"value": 2}
        assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 2


def _aws(url: str, *args: str) -> dict:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    completed = subprocess.run(["aws", "stepfunctions", *args, "--endpoint-url", url,
                                "--output", "json"], capture_output=True, text=True, env=env,
                               timeout=30)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout) if completed.stdout.strip() else {}


HANDLERS = ("def double(event):\n    return {'value': event['value'] * 2}\n\n"
            "RESOURCES = {'double': double}\n")


def test_serve_command_survives_sigkill(tmp_path):
    handlers = tmp_path / "handlers.py"
    handlers.write_text(HANDLERS)
    serve = Serve(tmp_path / "cli.db", handlers).start()
    url = serve.url
    try:
        sfn = client(url)
        arn = sfn.create_state_machine(name="Killed", definition=DOUBLE,
                                       roleArn=ROLE)["stateMachineArn"]
        done = sfn.start_execution(stateMachineArn=arn, name="before",
                                   input='{"value": 3}')["executionArn"]
        assert wait_done(sfn, done)["status"] == "SUCCEEDED"
        serve.restart()
        sfn = client(url)
        described = sfn.describe_execution(executionArn=done)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"value": 6}
        assert shutil.which("aws"), "the AWS CLI (the test extra's awscli) is not installed"
        listed = _aws(url, "list-state-machines")
        assert [m["name"] for m in listed["stateMachines"]] == ["Killed"]
        executions = _aws(url, "list-executions", "--state-machine-arn", arn)
        assert [e["status"] for e in executions["executions"]] == ["SUCCEEDED"]
        with pytest.raises(AssertionError, match="StateMachineDoesNotExist"):
            _aws(url, "describe-state-machine", "--state-machine-arn", arn + "Gone")
    finally:
        serve.kill()
