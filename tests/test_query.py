"""`cica_ld.query` and `cica-ld query`: resolving QUERY, safety, parameters, formats, output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from cica_ld import dataset
from cica_ld import query as q
from cica_ld.cli import app
from cica_ld.errors import InputError, QuerySyntaxError, UnsafeQueryError, UsageError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = FIXTURES / "query" / "data"
CATALOGUE = FIXTURES / "query" / "catalogue"
EX = "https://example.org/ns#"
EXID = "https://example.org/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"


def cli(*args: str, input: bytes | str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def fixture_cli(*args: str, input: bytes | str | None = None):
    return cli(*args, "--data", str(DATA), "--catalogue", str(CATALOGUE), input=input)


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return dataset.load([DATA], include_ontology=False).store


def run(text: str, fmt: str, store: ox.Store, params=(), **kw) -> bytes:
    return q.run(q.prepare(text, params, **kw), fmt, store=store)


def solutions(data: bytes, fmt: str = "json") -> list[dict[str, ox.Term]]:
    parsed = ox.parse_query_results(data, format=getattr(ox.QueryResultsFormat, fmt.upper()))
    names = [v.value for v in parsed.variables]
    return [{n: s[n] for n in names if s[n] is not None} for s in parsed]


def iri(local: str) -> ox.NamedNode:
    return ox.NamedNode(EXID + local)


def typed(value: str, t: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + t))


# --- resolving QUERY ---------------------------------------------------------------------------


def test_resolve_named_query_from_catalogue():
    src = q.resolve_query("members", catalogue_dir=CATALOGUE)
    assert src.named is not None and src.named.name == "members"
    assert src.path == CATALOGUE / "members.rq"
    assert "org:memberDuring" in src.text


def test_resolve_file_inline_and_stdin(tmp_path: Path):
    f = tmp_path / "my.rq"
    f.write_text("ASK {}", encoding="utf-8")
    assert q.resolve_query(str(f)).text == "ASK {}"
    assert q.resolve_query("SELECT * { ?s ?p ?o }").origin == "<query>"
    assert q.resolve_query("ASK{}").text == "ASK{}"
    assert q.resolve_query("-", stdin=b"ASK {}").text == "ASK {}"


def test_unknown_name_lists_close_matches():
    with pytest.raises(InputError) as err:
        q.resolve_query("member", catalogue_dir=CATALOGUE)
    assert "unknown query name 'member'" in str(err.value)
    assert "members" in str(err.value.hint)


def test_missing_query_file_and_folder(tmp_path: Path):
    with pytest.raises(InputError, match="no such query file"):
        q.resolve_query(str(tmp_path / "nope.rq"))
    with pytest.raises(InputError, match="is a folder"):
        q.resolve_query(str(tmp_path))


def test_invalid_utf8_query_file_is_located(tmp_path: Path):
    f = tmp_path / "bad.rq"
    f.write_bytes(b'SELECT * {\n  ?s ?p "caf\xe9" }\n')
    with pytest.raises(InputError) as err:
        q.resolve_query(str(f))
    assert (err.value.path, err.value.line, err.value.column) == (str(f), 2, 13)


# --- safety -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://example.org/x.ttl>",
        "CLEAR ALL",
        "DROP GRAPH <http://e/g>",
        "CREATE GRAPH <http://e/g>",
        "ADD DEFAULT TO <http://e/g>",
        "MOVE DEFAULT TO <http://e/g>",
        "COPY DEFAULT TO <http://e/g>",
        "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "PREFIX ex: <http://e/>\n  insert data { ex:a ex:b ex:c }",
    ],
)
def test_updates_are_refused_at_their_location(update: str, store: ox.Store):
    before = len(store)
    with pytest.raises(UnsafeQueryError) as err:
        q.prepare(update)
    assert "read-only" in str(err.value)
    if update.startswith("PREFIX"):
        assert (err.value.line, err.value.column) == (2, 3)
    else:
        assert (err.value.line, err.value.column) == (1, 1)
    assert len(store) == before


def test_update_keyword_after_a_query_is_refused():
    with pytest.raises(UnsafeQueryError, match=r"DROP"):
        q.prepare("SELECT * { ?s ?p ?o } ;\nDROP ALL")


def test_cli_refuses_update_with_exit_2_and_leaves_files_alone(tmp_path: Path):
    data = tmp_path / "d.ttl"
    data.write_text("<http://e/a> <http://e/b> <http://e/c> .\n", encoding="utf-8")
    before = data.read_bytes()
    r = cli("query", "DELETE WHERE { ?s ?p ?o }", "--data", str(data))
    assert r.exit_code == 2
    assert "SPARQL Update (DELETE) is refused" in r.stderr
    assert "Traceback" not in r.stderr
    assert data.read_bytes() == before


def test_service_refused_unless_allowed():
    text = "SELECT * WHERE {\n  SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    with pytest.raises(UnsafeQueryError) as err:
        q.prepare(text)
    assert (err.value.line, err.value.column) == (2, 3)
    assert "--allow-service" in str(err.value)
    assert q.prepare(text, allow_service=True).uses_service


@pytest.mark.parametrize(
    "text",
    [
        'SELECT ?delete ?drop WHERE { ?delete ?p "insert; drop all" }',
        "SELECT * WHERE { ?s <http://e/LOAD> <http://e/service> }",
        "PREFIX ex: <http://e/>\nSELECT * WHERE { ?s ex:drop ex:service }",
        "SELECT * WHERE { ?s ?p ?o } # DROP ALL; SERVICE <x> {}",
        "SELECT * WHERE { ?s ?p 'with' , '''\nclear\n''' }",
        'SELECT * WHERE { ?s ?p "x"@load }',
    ],
)
def test_keywords_inside_names_strings_iris_and_comments_are_not_refused(text: str):
    assert q.prepare(text).form == "SELECT"


# --- syntax errors ----------------------------------------------------------------------------


def test_syntax_error_reports_line_and_column():
    text = "SELECT ?s\nWHERE {\n  ?s ?p ?o .\n  FILTER(?o > )\n}"
    with pytest.raises(QuerySyntaxError) as err:
        q.prepare(text)
    assert (err.value.line, err.value.column) == (4, 3)  # the FILTER that does not parse
    assert err.value.path == "<query>"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT x", (1, 29)),
        ("SELECT *\nWHERE { ?s ?p ?o }\nORDER ?s", (3, 1)),
        ("SELECT * WHERE {\n  ?s ?p ?o .\n  FOO\n}", (3, 3)),
        ("SELECT *\nWHERE { ?s ?p }", (2, 9)),
    ],
)
def test_syntax_errors_point_at_the_construct(text: str, where: tuple[int, int]):
    with pytest.raises(QuerySyntaxError) as err:
        q.prepare(text)
    assert (err.value.line, err.value.column) == where


def test_syntax_error_column_counts_characters_not_bytes():
    text = 'SELECT * WHERE { ?s ?p "日本語" . ?s ?p ?o ?o }'
    with pytest.raises(QuerySyntaxError) as err:
        q.prepare(text)
    # pyoxigraph points just past the bad token, in bytes; we report characters
    assert err.value.line == 1
    assert err.value.column is not None and err.value.column <= len(text) + 1


def test_undefined_prefix_is_located_exactly():
    text = "PREFIX ex: <http://e/>\nSELECT * WHERE {\n  ?s ex:p ?o ; foo:q ?o }"
    with pytest.raises(QuerySyntaxError) as err:
        q.prepare(text)
    assert "undefined prefix 'foo:'" in str(err.value)
    assert (err.value.line, err.value.column) == (3, 16)


def test_unterminated_string_is_located():
    with pytest.raises(QuerySyntaxError) as err:
        q.prepare('SELECT * WHERE {\n ?s ?p "abc }')
    assert "unterminated string" in str(err.value)
    assert (err.value.line, err.value.column) == (2, 8)


def test_cli_syntax_error_in_a_file_names_file_line_column(tmp_path: Path):
    f = tmp_path / "bad.rq"
    f.write_text("SELECT *\nWHERE { ?s ?p }\n", encoding="utf-8")
    r = fixture_cli("query", str(f))
    assert r.exit_code == 2
    assert f"{f}:2:" in r.stderr and "SPARQL syntax error" in r.stderr
    assert "Traceback" not in r.stderr


def test_default_prefixes_need_no_declaration(store: ox.Store):
    out = run("SELECT ?m WHERE { ?m a org:Membership } ORDER BY ?m", "json", store)
    assert [s["m"] for s in solutions(out)] == [iri("m-alpha"), iri("m-beta"), iri("m-gamma")]
    # the text sent elsewhere declares them
    assert q.prepare("ASK { ?m a org:Membership }").text.startswith(
        "PREFIX org: <http://www.w3.org/ns/org#>"
    )


def test_query_prefix_overrides_a_default_prefix(store: ox.Store):
    out = run(f"PREFIX org: <{EX}> SELECT ?s WHERE {{ ?s org:iso ?i }}", "json", store)
    assert len(solutions(out)) == 3


# --- parameters -------------------------------------------------------------------------------


def test_param_values_become_typed_terms():
    pv = q.parse_param_value
    assert pv("2024-02-29") == typed("2024-02-29", "date")
    assert pv("today", today=dt.date(2021, 3, 4)) == typed("2021-03-04", "date")
    assert pv("42") == typed("42", "integer")
    assert pv("-7") == typed("-7", "integer")
    assert pv("<https://example.org/id/alpha>") == iri("alpha")
    assert pv("exid:alpha", {"exid": EXID}) == iri("alpha")
    assert pv("org:Membership") == ox.NamedNode("http://www.w3.org/ns/org#Membership")
    assert pv("nope:thing") == ox.Literal("nope:thing")
    assert pv("Kazakhstan") == ox.Literal("Kazakhstan")
    assert pv("1.5") == ox.Literal("1.5")
    assert pv('"Alpha"@en') == ox.Literal("Alpha", language="en")
    assert pv('"1.5"^^xsd:decimal') == typed("1.5", "decimal")
    assert pv('"2024"') == ox.Literal("2024")


@pytest.mark.parametrize("bad", ["2024-02-30", "<relative>", "<http://e/a b>"])
def test_bad_param_values_are_usage_errors(bad: str):
    with pytest.raises(UsageError):
        q.parse_param_value(bad)


@pytest.mark.parametrize(
    "value",
    [
        '" } ; DROP ALL #',
        'x" . } SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #',
        "> } INSERT DATA { <http://e/a> <http://e/b> <http://e/c> } #",
        'back\\slash \\" and \n newline',
        "'''",
    ],
)
def test_a_param_value_cannot_inject_sparql(value: str, store: ox.Store):
    before = len(store)
    out = run("SELECT ?v WHERE { }", "json", store, [f"v={value}"])
    assert solutions(out) == [{"v": ox.Literal(value)}]
    assert len(store) == before


def test_params_filter_a_named_query(store: ox.Store):
    src = q.resolve_query("members", catalogue_dir=CATALOGUE)
    on = {
        "1998-01-01": [],
        "2000-01-01": ["AL"],
        "2005-01-01": ["AL", "BE"],
        "2010-01-01": ["AL", "GA"],
    }
    for day, isos in on.items():
        out = q.run(q.prepare(src, [f"date={day}"]), "json", store=store)
        assert [s["iso"].value for s in solutions(out)] == isos, day


def test_named_query_defaults_and_today(store: ox.Store):
    src = q.resolve_query("members", catalogue_dir=CATALOGUE)
    prepared = q.prepare(src, today=dt.date(2003, 1, 1))
    assert prepared.bindings["date"] == typed("2003-01-01", "date")
    assert prepared.bindings["org"] == iri("club")
    out = q.run(prepared, "json", store=store)
    assert [s["iso"].value for s in solutions(out)] == ["AL", "BE"]


def test_named_query_param_errors():
    src = q.resolve_query("state", catalogue_dir=CATALOGUE)
    with pytest.raises(UsageError, match=r"needs --param state=\.\.\."):
        q.prepare(src)
    with pytest.raises(UsageError, match=r"no parameter 'colour' \(its parameters: state\)"):
        q.prepare(src, ["state=<https://example.org/id/alpha>", "colour=red"])


def test_adhoc_param_must_name_a_variable():
    with pytest.raises(UsageError, match=r"no variable \?x"):
        q.prepare("SELECT ?s WHERE { ?s ?p ?o }", ["x=1"])
    with pytest.raises(UsageError, match="NAME=VALUE"):
        q.prepare("SELECT ?s WHERE { ?s ?p ?o }", ["novalue"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a subquery as the whole WHERE group
        (
            "SELECT ?iso WHERE { SELECT ?state ?iso WHERE { "
            "?state <https://example.org/ns#iso> ?iso } }",
            ["AL"],
        ),
        # an EXISTS in the projection comes before the WHERE group
        (
            "SELECT ?iso (EXISTS { ?state ?p ?o } AS ?e) WHERE { "
            "?state <https://example.org/ns#iso> ?iso }",
            ["AL"],
        ),
        # OPTIONAL and FILTER of the top-level group see the parameter
        (
            "SELECT ?iso WHERE { ?s <https://example.org/ns#iso> ?iso OPTIONAL { ?s ?p ?state } "
            "FILTER(?s = ?state) }",
            ["AL"],
        ),
    ],
)
def test_values_block_reaches_the_where_group(text: str, expected: list[str], store: ox.Store):
    out = run(text, "json", store, ["state=<https://example.org/id/alpha>"])
    assert [s["iso"].value for s in solutions(out)] == expected


def test_params_bind_ask_construct_and_describe(store: ox.Store):
    ask = "ASK { ?m <http://www.w3.org/ns/org#member> ?state }"
    assert run(ask, "table", store, ["state=<https://example.org/id/beta>"]) == b"true\n"
    assert run(ask, "table", store, ["state=<https://example.org/id/nobody>"]) == b"false\n"
    construct = "CONSTRUCT { ?state ?p ?o } WHERE { ?state ?p ?o }"
    out = run(construct, "ntriples", store, ["state=<https://example.org/id/alpha>"])
    subjects = {t.subject for t in ox.parse(out, format=ox.RdfFormat.N_TRIPLES)}
    assert subjects == {iri("alpha")}
    short = "CONSTRUCT WHERE { ?state <https://example.org/ns#iso> ?o }"
    out = run(short, "ntriples", store, ["state=<https://example.org/id/gamma>"])
    objs = [t.object for t in ox.parse(out, format=ox.RdfFormat.N_TRIPLES)]
    assert objs == [ox.Literal("GA")]
    describe = "DESCRIBE ?state WHERE { ?state ?p ?o }"
    out = run(describe, "ntriples", store, ["state=<https://example.org/id/alpha>"])
    assert {t.subject for t in ox.parse(out, format=ox.RdfFormat.N_TRIPLES)} >= {iri("alpha")}


def test_param_conflicting_with_bind_is_a_usage_error():
    with pytest.raises(UsageError, match="cannot bind"):
        q.prepare("SELECT ?x WHERE { BIND(1 AS ?x) }", ["x=2"])


# --- local execution --------------------------------------------------------------------------


def test_union_of_named_graphs_is_the_default_graph(store: ox.Store):
    out = run(f"SELECT ?pop WHERE {{ ?s <{EX}population> ?pop }}", "json", store)
    assert solutions(out) == [{"pop": typed("3000000", "integer")}]


# --- formats ----------------------------------------------------------------------------------

SELECT_LABELS = (
    f"SELECT ?s ?label WHERE {{ ?s a <{EX}State> ; <http://www.w3.org/2000/01/rdf-schema#label> "
    "?label } ORDER BY ?s ?label"
)


def test_table_is_aligned_with_prefixes_abbreviated(store: ox.Store):
    text = f"PREFIX exid: <{EXID}>\n{SELECT_LABELS}"
    table = run(text, "table", store).decode("utf-8")
    lines = table.rstrip("\n").split("\n")
    assert lines[0].split() == ["s", "label"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[-1] == "(4 rows)"
    body = lines[2:-1]
    assert body[0].startswith("exid:alpha")
    # the label column starts at the same display column on every line
    start = lines[1].index("  -") + 2
    for line in [lines[0], *body]:
        assert q.display_width(line[: line.index(line.split(None, 1)[1])]) == start
    # a newline inside a value stays on its row; wide characters count two columns
    assert 'Beta "the second"\\nstate' in table
    assert any("ガンマ" in line for line in body)


def test_table_shows_unbound_as_empty_and_counts_rows(store: ox.Store):
    text = f"SELECT ?s ?pop WHERE {{ ?s <{EX}iso> ?i OPTIONAL {{ ?s <{EX}population> ?pop }} }}"
    table = run(text, "table", store).decode()
    assert table.endswith("(3 rows)\n")
    assert "3000000" in table


def test_csv_tsv_json_xml_parse_back(store: ox.Store):
    expected = solutions(run(SELECT_LABELS, "json", store))
    assert len(expected) == 4
    assert solutions(run(SELECT_LABELS, "xml", store), "xml") == expected
    assert solutions(run(SELECT_LABELS, "tsv", store), "tsv") == expected
    rows = list(csv.DictReader(io.StringIO(run(SELECT_LABELS, "csv", store).decode("utf-8"))))
    assert [(r["s"], r["label"]) for r in rows] == [
        (s["s"].value, s["label"].value) for s in expected
    ]
    doc = json.loads(run(SELECT_LABELS, "json", store))
    assert doc["head"]["vars"] == ["s", "label"]


def test_ask_formats(store: ox.Store):
    yes, no = "ASK { ?s ?p ?o }", "ASK { ?s <http://e/none> ?o }"
    for fmt in ("table", "csv", "tsv"):
        assert run(yes, fmt, store) == b"true\n"
        assert run(no, fmt, store) == b"false\n"
    assert json.loads(run(yes, "json", store))["boolean"] is True
    assert json.loads(run(no, "json", store))["boolean"] is False
    assert (
        bool(ox.parse_query_results(run(no, "xml", store), format=ox.QueryResultsFormat.XML))
        is False
    )


CONSTRUCT = (
    f"CONSTRUCT {{ ?s <{EX}code> ?iso ; <{EX}label> ?l }} WHERE {{ ?s <{EX}iso> ?iso ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?l }"
)


def canonical(triples) -> set:
    ds = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


@pytest.mark.parametrize(
    ("fmt", "rdf_format"),
    [
        ("turtle", ox.RdfFormat.TURTLE),
        ("ntriples", ox.RdfFormat.N_TRIPLES),
        ("jsonld", ox.RdfFormat.JSON_LD),
        ("rdfxml", ox.RdfFormat.RDF_XML),
    ],
)
def test_graph_formats_parse_back_to_the_same_graph(fmt, rdf_format, store: ox.Store):
    expected = canonical(store.query(CONSTRUCT, use_default_graph_as_union=True))
    assert len(expected) == 7
    out = run(CONSTRUCT, fmt, store)
    assert canonical(q.triple for q in ox.parse(out, format=rdf_format)) == expected


def test_turtle_declares_only_the_prefixes_it_uses(store: ox.Store):
    out = run(f"PREFIX ex: <{EX}>\n{CONSTRUCT}", "turtle", store).decode()
    assert f"@prefix ex: <{EX}>" in out
    assert "@prefix sh:" not in out and "@prefix foaf:" not in out


def test_format_must_suit_the_query_form():
    with pytest.raises(UsageError, match="gives a graph"):
        q.check_format("csv", "CONSTRUCT")
    with pytest.raises(UsageError, match="table of results"):
        q.check_format("turtle", "SELECT")
    with pytest.raises(UsageError, match="unknown format"):
        q.check_format("yaml", "SELECT")


@pytest.mark.parametrize(
    ("name", "form", "expected"),
    [
        ("a.csv", "SELECT", "csv"),
        ("a.tsv", "SELECT", "tsv"),
        ("a.json", "SELECT", "json"),
        ("a.srj", "ASK", "json"),
        ("a.xml", "SELECT", "xml"),
        ("a.txt", "SELECT", "table"),
        ("a", "SELECT", "table"),
        ("a.ttl", "CONSTRUCT", "turtle"),
        ("a.nt", "DESCRIBE", "ntriples"),
        ("a.json", "CONSTRUCT", "jsonld"),
        ("a.jsonld", "CONSTRUCT", "jsonld"),
        ("a.xml", "CONSTRUCT", "rdfxml"),
        ("a", "CONSTRUCT", "turtle"),
    ],
)
def test_format_from_output_extension(name: str, form: str, expected: str):
    assert q.choose_format(None, Path(name), form) == expected
    forced = "ntriples" if form in ("CONSTRUCT", "DESCRIBE") else "tsv"
    assert q.choose_format(forced, Path(name), form) == forced


def test_unknown_output_extension_asks_for_format():
    with pytest.raises(UsageError, match=r"extension '\.yaml'"):
        q.choose_format(None, Path("out.yaml"), "SELECT")


# --- CLI --------------------------------------------------------------------------------------


def test_cli_named_query_with_param_csv():
    r = fixture_cli("query", "members", "--param", "date=2005-01-01", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["iso"] for row in rows] == ["AL", "BE"]
    assert r.stderr == ""


def test_cli_output_file_takes_format_from_extension(tmp_path: Path):
    out = tmp_path / "members.json"
    r = fixture_cli("query", "members", "-p", "date=2005-01-01", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert [s["iso"].value for s in solutions(out.read_bytes())] == ["AL", "BE"]
    # -f wins over the extension
    r = fixture_cli("query", "members", "-p", "date=2005-01-01", "-o", str(out), "-f", "tsv")
    assert r.exit_code == 0
    assert [s["iso"].value for s in solutions(out.read_bytes(), "tsv")] == ["AL", "BE"]
    assert [p.name for p in tmp_path.iterdir()] == ["members.json"]  # no temporary left


def test_cli_graph_output_file(tmp_path: Path):
    out = tmp_path / "g.ttl"
    r = fixture_cli("query", "memberships", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    graph = {(t.subject, t.object) for t in ox.parse(path=str(out))}
    assert graph == {(iri(x), iri("club")) for x in ("alpha", "beta", "gamma")}


def test_cli_failed_query_leaves_existing_output_untouched(tmp_path: Path):
    out = tmp_path / "r.csv"
    out.write_text("old\n", encoding="utf-8")
    r = fixture_cli("query", "SELECT * WHERE { ?s ?p }", "-o", str(out))
    assert r.exit_code == 2
    assert out.read_text(encoding="utf-8") == "old\n"


def test_cli_output_into_missing_folder_is_exit_2(tmp_path: Path):
    r = fixture_cli("query", "count", "-o", str(tmp_path / "nope" / "r.csv"))
    assert r.exit_code == 2
    assert "folder does not exist" in r.stderr


def test_cli_stdin_query():
    r = fixture_cli(
        "query",
        "-",
        "-f",
        "csv",
        input=b"SELECT ?iso WHERE { ?s <" + EX.encode() + b"iso> ?iso } ORDER BY ?iso",
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout.split() == ["iso", "AL", "BE", "GA"]


def test_cli_rq_file_and_ask(tmp_path: Path):
    f = tmp_path / "ask.rq"
    f.write_text(f'ASK {{ ?s <{EX}iso> "GA" }}', encoding="utf-8")
    r = fixture_cli("query", str(f))
    assert (r.exit_code, r.stdout) == (0, "true\n")


def test_cli_named_ask_with_prefixed_param():
    r = fixture_cli("query", "is-member", "-p", "state=<https://example.org/id/beta>")
    assert (r.exit_code, r.stdout) == (0, "true\n")


def test_cli_unknown_query_name_suggests(tmp_path: Path):
    r = fixture_cli("query", "memebers")
    assert r.exit_code == 2
    assert "unknown query name 'memebers'" in r.stderr
    assert "did you mean: members" in r.stderr


def test_cli_wrong_format_for_form_is_exit_2():
    r = fixture_cli("query", "memberships", "-f", "csv")
    assert r.exit_code == 2
    assert "turtle|ntriples|jsonld|rdfxml" in r.stderr


def test_cli_data_and_endpoint_exclude_each_other():
    r = fixture_cli("query", "count", "--endpoint", "http://127.0.0.1:9/query")
    assert r.exit_code == 2
    assert "exclude each other" in r.stderr


def test_cli_input_format_needs_data():
    r = cli("query", "ASK {}", "--input-format", "turtle")
    assert r.exit_code == 2


def test_cli_data_repeatable_and_input_format(tmp_path: Path):
    a = tmp_path / "a.txt"
    a.write_text("<http://e/a> <http://e/p> 1 .\n", encoding="utf-8")
    b = tmp_path / "b.txt"
    b.write_text("<http://e/b> <http://e/p> 2 .\n", encoding="utf-8")  # Turtle, not N-Triples
    r = cli(
        "query",
        "SELECT (SUM(?o) AS ?n) WHERE { ?s ?p ?o }",
        "-f",
        "csv",
        "--data",
        str(a),
        "--data",
        str(b),
        "--input-format",
        "turtle",
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout.split() == ["n", "3"]
    r = cli("query", "ASK {}", "--data", str(a))
    assert r.exit_code == 2 and "--input-format" in r.stderr


def test_cli_data_replaces_the_embedded_dataset():
    r = fixture_cli("query", "count", "-f", "csv")
    expected = len(dataset.load([DATA], include_ontology=False).store)
    assert r.stdout.split() == ["n", str(expected)]


def test_cli_embedded_dataset_smoke():
    r = cli("query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    expected = len(dataset.load().store)
    assert expected > 0
    assert r.stdout.split() == ["n", str(expected)]
