"""The loader (`cica_ld.dataset`): formats, folders, --input-format, and located errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from cica_ld import dataset
from cica_ld.cli import app
from cica_ld.errors import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FORMATS = FIXTURES / "loader-formats"
BAD = FIXTURES / "loader-bad"
EXPECTED = {
    k: tuple(v)
    for k, v in json.loads((BAD / "expected.json").read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}


def canonical(store: ox.Store) -> set[ox.Quad]:
    ds = ox.Dataset(ox.Quad(q.subject, q.predicate, q.object) for q in store)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def load(*paths: Path, **kw) -> dataset.LoadedDataset:
    return dataset.load(list(paths), include_ontology=False, **kw)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("graph.nt", "ntriples"),
        ("graph.nq", "nquads"),
        ("graph.trig", "trig"),
        ("graph.rdf", "rdfxml"),
        ("graph.jsonld", "jsonld"),
    ],
)
def test_every_format_loads_the_same_graph(name: str, fmt: str):
    expected = canonical(load(FORMATS / "graph.ttl").store)
    assert len(expected) == 7
    loaded = load(FORMATS / name)
    assert loaded.sources[0].format == fmt
    assert loaded.sources[0].quads == 7
    assert canonical(loaded.store) == expected


def test_input_format_overrides_the_extension(tmp_path: Path):
    f = tmp_path / "graph.txt"
    shutil.copy(FORMATS / "graph.ttl", f)
    with pytest.raises(InputError) as err:
        load(f)
    assert "cannot tell the RDF format" in str(err.value)
    assert "--input-format" in str(err.value.hint)
    assert len(load(f, input_format="turtle")) == 7
    # the override wins over a misleading extension too
    g = tmp_path / "graph.nt"
    shutil.copy(FORMATS / "graph.ttl", g)
    assert len(load(g, input_format="turtle")) == 7


def test_unknown_input_format_is_an_input_error():
    with pytest.raises(InputError, match="unknown input format 'yaml'") as err:
        load(FORMATS / "graph.ttl", input_format="yaml")
    assert "turtle" in str(err.value.hint)


def test_folder_means_all_rdf_files_sorted_recursively(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for rel in ["z.ttl", "a.nt", "b/c.trig", ".hidden/h.ttl", ".dot.ttl", "notes.txt"]:
        (tmp_path / rel).write_text("", encoding="utf-8")
    (tmp_path / "package.json").write_text("{}", encoding="utf-8")
    (tmp_path / "pom.xml").write_text("<a/>", encoding="utf-8")
    found = dataset.expand_paths([tmp_path])
    assert found == [tmp_path / "a.nt", tmp_path / "b" / "c.trig", tmp_path / "z.ttl"]
    # named directly, .json and .xml files are loaded as JSON-LD and RDF/XML
    assert dataset.format_for(tmp_path / "package.json") == "jsonld"
    assert dataset.format_for(tmp_path / "pom.xml") == "rdfxml"


def test_data_paths_keep_their_order_and_fill_one_store(tmp_path: Path):
    a = tmp_path / "a.ttl"
    a.write_text("<http://e/a> <http://e/p> 1 .\n", encoding="utf-8")
    loaded = load(FORMATS / "graph.ttl", a)
    assert [s.path for s in loaded.sources] == [FORMATS / "graph.ttl", a]
    assert len(loaded) == 8


def test_named_graphs_are_kept(tmp_path: Path):
    f = tmp_path / "g.trig"
    f.write_text("<http://e/g> { <http://e/a> <http://e/p> <http://e/o> . }\n", encoding="utf-8")
    (quad,) = list(load(f).store)
    assert quad.graph_name == ox.NamedNode("http://e/g")


def test_empty_folder_and_missing_path(tmp_path: Path):
    with pytest.raises(InputError, match="folder holds no RDF file") as err:
        load(tmp_path)
    assert err.value.path == str(tmp_path)
    with pytest.raises(InputError, match="no such file or folder") as err:
        load(tmp_path / "missing.ttl")
    assert err.value.path == str(tmp_path / "missing.ttl")


def test_a_folder_where_a_file_is_expected(tmp_path: Path):
    folder = tmp_path / "looks-like-a-file.ttl"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder, expected a file") as err:
        dataset.parse_file(folder)
    assert err.value.path == str(folder)
    with pytest.raises(InputError, match="is a folder"):
        dataset.load_file(ox.Store(), folder)


def test_remote_jsonld_context_is_refused_without_fetching(tmp_path: Path):
    f = tmp_path / "remote.jsonld"
    f.write_text('{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "http://e/a"}')
    with pytest.raises(InputError, match="remote @context") as err:
        load(f)
    assert err.value.path == str(f)


def test_failed_file_adds_nothing_to_the_store():
    store = ox.Store()
    with pytest.raises(InputError):
        dataset.load_file(store, BAD / "missing-dot.nt")  # the first line alone is valid
    assert len(store) == 0


def test_parse_file_returns_quads_in_document_order():
    quads = dataset.parse_file(FORMATS / "graph.nt")
    assert len(quads) == 7
    assert quads[0].subject == ox.NamedNode("https://example.org/id/alpha")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_corpus_names_file_line_column(name: str):
    path = BAD / name
    with pytest.raises(InputError) as err:
        load(path)
    assert (err.value.path, err.value.line, err.value.column) == (str(path), *EXPECTED[name])
    assert "\n" not in err.value.message
    assert all(c.isprintable() for c in err.value.message)


def test_bad_input_corpus_covers_every_file():
    assert sorted(p.name for p in BAD.iterdir() if p.name != "expected.json") == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_bad_input_is_exit_2_with_location(name: str):
    path = BAD / name
    r = CliRunner().invoke(app, ["query", "ASK {}", "--data", str(path)])
    assert r.exit_code == 2
    line, column = EXPECTED[name]
    assert r.stderr.startswith(f"cica-ld: error: {path}:{line}:{column}: ")
    assert r.stderr.count("\n") == 1  # one line, no traceback
    assert r.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["query", "ASK {}", "--data", "{tmp}/missing.ttl"],  # missing file
        ["query", "ASK {}", "--data", "{tmp}/empty"],  # a folder with no RDF file
        ["query", "{tmp}/empty"],  # a folder where a query file is expected
        ["query", "ASK {}", "-o", "{tmp}/empty"],  # a folder where an output file is expected
    ],
)
def test_cli_missing_file_and_folder_instead_of_file_are_exit_2(tmp_path: Path, args):
    (tmp_path / "empty").mkdir()
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2
    assert str(tmp_path) in r.stderr
    assert "Traceback" not in r.stderr


def test_default_dataset_loads():
    """Smoke test: the embedded vocabulary and data (still growing) load without error."""
    loaded = dataset.load()
    files = dataset.bundled_files("ontology") + dataset.bundled_files("data")
    assert [s.path for s in loaded.sources] == files
    assert files and len(loaded) > 0
    assert dataset.default_files() == files
