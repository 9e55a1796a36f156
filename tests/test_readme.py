"""The README's Python example runs as written, and its two commands are the ones CI uses."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_python_api_example_runs_as_written():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    example = next(b for b in blocks if "asl.StateMachine(definition" in b)
    exec(compile(example, "README.md", "exec"), {"print": lambda *a, **k: None})


def test_readme_opens_with_the_install_and_run_command_and_the_test_command():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert commands[0].startswith("pip install -e . && asl run examples/")
    assert commands[1] == "pip install -e '.[test]' && python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]'" in ci and "\npython -m pytest\n" in ci


def test_the_property_test_example_runs_and_passes():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    example = next(b for b in blocks if "fault_plans(" in b)
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)
    namespace["test_whatever_fails_every_completed_step_is_undone_once_in_reverse"]()
