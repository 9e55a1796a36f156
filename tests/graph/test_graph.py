"""asl.graph: Mermaid and DOT drawings of a definition, and the visited path on them."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.graph import path_from_file, render, rule_label

ROOT = Path(__file__).resolve().parents[2]

# -- reading the output back -------------------------------------------------------------

_MERMAID_NODE = re.compile(r'^\s*(s\d+)(\["|\("|\{"|\(\["|\{\{"|\[/")(.*?)("\]|"\)|"\}|"\]\)|"\}\}|"/\])$')
_MERMAID_SUBGRAPH = re.compile(r'^\s*subgraph (s\d+(?:_b\d+)?)\["(.*)"\]$')
_MERMAID_EDGE = re.compile(r'^\s*(\w+) (-->|-\.->)(?:\|"([^"|]*)"\|)? (\w+)$')
_MERMAID_OTHER = re.compile(r'^\s*(end|classDef \w+ [^;]+|class [\w,]+ \w+|style \w+ \S+|'
                            r'linkStyle [\d,]+ \S+|startNode\(\("Start"\)\)|endNode\(\(\("End"\)\)\))$')
_DOT_NODE = re.compile(r'^\s*(s\d+) \[label=("(?:[^"\\]|\\.)*")(.*)\];$')
_DOT_EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$')
_MERMAID_UNESCAPE = {"#35;": "#", "#quot;": '"', "#amp;": "&", "#lt;": "<", "#gt;": ">",
                     "#124;": "|", "#96;": "`", "#160;": ""}


def mermaid_text(label: str) -> str:
    return re.sub(r"#\w+;", lambda m: _MERMAID_UNESCAPE[m.group(0)], label)


def dot_text(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), quoted[1:-1])


def check_mermaid(text: str) -> dict:
    """Every line is a known Mermaid statement; subgraphs balance; linkStyle indexes exist.
    Returns {"nodes": {label: (id, opening)}, "edges": [(src, arrow, label, dst)], ...}."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes, subgraphs, edges, depth = {}, {}, [], 0
    for line in lines[1:]:
        if m := _MERMAID_NODE.match(line):
            nodes[mermaid_text(m.group(3))] = (m.group(1), m.group(2))
        elif m := _MERMAID_SUBGRAPH.match(line):
            subgraphs[mermaid_text(m.group(2))] = m.group(1)
            depth += 1
        elif m := _MERMAID_EDGE.match(line):
            edges.append((m.group(1), m.group(2), mermaid_text(m.group(3) or ""), m.group(4)))
        elif _MERMAID_OTHER.match(line):
            if line.strip() == "end":
                depth -= 1
                assert depth >= 0, "an 'end' closes no subgraph"
        else:
            raise AssertionError(f"not a Mermaid statement: {line!r}")
    assert depth == 0, "unclosed subgraph"
    styled = [int(i) for line in lines if line.strip().startswith("linkStyle")
              for i in line.split()[1].split(",")]
    assert all(0 <= i < len(edges) for i in styled)
    return {"nodes": nodes, "subgraphs": subgraphs, "edges": edges, "lit": styled, "lines": lines}


def check_dot(text: str) -> dict:
    """Braces balance, every statement is a node, edge, attribute or subgraph line, and
    every edge joins declared nodes."""
    lines = text.splitlines()
    assert lines[0] == "digraph StateMachine {" and lines[-1] == "}"
    depth, nodes, edges = 0, {}, []
    for line in lines:
        stripped = line.strip()
        if stripped.endswith("{"):
            assert stripped in ("digraph StateMachine {",) or re.match(r"^subgraph cluster_\w+ \{$", stripped)
            depth += 1
        elif stripped == "}":
            depth -= 1
            assert depth >= 0
        elif m := _DOT_NODE.match(line):
            nodes[dot_text(m.group(2))] = (m.group(1), m.group(3))
        elif m := _DOT_EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
        else:
            assert re.match(r'^(\w+=("(?:[^"\\]|\\.)*"|[\w.]+); ?)+$|^(graph|node|edge|startNode|endNode) \[.*\];$',
                            stripped), f"not a DOT statement: {line!r}"
    assert depth == 0
    declared = {i for i, _ in nodes.values()} | {"startNode", "endNode"}
    assert all(a in declared and b in declared for a, b, _ in edges)
    return {"nodes": nodes, "edges": edges}


def machine(states: dict, start: str | None = None) -> dict:
    return {"StartAt": start or next(iter(states)), "States": states}


TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}

# -- shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("state, mermaid_opening, dot_shape", [
    (dict(TASK, End=True), '["', "shape=box"),
    ({"Type": "Pass", "End": True}, '("', 'style="rounded"'),
    ({"Type": "Wait", "Seconds": 1, "End": True}, '[/"', "shape=parallelogram"),
    ({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": True, "Next": "S"}]}, '{"', "shape=diamond"),
    ({"Type": "Succeed"}, '(["', "peripheries=2"),
    ({"Type": "Fail", "Error": "E"}, '{{"', "shape=octagon"),
])
def test_each_state_type_has_its_shape(state, mermaid_opening, dot_shape):
    definition = machine({"X": state, "S": {"Type": "Succeed"}}, "X")
    assert check_mermaid(render(definition))["nodes"]["X"] == ("s0", mermaid_opening)
    assert dot_shape in check_dot(render(definition, "dot"))["nodes"]["X"][1]


def test_choice_succeed_and_fail_get_classes_in_mermaid():
    definition = machine({"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "Ok"}],
                                "Default": "No"},
                          "Ok": {"Type": "Succeed"}, "No": {"Type": "Fail"}})
    lines = render(definition).splitlines()
    assert "    class s0 choice" in lines
    assert "    class s1 succeed" in lines
    assert "    class s2 fail" in lines


# -- edges --------------------------------------------------------------------------------

def test_next_edges_start_and_end_markers():
    definition = machine({"A": dict(TASK, Next="B"), "B": {"Type": "Pass", "End": True}})
    mermaid = check_mermaid(render(definition))
    assert mermaid["edges"] == [("startNode", "-->", "", "s0"), ("s0", "-->", "", "s1"),
                                ("s1", "-->", "", "endNode")]
    dot = check_dot(render(definition, "dot"))
    assert [(a, b) for a, b, _ in dot["edges"]] == [("startNode", "s0"), ("s0", "s1"), ("s1", "endNode")]


def test_succeed_and_fail_end_the_execution():
    definition = machine({"C": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True,
                                                               "Next": "Yes"}], "Default": "No"},
                          "Yes": {"Type": "Succeed"}, "No": {"Type": "Fail", "Error": "E"}})
    edges = check_mermaid(render(definition))["edges"]
    assert ("s1", "-->", "", "endNode") in edges and ("s2", "-->", "", "endNode") in edges


def test_catch_edges_are_dashed_and_labelled_with_their_errors():
    definition = machine({
        "A": dict(TASK, Next="Done", Catch=[
            {"ErrorEquals": ["PaymentDeclined"], "Next": "Declined"},
            {"ErrorEquals": ["States.Timeout", "States.TaskFailed"], "ResultPath": "$.error", "Next": "Other"}]),
        "Done": {"Type": "Succeed"}, "Declined": {"Type": "Fail"}, "Other": {"Type": "Fail"}})
    edges = check_mermaid(render(definition))["edges"]
    assert ("s0", "-.->", "PaymentDeclined", "s2") in edges
    assert ("s0", "-.->", "States.Timeout, States.TaskFailed", "s3") in edges
    dot = render(definition, "dot").splitlines()
    assert '    s0 -> s2 [label="PaymentDeclined", style=dashed];' in dot
    assert '    s0 -> s3 [label="States.Timeout, States.TaskFailed", style=dashed];' in dot


@pytest.mark.parametrize("rule, label", [
    ({"Variable": "$.type", "StringEquals": "express"}, '$.type == "express"'),
    ({"Variable": "$.a", "StringEqualsPath": "$.b"}, "$.a == $.b"),
    ({"Variable": "$.n", "NumericLessThan": 10}, "$.n < 10"),
    ({"Variable": "$.n", "NumericGreaterThanEquals": 2.5}, "$.n >= 2.5"),
    ({"Variable": "$.n", "NumericLessThanEqualsPath": "$$.Execution.Input.max"},
     "$.n <= $$.Execution.Input.max"),
    ({"Variable": "$.t", "TimestampGreaterThan": "2024-01-01T00:00:00Z"}, '$.t > "2024-01-01T00:00:00Z"'),
    ({"Variable": "$.ok", "BooleanEquals": False}, "$.ok == false"),
    ({"Variable": "$.f", "StringMatches": "*.csv"}, '$.f matches "*.csv"'),
    ({"Variable": "$.x", "IsPresent": True}, "$.x is present"),
    ({"Variable": "$.x", "IsPresent": False}, "$.x is not present"),
    ({"Variable": "$.x", "IsNull": True}, "$.x is null"),
    ({"Variable": "$.x", "IsTimestamp": True}, "$.x is timestamp"),
    ({"Variable": "$x", "NumericEquals": 1}, "$x == 1"),
    ({"Not": {"Variable": "$.type", "StringEquals": "express"}}, 'Not($.type == "express")'),
    ({"And": [{"Variable": "$.a", "NumericGreaterThan": 1}, {"Variable": "$.b", "IsString": True}]},
     "And($.a > 1, $.b is string)"),
    ({"Or": [{"Variable": "$.a", "NumericEquals": 1}, {"Not": {"Variable": "$.b", "IsNull": True}}]},
     "Or($.a == 1, Not($.b is null))"),
    ({"Condition": "{% $states.input.type = 'express' %}"}, "$states.input.type = 'express'"),
    ({"Condition": True}, "true"),
    ({"Variable": "$.name", "StringEquals": "日本"}, '$.name == "日本"'),
])
def test_choice_rules_are_shortened(rule, label):
    assert rule_label(dict(rule, Next="X")) == label


def test_long_choice_rules_are_cut():
    rule = {"And": [{"Variable": f"$.field{i}", "StringEquals": "x" * 10} for i in range(5)], "Next": "X"}
    label = rule_label(rule)
    assert len(label) == 60 and label.startswith("And($.field0 == ") and label.endswith("...")


def test_choice_edges_carry_rules_and_default():
    definition = machine({
        "Route": {"Type": "Choice", "Choices": [
            {"Variable": "$.type", "StringEquals": "express", "Next": "Express"},
            {"Not": {"Variable": "$.type", "IsPresent": True}, "Next": "Standard"}], "Default": "Standard"},
        "Express": {"Type": "Succeed"}, "Standard": {"Type": "Succeed"}})
    edges = check_mermaid(render(definition))["edges"]
    assert edges[1:4] == [("s0", "-->", '$.type == "express"', "s1"),
                          ("s0", "-->", "Not($.type is present)", "s2"),
                          ("s0", "-->", "Default", "s2")]
    assert '    s0 -> s1 [label="$.type == \\"express\\""];' in render(definition, "dot").splitlines()


# -- subgraphs ----------------------------------------------------------------------------

PARALLEL = machine({
    "Fan": {"Type": "Parallel", "Next": "Done", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Undo"}],
            "Branches": [
                {"StartAt": "Reserve", "States": {"Reserve": dict(TASK, Next="Log"), "Log": {"Type": "Pass", "End": True}}},
                {"StartAt": "Email", "States": {"Email": dict(TASK, End=True)}}]},
    "Undo": {"Type": "Fail"}, "Done": {"Type": "Succeed"}})

MAP = machine({
    "Each": {"Type": "Map", "End": True,
             "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Work",
                               "States": {"Work": dict(TASK, End=True)}}}})


def test_parallel_is_a_subgraph_of_branch_subgraphs():
    text = render(PARALLEL)
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index('subgraph s0["Fan (Parallel)"]')
    assert lines[start:start + 10] == [
        'subgraph s0["Fan (Parallel)"]',
        'subgraph s0_b0["Branch 1"]', 's1["Reserve"]', 's2("Log")', "end",
        'subgraph s0_b1["Branch 2"]', 's3["Email"]', "end",
        "end", 's4{{"Undo"}}']
    edges = check_mermaid(text)["edges"]
    assert ("s1", "-->", "", "s2") in edges
    assert ("s0", "-->", "", "s5") in edges and ("s0", "-.->", "States.ALL", "s4") in edges
    # Inside a branch, End ends the branch, not the execution.
    assert ("s2", "-->", "", "endNode") not in edges and ("s3", "-->", "", "endNode") not in edges


def test_parallel_in_dot_is_a_cluster_whose_edges_meet_its_border():
    text = render(PARALLEL, "dot")
    check_dot(text)
    lines = [line.strip() for line in text.splitlines()]
    assert "subgraph cluster_s0 {" in lines and "subgraph cluster_s0_b0 {" in lines
    assert "startNode -> s0 [lhead=cluster_s0];" in lines
    assert "s0 -> s5 [ltail=cluster_s0];" in lines
    assert "s0 -> s1 [style=dotted, arrowhead=none];" in lines     # to each branch's StartAt
    assert "s0 -> s3 [style=dotted, arrowhead=none];" in lines


@pytest.mark.parametrize("field", ["ItemProcessor", "Iterator"])
def test_map_is_a_subgraph_of_its_processor(field):
    definition = json.loads(json.dumps(MAP).replace('"ItemProcessor"', f'"{field}"'))
    text = render(definition)
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index('subgraph s0["Each (Map)"]')
    assert lines[start:start + 3] == ['subgraph s0["Each (Map)"]', 's1["Work"]', "end"]
    assert ("s0", "-->", "", "endNode") in check_mermaid(text)["edges"]
    assert "subgraph cluster_s0 {" in render(definition, "dot")


def test_nested_containers_balance():
    inner = {"Type": "Map", "End": True, "ItemProcessor": PARALLEL}
    definition = machine({"Outer": {"Type": "Parallel", "End": True,
                                    "Branches": [{"StartAt": "M", "States": {"M": inner}}]}})
    check_mermaid(render(definition))
    check_dot(render(definition, "dot"))


def test_a_transition_to_no_state_is_drawn_to_a_missing_node():
    definition = machine({"A": dict(TASK, Next="Nowhere")})
    assert check_mermaid(render(definition))["nodes"]["Nowhere (missing)"] == ("s1", '["')
    assert "style=dashed" in check_dot(render(definition, "dot"))["nodes"]["Nowhere (missing)"][1]


# -- names that could break the syntax ------------------------------------------------------

AWKWARD = ['Charge "card"', "a|b", "end", "subgraph", "__proto__", "<b>x</b>", "50% #1 & more",
           "Réserver l'inventaire 日本 🚀", "`tick`", "{x}", "[y]", "back\\slash", "A --> B", ""]


@pytest.mark.parametrize("name", AWKWARD)
def test_awkward_names_stay_labels(name):
    definition = machine({name: dict(TASK, Next="Z"), "Z": {"Type": "Succeed"}}, name)
    mermaid = check_mermaid(render(definition, path=[name, "Z"]))
    assert mermaid["nodes"][name] == ("s0", '["')
    dot = check_dot(render(definition, "dot", path=[name, "Z"]))
    assert dot["nodes"][name][0] == "s0"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12),
                min_size=1, max_size=5, unique=True))
def test_any_state_names_round_trip_through_both_formats(names):
    states = {n: dict(TASK, Next=names[i + 1]) for i, n in enumerate(names[:-1])}
    states[names[-1]] = {"Type": "Choice", "Choices": [{"Variable": "$.v", "StringEquals": names[0],
                                                        "Next": names[0]}], "Default": names[0]}
    definition = machine(states, names[0])
    mermaid = check_mermaid(render(definition, path=names))
    assert set(mermaid["nodes"]) == set(names)
    dot = check_dot(render(definition, "dot", path=names))
    assert set(dot["nodes"]) == set(names)


@pytest.mark.parametrize("name, shown", [
    ("two\nlines", "two lines"), ("tab\there", "tab here"), ("rs\x1eus\x1f", "rs us "),
    ("nel\x85ls\u2028ps\u2029", "nel ls ps "),
])
def test_control_characters_show_as_spaces_in_mermaid(name, shown):
    definition = machine({name: {"Type": "Succeed"}})
    text = render(definition)
    assert len(text.splitlines()) == len(text.split("\n")) - 1       # no stray line breaks
    assert shown in check_mermaid(text)["nodes"]


def test_newlines_stay_newlines_in_dot():
    text = render(machine({"two\nlines\x1e": {"Type": "Succeed"}}), "dot")
    assert '    s0 [label="two\\nlines ", ' in text


# -- the path -----------------------------------------------------------------------------

SAGA = json.loads((ROOT / "examples" / "order-saga" / "order-saga.asl.json").read_text())


def test_the_path_lights_nodes_and_the_edges_between_them():
    path = ["ReserveInventory", "ChargePayment", "CompensateReserve", "FailHandler"]
    text = render(SAGA, path=path)
    mermaid = check_mermaid(text)
    ids = {label: node_id for label, (node_id, _) in mermaid["nodes"].items()}
    assert f"    class {','.join(sorted((ids[n] for n in path), key=lambda i: int(i[1:])))} visited" in text
    lit = {mermaid["edges"][i][:2] + mermaid["edges"][i][3:] for i in mermaid["lit"]}
    assert lit == {("startNode", "-->", ids["ReserveInventory"]),
                   (ids["ReserveInventory"], "-->", ids["ChargePayment"]),
                   (ids["ChargePayment"], "-.->", ids["CompensateReserve"]),
                   (ids["CompensateReserve"], "-->", ids["FailHandler"]),
                   (ids["FailHandler"], "-->", "endNode")}
    dot = check_dot(render(SAGA, "dot", path=path))
    lit_dot = {(a, b) for a, b, attributes in dot["edges"] if 'color="#e67e22"' in attributes}
    assert lit_dot == {(a, b) for a, _, b in lit}
    assert {label for label, (_, attributes) in dot["nodes"].items() if "#e67e22" in attributes} == set(path)


def test_no_path_no_highlight():
    assert "visited" not in render(SAGA) and "linkStyle" not in render(SAGA)
    assert "#e67e22" not in render(SAGA, "dot")


def test_inside_a_parallel_the_path_follows_each_branch():
    # Branch entries interleave; each edge is judged within its own scope.
    path = ["Fan", "Reserve", "Email", "Log", "Done"]
    text = render(PARALLEL, path=path)
    mermaid = check_mermaid(text)
    lit = {(mermaid["edges"][i][0], mermaid["edges"][i][3]) for i in mermaid["lit"]}
    assert lit == {("startNode", "s0"), ("s1", "s2"), ("s0", "s5"), ("s5", "endNode")}
    assert "    style s0 stroke:#e67e22,stroke-width:3px" in text.splitlines()
    assert "    class s1,s2,s3,s5 visited" in text.splitlines()
    dot = check_dot(render(PARALLEL, "dot", path=path))
    lit_dot = {(a, b) for a, b, attributes in dot["edges"] if "#e67e22" in attributes}
    assert lit_dot == lit | {("s0", "s1"), ("s0", "s3")}


def test_an_execution_result_gives_the_path():
    import asl
    result = asl.StateMachine(SAGA).execute({"order_id": "o"}, {
        "reserve-inventory": lambda e: {}, "charge-payment": lambda e: {},
        "create-shipment": lambda e: {}, "send-notification": lambda e: 1 / 0,
        "cancel-shipment": lambda e: {}, "refund-payment": lambda e: {}, "release-inventory": lambda e: {}})
    from_events = path_from_file({"events": result.history})
    assert from_events == result.states
    assert path_from_file({"states": result.states}) == result.states
    mermaid = check_mermaid(render(SAGA, path=from_events))
    assert len(mermaid["lit"]) == len(result.states) + 1     # start, each transition, end


@pytest.mark.parametrize("obj, names", [
    (["A", "B"], ["A", "B"]),
    ({"states": ["A"]}, ["A"]),
    ({"events": [{"id": 3, "type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "B"}},
                 {"id": 1, "type": "ExecutionStarted", "executionStartedEventDetails": {}},
                 {"id": 2, "type": "PassStateEntered", "stateEnteredEventDetails": {"name": "A"}},
                 {"id": 4, "type": "TaskStateExited", "stateExitedEventDetails": {"name": "B"}}]}, ["A", "B"]),
    ([{"type": "ChoiceStateEntered", "stateEnteredEventDetails": {"name": "C"}}], ["C"]),
    ({"events": []}, []),
    ([], []),
])
def test_path_from_file_reads_names_states_and_histories(obj, names):
    assert path_from_file(obj) == names


@pytest.mark.parametrize("obj", [{"status": "SUCCEEDED"}, "A", ["A", 1], {"states": "A"}, {"events": "x"}, None])
def test_path_from_file_rejects_other_shapes(obj):
    with pytest.raises(ValueError):
        path_from_file(obj)


def test_unknown_names_in_the_path_are_ignored():
    text = render(SAGA, path=["Nope", "ReserveInventory"])
    assert "class s0 visited" in text


def test_unknown_format():
    with pytest.raises(ValueError, match="mermaid, dot"):
        render(SAGA, "svg")


def test_definition_text_is_accepted():
    assert render(json.dumps(SAGA)) == render(SAGA)


@pytest.mark.parametrize("file", sorted(ROOT.glob("examples/*/*.asl.json")), ids=lambda p: p.parent.name)
def test_every_example_renders(file):
    definition = json.loads(file.read_text())
    mermaid = check_mermaid(render(definition))
    assert set(mermaid["nodes"]) | {label.rsplit(" (", 1)[0] for label in mermaid["subgraphs"]} >= set(definition["States"])
    check_dot(render(definition, "dot"))


@pytest.mark.parametrize("readme", sorted(ROOT.glob("examples/*/README.md")), ids=lambda p: p.parent.name)
def test_example_readme_diagrams_are_what_render_draws(readme):
    """Each example's README shows the Mermaid that render() gives for <example>.asl.json."""
    definition = json.loads((readme.parent / f"{readme.parent.name}.asl.json").read_text())
    blocks = re.findall(r"```mermaid\n(.*?)```", readme.read_text(), flags=re.S)
    assert blocks == [render(definition)]


@pytest.mark.parametrize("definition", [
    {},
    {"StartAt": "A"},
    {"StartAt": "A", "States": []},
    {"StartAt": ["A"], "States": {"A": 5}},
    {"StartAt": "A", "States": {"A": {"Type": "Task", "Catch": 3, "Next": ["B"]}}},
    {"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": {"x": 1}, "Default": {"B": 1}}}},
    {"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"And": "x", "Next": "A"}, 7]}}},
    {"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": {"x": 1}, "End": True}}},
    {"StartAt": "A", "States": {"A": {"Type": "Map", "ItemProcessor": [], "End": True}}},
    {"StartAt": "A", "States": {"A": {"Type": 3, "Catch": [{"ErrorEquals": "x", "Next": "A"}]}}},
])
def test_a_broken_definition_still_draws(definition):
    check_mermaid(render(definition, path=["A"]))
    check_dot(render(definition, "dot", path=["A"]))
