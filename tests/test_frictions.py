"""Small frictions (issue 12, point 7): a UTF-8 byte order mark, format aliases, an empty query,
the table format fitted to a width (CJK aligned by display width), Ctrl-C during a long load.

Fixtures (tests/fixtures/frictions/): a FOAF graph in every RDF format, a SHACL shape for it,
and a SKOS concept scheme with English, Japanese, Chinese and French prefLabels.
"""

from __future__ import annotations

import _thread
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from cica_ld import dataset, export, graphstore, interrupt, query, reports, validation
from cica_ld.cli import app

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "frictions"
ROOT = Path(__file__).resolve().parent.parent
FOAF = FIXTURES / "foaf.ttl"
SKOS = FIXTURES / "skos-multilingual.ttl"
BOM = b"\xef\xbb\xbf"
#: The FOAF fixture in each format, with its format name.
FOAF_FILES = {
    "foaf.ttl": "turtle",
    "foaf.nt": "ntriples",
    "foaf.nq": "nquads",
    "foaf.trig": "trig",
    "foaf.rdf": "rdfxml",
    "foaf.jsonld": "jsonld",
}


def cli(*args: str, input: bytes | str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def canonical(store: ox.Store) -> set[ox.Quad]:
    """The quads of ``store`` (graph names kept), blank nodes canonically labelled."""
    ds = ox.Dataset(store)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def load(path: Path, input_format: str | None = None) -> set[ox.Quad]:
    return canonical(dataset.load([path], input_format=input_format, include_ontology=False).store)


def with_bom(src: Path, folder: Path, name: str | None = None) -> Path:
    out = folder / (name or src.name)
    out.write_bytes(BOM + src.read_bytes())
    return out


# ---------------------------------------------------------------------------------------------
# A UTF-8 byte order mark


@pytest.mark.parametrize("name", sorted(FOAF_FILES))
def test_a_file_with_a_bom_loads_the_same_graph(name: str, tmp_path: Path) -> None:
    src = FIXTURES / name
    bommed = with_bom(src, tmp_path)
    assert bommed.read_bytes().startswith(BOM)
    expected = load(src)
    assert len(expected) == 6
    assert load(bommed) == expected
    # parse_file (validation's path for quad formats) too
    parsed = dataset.parse_file(bommed)
    assert {q for q in parsed} == set(dataset.parse_file(src))


@pytest.mark.parametrize("name", sorted(FOAF_FILES))
def test_validate_reads_a_file_with_a_bom(name: str, tmp_path: Path) -> None:
    """Validation loads the file and locates the result as in the file without the mark."""
    shapes = [FIXTURES / "foaf-shapes.ttl"]

    def findings(path: Path) -> list[tuple[str, int | None, int | None]]:
        report = validation.validate([path], shapes, [])
        return [
            (
                f.result.focus_node,
                getattr(f.location, "line", None),
                getattr(f.location, "column", None),
            )
            for f in report.findings
        ]

    plain = findings(FIXTURES / name)
    assert [focus for focus, _, _ in plain] == ["<http://example.org/people/alice>"]
    assert findings(with_bom(FIXTURES / name, tmp_path)) == plain
    if FOAF_FILES[name] in ("turtle", "trig", "ntriples", "nquads"):
        assert plain[0][1] is not None  # located by line


def test_validate_locates_on_the_first_line_of_a_file_with_a_bom(tmp_path: Path) -> None:
    """Columns on the first line count from after the mark, as in the file without it."""
    text = (
        b"<http://example.org/people/bob> <http://xmlns.com/foaf/0.1/mbox> <mailto:b@example.org> ."
        b" <http://example.org/people/alice> a <http://xmlns.com/foaf/0.1/Person> .\n"
        b"<http://example.org/people/bob> a <http://xmlns.com/foaf/0.1/Person> .\n"
    )
    locations = []
    for name, content in (("plain.ttl", text), ("bommed.ttl", BOM + text)):
        (tmp_path / name).write_bytes(content)
        report = validation.validate([tmp_path / name], [FIXTURES / "foaf-shapes.ttl"], [])
        [finding] = report.findings
        assert finding.result.focus_node == "<http://example.org/people/alice>"
        assert finding.location is not None
        locations.append((finding.location.line, finding.location.column))
    assert locations == [(1, 91), (1, 91)]


def test_cica_ld_load_reads_a_file_with_a_bom(tmp_path: Path) -> None:
    """`cica-ld load` streams the triples of each file itself."""
    bommed = with_bom(FOAF, tmp_path)
    triples = set(graphstore._triples(bommed, "turtle"))
    assert triples == {q.triple for q in ox.parse(path=str(FOAF), format=ox.RdfFormat.TURTLE)}


RDFXML_BAD = (
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="http://e.org/a"></rdf:RDF>\n'
)


@pytest.mark.parametrize(
    ("suffix", "text", "line", "column", "what"),
    [
        (".ttl", b'@prefix ex: <http://example.org/> . ex:a foo:b "c" .\n', 1, 42, "turtle"),
        (
            ".ttl",
            b'@prefix ex: <http://example.org/> .\nex:a ex:b "c" ;\n    ex:d foo:e .\n',
            3,
            10,
            "turtle",
        ),
        (".nt", b"<http://e.org/a> <http://e.org/p> oops .\n", 1, 35, "ntriples"),
        (".rdf", RDFXML_BAD, 1, 112, "rdfxml"),
        (".jsonld", b'{"@id": "http://e.org/a", "http://e.org/p": [1,]}\n', 1, 48, "JSON"),
    ],
)
def test_error_positions_are_the_same_with_a_bom(
    suffix: str, text: bytes, line: int, column: int, what: str, tmp_path: Path
) -> None:
    plain = tmp_path / f"plain{suffix}"
    plain.write_bytes(text)
    bommed = tmp_path / f"bommed{suffix}"
    bommed.write_bytes(BOM + text)
    for path in (plain, bommed):
        with pytest.raises(dataset.InputError) as err:
            dataset.load([path], include_ontology=False)
        assert (err.value.line, err.value.column) == (line, column), path
    r = cli("query", "ASK {?s ?p ?o}", "--data", str(bommed))
    assert r.exit_code == 2
    assert f"bommed{suffix}:{line}:{column}: {what} syntax error" in r.stderr


def test_a_file_without_a_bom_is_loaded_by_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path (pyoxigraph reads the file itself) is kept for files without the mark."""
    calls: list[dict] = []
    real = dataset.call_interruptibly

    def spy(fn, /, *args, **kwargs):
        calls.append(dict(kwargs, args=args))
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(dataset, "call_interruptibly", spy)
    store = ox.Store()
    dataset.load_file(store, FOAF)
    dataset.load_file(store, with_bom(FOAF, tmp_path, "bom.ttl"))
    assert calls[0].get("path") == str(FOAF) and "input" not in calls[0]
    assert "path" not in calls[1] and calls[1]["input"].name.endswith("bom.ttl")


def test_a_query_file_and_stdin_with_a_bom(tmp_path: Path) -> None:
    rq = tmp_path / "ask.rq"
    rq.write_bytes(BOM + b"ASK { ?s foaf:name ?name }\n")
    r = cli("query", str(rq), "--data", str(FOAF))
    assert (r.exit_code, r.stdout) == (0, "true\n"), r.stderr
    r = cli("query", "-", "--data", str(FOAF), input=BOM + b"ASK { ?s foaf:mbox ?m }")
    assert (r.exit_code, r.stdout) == (0, "true\n"), r.stderr
    # positions in the query stay right: 'nope:' at line 1, column 10
    r = cli("query", "-", "--data", str(FOAF), input=BOM + b"ASK { ?s nope:x ?o }")
    assert r.exit_code == 2
    assert "<stdin>:1:10: undefined prefix 'nope:'" in r.stderr


# ---------------------------------------------------------------------------------------------
# Format aliases


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("ttl", "turtle"),
        ("TTL", "turtle"),
        ("Turtle", "turtle"),
        ("text/turtle", "turtle"),
        ("nt", "ntriples"),
        ("n-triples", "ntriples"),
        ("N-Triples", "ntriples"),
        ("nq", "nquads"),
        ("n-quads", "nquads"),
        ("json-ld", "jsonld"),
        ("JSON-LD", "jsonld"),
        ("jsonld", "jsonld"),
        ("application/ld+json", "jsonld"),
        ("rdf/xml", "rdfxml"),
        ("RDF/XML", "rdfxml"),
        ("xml", "rdfxml"),
        ("rdf", "rdfxml"),
        ("TriG", "trig"),
    ],
)
def test_format_name_resolves_aliases(alias: str, name: str) -> None:
    assert dataset.format_name(alias) == name
    assert dataset.format_for(Path("x.data"), alias) == name


def test_an_unknown_format_name_is_still_refused() -> None:
    assert dataset.format_name("yaml") == "yaml"
    r = cli("query", "ASK {}", "--data", str(FOAF), "--input-format", "yaml")
    assert r.exit_code == 2
    assert "unknown input format 'yaml'" in r.stderr


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("foaf.ttl", "ttl"),
        ("foaf.nt", "nt"),
        ("foaf.nq", "nq"),
        ("foaf.trig", "TriG"),
        ("foaf.rdf", "rdf/xml"),
        ("foaf.jsonld", "json-ld"),
    ],
)
def test_input_format_accepts_aliases(name: str, alias: str, tmp_path: Path) -> None:
    """A file whose extension says nothing loads with --input-format given as an alias."""
    copy = tmp_path / "people.data"
    shutil.copyfile(FIXTURES / name, copy)
    assert load(copy, alias) == load(FIXTURES / name)
    r = cli(
        "query",
        "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
        if name.endswith((".nq", ".trig"))
        else "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
        "--data",
        str(copy),
        "--input-format",
        alias,
        "-f",
        "csv",
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout.split() == ["n", "6"]


@pytest.mark.parametrize("ext", [".json-ld", ".jsonld"])
def test_json_ld_extensions_are_recognised_for_input(ext: str, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    copy = folder / f"people{ext}"
    shutil.copyfile(FIXTURES / "foaf.jsonld", copy)
    assert dataset.format_for(copy) == "jsonld"
    assert dataset.expand_paths([folder]) == [copy]  # picked up in a folder too
    assert load(folder) == load(FOAF)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("ttl", "turtle"),
        ("nt", "ntriples"),
        ("nq", "nquads"),
        ("json-ld", "jsonld"),
        ("rdf/xml", "rdfxml"),
        ("TriG", "trig"),
    ],
)
def test_export_format_accepts_aliases(alias: str, name: str) -> None:
    assert export.format_for_output(None, alias) == name
    by_alias = cli("export", "--data", str(FOAF), "-f", alias)
    by_name = cli("export", "--data", str(FOAF), "-f", name)
    assert by_alias.exit_code == by_name.exit_code == 0, by_alias.stderr
    assert by_alias.stdout == by_name.stdout  # exports are deterministic


def test_export_to_a_json_ld_file(tmp_path: Path) -> None:
    out = tmp_path / "people.json-ld"
    r = cli("export", "--data", str(FOAF), "-o", str(out))
    assert r.exit_code == 0, r.stderr
    assert "@context" in json.loads(out.read_text(encoding="utf-8"))  # JSON-LD, compacted
    assert load(out) == load(FOAF)  # the loader inlines the bundled context
    r = cli("export", "--data", str(FOAF), "-f", "yaml")
    assert r.exit_code == 2
    assert "unknown export format 'yaml'" in r.stderr


CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("ttl", "turtle"),
        ("nt", "ntriples"),
        ("N-Triples", "ntriples"),
        ("json-ld", "jsonld"),
        ("rdf/xml", "rdfxml"),
        ("xml", "rdfxml"),
    ],
)
def test_query_format_accepts_aliases_for_graphs(alias: str, name: str) -> None:
    assert query.check_format(alias, "CONSTRUCT") == name
    by_alias = cli("query", CONSTRUCT, "--data", str(FOAF), "-f", alias)
    by_name = cli("query", CONSTRUCT, "--data", str(FOAF), "-f", name)
    assert by_alias.exit_code == by_name.exit_code == 0, by_alias.stderr
    assert by_alias.stdout == by_name.stdout


def test_query_result_formats_keep_their_names() -> None:
    """For SELECT, xml and json are the SPARQL results formats; RDF aliases do not apply."""
    assert query.check_format("XML", "SELECT") == "xml"
    assert query.check_format("json", "ASK") == "json"
    r = cli("query", "SELECT ?s { ?s a foaf:Person }", "--data", str(FOAF), "-f", "xml")
    assert r.exit_code == 0
    assert "<sparql" in r.stdout
    r = cli("query", "SELECT ?s { ?s a foaf:Person }", "--data", str(FOAF), "-f", "ttl")
    assert r.exit_code == 2
    assert "format 'ttl' does not apply" in r.stderr


def test_query_output_to_a_json_ld_file(tmp_path: Path) -> None:
    out = tmp_path / "graph.json-ld"
    r = cli("query", CONSTRUCT, "--data", str(FOAF), "-o", str(out))
    assert r.exit_code == 0, r.stderr
    store = ox.Store()
    store.load(out.read_bytes(), format=ox.RdfFormat.JSON_LD)
    assert canonical(store) == load(FOAF)


def test_report_format_accepts_ttl() -> None:
    assert reports.check_format("ttl") == "turtle"
    assert reports.check_format("SARIF") == "sarif"
    with pytest.raises(reports.UsageError):
        reports.check_format("json-ld")


# ---------------------------------------------------------------------------------------------
# An empty query


@pytest.mark.parametrize(
    "args",
    [
        [""],
        ["   "],
        ["\n\t\n"],
        ["# only a comment\n"],
    ],
    ids=["empty", "spaces", "blank-lines", "comment-only"],
)
def test_an_empty_query_text_is_an_input_error(args: list[str]) -> None:
    r = cli("query", *args, "--data", str(FOAF))
    assert r.exit_code == 2
    assert "the query is empty" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("content", [b"", b"   \n", b"# nothing here\n", BOM])
def test_an_empty_query_file_or_stdin_is_an_input_error(content: bytes, tmp_path: Path) -> None:
    rq = tmp_path / "empty.rq"
    rq.write_bytes(content)
    for r in (
        cli("query", str(rq), "--data", str(FOAF)),
        cli("query", "-", "--data", str(FOAF), input=content),
    ):
        assert r.exit_code == 2
        assert "the query is empty" in r.stderr
        assert r.stdout == ""


def test_resolve_query_refuses_blank_text() -> None:
    with pytest.raises(query.QuerySyntaxError, match="the query is empty"):
        query.resolve_query("  ")


# ---------------------------------------------------------------------------------------------
# The table format: fitted to a width, aligned by display width

LABELS = (
    "SELECT ?c ?ja ?zh ?fr ?def WHERE { ?c skos:prefLabel ?ja, ?zh, ?fr ; skos:definition ?def "
    'FILTER(lang(?ja) = "ja" && lang(?zh) = "zh" && lang(?fr) = "fr") } ORDER BY ?c'
)


def test_display_width_counts_wide_and_combining_characters() -> None:
    assert query.display_width("spring") == 6
    assert query.display_width("春天") == 4
    assert query.display_width("冬季の寒い季節") == 14
    assert query.display_width("e\u0301te\u0301") == 3  # combining acute accents
    assert query.display_width("Ｆｕｌｌ") == 8  # full-width forms


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("printemps", 20, "printemps"),
        ("printemps", 9, "printemps"),
        ("printemps", 6, "print…"),
        ("冬季の寒い季節", 7, "冬季の…"),
        ("冬季の寒い季節", 6, "冬季…"),  # a wide character is never split
        ("e\u0301te\u0301 chaud", 3, "e\u0301t…"),  # the accent stays with its letter
    ],
)
def test_truncate_cuts_by_display_width(text: str, width: int, expected: str) -> None:
    cut = query.truncate(text, width)
    assert cut == expected
    assert query.display_width(cut) <= width


def _starts(line: str) -> list[int]:
    """The display columns where the cells of a table line start (cells are 2+ spaces apart)."""
    starts, col, prev_space = [0], 0, 0
    for c in line:
        if c == " ":
            prev_space += 1
        else:
            if prev_space >= 2:
                starts.append(col)
            prev_space = 0
        col += query.char_width(c)
    return starts


def _table(stdout: str) -> tuple[list[str], list[str]]:
    lines = stdout.splitlines()
    assert lines[-1] == "(4 rows)"
    return lines[0:1] + lines[2:-1], lines


def test_cjk_columns_are_aligned_by_display_width() -> None:
    r = cli("query", LABELS, "--data", str(SKOS))
    assert r.exit_code == 0, r.stderr
    rows, _ = _table(r.stdout)
    assert "冬季の寒い季節" in r.stdout and "e\u0301te\u0301" in r.stdout
    header = _starts(rows[0])
    assert len(header) == 5
    for row in rows[1:]:
        assert _starts(row) == header, row
    # not a terminal, no --width: nothing is cut
    assert "…" not in r.stdout
    assert "most plants begin to grow again after the cold months" in r.stdout


@pytest.mark.parametrize("width", [80, 60, 40])
def test_width_fits_the_table_and_cuts_with_an_ellipsis(width: int) -> None:
    full = cli("query", LABELS, "--data", str(SKOS))
    r = cli("query", LABELS, "--data", str(SKOS), "--width", str(width))
    assert r.exit_code == 0, r.stderr
    rows, lines = _table(r.stdout)
    assert max(query.display_width(line) for line in lines) <= width
    assert max(query.display_width(line) for line in full.stdout.splitlines()) > width
    assert "…" in r.stdout
    header = _starts(rows[0])
    for row in rows[1:]:
        assert _starts(row) == header, row
    # every cut cell is the start of the full cell
    full_rows, _ = _table(full.stdout)
    for cut_row, full_row in zip(rows[1:], full_rows[1:], strict=True):
        cut_cells = re.split(r" {2,}", cut_row)
        full_cells = re.split(r" {2,}", full_row)
        for cut, whole in zip(cut_cells, full_cells, strict=True):
            if cut.endswith("…"):
                assert whole.startswith(cut[:-1]) and whole != cut[:-1]
            else:
                assert cut == whole


def test_width_defaults_to_the_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cica_ld.cli import query as cli_query

    monkeypatch.setattr(cli_query, "isatty", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "50")
    r = cli("query", LABELS, "--data", str(SKOS))
    assert r.exit_code == 0, r.stderr
    assert max(query.display_width(line) for line in r.stdout.splitlines()) <= 50
    assert "…" in r.stdout
    # --width 0 never cuts, and neither does a file written with -o
    r = cli("query", LABELS, "--data", str(SKOS), "--width", "0")
    assert "…" not in r.stdout and "after the cold months" in r.stdout
    out = tmp_path / "labels.txt"
    r = cli("query", LABELS, "--data", str(SKOS), "-o", str(out))
    assert r.exit_code == 0, r.stderr
    assert "after the cold months" in out.read_text(encoding="utf-8")


def test_width_applies_to_the_table_format_only() -> None:
    r = cli("query", LABELS, "--data", str(SKOS), "-f", "csv", "--width", "40")
    assert r.exit_code == 2
    assert "--width applies to the table format" in r.stderr
    r = cli("query", LABELS, "--data", str(SKOS), "--width", "-1")
    assert r.exit_code == 2


def test_fit_widths_keeps_narrow_columns() -> None:
    assert query.fit_widths([4, 50, 10], 100) == [4, 50, 10]
    fitted = query.fit_widths([4, 50, 30], 40)
    assert fitted[0] == 4
    assert sum(fitted) + 2 * 2 <= 40
    assert fitted[1] >= fitted[2] - 1  # the two wide columns share what is left


# ---------------------------------------------------------------------------------------------
# Ctrl-C during a long load


def test_call_interruptibly_returns_and_raises_like_a_call() -> None:
    assert interrupt.call_interruptibly(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        interrupt.call_interruptibly(divmod, 1, 0)


def test_call_interruptibly_lets_ctrl_c_through() -> None:
    """A SIGINT in the main thread (as Ctrl-C sends) interrupts the wait at once."""
    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            interrupt.call_interruptibly(time.sleep, 5)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 1.0


def _big_turtle(path: Path, triples: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("@prefix ex: <http://example.org/big/> .\n")
        block = "".join(f'ex:s{i} ex:p{i % 10} "value {i}" .\n' for i in range(100_000))
        for k in range(triples // 100_000):
            fh.write(block.replace("ex:s", f"ex:s{k}_"))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_a_long_load_within_a_second(tmp_path: Path) -> None:
    big = tmp_path / "big.ttl"
    _big_turtle(big, 2_000_000)  # ~70 MB, several seconds to load
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        CICA_LD_PROGRESS="always",
        CICA_LD_PROGRESS_AFTER="0",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "cica_ld", "query", "ASK { ?s ?p ?o }", "--data", str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    loading = threading.Event()
    stderr: list[bytes] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            stderr.append(line)
            if b"loading" in line:
                loading.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert loading.wait(30), b"".join(stderr)
        time.sleep(0.5)  # well into the load
        assert proc.poll() is None, "the load ended before the signal: make the file bigger"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    assert rc == 130, b"".join(stderr)
    assert elapsed < 1.5, elapsed
    assert b"cica-ld: error: interrupted" in b"".join(stderr)
    assert proc.stdout is not None and proc.stdout.read() == b""
