"""What AWS refuses in an EXPRESS state machine that a STANDARD one may do.

Express workflows run at most five minutes and at least once: they support neither the
``.sync`` (run a job) nor the ``.waitForTaskToken`` (callback) integration patterns, and a
Distributed Map inside one must run its child workflows as EXPRESS too [AWS docs:
"Choosing workflow type", "Service integration patterns", "Distributed Map"].
"""

from __future__ import annotations

from asl.definition.scopes import walk_states
from asl.validation.diagnostics import SCHEMA_VALIDATION_FAILED, Diagnostic

EXPRESS_PATTERNS = (".sync", ".waitForTaskToken")


def express_diagnostics(definition: dict) -> list[Diagnostic]:
    """The EXPRESS-only errors of a definition otherwise valid."""
    found = []
    for ref in walk_states(definition):
        state = ref.definition
        resource = state.get("Resource")
        if ref.type == "Task" and isinstance(resource, str):
            for pattern in EXPRESS_PATTERNS:
                if pattern in resource:
                    found.append(Diagnostic(
                        ref.at + "/Resource", SCHEMA_VALIDATION_FAILED,
                        f"Express state machine does not support '{pattern}' service "
                        "integration"))
        if ref.type == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
            if isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED" and \
                    config.get("ExecutionType") != "EXPRESS":
                found.append(Diagnostic(
                    ref.at + "/ItemProcessor/ProcessorConfig/ExecutionType",
                    SCHEMA_VALIDATION_FAILED,
                    "A Distributed Map in an Express state machine must run EXPRESS child "
                    "workflows"))
    return found
