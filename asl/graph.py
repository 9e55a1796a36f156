"""Draw a state machine as a Mermaid flowchart or a Graphviz DOT graph, optionally with the
path an execution took through it highlighted.

    from asl.graph import render, path_from_file
    print(render(definition))                                   # Mermaid, flowchart TD
    print(render(definition, "dot", path=result.states))        # DOT, visited path in colour

What is drawn, much as the Step Functions console's graph view draws it:

* every state is a node, its shape given by its type (Choice a diamond, Succeed and Fail
  terminal shapes, Task a box, Pass rounded, Wait a parallelogram);
* ``Next`` edges are plain arrows; ``Catch`` edges are dashed and labelled with their
  ``ErrorEquals``; Choice edges are labelled with a short form of their rule
  (``$.type == "express"``, ``Not(...)``, ``And(...)``) and ``Default``;
* a Parallel state is a subgraph holding one subgraph per branch, a Map state a subgraph
  holding its ItemProcessor (or Iterator);
* a start marker points at ``StartAt``; states that end the execution (``End``, Succeed,
  Fail at the top level) point at an end marker.

Node ids are generated (``s0``, ``s1``...), never derived from state names, so names with
spaces, quotes, unicode, or ``__proto__`` cannot break the syntax; the names only appear in
quoted, escaped labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["render", "path_from_file", "rule_label", "FORMATS"]

FORMATS = ("mermaid", "dot")

START, END = "startNode", "endNode"
#: Edge kinds: how each is drawn.
NEXT, CATCH, CHOICE, DEFAULT, BRANCH, MARKER = "next", "catch", "choice", "default", "branch", "marker"
_CONTAINERS = ("Parallel", "Map")
_LABEL_LIMIT = 60
_HIGHLIGHT = "#e67e22"

# Choice comparison operators, by the suffix of the ASL operator name.
_COMPARISONS = {"Equals": "==", "LessThan": "<", "GreaterThan": ">",
                "LessThanEquals": "<=", "GreaterThanEquals": ">="}
_TYPES = ("String", "Numeric", "Timestamp", "Boolean")
_TESTS = {"IsPresent": "present", "IsNull": "null", "IsNumeric": "numeric",
          "IsString": "string", "IsBoolean": "boolean", "IsTimestamp": "timestamp"}
_NOT_OPERATORS = {"Variable", "Next", "Comment", "Assign", "Output"}


# -- the graph model, format-neutral -------------------------------------------------------

@dataclass
class _Node:
    id: str
    name: str
    type: str            # the ASL Type, or "Missing" for a Next that names no state
    scope: str           # the id of the scope (top level, branch, processor) it is in


@dataclass
class _Cluster:
    """A subgraph: a Parallel or Map state (``node`` set), or a branch inside a Parallel."""

    id: str
    label: str
    node: _Node | None = None
    children: list = field(default_factory=list)    # _Node | _Cluster, in definition order


@dataclass
class _Edge:
    source: str
    target: str
    kind: str
    label: str = ""


class _Graph:
    """Nodes, subgraphs and edges of a definition, walked once."""

    def __init__(self, definition: dict) -> None:
        self.nodes: dict[str, _Node] = {}
        self.by_name: dict[str, str] = {}          # first node of each state name
        self.edges: list[_Edge] = []
        self.top: list = []
        self._count = 0
        self.start_at = self._scope(definition, "top", self.top, top_level=True)
        if self.start_at is not None:
            self.edges.insert(0, _Edge(START, self.start_at, MARKER))

    def _new_id(self) -> str:
        self._count += 1
        return f"s{self._count - 1}"

    def _scope(self, scope: Any, scope_id: str, children: list, *, top_level: bool) -> str | None:
        """Add a scope's states; returns the node id of its StartAt (None if unknown)."""
        if not isinstance(scope, dict):
            return None
        states = scope.get("States")
        states = states if isinstance(states, dict) else {}
        ids = {}
        for name, state in states.items():
            node = _Node(self._new_id(), str(name), _type_of(state), scope_id)
            ids[name] = node.id
            self.nodes[node.id] = node
            self.by_name.setdefault(node.name, node.id)
            if node.type in _CONTAINERS:
                children.append(self._container(node, state))
            else:
                children.append(node)
        for name, state in states.items():
            self._state_edges(ids[name], state if isinstance(state, dict) else {}, ids,
                              children, scope_id, top_level)
        start = scope.get("StartAt")
        return ids.get(start) if isinstance(start, str) else None

    def _container(self, node: _Node, state: dict) -> _Cluster:
        cluster = _Cluster(node.id, f"{node.name} ({node.type})", node)
        if node.type == "Parallel":
            for i, branch in enumerate(_as_list(state.get("Branches"))):
                inner = _Cluster(f"{node.id}_b{i}", f"Branch {i + 1}")
                start = self._scope(branch, inner.id, inner.children, top_level=False)
                cluster.children.append(inner)
                if start is not None:
                    self.edges.append(_Edge(node.id, start, BRANCH))
        else:
            processor = state.get("ItemProcessor", state.get("Iterator"))
            start = self._scope(processor, f"{node.id}_p", cluster.children, top_level=False)
            if start is not None:
                self.edges.append(_Edge(node.id, start, BRANCH))
        return cluster

    def _target(self, name: Any, ids: dict, children: list, scope_id: str) -> str:
        """The node a transition goes to; a name no state has gets a visible placeholder."""
        name = name if isinstance(name, str) else json.dumps(name)
        if name in ids:
            return ids[name]
        node = _Node(self._new_id(), name, "Missing", scope_id)
        ids[name] = node.id
        self.nodes[node.id] = node
        children.append(node)
        return node.id

    def _state_edges(self, source: str, state: dict, ids: dict, children: list,
                     scope_id: str, top_level: bool) -> None:
        kind = self.nodes[source].type
        for rule in _as_list(state.get("Choices")) if kind == "Choice" else ():
            if isinstance(rule, dict) and "Next" in rule:
                self.edges.append(_Edge(source, self._target(rule["Next"], ids, children, scope_id),
                                        CHOICE, rule_label(rule)))
        if kind == "Choice" and "Default" in state:
            self.edges.append(_Edge(source, self._target(state["Default"], ids, children, scope_id),
                                    DEFAULT, "Default"))
        if "Next" in state and kind != "Choice":
            self.edges.append(_Edge(source, self._target(state["Next"], ids, children, scope_id), NEXT))
        for catcher in _as_list(state.get("Catch")):
            if isinstance(catcher, dict) and "Next" in catcher:
                errors = catcher.get("ErrorEquals")
                label = ", ".join(map(str, errors)) if isinstance(errors, list) else ""
                self.edges.append(_Edge(source, self._target(catcher["Next"], ids, children, scope_id),
                                        CATCH, label))
        if top_level and (state.get("End") is True or kind in ("Succeed", "Fail")):
            self.edges.append(_Edge(source, END, MARKER))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _type_of(state: Any) -> str:
    kind = state.get("Type") if isinstance(state, dict) else None
    return kind if isinstance(kind, str) else "Unknown"


# -- Choice rules, shortened -------------------------------------------------------------

def rule_label(rule: Any, limit: int = _LABEL_LIMIT) -> str:
    """A Choice rule in a few characters: ``$.type == "express"``, ``Not($.x is null)``,
    ``And($.a > 1, $.b matches "*.csv")``; a JSONata ``Condition`` without its ``{% %}``.
    Longer than ``limit`` characters, it is cut and ends in ``...``."""
    text = _rule_text(rule)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rule_text(rule: Any) -> str:
    if not isinstance(rule, dict):
        return "?"
    for combinator in ("And", "Or"):
        if combinator in rule:
            inner = rule[combinator] if isinstance(rule[combinator], list) else []
            return f"{combinator}({', '.join(_rule_text(r) for r in inner)})"
    if "Not" in rule:
        return f"Not({_rule_text(rule['Not'])})"
    if "Condition" in rule:
        condition = rule["Condition"]
        if isinstance(condition, str):
            text = condition.strip()
            if text.startswith("{%") and text.endswith("%}"):
                text = text[2:-2].strip()
            return text
        return json.dumps(condition)
    variable = rule.get("Variable", "?")
    for operator, operand in rule.items():
        if operator in _NOT_OPERATORS:
            continue
        if operator in _TESTS:
            return f"{variable} {'is' if operand is True else 'is not'} {_TESTS[operator]}"
        if operator == "StringMatches":
            return f"{variable} matches {json.dumps(operand, ensure_ascii=False)}"
        is_path = operator.endswith("Path")
        base = operator[:-4] if is_path else operator
        for typ in _TYPES:
            if base.startswith(typ) and base[len(typ):] in _COMPARISONS:
                value = operand if is_path else json.dumps(operand, ensure_ascii=False)
                return f"{variable} {_COMPARISONS[base[len(typ):]]} {value}"
        return f"{variable} {operator} {json.dumps(operand, ensure_ascii=False)}"
    return str(variable)


# -- the visited path --------------------------------------------------------------------

def path_from_file(obj: Any) -> list[str]:
    """The state names an execution entered, in order, from what a file may hold.

    Accepted: a list of names; ``{"states": [names]}``; ``{"events": [history events]}``
    (``asl run --history``, or GetExecutionHistory's shape), taking the
    ``stateEnteredEventDetails.name`` of every ``...StateEntered`` event in ``id`` order;
    or a bare list of such events. Raises ValueError for anything else.
    """
    if isinstance(obj, dict):
        if "states" in obj:
            return _names(obj["states"])
        if "events" in obj:
            return _entered(obj["events"])
        raise ValueError('expected a list of state names, {"states": [...]} or {"events": [...]}')
    if isinstance(obj, list) and obj and all(isinstance(e, dict) for e in obj):
        return _entered(obj)
    return _names(obj)


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ValueError("the path must be a list of state names (strings)")
    return list(value)


def _entered(events: Any) -> list[str]:
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ValueError('"events" must be a list of history events')
    if all(isinstance(e.get("id"), int) for e in events):
        events = sorted(events, key=lambda e: e["id"])     # GetExecutionHistory may be reversed
    names = []
    for event in events:
        if str(event.get("type", "")).endswith("StateEntered"):
            name = (event.get("stateEnteredEventDetails") or {}).get("name")
            if isinstance(name, str):
                names.append(name)
    return names


def _visited(graph: _Graph, path: list[str] | None) -> tuple[set[str], set[int]]:
    """The node ids entered and the edges taken along ``path`` (as ``id(edge)``).

    Names alone do not say which transition was taken, so an edge ``a -> b`` counts as taken
    when ``b`` is the next state entered *in a's scope* after ``a`` (entries of nested
    branches and iterations in between are skipped); an edge from a Parallel or Map to its
    first inner state when both were entered. Every edge between such a pair is lit.
    """
    if not path:
        return set(), set()
    ids = [graph.by_name[n] for n in path if n in graph.by_name]
    nodes = set(ids)
    pairs = set()
    last_in_scope: dict[str, str] = {}
    top_last = None
    for node_id in ids:
        scope = graph.nodes[node_id].scope
        if scope in last_in_scope:
            pairs.add((last_in_scope[scope], node_id))
        last_in_scope[scope] = node_id
        if scope == "top":
            top_last = node_id
    if ids and ids[0] == graph.start_at:
        pairs.add((START, ids[0]))
    if top_last is not None:
        pairs.add((top_last, END))
    taken = set()
    for edge in graph.edges:
        if edge.kind == BRANCH:
            if edge.source in nodes and edge.target in nodes:
                taken.add(id(edge))
        elif (edge.source, edge.target) in pairs:
            taken.add(id(edge))
    return nodes, taken


# Control characters and line separators would end a line (or upset a parser): a label
# shows them as spaces.
_UNPRINTABLE = {c: " " for c in [*range(0x20), 0x7F, 0x85, 0x2028, 0x2029]}


def _printable(text: str) -> str:
    return text.translate(_UNPRINTABLE)


# -- Mermaid -----------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "Choice": ('{"', '"}'), "Succeed": ('(["', '"])'), "Fail": ('{{"', '"}}'),
    "Pass": ('("', '")'), "Wait": ('[/"', '"/]'),
}
_MERMAID_CLASSES = {"Choice": "choice", "Succeed": "succeed", "Fail": "fail", "Missing": "missing"}
_MERMAID_CLASSDEFS = {
    "choice": "fill:#fff8e1,stroke:#b58900",
    "succeed": "fill:#e8f5e9,stroke:#2e7d32",
    "fail": "fill:#fdecea,stroke:#c62828",
    "missing": "fill:#fff,stroke:#c62828,stroke-dasharray:4 3",
}
# Characters that would end a quoted label or be read as markup: Mermaid entity codes.
_MERMAID_ESCAPES = {"#": "#35;", '"': "#quot;", "&": "#amp;", "<": "#lt;", ">": "#gt;",
                    "|": "#124;", "`": "#96;"}


def _mermaid_text(text: str) -> str:
    """Label text for a quoted Mermaid string (which may not be empty)."""
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in _printable(text)) or "#160;"


def _mermaid(graph: _Graph, path: list[str] | None) -> str:
    lines = ["flowchart TD", f'    {START}(("Start"))']

    def emit(items, depth):
        pad = "    " * depth
        for item in items:
            if isinstance(item, _Cluster):
                lines.append(f'{pad}subgraph {item.id}["{_mermaid_text(item.label)}"]')
                emit(item.children, depth + 1)
                lines.append(f"{pad}end")
            else:
                label = item.name + (" (missing)" if item.type == "Missing" else "")
                opening, closing = _MERMAID_SHAPES.get(item.type, ('["', '"]'))
                lines.append(f"{pad}{item.id}{opening}{_mermaid_text(label)}{closing}")

    emit(graph.top, 1)
    lines.append(f'    {END}((("End")))')
    # Edges come after every node so that none drags a node into the wrong subgraph. A
    # Parallel or Map is its subgraph here: edges meet its border, so no branch edges.
    visited, taken = _visited(graph, path)
    link_styles = []
    for index, edge in enumerate(e for e in graph.edges if e.kind != BRANCH):
        arrow = "-.->" if edge.kind == CATCH else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
        if id(edge) in taken:
            link_styles.append(str(index))
    lines.append("    classDef marker fill:#333,stroke:#333,color:#fff")
    lines.append(f"    class {START},{END} marker")
    by_class: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        if node.type in _MERMAID_CLASSES:
            by_class.setdefault(_MERMAID_CLASSES[node.type], []).append(node.id)
    for name, members in by_class.items():
        lines.append(f"    classDef {name} {_MERMAID_CLASSDEFS[name]}")
        lines.append(f"    class {','.join(members)} {name}")
    if visited:
        lines.append(f"    classDef visited stroke:{_HIGHLIGHT},stroke-width:3px")
        plain = [n for n in graph.nodes if n in visited and graph.nodes[n].type not in _CONTAINERS]
        if plain:
            lines.append(f"    class {','.join(plain)} visited")
        for node_id in graph.nodes:
            if node_id in visited and graph.nodes[node_id].type in _CONTAINERS:
                lines.append(f"    style {node_id} stroke:{_HIGHLIGHT},stroke-width:3px")
    if link_styles:
        lines.append(f"    linkStyle {','.join(link_styles)} stroke:{_HIGHLIGHT},stroke-width:3px")
    return "\n".join(lines) + "\n"


# -- Graphviz DOT ------------------------------------------------------------------------

_DOT_SHAPES = {
    "Task": 'shape=box', "Pass": 'shape=box, style="rounded"', "Wait": "shape=parallelogram",
    "Choice": 'shape=diamond, style=filled, fillcolor="#fff8e1"',
    "Succeed": 'shape=oval, peripheries=2, style=filled, fillcolor="#e8f5e9"',
    "Fail": 'shape=octagon, style=filled, fillcolor="#fdecea"',
    "Parallel": "shape=box3d", "Map": "shape=box3d",
    "Missing": 'shape=box, style=dashed, color="#c62828"',
}


def _dot_text(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as ``\\n``."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", "\n")
    return '"' + _printable(text.replace("\n", "\\n")) + '"'


def _dot(graph: _Graph, path: list[str] | None) -> str:
    visited, taken = _visited(graph, path)
    lit = f'color="{_HIGHLIGHT}", penwidth=3'
    lines = ["digraph StateMachine {", "    rankdir=TB;", "    compound=true;",
             '    graph [fontname="Helvetica", fontsize=12];',
             '    node [fontname="Helvetica", fontsize=11];',
             '    edge [fontname="Helvetica", fontsize=9];',
             f'    {START} [label="", shape=circle, style=filled, fillcolor=black, width=0.25];',
             f'    {END} [label="", shape=doublecircle, style=filled, fillcolor=black, width=0.2];']

    def node_line(node: _Node, pad: str) -> str:
        label = node.name + (" (missing)" if node.type == "Missing" else "")
        attributes = [f"label={_dot_text(label)}", _DOT_SHAPES.get(node.type, "shape=box")]
        if node.id in visited:
            attributes.append(lit)
        return f"{pad}{node.id} [{', '.join(attributes)}];"

    def emit(items, depth):
        pad = "    " * depth
        for item in items:
            if isinstance(item, _Cluster):
                lines.append(f"{pad}subgraph cluster_{item.id} {{")
                lines.append(f"{pad}    label={_dot_text(item.label)};")
                if item.node is not None:
                    # Explicit either way: a cluster inherits its enclosing cluster's colour.
                    lines.append(f'{pad}    color="{_HIGHLIGHT}"; penwidth=3;' if item.node.id in visited
                                 else f"{pad}    color=black; penwidth=1;")
                    lines.append(node_line(item.node, pad + "    "))
                emit(item.children, depth + 1)
                lines.append(f"{pad}}}")
            else:
                lines.append(node_line(item, pad))

    emit(graph.top, 1)
    containers = {n.id for n in graph.nodes.values() if n.type in _CONTAINERS}
    for edge in graph.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={_dot_text(edge.label)}")
        if edge.kind == CATCH:
            attributes.append("style=dashed")
        elif edge.kind == BRANCH:
            attributes.append("style=dotted, arrowhead=none")
        if edge.kind != BRANCH and edge.source != edge.target:
            # Edges to and from a Parallel or Map meet its subgraph's border.
            if edge.source in containers:
                attributes.append(f"ltail=cluster_{edge.source}")
            if edge.target in containers:
                attributes.append(f"lhead=cluster_{edge.target}")
        if id(edge) in taken:
            attributes.append(lit)
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"    {edge.source} -> {edge.target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- entry point -------------------------------------------------------------------------

def render(definition: dict, fmt: str = "mermaid", path: list[str] | None = None) -> str:
    """The state machine as Mermaid (``flowchart TD``) or Graphviz DOT text.

    ``definition``: a definition dict (JSON or YAML text and paths are read with
    :func:`asl.definition.load_definition`). ``fmt``: ``"mermaid"`` or ``"dot"``.
    ``path``: the state names an execution entered, in order (``ExecutionResult.states``,
    or :func:`path_from_file`); those states and the transitions between them are
    highlighted. The definition need not be valid: a transition to a state that does not
    exist is drawn to a dashed "(missing)" node.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown graph format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not isinstance(definition, dict):
        from asl.definition import load_definition
        definition = load_definition(definition)
    graph = _Graph(definition)
    return _mermaid(graph, path) if fmt == "mermaid" else _dot(graph, path)
