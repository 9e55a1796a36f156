"""asl against its peers on the benchmark workloads, in one run.

    python benchmarks/peers/compare.py              # every workload, every available peer
    python benchmarks/peers/compare.py --quick      # short rounds, for a smoke run
    python benchmarks/peers/compare.py --only W3,W4 --no-moto --json
    python benchmarks/peers/compare.py --only W3-plain,W4-plain,W3-plain-fresh-dict,W3-plain-new-machine

Peers: moto's Step Functions interpreter (``pip install -e '.[bench]'``) and
aws-local-stepfunctions 3.0.0 on Node (``npm install --prefix benchmarks/peers/local_sfn``).
A peer that is not installed, or cannot run a workload, says so.

asl runs in this process; each peer in a process of its own that answers timing requests
(moto: ``moto_peer.py --serve``; Node: ``local_sfn/run.mjs``). Each workload is checked
once per interpreter (status, error, states entered), then timed in rounds that alternate
the interpreters (asl, moto, local-sfn, asl, moto, ...) so that whatever else the machine
does falls on all of them alike. A round is as many executions as last about 0.2 s (at
least one). Figures are per execution, the median over
rounds: CPU (this process's ``process_time``, all threads; Node's ``process.cpuUsage``) and
wall. The ratio is the peer's time over asl's: 10x means asl is ten times faster.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent
BENCH_DIR = PEERS_DIR.parent
for folder in (BENCH_DIR, PEERS_DIR):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import moto_peer  # noqa: E402
import run as asl_bench  # noqa: E402
import workloads  # noqa: E402

LOCAL_SFN_DIR = PEERS_DIR / "local_sfn"
LOCAL_SFN_PACKAGE = LOCAL_SFN_DIR / "node_modules" / "aws-local-stepfunctions" / "package.json"


class CannotRun(Exception):
    """A peer cannot run a workload (or at all): the message says why."""


# --- peers in processes of their own ------------------------------------------------------------

def local_sfn_unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not LOCAL_SFN_PACKAGE.exists():
        return ("aws-local-stepfunctions is not installed: "
                "npm install --prefix benchmarks/peers/local_sfn")
    return None


def local_sfn_version() -> str:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    package = json.loads(LOCAL_SFN_PACKAGE.read_text())["version"]
    return f"aws-local-stepfunctions {package} (Node {node})"


class ChildPeer:
    """A peer in a process of its own that answers each JSON line with one JSON line.

    Keeping peers out of this process matters: a Python peer's heap (moto and boto3 hold
    some 200,000 objects) slows every full garbage collection asl's executions trigger, and
    would double asl's W2 and W5 times.
    """

    name = "peer"

    def __init__(self, command: list[str], cwd: Path) -> None:
        self._command = command
        self._cwd = cwd

    def __enter__(self):
        self._process = subprocess.Popen(self._command, cwd=self._cwd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, bufsize=1)
        return self

    def __exit__(self, *exc) -> None:
        self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def ask(self, request: dict) -> dict:
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise CannotRun(f"{self.name} exited (code {self._process.poll()})")
        answer = json.loads(line)
        if "failure" in answer:
            raise CannotRun(answer["failure"].splitlines()[0])
        return answer


class MotoProcessPeer(ChildPeer):
    """moto, in ``moto_peer.py --serve``."""

    name = "moto"

    def __init__(self) -> None:
        super().__init__([sys.executable, str(PEERS_DIR / "moto_peer.py"), "--serve"], PEERS_DIR)

    def prepare(self, workload: workloads.Workload) -> "MotoProxy":
        return MotoProxy(self, workload.key)


class MotoProxy:
    def __init__(self, peer: MotoProcessPeer, key: str) -> None:
        self._peer = peer
        self._key = key

    def check(self) -> dict:
        return self._peer.ask({"op": "check", "key": self._key})

    def time(self, executions: int) -> tuple[float, float]:
        answer = self._peer.ask({"op": "time", "key": self._key, "executions": executions})
        return answer["cpu"], answer["wall"]


class LocalSfnPeer(ChildPeer):
    """aws-local-stepfunctions, in ``node run.mjs``."""

    name = "local-sfn"

    def __init__(self) -> None:
        super().__init__(["node", str(LOCAL_SFN_DIR / "run.mjs")], LOCAL_SFN_DIR)

    def prepare(self, workload: workloads.Workload) -> "LocalSfnRunner":
        tasks = {state: ({"error": b.error, "cause": b.cause} if b.fails else {"value": b.value})
                 for state, b in workload.tasks.items()}
        return LocalSfnRunner(self, {"id": workload.key, "definition": workload.definition,
                                     "input": workload.input, "tasks": tasks,
                                     "variant": workload.variant})


class LocalSfnRunner:
    def __init__(self, peer: LocalSfnPeer, request: dict) -> None:
        self._peer = peer
        self._request = request

    def check(self) -> dict:
        answer = self._peer.ask(dict(self._request, check=True, executions=1))
        return {"status": answer["status"], "error": answer["error"], "states": answer["states"]}

    def time(self, executions: int) -> tuple[float, float]:
        answer = self._peer.ask(dict(self._request, executions=executions, rounds=1))
        return answer["cpu_ms"][0] / 1e3, answer["wall_ms"][0] / 1e3


def local_sfn_cli(workload: workloads.Workload, folder: Path) -> tuple[list[str], str]:
    """(command, stdin) running ``local-sfn`` on ``workload``: each Task overridden by a
    shell script that prints its answer (or fails), as the CLI requires."""
    definition = folder / "definition.json"
    definition.write_text(json.dumps(workload.definition))
    command = ["node", "--import", str(LOCAL_SFN_DIR / "polyfill.mjs"),
               str(LOCAL_SFN_PACKAGE.parent / "bin" / "CLI.cjs"), "-f", str(definition)]
    for state, behaviour in workload.tasks.items():
        script = folder / f"{state}.sh"
        body = (f"echo {shlex.quote(behaviour.cause or '')} >&2\nexit 1\n" if behaviour.fails
                else f"echo {shlex.quote(json.dumps(behaviour.value))}\n")
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
        command += ["-t", f"{state}:{script}"]
    # The CLI reads its input from stdin whenever stdin is not a terminal.
    return command, json.dumps(workload.input)


def _median_wall(command: list[str], stdin: str | None, samples: int) -> dict:
    walls = []
    for _ in range(samples):
        w0 = time.perf_counter()
        done = subprocess.run(command, input=stdin, capture_output=True, text=True)
        walls.append(time.perf_counter() - w0)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            return {"failed": f"exit {done.returncode}: {detail[-1] if detail else ''}"}
    return {"wall_s": statistics.median(walls), "samples": samples}


def one_shots(statuses: dict, samples: int) -> dict:
    """W3 once, from a fresh process: ``asl run``, moto, the ``local-sfn`` CLI (wall)."""
    shots = {"asl": asl_bench.one_shot(samples)}
    workload = workloads.WORKLOADS["W3"]
    if not statuses["moto"].startswith("unavailable"):
        shots["moto"] = _median_wall([sys.executable, str(PEERS_DIR / "moto_peer.py"), "W3"],
                                     None, max(1, samples // 2))
    if not statuses["local-sfn"].startswith("unavailable"):
        with tempfile.TemporaryDirectory() as folder:
            command, stdin = local_sfn_cli(workload, Path(folder))
            shots["local-sfn"] = _median_wall(command, stdin, max(1, samples // 2))
    return shots


# --- asl -------------------------------------------------------------------------------------------

class AslPeer:
    name = "asl"

    def __enter__(self) -> "AslPeer":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def prepare(self, workload: workloads.Workload) -> asl_bench.AslRunner:
        return asl_bench.AslRunner(workload)


# --- the comparison --------------------------------------------------------------------------------

def check_against(workload: workloads.Workload, outcome: dict) -> list[str]:
    found = []
    if outcome["status"] != workload.status or outcome["error"] != workload.error:
        found.append(f"ended {outcome['status']} error={outcome['error']!r}, expected "
                     f"{workload.status} error={workload.error!r}")
    if outcome["states"] != workload.transitions:
        found.append(f"entered {outcome['states']} states, expected {workload.transitions}")
    return found


def compare_workload(workload: workloads.Workload, peers: list, options) -> dict:
    """Check, calibrate and time ``workload`` on every peer, alternating them by round.

    A calling variant (``workload.baseline`` set) is timed beside its baseline on each
    peer, in the same rounds (back to back, in alternating order), and the peer's result
    says how much more the variant costs (``run.paired``).
    """
    entry = {"title": workload.title, "transitions": workload.transitions, "peers": {}}
    every = {**workloads.WORKLOADS, **workloads.JSONATA_WORKLOADS}
    runners, baselines = {}, {}
    for peer in peers:
        result = entry["peers"][peer.name] = {}
        try:
            runner = peer.prepare(workload)
            outcome = runner.check()
        except Exception as exc:  # noqa: BLE001 - a peer's failure is reported, not fatal
            result["cannot_run"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            continue
        # asl's own check also compares the Task calls; the peers report less.
        result["problems"] = (outcome["problems"] if "problems" in outcome
                              else check_against(workload, outcome))
        # One timed execution tells the round size, or is all a too slow peer gets.
        cpu, wall = runner.time(1)
        if wall > options.budget:
            result.update(cpu=[cpu], wall=[wall], executions=1,
                          note=f"one execution only: {wall:.1f} s > --budget {options.budget} s")
            continue
        runners[peer.name] = runner
        result.update(cpu=[], wall=[], executions=asl_bench.calibrate(
            runner, options.warmup, options.round_seconds))
        if workload.baseline is not None:
            try:
                base = peer.prepare(every[workload.baseline])
                base.check()
            except Exception as exc:  # noqa: BLE001 - reported, the variant still counts
                result["note"] = f"baseline {workload.baseline} cannot run: {exc}"[:300]
            else:
                baselines[peer.name] = (base, asl_bench.calibrate(
                    base, options.warmup, options.round_seconds), [])
    for index in range(options.rounds):
        for name, runner in runners.items():
            result = entry["peers"][name]
            # A variant and its baseline: the order alternates from round to round.
            pair = baselines.get(name)
            if pair is not None and index % 2:
                pair[2].append(pair[0].time(pair[1])[0])
            cpu, wall = runner.time(result["executions"])
            result["cpu"].append(cpu)
            result["wall"].append(wall)
            if pair is not None and not index % 2:
                pair[2].append(pair[0].time(pair[1])[0])
    for name, result in entry["peers"].items():
        if "cpu" in result:
            if name in baselines:
                result.update(asl_bench.paired(result["cpu"], baselines[name][2]))
            result["cpu_ms"] = statistics.median(result.pop("cpu")) * 1e3
            result["wall_ms"] = statistics.median(result.pop("wall")) * 1e3
    base = entry["peers"].get("asl", {})
    for name, result in entry["peers"].items():
        if name != "asl" and "cpu_ms" in result and "cpu_ms" in base:
            result["cpu_ratio"] = result["cpu_ms"] / base["cpu_ms"]
            result["wall_ratio"] = result["wall_ms"] / base["wall_ms"]
    return entry


def _cell(result: dict, kind: str) -> str:
    if "cannot_run" in result:
        return "cannot run"
    if f"{kind}_ms" not in result:
        return "-"
    text = asl_bench._ms(result[f"{kind}_ms"])
    if f"{kind}_ratio" in result:
        ratio = result[f"{kind}_ratio"]
        text += f" ({ratio:.0f}x)" if ratio >= 100 else f" ({ratio:.3g}x)"
    if result.get("executions") == 1 and "note" in result:
        text += " [1 run]"
    if result.get("problems"):
        text += " !"
    return text


def text_report(report: dict) -> str:
    info = report["machine"]
    lines = [f"asl {info['asl']} ({info['commit']}) against peers, {info['date']}",
             f"{info['cpus']} CPUs, {info['implementation']} {info['python']}, {info['platform']}"]
    for name, status in report["peers"].items():
        lines.append(f"  {name}: {status}")
    names = [n for n, s in report["peers"].items() if not s.startswith("unavailable")]
    for kind, title in (("cpu", "CPU time per execution"), ("wall", "wall time per execution")):
        lines += ["", f"{title} (median of {report['rounds']} alternating rounds; "
                      "(Nx) = peer's time / asl's)"]
        rows = [("workload", "states") + tuple(names)]
        for key, entry in report["workloads"].items():
            rows.append((key, str(entry["transitions"]))
                        + tuple(_cell(entry["peers"].get(n, {}), kind) for n in names))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    variants = [f"  {name}: {line}" for name in names
                for line in asl_bench.variant_lines(report["workloads"], peer=name)]
    if variants:
        lines += ["", "calling variants against their baseline, timed in the same rounds (CPU; "
                      "moto has no per-call resources: its fresh-dict/fresh-closures run as "
                      "the baseline does)"] + variants
    notes = []
    for key, entry in report["workloads"].items():
        for name, result in entry["peers"].items():
            if "cannot_run" in result:
                notes.append(f"{key} {name}: cannot run: {result['cannot_run']}")
            for problem in result.get("problems", ()):
                notes.append(f"{key} {name}: WRONG RESULT (marked !): {problem}")
            if "note" in result:
                notes.append(f"{key} {name}: {result['note']}")
    if notes:
        lines += [""] + notes
    if "one_shot" in report:
        lines += ["", "one-shot W3 from a fresh process (wall): " + "; ".join(
            f"{name} " + (f"{shot['wall_s']:.2f} s" if "wall_s" in shot
                          else shot.get("note") or shot.get("failed", "?"))
            for name, shot in report["one_shot"].items())
            + "  (asl: `asl run`, moto: a script running it under mock_aws, "
              "local-sfn: its CLI, Tasks overridden by shell scripts)"]
    lines.append(f"(compared in {report['elapsed_s']:.0f} s)")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--quick", action="store_true", help="short rounds, for a smoke run")
    parser.add_argument("--only", help="comma-separated workload keys")
    parser.add_argument("--no-moto", action="store_true")
    parser.add_argument("--no-local-sfn", action="store_true")
    parser.add_argument("--no-one-shot", action="store_true",
                        help="skip the one-shot (fresh process) W3 runs")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 5, quick 2)")
    parser.add_argument("--budget", type=float, default=10.0,
                        help="a peer whose single execution takes longer (wall seconds) is "
                             "timed once only (default 10)")
    options = parser.parse_args(argv)
    options.rounds = options.rounds or (2 if options.quick else 5)
    options.warmup = 0.05 if options.quick else 0.3
    options.round_seconds = 0.02 if options.quick else 0.2
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    started = time.perf_counter()
    keys = options.only.split(",") if options.only else list(workloads.WORKLOADS)
    unknown = [k for k in keys if k not in workloads.WORKLOADS]
    if unknown:
        print(f"error: unknown workload(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    peers, statuses = [AslPeer()], {"asl": f"asl {asl_bench.asl.__version__}"}
    if options.no_moto:
        statuses["moto"] = "unavailable: --no-moto"
    elif (reason := moto_peer.unavailable()) is not None:
        statuses["moto"] = f"unavailable: {reason}"
    else:
        peers.append(MotoProcessPeer())
        statuses["moto"] = f"{moto_peer.version()} (mock_aws, in a process of its own)"
    if options.no_local_sfn:
        statuses["local-sfn"] = "unavailable: --no-local-sfn"
    elif (reason := local_sfn_unavailable()) is not None:
        statuses["local-sfn"] = f"unavailable: {reason}"
    else:
        peers.append(LocalSfnPeer())
        statuses["local-sfn"] = local_sfn_version()
    report = {"machine": asl_bench.machine_info(), "peers": statuses, "rounds": options.rounds,
              "workloads": {}}
    entered = []
    try:
        for peer in peers:
            try:
                entered.append(peer.__enter__())
            except Exception as exc:  # noqa: BLE001 - a peer that cannot start is reported
                statuses[peer.name] = f"unavailable: failed to start: {type(exc).__name__}: {exc}"
        for key in keys:
            report["workloads"][key] = compare_workload(workloads.WORKLOADS[key], entered,
                                                        options)
            print(f"  {key} done", file=sys.stderr, flush=True)
    finally:
        for peer in reversed(entered):
            peer.__exit__(None, None, None)
    if not options.no_one_shot:
        report["one_shot"] = one_shots(statuses, 1 if options.quick else 5)
    report["elapsed_s"] = time.perf_counter() - started
    if options.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(text_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
