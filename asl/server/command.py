"""The ``asl serve`` command (registered on the ``asl`` group by :mod:`asl.cli`)."""

from __future__ import annotations

import sys

import click

from asl.server import DEFAULT_PORT

__all__ = ["serve_command"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int,
              help="Port to listen on (8083 is Step Functions Local's; 0 picks a free one).")
@click.option("--db", default=":memory:", show_default=True, metavar="PATH|:memory:",
              help="The SQLite file that keeps state machines, executions and histories.")
@click.option("--resources", "resource_targets", multiple=True, metavar="FILE_OR_MODULE",
              help="A Python file or importable module defining RESOURCES, a dict from "
                   "Resource strings or Lambda function names to callables. Repeatable.")
@click.option("--mock", "mock_file", default=None, metavar="MOCK_CONFIG.json",
              help="A Step Functions Local mock file: StartExecution with "
                   "stateMachineArn#TestCase runs that test case.")
@click.option("--virtual-time", is_flag=True, help="Skip Wait and Retry delays (virtual clock).")
@click.option("--region", default="us-east-1", show_default=True, help="The region in ARNs.")
@click.option("--account", default="123456789012", show_default=True,
              help="The account id in ARNs.")
@click.option("--verbose", is_flag=True, help="Log every request on stderr.")
def serve_command(host, port, db, resource_targets, mock_file, virtual_time, region, account,
                  verbose):
    """Serve the AWS Step Functions API (JSON 1.0) on HOST:PORT, durable in --db.

    Point boto3 (endpoint_url=http://127.0.0.1:8083), the AWS CLI (--endpoint-url) or any
    AWS SDK at it. Tasks run the --resources callables; a Task with none fails as AWS
    fails a call to a missing Lambda function.
    """
    from asl.mock import MockConfigError, load_mock_config
    from asl.resources import ResourceLoadError, load_resources
    from asl.server.host import serve

    try:
        resources: dict = {}
        for target in resource_targets:
            resources.update(load_resources(target))
        mock_config = load_mock_config(mock_file) if mock_file is not None else None
    except (ResourceLoadError, MockConfigError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"asl serve: http://{host}:{port} (store: {db})", err=True)
    try:
        serve(host, port, db, resources, mock_config=mock_config, region=region,
              account=account, virtual_time=virtual_time, quiet=not verbose)
    except OSError as exc:
        click.echo(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(2)
