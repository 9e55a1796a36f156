"""The ``asl`` command: a click group with one function per subcommand.

Importing this module is cheap (click only); each command imports what it needs when it
runs. Exit codes are shared by every command: 0 success, 1 the definition (or run) is
not valid, 2 the input could not be read or used (one line on stderr, never a traceback).
"""

from __future__ import annotations

import json
import sys

import click

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNUSABLE = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="asl", prog_name="asl")
def main() -> None:
    """Amazon States Language (AWS Step Functions) state machines, offline.

    Validate definitions as AWS does and run them in-process, without an AWS account.
    """


@main.command()
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"valid": ..., "diagnostics": [...]} instead of text.')
def validate(file: str, as_json: bool) -> None:
    """Check the state machine definition in FILE (JSON or YAML; '-' reads stdin).

    Prints one line per problem and a summary. Exits 0 when valid (warnings allowed),
    1 when invalid, 2 when FILE cannot be read or is not a JSON or YAML object.
    """
    from pathlib import Path

    from asl.definition import DefinitionError
    from asl.validation import is_valid
    from asl.validation import validate as validate_definition

    name = "<stdin>" if file == "-" else file
    try:
        diagnostics = validate_definition("-" if file == "-" else Path(file))
    except DefinitionError as exc:
        _fail(str(exc))
    except (RecursionError, MemoryError):
        _fail(f"{name}: the definition is too large or too deeply nested to validate")
    except Exception as exc:  # noqa: BLE001 - a bug must still not print a traceback
        _fail(f"{name}: internal error while validating ({type(exc).__name__}: {exc}); "
              "please report it")
    valid = is_valid(diagnostics)
    if as_json:
        click.echo(json.dumps({"valid": valid, "diagnostics": [d.to_dict() for d in diagnostics]},
                              indent=2, ensure_ascii=False))
    else:
        for diagnostic in diagnostics:
            click.echo(str(diagnostic))
        click.echo(f"{name}: {_summary(diagnostics, valid)}")
    sys.exit(EXIT_OK if valid else EXIT_INVALID)


def _summary(diagnostics, valid: bool) -> str:
    errors = sum(d.severity == "ERROR" for d in diagnostics)
    warnings = len(diagnostics) - errors
    counts = []
    if errors:
        counts.append(_plural(errors, "error"))
    if warnings:
        counts.append(_plural(warnings, "warning"))
    if valid:
        return "valid" + (f" ({', '.join(counts)})" if counts else "")
    return ", ".join(counts)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _fail(message: str) -> None:
    """One line on stderr, exit 2: the input could not be used at all."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)
