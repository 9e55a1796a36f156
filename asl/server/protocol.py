"""The AWS JSON 1.0 wire protocol of Step Functions: requests in, responses and errors out.

A request is ``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Action>`` and a JSON
object as body (``Content-Type: application/x-amz-json-1.0``). Authorization headers are
accepted and never checked. A response is a JSON object; an error is HTTP 400 (500 for the
server's own faults) with ``{"__type": "<Code>", "message": "..."}``, which botocore turns
into ``client.exceptions.<Code>``. Timestamps travel as epoch seconds (numbers).

Parameters are checked against botocore's service model for Step Functions, the way
AWS's front end checks them before the service sees them: a value of the wrong JSON type is
a ``SerializationException``; a missing required member, a string too short or too long, a
number out of range or a value outside its enum is a ``ValidationException`` whose message
lists every violation ("2 validation errors detected: Value ... at 'name' failed to satisfy
constraint: ..."). The model is read from botocore's data files; without botocore installed
only the service's own checks apply.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import uuid
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable

__all__ = ["ApiError", "handle", "load_model", "make_handler", "validate_params",
           "TARGET_PREFIX", "CONTENT_TYPE"]

TARGET_PREFIX = "AWSStepFunctions."
CONTENT_TYPE = "application/x-amz-json-1.0"

log = logging.getLogger("asl.server")

#: String shapes whose ``max`` the service checks itself, in UTF-8 bytes, with an error
#: of its own (InvalidExecutionInput, InvalidOutput) rather than a ValidationException.
SERVICE_CHECKED_MAX = frozenset({"SensitiveData"})

#: The largest request body read (a 1 MiB definition, JSON-escaped, fits with room).
MAX_BODY = 8 * 1024 * 1024


class ApiError(Exception):
    """An error response: ``code`` becomes ``__type``, ``fields`` extra members (such as
    TooManyTags' ``resourceName``)."""

    def __init__(self, code: str, message: str = "", status: int = 400, **fields: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def body(self) -> dict:
        body = {"__type": self.code, "message": self.message}
        body.update(self.fields)
        return body


# -- the service model ----------------------------------------------------------------------

def _model_path() -> str | None:
    """botocore's newest ``stepfunctions/<version>/service-2.json[.gz]``, found without
    importing botocore (which takes a while)."""
    import importlib.util

    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        base = os.path.join(root, "data", "stepfunctions")
        if not os.path.isdir(base):
            continue
        for version in sorted(os.listdir(base), reverse=True):
            for name in ("service-2.json.gz", "service-2.json"):
                path = os.path.join(base, version, name)
                if os.path.isfile(path):
                    return path
    return None


@lru_cache(maxsize=1)
def load_model() -> dict | None:
    """botocore's service model for Step Functions (``None`` when botocore is absent)."""
    path = _model_path()
    if path is None:
        log.warning("botocore is not installed: request parameters are not checked "
                    "against the Step Functions service model")
        return None
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


# -- parameter validation -------------------------------------------------------------------

_INTEGER_TYPES = ("integer", "long")
_FLOAT_TYPES = ("float", "double")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _serialization_error(path: str, expected: str, value: Any) -> ApiError:
    return ApiError("SerializationException",
                    f"Cannot deserialize a JSON {_type_name(value)} as a {expected} "
                    f"at '{path}'")


class _Checker:
    def __init__(self, shapes: dict) -> None:
        self.shapes = shapes
        self.problems: list[str] = []

    def violation(self, path: str, value: Any, sensitive: bool, constraint: str) -> None:
        if value is None:
            shown = "Value null"
        elif sensitive:
            shown = "Value"
        elif isinstance(value, str):
            shown = f"Value '{value}'"
        else:
            shown = f"Value '{json.dumps(value)}'"
        self.problems.append(f"{shown} at '{path}' failed to satisfy constraint: {constraint}")

    def check(self, shape_name: str, value: Any, path: str, sensitive: bool = False) -> None:
        shape = self.shapes[shape_name]
        kind = shape.get("type")
        sensitive = sensitive or bool(shape.get("sensitive"))
        if kind == "structure":
            if not isinstance(value, dict):
                raise _serialization_error(path or "input", "structure", value)
            members = shape.get("members", {})
            for name in shape.get("required", ()):
                if value.get(name) is None:
                    self.violation(self._join(path, name), None, False, "Member must not be null")
            for name, member in members.items():
                if value.get(name) is not None:
                    self.check(member["shape"], value[name], self._join(path, name), sensitive)
        elif kind == "list":
            if not isinstance(value, list):
                raise _serialization_error(path, "list", value)
            self._length(shape, len(value), path, value, sensitive)
            for index, item in enumerate(value, 1):
                if item is not None:
                    self.check(shape["member"]["shape"], item, f"{path}.{index}.member", sensitive)
        elif kind == "map":
            if not isinstance(value, dict):
                raise _serialization_error(path, "map", value)
            self._length(shape, len(value), path, value, sensitive)
            for key, item in value.items():
                self.check(shape["key"]["shape"], key, f"{path}.{key}.key", sensitive)
                if item is not None:
                    self.check(shape["value"]["shape"], item, f"{path}.{key}.value", sensitive)
        elif kind == "string":
            if not isinstance(value, str):
                raise _serialization_error(path, "string", value)
            if "enum" in shape and value not in shape["enum"]:
                self.violation(path, value, sensitive, "Member must satisfy enum value set: "
                               f"[{', '.join(shape['enum'])}]")
            checked_max = shape_name not in SERVICE_CHECKED_MAX
            self._length(shape, len(value), path, value, sensitive, checked_max)
        elif kind in _INTEGER_TYPES:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
                raise _serialization_error(path, "integer", value)
            self._range(shape, value, path, sensitive)
        elif kind in _FLOAT_TYPES:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _serialization_error(path, "number", value)
            self._range(shape, value, path, sensitive)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise _serialization_error(path, "boolean", value)
        elif kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise _serialization_error(path, "timestamp", value)
        elif kind == "blob":
            if not isinstance(value, str):
                raise _serialization_error(path, "blob", value)

    @staticmethod
    def _join(path: str, name: str) -> str:
        return f"{path}.{name}" if path else name

    def _length(self, shape: dict, length: int, path: str, value: Any, sensitive: bool,
                checked_max: bool = True) -> None:
        if "min" in shape and length < shape["min"]:
            self.violation(path, value, sensitive,
                           f"Member must have length greater than or equal to {shape['min']}")
        if checked_max and "max" in shape and length > shape["max"]:
            self.violation(path, value, sensitive,
                           f"Member must have length less than or equal to {shape['max']}")

    def _range(self, shape: dict, value: Any, path: str, sensitive: bool) -> None:
        if "min" in shape and value < shape["min"]:
            self.violation(path, value, sensitive,
                           f"Member must have value greater than or equal to {shape['min']}")
        if "max" in shape and value > shape["max"]:
            self.violation(path, value, sensitive,
                           f"Member must have value less than or equal to {shape['max']}")


def validate_params(action: str, params: dict, model: dict | None = None) -> None:
    """Check ``params`` against the input shape of ``action``; raises :class:`ApiError`.

    Patterns are not checked (the model's are Java regular expressions).
    """
    model = load_model() if model is None else model
    if model is None:
        return
    operation = model["operations"].get(action)
    if operation is None or "input" not in operation:
        return
    checker = _Checker(model["shapes"])
    checker.check(operation["input"]["shape"], params, "")
    if checker.problems:
        count = len(checker.problems)
        noun = "error" if count == 1 else "errors"
        raise ApiError("ValidationException", f"{count} validation {noun} detected: "
                       + "; ".join(checker.problems))


# -- requests and responses -------------------------------------------------------------------

def parse_body(body: bytes) -> dict:
    """The request's JSON object (an empty body is ``{}``); SerializationException else."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("SerializationException", "Request body is not valid UTF-8") from None
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError("SerializationException",
                       f"Request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                       f"column {exc.colno}") from None
    except RecursionError:
        raise ApiError("SerializationException", "Request body is nested too deeply") from None
    if not isinstance(params, dict):
        raise ApiError("SerializationException",
                       f"Start of structure or map expected, got a JSON {_type_name(params)}")
    return params


def action_of(target: str | None) -> str:
    """``StartExecution`` from ``AWSStepFunctions.StartExecution``."""
    if not target or not target.startswith(TARGET_PREFIX) or target == TARGET_PREFIX:
        raise ApiError("UnknownOperationException",
                       f"Unknown operation: X-Amz-Target {target!r} does not name an action "
                       f"of the form {TARGET_PREFIX}<Action>")
    return target[len(TARGET_PREFIX):]


def handle(dispatch: Callable[[str, dict], dict], supported: Callable[[str], bool],
           target: str | None, body: bytes) -> tuple[int, dict]:
    """One request, protocol-level: returns (HTTP status, response object).

    ``dispatch(action, params)`` runs an action; ``supported(action)`` says whether the
    service implements it.
    """
    try:
        action = action_of(target)
        model = load_model()
        if model is not None and action not in model["operations"]:
            raise ApiError("UnknownOperationException", f"Unknown operation: {action}")
        if not supported(action):
            raise ApiError("UnknownOperationException",
                           f"The asl server does not implement {action}")
        params = parse_body(body)
        validate_params(action, params, model)
        return 200, dispatch(action, params)
    except ApiError as exc:
        return exc.status, exc.body()
    except Exception:  # noqa: BLE001 - a fault of the server, never the client's
        log.exception("internal error handling %s", target)
        return 500, {"__type": "InternalFailure",
                     "message": "The asl server had an internal error (see its log)"}


def encode(response: dict) -> bytes:
    return json.dumps(response, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def make_handler(dispatch: Callable[[str, dict], dict], supported: Callable[[str], bool],
                 *, quiet: bool = True) -> type[BaseHTTPRequestHandler]:
    """A ``BaseHTTPRequestHandler`` class serving the protocol on ``POST``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"          # keep-alive: botocore reuses connections
        disable_nagle_algorithm = True         # no 40 ms delayed-ACK stall per response
        server_version = "asl-server"
        sys_version = ""

        def _send(self, status: int, payload: dict) -> None:
            data = encode(payload)
            self.send_response(status)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self._headers_buffer.append(b"\r\n" + data)   # headers and body: one write
            self.flush_headers()

        def _read_body(self) -> bytes:
            length = self.headers.get("Content-Length")
            if length is None:
                return b""
            try:
                size = int(length)
            except ValueError:
                return b""
            return self.rfile.read(size) if size > 0 else b""

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            try:
                size = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                size = 0
            if size > MAX_BODY:
                self.close_connection = True      # the body is left unread
                self._send(400, {"__type": "ValidationException",
                                 "message": f"Request body of {size} bytes exceeds the "
                                            f"{MAX_BODY} bytes this server reads"})
                return
            body = self._read_body()
            status, payload = handle(dispatch, supported, self.headers.get("X-Amz-Target"), body)
            self._send(status, payload)

        def _not_post(self) -> None:
            self._read_body()
            self._send(400, {"__type": "UnknownOperationException",
                             "message": f"{self.command} is not supported: send POST / with "
                                        f"X-Amz-Target: {TARGET_PREFIX}<Action>"})

        do_GET = do_PUT = do_DELETE = do_PATCH = _not_post  # noqa: N815

        def do_HEAD(self) -> None:  # noqa: N802
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            if not quiet:
                super().log_message(format, *args)

    return Handler
