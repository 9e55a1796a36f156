"""Static error-flow analysis: what each Task does with each error, and saga checks.

Nothing here runs a handler. The definition's graph is walked:

* :func:`error_flows` answers, for every (Task, Parallel or Map state, error) pair, what AWS
  would do: retry it (how often, with which delays), then route it through a Catch to a
  state, or fail the state (which fails the execution, or the enclosing Parallel/Map).
  The errors considered for a state are the names its Retry and Catch rules distinguish,
  plus ``States.TaskFailed``, ``States.Timeout`` and :data:`UNNAMED_ERROR` (an error no
  rule names). Matching is :func:`asl.errors.matches`, so States.ALL, States.TaskFailed
  and States.Timeout behave exactly as they do at run time.
* :func:`findings` reports rules that can never be used (a catcher or retrier shadowed
  by an earlier catch-all, or whose every name an earlier rule already takes) and, for a
  saga, every fault path that ends without compensating a step completed before the
  fault, compensates one twice, out of order, or compensates a step that never ran.

Saga compensations are given as a mapping ``{forward state: compensating state}`` (a
value may also be a list of alternative compensating states), or declared in the
definition: a forward state's ``Comment`` holding ``[compensation: StateName]`` (several
brackets name alternatives). :class:`asl.saga.Saga` writes that convention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from asl import errors
from asl.definition.scopes import StateRef, nested_scopes
from asl.definition.scopes import walk_states as _walk_states
from asl.errors import matches
from asl.states.retry import compile_retriers, find_retrier

__all__ = [
    "Flow", "Finding", "StateRef", "UNNAMED_ERROR", "error_flows", "findings", "format_table",
    "format_findings", "walk_states", "declared_compensations", "distinguished_errors",
]

#: Stands for every error that no rule of the state names.
UNNAMED_ERROR = "(any other error)"

ERROR = "ERROR"
WARNING = "WARNING"

_WITH_RULES = ("Task", "Parallel", "Map")
_COMPENSATION_RE = re.compile(r"\[compensation:\s*([^\]]+?)\s*\]")
#: Retry delays listed per flow (a retrier may allow up to 99,999,999 attempts).
_MAX_LISTED_DELAYS = 10
#: Paths explored per fault before giving up (Choice states multiply paths).
_MAX_PATHS = 200
#: States visited along all happy paths before the saga check stops (and says so).
_MAX_VISITS = 20_000


# -- walking a definition -------------------------------------------------------------------

def _as_definition(source: Any) -> dict:
    """A definition dict from a dict, a StateMachine, JSON/YAML text or a path."""
    if hasattr(source, "definition") and not isinstance(source, dict):
        return source.definition
    from asl.definition import load_definition
    return load_definition(source)


def _processor(state: dict) -> dict:
    """A Map's item processor (ItemProcessor, or the legacy Iterator)."""
    scopes = nested_scopes(state)
    return scopes[0][1] if scopes else {}


def walk_states(definition: Any) -> Iterator[StateRef]:
    """Every state of the machine, nested ones included, in document order (a dict, a
    StateMachine, JSON/YAML text or a path)."""
    return _walk_states(_as_definition(definition))


def distinguished_errors(state: dict, unnamed: str = UNNAMED_ERROR) -> list[str]:
    """The errors a state's rules tell apart: every ErrorEquals name (but States.ALL and
    States.Runtime, which is never retried nor caught), then States.TaskFailed,
    States.Timeout and ``unnamed`` (an error no rule names)."""
    names: list[str] = []
    for field_name in ("Retry", "Catch"):
        for rule in state.get(field_name) or ():
            for name in rule.get("ErrorEquals") or ():
                if name not in (errors.ALL, errors.RUNTIME) and name not in names:
                    names.append(name)
    for name in (errors.TASK_FAILED, errors.TIMEOUT, unnamed):
        if name not in names:
            names.append(name)
    return names


# -- error flows ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Flow:
    """What one state does with one error.

    ``retrier`` is the index of the retrier that decides (None: not retried),
    ``retries`` how many times it retries, ``delays`` the first waits (before jitter).
    Then either ``catcher``/``next`` (caught), or ``fails``: ``"execution"``, or
    ``"Parallel 'X'"`` / ``"Map 'X'"`` when the error escapes into the enclosing state.
    """

    state: str
    error: str
    retrier: int | None
    retries: int
    delays: tuple[float, ...]
    jitter: bool
    catcher: int | None
    next: str | None
    fails: str | None
    enclosing: tuple[str, ...] = ()

    @property
    def caught(self) -> bool:
        return self.catcher is not None

    def retry_text(self) -> str:
        if not self.retries:
            return "-"
        shown = ", ".join(_seconds(d) for d in self.delays)
        more = ", ..." if self.retries > len(self.delays) else ""
        jitter = " (jitter: up to)" if self.jitter else ""
        return f"{self.retries}x after {shown}{more}{jitter} [Retry[{self.retrier}]]"

    def outcome_text(self) -> str:
        if self.caught:
            return f"Catch[{self.catcher}] -> {self.next}"
        return f"fails the {self.fails}" if self.fails == "execution" else f"fails {self.fails}"

    def describe(self) -> str:
        retry = "" if not self.retries else f"retried {self.retry_text()}, then "
        return f"{self.state} on {self.error}: {retry}{self.outcome_text()}"


def _seconds(value: float) -> str:
    return f"{value:g}s"


def resolve(state: dict, error: str) -> tuple[int | None, int, tuple, bool, int | None, str | None]:
    """Retry then Catch for ``error`` in ``state``, as AWS decides them: the first matching
    retrier alone retries (no fall-through once it is exhausted); then the first
    matching catcher routes. Returns (retrier, retries, delays, jitter, catcher, next)."""
    retriers = compile_retriers(state.get("Retry"))
    retrier = None if error == errors.RUNTIME else find_retrier(retriers, error)
    retries, delays, jitter = 0, (), False
    if retrier is not None:
        rule = retriers[retrier]
        retries = rule.max_attempts
        delays = tuple(rule.delay(n) for n in range(1, min(retries, _MAX_LISTED_DELAYS) + 1))
        jitter = rule.jitter
        if not retries:
            retrier = None
    for i, catcher in enumerate(state.get("Catch") or ()):
        if matches(tuple(catcher.get("ErrorEquals") or ()), error):
            return retrier, retries, delays, jitter, i, catcher.get("Next")
    return retrier, retries, delays, jitter, None, None


def _enclosing_text(ref: StateRef, types: dict) -> str:
    if not ref.enclosing:
        return "execution"
    parent = ref.enclosing[-1]
    return f"{types.get(parent, 'Parallel')} '{parent}'"


def error_flows(definition: Any) -> list[Flow]:
    """For every Task, Parallel and Map state (any depth) and every error its rules
    distinguish (plus States.TaskFailed, States.Timeout and an unnamed error): the retries
    and the catcher AWS would apply, or what fails when nothing catches it."""
    refs = list(walk_states(definition))
    types = {r.name: r.type for r in refs}
    flows = []
    for ref in refs:
        if ref.type not in _WITH_RULES:
            continue
        for error in distinguished_errors(ref.definition):
            retrier, retries, delays, jitter, catcher, nxt = resolve(ref.definition, error)
            flows.append(Flow(ref.name, error, retrier, retries, delays, jitter, catcher, nxt,
                              None if catcher is not None else _enclosing_text(ref, types),
                              ref.enclosing))
    return flows


def format_table(flows: Iterable[Flow]) -> str:
    """The flows as an aligned text table (``asl check``): State, Error, Retry, Then."""
    rows = [("State", "Error", "Retry", "Then")]
    rows.extend((f.state, f.error, f.retry_text(), f.outcome_text()) for f in flows)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row[:3]))
                     + "  " + row[3])
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(line.rstrip() for line in lines)


# -- findings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """A problem :func:`findings` found: ``severity`` is "ERROR" or "WARNING"."""

    severity: str
    state: str
    message: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.severity} {self.state}: {self.message}"


def format_findings(found: Iterable[Finding]) -> str:
    """One line per finding (``asl check``)."""
    return "\n".join(str(f) for f in found)


def findings(definition: Any, compensations: dict | None = None) -> list[Finding]:
    """Rules that can never be used, and (for a saga) fault paths that do not compensate.

    ``compensations`` maps forward states to their compensating state (or a list of
    alternatives); when omitted, the ``[compensation: Name]`` convention of the forward
    states' ``Comment`` is read. Without either, only the rule checks run.
    """
    definition = _as_definition(definition)
    refs = list(walk_states(definition))
    found: list[Finding] = []
    for ref in refs:
        if ref.type in _WITH_RULES:
            found.extend(_rule_findings(ref, "Catch"))
            found.extend(_rule_findings(ref, "Retry"))
    if compensations is None:
        compensations = declared_compensations(definition)
    if compensations:
        found.extend(_SagaCheck(definition, refs, compensations).run())
    return found


def declared_compensations(definition: Any) -> dict[str, tuple[str, ...]]:
    """The ``[compensation: Name]`` declarations of the states' ``Comment`` fields."""
    declared = {}
    for ref in walk_states(definition):
        comment = ref.definition.get("Comment")
        if isinstance(comment, str):
            names = tuple(_COMPENSATION_RE.findall(comment))
            if names:
                declared[ref.name] = names
    return declared


def _is_catch_all(names: tuple) -> bool:
    return errors.ALL in names or errors.TASK_FAILED in names


def _rule_findings(ref: StateRef, field_name: str) -> list[Finding]:
    """A rule whose every error an earlier rule already takes can never be used (AWS
    uses the first matching retrier/catcher); a name an earlier rule takes is dead."""
    rules = ref.definition.get(field_name) or ()
    noun = "catcher" if field_name == "Catch" else "retrier"
    samples = distinguished_errors(ref.definition) + [errors.DATA_LIMIT_EXCEEDED]
    out = []
    earlier: list[tuple[int, tuple]] = []
    for i, rule in enumerate(rules):
        names = tuple(rule.get("ErrorEquals") or ())
        own = [e for e in samples if matches(names, e)]
        takers = {}
        for e in own:
            for j, before in earlier:
                if matches(before, e):
                    takers[e] = j
                    break
        where = f"{field_name}[{i}] ({', '.join(names)})"
        if not own:
            out.append(Finding(WARNING, ref.name, f"{where} can never match: States.Runtime "
                               "is never retried nor caught", "RULE_NEVER_MATCHES"))
        elif len(takers) == len(own):
            firsts = sorted(set(takers.values()))
            alls = [j for j in firsts if _is_catch_all(rules[j].get("ErrorEquals") or ())]
            severity = ERROR if field_name == "Catch" else WARNING
            if alls:
                j = alls[0]
                message = (f"{where} is shadowed by the catch-all {field_name}[{j}] "
                           f"({', '.join(rules[j]['ErrorEquals'])}): this {noun} can never run")
                code = f"SHADOWED_{noun.upper()}"
            else:
                message = (f"{where} can never match: every error it names is taken first by "
                           + ", ".join(f"{field_name}[{j}]" for j in firsts))
                code = f"UNREACHABLE_{noun.upper()}"
            out.append(Finding(severity, ref.name, message, code))
        else:
            for name in names:
                if name in takers and name not in (errors.ALL, errors.TASK_FAILED):
                    out.append(Finding(WARNING, ref.name,
                                       f"'{name}' in {field_name}[{i}] never reaches it: "
                                       f"{field_name}[{takers[name]}] matches it first",
                                       f"SHADOWED_{noun.upper()}_NAME"))
        earlier.append((i, names))
    return out


# -- saga checks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Done:
    """A forward step completed before a fault. ``definite`` is False when the step ran
    alongside the fault (another Parallel branch, another Map iteration, or the faulted
    step itself when the fault is caught around its Parallel/Map): its compensation may
    run or not, but never twice. ``group`` ties steps whose relative order is unknown."""

    step: str
    definite: bool = True
    group: Any = None
    faulted: bool = False      # the step whose failure this is: nothing to undo, maybe


@dataclass
class _Path:
    states: list = field(default_factory=list)
    compensations: list = field(default_factory=list)
    end: str = ""            # "FAILED", "SUCCEEDED" or "RECOVERED" (back on a forward step)


class _SagaCheck:
    """Walks every happy path; at each Task injects each error statically and follows it
    through Retry/Catch and enclosing states to the end, then compares the compensations
    that path runs with the steps completed before the fault."""

    def __init__(self, definition: dict, refs: list[StateRef], compensations: dict) -> None:
        self.definition = definition
        self.refs = {r.name: r for r in refs}
        self.comp_of: dict[str, tuple[str, ...]] = {
            k: ((v,) if isinstance(v, str) else tuple(v)) for k, v in compensations.items()}
        self.owner = {c: step for step, comps in self.comp_of.items() for c in comps}
        self.problems: dict[tuple, set] = {}
        self.paths_left = 0
        self.visits_left = _MAX_VISITS
        self.explored: set = set()
        self.error = ""

    def run(self) -> list[Finding]:
        found = []
        for step, comps in self.comp_of.items():
            if step not in self.refs:
                found.append(Finding(ERROR, step, "is named as a compensated step but is not a "
                                     "state of this machine", "COMPENSATION_UNKNOWN"))
            for comp in comps:
                ref = self.refs.get(comp)
                if ref is None:
                    found.append(Finding(ERROR, step, f"its compensation '{comp}' is not a "
                                         "state of this machine", "COMPENSATION_UNKNOWN"))
                elif ref.type == "Task" and not _absorbs_transient(ref.definition):
                    found.append(Finding(
                        WARNING, comp, "this compensation has no Retry for States.TaskFailed: "
                        "one transient failure of it fails the execution and leaves "
                        f"'{step}' uncompensated", "COMPENSATION_WITHOUT_RETRY"))
        self.explore(self.definition.get("StartAt"), [], frozenset(), [])
        if self.visits_left <= 0:
            found.append(Finding(WARNING, self.definition.get("StartAt", ""),
                                 f"the saga check stopped after {_MAX_VISITS} states along the "
                                 "happy paths (too many Choice paths): it is incomplete",
                                 "ANALYSIS_INCOMPLETE"))
        for (state, code, severity, message), errs in self.problems.items():
            listed = ", ".join(sorted(errs, key=_error_order))
            found.append(Finding(severity, state, message.replace("{errors}", listed), code))
        return found

    def nested(self, name: str) -> list[str]:
        return [r.name for r in self.refs.values() if name in r.enclosing]

    # -- the happy paths ------------------------------------------------------------------

    def explore(self, start, done: list, seen: frozenset, concurrent: list) -> list | None:
        """Walk forward from ``start`` within its scope, checking a fault at every Task.
        Returns the steps completed when the scope ends (None: no path ends it)."""
        ends = []
        stack = [(start, done, seen)]
        while stack and self.visits_left > 0:
            name, done, seen = stack.pop()
            if name is None or name not in self.refs or name in seen:
                continue
            # Paths that meet again with the same steps completed go on identically.
            key = (name, tuple(done), tuple(concurrent))
            if key in self.explored:
                continue
            self.explored.add(key)
            self.visits_left -= 1
            seen = seen | {name}
            ref = self.refs[name]
            state, kind = ref.definition, ref.type
            if name in self.owner or (kind == "Fail" and not ref.enclosing):
                # The happy path itself reaches a compensation or a Fail: check it as a fault.
                self.error = "(no fault)"
                self.follow(name, [f"the path reaching '{name}'"], name, done + concurrent)
                continue
            if kind == "Task":
                for error in distinguished_errors(state):
                    self.fault(name, error, done, concurrent)
                if name in self.comp_of:
                    done = done + [_Done(name)]
            elif kind in ("Parallel", "Map"):
                done = self.explore_nested(name, state, done, seen, concurrent)
            elif kind == "Fail":
                error = state.get("Error") if isinstance(state.get("Error"), str) else UNNAMED_ERROR
                self.fault(name, error, done, concurrent)
                continue
            if kind == "Choice":
                targets = [r.get("Next") for r in state.get("Choices") or ()]
                stack.extend((t, done, seen) for t in targets + [state.get("Default")] if t)
            elif kind == "Succeed" or state.get("End"):
                ends.append(done)
            else:
                stack.append((state.get("Next"), done, seen))
        return _merge(ends) if ends else None

    def explore_nested(self, name: str, state: dict, done: list, seen, concurrent) -> list:
        """Faults inside each branch (or the Map processor): the steps of the other
        branches (or iterations) may have completed. After the state, all nested steps
        have completed, in an order nobody knows."""
        nested = [n for n in self.nested(name) if n in self.comp_of]
        if state.get("Type") == "Parallel":
            scopes = [(b, i) for i, b in enumerate(state.get("Branches") or ())]
        else:
            scopes = [(_processor(state), None)]
        after = list(done)
        for scope, branch in scopes:
            others = [_Done(n, False) for n in nested
                      if branch is None or self.refs[n].branch != branch
                      or self.refs[n].enclosing[-1] != name]
            end = self.explore(scope.get("StartAt"), done, seen, concurrent + others)
            for d in end or ():
                if d.step not in {a.step for a in after}:
                    after.append(_Done(d.step, True, name))
        return after

    # -- one fault ------------------------------------------------------------------------

    def fault(self, origin: str, error: str, done: list, concurrent: list) -> None:
        """Follow ``error`` raised in ``origin`` (retries change nothing once exhausted)
        through its Catch rules, then those of the enclosing states, to the end."""
        self.error = error
        done = list(done) + list(concurrent)
        ref = self.refs[origin]
        catcher = target = None
        if ref.type in _WITH_RULES:
            catcher, target = resolve(ref.definition, error)[4:]
        hops = [f"'{origin}' fails with {{errors}}"]
        while catcher is None and ref.enclosing:
            # The error escapes into the enclosing Parallel/Map under its own name (AWS).
            parent = ref.enclosing[-1]
            done = self.done_around(parent, done, origin)
            ref = self.refs[parent]
            catcher, target = resolve(ref.definition, error)[4:]
            hops.append(f"fails {ref.type} '{parent}'")
        if catcher is None:
            definite = [d.step for d in done if d.definite and d.step in self.comp_of]
            if definite:
                self.report(origin, "FAULT_ESCAPES", ERROR,
                            " -> ".join(hops) + " -> the execution fails: the error escapes "
                            f"every Catch, so completed step(s) {_names(definite)} are never "
                            "compensated")
            return
        hops.append(f"Catch[{catcher}]" if ref.name == origin else f"Catch[{catcher}] of '{ref.name}'")
        self.follow(origin, hops, target, done)

    def done_around(self, parent: str, done: list, origin: str) -> list:
        """Caught around a Parallel/Map: its nested steps (the faulted one included) may
        or may not have completed: the catch cannot know which branch got how far."""
        out = [(_Done(d.step, False, d.group, d.faulted) if parent in self.refs[d.step].enclosing
                else d) for d in done]
        if origin in self.comp_of and all(d.step != origin for d in out):
            out.append(_Done(origin, False, faulted=True))
        return out

    def follow(self, origin: str, hops: list, target: str, done: list) -> None:
        self.paths_left = _MAX_PATHS
        for path in self.walk(target):
            self.check(origin, hops, done, path)

    def walk(self, start) -> Iterator[_Path]:
        """Every path from a catch target to its end, with the compensations it runs
        (compensations are assumed to succeed: their own faults are another finding)."""
        stack = [(start, _Path())]
        while stack and self.paths_left > 0:
            name, path = stack.pop()
            if name is None or name not in self.refs:
                path.end = "SUCCEEDED"
            elif name in path.states or (name in self.comp_of and name not in self.owner):
                path.states.append(name)
                path.end = "RECOVERED"      # a loop, or back on a forward step
            else:
                path = _Path(path.states + [name], list(path.compensations))
                ref = self.refs[name]
                state, kind = ref.definition, ref.type
                if name in self.owner:
                    path.compensations.append(name)
                if kind in ("Parallel", "Map"):
                    nested = self.nested(name)
                    if any(n in self.comp_of and n not in self.owner for n in nested):
                        path.end = "RECOVERED"
                    path.compensations.extend(n for n in nested if n in self.owner)
                if path.end:
                    pass
                elif kind == "Fail":
                    path.end = "FAILED"
                elif kind == "Choice":
                    targets = [r.get("Next") for r in state.get("Choices") or ()]
                    for t in dict.fromkeys(t for t in targets + [state.get("Default")] if t):
                        stack.append((t, path))
                    continue
                elif kind == "Succeed" or state.get("End"):
                    if not ref.enclosing:
                        path.end = "SUCCEEDED"
                    else:
                        stack.append((self.refs[ref.enclosing[-1]].definition.get("Next"), path))
                        continue
                else:
                    stack.append((state.get("Next"), path))
                    continue
            self.paths_left -= 1
            yield path

    def check(self, fault: str, hops: list, done: list, path: _Path) -> None:
        if path.end == "RECOVERED":
            return
        route = " -> ".join(hops + path.states)
        visited = path.compensations
        owners = [self.owner[c] for c in visited]
        if path.end == "SUCCEEDED":
            if visited:
                self.report(fault, "COMPENSATED_THEN_SUCCEEDS", WARNING,
                            f"{route}: the saga compensates, then the execution succeeds")
            return
        for d in done:
            if d.step not in self.comp_of:
                continue
            count = owners.count(d.step)
            if d.definite and count == 0:
                self.report(fault, "COMPENSATION_MISSING", ERROR,
                            f"{route}: completed step '{d.step}' is never compensated "
                            f"({_names(self.comp_of[d.step])} does not run)")
            elif not d.definite and not d.faulted and count == 0:
                self.report(fault, "COMPENSATION_MAYBE_MISSING", WARNING,
                            f"{route}: '{d.step}' may have completed alongside the fault "
                            f"(Parallel branch or Map iteration) but is never compensated "
                            f"({_names(self.comp_of[d.step])} does not run)")
            if count > 1:
                self.report(fault, "COMPENSATION_TWICE", ERROR,
                            f"{route}: '{d.step}' is compensated {count} times")
        completed = {d.step for d in done}
        for comp, step in zip(visited, owners):
            if step not in completed:
                self.report(fault, "COMPENSATION_NOT_DONE", ERROR,
                            f"{route}: '{comp}' compensates '{step}', which has not completed")
        order = [d for d in done if d.definite and owners.count(d.step) == 1]
        for i, a in enumerate(order):
            for b in order[i + 1:]:
                if a.group is not None and a.group == b.group:
                    continue
                if owners.index(b.step) > owners.index(a.step):
                    self.report(fault, "COMPENSATION_ORDER", ERROR,
                                f"{route}: '{a.step}' is compensated before '{b.step}', which "
                                "completed after it (compensations must run in reverse order)")

    def report(self, state: str, code: str, severity: str, message: str) -> None:
        # One finding per message; it lists every error that takes the same path.
        self.problems.setdefault((state, code, severity, message), set()).add(self.error)


def _merge(ends: list[list]) -> list:
    """The steps completed at a scope's end over several paths: definite only when every
    path completed them."""
    merged: dict[str, _Done] = {}
    for done in ends:
        for d in done:
            merged.setdefault(d.step, d)
    return [d if all(any(x.step == d.step for x in done) for done in ends)
            else _Done(d.step, False, d.group) for d in merged.values()]


def _absorbs_transient(state: dict) -> bool:
    retriers = compile_retriers(state.get("Retry"))
    index = find_retrier(retriers, UNNAMED_ERROR)
    return index is not None and retriers[index].max_attempts > 0


def _names(names) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _error_order(name: str) -> tuple:
    return (name == UNNAMED_ERROR, name == errors.TIMEOUT, name == errors.TASK_FAILED, name)
