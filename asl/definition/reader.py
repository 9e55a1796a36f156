"""Reading a state machine definition: from a dict, JSON or YAML text, a file or stdin.

AWS takes a definition as JSON text (CloudFormation and SAM also accept YAML and fill
``${Name}`` placeholders from ``DefinitionSubstitutions``). Everything that can go wrong
before the definition is even an object raises :class:`DefinitionError` with one line that
says what and where (``definition.json: invalid JSON at line 3, column 5: ...``).

JSON text is parsed with :mod:`json`, so integers stay integers and ``0.0`` stays a float,
as AWS keeps them. YAML is parsed as CloudFormation does (``yaml.safe_load`` semantics),
except that unquoted timestamps stay strings: a Wait ``Timestamp`` must reach the
validator as the text the author wrote.

Both parsers keep only the last of two equal keys in one object; :func:`read_definition`
also reports where that happened, because two states with the same name in one
``States`` object would otherwise vanish silently.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

_YAML_SUFFIXES = (".yaml", ".yml")
# ${Name} as CloudFormation's DefinitionSubstitutions write it.
#: A DefinitionSubstitutions placeholder, ``${Name}``; group 1 is the name.
PLACEHOLDER = re.compile(r"\$\{([^${}]+)\}")


class DefinitionError(ValueError):
    """The definition cannot be read, is not JSON or YAML, or is not an object."""


class LoadedDefinition(NamedTuple):
    """A definition, the JSON pointers of keys its text gave twice in one object, and its
    compact JSON text when reading it already made that (a dict is checked by encoding)."""

    definition: dict
    duplicate_keys: tuple[str, ...] = ()
    text: str | None = None


def load_definition(source: Any, substitutions: dict[str, str] | None = None) -> dict:
    """The definition ``source`` names, as a dict.

    ``source`` is a dict (returned as is), JSON or YAML text, a :class:`pathlib.Path`, or
    a ``str`` path to an existing file (``-`` reads stdin). ``substitutions`` fill
    ``${Name}`` placeholders (see :func:`substitute`). Raises :class:`DefinitionError`.
    """
    return read_definition(source, substitutions).definition


def read_definition(source: Any, substitutions: dict[str, str] | None = None) -> LoadedDefinition:
    """Like :func:`load_definition`, also reporting keys that appeared twice in one object."""
    duplicates: list[str] = []
    text = None
    if isinstance(source, dict):
        text = _check_json(source)
        definition = source
    elif isinstance(source, Path):
        definition = _parse(_read_file(source), str(source), source.suffix, duplicates)
    elif isinstance(source, (bytes, bytearray)):
        definition = _parse(_decode(bytes(source), "definition"), None, "", duplicates)
    elif isinstance(source, str):
        definition = _load_string(source, duplicates)
    elif isinstance(source, list):
        raise DefinitionError("not a JSON object (got an array)")
    else:
        raise DefinitionError(
            f"expected a dict, JSON or YAML text, or a file path, got {type(source).__name__}")
    if substitutions:
        try:
            definition = substitute(definition, substitutions)
        except RecursionError:
            raise DefinitionError("the definition is nested too deeply") from None
        text = None
    return LoadedDefinition(definition, tuple(duplicates), text)


def _check_json(definition: dict) -> str:
    """A dict must be what JSON text could have given: no NaN, Infinity, sets or dates
    (AWS receives definitions as JSON text). Returns that compact text."""
    try:
        return json.dumps(definition, allow_nan=False, ensure_ascii=False,
                          separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise DefinitionError(f"the definition is not JSON: {exc}") from None
    except RecursionError:
        raise DefinitionError("the definition is nested too deeply") from None


def substitute(definition: dict, substitutions: dict[str, str]) -> dict:
    """A copy of ``definition`` with ``${Name}`` placeholders filled in every string.

    Works like CloudFormation's ``DefinitionSubstitutions``: every string value and every
    key is scanned. A placeholder whose name has no substitution is left as written, so
    that it shows up, unchanged, wherever it ends up (validation or execution output).
    """
    values = {str(name): _substitution_text(value) for name, value in substitutions.items()}

    def fill(text: str) -> str:
        if "${" not in text:
            return text
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    def walk(value):
        if isinstance(value, str):
            return fill(value)
        if isinstance(value, dict):
            return {fill(k) if isinstance(k, str) else k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(definition)


def _substitution_text(value) -> str:
    # CloudFormation passes strings; numbers and booleans are written as JSON writes them.
    if isinstance(value, str):
        return value
    return json.dumps(value)


# -- sources -----------------------------------------------------------------------------

def _load_string(source: str, duplicates: list) -> dict:
    """A string is stdin (``-``), definition text, or a file path, in that order."""
    if source == "-":
        return _parse(_read_stdin(), "<stdin>", "", duplicates)
    stripped = source.strip()
    if not stripped:
        raise DefinitionError("empty definition")
    if stripped[0] in "{[\"" or "\n" in source:
        return _parse(source, None, "", duplicates)
    if _is_file(source):
        path = Path(source)
        return _parse(_read_file(path), source, path.suffix, duplicates)
    if source.lower().endswith((".json",) + _YAML_SUFFIXES) or os.sep in source:
        raise DefinitionError(f"cannot read '{source}': No such file or directory")
    # One line that is not a file: YAML text, or a mistyped path.
    try:
        return _parse(source, None, "", duplicates)
    except DefinitionError:
        pass
    raise DefinitionError(f"'{_shorten(source)}' is neither an existing file nor a JSON or YAML object")


def _is_file(text: str) -> bool:
    try:
        return len(text) < 4096 and os.path.isfile(text)
    except (OSError, ValueError):  # over-long names, NUL characters
        return False


def _read_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DefinitionError(f"cannot read '{path}': {reason}") from None
    return _decode(data, str(path))


def _read_stdin() -> str:
    stream = sys.stdin
    if stream is None:
        raise DefinitionError("<stdin>: no standard input")
    try:
        buffer = getattr(stream, "buffer", None)
        data = buffer.read() if buffer is not None else stream.read()
    except (OSError, ValueError) as exc:
        raise DefinitionError(f"cannot read <stdin>: {exc}") from None
    if isinstance(data, str):
        return data
    return _decode(data, "<stdin>")


def _decode(data: bytes, name: str) -> str:
    """Text from bytes: UTF-8 (with or without BOM), or UTF-16/32 when a BOM says so."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        if b"\x00" in data:
            raise DefinitionError(f"{name}: not a text file (it contains NUL bytes)")
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            f"{name}: not UTF-8 text (undecodable byte at offset {exc.start})") from None


# -- parsing -----------------------------------------------------------------------------

def _parse(text: str, name: str | None, suffix: str, duplicates: list) -> dict:
    """Parse JSON or YAML text into a dict; ``name`` prefixes error messages."""
    prefix = f"{name}: " if name else ""
    if not text.strip():
        raise DefinitionError(f"{prefix}empty file" if name and name != "<stdin>"
                              else f"{prefix}empty input")
    suffix = suffix.lower()
    try:
        if suffix in _YAML_SUFFIXES:
            value = _parse_yaml(text, prefix, duplicates)
        elif suffix == ".json" or text.lstrip()[:1] in ("{", "[", '"'):
            # JSON, strictly: YAML would accept trailing commas, NaN or single quotes and
            # hide the mistake; a JSON error also has an exact line and column.
            value = _parse_json(text, prefix, duplicates)
        else:
            value = _parse_yaml(text, prefix, duplicates, fallback_message="not valid JSON or YAML")
    except RecursionError:
        raise DefinitionError(f"{prefix}the definition is nested too deeply") from None
    if not isinstance(value, dict):
        raise DefinitionError(f"{prefix}not a JSON object (got {json_type(value)})")
    return value


def _parse_json(text: str, prefix: str, duplicates: list) -> Any:
    repeated: dict[int, list[str]] = {}

    def pairs_hook(pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen = set()
            repeated[id(obj)] = [k for k, _ in pairs if k in seen or seen.add(k)]
        return obj

    def reject_constant(name):
        raise ValueError(f"'{name}' is not a JSON value")

    try:
        value = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            f"{prefix}invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise DefinitionError(f"{prefix}invalid JSON: {exc}") from None
    if repeated:
        duplicates.extend(_pointers_of(value, repeated))
    return value


def _parse_yaml(text: str, prefix: str, duplicates: list, fallback_message: str | None = None) -> Any:
    import yaml

    loader = _yaml_loader()(text)
    loader.repeated = {}
    try:
        node = loader.get_single_node()
        check_expansion(node, prefix)
        value = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        kind = fallback_message or "invalid YAML"
        raise DefinitionError(f"{prefix}{kind}{where}: {problem}") from None
    except yaml.YAMLError as exc:
        detail = str(exc).splitlines()[0]
        raise DefinitionError(f"{prefix}{fallback_message or 'invalid YAML'}: {detail}") from None
    finally:
        loader.dispose()
    if loader.repeated:  # before _jsonable, which builds new dicts
        duplicates.extend(_pointers_of(value, loader.repeated))
    return _jsonable(value, prefix)


#: How many values a YAML document may stand for once its aliases are expanded: ten times
#: what fits in AWS's 1 MB definition limit, and far below what a "billion laughs" makes.
MAX_YAML_VALUES = 1_000_000


def check_expansion(root, prefix: str = "") -> None:
    """Refuse a document whose aliases expand past MAX_YAML_VALUES values, or loop.

    PyYAML shares one object per anchor, so the loaded value is small; everything after
    (copies, validation, JSON) would expand it. Counted on the node graph, each anchored
    node once, so a bomb is refused in time proportional to its text.
    """
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            total = 1
            for child in _children(node):
                total += sizes[id(child)]
            if total > MAX_YAML_VALUES:
                raise DefinitionError(
                    f"{prefix}YAML aliases expand to more than {MAX_YAML_VALUES:,} values")
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise DefinitionError(f"{prefix}a YAML alias refers to a value that contains it")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node) -> list:
    value = node.value
    if not isinstance(value, list):
        return []                                 # a scalar
    if value and isinstance(value[0], tuple):     # a mapping: (key, value) pairs
        return [part for pair in value for part in pair]
    return value


_LOADER = None


def _yaml_loader():
    """A safe YAML loader that keeps timestamps as strings and notes repeated keys."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    timestamp = "tag:yaml.org,2002:timestamp"

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != timestamp]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }

    def construct_map(loader, node):
        data: dict = {}
        yield data
        seen, again = set(), []
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    again.append(key_node.value)
                seen.add(key)
        data.update(loader.construct_mapping(node))
        if again:
            loader.repeated[id(data)] = again

    Loader.add_constructor("tag:yaml.org,2002:map", construct_map)
    _LOADER = Loader
    return Loader


def _jsonable(value, prefix: str):
    """YAML values as JSON has them: string keys, and no sets, bytes or dates."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else _key_text(k, prefix): _jsonable(v, prefix)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v, prefix) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise DefinitionError(f"{prefix}YAML value of type '{type(value).__name__}' has no JSON equivalent")


def _key_text(key, prefix: str) -> str:
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise DefinitionError(f"{prefix}a YAML key of type '{type(key).__name__}' has no JSON equivalent")


def _pointers_of(root, repeated: dict[int, list[str]]) -> list[str]:
    """JSON pointers of the keys named in ``repeated`` (object id -> keys), in document order."""
    found = []
    stack = [(root, "")]
    while stack:
        node, at = stack.pop()
        if isinstance(node, dict):
            for key in repeated.get(id(node), ()):
                found.append(at + "/" + _pointer_key(key))
            children = [(v, at + "/" + _pointer_key(k)) for k, v in node.items()
                        if isinstance(v, (dict, list))]
        elif isinstance(node, list):
            children = [(v, f"{at}/{i}") for i, v in enumerate(node) if isinstance(v, (dict, list))]
        else:
            continue
        stack.extend(reversed(children))
    return found


def _pointer_key(key) -> str:
    text = key if isinstance(key, str) else json.dumps(key) if key is None or isinstance(
        key, (bool, int, float)) else str(key)
    return text.replace("~", "~0").replace("/", "~1")


def json_type(value) -> str:
    """How an error message names a JSON value's type: "an object", "an array", ..."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    return type(value).__name__


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
