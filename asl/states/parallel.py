"""Parallel: every branch runs on the effective input; the result is their outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from asl.states.base import CompileOptions, Frame, Scope, Step
from asl.states.io import ResultState, common_fields, result_fields
from asl.states.retry import Catcher, Retrier, compile_catchers, compile_retriers, run_with_retry


@dataclass(slots=True, kw_only=True, eq=False)
class ParallelState(ResultState):
    """Parallel: the result is the array of branch outputs in Branches order. A failing
    branch stops the others and the state fails with that branch's own error (AWS does
    not say States.BranchFailed)."""

    type: ClassVar[str] = "Parallel"
    retries: ClassVar[bool] = True

    branches: tuple[Scope, ...]
    blocking: bool = False
    retriers: tuple[Retrier, ...] = ()
    catchers: tuple[Catcher, ...] = ()

    @classmethod
    def compile(cls, name: str, definition: dict, options: CompileOptions) -> "ParallelState":
        from asl.states import compile_scope   # here: branches hold states of every type

        fields = common_fields(name, definition, options)
        branches = tuple(compile_scope(b, options) for b in definition["Branches"])
        return cls(**fields, **result_fields(definition, fields["jsonata"]), branches=branches,
                   blocking=any(b.may_block for b in branches),
                   retriers=compile_retriers(definition.get("Retry")),
                   catchers=compile_catchers(definition.get("Catch"), fields["jsonata"]))

    @property
    def blocks(self) -> bool:
        return self.blocking

    def run(self, frame: Frame, raw: Any, size: int | None) -> Step:
        frame.enter(self, raw)

        def attempt() -> Step:
            effective = self.effective_input(frame, raw)
            frame.event("ParallelStateStarted")
            jobs = [lambda child, branch=branch: child.run_scope(branch, effective)
                    for branch in self.branches]
            results, failures = frame.run_concurrently(jobs, limit=0, may_block=self.blocking)
            if failures:
                frame.event("ParallelStateFailed")
                raise failures[0][1]
            frame.event("ParallelStateSucceeded")
            return self.finish(frame, raw, size, results, None, results)

        return run_with_retry(self, frame, raw, self.retriers, self.catchers, attempt)

