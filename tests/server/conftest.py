"""Fixtures: a server on a free port with a temporary SQLite file, and a boto3 client."""

from __future__ import annotations

import pytest

from asl.server import running_server

from .support import ROLE, Tokens, boom, client, definition, double


@pytest.fixture
def tokens():
    return Tokens()


@pytest.fixture
def resources(tokens):
    return {"double": double, "boom": boom, "callback": tokens}


@pytest.fixture
def server(tmp_path, resources):
    with running_server(db=str(tmp_path / "asl.db"), resources=resources) as url:
        yield url


@pytest.fixture
def sfn(server):
    return client(server)


@pytest.fixture
def make_machine(sfn):
    def make(name: str, states: dict | str, kind: str = "STANDARD", **extra) -> str:
        text = states if isinstance(states, str) else definition(states)
        return sfn.create_state_machine(name=name, definition=text, roleArn=ROLE, type=kind,
                                        **extra)["stateMachineArn"]
    return make
