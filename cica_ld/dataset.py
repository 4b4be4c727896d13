"""Finding and loading RDF: the bundled CICA ontology/data/shapes, or the user's own files.

Everything is loaded into an embedded, in-memory pyoxigraph ``Store``. Files are parsed by
pyoxigraph (fast, and its syntax errors carry line and column). Every failure is an
:class:`~cica_ld.errors.InputError` naming the file, and the line and column where there is one:
``data/members.ttl:12:5: turtle syntax error: The prefix foo: has not been declared``.

Formats: Turtle, N-Triples, N-Quads, TriG, RDF/XML, JSON-LD (and N3), chosen by the file
extension or forced with ``input_format`` (``--input-format``). A folder means every RDF file
below it, sorted by path; hidden files and folders are skipped, and so are ``.json`` and ``.xml``
files, whose extension does not say they are RDF (name such a file directly to load it).
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from cica_ld.errors import InputError
from cica_ld.interrupt import call_interruptibly

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

    from cica_ld.lexical import Lexicon
    from cica_ld.progress import Progress

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
    ".json-ld": "jsonld",
    ".json": "jsonld",
    ".n3": "n3",
}

#: Extensions loaded when named directly but not picked up when scanning a folder: they are
#: used by too many non-RDF files (package.json, pom.xml, ...).
AMBIGUOUS_EXTENSIONS = frozenset({".json", ".xml"})

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

#: What people type for an RDF format -> its name: the one alias table, used wherever a format
#: name is taken (``--input-format``, ``export --format``, ``query --format`` for graphs). Names
#: are matched case-insensitively; a format's media type is accepted too.
FORMAT_ALIASES: dict[str, str] = {
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "n_triples": "ntriples",
    "nq": "nquads",
    "n-quads": "nquads",
    "n_quads": "nquads",
    "json-ld": "jsonld",
    "json_ld": "jsonld",
    "json": "jsonld",
    "rdf/xml": "rdfxml",
    "rdf-xml": "rdfxml",
    "rdf_xml": "rdfxml",
    "rdf": "rdfxml",
    "xml": "rdfxml",
    "owl": "rdfxml",
    "notation3": "n3",
    **{media: name for name, media in MEDIA_TYPES.items()},
}


def format_name(name: str) -> str:
    """The format ``name`` stands for: a format name, an alias (``ttl``, ``nt``, ``nq``,
    ``json-ld``, ``rdf/xml``, ...) or a media type, in any case. A name that is none of these
    comes back as given, for the caller to refuse with its own message."""
    key = name.strip().lower()
    return key if key in MEDIA_TYPES else FORMAT_ALIASES.get(key, name)


#: Formats whose parse keeps named graphs.
QUAD_FORMATS = frozenset({"nquads", "trig", "jsonld"})

_PACKAGE_DIR = Path(__file__).resolve().parent

# pyoxigraph's messages start with the location we report separately
_LOCATION_PREFIX = re.compile(
    r"^Parser error (?:at line \d+ (?:column \d+|between columns \d+ and \d+)"
    r"|between line \d+ column \d+ and line \d+ column \d+):\s*"
)


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


#: Bundled files that are not RDF data: the JSON-LD context beside the vocabulary.
_NOT_DATA = frozenset({"context.jsonld"})


def bundled_files(kind: str) -> list[Path]:
    """All RDF files of a bundled resource kind, sorted (empty if there are none yet); the
    JSON-LD context (no triples) is not one of them."""
    folder = bundled_dir(kind)
    files = _scan_folder(folder) if folder.is_dir() else []
    return [f for f in files if f.name not in _NOT_DATA]


def format_for(path: Path, input_format: str | None = None) -> str:
    """The RDF format of ``path``: ``input_format`` if given, else from the extension."""
    if input_format is not None:
        fmt = format_name(input_format)
        if fmt not in MEDIA_TYPES:
            raise InputError(
                f"unknown input format {input_format!r}",
                hint=f"use --input-format with one of: {', '.join(INPUT_FORMATS)}",
            )
        return fmt
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the RDF format from the extension {path.suffix or '(none)'!r}",
            path=path,
            hint=f"name the format with --input-format ({', '.join(INPUT_FORMATS)})",
        )
    return fmt


def _scan_folder(folder: Path) -> list[Path]:
    """RDF files below ``folder`` (recursive, sorted), skipping hidden and ambiguous files."""
    found = []
    for f in folder.rglob("*"):
        rel = f.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):
            continue
        suffix = f.suffix.lower()
        if suffix in EXTENSIONS and suffix not in AMBIGUOUS_EXTENSIONS and f.is_file():
            found.append(f)
    return sorted(found)


def _exists(p: Path) -> bool:
    try:
        return p.exists()
    except (OSError, ValueError):  # e.g. an embedded NUL byte, a name too long
        return False


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, with each folder replaced by the RDF files below it (sorted, recursive).

    Raises :class:`InputError` for a path that does not exist or a folder with no RDF file.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not _exists(p):
            raise InputError("no such file or folder", path=p)
        if p.is_dir():
            found = _scan_folder(p)
            if not found:
                exts = sorted(set(EXTENSIONS) - AMBIGUOUS_EXTENSIONS)
                raise InputError(
                    f"folder holds no RDF file ({', '.join(exts)})",
                    path=p,
                    hint="name a .json or .xml file directly to load it",
                )
            out.extend(found)
        else:
            out.append(p)
    return out


@dataclass(frozen=True)
class SourceFile:
    """One loaded file: where it is, its format and how many new quads it added."""

    path: Path
    format: str
    quads: int


#: How literals the store would change are kept (see :mod:`cica_ld.lexical`).
LITERAL_MODES = ("exact", "values")


@dataclass
class LoadedDataset:
    """An in-memory pyoxigraph store plus what was loaded into it, in order.

    ``as_written`` is the number of distinct literals kept as surrogates (``exact`` mode: decode
    the store's terms with :func:`cica_ld.lexical.decode`); ``lexicon`` maps the store's values
    back to the literals as written (``values`` mode; empty when nothing was changed).
    """

    store: pyoxigraph.Store
    sources: list[SourceFile] = field(default_factory=list)
    literals: str = "exact"
    as_written: int = 0
    lexicon: Lexicon | None = None

    def __len__(self) -> int:
        return len(self.store)

    def restorer(self) -> Callable[[Any], Any] | None:
        """The function giving a term of the store (or of a query answer) back as the input
        wrote it, or None when the store holds every term as written."""
        if self.as_written:
            from cica_ld.lexical import decode

            return decode
        if self.lexicon:
            return self.lexicon.restore
        return None

    def quads(self) -> Iterator[pyoxigraph.Quad]:
        """Every quad of the store with its terms as written."""
        from cica_ld.lexical import decode_quads

        quads = self.store.quads_for_pattern(None, None, None, None)
        return decode_quads(quads) if self.as_written else iter(quads)


def _open(path: Path) -> BinaryIO:
    """``path`` opened for reading, past a UTF-8 byte order mark if it starts with one."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
        skip_bom(fh)
        return fh
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot read: {reason}", path=path) from None


_BOM = b"\xef\xbb\xbf"


def skip_bom(fh: BinaryIO) -> bool:
    """Move ``fh`` past a UTF-8 byte order mark at its start; True if there was one.

    Only a regular (seekable) file is looked at; a pipe is left untouched. Line numbers are
    unchanged and columns on the first line count from after the mark, as editors show them.
    """
    try:
        if not fh.seekable():
            return False
        if fh.read(3) == _BOM:
            return True
        fh.seek(0)
    except OSError:  # reported when the file is read
        pass
    return False


def check_bounds(path: Path, fmt: str) -> None:
    """Refuse, before parsing, a file whose parse would cost far more than its size: RDF/XML
    entities that expand past the limits (:func:`cica_ld.limits.check_xml_entities`). JSON-LD
    nesting is checked where the document is read (:func:`cica_ld.jsonld.resolve_contexts`)."""
    if fmt == "rdfxml":
        from cica_ld.limits import check_xml_entities

        check_xml_entities(path)


def _rdf_format(fmt: str) -> pyoxigraph.RdfFormat:
    import pyoxigraph

    return pyoxigraph.RdfFormat.from_media_type(MEDIA_TYPES[fmt])


def _syntax_error(exc: SyntaxError, path: Path, fmt: str) -> InputError:
    """An :class:`InputError` at the file, line and column of a pyoxigraph parse error."""
    message = _clean_message(exc.msg or str(exc))
    line, column = exc.lineno, exc.offset
    if line is None and fmt == "rdfxml":
        where = _xml_error_location(path)
        if where is not None:
            line, column = where
    if "LoadDocumentCallback" in message:
        return InputError(
            "jsonld error: the document needs a remote @context, and nothing is fetched",
            path=path,
            hint="inline the context in the file",
        )
    return InputError(f"{fmt} syntax error: {message}", path=path, line=line, column=column)


def _xml_error_location(path: Path) -> tuple[int, int] | None:
    """Line and column (1-based) of the first XML well-formedness error, if there is one."""
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate()
    try:
        with open(path, "rb") as fh:
            skip_bom(fh)  # columns as pyoxigraph counts them, from after the mark
            parser.ParseFile(fh)
    except xml.parsers.expat.ExpatError as exc:
        return exc.lineno, exc.offset + 1
    except (OSError, ValueError):
        return None
    return None


def _jsonld_source(fh: BinaryIO, path: Path, context_map: Mapping[str, Any] | None = None) -> bytes:
    """A JSON-LD file's bytes with bundled remote contexts (the project's) and those of
    ``context_map`` (URL -> context document, ``--context-map``) inlined; any other remote
    context is an :class:`InputError` naming it (nothing is ever fetched)."""
    from cica_ld.jsonld import resolve_contexts, served_documents

    return resolve_contexts(fh.read(), path, documents=served_documents(context_map))


def parse_file(
    path: str | Path,
    input_format: str | None = None,
    *,
    base_iri: str | None = None,
    rename_blank_nodes: bool = False,
    context_map: Mapping[str, Any] | None = None,
) -> list[pyoxigraph.Quad]:
    """Parse one RDF file into a list of quads, in document order.

    Blank nodes keep their ``_:labels`` unless ``rename_blank_nodes`` is true; merging the
    quads of several files needs fresh ones, or ``_:b1`` of two files would become one node.
    ``context_map`` serves remote JSON-LD contexts from local copies (:func:`_jsonld_source`).

    Every failure (missing file, a folder, invalid UTF-8, a syntax error) raises
    :class:`InputError` with the file, and line and column where the parser gives them.
    """
    import pyoxigraph

    p = Path(path)
    fmt = format_for(p, input_format)
    base = base_iri or p.resolve().as_uri()
    with _open(p) as fh:
        check_bounds(p, fmt)
        source = _jsonld_source(fh, p, context_map) if fmt == "jsonld" else fh
        try:
            return list(
                pyoxigraph.parse(
                    source,
                    format=_rdf_format(fmt),
                    base_iri=base,
                    rename_blank_nodes=rename_blank_nodes,
                )
            )
        except SyntaxError as exc:
            raise _syntax_error(exc, p, fmt) from None
        except (ValueError, OSError) as exc:
            raise InputError(f"{fmt} error: {_clean_message(str(exc))}", path=p) from None
        except MemoryError as exc:
            raise too_big(exc, p, fmt) from None


def load_file(
    store: pyoxigraph.Store,
    path: str | Path,
    input_format: str | None = None,
    *,
    base_iri: str | None = None,
    context_map: Mapping[str, Any] | None = None,
) -> SourceFile:
    """Load one RDF file into ``store`` (all or nothing); errors and ``context_map`` as in
    :func:`parse_file`."""
    p = Path(path)
    fmt = format_for(p, input_format)
    base = base_iri or p.resolve().as_uri()
    before = len(store)
    with _open(p) as fh:
        check_bounds(p, fmt)
        try:
            if fmt == "jsonld":
                source: dict[str, Any] = {"input": _jsonld_source(fh, p, context_map)}
            else:
                # by path: pyoxigraph reads the file itself, faster, and without holding the GIL
                # (other threads run meanwhile: validation reads the file's layout at the time);
                # after a byte order mark (which _open skipped), from the open file
                source = {"input": fh} if fh.tell() else {"path": str(p)}
            call_interruptibly(store.load, **source, format=_rdf_format(fmt), base_iri=base)
        except SyntaxError as exc:
            raise _syntax_error(exc, p, fmt) from None
        except (ValueError, OSError) as exc:
            raise InputError(f"{fmt} error: {_clean_message(str(exc))}", path=p) from None
        except MemoryError as exc:
            raise too_big(exc, p, fmt) from None
    return SourceFile(path=p, format=fmt, quads=len(store) - before)


def too_big(exc: MemoryError, path: Path, fmt: str) -> InputError:
    """The :class:`InputError` for pyoxigraph's parser refusing a term over its fixed 16 MiB
    buffer (a literal or IRI of 16 MiB or more); any other :class:`MemoryError` is raised on."""
    if "buffer maximal size" not in str(exc):
        raise exc
    return InputError(
        f"{fmt} error: a term (literal or IRI) of 16 MiB or more; pyoxigraph's parser reads "
        "no term that long",
        path=path,
        hint="split the value, or keep it in a file of its own and link to it",
    )


def _clean_message(msg: str) -> str:
    """One line, without pyoxigraph's location prefix, control characters escaped."""
    text = _LOCATION_PREFIX.sub("", " ".join(msg.split()))
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def default_files(*, include_ontology: bool = True) -> list[Path]:
    """The files of the embedded dataset: the vocabulary (unless excluded) and the data."""
    files = bundled_files("ontology") if include_ontology else []
    return files + bundled_files("data")


def load(
    paths: Sequence[str | Path] | None = None,
    *,
    input_format: str | None = None,
    include_ontology: bool = True,
    ontology: Sequence[str | Path] | None = None,
    progress: Progress | None = None,
    literals: str = "exact",
    context_map: Mapping[str, Any] | None = None,
) -> LoadedDataset:
    """Load RDF files into a new in-memory store.

    ``paths`` are files or folders (a folder means all RDF files below it, sorted); ``None``
    means the bundled CICA data. The vocabulary (the bundled ontology, or ``ontology`` if given)
    is loaded too unless ``include_ontology`` is false. Triples go to the default graph; quads
    from N-Quads/TriG/JSON-LD keep their named graphs. ``input_format`` applies to the files of
    ``paths`` only. ``progress`` is told which file is being loaded. ``literals`` says how the
    literals the store would change are kept: ``exact`` (surrogates) or ``values`` (the store's
    values and a lexicon), see :mod:`cica_ld.lexical`.
    ``context_map`` (URL -> context document, :func:`cica_ld.jsonld.load_context_map`)
    serves remote JSON-LD contexts from local copies.
    """
    import pyoxigraph

    # (file, explicit format or None): --input-format applies to the user's data files only
    files: list[tuple[Path, str | None]] = []
    if include_ontology:
        onto = expand_paths(ontology) if ontology is not None else bundled_files("ontology")
        files += [(f, None) for f in onto]
    if paths is not None:
        if input_format is not None:
            format_for(Path("-"), input_format)  # an unknown format fails before any file
        files += [(f, input_format) for f in expand_paths(paths)]
    else:
        files += [(f, None) for f in bundled_files("data")]
    store = pyoxigraph.Store()
    specs = [(f, format_for(f, explicit), None) for f, explicit in files]
    outcome = load_files(
        store, specs, literals=literals, progress=progress, context_map=context_map
    )
    return LoadedDataset(
        store=store,
        sources=outcome.sources,
        literals=literals,
        as_written=outcome.as_written,
        lexicon=outcome.lexicon,
    )


@dataclass
class FilesLoaded:
    """What :func:`load_files` did: the files, and how literals were kept."""

    sources: list[SourceFile]
    as_written: int = 0
    lexicon: Lexicon | None = None


@dataclass
class _Scan:
    """The literals of one file that the store would change (written -> stored)."""

    changed: dict[pyoxigraph.Literal, pyoxigraph.Literal] = field(default_factory=dict)
    #: every distinct literal of the file (kept only while loading)
    seen: set[pyoxigraph.Literal] = field(default_factory=set, repr=False)
    #: found from the bytes (:func:`_quick_scan`): nothing changed, ``seen`` not read
    quick: bool = False


def _quick_scan(path: Path, fmt: str) -> _Scan | None:
    """The scan of a file whose literals the store keeps as written, found from its bytes
    (:func:`cica_ld.lexical.keeps_every_literal`, no parse); None when that cannot be told
    this way (the file is then parsed: :func:`_scan_literals`)."""
    from cica_ld.lexical import keeps_every_literal

    if fmt not in ("turtle", "trig", "ntriples", "nquads"):
        return None
    try:
        # read in pieces, never mapped: a mapped file truncated meanwhile is a SIGBUS
        with open(path, "rb") as fh:
            if not fh.seekable() or path.stat().st_size == 0:
                return None
            return _Scan(quick=True) if keeps_every_literal(fh, fmt) else None
    except (OSError, ValueError):  # the loader reports the file's error
        return None


def _scan_literals(quads: Iterable[pyoxigraph.Quad]) -> _Scan:
    from cica_ld.lexical import literals_of, store_forms

    seen = literals_of(quads)
    changed = store_forms(seen)
    return _Scan(changed, seen)


def _file_quads(
    path: Path, fmt: str, base: str, context_map: Mapping[str, Any] | None = None
) -> Iterator[pyoxigraph.Quad]:
    """The quads of a file as written (blank nodes renamed), parsed lazily; errors are the
    loader's own :class:`InputError`."""
    import pyoxigraph

    if fmt == "jsonld":
        yield from parse_file(
            path, fmt, base_iri=base, rename_blank_nodes=True, context_map=context_map
        )
        return
    try:
        with _open(path) as fh:
            check_bounds(path, fmt)
            # by path (faster) unless _open skipped a byte order mark
            source: dict[str, Any] = {"input": fh} if fh.tell() else {"path": str(path)}
            yield from pyoxigraph.parse(
                **source, format=_rdf_format(fmt), base_iri=base, rename_blank_nodes=True
            )
    except SyntaxError as exc:
        raise _syntax_error(exc, path, fmt) from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{fmt} error: {_clean_message(str(exc))}", path=path) from None
    except MemoryError as exc:
        raise too_big(exc, path, fmt) from None


def load_files(
    store: pyoxigraph.Store,
    files: Sequence[tuple[Path, str, str | None]],
    *,
    literals: str = "exact",
    merge_graphs: bool = False,
    progress: Progress | None = None,
    context_map: Mapping[str, Any] | None = None,
) -> FilesLoaded:
    """Load ``files`` (path, format, base IRI or None for the file's own) into ``store``, in
    order, keeping their literals as ``literals`` says (:data:`LITERAL_MODES`).

    The fast path stays: each file is loaded by pyoxigraph (by path, without the GIL) while a
    thread reads the same files for literals the store would change. Only when there are such
    literals does ``exact`` mode load again, putting surrogates in their place (the files
    without any by path again). ``merge_graphs`` puts every quad in the default graph;
    ``context_map`` serves remote JSON-LD contexts (:func:`load`).
    """
    import pyoxigraph

    from cica_ld.lexical import Lexicon, encode_quads

    if literals not in LITERAL_MODES:
        raise ValueError(f"unknown literal mode {literals!r}")
    specs = [(p, fmt, base or p.resolve().as_uri()) for p, fmt, base in files]
    scans: list[_Scan | None] = [None] * len(specs)

    stop = threading.Event()  # set when the loader fails: the scan ends after its file

    def scan_all() -> None:
        for i, (p, fmt, base) in enumerate(specs):
            if stop.is_set():
                return
            try:
                scans[i] = _quick_scan(p, fmt) or _scan_literals(
                    _file_quads(p, fmt, base, context_map)
                )
            except Exception:  # the loader reports the file's error
                return

    # garbage made so far is collected here: pyoxigraph's query iterators must not be dropped
    # by the collector running in the scanning thread (they belong to this one)
    gc.collect()
    scanner = threading.Thread(target=scan_all, name="literal-scan", daemon=True)
    scanner.start()
    sources: list[SourceFile] = []
    try:  # an error or Ctrl-C leaves the (daemon) scan unwaited for, told to stop
        for p, fmt, base in specs:
            if progress is not None:
                progress.stage(loading_stage(p))
            sources.append(
                _load_one(store, p, fmt, base, merge_graphs=merge_graphs, context_map=context_map)
            )
    except BaseException:
        stop.set()
        raise
    scanner.join()
    for i, (p, fmt, base) in enumerate(specs):
        if scans[i] is None:  # the thread stopped at an error the loader did not meet: again
            scans[i] = _scan_literals(_file_quads(p, fmt, base, context_map))
    changed = [s.changed if s is not None else {} for s in scans]
    if not any(changed):
        return FilesLoaded(sources)
    for i, (p, fmt, base) in enumerate(specs):
        scan = scans[i]
        if scan is not None and scan.quick:  # its literals are compared with the others': read
            scans[i] = _scan_literals(_file_quads(p, fmt, base, context_map))
    if literals == "values":
        lexicon = Lexicon()
        for scan in scans:
            if scan is not None:
                lexicon.add(scan.changed)
        lexicon.canonical_too = {
            v for v in lexicon.written if any(sc is not None and v in sc.seen for sc in scans)
        }
        return FilesLoaded(sources, lexicon=lexicon)
    kept = set().union(*(w.keys() for w in changed))
    # exact: where each rewritten value stands for one written form that the data never writes
    # as the value itself, its quads are exactly the ones that held that form: swap them in place
    if _swap_in_place(store, scans, progress):
        return FilesLoaded(sources, as_written=len(kept))
    # else (one value written several ways): load again, the changed literals as surrogates
    store.clear()
    sources = []
    default = pyoxigraph.DefaultGraph()
    for (p, fmt, base), written in zip(specs, changed, strict=True):
        if not written:
            sources.append(
                _load_one(store, p, fmt, base, merge_graphs=merge_graphs, context_map=context_map)
            )
            continue
        if progress is not None:
            progress.stage(f"{loading_stage(p)}, keeping {len(written)} literals as written")
        before = len(store)
        quads: Iterable[pyoxigraph.Quad] = _file_quads(p, fmt, base, context_map)
        if merge_graphs:
            quads = (
                q if q.graph_name == default else pyoxigraph.Quad(q.subject, q.predicate, q.object)
                for q in quads
            )
        store.extend(encode_quads(quads, written))
        sources.append(SourceFile(path=p, format=fmt, quads=len(store) - before))
    return FilesLoaded(sources, as_written=len(kept))


def _swap_in_place(
    store: pyoxigraph.Store, scans: Sequence[_Scan | None], progress: Progress | None
) -> bool:
    """Put surrogates in place of the store's values, if that is exact; False if it is not.

    Exact when every value the store made of a rewritten literal came from that one written
    form only, and no file writes the value itself: then every quad holding the value held that
    form. Much faster than parsing the files again (only the quads concerned are touched).
    """
    import pyoxigraph

    from cica_ld.lexical import encode

    forms: dict[pyoxigraph.Literal, set[pyoxigraph.Literal]] = {}
    for scan in scans:
        if scan is None:
            return False
        for original, value in scan.changed.items():
            forms.setdefault(value, set()).add(original)
    for value, written in forms.items():
        # the value written as itself in any file: its quads cannot be told apart
        if len(written) > 1 or any(scan is not None and value in scan.seen for scan in scans):
            return False
    if progress is not None:
        progress.stage(f"keeping {len(forms)} literals as written")
    for value, (original,) in forms.items():
        surrogate = encode(original)
        quads = list(store.quads_for_pattern(None, None, value, None))
        for q in quads:
            store.remove(q)
        store.extend(
            pyoxigraph.Quad(q.subject, q.predicate, surrogate, q.graph_name) for q in quads
        )
    return True


def _load_one(
    store: pyoxigraph.Store,
    path: Path,
    fmt: str,
    base: str,
    *,
    merge_graphs: bool,
    context_map: Mapping[str, Any] | None = None,
) -> SourceFile:
    """One file into ``store`` as pyoxigraph loads it (graph names dropped if asked)."""
    import pyoxigraph

    if merge_graphs and fmt in QUAD_FORMATS:
        default = pyoxigraph.DefaultGraph()
        quads = parse_file(
            path, fmt, base_iri=base, rename_blank_nodes=True, context_map=context_map
        )
        store.extend(
            q if q.graph_name == default else pyoxigraph.Quad(q.subject, q.predicate, q.object)
            for q in quads
        )
        return SourceFile(path=path, format=fmt, quads=len(quads))
    return load_file(store, path, fmt, base_iri=base, context_map=context_map)


def loading_stage(path: Path) -> str:
    """The progress text of loading a file: its name and size."""
    from cica_ld.progress import file_size

    try:
        return f"loading {path} ({file_size(path.stat().st_size)})"
    except OSError:
        return f"loading {path}"
