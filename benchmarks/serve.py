"""``asl serve`` measured: executions per second through boto3, beside moto's server mode,
and what durability (the SQLite journal) costs per state transition.

    python benchmarks/serve.py              # ~1 minute: both parts
    python benchmarks/serve.py --quick      # a smoke run
    python benchmarks/serve.py --no-moto    # asl only
    python benchmarks/serve.py --json

**Through boto3** (what a user's integration test pays): the plain order saga, happy path
(W3-plain: 4 Lambda Tasks with ``ResultPath`` only, 5 transitions), on three servers, each
a process of its own started as a user starts it: ``asl serve --db :memory:``, ``asl serve
--db FILE`` (WAL, one commit per journal record) and ``moto_server`` (``python -m
moto.server``, with ``execute_state_machine`` on and its simple Lambda backend answering
from a queue filled with the same values asl's callables return). A round starts a batch
of executions back to back with ``start_execution``, then polls ``describe_execution`` on
each until it has ended (1 ms between polls of a RUNNING one), and checks that every one
SUCCEEDED. Executions per second = batch / wall of the round; server CPU per execution =
the server process's user+system CPU over the round / batch (so it includes answering
the polls). Servers alternate round by round; figures are medians of the rounds.

**Durability per transition** (in one process, no HTTP): the same saga run by the engine
(1) with no journal (``StateMachine.start(...).result()``: on a thread of its own, as
the server runs it), (2) journaled to a store in ``:memory:``
and (3) journaled to a store in a file, which is what ``asl serve --db FILE`` does. The
difference (3) - (1), divided by the 5 transitions, is what durability costs a transition;
(3) - (2) is the part that is the file (the commits), the rest is writing the records.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

WORKLOAD = "W3-plain"
ROLE = f"arn:aws:iam::{workloads.ACCOUNT}:role/asl-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, log, timeout: float = 30.0) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited with {process.returncode}: "
                               f"{log.read().decode(errors='replace')[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server not listening on {port} after {timeout} s")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(service: str, url: str):
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name=workloads.REGION,
                        aws_access_key_id="bench", aws_secret_access_key="bench",
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 0},
                                      read_timeout=20))


class Server:
    """One server process and a state machine of the workload on it."""

    name: str

    def __init__(self, workload, tmp: Path) -> None:
        self.workload = workload
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.count = 0

    def start(self) -> None:
        # stderr to a file: moto logs every request there, and a pipe nobody reads fills
        # up and blocks the server.
        self.log = open(self.tmp / f"server-{self.port}.log", "w+b")
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                        stderr=self.log)
        wait_listening(self.port, self.process, self.log)
        self.sfn = client("stepfunctions", self.url)
        self.prepare()

    def prepare(self) -> None:
        """What the server needs before a state machine can run, and the machine."""
        self.arn = self.sfn.create_state_machine(
            name=f"bench-{self.port}", definition=json.dumps(self.workload.definition),
            roleArn=ROLE)["stateMachineArn"]

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.log.close()

    def command(self) -> list[str]:
        raise NotImplementedError

    def before_batch(self, size: int) -> None:
        """What the server needs before ``size`` executions, untimed (moto: a reset)."""

    def round(self, size: int) -> dict:
        """``size`` executions started back to back, then polled to their end."""
        self.before_batch(size)
        input_text = json.dumps(self.workload.input)
        cpu0, w0 = process_cpu(self.process.pid), time.perf_counter()
        arns = []
        for _ in range(size):
            self.count += 1
            arns.append(self.sfn.start_execution(stateMachineArn=self.arn,
                                                 name=f"run-{self.count}",
                                                 input=input_text)["executionArn"])
        started = time.perf_counter()
        statuses = []
        for arn in arns:
            while True:
                status = self.sfn.describe_execution(executionArn=arn)["status"]
                if status != "RUNNING":
                    statuses.append(status)
                    break
                time.sleep(0.001)
        wall = time.perf_counter() - w0
        cpu = process_cpu(self.process.pid) - cpu0
        wrong = [s for s in statuses if s != self.workload.status]
        if wrong:
            raise RuntimeError(f"{self.name}: {len(wrong)} of {size} executions ended "
                               f"{wrong[0]}, expected {self.workload.status}")
        return {"per_second": size / wall, "wall_ms": wall / size * 1e3,
                "start_ms": (started - w0) / size * 1e3, "server_cpu_ms": cpu / size * 1e3}


class AslServer(Server):
    def __init__(self, workload, tmp: Path, db: str) -> None:
        super().__init__(workload, tmp)
        self.db = db
        self.name = "asl serve --db " + (":memory:" if db == ":memory:" else "FILE")
        handlers = tmp / "bench_resources.py"
        handlers.write_text("import sys\nsys.path.insert(0, %r)\nimport workloads\n"
                            "RESOURCES = workloads.WORKLOADS[%r].resources\n"
                            % (str(HERE), workload.key))
        self.resources = handlers

    def command(self) -> list[str]:
        return [sys.executable, "-m", "asl", "serve", "--port", str(self.port),
                "--db", self.db, "--resources", str(self.resources)]


class MotoServer(Server):
    name = "moto_server"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-p", str(self.port)]

    def _post(self, path: str, body: dict) -> None:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         method="POST")
        urllib.request.urlopen(request).read()

    def prepare(self) -> None:
        # Real execution is moto's opt-in; its simple Lambda backend runs no code and
        # answers from a queue (before_batch), else with the request body.
        self._post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True},
                                        "lambda": {"use_docker": False}})
        iam = client("iam", self.url)
        iam.create_role(RoleName="asl-bench", AssumeRolePolicyDocument="{}")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
        functions = client("lambda", self.url)
        for behaviour in self.workload.tasks.values():
            functions.create_function(FunctionName=behaviour.function, Runtime="python3.11",
                                      Role=ROLE, Handler="handler.handle",
                                      Code={"ZipFile": code.getvalue()})
        self.answers = [json.dumps(self.workload.tasks[state].value)
                        for state in self.workload.task_calls]
        super().prepare()

    def before_batch(self, size: int) -> None:
        self._post("/moto-api/static/lambda-simple/response",
                   {"results": self.answers * size, "region": workloads.REGION,
                    "account_id": workloads.ACCOUNT})


def moto_server_missing() -> str | None:
    from importlib.util import find_spec

    for module, package in (("boto3", "boto3"), ("moto", "moto"), ("flask", "moto[server]"),
                            ("antlr4", "moto[stepfunctions]")):
        if find_spec(module) is None:
            return f"{package} is not installed: pip install -e '.[bench]'"
    return None


def through_boto3(rounds: int, batch: int, with_moto: bool, moto_batch: int) -> dict:
    workload = workloads.WORKLOADS[WORKLOAD]
    results: dict[str, list[dict]] = {}
    notes: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        servers: list[Server] = [AslServer(workload, tmp, ":memory:"),
                                 AslServer(workload, tmp, str(tmp / "store.db"))]
        if with_moto:
            missing = moto_server_missing()
            if missing:
                notes["moto_server"] = missing
            else:
                servers.append(MotoServer(workload, tmp))
        try:
            for server in servers:
                server.start()
                server.round(min(5, batch))         # warm-up: imports, first compile
            for number in range(rounds):
                order = servers if number % 2 == 0 else servers[::-1]
                for server in order:
                    size = moto_batch if isinstance(server, MotoServer) else batch
                    try:
                        figures = server.round(size)
                    except Exception as exc:
                        raise RuntimeError(f"{server.name} (port {server.port}), round "
                                           f"{number + 1}: {type(exc).__name__}: {exc}") from exc
                    results.setdefault(server.name, []).append(figures)
        finally:
            for server in servers:
                server.stop()
    summary = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
               for name, runs in results.items()}
    return {"workload": WORKLOAD, "rounds": rounds, "batch": batch, "moto_batch": moto_batch,
            "servers": summary, "notes": notes}


def durability(rounds: int, executions: int) -> dict:
    """The engine in-process: no journal, a journal in :memory:, a journal in a file."""
    import uuid

    import asl
    from asl.server.journal import StoreJournal
    from asl.server.store import Store

    workload = workloads.WORKLOADS[WORKLOAD]
    machine = asl.StateMachine(workload.definition)
    resources = workload.resources
    never = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        stores = {"memory": Store(":memory:"), "file": Store(str(Path(tmp, "store.db")))}
        counter = iter(range(10**9))

        def journaled(store):
            arn = f"arn:aws:states:us-east-1:123456789012:execution:bench:{next(counter)}"
            execution = machine._start_journaled(workload.input, resources,
                                                 StoreJournal(store, arn, never),
                                                 token_seed=uuid.uuid4().hex, name=arn[-12:])
            return execution.result()

        # The baseline runs as the server runs an execution, on a thread of its own
        # (stoppable: each callable is handed to a worker), only without a journal.
        ways = {"no journal": lambda: machine.start(workload.input, resources=resources).result(),
                "journal in :memory:": lambda: journaled(stores["memory"]),
                "journal in a file": lambda: journaled(stores["file"])}
        for run in ways.values():                   # warm-up, and the outcome checked
            result = run()
            if result.status != workload.status:
                raise RuntimeError(f"durability: an execution ended {result.status}")
        records = stores["memory"]._one("SELECT COUNT(*) FROM journal")[0] // 1
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
        for number in range(rounds):
            names = list(ways) if number % 2 == 0 else list(ways)[::-1]
            for name in names:
                run = ways[name]
                cpu0, w0 = time.process_time(), time.perf_counter()
                for _ in range(executions):
                    run()
                samples[name].append(((time.process_time() - cpu0) / executions,
                                      (time.perf_counter() - w0) / executions))
        for store in stores.values():
            store.close()
    per = {name: {"cpu_us": statistics.median(c for c, _ in s) * 1e6,
                  "wall_us": statistics.median(w for _, w in s) * 1e6}
           for name, s in samples.items()}
    transitions = workload.transitions
    base, memory, file = (per[n] for n in ways)
    return {"workload": WORKLOAD, "transitions": transitions, "executions": executions,
            "rounds": rounds, "records_per_execution": records, "per_execution": per,
            "durability_per_transition_us": {
                key: (file[key] - base[key]) / transitions for key in ("cpu_us", "wall_us")},
            "file_commits_per_transition_us": {
                key: (file[key] - memory[key]) / transitions for key in ("cpu_us", "wall_us")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (few, small rounds)")
    parser.add_argument("--no-moto", action="store_true", help="asl's servers only")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    args = parser.parse_args(argv)
    rounds, batch, moto_batch, executions = (2, 20, 5, 50) if args.quick else (5, 200, 20, 400)
    # The execution count of each durability round, the number of history executions the
    # store holds grows by it; the figures are per execution.
    http = through_boto3(rounds, batch, not args.no_moto, moto_batch)
    local = durability(rounds, executions // (2 if args.quick else 1))
    report = {"through_boto3": http, "durability": local}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Through boto3: {WORKLOAD} (5 transitions), {http['rounds']} rounds of "
          f"{http['batch']} executions (moto: {http['moto_batch']}), medians")
    print(f"{'server':26} {'executions/s':>13} {'wall ms/exec':>13} {'server CPU ms/exec':>19}")
    servers = http["servers"]
    for name, figures in servers.items():
        print(f"{name:26} {figures['per_second']:13.1f} {figures['wall_ms']:13.2f} "
              f"{figures['server_cpu_ms']:19.2f}")
    for name, note in http["notes"].items():
        print(f"{name:26} not run: {note}")
    if "moto_server" in servers:
        moto = servers["moto_server"]
        for name in [n for n in servers if n.startswith("asl")]:
            print(f"  {name}: {servers[name]['per_second'] / moto['per_second']:.1f}x moto's "
                  f"executions/s, {moto['server_cpu_ms'] / servers[name]['server_cpu_ms']:.1f}x "
                  "less server CPU")
    print()
    print(f"Durability, in-process ({local['workload']}, {local['transitions']} transitions, "
          f"{local['records_per_execution']} journal records per execution), medians of "
          f"{local['rounds']} rounds")
    print(f"{'':22} {'CPU µs/exec':>12} {'wall µs/exec':>13}")
    for name, figures in local["per_execution"].items():
        print(f"{name:22} {figures['cpu_us']:12.1f} {figures['wall_us']:13.1f}")
    cost, commits = local["durability_per_transition_us"], local["file_commits_per_transition_us"]
    print(f"durability per transition: {cost['cpu_us']:.1f} µs CPU, {cost['wall_us']:.1f} µs "
          f"wall (of which the file's commits: {commits['cpu_us']:.1f} µs CPU, "
          f"{commits['wall_us']:.1f} µs wall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
