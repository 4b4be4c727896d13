"""No traceback for any input: random bytes at the loader, random text at `cica-ld query`.

Every run must end with exit 0 (it worked) or 2 (a usage or input error), never 1, 3 or 4.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cica_ld import dataset
from cica_ld.cli import app
from cica_ld.errors import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL = FIXTURES / "query-fuzz" / "small.ttl"
GRAPH = FIXTURES / "loader-formats" / "graph.ttl"
EXTENSIONS = [".ttl", ".nt", ".nq", ".trig", ".rdf", ".jsonld", ".n3"]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def invoke(args: list[str], input: bytes | None = None):
    result = CliRunner().invoke(app, args, input=input)
    assert result.exit_code in (0, 2), (args, result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("cica-ld: error: ") or "Usage:" in result.stderr
    return result


def _valid_samples() -> list[bytes]:
    return [(FIXTURES / "loader-formats" / f"graph{e}").read_bytes() for e in EXTENSIONS[:-1]]


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    """A valid file of some format with a few random byte edits (reaches deeper parser paths)."""
    data = bytearray(draw(st.sampled_from(_valid_samples())))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=4))
        if op == "insert":
            data[pos:pos] = chunk
        elif op == "delete":
            del data[pos : pos + len(chunk)]
        elif op == "replace":
            data[pos : pos + len(chunk)] = chunk
        else:
            del data[pos:]
    return bytes(data)


@FUZZ
@given(content=st.one_of(st.binary(max_size=300), mangled()), ext=st.sampled_from(EXTENSIONS))
def test_random_bytes_at_the_loader(content: bytes, ext: str):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / f"input{ext}"
        f.write_bytes(content)
        try:
            dataset.load([f], include_ontology=False)
        except InputError as exc:
            assert exc.path == str(f)
            assert "\n" not in exc.message
        r = invoke(["query", "ASK {}", "--data", str(f)])
        if r.exit_code == 2:
            assert str(f) in r.stderr


SPARQL_WORDS = [
    "SELECT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "WHERE",
    "FILTER",
    "OPTIONAL",
    "UNION",
    "MINUS",
    "GRAPH",
    "SERVICE",
    "VALUES",
    "BIND",
    "AS",
    "LIMIT",
    "OFFSET",
    "ORDER",
    "BY",
    "GROUP",
    "COUNT",
    "DISTINCT",
    "PREFIX",
    "BASE",
    "INSERT",
    "DELETE",
    "DATA",
    "DROP",
    "LOAD",
    "WITH",
    "{",
    "}",
    "(",
    ")",
    ".",
    ";",
    ",",
    "*",
    "=",
    "<",
    ">",
    "!",
    "&&",
    "||",
    "a",
    "?s",
    "?p",
    "?o",
    "$x",
    "<http://e/a>",
    "ex:a",
    ":b",
    "rdfs:label",
    '"x"',
    "'y'",
    '"""z"""',
    "@en",
    "^^",
    "xsd:date",
    "1",
    "2.5",
    "-3",
    "true",
    "#",
    "\n",
    "_:b",
    "[",
    "]",
    "STR(?s)",
    "?",
]


@FUZZ
@given(
    query=st.one_of(
        st.text(max_size=80),
        st.lists(st.sampled_from(SPARQL_WORDS), max_size=14).map(" ".join),
        st.lists(st.sampled_from(SPARQL_WORDS), max_size=14).map("".join),
    ),
    fmt=st.sampled_from(["table", "csv", "json", "xml", "turtle"]),
)
def test_random_text_at_query(query: str, fmt: str):
    invoke(["query", query, "--data", str(SMALL), "-f", fmt])


@FUZZ
@given(query=st.binary(max_size=120))
def test_random_bytes_on_stdin(query: bytes):
    invoke(["query", "-", "--data", str(SMALL)], input=query)


@FUZZ
@given(
    name=st.from_regex(r"[a-z_]{1,6}", fullmatch=True),
    value=st.text(max_size=40),
)
def test_random_param_values(name: str, value: str):
    invoke(["query", f"SELECT ?{name} WHERE {{ }}", "--data", str(SMALL), "-p", f"{name}={value}"])


@pytest.mark.parametrize("query", ["", " ", "-", "#", "{", "?", "\x00", "\udcff", "a" * 5000])
def test_edge_case_queries(query: str):
    invoke(["query", query, "--data", str(SMALL)], input=b"")
