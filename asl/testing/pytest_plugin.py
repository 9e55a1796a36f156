"""pytest plugin for ASL tests: fixtures, a Hypothesis profile, and ASL coverage.

Registered through the ``pytest11`` entry point ``asl = "asl.testing.pytest_plugin"``.

* Fixtures: ``virtual_clock`` (a fresh ``asl.VirtualClock(start=0, seed=0)``),
  ``ledger`` (a fresh :class:`asl.testing.Ledger`) and ``asl_server`` (starts ``asl serve``
  on a free port: ``url = asl_server(resources={...})``).
* Hypothesis profile ``asl``: no deadline (an execution's first run compiles caches),
  derandomized when the ``CI`` environment variable is set. Select it with
  ``--hypothesis-profile=asl`` or ``settings.load_profile("asl")``.
* ``--asl-coverage``: every execution the session makes (``StateMachine.execute`` and
  ``start``) is recorded; after the run, a report lists per machine the states and the
  Next, Choice, Catch and Retry edges no test ever exercised.
  ``--asl-coverage-json=PATH`` also writes it as JSON.
"""

from __future__ import annotations

import json
import os
import weakref

import pytest

from asl.testing.coverage import Coverage, format_report

PROFILE = "asl"


def _register_profile() -> None:
    """Registered at import, before Hypothesis' own plugin reads --hypothesis-profile."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:        # hypothesis is optional for the fixtures and coverage
        return
    settings.register_profile(PROFILE, deadline=None, derandomize=bool(os.environ.get("CI")),
                              print_blob=True, suppress_health_check=[HealthCheck.too_slow])


_register_profile()


@pytest.fixture
def virtual_clock():
    """A fresh VirtualClock at epoch 0 with jitter seed 0: waits cost no real time."""
    from asl.clock import VirtualClock
    return VirtualClock(start=0, seed=0)


@pytest.fixture
def ledger():
    """A fresh Ledger for handlers to record their effects and compensations in."""
    from asl.testing.ledger import Ledger
    return Ledger()


@pytest.fixture
def asl_server():
    """Start ``asl serve`` on a free port for this test: ``url = asl_server(resources={...},
    db=..., virtual_time=...)`` returns its endpoint URL; every server started is stopped
    when the test ends."""
    from contextlib import ExitStack

    from asl.server import running_server

    with ExitStack() as servers:
        yield lambda **options: servers.enter_context(running_server(**options))


def pytest_addoption(parser) -> None:
    group = parser.getgroup("asl", "Amazon States Language state machines")
    group.addoption("--asl-coverage", action="store_true", default=False,
                    help="report the states and Next/Choice/Catch/Retry edges of every "
                         "executed state machine that no test exercised")
    group.addoption("--asl-coverage-json", metavar="PATH", default=None,
                    help="also write the ASL coverage report as JSON to PATH")


class _Recorder:
    """Wraps StateMachine.execute and .start for the session; records every result."""

    def __init__(self) -> None:
        self.coverage = Coverage()
        self.started: list = []       # (machine info, Execution) to collect at the end
        self.machines: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
        self.originals: dict = {}

    def info(self, machine):
        info = self.machines.get(machine)
        if info is None:
            definition = machine.definition
            info = self.machines[machine] = (definition, self.coverage.key(definition, machine.name),
                                             machine.name)
        return info

    def record(self, info, result) -> None:
        definition, key, name = info
        try:
            self.coverage.record(definition, result, name, key)
        except Exception:  # noqa: BLE001 - coverage must never fail a test
            pass

    def install(self) -> None:
        from asl.machine import StateMachine

        execute, start = StateMachine.execute, StateMachine.start
        self.originals = {"execute": execute, "start": start}
        recorder = self

        def recorded_execute(machine, *args, **kwargs):
            result = execute(machine, *args, **kwargs)
            recorder.record(recorder.info(machine), result)
            return result

        def recorded_start(machine, *args, **kwargs):
            execution = start(machine, *args, **kwargs)
            recorder.started.append((recorder.info(machine), execution))
            return execution

        recorded_execute.__doc__, recorded_start.__doc__ = execute.__doc__, start.__doc__
        StateMachine.execute = recorded_execute
        StateMachine.start = recorded_start

    def uninstall(self) -> None:
        from asl.machine import StateMachine

        for name, original in self.originals.items():
            setattr(StateMachine, name, original)
        self.originals = {}

    def finish(self) -> None:
        """Background executions count once they are done."""
        for info, execution in self.started:
            if execution.done:
                self.record(info, execution.result(0))
        self.started = []


def pytest_configure(config) -> None:
    if config.getoption("--asl-coverage") or config.getoption("--asl-coverage-json"):
        recorder = _Recorder()
        recorder.install()
        config._asl_coverage = recorder
        config.add_cleanup(recorder.uninstall)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    recorder = getattr(config, "_asl_coverage", None)
    if recorder is None:
        return
    recorder.finish()
    machines = recorder.coverage.machines()
    terminalreporter.section("ASL coverage")
    terminalreporter.write_line(format_report(machines))
    path = config.getoption("--asl-coverage-json")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(recorder.coverage.report(), out, indent=2)
        terminalreporter.write_line(f"ASL coverage JSON written to {path}")
