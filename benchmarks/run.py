"""asl's benchmark suite: the workloads of the performance issue, timed in-process.

    python benchmarks/run.py            # everything, about a minute and a half
    python benchmarks/run.py --quick    # a short smoke run (fewer, shorter rounds)
    python benchmarks/run.py --json     # every figure as JSON on stdout
    python benchmarks/run.py --only W1,W3 --no-memory --no-startup
    python benchmarks/run.py --profile W3   # cProfile: top 15 functions by tottime
    python benchmarks/run.py --only W3-plain,W4-plain,W3-plain-fresh-dict,W3-plain-new-machine

Per workload: CPU (``time.process_time``, all threads) and wall time per execution and per
1000 state transitions, the median of several rounds after a warm-up, under
``asl.VirtualClock()`` with history recording on (asl records it compactly and shapes it
only when read, so the timed loop never reads it). Each workload is checked once, outside
the timing: status, error, number of states entered, Task calls in order.

Then: peak traced memory (tracemalloc) of one W5 execution and of a Map over 100,000
items; the one-shot ``asl run`` of W3 in a fresh process (wall, median of 5); and
``python -X importtime -c "import asl"``.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import asl  # noqa: E402
import workloads  # noqa: E402

#: The issue's targets: CPU time per execution, in milliseconds.
TARGET_MS = {"W1": 1.0, "W2": 20.0, "W3": 0.020, "W4": 0.050, "W5": 25.0, "W5c10": 25.0,
             "W6": 0.6, "W3-plain": 0.020, "W4-plain": 0.040}
#: Targets of the calling variants, relative to their baseline (W3-plain): a fresh
#: resources dict at most this many ms more; a new StateMachine at most this many times.
TARGET_EXTRA_MS = {"W3-plain-fresh-dict": 0.005}
TARGET_TIMES = {"W3-plain-new-machine": 2.0}
TARGET_ONE_SHOT_S = 0.25
TARGET_100K_MB = 200.0


# --- timing ----------------------------------------------------------------------------------

class AslRunner:
    """Executes one workload with asl, as a user would: one machine, many executions.

    A workload's ``variant`` says what is new per execution (``workloads.VARIANTS``): a
    resources dict, new closures, or a ``StateMachine`` built from an equal definition
    dict. Those objects are made before the clock starts; the clock covers what asl does
    with them (for new-machine: ``StateMachine(definition)`` plus ``execute``).
    """

    def __init__(self, workload: workloads.Workload) -> None:
        if workload.variant not in workloads.VARIANTS:
            raise ValueError(f"unknown variant {workload.variant!r}")
        self.workload = workload
        self.machine = asl.StateMachine(workload.definition)
        self.resources = workload.resources

    def _fresh(self, executions: int) -> list:
        """What each of ``executions`` executions gets new: resources, or definitions."""
        variant = self.workload.variant
        if variant == "fresh-dict":
            return [dict(self.resources) for _ in range(executions)]
        if variant == "fresh-closures":
            return [self.workload.resources for _ in range(executions)]
        if variant == "new-machine":
            return [copy.deepcopy(self.workload.definition) for _ in range(executions)]
        return []

    def execute(self):
        fresh = self._fresh(1)
        variant = self.workload.variant
        if variant == "new-machine":
            return asl.StateMachine(fresh[0]).execute(self.workload.input,
                                                      resources=self.resources,
                                                      clock=asl.VirtualClock())
        resources = fresh[0] if fresh else self.resources
        return self.machine.execute(self.workload.input, resources=resources,
                                    clock=asl.VirtualClock())

    def check(self) -> dict:
        """One execution, untimed: what it ended with, and what is wrong with that."""
        result = self.execute()
        return {"status": result.status, "error": result.error, "cause": result.cause,
                "states": len(result.states),
                "problems": problems(self.workload, result)}

    def time(self, executions: int) -> tuple[float, float]:
        """(CPU seconds, wall seconds) per execution, over ``executions`` in a row."""
        execute = self.machine.execute
        value, resources, clock = self.workload.input, self.resources, asl.VirtualClock
        variant = self.workload.variant
        fresh = self._fresh(executions)
        c0, w0 = time.process_time(), time.perf_counter()
        if variant == "reuse":
            for _ in range(executions):
                execute(value, resources=resources, clock=clock())
        elif variant == "new-machine":
            machine = asl.StateMachine
            for definition in fresh:
                machine(definition).execute(value, resources=resources, clock=clock())
        else:
            for mapping in fresh:
                execute(value, resources=mapping, clock=clock())
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        del fresh
        return cpu / executions, wall / executions


def problems(workload: workloads.Workload, result) -> list[str]:
    """How an asl result differs from what the workload must end with."""
    found = []
    if result.status != workload.status or result.error != workload.error:
        found.append(f"ended {result.status} error={result.error!r} cause={result.cause!r}; "
                     f"expected {workload.status} error={workload.error!r}")
    if len(result.states) != workload.transitions:
        found.append(f"entered {len(result.states)} states, expected {workload.transitions}")
    if workload.task_calls:
        calls = tuple(s for s in result.states if s in workload.tasks)
        if calls != workload.task_calls:
            found.append(f"called tasks {calls}, expected {workload.task_calls}")
    return found


def calibrate(runner, warmup_seconds: float, round_seconds: float,
              max_executions: int = 100_000) -> int:
    """Warm up, then choose how many executions make one round last ``round_seconds``."""
    spent, runs, samples = 0.0, 0, []
    while runs < 3 or spent < warmup_seconds:
        _, wall = runner.time(1)
        samples.append(wall)
        spent += wall
        runs += 1
        if wall > round_seconds:
            break
    estimate = statistics.median(samples)
    return max(1, min(max_executions, round(round_seconds / max(estimate, 1e-9))))


def measure(runner, rounds: int, warmup_seconds: float, round_seconds: float,
            baseline=None) -> dict:
    """Median (and spread) of per-execution CPU and wall time over ``rounds`` rounds.

    With a ``baseline`` runner (a calling variant's baseline workload), each round also
    times the baseline, right after or (every other round) right before, and the result says by how much the variant differs
    from it, from those pairs (:func:`paired`): on a busy machine, a difference between
    two workloads timed a minute apart says little.
    """
    executions = calibrate(runner, warmup_seconds, round_seconds)
    base_executions = (calibrate(baseline, warmup_seconds, round_seconds)
                       if baseline is not None else 0)
    cpu, wall, base_cpu = [], [], []
    for index in range(rounds):
        # The pair's order alternates, so neither side always follows the other.
        if baseline is not None and index % 2:
            base_cpu.append(baseline.time(base_executions)[0])
        c, w = runner.time(executions)
        cpu.append(c)
        wall.append(w)
        if baseline is not None and not index % 2:
            base_cpu.append(baseline.time(base_executions)[0])
    result = summary(cpu, wall, executions)
    if baseline is not None:
        result.update(paired(cpu, base_cpu))
    return result


def paired(cpu: list[float], base_cpu: list[float]) -> dict:
    """A variant against its baseline, round by round (CPU seconds per execution): the
    baseline's median, and the medians of the per-round difference and ratio (ms, x)."""
    return {"baseline_cpu_ms": statistics.median(base_cpu) * 1e3,
            "extra_cpu_ms": statistics.median(c - b for c, b in zip(cpu, base_cpu)) * 1e3,
            "times_baseline": statistics.median(c / b for c, b in zip(cpu, base_cpu))}


def summary(cpu: list[float], wall: list[float], executions: int) -> dict:
    return {"cpu_ms": statistics.median(cpu) * 1e3, "wall_ms": statistics.median(wall) * 1e3,
            "cpu_ms_min": min(cpu) * 1e3, "cpu_ms_max": max(cpu) * 1e3,
            "rounds": len(cpu), "executions_per_round": executions}


def bench_workload(workload: workloads.Workload, options) -> dict:
    """Check then time one workload; construction failures are reported, not raised."""
    entry = {"title": workload.title, "transitions": workload.transitions,
             "target_cpu_ms": TARGET_MS.get(workload.key)}
    try:
        runner = AslRunner(workload)
    except Exception as exc:  # noqa: BLE001 - a validator or compiler bug is a finding
        entry["failure"] = f"StateMachine() raised {type(exc).__name__}: {exc}"
        return entry
    entry["check"] = runner.check()
    baseline = None
    if workload.baseline is not None:
        baseline = AslRunner({**workloads.WORKLOADS, **workloads.JSONATA_WORKLOADS}[
            workload.baseline])
        entry["baseline"] = workload.baseline
    entry.update(measure(runner, options.rounds, options.warmup, options.round_seconds,
                         baseline))
    entry["cpu_ms_per_1000_transitions"] = entry["cpu_ms"] * 1000 / workload.transitions
    entry["wall_ms_per_1000_transitions"] = entry["wall_ms"] * 1000 / workload.transitions
    return entry


# --- memory ----------------------------------------------------------------------------------

def peak_memory(workload: workloads.Workload) -> dict:
    """Peak traced memory of one execution (the input is built before tracing starts)."""
    machine = asl.StateMachine(workload.definition)
    c0, w0 = time.process_time(), time.perf_counter()
    result = machine.execute(workload.input, resources=workload.resources,
                             clock=asl.VirtualClock())
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    del result
    gc.collect()
    tracemalloc.start()
    try:
        result = machine.execute(workload.input, resources=workload.resources,
                                 clock=asl.VirtualClock())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    items = workload.input.get("items") or workload.resources[
        "arn:aws:states:::s3:getObject"]({})       # the 100k Map reads its items
    return {"items": len(items), "peak_mb": peak / 2**20,
            "cpu_s": cpu, "wall_s": wall, "status": result.status, "error": result.error,
            "cause": result.cause, "states": len(result.states),
            "problems": problems(workload, result)}


# --- one-shot CLI and import time ------------------------------------------------------------

def asl_command() -> list[str]:
    """How to start the ``asl`` command: the console script, else ``python -m asl``."""
    script = shutil.which("asl")
    return [script] if script else [sys.executable, "-m", "asl"]


def one_shot(samples: int) -> dict:
    """Wall time of ``asl run`` on W3 in a fresh process, median of ``samples``."""
    command = asl_command()
    probe = subprocess.run(command + ["run", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        return {"available": False, "note": "n/a (asl run not available yet)"}
    workload = workloads.WORKLOADS["W3"]
    with tempfile.TemporaryDirectory() as tmp:
        definition = Path(tmp, "w3.json")
        definition.write_text(json.dumps(workload.definition))
        # The W3 callables, as a file defining RESOURCES (what --resources loads).
        handlers = Path(tmp, "w3_resources.py")
        handlers.write_text("import sys\nsys.path.insert(0, %r)\nimport workloads\n"
                            "RESOURCES = workloads.WORKLOADS['W3'].resources\n" % str(HERE))
        args = command + ["run", str(definition), "--input", json.dumps(workload.input),
                          "--resources", str(handlers)]
        if "--virtual-time" in probe.stdout:
            args.append("--virtual-time")
        # As an installed asl runs: with its bytecode cached (pip compiles it at install; a
        # PYTHONDONTWRITEBYTECODE environment would make every run compile asl again).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(args, capture_output=True, text=True, env=env)   # writes the cache
        walls = []
        for _ in range(samples):
            w0 = time.perf_counter()
            done = subprocess.run(args, capture_output=True, text=True, env=env)
            walls.append(time.perf_counter() - w0)
            if done.returncode != 0:
                detail = (done.stderr or done.stdout).strip().splitlines()
                return {"available": True, "failed": True,
                        "command": " ".join(args), "exit": done.returncode,
                        "note": f"asl run failed (exit {done.returncode}): "
                                f"{detail[-1] if detail else ''}"}
    return {"available": True, "wall_s": statistics.median(walls), "samples": samples,
            "target_s": TARGET_ONE_SHOT_S}


def parse_importtime(stderr: str) -> dict:
    """``import asl`` from ``-X importtime`` output: its cumulative µs, the self µs of the
    asl modules, and the cumulative µs of each outside module an asl module imports."""
    rows = []   # (self µs, cumulative µs, depth, name)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        self_us, cumulative, name = line[len("import time:"):].split("|")
        if not self_us.strip().isdigit():
            continue   # the header line
        stripped = name.lstrip()
        rows.append((int(self_us), int(cumulative), len(name) - len(stripped), stripped.rstrip()))
    # A module's imports are listed before it, one level deeper.
    top = next((i for i in range(len(rows) - 1, -1, -1)
                if rows[i][3] == "asl" and rows[i][2] == rows[-1][2]), None)
    if top is None:
        raise ValueError("no 'asl' line in -X importtime output")
    start = top
    while start > 0 and rows[start - 1][2] > rows[top][2]:
        start -= 1
    own, outside = {}, {}
    for index in range(start, top + 1):
        self_us, cumulative, depth, name = rows[index]
        if name.split(".")[0] == "asl":
            own[name] = self_us
            continue
        parent = next(r for r in rows[index + 1:top + 1] if r[2] < depth)
        if parent[3].split(".")[0] == "asl":
            outside[name] = outside.get(name, 0) + cumulative
    return {"total_us": rows[top][1], "asl_self_us": own, "outside_cumulative_us": outside}


def import_time(samples: int) -> dict:
    """``python -X importtime -c "import asl"``: cumulative time, median of ``samples``."""
    parsed = []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import asl.cli"], env=env)    # the bytecode cache
    for _ in range(samples):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import asl"],
                              capture_output=True, text=True, cwd=tempfile.gettempdir(),
                              env=env)
        parsed.append(parse_importtime(done.stderr))
    middle = sorted(parsed, key=lambda p: p["total_us"])[len(parsed) // 2]

    def heaviest(table: dict) -> list:
        return [(name, us / 1e3) for name, us in sorted(table.items(), key=lambda r: -r[1])[:6]]

    return {"ms": middle["total_us"] / 1e3, "samples": samples,
            "asl_modules_self_ms": heaviest(middle["asl_self_us"]),
            "outside_modules_cumulative_ms": heaviest(middle["outside_cumulative_us"])}


# --- profile -----------------------------------------------------------------------------------

def profile(key: str, seconds: float = 2.0, top: int = 15) -> str:
    """cProfile of repeated executions of one workload: the top functions by tottime."""
    import cProfile
    import io
    import pstats

    runner = AslRunner({**workloads.WORKLOADS, **workloads.JSONATA_WORKLOADS}[key])
    executions = calibrate(runner, 0.2, seconds)
    profiler = cProfile.Profile()
    profiler.enable()
    runner.time(executions)
    profiler.disable()
    out = io.StringIO()
    out.write(f"{key}: {executions} executions\n")
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --- report ----------------------------------------------------------------------------------

def machine_info() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                capture_output=True, text=True).stdout.strip() or None
    except OSError:
        commit = None
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(), "asl": asl.__version__, "commit": commit}


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.1f} µs"
    if value < 1000:
        return f"{value:.3g} ms" if value < 100 else f"{value:.0f} ms"
    return f"{value / 1000:.2f} s"


def variant_lines(entries: dict, peer: str | None = None) -> list[str]:
    """One line per calling variant: the extra CPU per execution over its baseline, and
    the ratio to it (from paired rounds, see :func:`measure`), with asl's target if any.
    ``peer`` picks a peer's figures out of compare.py's entries (``entry["peers"][peer]``)."""
    every = {**workloads.WORKLOADS, **workloads.JSONATA_WORKLOADS}
    lines = []
    for key, entry in entries.items():
        workload = every.get(key)
        if workload is None or workload.baseline is None:
            continue
        if peer is not None:
            entry = entry.get("peers", {}).get(peer, {})
        if "extra_cpu_ms" not in entry:
            continue
        extra, times = entry["extra_cpu_ms"], entry["times_baseline"]
        target = ""
        if peer not in (None, "asl"):
            pass   # the targets are asl's
        elif key in TARGET_EXTRA_MS:
            met = extra <= TARGET_EXTRA_MS[key]
            target = f"; target <= +{TARGET_EXTRA_MS[key] * 1000:.0f} µs ({'met' if met else 'missed'})"
        elif key in TARGET_TIMES:
            met = times <= TARGET_TIMES[key]
            target = f"; target <= {TARGET_TIMES[key]:g}x ({'met' if met else 'missed'})"
        lines.append(f"{key}: {_ms(entry['cpu_ms'])} against {workload.baseline} "
                     f"{_ms(entry['baseline_cpu_ms'])} in the same rounds: "
                     f"{'+' if extra >= 0 else '-'}{_ms(abs(extra))} ({times:.2f}x){target}")
    return lines


def text_report(report: dict) -> str:
    info = report["machine"]
    lines = [f"asl {info['asl']} ({info['commit']}) benchmarks, {info['date']}",
             f"{info['cpus']} CPUs, {info['implementation']} {info['python']}, "
             f"{info['platform']}", ""]
    header = ("workload", "states", "CPU/exec", "wall/exec", "CPU/1000 tr", "target", "check")
    rows = [header]
    for key, entry in report["workloads"].items():
        if "failure" in entry:
            rows.append((key, str(entry["transitions"]), "-", "-", "-",
                         _ms(entry["target_cpu_ms"]), entry["failure"]))
            continue
        check = entry["check"]
        verdict = "ok" if not check["problems"] else "WRONG: " + "; ".join(check["problems"])
        target = entry["target_cpu_ms"]
        meets = "" if target is None else (" (met)" if entry["cpu_ms"] <= target else " (missed)")
        rows.append((key, str(entry["transitions"]), _ms(entry["cpu_ms"]), _ms(entry["wall_ms"]),
                     _ms(entry["cpu_ms_per_1000_transitions"]), _ms(target) + meets, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                     + "  " + row[-1])
    lines.append("")
    for jsonpath, jsonata, what in (("W3", "W3-jsonata", "happy path"),
                                    ("W4", "W4-jsonata", "failing at notify")):
        entries = report["workloads"]
        if all(k in entries and "cpu_ms" in entries[k] for k in (jsonpath, jsonata)):
            lines.append(f"order saga, {what}: JSONPath {1000 / entries[jsonpath]['cpu_ms']:,.0f} "
                         f"executions/s, JSONata {1000 / entries[jsonata]['cpu_ms']:,.0f} executions/s "
                         f"(CPU)")
    lines += variant_lines(report["workloads"])
    for key, entry in report.get("memory", {}).items():
        if "skipped" in entry:
            lines.append(f"memory {key}: skipped ({entry['skipped']})")
            continue
        verdict = "ok" if not entry["problems"] else "WRONG: " + "; ".join(entry["problems"])
        target = f" (target < {entry['target_mb']:.0f} MB)" if "target_mb" in entry else ""
        lines.append(f"memory {key} ({entry['items']:,} items): peak {entry['peak_mb']:.1f} MB "
                     f"traced{target}; one execution {entry['cpu_s']:.2f} s CPU, {entry['wall_s']:.2f} s "
                     f"wall; {verdict}")
    if "one_shot" in report:
        shot = report["one_shot"]
        if "wall_s" in shot:
            lines.append(f"one-shot `asl run` of W3: {shot['wall_s']:.3f} s wall "
                         f"(median of {shot['samples']}; target <= {shot['target_s']} s)")
        else:
            lines.append(f"one-shot `asl run` of W3: {shot['note']}")
    if "import" in report:
        imp = report["import"]
        own = ", ".join(f"{name} {ms:.1f}" for name, ms in imp["asl_modules_self_ms"])
        outside = ", ".join(f"{name} {ms:.1f}" for name, ms in imp["outside_modules_cumulative_ms"])
        lines.append(f"import asl: {imp['ms']:.1f} ms (-X importtime, median of {imp['samples']})")
        lines.append(f"  asl modules, self ms: {own}")
        lines.append(f"  modules asl imports, cumulative ms: {outside}")
    lines.append(f"(suite ran in {report['elapsed_s']:.0f} s)")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", help="comma-separated workload keys (W1,...,W6, W3-plain, ..., "
                             "W3-jsonata, W4-jsonata)")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-startup", action="store_true",
                        help="skip the one-shot CLI and import-time measurements")
    parser.add_argument("--profile", metavar="KEY", action="append",
                        help="print a cProfile of workload KEY (may repeat) and exit")
    options = parser.parse_args(argv)
    options.rounds = 3 if options.quick else 7
    options.warmup = 0.05 if options.quick else 0.3
    options.round_seconds = 0.02 if options.quick else 0.25
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    if options.profile:
        for key in options.profile:
            print(profile(key))
        return 0
    started = time.perf_counter()
    every = {**workloads.WORKLOADS, **workloads.JSONATA_WORKLOADS}
    keys = options.only.split(",") if options.only else list(every)
    unknown = [k for k in keys if k not in every]
    if unknown:
        print(f"error: unknown workload(s) {', '.join(unknown)}; "
              f"known: {', '.join(every)}", file=sys.stderr)
        return 2
    report = {"machine": machine_info(), "workloads": {}}
    for key in keys:
        report["workloads"][key] = bench_workload(every[key], options)
    if not options.no_memory:
        report["memory"] = {"W5": peak_memory(workloads.WORKLOADS["W5"])}
        if options.quick:
            report["memory"]["W5-100k"] = {"skipped": "--quick"}
        else:
            report["memory"]["W5-100k"] = peak_memory(workloads.map_100k())
            report["memory"]["W5-100k"]["target_mb"] = TARGET_100K_MB
    if not options.no_startup:
        report["one_shot"] = one_shot(1 if options.quick else 5)
        report["import"] = import_time(1 if options.quick else 5)
    report["elapsed_s"] = time.perf_counter() - started
    if options.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        print(text_report(report))
    wrong = [k for k, e in report["workloads"].items()
             if "failure" in e or e["check"]["problems"]]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
