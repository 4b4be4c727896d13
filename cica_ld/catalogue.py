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
The header ends at the first line that is not a comment.
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
_PARAM_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*(.*?))?\s*(?:--\s*(.*))?$")


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
        return self.path.read_text(encoding="utf-8")


def parse_header(text: str, *, name: str = "?", path: Path | None = None) -> dict[str, object]:
    """Read the comment header of a query into ``title``, ``description`` and ``params``."""
    title = ""
    description: list[str] = []
    params: list[QueryParam] = []
    current: str | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.startswith("#"):
            if line.strip() == "" and current is None:
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
                    raise InputError(f"query {name!r}: malformed param line {value!r}", path=path)
                params.append(
                    QueryParam(pm.group(1), pm.group(2) or None, (pm.group(3) or "").strip())
                )
            continue
        cont = line[1:].strip()
        if current == "description" and cont:
            description.append(cont)
        elif current == "param" and cont and params:
            last = params[-1]
            params[-1] = QueryParam(last.name, last.default, f"{last.description} {cont}".strip())
        else:
            current = None
    return {"title": title, "description": " ".join(description), "params": params}


def load_named(path: Path) -> NamedQuery:
    """Read one ``.rq`` file of a catalogue folder."""
    header = parse_header(path.read_text(encoding="utf-8"), name=path.stem, path=path)
    return NamedQuery(
        name=path.stem,
        path=path,
        title=str(header["title"]) or path.stem,
        description=str(header["description"]),
        params=tuple(header["params"]),  # type: ignore[arg-type]
    )


def catalogue(folder: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every named query in ``folder``, by name, sorted."""
    out: dict[str, NamedQuery] = {}
    for p in sorted(folder.glob("*.rq")):
        if _NAME_RE.match(p.stem):
            out[p.stem] = load_named(p)
    return out


def get(name: str, folder: Path = QUERIES_DIR) -> NamedQuery:
    """The named query ``name``; an unknown name raises :class:`InputError` with close matches."""
    cat = catalogue(folder)
    if name in cat:
        return cat[name]
    close = difflib.get_close_matches(name, list(cat), n=3, cutoff=0.5)
    hint = f"did you mean: {', '.join(close)}?" if close else "run 'cica-ld queries' for the list"
    raise InputError(f"unknown query name {name!r}", hint=hint)
