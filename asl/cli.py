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
EXIT_INTERRUPTED = 130      # 128 + SIGINT, as shells report it


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="asl", prog_name="asl")
def main() -> None:
    """Amazon States Language (AWS Step Functions) state machines, offline.

    Validate definitions as AWS does and run them in-process, without an AWS account.
    """


def _state_machine_option(command):
    """--state-machine: the definition is in a CloudFormation/SAM template or cdk output."""
    return click.option(
        "--state-machine", "state_machine", default=None, metavar="LOGICAL_ID",
        help="Read the definition of this AWS::StepFunctions::StateMachine or "
             "AWS::Serverless::StateMachine resource of a CloudFormation/SAM template (or "
             "'cdk synth' output); optional when the template has only one.")(command)


@main.command()
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"valid": ..., "diagnostics": [...]} instead of text.')
@click.option("--strict", is_flag=True,
              help="Count warnings (AWS's and asl's own, such as INTRINSIC_ARGUMENTS) as "
                   "errors: exit 1 when there is any.")
@_state_machine_option
def validate(file: str, as_json: bool, state_machine: str | None, strict: bool) -> None:
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
        loaded, origin = _read_located(file if file == "-" else Path(file), state_machine)
        diagnostics = validate_definition(loaded)
    except DefinitionError as exc:
        _fail(str(exc))
    except (RecursionError, MemoryError):
        _fail(f"{name}: the definition is too large or too deeply nested to validate")
    except Exception as exc:  # noqa: BLE001 - a bug must still not print a traceback
        _fail(f"{name}: internal error while validating ({type(exc).__name__}: {exc}); "
              "please report it")
    valid = is_valid(diagnostics) and not (strict and diagnostics)
    if as_json:
        report = {"valid": valid, "diagnostics": [d.to_dict() for d in diagnostics]}
        if origin is not None:
            report["definitionLocation"] = origin
        click.echo(_printable(json.dumps(report, indent=2, ensure_ascii=False)))
    else:
        if origin is not None and diagnostics:
            # Pointers are into the definition; say where in the template it is.
            click.echo(_printable(f"{name}: the state machine at {origin}:"))
        for diagnostic in diagnostics:
            click.echo(_printable(str(diagnostic)))
        click.echo(_printable(f"{name}: {_summary(diagnostics, valid)}"))
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
    click.echo(_printable(f"error: {message}"), err=True)
    sys.exit(EXIT_UNUSABLE)


def _printable(text: str) -> str:
    """``text`` with lone surrogates (legal in a JSON escape, not in UTF-8) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _problem(exc: BaseException) -> str:
    """One line for a user's mistake: a file error names the file, not an errno."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


@main.command()
@click.argument("definition", metavar="DEFINITION")
@click.option("--input", "input_text", default=None, metavar="JSON|@FILE|-",
              help="Execution input: JSON text, @file.json, or - for stdin (default {}).")
@click.option("--resources", "resource_targets", multiple=True, metavar="FILE_OR_MODULE",
              help="A Python file or importable module defining RESOURCES, a dict from "
                   "Resource strings or Lambda function names to callables. Repeatable.")
@click.option("--sub", "subs", multiple=True, metavar="KEY=VALUE",
              help="Fill ${KEY} placeholders, as CloudFormation DefinitionSubstitutions do.")
@click.option("--mock", "mock_file", default=None, metavar="MOCK_CONFIG.json",
              help="A Step Functions Local mock file (MockConfigFile format).")
@click.option("--test-case", default=None, metavar="NAME", help="The mock file's test case to run.")
@click.option("--virtual-time", is_flag=True, help="Skip Wait and Retry delays (virtual clock).")
@click.option("--trace", is_flag=True, help="Print each state as it is entered and left, with "
                                            "retries and catches, on stderr.")
@click.option("--history", "show_history", is_flag=True,
              help="Print the AWS-shaped execution history (JSON) on stderr.")
@click.option("--name", default=None, help="The execution name (default: a UUID).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"executionArn", "status", "output", "error", "cause", "states"} '
                   'whatever the status ("states": the names of the states entered, in order).')
@_state_machine_option
def run(definition, input_text, resource_targets, subs, mock_file, test_case, virtual_time,
        trace, show_history, name, as_json, state_machine):
    """Execute the state machine in DEFINITION (JSON or YAML) in-process.

    Task resources are dispatched to Python callables from --resources, or answered by a
    --mock file. SUCCEEDED prints the output JSON and exits 0; FAILED, TIMED_OUT or
    ABORTED print the error and cause on stderr and exit 1. A mistake in what you gave
    (a missing file, an invalid definition, bad input JSON, a Task with no callable, a
    handler module that fails to import) prints one line and exits 2.

    \b
    Example:
      asl run examples/order-saga/order-saga.asl.json \\
          --resources examples/order-saga/handlers.py \\
          --input '{"order_id": "o-1", "fail_at": "notify"}' --trace
    """
    import asl
    from asl.definition import DefinitionError
    from asl.mock import MockConfigError, find_test_case, load_mock_config, mock_resources
    from asl.resources import ResourceLoadError, load_resources

    origin = None
    try:
        substitutions = _parse_subs(subs)
        loaded, origin = _read_located(definition, state_machine, substitutions)
        execution_input = _read_input(input_text)
        resources = {}
        for target in resource_targets:
            resources.update(load_resources(target))
        if (mock_file is None) != (test_case is None):
            raise click.UsageError("--mock and --test-case go together")
        if mock_file is not None:
            config = load_mock_config(mock_file)
            resources = mock_resources(loaded.definition, config, find_test_case(config, test_case), resources)
        machine = asl.StateMachine(loaded)
        missing = machine.missing_resources(resources)
        if missing:
            raise asl.MissingResourceError(missing)
    except (click.UsageError, SystemExit):
        raise
    except asl.ValidationError as exc:
        where = f" (the state machine at {origin})" if origin else ""
        _fail(f"{definition}: invalid definition{where}\n{exc}")
    except (DefinitionError, ResourceLoadError, MockConfigError, ValueError, OSError) as exc:
        _fail(_problem(exc))
    except asl.MissingResourceError as exc:
        _fail(f"{exc}\n(give them with --resources FILE, whose RESOURCES dict maps a Resource "
              "string or a Lambda function name to a callable, or with --mock)")
    except Exception as exc:  # noqa: BLE001 - never a traceback for a user's mistake
        _fail(f"{type(exc).__name__}: {exc}")

    listener = _Tracer() if trace else None
    clock = asl.VirtualClock() if virtual_time else None
    try:
        result = machine.execute(execution_input, resources, clock=clock, name=name,
                                 on_event=listener)
    except KeyboardInterrupt:
        # Branch threads and abandoned callables are daemons: nothing holds the exit.
        click.echo("interrupted: the execution was abandoned (Ctrl-C)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if show_history:
        click.echo(json.dumps({"events": result.history}, indent=2, ensure_ascii=False), err=True)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif result.status == "SUCCEEDED":
        click.echo(json.dumps(result.output, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{result.status}: {result.error}" + (f": {result.cause}" if result.cause else ""),
                   err=True)
    sys.exit(EXIT_OK if result.status == "SUCCEEDED" else EXIT_INVALID)


def _read(definition, state_machine=None, substitutions=None):
    """DEFINITION read once, as the pipeline's LoadedDefinition (see _read_located)."""
    return _read_located(definition, state_machine, substitutions)[0]


def _read_located(definition, state_machine=None, substitutions=None):
    """DEFINITION read once, as the pipeline's LoadedDefinition: an ASL file, text or
    stdin, or a template's state machine (with --state-machine, or when the file holds
    a CloudFormation resource of a state machine type). Also where in the template the
    definition came from (``Resources/<id>/Properties.DefinitionString``), or None."""
    from asl.definition import LoadedDefinition, read_definition
    from asl.definition.template import load_template, looks_like_template

    if state_machine is not None or looks_like_template(definition):
        found = load_template(definition, state_machine, substitutions)
        where = f"Resources/{found.logical_id}/{found.field}"
        if found.definition_file:
            where += f" ({found.definition_file})"
        return LoadedDefinition(found.definition), where
    return read_definition(definition, substitutions), None


def _parse_subs(subs) -> dict:
    substitutions = {}
    for item in subs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--sub")
        substitutions[key] = value
    return substitutions


def _read_input(text, option: str = "--input"):
    """``option``'s value: JSON text, @file.json, or - for stdin; nothing means {}."""
    if text is None:
        return {}
    source = option
    if text == "-":
        text, source = sys.stdin.read(), "stdin"
    elif text.startswith("@"):
        path = text[1:]
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            what = "input" if option == "--input" else option
            raise ValueError(f"cannot read {what} file '{path}': {exc.strerror}") from None
        source = path
    from asl.payload import NotJSON, loads
    try:
        return loads(text)
    except NotJSON as exc:
        raise ValueError(f"{source}: not valid JSON: {exc}") from None


class _Tracer:
    """A live, readable log of an execution (on stderr; colour only on a terminal)."""

    def __init__(self) -> None:
        self.depth = 0

    def _say(self, text: str, **style) -> None:
        click.echo(click.style("  " * self.depth + text, **style), err=True)

    def __call__(self, event_type: str, details: dict) -> None:
        if event_type.endswith("StateEntered"):
            self._say(f"-> {details['name']} ({event_type[:-12]})", bold=True)
        elif event_type.endswith("StateExited"):
            self._say(f"<- {details['name']}  {_short(details.get('output'))}", fg="green")
        elif event_type in ("TaskFailed", "LambdaFunctionFailed", "ActivityFailed",
                            "TaskTimedOut", "LambdaFunctionTimedOut", "ActivityTimedOut"):
            self._say(f"   x {details.get('error')}: {_short(details.get('cause'), 100)}", fg="red")
        elif event_type == "Retry":
            self._say(f"   retry #{details['attempt']} of {details['name']} in "
                      f"{details['delay']:g} s ({details['error']})", fg="yellow")
        elif event_type == "Catch":
            self._say(f"   caught {details['error']} -> {details['next']}", fg="yellow")
        elif event_type in ("ParallelStateStarted", "MapStateStarted"):
            self.depth += 1
        elif event_type in ("ParallelStateSucceeded", "ParallelStateFailed",
                            "MapStateSucceeded", "MapStateFailed"):
            self.depth = max(0, self.depth - 1)
        elif event_type == "MapIterationStarted":
            self._say(f"[{details['index']}]", dim=True)
        elif event_type == "FailStateEntered":
            pass


def _short(value, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _load_machine_and_resources(definition, resource_targets, subs, state_machine=None):
    """Shared by run-like commands: the StateMachine, the resources and their modules."""
    import asl
    from asl.resources import load_resource_module, resources_of

    loaded = _read(definition, state_machine, _parse_subs(subs))
    modules, resources = [], {}
    for target in resource_targets:
        module = load_resource_module(target)
        modules.append(module)
        resources.update(resources_of(module, target))
    return asl.StateMachine(loaded), resources, modules


def _user_errors():
    """The exceptions that mean 'what you gave cannot be used' (exit 2)."""
    import asl
    from asl.definition import DefinitionError
    from asl.mock import MockConfigError
    from asl.resources import ResourceLoadError

    return (asl.ValidationError, DefinitionError, ResourceLoadError, MockConfigError,
            asl.MissingResourceError, ValueError, OSError)


@main.command()
@click.argument("definition", metavar="DEFINITION")
@click.option("--resources", "resource_targets", multiple=True, metavar="FILE_OR_MODULE",
              help="Handlers, as for 'asl run'. A module that also defines LEDGER (an "
                   "asl.testing.Ledger its handlers record into) gets an 'effects left' column.")
@click.option("--input", "input_text", default=None, metavar="JSON|@FILE|-",
              help="Execution input (default {}).")
@click.option("--sub", "subs", multiple=True, metavar="KEY=VALUE", help="Fill ${KEY} placeholders.")
@click.option("--error", "error_names", multiple=True, metavar="NAME",
              help="Error to inject (default States.TaskFailed). Repeatable.")
@click.option("--concurrency", type=click.Choice(["sequential", "threads"]), default="sequential",
              show_default=True, help="How Parallel branches and Map iterations run: in order "
                                      "(a stable table) or on threads.")
@click.option("--json", "as_json", is_flag=True, help="Print the scenarios as JSON.")
@_state_machine_option
def faults(definition, resource_targets, input_text, subs, error_names, concurrency, as_json,
           state_machine):
    """Run DEFINITION without faults, then with one injected fault at every Task.

    Where a Retry matches, a scenario with the retries exhausted is run too. Prints the
    scenario table: fault point, status, terminal state, compensations fired, effects
    left. Exits 1 when a scenario leaves effects behind or a fault escapes every Catch
    of a state that has Catch rules, 0 otherwise, 2 on a usage mistake.
    """
    from asl.testing.scenarios import format_scenarios, scenario_problems, scenarios

    try:
        machine, resources, modules = _load_machine_and_resources(definition, resource_targets,
                                                                  subs, state_machine)
        execution_input = _read_input(input_text)
        missing = machine.missing_resources(resources)
        if missing:
            import asl
            raise asl.MissingResourceError(missing)
    except (click.UsageError, SystemExit):
        raise
    except _user_errors() as exc:
        _fail(_problem(exc))
    ledger = next((m.LEDGER for m in modules if hasattr(m, "LEDGER")), None)
    rows = scenarios(machine, resources, execution_input, ledger=ledger,
                     errors=tuple(error_names) or ("States.TaskFailed",), concurrency=concurrency)
    problems = scenario_problems(rows)
    if as_json:
        click.echo(json.dumps({"scenarios": [
            {"fault": r.fault, "kind": r.kind, "error": r.error, "status": r.status,
             "terminal": r.terminal, "compensations": list(r.compensations),
             "effects_left": None if r.effects_left is None else list(r.effects_left),
             "escaped": r.escaped} for r in rows], "problems": problems}, indent=2))
    else:
        click.echo(format_scenarios(rows))
        for problem in problems:
            click.echo(f"PROBLEM {problem}")
    sys.exit(EXIT_INVALID if problems else EXIT_OK)


@main.command()
@click.argument("definition", metavar="DEFINITION")
@click.option("--compensation", "pairs", multiple=True, metavar="STEP=COMPENSATION",
              help="Declare a saga step's compensating state (else read from the states' "
                   "'[compensation: Name]' Comment convention). Repeatable.")
@click.option("--sub", "subs", multiple=True, metavar="KEY=VALUE", help="Fill ${KEY} placeholders.")
@_state_machine_option
def check(definition, pairs, subs, state_machine):
    """Static error-flow analysis of DEFINITION, without running any handler.

    For every (Task state, error) pair: retried how often and with which delays, then
    caught by which catcher and sent where, or failing the execution. Then the findings:
    retriers or catchers shadowed by an earlier catch-all or that can never match, and
    for a saga, fault paths that reach a failure without compensating a completed step,
    or compensate one twice or out of order. Exits 1 when there is an ERROR finding.
    """
    from asl.analysis import error_flows, findings, format_findings, format_table
    from asl.validation import is_valid, validate

    try:
        loaded = _read(definition, state_machine, _parse_subs(subs))
        compensations = None
        if pairs:
            compensations = {}
            for pair in pairs:
                step, sep, compensation = pair.partition("=")
                if not sep or not step or not compensation:
                    raise click.BadParameter(f"'{pair}' is not STEP=COMPENSATION",
                                             param_hint="--compensation")
                compensations[step] = compensation
        diagnostics = validate(loaded)
        if not is_valid(diagnostics):
            for diagnostic in diagnostics:
                click.echo(_printable(str(diagnostic)))
            click.echo(_printable(f"{definition}: {_summary(diagnostics, False)}"))
            sys.exit(EXIT_INVALID)
        flows = error_flows(loaded.definition)
        found = findings(loaded.definition, compensations)
    except (click.UsageError, SystemExit):
        raise
    except _user_errors() as exc:
        _fail(_problem(exc))
    click.echo(format_table(flows))
    if found:
        click.echo("")
        click.echo(format_findings(found))
    sys.exit(EXIT_INVALID if any(f.severity == "ERROR" for f in found) else EXIT_OK)


@main.command()
@click.argument("file", metavar="SAGA_FILE")
def saga(file):
    """Print the ASL generated from a saga definition (YAML or JSON).

    The saga lists steps, each with its resource and compensating resource (and
    optional Retry); the generated state machine compensates every completed step, in
    reverse order, whatever step fails.
    """
    from asl.saga import Saga, SagaError

    try:
        generated = Saga.from_file(file).to_json()
    except (SagaError, OSError, ValueError) as exc:
        _fail(_problem(exc))
    click.echo(generated)


@main.command()
@click.argument("definition", metavar="DEFINITION")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True, help="Mermaid flowchart or Graphviz DOT.")
@click.option("--path", "path_file", default=None, metavar="EXECUTION.json",
              help="Highlight the path a run took: the output of 'asl run --json', or of "
                   "'asl run --history'.")
@click.option("--sub", "subs", multiple=True, metavar="KEY=VALUE", help="Fill ${KEY} placeholders.")
@_state_machine_option
def graph(definition, fmt, path_file, subs, state_machine):
    """Draw DEFINITION as a Mermaid or DOT graph.

    Catch edges are dashed and labelled with their errors, Choice edges with their
    rules; Parallel and Map states are subgraphs. With --path, the states and edges of
    that execution are highlighted.
    """
    from asl.definition import DefinitionError
    from asl.graph import path_from_file, render

    try:
        loaded = _read(definition, state_machine, _parse_subs(subs)).definition
        path = None
        if path_file is not None:
            path = _read_path(path_file, path_from_file)
        drawing = render(loaded, fmt, path)
    except (click.UsageError, SystemExit):
        raise
    except (DefinitionError, OSError, ValueError) as exc:
        _fail(_problem(exc))
    click.echo(drawing)


def _read_path(path_file: str, path_from_file):
    """--path: the file 'asl run --json' or 'asl run --history' wrote; errors name it."""
    from asl.payload import NotJSON, loads
    try:
        with open(path_file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ValueError(f"{path_file}: {exc.strerror or exc}") from None
    try:
        return path_from_file(loads(text))
    except NotJSON as exc:
        raise ValueError(f"{path_file}: not JSON: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path_file}: not the output of 'asl run --json' or "
                         f"'asl run --history' ({exc})") from None


@main.command("test-state")
@click.argument("definition", metavar="STATE")
@click.option("--input", "input_text", default=None, metavar="JSON|@FILE|-",
              help="The state's input (default {}).")
@click.option("--state-name", default=None, metavar="NAME",
              help="STATE is a whole state machine: test this state of it (at any depth).")
@click.option("--mock", "mock_text", default=None, metavar="JSON|@FILE",
              help='Answer the Task (or Parallel/Map) instead of running it: {"result": '
                   '"<JSON text>"} or {"errorOutput": {"error": ..., "cause": ...}}.')
@click.option("--resources", "resource_targets", multiple=True, metavar="FILE_OR_MODULE",
              help="Handlers for an unmocked Task, as for 'asl run'.")
@click.option("--inspection-level", type=click.Choice(["INFO", "DEBUG", "TRACE"]),
              default="INFO", show_default=True,
              help="DEBUG and TRACE add inspectionData: the input after each stage.")
@click.option("--context", "context_text", default=None, metavar="JSON|@FILE",
              help="The Context object ($$) the state sees.")
@click.option("--variables", "variables_text", default=None, metavar="JSON|@FILE",
              help="The workflow variables the state sees.")
@click.option("--retrier-retry-count", type=int, default=None,
              help="Retries already made by the matching Retrier (stateConfiguration).")
def test_state_command(definition, input_text, state_name, mock_text, resource_targets,
                       inspection_level, context_text, variables_text, retrier_retry_count):
    """Test one state, offline, as AWS's TestState API does: run it once and print
    AWS's TestStateOutput (status SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR,
    nextState, output, error, cause, inspectionData) as JSON.

    Exits 0 unless the status is FAILED (1); 2 for a mistake in what you gave.
    """
    import asl
    from asl.definition import DefinitionError, load_definition
    from asl.resources import ResourceLoadError, load_resources

    try:
        state = load_definition(definition)
        resources = {}
        for target in resource_targets:
            resources.update(load_resources(target))
        configuration = ({"retrierRetryCount": retrier_retry_count}
                         if retrier_retry_count is not None else None)
        result = asl.test_state(
            state, _read_input(input_text), state_name=state_name,
            mock=_read_input(mock_text, "--mock") if mock_text else None, resources=resources,
            inspection_level=inspection_level,
            context=_read_input(context_text, "--context") if context_text else None,
            variables=_read_input(variables_text, "--variables") if variables_text else None,
            state_configuration=configuration)
    except (click.UsageError, SystemExit):
        raise
    except asl.ValidationError as exc:
        _fail(f"{definition}: the state cannot be tested\n{exc}")
    except (DefinitionError, ResourceLoadError, asl.MissingResourceError,
            asl.InvalidExecutionInput, ValueError, OSError) as exc:
        _fail(_problem(exc))
    click.echo(_printable(json.dumps(result.to_dict(), indent=2, ensure_ascii=False)))
    sys.exit(EXIT_INVALID if result.status == "FAILED" else EXIT_OK)


def _register_serve() -> None:
    from asl.server.command import serve_command   # click only: the server loads on use
    main.add_command(serve_command)


_register_serve()
