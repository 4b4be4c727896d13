"""SHACL-SPARQL prefixes (SHACL 5.2.1) and SHACL-AF (targets, rules, functions, expressions):
what both engines run, and what they refuse (exit 2, naming the shape and the feature) rather
than ignore. SKOS, FOAF, schema.org and DCAT fixtures under tests/fixtures/shacl-af/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from cica_ld.cli import app

AF = FIXTURES / "shacl-af"
ENGINES = ["native", "pyshacl"]


def cli(*args: str):
    return CliRunner().invoke(app, ["validate", *args, "--no-ontology"])


def run(data: Path, shapes: Path, engine: str, *more: str):
    return cli("--data", str(data), "--shapes", str(shapes), "--engine", engine, *more)


def keys(result) -> set[tuple]:
    """(focus node, source shape, component, value) of each result of a JSON report."""
    return {
        (r["focusNode"], r["sourceShape"], r["sourceConstraintComponent"], r["value"])
        for r in json.loads(result.stdout)["results"]
    }


def one_error_line(result) -> str:
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------
# sh:prefixes / owl:imports / sh:declare (SHACL 5.2.1)

SKOS = "http://www.w3.org/2004/02/skos/core#"
TOPICS = "http://example.org/topics/"
SPARQL = "http://www.w3.org/ns/shacl#SPARQLConstraintComponent"


@pytest.mark.parametrize("engine", ENGINES)
def test_prefixes_declared_through_owl_imports_are_used(engine: str) -> None:
    result = run(AF / "prefixes-data.ttl", AF / "prefixes-imports-shapes.ttl", engine, "-f", "json")
    assert result.exit_code == 1, result.stderr
    assert keys(result) == {
        (
            f"<{TOPICS}lakes>",
            "<http://example.org/shapes/topics#BroaderInSchemeShape>",
            SPARQL,
            "<http://example.com/other/water>",
        )
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_conflicting_prefix_declarations_are_a_shapes_error(engine: str) -> None:
    shapes = AF / "prefixes-conflict-shapes.ttl"
    result = run(AF / "prefixes-data.ttl", shapes, engine)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"cica-ld: error: {shapes}:23:1: invalid shapes graph: ex:ConflictShape")
    assert "the prefix topics: is declared twice with different namespaces" in line
    assert "<http://example.org/topics/>" in line and "<http://example.org/other-topics/>" in line


@pytest.mark.parametrize("engine", ENGINES)
def test_undeclared_prefix_names_where_it_is_used_and_the_import_not_followed(
    engine: str,
) -> None:
    shapes = AF / "prefixes-unloaded-shapes.ttl"
    result = run(AF / "prefixes-data.ttl", shapes, engine)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"cica-ld: error: {shapes}:11:1: invalid shapes graph: ex:BroaderShape")
    used = f"sh:select uses the prefix skos: which is declared nowhere (used at {shapes}:19:23;"
    assert used in line
    assert "owl:imports <http://example.org/vocabularies/skos-prefixes> was not followed" in line
    assert "ENCODE_FOR_URI" not in line


# ---------------------------------------------------------------------------------------------
# SPARQL-based targets

EV = "http://example.org/events/"
SHAPES_EV = "http://example.org/shapes/events#"
MIN_COUNT = "http://www.w3.org/ns/shacl#MinCountConstraintComponent"


@pytest.mark.parametrize("engine", ENGINES)
def test_sparql_target_and_target_type_select_the_focus_nodes(engine: str) -> None:
    result = run(AF / "events-data.ttl", AF / "targets-shapes.ttl", engine, "-f", "json")
    assert result.exit_code == 1, result.stderr
    assert keys(result) == {
        # before 2000 and no recording: launch (workshop has one)
        (f"<{EV}launch>", f"<{SHAPES_EV}ArchivedEventShape-recordedIn>", MIN_COUNT, None),
        # in France ($country pre-bound) and no name: workshop (meetup has one)
        (f"<{EV}workshop>", f"<{SHAPES_EV}FrenchEventShape-name>", MIN_COUNT, None),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_sparql_target_calling_service_is_refused(engine: str) -> None:
    shapes = AF / "target-service-shapes.ttl"
    result = run(AF / "events-data.ttl", shapes, engine)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"cica-ld: error: {shapes}:5:1: invalid shapes graph: ex:RemoteShape")
    assert "sh:select of sh:target: SERVICE" in line


def test_sparql_target_on_literals_as_written_compares_values(tmp_path: Path) -> None:
    """A date written in a non-canonical form is stored as written: the target's FILTER still
    compares it as a date."""
    data = tmp_path / "events.ttl"
    data.write_text(
        (AF / "events-data.ttl")
        .read_text()
        .replace('"1999-05-01"^^xsd:date', '"1999-05-01+00:00"^^xsd:date')
    )
    for engine in ENGINES:
        result = run(data, AF / "targets-shapes.ttl", engine, "-f", "json")
        assert result.exit_code == 1, result.stderr
        assert (
            f"<{EV}launch>",
            f"<{SHAPES_EV}ArchivedEventShape-recordedIn>",
            MIN_COUNT,
            None,
        ) in keys(result)


# ---------------------------------------------------------------------------------------------
# SPARQL-based constraint components: a blank-node parameter value


@pytest.mark.parametrize("engine", ENGINES)
def test_blank_node_parameter_value_is_accepted(engine: str) -> None:
    result = run(AF / "events-data.ttl", AF / "blank-parameter-shapes.ttl", engine, "-f", "json")
    assert result.exit_code == 1, result.stderr
    comp = "http://example.org/shapes/blank#NotLinkedToComponent"
    prop = "<http://example.org/shapes/blank#LocationShape-location>"
    # the blank node is no node of the data: no location is schema:sameAs it
    assert keys(result) == {
        (f"<{EV}launch>", prop, comp, f"<{EV}berlin>"),
        (f"<{EV}meetup>", prop, comp, f"<{EV}paris>"),
        (f"<{EV}workshop>", prop, comp, f"<{EV}paris>"),
    }


# ---------------------------------------------------------------------------------------------
# Rules

PEOPLE = "http://example.org/people/"
SP = "http://example.org/shapes/people#"
SCHEMA = "https://schema.org/"


@pytest.mark.parametrize("engine", ENGINES)
def test_rules_are_refused_without_the_option(engine: str) -> None:
    shapes = AF / "rules-shapes.ttl"
    result = run(AF / "people-data.ttl", shapes, engine)
    assert result.exit_code == 2
    assert result.stdout == ""
    first, hint = result.stderr.strip().splitlines()
    assert first.startswith(
        f"cica-ld: error: {shapes}:11:1: invalid shapes graph: ex:FoafPersonRules"
    )
    assert "has sh:rule (SHACL-AF rules), which runs only with --rules" in first
    assert f"{shapes}:54:1: ex:SchemaPersonRules: has sh:rule" in hint


@pytest.mark.parametrize("engine", ENGINES)
def test_rules_run_before_validation_with_the_option(engine: str) -> None:
    result = run(AF / "people-data.ttl", AF / "rules-shapes.ttl", engine, "--rules", "-f", "json")
    assert result.exit_code == 1, result.stderr
    min_count = "http://www.w3.org/ns/shacl#MinCountConstraintComponent"
    # every foaf:Person became a schema:Person (a target now); names and emails were inferred
    # for those who have what the rules need
    assert keys(result) == {
        (f"<{PEOPLE}mary>", f"<{SP}SchemaPersonShape-name>", min_count, None),
        (f"<{PEOPLE}mary>", f"<{SP}SchemaPersonShape-email>", min_count, None),
        (f"<{PEOPLE}charles>", f"<{SP}SchemaPersonShape-email>", min_count, None),
    }
    assert "ex:HasMailbox" not in result.stderr  # a rule's condition is checked


def _triples(store) -> set[str]:
    import pyoxigraph

    from cica_ld.lexical import decode_quad

    return {
        str(decode_quad(q).triple)
        for q in store.quads_for_pattern(None, None, None, pyoxigraph.DefaultGraph())
    }


def test_apply_rules_infers_to_a_fixpoint_on_a_copy() -> None:
    from cica_ld.shacl.rules import apply_rules
    from cica_ld.validation import FilePrefixes, load_graph

    before = (AF / "people-data.ttl").read_bytes()
    data = load_graph([AF / "people-data.ttl"])
    shapes = load_graph([AF / "rules-shapes.ttl"])
    original = _triples(data.store)
    outcome = apply_rules(data.store, shapes.store, file_prefixes=FilePrefixes(shapes))
    assert _triples(data.store) == original  # the data's store is unchanged
    assert (AF / "people-data.ttl").read_bytes() == before
    xsd_int = "<http://www.w3.org/2001/XMLSchema#integer>"
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    ada, charles, mary = (f"<{PEOPLE}{n}>" for n in ("ada", "charles", "mary"))
    expected = {
        *(f"{p} {rdf_type} <{SCHEMA}Person>" for p in (ada, charles, mary)),
        f'{ada} <{SCHEMA}age> "042"^^{xsd_int}',  # as written
        f'{charles} <{SCHEMA}age> "79"^^{xsd_int}',
        f"{ada} <{SCHEMA}email> <mailto:ada@example.org>",  # only she has a foaf:mbox
        f'{ada} <{SCHEMA}name> "Ada Lovelace"',
        f'{charles} <{SCHEMA}name> "Charles Babbage"',
        f"{ada} <{SCHEMA}knows> {charles}",
        # inferred in a later round: the rule reads what the SPARQL rule inferred
        f"{charles} <{SCHEMA}knows> {ada}",
    }
    assert _triples(outcome.store) - original == expected
    assert outcome.inferred == len(expected)
    assert outcome.rounds >= 2


def test_rules_with_an_endpoint_are_a_usage_error() -> None:
    result = cli(
        "--endpoint",
        "http://127.0.0.1:9/sparql",
        "--shapes",
        str(AF / "rules-shapes.ttl"),
        "--rules",
    )
    assert result.exit_code == 2
    assert "--rules" in one_error_line(result)


# ---------------------------------------------------------------------------------------------
# Refused, never ignored: sh:expression, SHACL functions, unknown functions, other rules


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("fixture", "line", "shape", "says"),
    [
        ("expression", 6, "ex:NamedPersonShape", "sh:expression (a SHACL-AF node expression"),
        ("js-function", 5, "ex:initials", "declares a SHACL function of kind sh:JSFunction"),
        (
            "unknown-function",
            6,
            "ex:NicknameShape",
            "sh:select calls the function <http://example.org/shapes/unknown#isNickname>, "
            "which is neither a SPARQL 1.1 function nor a sh:SPARQLFunction of the shapes",
        ),
        ("rule-kinds", 8, "ex:JavaScriptRuleShape", "is neither a sh:TripleRule nor a"),
    ],
)
def test_unsupported_features_are_refused(
    engine: str, fixture: str, line: int, shape: str, says: str
) -> None:
    shapes = AF / f"{fixture}-shapes.ttl"
    more = ["--rules"] if fixture == "rule-kinds" else []  # the others: refused by default
    result = run(AF / "people-data.ttl", shapes, engine, *more)
    assert result.exit_code == 2, result.stdout
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"cica-ld: error: {shapes}:{line}:1: invalid shapes graph: {shape}: ")
    assert says in first
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_every_unsupported_rule_is_named() -> None:
    result = run(AF / "people-data.ttl", AF / "rule-kinds-shapes.ttl", "native", "--rules")
    assert result.exit_code == 2
    assert "3 more problems" not in result.stderr and "2 more problems" in result.stderr
    assert (
        "ex:FunctionExpressionShape: sh:object of its sh:TripleRule is a node expression "
        "cica-ld does not run"
    ) in result.stderr
    assert "ex:RemoteRuleShape: sh:construct of its sh:SPARQLRule: SERVICE" in result.stderr


def test_unknown_function_in_a_validator_is_an_input_error() -> None:
    """Past the shapes graph check (which reads sh:sparql), the engine's query is refused as an
    input error naming the function, not an internal error."""
    import pyoxigraph

    from cica_ld.errors import InputError
    from cica_ld.shacl import validate

    data, shapes = pyoxigraph.Store(), pyoxigraph.Store()
    data.load((AF / "people-data.ttl").read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    shapes.load(
        b"@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        b"<urn:x:C> a sh:ConstraintComponent ; sh:parameter [ sh:path <urn:x:p> ] ;\n"
        b"  sh:validator [ a sh:SPARQLAskValidator ;\n"
        b'    sh:ask "ASK { FILTER(<urn:x:f>($value)) }" ] .\n'
        b"<urn:x:S> a sh:NodeShape ; sh:targetSubjectsOf <http://xmlns.com/foaf/0.1/knows> ;\n"
        b"  <urn:x:p> 1 .\n",
        format=pyoxigraph.RdfFormat.TURTLE,
    )
    with pytest.raises(InputError, match=r"custom function <urn:x:f> is not supported"):
        validate(data, shapes)


@pytest.mark.slow
def test_sparql_targets_at_an_endpoint(oxigraph_server) -> None:
    """The target queries are nested in standard SPARQL: an endpoint gives the same results."""
    import httpx

    resp = httpx.put(
        f"{oxigraph_server.store_url}?default",
        content=(AF / "events-data.ttl").read_bytes(),
        headers={"Content-Type": "text/turtle"},
        timeout=30,
    )
    assert resp.status_code in (200, 201, 204), resp.text
    local = run(AF / "events-data.ttl", AF / "targets-shapes.ttl", "native", "-f", "json")
    remote = cli(
        "--endpoint",
        oxigraph_server.query_url,
        "--shapes",
        str(AF / "targets-shapes.ttl"),
        "-f",
        "json",
    )
    assert remote.exit_code == 1, remote.stderr
    assert keys(remote) == keys(local) and len(keys(local)) == 2


def test_sparql_target_selecting_nothing_is_a_warning(tmp_path: Path) -> None:
    data = tmp_path / "recent.ttl"
    text = (AF / "events-data.ttl").read_text()
    data.write_text(text.replace("1999-05-01", "2005-05-01").replace("1998-11-20", "2006-11-20"))
    result = run(data, AF / "targets-shapes.ttl", "native")
    assert result.exit_code == 1, result.stderr
    assert (
        "warning: the targets of 1 shape select no focus node in the data, so it was not "
        "checked: ex:ArchivedEventShape (sh:target)"
    ) in result.stderr
    assert "2 focus nodes" in result.stdout  # the two French events, one of them named


def test_rules_of_a_deactivated_shape_are_not_refused(tmp_path: Path) -> None:
    shapes = tmp_path / "off.ttl"
    shapes.write_text(
        (AF / "rules-shapes.ttl")
        .read_text()
        .replace(
            "ex:FoafPersonRules\n    a sh:NodeShape ;",
            "ex:FoafPersonRules\n    a sh:NodeShape ;\n    sh:deactivated true ;",
        )
        .replace(
            "ex:SchemaPersonRules\n    a sh:NodeShape ;",
            "ex:SchemaPersonRules\n    a sh:NodeShape ;\n    sh:deactivated true ;",
        )
    )
    result = run(AF / "people-data.ttl", shapes, "native")
    # no rule ran: no foaf:Person became a schema:Person, so nothing was checked
    assert result.exit_code == 0, result.stderr
    assert "select no focus node" in result.stderr


# ---------------------------------------------------------------------------------------------
# SHACL functions (sh:SPARQLFunction)


@pytest.mark.parametrize("engine", ENGINES)
def test_sparql_function_called_from_a_constraint(engine: str) -> None:
    result = run(AF / "people-data.ttl", AF / "function-shapes.ttl", engine, "-f", "json")
    assert result.exit_code == 1, result.stderr
    assert keys(result) == {
        (
            f"<{PEOPLE}mary>",
            "<http://example.org/shapes/function#FullNameShape>",
            SPARQL,
            '"Mary "',  # the function's result: no family name
        )
    }
    message = json.loads(result.stdout)["results"][0]["message"]
    assert message == "the full name Mary  has no family name"


def test_sparql_function_in_a_rule(tmp_path: Path) -> None:
    shapes = tmp_path / "rule.ttl"
    shapes.write_text(
        (AF / "function-shapes.ttl").read_text()
        + """
ex:NameRule
    a sh:NodeShape ;
    sh:targetClass foaf:Person ;
    sh:rule [
        a sh:SPARQLRule ;
        sh:construct \"\"\"
            CONSTRUCT { $this <https://schema.org/name> ?n } WHERE {
                BIND (ex:fullName($this) AS ?n)
            }\"\"\" ;
    ] ;
.
"""
    )
    from cica_ld.shacl.rules import apply_rules
    from cica_ld.validation import FilePrefixes, load_graph

    data = load_graph([AF / "people-data.ttl"])
    graph = load_graph([shapes])
    out = apply_rules(data.store, graph.store, file_prefixes=FilePrefixes(graph))
    names = {
        t for t in _triples(out.store) - _triples(data.store) if "<https://schema.org/name>" in t
    }
    assert names == {
        f'<{PEOPLE}ada> <https://schema.org/name> "Ada Lovelace"',
        f'<{PEOPLE}charles> <https://schema.org/name> "Charles Babbage"',
        f'<{PEOPLE}mary> <https://schema.org/name> "Mary "',
    }


def test_sparql_functions_at_an_endpoint_are_refused() -> None:
    result = cli(
        "--endpoint", "http://127.0.0.1:9/sparql", "--shapes", str(AF / "function-shapes.ttl")
    )
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "SHACL functions (sh:SPARQLFunction) run only on local data" in line
    assert "<http://example.org/shapes/function#fullName>" in line


@pytest.mark.parametrize("engine", ENGINES)
def test_function_node_expression_in_a_triple_rule(engine: str) -> None:
    shapes = AF / "function-rule-shapes.ttl"
    result = run(AF / "people-data.ttl", shapes, engine, "--rules", "-f", "json")
    assert result.exit_code == 1, result.stderr
    # every person got a schema:name from ex:fullName ( sh:this ); mary's has no family name
    assert keys(result) == {
        (
            f"<{PEOPLE}mary>",
            "<http://example.org/shapes/function#NameRule-name>",
            "http://www.w3.org/ns/shacl#PatternConstraintComponent",
            '"Mary "',
        )
    }


def test_sparql_function_calling_service_is_refused(tmp_path: Path) -> None:
    """Also through the library, where no shapes graph check runs first."""
    import pyoxigraph

    from cica_ld.shacl import ShapesError, validate

    text = (AF / "function-shapes.ttl").read_text()
    shapes_text = text.replace(
        "OPTIONAL { $person foaf:givenName ?g }",
        "SERVICE <http://127.0.0.1:9/sparql> { $person foaf:givenName ?g }",
    )
    assert shapes_text != text
    data, shapes = pyoxigraph.Store(), pyoxigraph.Store()
    data.load((AF / "people-data.ttl").read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    shapes.load(shapes_text.encode(), format=pyoxigraph.RdfFormat.TURTLE)
    with pytest.raises(ShapesError, match="calls SERVICE"):
        validate(data, shapes)
    path = tmp_path / "shapes.ttl"
    path.write_text(shapes_text)
    for engine in ENGINES:
        result = run(AF / "people-data.ttl", path, engine)
        assert result.exit_code == 2
        assert "SERVICE" in one_error_line(result)
