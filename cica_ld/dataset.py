"""Finding and loading RDF: the bundled CICA ontology/data/shapes, or the user's own files.

Everything is loaded into an embedded, in-memory pyoxigraph ``Store``. Files are parsed with
pyoxigraph (fast, and its syntax errors carry line and column); the parsed quads are kept in
document order so that other modules (e.g. source locations in validation reports) can relate a
term back to the file it came from.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cica_ld.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

#: File extension -> format name (the names accepted by ``--input-format``).
EXTENSIONS: dict[str, str] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "ntriples",
    ".ntriples": "ntriples",
    ".nq": "nquads",
    ".nquads": "nquads",
    ".trig": "trig",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
    ".xml": "rdfxml",
    ".jsonld": "jsonld",
    ".json": "jsonld",
    ".n3": "n3",
}

#: Format name -> media type (what pyoxigraph and HTTP use).
MEDIA_TYPES: dict[str, str] = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "nquads": "application/n-quads",
    "trig": "application/trig",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "n3": "text/n3",
}

INPUT_FORMATS: tuple[str, ...] = tuple(MEDIA_TYPES)
#: Formats whose parse keeps named graphs.
QUAD_FORMATS = frozenset({"nquads", "trig", "jsonld"})

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(kind: str) -> Path:
    """The folder of a bundled resource kind: ``ontology``, ``data`` or ``shapes``.

    In an installed wheel they live in ``cica_ld/_bundled/<kind>``; in a source checkout (and an
    editable install) at the repository root.
    """
    if kind not in ("ontology", "data", "shapes"):
        raise ValueError(f"unknown bundled resource kind {kind!r}")
    inside = _PACKAGE_DIR / "_bundled" / kind
    if inside.is_dir():
        return inside
    return _PACKAGE_DIR.parent / kind


def bundled_files(kind: str) -> list[Path]:
    """All RDF files of a bundled resource kind, sorted."""
    return expand_paths([bundled_dir(kind)])


def format_for(path: Path, input_format: str | None = None) -> str:
    """The RDF format of ``path``: ``input_format`` if given, else from the extension."""
    if input_format is not None:
        if input_format not in MEDIA_TYPES:
            raise InputError(
                f"unknown input format {input_format!r}",
                hint=f"use --input-format with one of: {', '.join(INPUT_FORMATS)}",
            )
        return input_format
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the RDF format from the extension {path.suffix or '(none)'!r}",
            path=path,
            hint=f"name the format with --input-format ({', '.join(INPUT_FORMATS)})",
        )
    return fmt


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, with each folder replaced by the RDF files below it (sorted, recursive).

    Raises :class:`InputError` for a path that does not exist or a folder with no RDF file.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in EXTENSIONS
            )
            if not found:
                raise InputError(
                    f"folder holds no RDF file ({', '.join(sorted(EXTENSIONS))})",
                    path=p,
                )
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise InputError("no such file or folder", path=p)
    return out


@dataclass(frozen=True)
class SourceFile:
    """One loaded file: where it is, its format and how many quads it held."""

    path: Path
    format: str
    quads: int


@dataclass
class LoadedDataset:
    """An in-memory pyoxigraph store plus what was loaded into it, in order."""

    store: pyoxigraph.Store
    sources: list[SourceFile] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.store)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _utf8_error(data: bytes) -> tuple[int, int, str] | None:
    """(line, column, message) of the first invalid UTF-8 byte, or None if ``data`` is UTF-8."""
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return line, col, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})"
    return None


def parse_file(
    path: str | Path, input_format: str | None = None, *, base_iri: str | None = None
) -> list[pyoxigraph.Quad]:
    """Parse one RDF file into a list of quads, in document order.

    Every failure (missing file, a folder, invalid UTF-8, a syntax error) raises
    :class:`InputError` with the file, and line and column where the parser gives them.
    """
    import pyoxigraph

    p = Path(path)
    fmt = format_for(p, input_format)
    data = _read_bytes(p)
    if fmt != "rdfxml":  # RDF/XML may declare another encoding; the others are UTF-8 only
        bad = _utf8_error(data)
        if bad is not None:
            raise InputError(bad[2], path=p, line=bad[0], column=bad[1])
    base = base_iri or p.resolve().as_uri()
    try:
        return list(
            pyoxigraph.parse(
                data, format=pyoxigraph.RdfFormat.from_media_type(MEDIA_TYPES[fmt]), base_iri=base
            )
        )
    except SyntaxError as exc:
        raise InputError(
            f"{fmt} syntax error: {_clean_message(exc.msg or str(exc))}",
            path=p,
            line=exc.lineno,
            column=exc.offset,
        ) from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{fmt} error: {_clean_message(str(exc))}", path=p) from None


def _clean_message(msg: str) -> str:
    return " ".join(msg.split())


def load(
    paths: Sequence[str | Path] | None = None,
    *,
    input_format: str | None = None,
    include_ontology: bool = True,
    ontology: Sequence[str | Path] | None = None,
) -> LoadedDataset:
    """Load RDF files into a new in-memory store.

    ``paths`` are files or folders (a folder means all RDF files below it, sorted); ``None``
    means the bundled CICA data. The vocabulary (the bundled ontology, or ``ontology`` if given)
    is loaded too unless ``include_ontology`` is false. Triples go to the default graph; quads
    from N-Quads/TriG/JSON-LD keep their named graphs.
    """
    import pyoxigraph

    # (file, explicit format or None): --input-format applies to the user's data files only
    files: list[tuple[Path, str | None]] = []
    if include_ontology:
        onto = expand_paths(ontology) if ontology is not None else bundled_files("ontology")
        files += [(f, None) for f in onto]
    if paths is not None:
        files += [(f, input_format) for f in expand_paths(paths)]
    else:
        files += [(f, None) for f in bundled_files("data")]
    store = pyoxigraph.Store()
    loaded = LoadedDataset(store=store)
    for f, explicit in files:
        fmt = format_for(f, explicit)
        quads = parse_file(f, fmt)
        store.extend(quads)
        loaded.sources.append(SourceFile(path=f, format=fmt, quads=len(quads)))
    return loaded
