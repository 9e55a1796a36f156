"""Ctrl-C in `asl run`: a clear message, exit 130, within a second (issue 12)."""

import json
import signal
import subprocess
import sys
import time

import pytest

HANDLERS = '''
import sys
import time

def block(payload):
    # One write: print() writes the text and the newline separately, and three
    # branches printing at once interleave them ("startedstarted").
    sys.stdout.write("started\\n")
    sys.stdout.flush()
    time.sleep(60)
    return {}

RESOURCES = {"block": block}
'''

TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:block", "End": True}
MACHINES = {
    "task": {"StartAt": "T", "States": {"T": TASK}},
    "parallel": {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": name, "States": {name: TASK}} for name in ("A", "B", "C")]}}},
}


@pytest.mark.parametrize("shape", sorted(MACHINES))
def test_ctrl_c_exits_130_at_once_with_a_message(tmp_path, shape):
    machine = tmp_path / "machine.json"
    machine.write_text(json.dumps(MACHINES[shape]))
    handlers = tmp_path / "handlers.py"
    handlers.write_text(HANDLERS)
    process = subprocess.Popen([sys.executable, "-m", "asl", "run", str(machine),
                                "--resources", str(handlers)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "started"
        time.sleep(0.2)
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
        elapsed = time.monotonic() - began
    finally:
        process.kill()
    assert process.returncode == 130
    assert elapsed < 1.0
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
