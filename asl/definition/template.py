"""State machine definitions out of CloudFormation / SAM templates and ``cdk synth`` output.

:func:`load_template` finds an ``AWS::StepFunctions::StateMachine`` or
``AWS::Serverless::StateMachine`` resource and returns its definition as the ASL dict that
CloudFormation would hand to Step Functions:

- ``Definition`` (an object; intrinsic functions inside it are resolved),
  ``DefinitionString`` (a string, ``Fn::Sub`` with or without a variables map, ``Fn::Join``...),
  ``DefinitionUri`` / ``DefinitionS3Location`` naming a local JSON or YAML file (relative
  to ``base_dir``, by default the template's folder);
- ``DefinitionSubstitutions`` fill ``${Name}`` placeholders afterwards.

Nothing is deployed, so references to other resources become deterministic placeholders
of the shape CloudFormation returns for that resource type, named after the logical ID
(``!GetAtt Fn.Arn`` -> ``arn:aws:lambda:us-east-1:123456789012:function:Fn``, ``!Ref Fn`` ->
``Fn``, the function name, as CloudFormation gives it): a Lambda handler can be keyed by
the logical ID. ``substitutions`` overrides any name before that (a parameter, a logical
ID, ``Fn.Arn``, a pseudo parameter such as ``AWS::Region``, a ``DefinitionSubstitutions``
key, an ``Fn::ImportValue`` export name).

YAML templates are read with a safe loader that knows the CloudFormation short forms
(``!Ref``, ``!GetAtt``, ``!Sub``...) and nothing else, and that refuses a document whose
aliases would expand past :data:`MAX_EXPANDED_NODES` nodes. Every failure is a
:class:`TemplateError` with one line naming the template, the resource and the field.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from asl.definition.reader import (MAX_YAML_VALUES, PLACEHOLDER, DefinitionError, _decode,
                                   _is_file, check_expansion, json_type, substitute)

__all__ = ["TemplateError", "TemplateDefinition", "load_template", "looks_like_template",
           "state_machine_ids",
           "MAX_EXPANDED_NODES", "STATE_MACHINE_TYPES"]

STATE_MACHINE_TYPES = ("AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine")
# A YAML document whose aliases expand past this many values is refused (an "alias bomb").
MAX_EXPANDED_NODES = MAX_YAML_VALUES

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_PARTITION = "aws"
DEFAULT_STACK_NAME = "asl-stack"
DEFAULT_URL_SUFFIX = "amazonaws.com"

_DEFINITION_FIELDS = ("Definition", "DefinitionString", "DefinitionUri", "DefinitionS3Location")
_SUB_RE = re.compile(r"\$\{([^}]*)\}")
_YAML_SUFFIXES = (".yaml", ".yml")


class TemplateError(DefinitionError):
    """The template cannot be read, has no (or no such) state machine, or cannot be resolved."""


@dataclasses.dataclass(frozen=True)
class TemplateDefinition:
    """A state machine definition resolved out of a template."""

    definition: dict
    logical_id: str
    resource_type: str
    field: str                              # "Properties.DefinitionString", ...
    template: str | None = None             # the template's path, when read from a file
    definition_file: str | None = None      # the DefinitionUri / DefinitionS3Location file
    substitutions: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    unresolved: tuple[str, ...] = ()        # ${Name} placeholders no substitution filled


def load_template(source: Any, logical_id: str | None = None,
                  substitutions: Mapping[str, Any] | None = None,
                  base_dir: str | os.PathLike | None = None) -> TemplateDefinition:
    """The definition of state machine ``logical_id`` in the template ``source``.

    ``source`` is a path (``str`` or :class:`pathlib.Path`), JSON or YAML template text, or
    an already parsed template dict. ``logical_id`` may be left out when the template has
    exactly one state machine. Raises :class:`TemplateError`.
    """
    template, name, path = _read_template(source)
    if base_dir is None:
        base_dir = path.parent if path is not None else Path.cwd()
    machines = state_machine_ids(template, name)
    resources = template["Resources"]
    if logical_id is None:
        if not machines:
            raise TemplateError(f"{name}: no state machine found (no resource of type "
                                f"{' or '.join(STATE_MACHINE_TYPES)})")
        if len(machines) > 1:
            raise TemplateError(f"{name}: {len(machines)} state machines found "
                                f"({', '.join(machines)}); choose one by logical ID")
        logical_id = machines[0]
    elif logical_id not in machines:
        listing = f"state machines: {', '.join(machines)}" if machines else "it has no state machine"
        if logical_id in resources:
            kind = _type_of(resources[logical_id])
            raise TemplateError(f"{name}: resource '{logical_id}' is {kind!r}, not a state "
                                f"machine ({listing})")
        raise TemplateError(f"{name}: no resource '{logical_id}' ({listing})")
    resource = resources[logical_id]
    resolver = _Resolver(template, dict(substitutions or {}), f"{name}: resource '{logical_id}'")
    try:
        return _definition_of(resolver, logical_id, resource, Path(base_dir),
                              str(path) if path is not None else None)
    except RecursionError:
        raise TemplateError(f"{name}: resource '{logical_id}': nested too deeply") from None


_TEMPLATE_MARK = re.compile(r"AWS::(StepFunctions|Serverless)::StateMachine")


def looks_like_template(source: Any) -> bool:
    """Whether ``source`` (a path or a Path) is a file holding a template's state machine
    resource rather than an ASL definition (which never names these resource types)."""
    if not isinstance(source, (str, os.PathLike)) or not _is_file(os.fspath(source)):
        return False
    try:
        with open(source, "rb") as handle:
            head = handle.read(1 << 20)
    except OSError:
        return False
    text = head.decode("utf-8", "replace")
    return "Resources" in text and _TEMPLATE_MARK.search(text) is not None


def state_machine_ids(template: Mapping, name: str = "template") -> list[str]:
    """The logical IDs of the state machine resources of a parsed template, in order."""
    resources = template.get("Resources") if isinstance(template, Mapping) else None
    if not isinstance(resources, Mapping):
        raise TemplateError(f"{name}: not a CloudFormation template (no Resources section)")
    return [rid for rid, res in resources.items() if _type_of(res) in STATE_MACHINE_TYPES]


def _type_of(resource: Any) -> str | None:
    return resource.get("Type") if isinstance(resource, Mapping) else None


# -- the definition fields -----------------------------------------------------------------

def _definition_of(resolver: "_Resolver", logical_id: str, resource: Mapping, base_dir: Path,
                   template_path: str | None) -> TemplateDefinition:
    where = resolver.where
    properties = resource.get("Properties")
    if not isinstance(properties, Mapping):
        raise TemplateError(f"{where}: has no Properties")
    given = [f for f in _DEFINITION_FIELDS if f in properties]
    if not given:
        raise TemplateError(f"{where}: Properties has no {', '.join(_DEFINITION_FIELDS[:-1])} "
                            f"or {_DEFINITION_FIELDS[-1]}")
    if len(given) > 1:
        raise TemplateError(f"{where}: Properties has both {given[0]} and {given[1]}; "
                            f"give only one")
    key = given[0]
    field = f"Properties.{key}"

    raw_subs = properties.get("DefinitionSubstitutions", {})
    subs_path = "Properties.DefinitionSubstitutions"
    if not isinstance(raw_subs, Mapping):
        raise TemplateError(f"{where}, {subs_path}: expected a map of names to values")
    # User substitutions win over the template's map; the map's keys stay as placeholders
    # when Fn::Sub meets them (as they will be filled afterwards).
    resolver.deferred = set(raw_subs) | set(resolver.subs)
    subs: dict[str, Any] = {}
    for name, value in raw_subs.items():
        if name in resolver.subs:
            continue
        value = resolver.resolve(value, f"{subs_path}.{name}")
        if value is not _NO_VALUE:
            subs[str(name)] = value
    subs.update({str(k): v for k, v in resolver.subs.items()})

    value = properties[key]
    definition_file = None
    if key == "Definition":
        definition = resolver.resolve(value, field)
        if not isinstance(definition, dict):
            raise TemplateError(f"{where}, {field}: expected an object, got {json_type(definition)}")
        definition = substitute(definition, subs) if subs else definition
    elif key == "DefinitionString":
        text = resolver.resolve(value, field)
        if not isinstance(text, str):
            raise TemplateError(f"{where}, {field}: expected a string, got {json_type(text)}")
        definition = _parse_definition_text(text, subs, f"{where}, {field}", "")
    else:
        location = resolver.resolve(value, field)
        path = _local_file(location, base_dir, f"{where}, {field}")
        definition_file = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TemplateError(f"{where}, {field}: cannot read '{path}': "
                                f"{exc.strerror or exc}") from None
        text = _decode(data, f"{where}, {field}: '{path}'")
        definition = _parse_definition_text(text, subs, f"{where}, {field}: '{path}'",
                                            path.suffix.lower())
    return TemplateDefinition(definition, logical_id, _type_of(resource), field, template_path,
                              definition_file, subs, tuple(_placeholders(definition)))


def _local_file(location: Any, base_dir: Path, where: str) -> Path:
    if isinstance(location, Mapping):
        bucket, key = location.get("Bucket"), location.get("Key")
        raise TemplateError(f"{where}: points at S3 (s3://{bucket}/{key}), not a local file; "
                            f"give a local path instead")
    if not isinstance(location, str) or not location:
        raise TemplateError(f"{where}: expected a local file path, got {json_type(location)}")
    if location.startswith("s3://"):
        raise TemplateError(f"{where}: points at S3 ({location}), not a local file; "
                            f"give a local path instead")
    path = Path(location)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise TemplateError(f"{where}: definition file '{location}' not found (looked for {path})")
    return path


def _parse_definition_text(text: str, subs: Mapping, where: str, suffix: str) -> dict:
    """Parse definition text, then fill ``${Name}`` placeholders.

    Step Functions fills placeholders in the text; parsing first and filling strings
    afterwards gives the same result and survives values with quotes in them. Text that
    only parses once filled (a placeholder written outside a string) is filled first.
    """
    try:
        definition = _parse_text(text, suffix)
    except _ParseError as first:
        filled = _fill_text(text, subs) if subs else text
        if filled == text:
            raise TemplateError(f"{where}: {first}") from None
        try:
            definition = _parse_text(filled, suffix)
        except _ParseError as exc:
            raise TemplateError(f"{where}: after DefinitionSubstitutions, {exc}") from None
    else:
        if subs:
            definition = substitute(definition, subs) if isinstance(definition, dict) else definition
    if not isinstance(definition, dict):
        raise TemplateError(f"{where}: the definition is {json_type(definition)}, not an object")
    return definition


def _fill_text(text: str, subs: Mapping) -> str:
    values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in subs.items()}
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _placeholders(value) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.extend(n for n in PLACEHOLDER.findall(item) if n not in found)
        elif isinstance(item, dict):
            stack.extend(item.values())
            stack.extend(k for k in item if isinstance(k, str))
        elif isinstance(item, list):
            stack.extend(item)
    return sorted(found)


# -- reading the template ------------------------------------------------------------------

class _ParseError(Exception):
    pass


def _read_template(source: Any) -> tuple[dict, str, Path | None]:
    """(template, name for messages, path or None)."""
    if isinstance(source, Mapping):
        return _checked(_jsonable(source, "template"), "template"), "template", None
    if isinstance(source, (bytes, bytearray)):
        source = _decode(bytes(source), "template")
    if isinstance(source, os.PathLike):
        return _read_template_file(Path(source))
    if not isinstance(source, str):
        raise TemplateError(f"expected a template path, text or dict, got {type(source).__name__}")
    stripped = source.strip()
    if not stripped:
        raise TemplateError("template: empty template")
    if stripped[0] in "{[" or "\n" in source:
        return _checked(_parse_template_text(source, "", "template"), "template"), "template", None
    if _is_file(source):
        return _read_template_file(Path(source))
    raise TemplateError(f"cannot read template '{source}': No such file")


def _read_template_file(path: Path) -> tuple[dict, str, Path]:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read template '{path}': {exc.strerror or exc}") from None
    text = _decode(data, name)
    if not text.strip():
        raise TemplateError(f"{name}: empty template")
    return _checked(_parse_template_text(text, path.suffix.lower(), name), name), name, path


def _checked(template: Any, name: str) -> dict:
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{name}: not a CloudFormation template (no Resources section)")
    return template


def _parse_template_text(text: str, suffix: str, name: str) -> Any:
    try:
        return _parse_any(text, suffix, cfn_tags=True)
    except _ParseError as exc:
        raise TemplateError(f"{name}: {exc}") from None
    except RecursionError:
        raise TemplateError(f"{name}: nested too deeply") from None


def _parse_text(text: str, suffix: str) -> Any:
    if not text.strip():
        raise _ParseError("empty definition")
    try:
        return _parse_any(text, suffix, cfn_tags=False)
    except RecursionError:
        raise _ParseError("nested too deeply") from None


def _parse_any(text: str, suffix: str, cfn_tags: bool) -> Any:
    """JSON when the text looks like it (its error wins), YAML otherwise."""
    if suffix in _YAML_SUFFIXES or text.lstrip()[:1] not in ("{", "["):
        return _parse_yaml(text, cfn_tags)
    try:
        return _parse_json(text)
    except _ParseError as json_error:
        if suffix == ".json":
            raise
        try:
            return _parse_yaml(text, cfn_tags)
        except _ParseError:
            raise json_error from None


def _parse_json(text: str) -> Any:
    def reject_constant(name):
        raise ValueError(f"'{name}' is not a JSON value")

    try:
        return json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise _ParseError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:
        raise _ParseError(f"invalid JSON: {exc}") from None


def _parse_yaml(text: str, cfn_tags: bool) -> Any:
    import yaml

    loader = _loader_class(cfn_tags)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            check_expansion(node)
        except DefinitionError as exc:
            raise _ParseError(f"refused: {exc}") from None
        value = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise _ParseError(f"invalid YAML{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise _ParseError(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()
    return _jsonable(value, "YAML")


_LOADERS: dict[bool, type] = {}

# Short form -> full name; !GetAtt and !Ref have their own constructors.
_SHORT_FORMS = {
    "!Sub": "Fn::Sub", "!Join": "Fn::Join", "!If": "Fn::If", "!Select": "Fn::Select",
    "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap", "!Base64": "Fn::Base64",
    "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Equals": "Fn::Equals",
    "!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!Cidr": "Fn::Cidr",
    "!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString", "!Transform": "Fn::Transform",
    "!Condition": "Condition",
}


def _loader_class(cfn_tags: bool) -> type:
    """A ``yaml.SafeLoader`` that keeps timestamps as strings, with or without CFN tags."""
    if cfn_tags in _LOADERS:
        return _LOADERS[cfn_tags]
    import yaml

    timestamp = "tag:yaml.org,2002:timestamp"

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != timestamp]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def content(loader, node):
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_mapping(node, deep=True)

    def short_form(name):
        return lambda loader, node: {name: content(loader, node)}

    def get_att(loader, node):
        value = content(loader, node)
        if isinstance(value, str):
            logical_id, dot, attribute = value.partition(".")
            if not dot or not logical_id or not attribute:
                raise yaml.constructor.ConstructorError(
                    None, None, f"!GetAtt {value!r} is not LogicalId.Attribute", node.start_mark)
            value = [logical_id, attribute]
        return {"Fn::GetAtt": value}

    def ref(loader, node):
        if not isinstance(node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "!Ref takes a name", node.start_mark)
        return {"Ref": loader.construct_scalar(node)}

    if cfn_tags:
        Loader.add_constructor("!Ref", ref)
        Loader.add_constructor("!GetAtt", get_att)
        for tag, name in _SHORT_FORMS.items():
            Loader.add_constructor(tag, short_form(name))
    _LOADERS[cfn_tags] = Loader
    return Loader


def _jsonable(value, name: str):
    """Values as JSON has them: string keys, and no sets, bytes or dates. Copies."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                if k is None or isinstance(k, bool):
                    k = json.dumps(k)
                elif isinstance(k, (int, float)):
                    k = str(k)
                else:
                    raise TemplateError(f"{name}: a key of type '{type(k).__name__}' has no JSON equivalent")
            out[k] = _jsonable(v, name)
        return out
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, name) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TemplateError(f"{name}: a value of type '{type(value).__name__}' has no JSON equivalent")


# -- intrinsic functions -------------------------------------------------------------------

class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE = _NoValue()

_LAMBDA_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
_TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Serverless::SimpleTable")
_IMPLICIT_ROLE_OWNERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


class _Resolver:
    """Resolves intrinsic functions in one resource's properties, lazily and memoized."""

    def __init__(self, template: dict, substitutions: dict, where: str) -> None:
        self.template = template
        self.resources = template.get("Resources", {})
        self.parameters = template.get("Parameters") or {}
        self.mappings = template.get("Mappings") or {}
        self.conditions = template.get("Conditions") or {}
        self.subs = substitutions
        self.where = where
        self.deferred: set = set()
        self._condition_values: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # pseudo parameters, overridable
    def _pseudo(self, name: str, default: str) -> str:
        value = self.subs.get(name, default)
        return value if isinstance(value, str) else str(value)

    @property
    def region(self) -> str:
        return self._pseudo("AWS::Region", DEFAULT_REGION)

    @property
    def account(self) -> str:
        return self._pseudo("AWS::AccountId", DEFAULT_ACCOUNT)

    @property
    def partition(self) -> str:
        return self._pseudo("AWS::Partition", DEFAULT_PARTITION)

    @property
    def url_suffix(self) -> str:
        return self._pseudo("AWS::URLSuffix", DEFAULT_URL_SUFFIX)

    def fail(self, path: str, message: str):
        raise TemplateError(f"{self.where}, {path}: {message}")

    # -- the walk -------------------------------------------------------------------------

    def resolve(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (key, arg), = value.items()
                if key == "Ref":
                    return self._ref(arg, path)
                if isinstance(key, str) and key.startswith("Fn::"):
                    return self._function(key, arg, f"{path}.{key}")
            out = {}
            for key, item in value.items():
                item = self.resolve(item, f"{path}.{key}")
                if item is not _NO_VALUE:
                    out[key] = item
            return out
        if isinstance(value, list):
            out_list = []
            for i, item in enumerate(value):
                item = self.resolve(item, f"{path}[{i}]")
                if item is not _NO_VALUE:
                    out_list.append(item)
            return out_list
        return value

    def _function(self, name: str, arg: Any, path: str) -> Any:
        handler = _FUNCTIONS.get(name)
        if handler is None:
            self.fail(path, f"intrinsic function {name} is not supported")
        return handler(self, arg, path)

    def _string(self, value: Any, path: str, what: str) -> str:
        value = self.resolve(value, path)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if not isinstance(value, str):
            self.fail(path, f"{what} must be a string, got {json_type(value)}")
        return value

    def _list(self, value: Any, path: str, what: str) -> list:
        value = self.resolve(value, path)
        if not isinstance(value, list):
            self.fail(path, f"{what} must be a list, got {json_type(value)}")
        return value

    # -- Ref and GetAtt -----------------------------------------------------------------------

    def _ref(self, name: Any, path: str) -> Any:
        path = f"{path}.Ref"
        if not isinstance(name, str):
            self.fail(path, f"Ref takes a name, got {json_type(name)}")
        value = self._lookup(name, path)
        if value is None:
            self.fail(path, f"cannot resolve Ref '{name}': no parameter, resource or pseudo "
                            f"parameter of that name (pass substitutions={{'{name}': ...}})")
        return value

    def _lookup(self, name: str, path: str) -> Any:
        """The value of ``Ref name``, or None when the template does not know the name."""
        if name in self.subs:
            return self.subs[name]
        if name.startswith("AWS::"):
            return self._pseudo_value(name)
        if name in self.parameters:
            return self._parameter(name, path)
        rtype = self._resource_type(name)
        if rtype is not None:
            return self._resource_ref(name, rtype)
        return None

    def _pseudo_value(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return self.account
        if name == "AWS::Partition":
            return self.partition
        if name == "AWS::URLSuffix":
            return self.url_suffix
        if name == "AWS::StackName":
            return self._pseudo(name, DEFAULT_STACK_NAME)
        if name == "AWS::StackId":
            stack = self._pseudo("AWS::StackName", DEFAULT_STACK_NAME)
            return (f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/"
                    f"{stack}/00000000-0000-0000-0000-000000000000")
        if name == "AWS::NotificationARNs":
            return []
        return None

    def _parameter(self, name: str, path: str) -> Any:
        spec = self.parameters[name]
        if not isinstance(spec, Mapping) or "Default" not in spec:
            self.fail(path, f"cannot resolve Ref '{name}': parameter '{name}' has no Default "
                            f"(pass substitutions={{'{name}': ...}})")
        default = spec["Default"]
        ptype = str(spec.get("Type", "String"))
        if isinstance(default, str) and (ptype == "CommaDelimitedList" or ptype.startswith("List<")):
            return [part.strip() for part in default.split(",")]
        if isinstance(default, bool):
            return "true" if default else "false"
        if isinstance(default, (int, float)):
            return str(default)
        return default

    def _resource_type(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id)
        if isinstance(resource, Mapping):
            return str(resource.get("Type", ""))
        # SAM's implicit execution roles: <Function>Role, <StateMachine>Role.
        if logical_id.endswith("Role"):
            owner = self.resources.get(logical_id[:-4])
            if _type_of(owner) in _IMPLICIT_ROLE_OWNERS:
                return "AWS::IAM::Role"
        return None

    def _get_att(self, arg: Any, path: str) -> Any:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        elif isinstance(arg, list) and len(arg) == 2:
            logical_id = arg[0]
            attribute = self._string(arg[1], f"{path}[1]", "the attribute name")
        else:
            self.fail(path, "Fn::GetAtt takes [LogicalId, Attribute]")
        if not isinstance(logical_id, str) or not logical_id or not attribute:
            self.fail(path, "Fn::GetAtt takes [LogicalId, Attribute]")
        value = self._attribute(logical_id, attribute)
        if value is None:
            self.fail(path, f"cannot resolve Fn::GetAtt {logical_id}.{attribute}: no resource "
                            f"'{logical_id}' (pass substitutions={{'{logical_id}.{attribute}': ...}})")
        return value

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        key = f"{logical_id}.{attribute}"
        if key in self.subs:
            return self.subs[key]
        rtype = self._resource_type(logical_id)
        if rtype is None:
            return None
        return self._resource_attribute(logical_id, rtype, attribute)

    # -- placeholder values -----------------------------------------------------------------

    def _arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account if account else ''}:{resource}")

    def _resource_ref(self, lid: str, rtype: str) -> str:
        if rtype in _LAMBDA_TYPES or rtype in _TABLE_TYPES or rtype in (
                "AWS::IAM::Role", "AWS::Events::EventBus", "AWS::Logs::LogGroup"):
            return lid                                  # the name
        if rtype == "AWS::S3::Bucket":
            return lid.lower()
        if rtype == "AWS::SQS::Queue":
            return self._resource_attribute(lid, rtype, "QueueUrl")
        return self._resource_attribute(lid, rtype, "Arn")

    def _resource_attribute(self, lid: str, rtype: str, attribute: str) -> str:
        if rtype in _LAMBDA_TYPES:
            if attribute == "Arn":
                return self._arn("lambda", f"function:{lid}")
        elif rtype in _TABLE_TYPES:
            table = self._arn("dynamodb", f"table/{lid}")
            if attribute == "Arn":
                return table
            if attribute == "StreamArn":
                return f"{table}/stream/1970-01-01T00:00:00.000"
        elif rtype == "AWS::SNS::Topic":
            if attribute in ("Arn", "TopicArn"):
                return self._arn("sns", lid)
        elif rtype == "AWS::SQS::Queue":
            if attribute == "Arn":
                return self._arn("sqs", lid)
            if attribute == "QueueUrl":
                return f"https://sqs.{self.region}.{self.url_suffix}/{self.account}/{lid}"
        elif rtype in STATE_MACHINE_TYPES:
            if attribute == "Arn":
                return self._arn("states", f"stateMachine:{lid}")
        elif rtype == "AWS::StepFunctions::Activity":
            if attribute == "Arn":
                return self._arn("states", f"activity:{lid}")
        elif rtype == "AWS::IAM::Role":
            if attribute == "Arn":
                return self._arn("iam", f"role/{lid}", region=False)
        elif rtype == "AWS::S3::Bucket":
            if attribute == "Arn":
                return self._arn("s3", lid.lower(), region=False, account=False)
            if attribute == "DomainName":
                return f"{lid.lower()}.s3.{self.url_suffix}"
        elif rtype == "AWS::Events::EventBus":
            if attribute == "Arn":
                return self._arn("events", f"event-bus/{lid}")
        elif rtype == "AWS::Logs::LogGroup":
            if attribute == "Arn":
                return self._arn("logs", f"log-group:{lid}:*")
        if attribute == "Ref":
            return self._resource_ref(lid, rtype)
        if attribute.endswith("Name"):
            return lid
        return self._generic(lid, rtype, attribute)

    def _generic(self, lid: str, rtype: str, attribute: str) -> str:
        parts = rtype.split("::")
        service = parts[1].lower() if len(parts) > 1 else "unknown"
        kind = parts[2].lower() if len(parts) > 2 else "resource"
        arn = self._arn(service, f"{kind}/{lid}")
        return arn if attribute.endswith("Arn") else f"{arn}/{attribute}"

    # -- conditions -------------------------------------------------------------------------

    def condition(self, name: Any, path: str) -> bool:
        if not isinstance(name, str):
            self.fail(path, f"a condition name must be a string, got {json_type(name)}")
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.conditions:
            self.fail(path, f"no condition '{name}' in Conditions")
        if name in self._evaluating:
            self.fail(path, f"condition '{name}' refers to itself")
        self._evaluating.add(name)
        try:
            value = self.condition_value(self.conditions[name], f"Conditions.{name}")
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = value
        return value

    def condition_value(self, expr: Any, path: str) -> bool:
        if isinstance(expr, dict) and len(expr) == 1 and "Condition" in expr:
            return self.condition(expr["Condition"], f"{path}.Condition")
        value = self.resolve(expr, path)
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        self.fail(path, f"a condition must be true or false, got {json_type(value)}")


def _fn_sub(r: _Resolver, arg: Any, path: str) -> str:
    if isinstance(arg, list):
        if len(arg) != 2 or not isinstance(arg[1], dict):
            r.fail(path, "Fn::Sub takes a string or [string, {variables}]")
        text, raw = arg
        variables = {}
        for key, value in raw.items():
            value = r.resolve(value, f"{path}[1].{key}")
            variables[key] = (",".join(map(str, value)) if isinstance(value, list)
                              else r._string(value, f"{path}[1].{key}", f"variable '{key}'"))
    else:
        text, variables = arg, {}
    if not isinstance(text, str):
        text = r._string(text, path, "the Fn::Sub template")

    def replace(match: re.Match) -> str:
        inner = match.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        name = inner.strip()
        if name in variables:
            return variables[name]
        if name in r.subs:
            value = r.subs[name]
        elif "." in name and not name.startswith("AWS::"):
            logical_id, _, attribute = name.partition(".")
            value = r._attribute(logical_id, attribute)
        else:
            value = r._lookup(name, path)
        if value is None or value is _NO_VALUE:
            if name in r.deferred:
                return match.group(0)     # a DefinitionSubstitutions key: filled later
            r.fail(path, f"cannot resolve ${{{name}}} in Fn::Sub: no variable, parameter, "
                         f"resource or pseudo parameter of that name "
                         f"(pass substitutions={{'{name}': ...}})")
        if isinstance(value, list):
            return ",".join(map(str, value))
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _SUB_RE.sub(replace, text)


def _fn_join(r: _Resolver, arg: Any, path: str) -> str:
    if not isinstance(arg, list) or len(arg) != 2:
        r.fail(path, "Fn::Join takes [delimiter, [values]]")
    delimiter = r._string(arg[0], f"{path}[0]", "the delimiter")
    items = r._list(arg[1], f"{path}[1]", "the values")
    return delimiter.join(r._string(item, f"{path}[1][{i}]", "a joined value")
                          for i, item in enumerate(items))


def _fn_select(r: _Resolver, arg: Any, path: str) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        r.fail(path, "Fn::Select takes [index, [values]]")
    index = r.resolve(arg[0], f"{path}[0]")
    try:
        index = int(index)
    except (TypeError, ValueError):
        r.fail(path, f"the index must be a number, got {index!r}")
    items = r._list(arg[1], f"{path}[1]", "the values")
    if not 0 <= index < len(items):
        r.fail(path, f"index {index} is out of range for {len(items)} values")
    return items[index]


def _fn_split(r: _Resolver, arg: Any, path: str) -> list:
    if not isinstance(arg, list) or len(arg) != 2:
        r.fail(path, "Fn::Split takes [delimiter, string]")
    delimiter = r._string(arg[0], f"{path}[0]", "the delimiter")
    if not delimiter:
        r.fail(path, "the delimiter must not be empty")
    return r._string(arg[1], f"{path}[1]", "the split string").split(delimiter)


def _fn_if(r: _Resolver, arg: Any, path: str) -> Any:
    if not isinstance(arg, list) or len(arg) != 3:
        r.fail(path, "Fn::If takes [condition, value if true, value if false]")
    chosen = arg[1] if r.condition(arg[0], f"{path}[0]") else arg[2]
    return r.resolve(chosen, path)


def _fn_equals(r: _Resolver, arg: Any, path: str) -> bool:
    if not isinstance(arg, list) or len(arg) != 2:
        r.fail(path, "Fn::Equals takes [value, value]")
    a, b = (r.resolve(v, f"{path}[{i}]") for i, v in enumerate(arg))
    return _canonical(a) == _canonical(b)


def _canonical(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _fn_not(r: _Resolver, arg: Any, path: str) -> bool:
    if not isinstance(arg, list) or len(arg) != 1:
        r.fail(path, "Fn::Not takes [condition]")
    return not r.condition_value(arg[0], f"{path}[0]")


def _fn_and(r: _Resolver, arg: Any, path: str) -> bool:
    if not isinstance(arg, list) or not arg:
        r.fail(path, "Fn::And takes a list of conditions")
    return all([r.condition_value(c, f"{path}[{i}]") for i, c in enumerate(arg)])


def _fn_or(r: _Resolver, arg: Any, path: str) -> bool:
    if not isinstance(arg, list) or not arg:
        r.fail(path, "Fn::Or takes a list of conditions")
    return any([r.condition_value(c, f"{path}[{i}]") for i, c in enumerate(arg)])


def _fn_find_in_map(r: _Resolver, arg: Any, path: str) -> Any:
    if not isinstance(arg, list) or len(arg) not in (3, 4):
        r.fail(path, "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]")
    names = [r._string(v, f"{path}[{i}]", "a map key") for i, v in enumerate(arg[:3])]
    default = arg[3].get("DefaultValue", _NO_VALUE) if len(arg) == 4 and isinstance(arg[3], dict) else _NO_VALUE
    node: Any = r.mappings
    for depth, key in enumerate(names):
        if not isinstance(node, Mapping) or key not in node:
            if default is not _NO_VALUE:
                return r.resolve(default, path)
            where = ".".join(names[:depth + 1])
            r.fail(path, f"cannot resolve Fn::FindInMap: no '{where}' in Mappings")
        node = node[key]
    return node


def _fn_base64(r: _Resolver, arg: Any, path: str) -> str:
    text = r._string(arg, path, "the Fn::Base64 value")
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _fn_get_azs(r: _Resolver, arg: Any, path: str) -> list:
    region = r._string(arg, path, "the region") if arg not in (None, "") else ""
    region = region or r.region
    return [f"{region}{zone}" for zone in "abc"]


def _fn_import_value(r: _Resolver, arg: Any, path: str) -> Any:
    name = r._string(arg, path, "the export name")
    if name in r.subs:
        return r.subs[name]
    r.fail(path, f"cannot resolve Fn::ImportValue '{name}': it comes from another stack "
                 f"(pass substitutions={{'{name}': ...}})")


def _fn_get_att(r: _Resolver, arg: Any, path: str) -> Any:
    return r._get_att(arg, path)


def _fn_length(r: _Resolver, arg: Any, path: str) -> int:
    return len(r._list(arg, path, "the Fn::Length value"))


def _fn_to_json_string(r: _Resolver, arg: Any, path: str) -> str:
    return json.dumps(r.resolve(arg, path), separators=(",", ":"), ensure_ascii=False)


_FUNCTIONS = {
    "Fn::Sub": _fn_sub, "Fn::Join": _fn_join, "Fn::Select": _fn_select, "Fn::Split": _fn_split,
    "Fn::If": _fn_if, "Fn::Equals": _fn_equals, "Fn::Not": _fn_not, "Fn::And": _fn_and,
    "Fn::Or": _fn_or, "Fn::FindInMap": _fn_find_in_map, "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs, "Fn::ImportValue": _fn_import_value, "Fn::GetAtt": _fn_get_att,
    "Fn::Length": _fn_length, "Fn::ToJsonString": _fn_to_json_string,
}
