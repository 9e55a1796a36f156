"""moto's Step Functions interpreter as a benchmark peer: offline, in this process.

moto runs state machines for real only when asked: ``mock_aws(config={"stepfunctions":
{"execute_state_machine": True}})`` swaps in its parser backend (the interpreter LocalStack
wrote). Executions are started on that backend directly, not through boto3's HTTP layer,
so the figures are moto's interpreter plus what it does per execution itself (it parses
the definition and deep-copies the state machine on every start), not request handling.

Lambda Tasks (W3/W4) need a Lambda backend. moto's real one runs functions in Docker; its
"simple" backend (``config={"lambda": {"use_docker": False}}``) runs no code. Here that
backend's ``invoke`` answers, in call order (``Workload.task_calls``), what each Task's
function returns; a failing function (W4's Notify) is answered as Lambda answers an
unhandled error: the ``X-Amz-Function-Error: Unhandled`` header and an
``{"errorType", "errorMessage"}`` payload, which moto's Lambda task turns into the error
``errorType``, as AWS does. Every call still goes through a boto3 Lambda client, as moto
always does.

Two moto 5.2.1 quirks are worked around, outside the timed part: ``start_execution``
deep-copies the state machine, and with it the backend and every finished execution it
holds; once one has run the copy fails (``cannot pickle '_thread.RLock' object``). So the
finished executions are forgotten before the next one starts.

Calling variants (``Workload.variant``): moto has no per-call resources, so
"fresh-dict" and "fresh-closures" run as their baseline does; "new-machine" creates a
state machine (on the parser backend, which validates the definition) before each
execution, inside the timing, and deletes the previous one outside it.
"""

from __future__ import annotations

import io
import json
import logging
import time
import zipfile

ACCOUNT = "123456789012"
REGION = "us-east-1"


class CannotRun(Exception):
    """This peer cannot run this workload (the message says why)."""


def unavailable() -> str | None:
    """Why this peer cannot run at all, or None (without importing moto: it is heavy)."""
    from importlib.util import find_spec

    for module, package in (("boto3", "boto3"), ("moto", "moto"),
                            ("antlr4", "moto[stepfunctions]"), ("jsonpath_ng", "jsonpath-ng")):
        if find_spec(module) is None:
            return f"{package} is not installed: pip install -e '.[bench]'"
    return None


def version() -> str:
    from importlib.metadata import version as installed

    return f"moto {installed('moto')}, jsonpath-ng {installed('jsonpath-ng')}"


class MotoPeer:
    """A live ``mock_aws`` session in which workloads are created and executed."""

    name = "moto"

    def __init__(self) -> None:
        self._mock = None
        self._machines = 0

    def __enter__(self) -> "MotoPeer":
        import boto3
        from moto import mock_aws

        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                      "lambda": {"use_docker": False}})
        self._mock.start()
        # moto logs every caught Task error and Fail state at ERROR level, on stderr.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        self._sfn = boto3.client("stepfunctions", region_name=REGION)
        self._lambda = boto3.client("lambda", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        self._role = iam.create_role(RoleName="asl-bench", AssumeRolePolicyDocument="{}",
                                     Path="/")["Role"]["Arn"]
        self._functions: set[str] = set()
        return self

    def __exit__(self, *exc) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    def _backends(self):
        from moto.awslambda_simple.models import lambda_simple_backends
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return (stepfunctions_parser_backends[ACCOUNT][REGION],
                lambda_simple_backends[ACCOUNT][REGION])

    def _create_function(self, name: str) -> None:
        if name in self._functions:
            return
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
        self._lambda.create_function(FunctionName=name, Runtime="python3.11", Role=self._role,
                                     Handler="handler.handle",
                                     Code={"ZipFile": code.getvalue()})
        self._functions.add(name)

    def prepare(self, workload) -> "MotoRunner":
        """Create the state machine (and Lambda functions) for ``workload``."""
        for behaviour in workload.tasks.values():
            self._create_function(behaviour.function)
        self._machines += 1
        arn = self._sfn.create_state_machine(
            name=f"{workload.key}-{self._machines}", definition=json.dumps(workload.definition),
            roleArn=self._role)["stateMachineArn"]
        answers = [_answer(workload.tasks[state]) for state in workload.task_calls]
        sfn_backend, lambda_backend = self._backends()
        runner = MotoRunner(sfn_backend, _answering(lambda_backend), arn,
                            json.dumps(workload.input), answers)
        if workload.variant == "new-machine":
            runner.new_machine(f"{workload.key}-{self._machines}",
                               json.dumps(workload.definition), self._role)
        return runner


def _answer(behaviour) -> tuple[bytes, bool]:
    """(payload, failed): what the function of a Task answers its invoke with."""
    if behaviour.fails:
        error = {"errorType": behaviour.error, "errorMessage": behaviour.cause or ""}
        return json.dumps(error).encode(), True
    return json.dumps(behaviour.value).encode(), False


def _answering(lambda_backend):
    """Make the simple Lambda backend answer from its ``answers`` list (consumed in order)."""
    if getattr(lambda_backend, "answers", None) is None:
        lambda_backend.answers = []

        def invoke(function_name, qualifier, body, headers, response_headers):
            payload, failed = lambda_backend.answers.pop(0)
            if failed:
                response_headers["x-amz-function-error"] = "Unhandled"
            return payload

        lambda_backend.invoke = invoke
    return lambda_backend


class MotoRunner:
    """Runs one workload's executions, one at a time, each to its end."""

    def __init__(self, sfn_backend, lambda_backend, arn: str, input_text: str,
                 answers: list[tuple[bytes, bool]]) -> None:
        self._sfn = sfn_backend
        self._lambda = lambda_backend
        self._arn = arn
        self._input = input_text
        self._answers = answers
        self._count = 0
        self._machine = None     # (name prefix, definition text, role) for "new-machine"

    def new_machine(self, prefix: str, definition: str, role: str) -> None:
        """Create a new state machine (same definition) for every execution."""
        self._machine = (prefix, definition, role)

    def _create(self) -> None:
        prefix, definition, role = self._machine
        self._arn = self._sfn.create_state_machine(
            name=f"{prefix}-m{self._count}", definition=definition,
            roleArn=role).arn

    def _start_and_wait(self):
        from moto.stepfunctions.parser.backend.execution_worker import TMP_THREADS

        self._count += 1
        if self._machine is not None:
            self._create()
        first = len(TMP_THREADS)
        execution = self._sfn.start_execution(self._arn, name=f"run-{self._count}",
                                              execution_input=self._input)
        TMP_THREADS[first].join()   # the execution's own thread: done when it ends
        return execution

    def _reset(self) -> None:
        from moto.stepfunctions.parser.backend.execution_worker import TMP_THREADS

        if self._machine is not None and self._count:
            self._sfn.delete_state_machine(self._arn)
        for machine in self._sfn.state_machines:
            machine.executions.clear()
        TMP_THREADS.clear()
        self._lambda.answers[:] = self._answers

    def check(self) -> dict:
        """One execution, untimed: its status, error and number of states entered."""
        self._reset()
        execution = self._start_and_wait()
        events = execution.to_history_output()["events"]
        states = sum(1 for e in events if e["type"].endswith("StateEntered"))
        status = str(getattr(execution.exec_status, "value", execution.exec_status))
        return {"status": status, "error": execution.error, "states": states}

    def time(self, executions: int) -> tuple[float, float]:
        """(CPU seconds, wall seconds) per execution over ``executions`` runs.

        The per-execution bookkeeping (forgetting the last execution, refilling the
        Lambda answers) is outside the clock.
        """
        cpu = wall = 0.0
        for _ in range(executions):
            self._reset()
            c0, w0 = time.process_time(), time.perf_counter()
            self._start_and_wait()
            cpu += time.process_time() - c0
            wall += time.perf_counter() - w0
        return cpu / executions, wall / executions




def serve(peer: MotoPeer, lines, out) -> None:
    """Answer JSON requests, one per line, with one JSON line each (used by compare.py,
    which keeps moto in a process of its own so that neither interpreter's heap slows the
    other's garbage collection):

    ``{"op": "check", "key": "W3"}`` -> ``{"status", "error", "states"}`` (prepares W3);
    ``{"op": "time", "key": "W3", "executions": n}`` -> ``{"cpu": s, "wall": s}`` per
    execution; anything failing -> ``{"failure": "..."}``.
    """
    import workloads

    runners = {}
    for line in lines:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            key = request["key"]
            if key not in runners:
                runners[key] = peer.prepare(workloads.WORKLOADS[key])
            if request["op"] == "check":
                answer = runners[key].check()
            else:
                cpu, wall = runners[key].time(int(request["executions"]))
                answer = {"cpu": cpu, "wall": wall}
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            answer = {"failure": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def main(argv: list[str]) -> int:
    """``moto_peer.py W3``: one execution in a fresh process (the one-shot figure);
    ``moto_peer.py --serve``: the request loop of :func:`serve` on stdin/stdout."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import workloads

    with MotoPeer() as peer:
        if argv and argv[0] == "--serve":
            serve(peer, sys.stdin, sys.stdout)
            return 0
        outcome = peer.prepare(workloads.WORKLOADS[argv[0] if argv else "W3"]).check()
    print(json.dumps(outcome))
    return 0 if outcome["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
