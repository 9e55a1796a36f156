"""What every example's tests share: checking that its README shows what `asl faults` prints."""

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from asl.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
TABLE_HEADER = "| Fault | Status | Terminal state | Compensations fired | Effects left |"


def readme_command(readme: str, command: str) -> list[str]:
    """The arguments of the README's ``asl <command> ...`` line (continuations joined),
    with example paths made absolute."""
    text = re.search(rf"^asl {command} .*$", readme.replace("\\\n", " "), re.M).group(0)
    return [str(ROOT / arg) if arg.startswith("examples/") else arg for arg in shlex.split(text)[1:]]


def readme_report(readme: str) -> str:
    """The scenario table and the PROBLEM lines shown in the README, as asl prints them."""
    lines = readme.splitlines()
    start = lines.index(TABLE_HEADER)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    problems = [line for line in lines if line.startswith("PROBLEM ")]
    return "\n".join(lines[start:end] + problems) + "\n"


@pytest.fixture
def readme_faults(tmp_path, monkeypatch):
    """``readme_faults(example_dir, database_variable)`` runs the README's `asl faults`
    command on a fresh database, checks it prints exactly the README's table and PROBLEM
    lines and exits with the status the README announces, and returns that status."""
    def check(example: Path, database_variable: str) -> int:
        monkeypatch.setenv(database_variable, str(tmp_path / "faults.db"))
        readme = (example / "README.md").read_text()
        result = CliRunner().invoke(cli, readme_command(readme, "faults"))
        announced = int(re.search(r"\(exit status (\d)", readme).group(1))
        assert result.exit_code == announced, result.output
        assert result.output == readme_report(readme)
        return result.exit_code
    return check
