"""Differential fidelity audit: asl against moto's Step Functions interpreter.

moto's interpreter (``moto/stepfunctions/parser``) is a port of LocalStack's, whose
behaviour LocalStack checks against executions recorded on AWS. Every behaviour case of
``tests/interpreter/cases`` and ``tests/interpreter/jsonata_states/cases`` that needs no Task (Pass,
Choice, Wait, Succeed, Fail, Parallel, Map with such processors; JSONPath and JSONata) is
run through both, and their status, output, error and cause are compared::

    python benchmarks/peers/differential.py            # table + every disagreement
    python benchmarks/peers/differential.py --json     # the same, as one JSON document
    python benchmarks/peers/differential.py -k wait    # only cases whose id contains "wait"

Both run with the names the case runners use (state machine ``CaseMachine`` or
``JsonataMachine``, execution ``exec-1``, account 123456789012, us-east-1), so ARNs in
outputs are equal. What is legitimately random is normalised before a second comparison:
ISO-8601 timestamps, UUIDs and epoch milliseconds (asl runs on a VirtualClock at the
cases' T0, moto on the wall clock). A case that agrees only after that is "normalised".

How moto is run, and what is patched around it (none of it changes what a state does):

* ``mock_aws(config={"stepfunctions": {"execute_state_machine": True}, ...})``; state
  machines are created and executions started on moto's parser backend directly; each
  machine is deleted after its one execution so the next case can reuse the name.
* Waits and retry back-off: moto sleeps for real. Its wait primitive and the retrier's
  ``time.sleep`` are replaced by no-ops, so the longest Wait costs nothing.
* JSONata: moto 5.2.1 ships LocalStack's JSONata plumbing (variables and ``$states``
  bound by prefixing the expression with ``$name := value;`` declarations) but no
  evaluator (LocalStack's is the Java library through JPype). The evaluator plugged in
  here is jsonata-python (itself a port of that Java library), result round-tripped
  through JSON as LocalStack does with Jackson. asl also uses jsonata-python (with its own
  corrections), so JSONata *library* differences are mostly invisible here; what is
  compared is how each interpreter uses expressions.

* moto 5.2.1 keeps its QueryLanguage scope stack on the ``Preprocessor`` class: one
  definition whose parse fails inside a JSONata state poisons every later JSONPath
  definition ("Unsupported declaration in QueryLanguage=JSONPath block"). The stack is
  emptied before each parse.

A case moto cannot run is listed apart and not counted as a disagreement: moto's parser
refused the definition; it calls ``$hash`` or ``$uuid`` (stubs in moto returning "Function
$x is currently not supported"); a Python builtin exception (``TypeError``, ``IndexError``,
...) or the JSONata bridge's exception was raised inside moto's interpreter and its outcome
differs from asl's (moto turns such crashes into ``States.Runtime``); or it did not end
within MOTO_TIMEOUT.

Each disagreement also says whether each side meets the case file's own expectation (the
case files cite the AWS docs or recordings behind it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import sys
import time
import types
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[2]
CASE_DIRS = {
    "interpreter": (ROOT / "tests" / "interpreter" / "cases", "CaseMachine"),
    "jsonata_states": (ROOT / "tests" / "interpreter" / "jsonata_states" / "cases", "JsonataMachine"),
}
ACCOUNT = "123456789012"
REGION = "us-east-1"
EXECUTION = "exec-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CaseRole"
#: The case runners' virtual start: 2023-11-14T22:13:20Z.
T0 = 1_700_000_000
#: How long moto may take for one case before it is declared hung.
MOTO_TIMEOUT = 20.0


# --------------------------------------------------------------------------- cases

def _states(definition: dict):
    """Every state of a definition, nested branches and item processors included."""
    for name, state in (definition.get("States") or {}).items():
        yield name, state
        for branch in state.get("Branches") or ():
            yield from _states(branch)
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from _states(state[key])


def needs_resources(definition: dict) -> str | None:
    """Why a definition needs Task resources (so is out of scope here), or None."""
    for name, state in _states(definition):
        if state.get("Type") == "Task":
            return f"Task state {name!r}"
        if "ItemReader" in state or "ResultWriter" in state:
            return f"ItemReader/ResultWriter in {name!r}"
    return None


def load_cases(pattern: str | None = None) -> tuple[list[dict], int]:
    """The Task-free cases (each with ``id``, ``suite``, ``machine``), and how many were left out."""
    cases, left_out = [], 0
    for suite, (directory, machine) in CASE_DIRS.items():
        for path in sorted(directory.glob("*.json")):
            for case in json.loads(path.read_text(encoding="utf-8")):
                case_id = f"{path.stem}:{case['name']}"
                if suite == "jsonata_states":
                    case_id = f"jsonata/{case_id}"
                if pattern and pattern not in case_id:
                    continue
                if needs_resources(case["definition"]):
                    left_out += 1
                    continue
                cases.append(dict(case, id=case_id, suite=suite, machine=machine,
                                  file=case_id.rsplit(":", 1)[0]))
    return cases, left_out


# --------------------------------------------------------------------------- asl

def _input(case: dict) -> Any:
    """The execution input of a case (the runners give ``{}`` when it has none)."""
    return {} if case.get("input") is None else case["input"]


def run_asl(case: dict) -> dict:
    """Execute a case with asl, as the case runners do (VirtualClock at T0)."""
    import asl

    try:
        machine = asl.StateMachine(case["definition"], name=case["machine"], region=REGION,
                                   account=ACCOUNT, role_arn=ROLE_ARN)
    except asl.ValidationError as exc:
        return {"status": "INVALID", "error": None, "cause": str(exc)[:500], "output": None}
    result = machine.execute(_input(case), clock=asl.VirtualClock(start=T0, seed=0), name=EXECUTION)
    return {"status": result.status, "output": result.output if result.status == "SUCCEEDED" else None,
            "error": result.error, "cause": result.cause}


# --------------------------------------------------------------------------- moto

class CannotRun(Exception):
    """moto cannot run this case (the message says why)."""


#: JSONata functions that moto 5.2.1 declares as stubs returning the text
#: "Function $x is currently not supported" (moto/stepfunctions/parser/asl/component/
#: intrinsic/jsonata.py): any case calling them is one moto cannot run.
MOTO_STUB_FUNCTIONS = ("$hash(", "$uuid(")


def moto_unsupported(definition: dict) -> str | None:
    """Why moto cannot run a definition before trying, or None."""
    text = json.dumps(definition)
    stubs = [name.rstrip("(") for name in MOTO_STUB_FUNCTIONS if name in text]
    return f"unsupported: {', '.join(stubs)} are stubs in moto" if stubs else None


def _jsonata_evaluator():
    """An evaluator for moto's JSONata hook: the expression text in, a JSON value out."""
    from jsonata.jsonata import Jsonata
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    def evaluate(expression: str) -> Any:
        try:
            value = Jsonata(expression).evaluate(None)
        except Exception as exc:  # surfaced as moto's own JSONata error
            raise JSONataException("UNKNOWN", str(exc)) from exc
        try:
            return json.loads(json.dumps(value))   # as LocalStack does through Jackson
        except (TypeError, ValueError) as exc:     # a function, NaN: not JSON
            raise JSONataException("UNKNOWN", f"not JSON: {exc}") from exc

    return evaluate


#: Python exceptions raised inside moto's interpreter during the current run. moto turns
#: them into States.Runtime failures (cause ``str(exception)`` or ``Name(message)``):
#: its crashes, not behaviour it models.
INTERNAL_EXCEPTIONS: list[str] = []


def _patch_moto() -> None:
    """No real sleeping in Wait states and retries; a JSONata evaluator (see module doc);
    moto's internal exceptions recorded."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import (
        wait_function,
    )
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    wait_function.WaitFunction._wait_interval = lambda self, env, wait_seconds: None
    retrier_decl.time = types.SimpleNamespace(sleep=lambda seconds: None, time=time.time,
                                              monotonic=time.monotonic)
    moto_jsonata._eval_jsonata = _jsonata_evaluator()

    # Called (once per enclosing component) for every exception that is not one of
    # moto's modelled failures (FailureEventException); the innermost call comes first.
    # moto's own exception classes (NoSuchJsonPathError, ...) are modelled behaviour that
    # a state turns into an AWS error; Python's builtin ones and the JSONata bridge's
    # error are not.
    def record(self, exception: Exception) -> None:
        kind = type(exception)
        if kind.__module__ == "builtins" or kind.__name__ == "JSONataException":
            INTERNAL_EXCEPTIONS.append(f"{kind.__name__}: {exception}")

    EvalComponent._log_exception = record


class Moto:
    """A ``mock_aws`` session running cases on moto's parser backend."""

    def __enter__(self) -> Self:
        from moto import mock_aws

        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                      "lambda": {"use_docker": False}})
        self._mock.start()
        # moto logs every Fail state and caught error at ERROR level.
        for name in ("moto.stepfunctions", "moto"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        _patch_moto()
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        self.backend = stepfunctions_parser_backends[ACCOUNT][REGION]
        return self

    def __exit__(self, *exc) -> None:
        self._mock.stop()

    def run(self, case: dict) -> tuple[dict, str | None]:
        """Create the case's machine, run one execution to its end, delete the machine.

        Returns moto's outcome and the first internal exception moto raised while running
        it (None if none); raises CannotRun if moto refused the definition or never ended.
        """
        # moto's ANTLR parsers print syntax errors on stderr before raising.
        unsupported = moto_unsupported(case["definition"])
        if unsupported:
            raise CannotRun(unsupported)
        with contextlib.redirect_stderr(io.StringIO()):
            return self._run(case)

    def _run(self, case: dict) -> tuple[dict, str | None]:
        from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
        from moto.stepfunctions.parser.backend.execution_worker import TMP_THREADS

        # moto 5.2.1 keeps the QueryLanguage scope stack on the Preprocessor *class*; a
        # definition whose parse failed inside a JSONata scope leaves it there, and every
        # later JSONPath definition is then refused. Start each parse with it empty.
        Preprocessor._query_language_per_scope.clear()
        try:
            machine = self.backend.create_state_machine(
                name=case["machine"], definition=json.dumps(case["definition"]), roleArn=ROLE_ARN)
        except Exception as exc:  # moto's parser refused the definition
            raise CannotRun(f"definition rejected: {type(exc).__name__}: {_short(str(exc))}") from exc
        INTERNAL_EXCEPTIONS.clear()
        try:
            Preprocessor._query_language_per_scope.clear()
            execution = self.backend.start_execution(
                machine.arn, name=EXECUTION, execution_input=json.dumps(_input(case)))
            deadline = time.monotonic() + MOTO_TIMEOUT
            while _status(execution) == "RUNNING":
                if time.monotonic() > deadline:   # its threads are daemons: left behind
                    raise CannotRun(f"no end within {MOTO_TIMEOUT:.0f} s")
                time.sleep(0.0005)
            status = _status(execution)
            outcome = {"status": status,
                       "output": execution.output if status == "SUCCEEDED" else None,
                       "error": execution.error, "cause": execution.cause}
        except CannotRun:
            raise
        except Exception as exc:  # moto itself crashed
            raise CannotRun(f"crashed: {type(exc).__name__}: {_short(str(exc))}") from exc
        finally:
            self.backend.delete_state_machine(machine.arn)
            TMP_THREADS.clear()
        internal = INTERNAL_EXCEPTIONS[0] if INTERNAL_EXCEPTIONS else None
        return outcome, internal


def _status(execution) -> str:
    status = execution.exec_status
    return str(getattr(status, "value", status))


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- comparison

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Epoch milliseconds from 2001 to 2286: a clock reading (asl's virtual T0, moto's now).
_EPOCH_MS = (1_000_000_000_000, 9_999_999_999_999)


def normalise(value: Any) -> Any:
    """``value`` with clock readings and UUIDs replaced by placeholders."""
    if isinstance(value, str):
        return _UUID.sub("<uuid>", _TIMESTAMP.sub("<timestamp>", value))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and _EPOCH_MS[0] <= value <= _EPOCH_MS[1]:
        return "<epoch-ms>"
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    """JSON equality as the JSON text shows it: ``1`` is not ``1.0``, ``true`` is not ``1``."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


FIELDS = ("status", "error", "cause", "output")


def compare(asl_outcome: dict, moto_outcome: dict) -> tuple[str, list[str]]:
    """("agree" | "normalised" | "disagree", the fields that differ)."""
    differing = [f for f in FIELDS if not same(asl_outcome[f], moto_outcome[f])]
    if not differing:
        return "agree", []
    still = [f for f in differing if not same(normalise(asl_outcome[f]), normalise(moto_outcome[f]))]
    return ("normalised", differing) if not still else ("disagree", still)


def expected_of(case: dict) -> dict:
    """What the case file says AWS does (only the keys it states)."""
    expect = case["expect"]
    return {key: expect[key] for key in ("status", "error", "cause", "cause_prefix",
                                         "cause_contains", "output") if key in expect}


def meets_expectation(outcome: dict, expected: dict) -> bool:
    """Whether an outcome is what the case file says AWS does."""
    cause = outcome["cause"] if isinstance(outcome["cause"], str) else ""
    contains = expected.get("cause_contains", [])
    return (all(same(outcome[key], expected[key]) for key in FIELDS if key in expected)
            and cause.startswith(expected.get("cause_prefix", ""))
            and all(text in cause for text in ([contains] if isinstance(contains, str) else contains)))


def audit(pattern: str | None = None) -> dict:
    """Run every Task-free case through asl and moto; the report as a dict."""
    cases, left_out = load_cases(pattern)
    rows = []
    with Moto() as moto:
        for case in cases:
            row = {"id": case["id"], "file": case["file"], "source": case.get("source"),
                   "definition": case["definition"], "input": case.get("input", {}),
                   "expected": expected_of(case)}
            row["asl"] = run_asl(case)
            row["asl_as_expected"] = meets_expectation(row["asl"], row["expected"])
            try:
                row["moto"], internal = moto.run(case)
            except CannotRun as exc:
                row["verdict"], row["moto"], row["why"] = "moto-cannot-run", None, str(exc)
                rows.append(row)
                continue
            row["verdict"], row["fields"] = compare(row["asl"], row["moto"])
            row["moto_as_expected"] = meets_expectation(row["moto"], row["expected"])
            if row["verdict"] == "disagree" and internal:
                # moto's outcome is the side effect of one of its own crashes.
                row["verdict"] = "moto-cannot-run"
                row["why"] = (f"internal exception {_short(internal, 200)} -> moto "
                              f"{row['moto']['status']} {row['moto']['error'] or ''}").rstrip()
            rows.append(row)
    return {"left_out_with_tasks": left_out, "cases": rows, "totals": _totals(rows)}


def _totals(rows: list[dict]) -> dict:
    totals: dict[str, dict[str, int]] = {}
    for row in rows + [dict(r, file="ALL") for r in rows]:
        counts = totals.setdefault(row["file"], {"cases": 0, "agree": 0, "normalised": 0,
                                                 "disagree": 0, "moto-cannot-run": 0})
        counts["cases"] += 1
        counts[row["verdict"]] += 1
    return totals


# --------------------------------------------------------------------------- report

def _text(value: Any, limit: int = 400) -> str:
    return _short(json.dumps(value, ensure_ascii=False), limit)


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def print_report(report: dict, out=sys.stdout) -> None:
    totals = report["totals"]
    files = sorted(k for k in totals if k != "ALL") + ["ALL"]
    header = f"{'case file':<22} {'cases':>5} {'agree':>5} {'norm.':>5} {'differ':>6} {'moto n/a':>8}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for name in files:
        t = totals[name]
        print(f"{name:<22} {t['cases']:>5} {t['agree']:>5} {t['normalised']:>5} "
              f"{t['disagree']:>6} {t['moto-cannot-run']:>8}", file=out)
    print(f"({report['left_out_with_tasks']} cases with Task states or ItemReader/ResultWriter "
          "left out; 'norm.' = equal once timestamps/UUIDs/epoch ms are normalised)", file=out)

    differing = [r for r in report["cases"] if r["verdict"] == "disagree"]
    print(f"\nDISAGREEMENTS ({len(differing)})", file=out)
    for row in differing:
        print(f"\n* {row['id']}  (differ: {', '.join(row['fields'])})", file=out)
        for side in ("asl", "moto"):
            o = row[side]
            print(f"    {side:<5} {o['status']:<9} error={o['error']!r}", file=out)
            if o["cause"] is not None or "cause" in row["fields"]:
                print(f"          cause={_short(str(o['cause']), 400)!r}", file=out)
            if "output" in row["fields"]:
                print(f"          output={_text(o['output'])}", file=out)
        print(f"    case expects {_text(row['expected'], 500)}", file=out)
        print(f"    case source: {_short(row['source'] or '-', 300)}", file=out)
        print(f"    meets the case's expectation: asl {_yes(row['asl_as_expected'])}, "
              f"moto {_yes(row['moto_as_expected'])}", file=out)

    cannot = [r for r in report["cases"] if r["verdict"] == "moto-cannot-run"]
    print(f"\nMOTO CANNOT RUN ({len(cannot)})", file=out)
    for row in cannot:
        print(f"* {row['id']}: {row['why']}  [asl: {row['asl']['status']} {row['asl']['error'] or ''}]",
              file=out)

    normalised = [r for r in report["cases"] if r["verdict"] == "normalised"]
    if normalised:
        print(f"\nAGREE ONLY AFTER NORMALISATION ({len(normalised)}): "
              + ", ".join(r["id"] for r in normalised), file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-k", dest="pattern", help="only cases whose id contains this text")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    report = audit(args.pattern)
    if args.json:
        for row in report["cases"]:
            del row["definition"]     # the case files hold them
        json.dump(report, sys.stdout, indent=1, ensure_ascii=False, default=str)
        print()
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
