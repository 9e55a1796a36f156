"""The eight state types, one room each: how a state is compiled, and what running it does.

========  ==========================================
Pass      :mod:`asl.states.flow` (with Succeed, Fail)
Task      :mod:`asl.states.task`
Choice    :mod:`asl.states.choice`
Wait      :mod:`asl.states.wait`
Parallel  :mod:`asl.states.parallel`
Map       :mod:`asl.states.map`
========  ==========================================

What every state shares: :mod:`asl.states.base` (the :class:`State` base class and the
:class:`Frame` protocol a state runs against), :mod:`asl.states.io` (the input/output
pipeline) and :mod:`asl.states.retry` (Retry and Catch).
"""

from __future__ import annotations

from asl.states.base import CompileOptions, Frame, Scope, State, Step
from asl.states.choice import ChoiceState
from asl.states.flow import FailState, PassState, SucceedState
from asl.states.map import MapState
from asl.states.parallel import ParallelState
from asl.states.task import TaskState
from asl.states.wait import WaitState

#: Every state type by its ``Type``: the one place a new type would be registered.
STATE_TYPES: dict[str, type[State]] = {
    cls.type: cls for cls in (PassState, TaskState, ChoiceState, WaitState, SucceedState,
                              FailState, ParallelState, MapState)
}


def compile_scope(definition: dict, options: CompileOptions) -> Scope:
    """Compile a ``{StartAt, States}`` object (the machine, a branch or a processor)."""
    states = {name: STATE_TYPES[body["Type"]].compile(name, body, options)
              for name, body in definition["States"].items()}
    return Scope(definition["StartAt"], states, any(s.blocks for s in states.values()))


__all__ = ["STATE_TYPES", "CompileOptions", "Frame", "Scope", "State", "Step", "compile_scope"]
