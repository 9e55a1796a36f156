"""The benchmark suite still runs and every workload ends as it must (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_quick_run_checks_every_workload():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                           "--no-startup", "--no-memory"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for key in ("W1", "W2", "W3", "W4", "W5", "W5c10", "W6"):
        line = next(l for l in proc.stdout.splitlines() if l.startswith(key + " "))
        assert line.rstrip().endswith("ok"), line
