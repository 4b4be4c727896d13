"""JSON-LD: the bundled context, compaction, framing, reading back with PyLD and jsonld.js,
determinism, and the offline guarantee (bundled contexts only, no socket ever opened)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from _publish_support import (
    CONTEXT_FILE,
    CONTEXT_URL,
    MINI,
    canonical,
    json_nodes,
    parse_turtle,
    read_with_jsonld_js,
    read_with_pyld,
)
from typer.testing import CliRunner

from cica_ld import dataset, export, jsonld
from cica_ld.cli import app
from cica_ld.errors import InputError

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CICA = "https://w3id.org/cica-ld/ontology#"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"
TIME = "http://www.w3.org/2006/time#"
XSD_DATES = {"xsd:date", "xsd:gYearMonth", "xsd:gYear"}


@pytest.fixture(scope="module")
def default_ds() -> dataset.LoadedDataset:
    """The embedded CICA vocabulary and data, as `cica-ld export` loads them."""
    return dataset.load()


@pytest.fixture(scope="module")
def default_quads(default_ds: dataset.LoadedDataset) -> list[Any]:
    return export.all_quads(default_ds)


@pytest.fixture(scope="module")
def turtle_graph(default_ds: dataset.LoadedDataset) -> set[Any]:
    """The graph of the Turtle export: what every JSON-LD export must give back."""
    return canonical(parse_turtle(export.export(default_ds, "turtle")))


# ---------------------------------------------------------------------------------------------
# The context
# ---------------------------------------------------------------------------------------------


def _context() -> dict[str, Any]:
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def _term_iris(ctx: dict[str, Any]) -> dict[str, str]:
    """term -> full IRI for every (non-reverse) term of the context."""
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def full(iri: str) -> str:
        p, _, local = iri.partition(":")
        return prefixes[p] + local if p in prefixes else iri

    out = {}
    for term, d in ctx.items():
        iri = d if isinstance(d, str) else d.get("@id") if isinstance(d, dict) else None
        if iri and not iri.startswith("@") and term not in prefixes:
            out[term] = full(iri)
    return out


def test_context_has_explicit_terms_and_no_vocab() -> None:
    ctx = _context()
    assert "@vocab" not in ctx
    # a plain alias: rdflib 7.6 drops the datatype of a value object whose "type" alias has a
    # container, so "type" is the one key that is a string for one class, an array for more
    assert ctx["id"] == "@id" and ctx["type"] == "@type"
    iris = _term_iris(ctx)
    assert len(set(iris.values())) == len(iris), "two terms for one IRI"
    # no date property is coerced: every date is one shape, {"@value", "type"}, whatever
    # its precision (xsd:date, xsd:gYearMonth, xsd:gYear)
    for term in (*DATE_TERMS, "asOf", "statusAsOf", "date"):
        assert "@type" not in ctx[term], term


DATE_TERMS = ("inXSDDate", "inXSDgYearMonth", "inXSDgYear", "created", "modified")


def test_dates_have_one_shape_with_their_precision(default_ds: dataset.LoadedDataset) -> None:
    """Every date of the compacted dataset is {"@value": lexical, "type": xsd:date |
    xsd:gYearMonth | xsd:gYear}: the same object whatever the property or the precision."""
    doc = json.loads(export.export(default_ds, "jsonld"))
    values = [
        v
        for n in json_nodes(doc["@graph"])
        for term in (*DATE_TERMS, "asOf", "statusAsOf", "date")
        for v in _as_list(n.get(term, []))
    ]
    assert {v["type"] for v in values} == XSD_DATES
    assert all(isinstance(v, dict) and set(v) == {"@value", "type"} for v in values)
    years = [v["@value"] for v in values if v["type"] == "xsd:gYear"]
    assert years and all(re.fullmatch(r"\d{4}", y) for y in years)


def test_multi_valued_terms_are_sets_and_the_others_single(default_quads: list[Any]) -> None:
    """A key is always an array (a @set term) or never: every term without @container @set
    has at most one value per subject in the data, the vocabulary and the shapes."""
    ctx = _context()
    iris = _term_iris(ctx)
    sets = {iris[t] for t, d in ctx.items() if t in iris and "@container" in d}
    quads = list(default_quads)
    for f in dataset.bundled_files("shapes"):
        quads += dataset.parse_file(f)
    counts: dict[tuple[str, str], int] = {}
    for q in quads:
        key = (str(q.subject), q.predicate.value)
        counts[key] = counts.get(key, 0) + 1
    termed = set(iris.values())
    multi = {p for (_, p), n in counts.items() if n > 1 and p in termed}
    assert sorted(multi - sets) == []
    doc = json.loads(export.export(default_quads, "jsonld"))
    set_terms = {t for t, d in ctx.items() if isinstance(d, dict) and d.get("@container")}
    for node in json_nodes(doc["@graph"]):
        if "@value" in node:
            continue
        for key, value in node.items():
            if key in set_terms:
                assert isinstance(value, list), (key, node.get("id"))
            elif key in ctx and key not in ("id", "type"):
                assert not isinstance(value, list), (key, node.get("id"))


def test_context_covers_every_property_and_class_of_the_dataset(default_quads: list[Any]) -> None:
    iris = set(_term_iris(_context()).values())
    predicates = {q.predicate.value for q in default_quads} - {RDF_TYPE}
    classes = {q.object.value for q in default_quads if q.predicate.value == RDF_TYPE}
    assert sorted(predicates - iris) == []
    assert sorted(classes - iris) == []


def test_compacted_dataset_uses_only_short_keys(default_ds: dataset.LoadedDataset) -> None:
    doc = json.loads(export.export(default_ds, "jsonld"))
    assert doc["@context"] == CONTEXT_URL
    keys = {k for n in json_nodes(doc["@graph"]) for k in n}
    assert sorted(k for k in keys if ":" in k or k.startswith("http")) == []
    types = {t for n in json_nodes(doc["@graph"]) if "id" in n for t in _as_list(n.get("type", []))}
    assert sorted(t for t in types if ":" in t) == []
    # precision-typed dates stay value objects with their datatype
    as_of = [n["asOf"] for n in json_nodes(doc["@graph"]) if "asOf" in n]
    assert as_of
    assert all(isinstance(v, dict) and v["type"] in XSD_DATES for v in as_of)


def test_context_file_is_not_loaded_as_data() -> None:
    """The bundled context sits beside the vocabulary but is no RDF data: the default dataset
    skips it (no JSON-LD processing at start-up), and read as RDF it holds no triple."""
    ds = dataset.load()
    assert not [s for s in ds.sources if s.path.name == "context.jsonld"]
    ctx = dataset.bundled_dir("ontology") / "context.jsonld"
    assert ctx.is_file()
    assert dataset.parse_file(ctx) == []


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


# ---------------------------------------------------------------------------------------------
# Round trip: the JSON-LD export read back by PyLD and jsonld.js is the Turtle export's graph
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("context", ["url", "inline"])
def test_round_trip_whole_dataset_pyld(
    default_ds: dataset.LoadedDataset, turtle_graph: set[Any], context: str
) -> None:
    doc = export.export(default_ds, "jsonld", context=context)
    assert canonical(read_with_pyld(doc)) == turtle_graph


@pytest.mark.parametrize("context", ["url", "inline"])
def test_round_trip_whole_dataset_jsonld_js(
    default_ds: dataset.LoadedDataset, turtle_graph: set[Any], context: str, tmp_path: Path
) -> None:
    doc = export.export(default_ds, "jsonld", context=context)
    assert canonical(read_with_jsonld_js(doc, tmp_path)) == turtle_graph


def test_round_trip_with_blank_nodes_and_all_precisions(tmp_path: Path) -> None:
    ds = dataset.load([MINI], include_ontology=False)
    expected = canonical(parse_turtle(export.export(ds, "turtle")))
    assert any(isinstance(q.subject, pyoxigraph.BlankNode) for q in expected)
    doc = export.export(ds, "jsonld")
    assert canonical(read_with_pyld(doc)) == expected
    assert canonical(read_with_jsonld_js(doc, tmp_path)) == expected


def test_named_graphs_round_trip(tmp_path: Path) -> None:
    trig = (
        b"@prefix ex: <http://example.org/> .\n"
        b"ex:a ex:p ex:b .\n"
        b'ex:g1 { ex:a ex:p "one"@en . _:x ex:q ex:a . }\n'
        b'_:g2 { ex:b ex:p "2"^^<http://www.w3.org/2001/XMLSchema#integer> . }\n'
    )
    quads = list(pyoxigraph.parse(trig, format=pyoxigraph.RdfFormat.TRIG))
    doc = export.export(quads, "jsonld")
    assert canonical(read_with_pyld(doc)) == canonical(quads)
    assert canonical(read_with_jsonld_js(doc, tmp_path)) == canonical(quads)


# ---------------------------------------------------------------------------------------------
# Frames: the framed graph is exactly the triples of the nodes the frame shows in full
# ---------------------------------------------------------------------------------------------


def _full_nodes(doc: dict[str, Any]) -> set[str]:
    """IRIs of the nodes a framed document shows with their properties (not as references)."""
    from pyld import jsonld as pyld

    expanded = pyld.expand(doc, {"documentLoader": jsonld.RefusingLoader()})
    return {
        n["@id"]
        for n in json_nodes(expanded)
        if "@id" in n and "@value" not in n and set(n) - {"@id"}
    }


def _subgraph(quads: list[Any], subjects: set[str]) -> set[Any]:
    return canonical(
        q
        for q in quads
        if isinstance(q.subject, pyoxigraph.NamedNode) and q.subject.value in subjects
    )


def _subjects_of(quads: list[Any], predicate: str, obj: str) -> set[str]:
    return {
        q.subject.value
        for q in quads
        if q.predicate.value == predicate and getattr(q.object, "value", None) == obj
    }


def _typed(quads: list[Any], classes: set[str]) -> set[str]:
    return {
        q.subject.value
        for q in quads
        if q.predicate.value == RDF_TYPE and q.object.value in classes
    }


FRAME_TYPES = {
    "organisation": {CICA + "IntergovernmentalOrganization"},
    "state": {CICA + "State"},
    "event": {
        CICA + t
        for t in (
            "Event",
            "Meeting",
            "MinisterialMeeting",
            "SeniorOfficialsCommitteeMeeting",
            "Summit",
        )
    },
}
# the reverse term each frame nests, and the predicate it reverses
FRAME_NESTED = {
    "organisation": ("memberships", ORG + "organization"),
    "state": ("membershipsHeld", ORG + "member"),
    "event": ("generated", PROV + "wasGeneratedBy"),
}


@pytest.mark.parametrize("name", sorted(FRAME_TYPES))
def test_frame_selects_and_nests_what_it_promises(
    default_ds: dataset.LoadedDataset, default_quads: list[Any], name: str
) -> None:
    doc = json.loads(export.export(default_ds, "jsonld", frame=name))
    top = {jsonld_expand_iri(n["id"]) for n in doc["@graph"]}
    assert top == _typed(default_quads, FRAME_TYPES[name]) and top
    term, predicate = FRAME_NESTED[name]
    nested_total = 0
    for node in doc["@graph"]:
        nested = {jsonld_expand_iri(m["id"]) for m in _as_list(node.get(term, []))}
        assert nested == _subjects_of(default_quads, predicate, jsonld_expand_iri(node["id"]))
        nested_total += len(nested)
        for m in _as_list(node.get(term, [])):
            if "memberDuring" in m:  # intervals and their instants are embedded, not linked
                interval = m["memberDuring"]
                assert isinstance(interval, dict) and "hasBeginning" in interval
                assert isinstance(interval["hasBeginning"], dict)
    assert nested_total > 0


@pytest.mark.parametrize("name", sorted(FRAME_TYPES))
def test_frame_round_trip_equals_selected_subgraph(
    default_ds: dataset.LoadedDataset, default_quads: list[Any], name: str, tmp_path: Path
) -> None:
    raw = export.export(default_ds, "jsonld", frame=name)
    doc = json.loads(raw)
    expected = _subgraph(default_quads, _full_nodes(doc))
    full = canonical(default_quads)
    via_pyld = canonical(read_with_pyld(raw))
    assert via_pyld == expected
    assert via_pyld <= full
    assert canonical(read_with_jsonld_js(raw, tmp_path)) == expected


def test_frame_single_node_and_inline_context(default_ds: dataset.LoadedDataset) -> None:
    doc = json.loads(
        export.export(
            default_ds, "jsonld", frame="organisation", node_id="cicaid:cica", context="inline"
        )
    )
    assert isinstance(doc["@context"], dict) and doc["@context"]["member"]["@id"] == "org:member"
    assert doc["id"] == "cicaid:cica" and "@graph" not in doc
    members = {m["member"] for m in doc["memberships"] if m["role"] == "cica:member"}
    assert {"cicaid:kazakhstan", "cicaid:kuwait", "cicaid:thailand"} <= members


def jsonld_expand_iri(compact: str) -> str:
    ctx = _context()
    p, sep, local = compact.partition(":")
    if sep and p in ctx and isinstance(ctx[p], str):
        return ctx[p] + local
    return compact


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("frame", [None, "organisation", "state", "event"])
def test_export_is_byte_identical_across_loads(frame: str | None) -> None:
    first = export.export(dataset.load(), "jsonld", frame=frame)
    second = export.export(dataset.load(), "jsonld", frame=frame)
    assert first == second


def test_blank_node_labels_are_stable_across_loads() -> None:
    # every parse gives blank nodes fresh random ids; the output must not depend on them
    a = export.export(dataset.load([MINI], include_ontology=False), "jsonld", context="inline")
    b = export.export(dataset.load([MINI], include_ontology=False), "jsonld", context="inline")
    assert a == b
    assert b'"_:c14n0"' in a


def test_graph_is_sorted_by_id() -> None:
    doc = json.loads(export.export(dataset.load([MINI], include_ontology=False), "jsonld"))
    ids = [n["id"] for n in doc["@graph"]]
    assert ids == sorted(ids)
    typed = [n for n in doc["@graph"] if "type" in n]
    assert typed and all(list(n)[:2] == ["id", "type"] for n in typed)


# ---------------------------------------------------------------------------------------------
# Offline: bundled contexts only; unknown remote contexts are input errors naming the URL
# ---------------------------------------------------------------------------------------------


def test_loader_serves_bundled_context_and_refuses_everything_else() -> None:
    loader = jsonld.RefusingLoader()
    assert loader(CONTEXT_URL, {})["document"] == json.loads(CONTEXT_FILE.read_text())
    with pytest.raises(Exception, match="never fetches"):
        loader("https://schema.org/", {})
    assert loader.refused == ["https://schema.org/"]


def test_unknown_remote_context_is_an_input_error_naming_it() -> None:
    doc = {
        "@context": "https://example.org/unknown-context.jsonld",
        "@id": "http://e/a",
        "name": "x",
    }
    with pytest.raises(InputError, match=re.escape("https://example.org/unknown-context.jsonld")):
        read_with_pyld(doc)
    text = json.dumps(doc, indent=1).encode()
    with pytest.raises(InputError, match="unknown-context") as info:
        jsonld.resolve_contexts(text, "doc.jsonld")
    assert info.value.path == "doc.jsonld" and info.value.line == 2


def test_resolve_contexts_inlines_the_bundled_context() -> None:
    doc = {"@context": [CONTEXT_URL, {"@import": CONTEXT_URL}], "id": "cicaid:x", "label": "X"}
    out = json.loads(jsonld.resolve_contexts(json.dumps(doc).encode()))
    assert out["@context"][0]["member"] == {"@id": "org:member", "@type": "@id"}
    plain = b'{"@id": "http://e/a", "http://e/p": "x"}'
    assert jsonld.resolve_contexts(plain) is plain


def test_cli_export_of_jsonld_input_with_unknown_context_is_exit_2(tmp_path: Path) -> None:
    src = tmp_path / "doc.jsonld"
    src.write_text(
        json.dumps({"@context": "https://example.org/ctx.jsonld", "@id": "http://e/a", "p": "x"})
    )
    out = tmp_path / "out.ttl"
    result = CliRunner().invoke(app, ["export", "--data", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "https://example.org/ctx.jsonld" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_reads_back_its_own_jsonld_export(tmp_path: Path) -> None:
    """JSON-LD that references the project context by URL loads (bundled, never fetched)."""
    runner = CliRunner()
    doc = tmp_path / "mini.jsonld"
    argv = ["export", "--data", str(MINI), "--context", "url", "-o", str(doc)]
    r1 = runner.invoke(app, argv)
    assert r1.exit_code == 0, r1.output
    assert json.loads(doc.read_text())["@context"] == CONTEXT_URL
    r2 = runner.invoke(app, ["export", "--data", str(doc), "-f", "nquads"])
    assert r2.exit_code == 0, r2.output
    back = list(pyoxigraph.parse(r2.stdout.encode(), format=pyoxigraph.RdfFormat.N_QUADS))
    mini = dataset.load([MINI], include_ontology=False)
    assert canonical(back) == canonical(export.all_quads(mini))


def test_no_socket_is_opened_by_export_or_framing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a socket connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    ds = dataset.load()
    for fmt in export.FORMATS:
        for context in ("url", "inline"):
            assert export.export(ds, fmt, context=context)
    for name in jsonld.frame_names():
        doc = export.export(ds, "jsonld", frame=name)
        assert read_with_pyld(doc)


# ---------------------------------------------------------------------------------------------
# The fast compactor gives exactly what PyLD's compaction gives
# ---------------------------------------------------------------------------------------------


def test_fast_compaction_equals_pyld_on_the_dataset(default_quads: list[Any]) -> None:
    for context in ("url", "inline"):
        fast = jsonld.compact(default_quads, context=context, engine="fast")
        slow = jsonld.compact(default_quads, context=context, engine="pyld")
        assert jsonld.dumps(fast) == jsonld.dumps(slow)


_IRIS = [
    "https://w3id.org/cica-ld/id/a",
    "https://w3id.org/cica-ld/id/b",
    "https://w3id.org/cica-ld/ontology#State",
    "https://w3id.org/cica-ld/ontology#",
    "http://www.w3.org/ns/org#member",
    "http://www.w3.org/ns/org#",
    "http://www.w3.org/2006/time#inXSDDate",
    "https://w3id.org/cica-ld/ontology#iso3166Alpha2",
    "https://w3id.org/cica-ld/ontology#asOf",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/publisher",
    "http://example.org/other#x",
    "http://www.wikidata.org/entity/Q1",
    "https://schema.org/name",
]
_DATATYPES = [
    "http://www.w3.org/2001/XMLSchema#date",
    "http://www.w3.org/2001/XMLSchema#gYear",
    "http://www.w3.org/2001/XMLSchema#string",
    "http://www.w3.org/2001/XMLSchema#decimal",
    "http://www.w3.org/2001/XMLSchema#boolean",
]


def _quad_strategy() -> Any:
    from hypothesis import strategies as st

    iri = st.sampled_from(_IRIS).map(pyoxigraph.NamedNode)
    bnode = st.sampled_from(["b1", "b2"]).map(pyoxigraph.BlankNode)
    lexical = st.sampled_from(["2020-01-01", "2020", "1", "true", "x y", "é"])
    literal = st.one_of(
        st.builds(
            lambda v, d: pyoxigraph.Literal(v, datatype=pyoxigraph.NamedNode(d)),
            lexical,
            st.sampled_from(_DATATYPES),
        ),
        st.builds(
            lambda v, lang: pyoxigraph.Literal(v, language=lang),
            lexical,
            st.sampled_from(["en", "de", "tr"]),
        ),
    )
    predicate = st.one_of(iri, st.just(pyoxigraph.NamedNode(RDF_TYPE)))
    graph = st.one_of(st.just(pyoxigraph.DefaultGraph()), iri)
    return st.builds(
        pyoxigraph.Quad, st.one_of(iri, bnode), predicate, st.one_of(iri, bnode, literal), graph
    )


SET_TYPE = {"@id": "@type", "@container": "@set"}


def test_fast_compaction_equals_pyld_on_random_graphs() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(_quad_strategy(), min_size=1, max_size=12))
    def check(quads: list[Any]) -> None:
        expanded = jsonld.expand_quads(jsonld.stable_quads(quads))
        # also: the type alias as a set, and every value an array (compactArrays false)
        set_type = {**jsonld.load_context()["@context"], "type": SET_TYPE}
        for ctx in (CONTEXT_URL, jsonld.load_context()["@context"], set_type):
            fast = jsonld.compact_expanded(expanded, ctx, engine="fast")
            slow = jsonld.compact_expanded(expanded, ctx, engine="pyld")
            assert jsonld.dumps(fast) == jsonld.dumps(slow)
        for ctx in ({"org": ORG, "xsd": jsonld.XSD}, jsonld.load_context()["@context"]):
            fast = jsonld.compact_expanded(expanded, ctx, engine="fast", compact_arrays=False)
            slow = jsonld.compact_expanded(expanded, ctx, engine="pyld", compact_arrays=False)
            assert jsonld.dumps(fast) == jsonld.dumps(slow)
        framed = jsonld.embed_labels(expanded)
        fast = jsonld.compact_expanded(framed, jsonld.load_context()["@context"], engine="fast")
        slow = jsonld.compact_expanded(framed, jsonld.load_context()["@context"], engine="pyld")
        assert jsonld.dumps(fast) == jsonld.dumps(slow)
        from cica_ld.publish import EMBED_CONTEXT

        fast = jsonld.compact_expanded(expanded, EMBED_CONTEXT, engine="fast")
        slow = jsonld.compact_expanded(expanded, EMBED_CONTEXT, engine="pyld")
        assert jsonld.dumps(fast) == jsonld.dumps(slow)

    check()
