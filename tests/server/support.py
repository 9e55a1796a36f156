"""Helpers for driving ``asl serve`` with real boto3 over HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import boto3
from botocore.config import Config


ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:{}"


def client(url: str):
    """A boto3 Step Functions client pointed at ``url`` (dummy credentials; no host
    prefix, which StartSyncExecution would otherwise put before the endpoint)."""
    return boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 0}))


def wait_done(sfn, arn: str, timeout: float = 10.0) -> dict:
    """Poll DescribeExecution until the execution is no longer RUNNING."""
    give_up = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > give_up:
            raise AssertionError(f"{arn} still RUNNING after {timeout} s")
        time.sleep(0.02)


def wait_for(predicate, timeout: float = 5.0):
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def task(resource: str, **extra) -> dict:
    return {"Type": "Task", "Resource": resource, **extra}


def definition(states: dict, start: str | None = None, **extra) -> str:
    return json.dumps({"StartAt": start or next(iter(states)), "States": states, **extra})


def double(event):
    return {"value": event["value"] * 2}


def boom(event):
    raise ValueError("no good")


class Tokens:
    """A callable for .waitForTaskToken tasks that hands its token to the test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, payload, context):
        self.seen.append(context.token)
        return None




def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """``asl serve`` as a real subprocess on one SQLite file, to be killed with SIGKILL
    and started again on the same port and file."""

    def __init__(self, db, handlers, env: dict | None = None) -> None:
        self.db, self.handlers, self.env = str(db), str(handlers), env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Serve":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "asl", "serve", "--port", str(self.port), "--db", self.db,
             "--resources", self.handlers],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env)
        give_up = time.monotonic() + 15
        while time.monotonic() < give_up:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise AssertionError(self.process.stderr.read().decode()) from None
                time.sleep(0.05)
        self.kill()
        raise AssertionError("asl serve did not start listening")

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process is not None:
            self.process.stderr.close()
        self.process = None

    def restart(self) -> "Serve":
        self.kill()
        return self.start()
