"""Helpers for driving ``asl serve`` with real boto3 over HTTP."""

from __future__ import annotations

import json
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


