"""``asl serve``: the AWS Step Functions API (JSON 1.0) on localhost, durable in SQLite.

Point any AWS SDK or the AWS CLI at it with an endpoint URL::

    from asl.server import running_server
    import boto3
    from botocore.config import Config

    with running_server(resources={"charge": charge}) as url:
        sfn = boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x",
                           config=Config(inject_host_prefix=False))
        arn = sfn.create_state_machine(name="M", definition=..., roleArn=...)["stateMachineArn"]

:func:`serve` blocks (the ``asl serve`` command); :func:`running_server` starts a server
on a free port in a daemon thread and yields its URL. See ``docs/serve.md``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Server", "serve", "running_server", "ApiError", "DEFAULT_PORT"]

#: Step Functions Local's port, so existing configurations work unchanged.
DEFAULT_PORT = 8083

_LAZY = frozenset({"Server", "serve", "running_server", "ApiError"})


def __getattr__(name: str) -> Any:
    # Loaded on first use: ``asl run`` imports asl.server.command (click only) to register
    # ``asl serve``, and must not pay for http.server, sqlite3 and the service (~0.1 s).
    if name in _LAZY:
        from asl.server import host

        return getattr(host, name)
    raise AttributeError(f"module 'asl.server' has no attribute {name!r}")
