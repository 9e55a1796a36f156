"""The pytest plugin's asl_server fixture: a real server for one test, driven by boto3."""

import json

import boto3
from botocore.config import Config

DEFINITION = {"StartAt": "Double", "States": {"Double": {
    "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
    "End": True}}}


def test_the_fixture_serves_the_api_with_the_given_resources(asl_server):
    url = asl_server(resources={"double": lambda payload: {"n": payload["n"] * 2}})
    sfn = boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(inject_host_prefix=False))
    arn = sfn.create_state_machine(name="doubler", definition=json.dumps(DEFINITION),
                                   roleArn="arn:aws:iam::123456789012:role/r",
                                   type="EXPRESS")["stateMachineArn"]
    response = sfn.start_sync_execution(stateMachineArn=arn, input='{"n": 21}')
    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"n": 42}
