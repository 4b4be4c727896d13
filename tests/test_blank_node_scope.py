"""RDF merge semantics: a blank-node label is local to its file.

`_:b1` in two files names two different nodes, whichever path loads them: the query loader,
the validator's loader (quad formats included) and the streamed Graph Store upload.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from cica_ld import dataset, graphstore, validation

FILES = {
    "ttl": ('@prefix ex: <http://example.org/> .\n_:b1 ex:p "{v}" .\n'),
    "nt": ('_:b1 <http://example.org/p> "{v}" .\n'),
    "nq": ('_:b1 <http://example.org/p> "{v}" <http://example.org/g> .\n'),
    "trig": ('@prefix ex: <http://example.org/> .\nex:g {{ _:b1 ex:p "{v}" . }}\n'),
}


def _write_pair(tmp_path: Path, ext: str) -> list[Path]:
    paths = []
    for name, value in (("a", "one"), ("b", "two")):
        p = tmp_path / f"{name}.{ext}"
        p.write_text(FILES[ext].format(v=value), encoding="utf-8")
        paths.append(p)
    return paths


def _subjects(quads: object) -> set[object]:
    return {q.subject for q in quads}  # type: ignore[attr-defined]


@pytest.mark.parametrize("ext", sorted(FILES))
def test_query_loader_keeps_labels_apart(tmp_path: Path, ext: str) -> None:
    ds = dataset.load(_write_pair(tmp_path, ext), include_ontology=False)
    assert len(_subjects(ds.store)) == 2


@pytest.mark.parametrize("ext", sorted(FILES))
def test_validator_loader_keeps_labels_apart(tmp_path: Path, ext: str) -> None:
    graph = validation.load_graph(_write_pair(tmp_path, ext))
    assert len(_subjects(graph.store)) == 2


@pytest.mark.parametrize("ext", sorted(FILES))
def test_graph_store_upload_keeps_labels_apart(tmp_path: Path, ext: str) -> None:
    files = graphstore.check_files([(p, dataset.format_for(p)) for p in _write_pair(tmp_path, ext)])
    body = b"".join(graphstore._serialize(c) for c in graphstore.chunks(files))
    triples = list(pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert len(triples) == 2
    assert len(_subjects(triples)) == 2
