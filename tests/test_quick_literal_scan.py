"""The fast check that a file's literals are all kept by the store
(:func:`cica_ld.lexical.keeps_every_literal`): whenever it says so, the thorough scan (parse
every triple, ask a scratch store) agrees, and loading gives the same store either way."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph
import pytest

from cica_ld import dataset
from cica_ld.lexical import keeps_every_literal, literals_of, store_forms

PREFIXES = (
    "@prefix ex: <http://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
)


def _thorough_keeps(text: str, fmt: str) -> bool:
    media = dataset.MEDIA_TYPES[fmt]
    quads = list(
        pyoxigraph.parse(text.encode(), format=pyoxigraph.RdfFormat.from_media_type(media))
    )
    return not store_forms(literals_of(quads))


# (body, whether the store keeps every literal): each a way a literal is written
TURTLE_CASES = [
    ('ex:a ex:p "2001-02-03"^^xsd:date ; ex:q "6"^^xsd:decimal .', True),
    ('ex:a ex:p "a title"@en , "plain" ; ex:n "Summit 12" .', True),
    ("ex:a ex:p 42 , -7 , 1.5 , 1.0E3 , true .", None),  # what pyoxigraph says
    ("ex:a ex:p 007 .", False),
    ("ex:a ex:p +5 .", False),
    ("ex:a ex:p 1.50 .", False),
    ("ex:a ex:p (1 2 007) .", False),
    ('ex:a ex:p "x",007 .', False),
    ('ex:a ex:p "007"^^xsd:integer .', False),
    ("ex:a ex:p '007'^^xsd:integer .", False),
    ('ex:a ex:p "5"^^<http://www.w3.org/2001/XMLSchema#int> .', False),
    ('ex:a ex:p "1"^^xsd:boolean .', False),
    ('ex:a ex:p """007"""^^xsd:integer .', False),  # a long literal: not read here
    ('ex:a ex:p "0\\u00307"^^xsd:integer .', False),  # an escape: not read here
    ('ex:a ex:p "say \\"7\\"^^xsd:int" .', False),  # ^^ in a string: not placed
    ('ex:a ex:p "7"^^ex:code , "7"^^xsd:string .', True),  # kept
    # text in a string that would be a changed number if bare: the thorough scan decides
    ('ex:a ex:p "007"^^ex:code .', False),
    ('ex:a ex:p "code 007" .', False),
    ('ex:a ex:p "x" . # a comment "007"^^xsd:integer\n', False),
    ('ex:a ex:p "007"^^xsd:integer.', False),
]


@pytest.mark.parametrize(("body", "expected"), TURTLE_CASES)
def test_turtle(body: str, expected: bool | None) -> None:
    text = PREFIXES + body + "\n"
    fast = keeps_every_literal(text.encode(), "turtle")
    thorough = _thorough_keeps(text, "turtle")
    if fast:  # never wrong when it says the store keeps everything
        assert thorough
    if expected is not None:
        assert fast is expected
    else:
        assert fast is thorough


def test_prefix_declared_twice_or_a_base_is_left_to_the_thorough_scan() -> None:
    body = 'ex:a ex:p "2001-02-03"^^xsd:date .\n'
    again = PREFIXES + "@prefix xsd: <http://example.org/other#> .\n" + body
    assert not keeps_every_literal(again.encode(), "turtle")
    based = "@base <http://example.org/> .\n" + PREFIXES + body
    assert not keeps_every_literal(based.encode(), "turtle")
    sparql = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\nPREFIX ex: <http://example.org/>\n"
    assert keeps_every_literal((sparql + body).encode(), "turtle")


def test_ntriples_and_formats_not_read() -> None:
    good = '<http://e/a> <http://e/p> "12"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    bad = good.replace('"12"', '"012"')
    assert keeps_every_literal(good.encode(), "ntriples")
    assert not keeps_every_literal(bad.encode(), "ntriples")
    assert not keeps_every_literal(good.encode(), "rdfxml")  # always the thorough way
    assert not keeps_every_literal(good.encode(), "jsonld")


def test_long_file_read_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-canonical literal after the first piece is found."""
    from cica_ld import lexical

    monkeypatch.setattr(lexical, "_CHUNK", 64)
    lines = [f'ex:s{i} ex:p "{2000 + i}-01-01"^^xsd:date .' for i in range(50)]
    text = PREFIXES + "\n".join(lines) + "\n"
    assert keeps_every_literal(text.encode(), "turtle")
    assert not keeps_every_literal((text + "ex:z ex:p 007 .\n").encode(), "turtle")
    # the same read from a file, piece by piece (each cut after a line end)
    assert keeps_every_literal(io.BytesIO(text.encode()), "turtle")
    assert not keeps_every_literal(io.BytesIO((text + "ex:z ex:p 007 .\n").encode()), "turtle")
    pieces = list(lexical._chunks(io.BytesIO(text.encode())))
    assert len(pieces) > 1 and all(piece.endswith(b"\n") for piece in pieces)
    assert b"".join(pieces) == text.encode()


# run in a child process: a SIGBUS would end the test run itself, as it once did in CI
_SHRINK_WHILE_SCANNED = """
import os, sys, threading, time
from pathlib import Path
from cica_ld.dataset import _quick_scan
path = Path(sys.argv[1])
xsd = b"http://www.w3.org/2001/XMLSchema#"
line = b'<http://example.org/s> <http://example.org/p> "12"^^<' + xsd + b'integer> .\\n'
path.write_bytes(line * 400_000)
scan = threading.Thread(target=_quick_scan, args=(path, "ntriples"))
scan.start()
time.sleep(0.02)
os.truncate(path, 0)
scan.join()
print("scanned")
"""


def test_a_file_shrinking_while_scanned_does_not_kill_the_process(tmp_path: Path) -> None:
    """The scan reads the file (it once mapped it: a file truncated meanwhile, by a test
    rewriting it after a failed load left the scan running, was a Bus error)."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _SHRINK_WHILE_SCANNED, str(tmp_path / "big.nt")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    assert run.stdout.strip() == "scanned"


@pytest.mark.parametrize("canonical", [True, False])
def test_load_is_the_same_with_the_fast_scan(tmp_path: Path, canonical: bool) -> None:
    """Loading for validation (exact literals) gives the thorough path's store: surrogates
    only where the store would change a literal."""
    value = "7" if canonical else "007"
    path = tmp_path / "data.ttl"
    path.write_text(PREFIXES + f'ex:a ex:p {value} ; ex:d "2001-02-03"^^xsd:date .\n')
    store = pyoxigraph.Store()
    outcome = dataset.load_files(store, [(path, "turtle", None)], literals="exact")
    assert outcome.as_written == (0 if canonical else 1)
    objects = {str(q.object) for q in store}
    if canonical:
        assert '"7"^^<http://www.w3.org/2001/XMLSchema#integer>' in objects
    else:
        assert '"007"^^<urn:x-cica-ld:as-written:http://www.w3.org/2001/XMLSchema#integer>' in (
            objects
        )


def test_a_failed_load_stops_the_scan_of_the_files_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the loader fails on a file, the scan thread (left running, not waited for) reads
    no further file: it is not left reading files the caller may already be rewriting."""
    import threading

    from cica_ld.errors import InputError

    broken, after = tmp_path / "broken.ttl", tmp_path / "after.ttl"
    broken.write_text(PREFIXES + "ex:a ex:p .\n")  # no object: a syntax error
    after.write_text(PREFIXES + "ex:a ex:p 1 .\n")
    scanned: list[str] = []
    release = threading.Event()

    def held_scan(path: Path, fmt: str) -> dataset._Scan:
        scanned.append(path.name)
        if path == broken:
            release.wait(10)  # until the loader has failed on it
        return dataset._Scan(quick=True)

    monkeypatch.setattr(dataset, "_quick_scan", held_scan)
    store = pyoxigraph.Store()
    with pytest.raises(InputError):
        dataset.load_files(store, [(broken, "turtle", None), (after, "turtle", None)])
    release.set()
    for thread in threading.enumerate():
        if thread.name == "literal-scan":
            thread.join(10)
    assert scanned == ["broken.ttl"]
