"""A validation finding, in the shape of AWS's ValidateStateMachineDefinition diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "ERROR"
WARNING = "WARNING"

# AWS's codes: nearly every rule violation is SCHEMA_VALIDATION_FAILED; only graph and
# JSONata problems have codes of their own. Tools written against AWS rely on these.
SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
MISSING_TRANSITION_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END_STATE = "MISSING_END_STATE"
DUPLICATE_STATE_NAME = "DUPLICATE_STATE_NAME"
INVALID_JSONATA_EXPRESSION = "INVALID_JSONATA_EXPRESSION"
#: A JSONata expression reading what Step Functions does not provide: a field of the
#: (nonexistent) context item, ``{% phone %}`` or ``{% $.phone %}``, or ``$$``.
UNSUPPORTED_JSONATA_EXPRESSION = "UNSUPPORTED_JSONATA_EXPRESSION"
# AWS's warnings.
NO_DOLLAR = "NO_DOLLAR"
NO_PATH = "NO_PATH"
PASS_RESULT_IS_STATIC = "PASS_RESULT_IS_STATIC"
# asl's own.
NESTING_TOO_DEEP = "NESTING_TOO_DEEP"
#: A warning: an intrinsic call with a wrong argument count or a literal argument that
#: is certainly wrong. AWS accepts the definition; the call fails with States.Runtime.
INTRINSIC_ARGUMENTS = "INTRINSIC_ARGUMENTS"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem with a definition.

    ``location`` is the RFC 6901 JSON pointer of the offending field, or of the object
    that lacks a required field (``/States/ChargePayment/Next``).
    """

    location: str
    code: str
    message: str
    severity: str = ERROR

    def to_dict(self) -> dict:
        return {"severity": self.severity, "code": self.code,
                "message": self.message, "location": self.location}

    def __str__(self) -> str:
        return f"{self.severity} {self.code} {self.location or '/'}: {self.message}"


def pointer(*parts) -> str:
    """The RFC 6901 JSON pointer of a path of keys and indices ('~' and '/' escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
