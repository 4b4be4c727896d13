"""Bounds on every parser and algorithm (issue 15, item 3): small hostile inputs fail with exit 2
and a message naming the limit, never exhaust memory, crash or hang.

Reproductions that would blow up on code without the bound run in a subprocess with a memory
limit (``RLIMIT_AS``) and a timeout, so a regression fails the test instead of the machine.
Fixtures are FOAF data of our own (``tests/fixtures/bounds/``).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cica_ld import limits
from cica_ld.cli import app
from cica_ld.errors import InputError

FIX = Path(__file__).resolve().parent / "fixtures" / "bounds"
SHAPES = FIX / "shapes.ttl"

#: Memory a guarded subprocess may map (the CLI needs ~300 MB; a bomb needs gigabytes).
GUARD_BYTES = 1536 << 20


def _guard() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (GUARD_BYTES, GUARD_BYTES))


def cli(*args: str, timeout: float = 60, env: dict[str, str] | None = None):
    """``cica-ld ARGS`` in a subprocess with a memory limit and a timeout."""
    full_env = {**os.environ, "CICA_LD_PROGRESS": "never", **(env or {})}
    try:
        return subprocess.run(
            [sys.executable, "-m", "cica_ld", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_guard,
            env=full_env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"cica-ld {' '.join(args)[:80]} ran past {timeout} s")


# ---------------------------------------------------------------------------------------------
# RDF/XML entity expansion
# ---------------------------------------------------------------------------------------------


def laughs(levels: int = 9, fan: int = 10) -> str:
    """The classic "billion laughs": ``levels`` entities, each ``fan`` references to the last
    (10^9 bytes from ~700 for the defaults)."""
    decls = ['<!ENTITY a0 "lol">']
    decls += [f'<!ENTITY a{i} "{f"&a{i - 1};" * fan}">' for i in range(1, levels)]
    nl = "\n"
    return (
        '<?xml version="1.0"?>\n'
        f"<!DOCTYPE rdf:RDF [\n{nl.join(decls)}\n]>\n"
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:foaf="http://xmlns.com/foaf/0.1/">\n'
        f'<foaf:Person rdf:about="http://example.org/p"><foaf:name>&a{levels - 1};</foaf:name>'
        "</foaf:Person>\n</rdf:RDF>\n"
    )


@pytest.fixture
def bomb(tmp_path: Path) -> Path:
    path = tmp_path / "laughs.rdf"
    path.write_text(laughs())
    assert path.stat().st_size < 800
    return path


def _commands(data: Path, tmp: Path) -> dict[str, list[str]]:
    return {
        "query": ["query", "ASK { ?s ?p ?o }", "--data", str(data)],
        "validate": ["validate", "--data", str(data), "--shapes", str(SHAPES), "--no-ontology"],
        "validate-shapes": ["validate", "--data", str(FIX / "entities.rdf"), "--shapes", str(data)],
        "export": ["export", "--data", str(data), "-f", "nt"],
        "publish": ["publish", "--data", str(data), "--out", str(tmp / "site")],
        "serve": ["serve", "--data", str(data), "--get", "/"],
        "load": ["load", "--data", str(data), "--endpoint", "http://127.0.0.1:9/store"],
    }


@pytest.mark.parametrize(
    "command", ["query", "validate", "validate-shapes", "export", "publish", "serve", "load"]
)
def test_entity_bomb_is_refused_by_every_command(command: str, bomb: Path, tmp_path: Path):
    result = cli(*_commands(bomb, tmp_path)[command])
    assert result.returncode == 2, result.stderr[-500:]
    assert str(bomb) in result.stderr
    assert "entity 'a" in result.stderr and "CICA_LD_MAX_ENTITY_BYTES" in result.stderr
    assert "Traceback" not in result.stderr


def test_namespace_entities_still_load():
    """Entities as ontology editors write them (namespace abbreviations) are fine."""
    result = CliRunner().invoke(
        app, ["export", "--data", str(FIX / "entities.rdf"), "-f", "nt"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    got = set(result.stdout.splitlines())
    assert got == set((FIX / "entities.nt").read_text().splitlines())


def test_per_entity_limit_is_a_parameter(tmp_path: Path):
    path = tmp_path / "small.rdf"
    path.write_text(laughs(levels=3, fan=4))  # a2 = 4 * 4 * "lol" = 48 bytes
    limits.check_xml_entities(path, per_entity=48, total=1000)
    with pytest.raises(InputError, match=r"entity 'a2' expands to more than 47 bytes") as exc:
        limits.check_xml_entities(path, per_entity=47, total=1000)
    assert exc.value.path == str(path)


def test_total_expansion_is_bounded(tmp_path: Path):
    """Many references to a modest entity: each is under the per-entity limit, all together
    are not."""
    body = "&big;" * 200
    path = tmp_path / "many.rdf"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [ <!ENTITY big "{"x" * 1000}"> ]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/s">'
        f"<ex:p>{body}</ex:p></rdf:Description></rdf:RDF>\n"
    )
    size = path.stat().st_size
    limits.check_xml_entities(path, per_entity=1000, total=200_000)
    with pytest.raises(InputError, match="entity references expand to more than"):
        limits.check_xml_entities(path, per_entity=1000, total=max(10_000, size))


def test_entity_defined_through_itself(tmp_path: Path):
    path = tmp_path / "loop.rdf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE r [ <!ENTITY a "&b;"> <!ENTITY b "x&a;"> ]>\n<r>&a;</r>'
    )
    with pytest.raises(InputError, match="defined through itself"):
        limits.check_xml_entities(path)


def test_entity_limit_from_environment(tmp_path: Path):
    path = tmp_path / "small.rdf"
    path.write_text(laughs(levels=3, fan=4))
    ok = cli("export", "--data", str(path), "-f", "nt")
    assert ok.returncode == 0, ok.stderr
    refused = cli("export", "--data", str(path), "-f", "nt", env={"CICA_LD_MAX_ENTITY_BYTES": "40"})
    assert refused.returncode == 2
    assert "more than 40 bytes" in refused.stderr
    bad = cli("export", "--data", str(path), env={"CICA_LD_MAX_ENTITY_BYTES": "lots"})
    assert bad.returncode == 2 and "CICA_LD_MAX_ENTITY_BYTES" in bad.stderr


# ---------------------------------------------------------------------------------------------
# Nesting depth: SPARQL and JSON-LD
# ---------------------------------------------------------------------------------------------

PEOPLE = FIX / "people.ttl"


def nested_query(depth: int = 3000) -> str:
    """A query of ``depth`` nested groups (12 kB at 3,000: pyoxigraph's parser segfaults)."""
    return "SELECT * WHERE " + "{" * depth + "}" * depth


def test_deep_query_is_refused_not_a_crash(tmp_path: Path):
    query = tmp_path / "deep.rq"
    query.write_text(nested_query())
    result = cli("query", str(query), "--data", str(PEOPLE))
    assert result.returncode == 2, (result.returncode, result.stderr[-300:])
    assert f"{query}:1:" in result.stderr
    assert "nested more than 100 levels deep" in result.stderr
    assert "CICA_LD_MAX_NESTING" in result.stderr


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s " + "/".join(["<http://example.org/p>"] * 400) + " ?o }",
        "SELECT * WHERE { FILTER(" + "1+" * 8000 + "1) }",
        "SELECT * WHERE { FILTER(" + "STR(" * 1000 + "1" + ")" * 1000 + ") }",
    ],
    ids=["path-chain", "operator-chain", "function-nesting"],
)
def test_chains_count_as_nesting(query: str):
    """A flat chain of 8,000 ``+`` segfaults the parser as surely as brackets do; a path of
    400 steps takes it minutes."""
    result = cli("query", query, "--data", str(PEOPLE))
    assert result.returncode == 2, (result.returncode, result.stderr[-300:])
    assert "nested more than 100 levels deep" in result.stderr


def test_nesting_limit_is_configurable():
    query = "SELECT * WHERE { { { ?s ?p ?o } } }"
    assert cli("query", query, "--data", str(PEOPLE)).returncode == 0
    refused = cli("query", query, "--data", str(PEOPLE), env={"CICA_LD_MAX_NESTING": "3"})
    assert refused.returncode == 2
    assert "nested more than 3 levels deep" in refused.stderr


def test_nesting_depth_counts():
    from cica_ld.query import nesting_depth

    assert nesting_depth("ASK {}")[0] == 2
    assert nesting_depth("ASK { { } { } }")[0] == 3
    assert nesting_depth("ASK { ?s <p>/<q>/<r> ?o }")[0] == 4
    # brackets inside strings, IRIs and comments do not count
    assert nesting_depth('ASK { ?s ?p "{{{{" } # ((((')[0] == 2


XSD_INT = "<http://www.w3.org/2001/XMLSchema#integer>"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { VALUES ?x { "
        + " ".join(f'"{i}"^^{XSD_INT}' for i in range(300))
        + " } }",
        "SELECT * WHERE { ?s ?p ?o "
        + " ".join(f"OPTIONAL {{ ?s <http://example.org/p{i}> ?o{i} }}" for i in range(150))
        + " }",
        "SELECT * WHERE { ?s ?p ?o FILTER(?o IN ("
        + ", ".join(f"-{i}" for i in range(300))
        + ")) }",
        "SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(f"?o != {i}" for i in range(300)) + ") }",
        "SELECT * WHERE { " + " UNION ".join(f"{{ ?s ?p {i} }}" for i in range(300)) + " }",
    ],
    ids=["typed-values", "optionals", "negative-numbers", "long-filter", "unions"],
)
def test_wide_queries_are_not_deep(query: str):
    """Hundreds of typed literals, OPTIONALs, negative numbers, ``||`` terms or UNIONs at one
    level are what real (often generated) queries look like, and cheap for the parser
    (1,000 ``||`` in 1.6 s): they run. ``^^`` and the second character of ``||``, ``!=``
    count nothing; expression operators and UNION/OPTIONAL a tenth of a level."""
    result = cli("query", query, "--data", str(PEOPLE))
    assert result.returncode == 0, (result.returncode, result.stderr[-300:])


def test_chain_weights():
    from cica_ld.query import nesting_depth

    assert nesting_depth(f'ASK {{ ?s ?p "1"^^{XSD_INT} }}')[0] == 2
    # a path step is a level; an expression operator a tenth of one
    assert nesting_depth("ASK { ?s " + "/".join(["<p>"] * 20) + " ?o }")[0] == 21
    assert nesting_depth("ASK { FILTER(" + " || ".join(["true"] * 21) + ") }")[0] == 5
    # || is one operator, not two alternative-path bars
    assert nesting_depth("ASK { FILTER(true || false) }")[0] == 4
    assert nesting_depth("ASK { ?s <p>|<q> ?o }")[0] == 3


def _deep_shapes(tmp_path: Path, keyword: str = "select") -> Path:
    depth = 3000
    body = "{" * depth + "}" * depth
    query = f"SELECT $this WHERE {body}" if keyword == "select" else f"ASK {body}"
    path = tmp_path / "deep-shapes.ttl"
    path.write_text(
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<http://example.org/shapes/Deep> a sh:NodeShape ; sh:targetClass foaf:Person ;\n"
        f'    sh:sparql [ sh:message "deep" ; sh:select """{query}""" ] .\n'
    )
    return path


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
def test_deep_shapes_query_is_refused(engine: str, tmp_path: Path):
    shapes = _deep_shapes(tmp_path)
    result = cli(
        "validate",
        "--data",
        str(PEOPLE),
        "--shapes",
        str(shapes),
        "--engine",
        engine,
        "--no-ontology",
    )
    assert result.returncode == 2, (result.returncode, result.stderr[-400:])
    assert "nested more than 100 levels deep" in result.stderr


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
def test_deep_ask_validator_is_refused(engine: str, tmp_path: Path):
    """A SPARQL-based constraint component whose sh:ask is nested 3,000 deep."""
    body = "{" * 3000 + "}" * 3000
    shapes = tmp_path / "ask.ttl"
    shapes.write_text(
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix ex: <http://example.org/shapes/> .\n"
        "ex:Deep a sh:ConstraintComponent ; sh:parameter [ sh:path ex:deep ] ;\n"
        '    sh:validator [ a sh:SPARQLAskValidator ; sh:message "deep" ;\n'
        f'        sh:ask """ASK {body}""" ] .\n'
        "ex:S a sh:NodeShape ; sh:targetClass foaf:Person ; ex:deep true .\n"
    )
    result = cli(
        "validate", "--data", str(PEOPLE), "--shapes", str(shapes), "--engine", engine,
        "--no-ontology",
    )  # fmt: skip
    assert result.returncode == 2, (result.returncode, result.stderr[-400:])
    assert "nested more than 100 levels deep" in result.stderr


def deep_json(depth: int = 1000) -> str:
    return (
        '{"@context": {"@vocab": "http://xmlns.com/foaf/0.1/"}, "@id": "http://example.org/p",'
        ' "knows": ' + '{"knows": ' * depth + '"x"' + "}" * depth + "}"
    )


def test_deep_jsonld_is_refused(tmp_path: Path):
    path = tmp_path / "deep.jsonld"
    path.write_text(deep_json())
    result = cli("export", "--data", str(path), "-f", "nt")
    assert result.returncode == 2, (result.returncode, result.stderr[-300:])
    assert f"{path}:1:" in result.stderr
    assert "the JSON is nested more than 100 levels deep" in result.stderr


def test_json_nesting_check_is_linear_and_exact():
    limits.check_json_nesting('{"a": [[["[[[[[[["]]]}', limit=4)  # brackets in strings skip
    with pytest.raises(InputError) as exc:
        limits.check_json_nesting('{"a":\n [[[1]]]}', limit=3, path="x.json")
    assert (exc.value.line, exc.value.column) == (2, 4)


# ---------------------------------------------------------------------------------------------
# Blank node labels within a work budget
# ---------------------------------------------------------------------------------------------

EX = "@prefix ex: <http://example.org/> .\n"


def _canonical(nt: str) -> set[str]:
    import pyoxigraph

    ds = pyoxigraph.Dataset(pyoxigraph.parse(nt.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES))
    ds.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(q) for q in ds}


def test_long_list_exports_in_linear_time(tmp_path: Path):
    """An 800-item list (RDFC-1.0 alone: over a minute) exports as the same graph."""
    path = tmp_path / "list.ttl"
    path.write_text(EX + "ex:s ex:p (" + " ".join(f'"{i % 3}"' for i in range(800)) + ") .\n")
    result = cli("export", "--data", str(path), "-f", "nt", timeout=60)
    assert result.returncode == 0, result.stderr
    import pyoxigraph

    triples = list(pyoxigraph.parse(result.stdout.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES))
    first = {t.subject: t.object for t in triples if t.predicate.value.endswith("#first")}
    rest = {t.subject: t.object for t in triples if t.predicate.value.endswith("#rest")}
    node = next(t.object for t in triples if t.predicate.value == "http://example.org/p")
    items = []
    while isinstance(node, pyoxigraph.BlankNode):
        items.append(first[node].value)
        node = rest[node]
    assert items == [str(i % 3) for i in range(800)]
    assert node.value.endswith("#nil") and len(triples) == 1 + 2 * 800


@pytest.mark.parametrize(
    "turtle",
    [
        EX + 'ex:s ex:p ("a" "b" "a" ("c" "a")) .\n',
        EX + 'ex:s ex:p ("a" "b"), ("a" "b") ; ex:q [ ex:r [ ex:r "x" ] ], [ ex:r "y" ] .\n',
        EX + '[] ex:p ("a" "a") . [] ex:p ("a" "a") .\n',
    ],
    ids=["nested-list", "look-alike-siblings", "look-alike-trees"],
)
def test_linear_labels_are_canonical(turtle: str, tmp_path: Path):
    """With a budget below 0, every tree goes the linear way: the graph is unchanged (checked
    with RDFC-1.0, cheap at this size) and the same graph written another way (other order,
    other labels) gives the very same bytes."""
    from cica_ld.blanknodes import relabel
    from cica_ld.export import export

    first = tmp_path / "a.ttl"
    first.write_text(turtle)
    ds = __import__("cica_ld.dataset", fromlist=["load"]).load([first], include_ontology=False)
    nt = export(ds, "ntriples").decode()
    quads = list(ds.store)
    linear = relabel(quads, budget=-1)
    assert any(q.subject.__class__.__name__ == "BlankNode" for q in linear)
    assert all(not str(t).startswith("_:c14n") for q in linear for t in (q.subject, q.object))
    lines = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in linear) + "\n"
    assert _canonical(lines) == _canonical(nt)
    again = relabel(list(reversed(quads)), budget=-1)
    assert sorted(map(str, again)) == sorted(map(str, linear))
    second = tmp_path / "b.nt"
    second.write_text("".join(reversed(nt.replace("_:c14n", "_:zz").splitlines(True))))
    ds2 = __import__("cica_ld.dataset", fromlist=["load"]).load([second], include_ontology=False)
    assert sorted(map(str, relabel(list(ds2.store), budget=-1))) == sorted(map(str, linear))


def test_small_graphs_keep_rdfc_labels():
    import pyoxigraph

    from cica_ld.blanknodes import relabel

    quads = list(
        pyoxigraph.parse(
            b'<http://e/s> <http://e/p> [ <http://e/q> "1" ] .', format=pyoxigraph.RdfFormat.TURTLE
        )
    )
    assert {str(q.object) for q in relabel(quads)} >= {"_:c14n0"}


def test_knot_of_look_alike_blank_nodes_is_refused(tmp_path: Path):
    """Nine blank nodes all linked to each other (1.1 kB; RDFC-1.0 alone: 45 s and more)."""
    path = tmp_path / "knot.ttl"
    path.write_text(
        EX
        + "ex:s ex:p _:b0 .\n"
        + "".join(f"_:b{i} ex:p _:b{j} .\n" for i in range(9) for j in range(9) if i != j)
    )
    for args in (["export", "-f", "nt"], ["publish", "--out", str(tmp_path / "site")]):
        result = cli(*args, "--data", str(path), timeout=60)
        assert result.returncode == 2, (args, result.returncode, result.stderr[-300:])
        assert "9 interlinked blank nodes" in result.stderr
        assert "CICA_LD_MAX_RDFC_WORK" in result.stderr


def test_rdfc_budget_is_configurable(tmp_path: Path):
    path = tmp_path / "knot.ttl"
    path.write_text(
        EX + "".join(f"_:b{i} ex:p _:b{j} .\n" for i in range(4) for j in range(4) if i != j)
    )
    assert cli("export", "--data", str(path), "-f", "nt").returncode == 0
    refused = cli("export", "--data", str(path), "-f", "nt", env={"CICA_LD_MAX_RDFC_WORK": "5"})
    assert refused.returncode == 2 and "the budget is 5" in refused.stderr


# ---------------------------------------------------------------------------------------------
# Bad input is exit 2 with a message, never exit 4
# ---------------------------------------------------------------------------------------------


def test_literal_of_16_mib_is_an_input_error(tmp_path: Path):
    path = tmp_path / "big.nt"
    path.write_text('<http://example.org/s> <http://example.org/p> "' + "x" * (16 << 20) + '" .\n')
    for args in (["query", "ASK { ?s ?p ?o }"], ["export", "-f", "nt"]):
        result = cli(*args, "--data", str(path))
        assert result.returncode == 2, (args, result.stderr[-300:])
        assert f"{path}: ntriples error: a term (literal or IRI) of 16 MiB" in result.stderr


@pytest.mark.parametrize("value", ['"\\uD800"', '"a\\uDFFFb"@en', "\udcff"])
def test_lone_surrogate_in_param_is_a_usage_error(value: str):
    result = CliRunner().invoke(
        app, ["query", "SELECT * { BIND(?x AS ?y) }", "-p", f"x={value}", "--data", str(PEOPLE)]
    )
    assert result.exit_code == 2, result.output
    assert "lone surrogate" in result.stderr


def test_sarif_names_a_file_whose_name_is_not_utf8(tmp_path: Path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    name = os.fsdecode(b"p\xff.ttl")
    (folder / name).write_text((PEOPLE.read_text()).replace('foaf:name "Bob"', 'foaf:nick "Bob"'))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app,
        ["validate", "--data", "data", "--shapes", str(SHAPES), "--no-ontology", "-f", "sarif"],
    )
    assert result.exit_code == 1, result.output
    import json

    sarif = json.loads(result.stdout)
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for run in sarif["runs"]
        for res in run["results"]
        for loc in res.get("locations", [])
    }
    assert "data/p%FF.ttl" in uris


@pytest.mark.parametrize("url", ["http://[bad", "http://exa%mple/", "http://example.org:99999/"])
@pytest.mark.parametrize(
    "command", ["publish --base-url", "publish --base-iri", "serve --base-url", "serve --base-iri"]
)
def test_bad_base_url_is_a_usage_error(command: str, url: str, tmp_path: Path):
    name, option = command.split()
    extra = ["--out", str(tmp_path / "site")] if name == "publish" else ["--get", "/"]
    result = CliRunner().invoke(app, [name, "--data", str(PEOPLE), option, url, *extra])
    assert result.exit_code == 2, result.output
    assert f"not a valid http(s) URL: {url!r}" in result.stderr
    assert option in result.stderr


def test_publish_names_an_iri_too_long_for_a_file_name(tmp_path: Path):
    long_iri = "http://example.org/people/" + "a" * 300
    data = tmp_path / "long.ttl"
    data.write_text(PEOPLE.read_text() + f'<{long_iri}> a foaf:Person ; foaf:name "Long" .\n')
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["publish", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"no page for {long_iri}" in result.stderr
    assert (out / "alice.html").is_file() and (out / "bob.html").is_file()


# ---------------------------------------------------------------------------------------------
# Memory and time guard
# ---------------------------------------------------------------------------------------------


def test_guard_stops_the_block_past_its_time():
    import time

    stopped = pytest.raises(InputError, match=r"export stopped: it ran longer than 0.2 s")
    with stopped as exc, limits.Guard("export", seconds=0.2, every=0.02):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sum(range(1000))
    assert "CICA_LD_MAX_SECONDS" in str(exc.value)


def test_guard_without_bounds_does_nothing():
    with limits.Guard("export") as g:
        pass
    assert g.breach is None


def test_publish_page_of_a_long_list(tmp_path: Path):
    """A 3,000-item list on a page: nested rows stop at a depth (was a RecursionError, exit 4)."""
    path = tmp_path / "list.ttl"
    path.write_text(EX + "ex:s ex:p (" + " ".join(f'"{i}"' for i in range(3000)) + ") .\n")
    result = CliRunner().invoke(app, ["publish", "--data", str(path), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "s.html").is_file()


@pytest.mark.parametrize("command", ["export", "publish"])
def test_memory_guard_from_environment(command: str, tmp_path: Path):
    path = tmp_path / "list.ttl"
    path.write_text(EX + "ex:s ex:p (" + " ".join(f'"{i}"' for i in range(3000)) + ") .\n")
    out = tmp_path / ("out.nt" if command == "export" else "site")
    args = (
        ["export", "-f", "nt", "-o", str(out)]
        if command == "export"
        else ["publish", "--out", str(out)]
    )
    ok = cli(*args, "--data", str(path))
    assert ok.returncode == 0, ok.stderr
    if command == "export":
        out.unlink()
    else:
        out = tmp_path / "site2"
        args[-1] = str(out)
    result = cli(*args, "--data", str(path), env={"CICA_LD_MAX_MEMORY": "20M"})
    assert result.returncode == 2, result.stderr[-300:]
    assert f"{command} stopped: it used more than 20 MiB of memory" in result.stderr
    assert "CICA_LD_MAX_MEMORY" in result.stderr
    assert not out.exists() or command == "publish"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_server_refuses_a_deep_query_with_400():
    from urllib.parse import quote

    # 1,000 deep: too deep, and its URL (6 kB) below the server's 16 kB URL limit (414)
    url = "/sparql?query=" + quote(nested_query(1000))
    assert len(url) < 16384
    result = cli("serve", "--data", str(PEOPLE), "--get", url)
    assert result.returncode == 1, (result.returncode, result.stderr[-300:])
    assert "HTTP 400" in result.stderr and "nested more than 100 levels deep" in result.stderr
