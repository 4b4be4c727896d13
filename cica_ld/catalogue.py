"""The named query catalogue: ``cica_ld/queries/*.rq``, described by their own comment headers.

Each ``.rq`` file opens with a comment header; there is no second registry to drift::

    # title: Members on a date
    # description: Member states of the organisation on ?date, with join date,
    #   ISO code and Wikidata entity. (continuation lines are indented after the '#')
    # param: date = today -- the day to ask about (xsd:date)
    # param: org = <https://w3id.org/cica-ld/id/cica> -- the organisation

A ``param`` line is ``NAME [= DEFAULT] [-- description]``. DEFAULT is written as a
``--param`` value would be (see :func:`cica_ld.query.parse_param_value`); the special default
``today`` means the current date as ``xsd:date``. A parameter without a default is required.
The header ends at the first line that is not a comment; other comment lines are ignored.

How parameters are bound: ``cica-ld query`` puts a ``VALUES`` block of RDF terms at the start of
the query's WHERE group (the same locally and on a remote endpoint; a value is never pasted into
the query as text). So use a parameter in the top-level group of the WHERE clause (triple
patterns, FILTER, BIND, OPTIONAL, MINUS, FILTER NOT EXISTS): a nested ``{ ... }`` group or a
subquery does not see it.

The name of a query is its file name without ``.rq``: lower-case letters, digits and hyphens.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from cica_ld.errors import InputError

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_KEY_RE = re.compile(r"^#\s?(title|description|param):\s*(.*)$")
_CONT_RE = re.compile(r"^#\s{2,}(\S.*)$")
_PARAM_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*(.*?))?\s*(?:--\s*(.*))?$")


def is_query_name(text: str) -> bool:
    """Whether ``text`` has the shape of a catalogue name (``members``, ``chair-on``)."""
    return bool(_NAME_RE.match(text))


@dataclass(frozen=True)
class QueryParam:
    """A parameter a named query takes: the variable name, its default (or None) and what it is."""

    name: str
    default: str | None = None
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class NamedQuery:
    """A query from the catalogue: its name (the file stem), header fields and SPARQL text."""

    name: str
    path: Path
    title: str
    description: str
    params: tuple[QueryParam, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return read_query_file(self.path)


def read_query_file(path: Path) -> str:
    """The text of a query file; unreadable files and invalid UTF-8 raise :class:`InputError`."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError("is a folder, expected a .rq query file", path=path) from None
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot read: {reason}", path=path) from None
    return decode_utf8(data, path=path)


def decode_utf8(data: bytes, *, path: str | Path) -> str:
    """``data`` as text, without a UTF-8 byte order mark at its start; invalid UTF-8 raises
    :class:`InputError` at its line and column."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        start = before.rfind(b"\n") + 1
        column = len(data[start : exc.start].decode("utf-8", "replace")) + 1
        raise InputError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x})", path=path, line=line, column=column
        ) from None


def parse_header(text: str, *, name: str = "?", path: Path | None = None) -> dict[str, object]:
    """Read the comment header of a query into ``title``, ``description`` and ``params``.

    A malformed ``param`` line or a parameter declared twice raises :class:`InputError` at its
    line.
    """
    title = ""
    description: list[str] = []
    params: list[QueryParam] = []
    current: str | None = None
    where = path if path is not None else f"<query {name}>"
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.startswith("#"):
            if line.strip() == "" and not (title or description or params):
                continue
            break
        m = _KEY_RE.match(line)
        if m:
            key, value = m.group(1), m.group(2).strip()
            current = key
            if key == "title":
                title = value
            elif key == "description":
                description.append(value)
            else:
                pm = _PARAM_RE.match(value)
                if not pm:
                    raise InputError(
                        f"malformed param line {value!r}",
                        path=where,
                        line=lineno,
                        column=1,
                        hint="write: # param: NAME [= DEFAULT] [-- description]",
                    )
                pname = pm.group(1)
                if any(p.name == pname for p in params):
                    raise InputError(
                        f"parameter {pname!r} declared twice", path=where, line=lineno, column=1
                    )
                default = pm.group(2) if pm.group(2) else None
                params.append(QueryParam(pname, default, (pm.group(3) or "").strip()))
            continue
        cont = _CONT_RE.match(line)
        if cont and current == "description":
            description.append(cont.group(1).strip())
        elif cont and current == "param" and params:
            last = params[-1]
            more = cont.group(1).strip()
            params[-1] = QueryParam(last.name, last.default, f"{last.description} {more}".strip())
        else:
            current = None
    return {"title": title, "description": " ".join(description), "params": params}


def load_named(path: Path) -> NamedQuery:
    """Read one ``.rq`` file of a catalogue folder."""
    header = parse_header(read_query_file(path), name=path.stem, path=path)
    return NamedQuery(
        name=path.stem,
        path=path,
        title=str(header["title"]) or path.stem,
        description=str(header["description"]),
        params=tuple(header["params"]),  # type: ignore[arg-type]
    )


def catalogue(folder: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every named query in ``folder``, by name, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such query catalogue folder", path=folder)
    out: dict[str, NamedQuery] = {}
    for p in sorted(folder.glob("*.rq")):
        if _NAME_RE.match(p.stem):
            out[p.stem] = load_named(p)
    return out


def get(name: str, folder: Path = QUERIES_DIR) -> NamedQuery:
    """The named query ``name``; an unknown name raises :class:`InputError` with close matches."""
    folder = Path(folder)
    path = folder / f"{name}.rq"
    if _NAME_RE.match(name) and _is_file(path):
        return load_named(path)
    cat = catalogue(folder)
    close = difflib.get_close_matches(name, list(cat), n=3, cutoff=0.5)
    hint = f"did you mean: {', '.join(close)}?" if close else "run 'cica-ld queries' for the list"
    raise InputError(f"unknown query name {name!r}", hint=hint)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, an embedded NUL byte
        return False


def render_catalogue(queries: dict[str, NamedQuery]) -> str:
    """The listing ``cica-ld queries`` prints: name and title, description, parameters."""
    if not queries:
        return "(no named queries)\n"
    lines: list[str] = []
    for q in queries.values():
        lines.append(f"{q.name}: {q.title}")
        if q.description:
            lines.extend(_wrap(q.description, "    ", hanging=""))
        for p in q.params:
            default = "required" if p.default is None else f"default {p.default}"
            text = f"--param {p.name}=... ({default})"
            if p.description:
                text += f": {p.description}"
            lines.extend(_wrap(text, "    "))
        lines.append("")
    return "\n".join(lines)


def _wrap(text: str, indent: str, width: int = 96, hanging: str = "  ") -> list[str]:
    import textwrap

    return textwrap.wrap(
        text, width=width, initial_indent=indent, subsequent_indent=indent + hanging
    ) or [indent]
