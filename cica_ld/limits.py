"""Bounds on what one input may cost: nesting depth, XML entity expansion, blank-node work.

Small hostile inputs (a 710-byte RDF/XML "billion laughs", a SPARQL query nested 3,000 deep,
a JSON-LD document nested 1,000 deep, a knot of blank nodes) must fail with an input error
naming the limit, never exhaust memory or crash the process. Each bound has a default here; the
CLI (and the server) set them from ``CICA_LD_MAX_*`` environment variables with
:func:`from_env` and :func:`configure`; library functions take them as arguments and fall back
to :func:`current`.

| limit | environment variable | default |
|---|---|---|
| SPARQL and JSON-LD nesting depth | ``CICA_LD_MAX_NESTING`` | 100 |
| expansion of one RDF/XML entity | ``CICA_LD_MAX_ENTITY_BYTES`` | 1 MiB |
| all entity expansions of a file | ``CICA_LD_MAX_ENTITY_TOTAL`` | 16 MiB (or 10 x the file) |
| RDFC-1.0 work per blank-node component | ``CICA_LD_MAX_RDFC_WORK`` | 10,000 (~0.5 s) |
| memory of ``export``/``publish`` (and ``serve`` dumps) | ``CICA_LD_MAX_MEMORY`` | none |
| CPU time of ``export``/``publish`` | ``CICA_LD_MAX_SECONDS`` | none |

Sizes take a ``k``/``M``/``G`` suffix (powers of 1024).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cica_ld.errors import InputError, UsageError


@dataclass(frozen=True)
class Limits:
    """Every bound (see the module's table); ``None`` means no bound."""

    nesting: int = 100
    entity_bytes: int = 1 << 20
    entity_total: int = 16 << 20
    rdfc_work: int = 10_000
    memory: int | None = None
    seconds: float | None = None


#: Field -> environment variable.
ENV: dict[str, str] = {
    "nesting": "CICA_LD_MAX_NESTING",
    "entity_bytes": "CICA_LD_MAX_ENTITY_BYTES",
    "entity_total": "CICA_LD_MAX_ENTITY_TOTAL",
    "rdfc_work": "CICA_LD_MAX_RDFC_WORK",
    "memory": "CICA_LD_MAX_MEMORY",
    "seconds": "CICA_LD_MAX_SECONDS",
}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str, *, what: str) -> int:
    """A size such as ``512M``, ``2G``, ``1048576`` in bytes; :class:`UsageError` otherwise."""
    m = _SIZE.match(text)
    if not m:
        raise UsageError(
            f"{what}: expected a size such as 512M or 2G, got {text!r}",
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _value(name: str, text: str) -> int | float | None:
    var = ENV[name]
    if text.strip().lower() in ("", "none", "off", "0") and name in ("memory", "seconds"):
        return None
    if name == "seconds":
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"{var}: expected a number of seconds, got {text!r}") from None
        return value if value > 0 else None
    if name in ("memory", "entity_bytes", "entity_total"):
        return parse_size(text, what=var)
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"{var}: expected a whole number, got {text!r}") from None
    if number < 1:
        raise UsageError(f"{var}: expected a number above 0, got {text!r}")
    return number


def from_env(environ: Mapping[str, str], base: Limits | None = None) -> Limits:
    """``base`` (the defaults) with the ``CICA_LD_MAX_*`` variables of ``environ`` applied."""
    changes = {name: _value(name, environ[var]) for name, var in ENV.items() if var in environ}
    return dataclasses.replace(base or Limits(), **changes)


_current = Limits()


def current() -> Limits:
    """The limits in force (the defaults unless :func:`configure` was called)."""
    return _current


def configure(limits: Limits) -> None:
    """Put ``limits`` in force for the library functions not given their own."""
    global _current
    _current = limits


def describe_size(n: int) -> str:
    """``n`` bytes as a short text (``16 MiB``)."""
    for unit, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit} {name}"
    return f"{n:,} bytes"


# ---------------------------------------------------------------------------------------------
# RDF/XML: internal entities ("billion laughs")
# ---------------------------------------------------------------------------------------------

#: How much of a file is read to find a DOCTYPE (it comes before the root element).
_HEAD = 1 << 16
_CHUNK = 1 << 20
_SUBSET_TOKEN = re.compile(rb'"[^"]*"|\'[^\']*\'|<!--.*?-->|\]|[^"\'\]<]+|<', re.DOTALL)
_ENTITY_DECL = re.compile(
    rb"<!ENTITY\s+(%\s+)?([^\s%\"'>]+)\s+(?:\"([^\"]*)\"|'([^']*)'|(SYSTEM|PUBLIC)\b[^>]*)\s*>"
)
_REF = re.compile(rb"&([^\s&;<>\"'#]+);")
_CHAR_OR_REF = re.compile(rb"&#[0-9]+;|&#x[0-9a-fA-F]+;|&[^\s&;<>\"'#]+;")


def _doctype_subset(head: bytes) -> tuple[bytes, int] | None:
    """The internal subset of the DOCTYPE in ``head`` and where the document after it starts,
    or None when there is no DOCTYPE with an internal subset before the root element."""
    at = head.find(b"<!DOCTYPE")
    if at < 0:
        return None
    root = re.search(rb"<[^?!]", head)
    if root is not None and root.start() < at:
        return None
    opening = head.find(b"[", at)
    closing = head.find(b">", at)
    if opening < 0 or (0 <= closing < opening):
        return None
    pos = opening + 1
    while pos < len(head):
        m = _SUBSET_TOKEN.match(head, pos)
        if m is None:
            break
        if m.group() == b"]":
            return head[opening + 1 : m.start()], m.end()
        pos = m.end()
    return head[opening + 1 :], len(head)  # unterminated: the parser reports it


def _expansions(subset: bytes, per_entity: int) -> dict[bytes, int]:
    """Declared entity name -> how many bytes one reference to it expands to (capped just
    above ``per_entity``); raises ValueError naming an entity that refers to itself."""
    values: dict[bytes, bytes] = {}
    for m in _ENTITY_DECL.finditer(subset):
        if m.group(1):  # a parameter entity: expanded in the DTD only
            continue
        name = m.group(2)
        value = m.group(3) if m.group(3) is not None else m.group(4)
        values.setdefault(name, value if value is not None else b"")
    sizes: dict[bytes, int] = {}
    for start in values:
        if start in sizes:
            continue
        stack: list[bytes] = [start]
        visiting = {start}
        while stack:
            name = stack[-1]
            pending = [r for r in _REF.findall(values[name]) if r in values and r not in sizes]
            if pending:
                ref = pending[0]
                if ref in visiting:
                    raise ValueError(ref.decode("utf-8", "replace"))
                visiting.add(ref)
                stack.append(ref)
                continue
            text = values[name]
            size = len(_CHAR_OR_REF.sub(b"", text))
            for ref in _CHAR_OR_REF.findall(text):
                inner = _REF.fullmatch(ref)
                size += sizes.get(inner.group(1), len(ref)) if inner else 1
            sizes[name] = min(size, per_entity + 1)
            stack.pop()
            visiting.discard(name)
    return sizes


def check_xml_entities(
    path: str | Path,
    *,
    per_entity: int | None = None,
    total: int | None = None,
) -> None:
    """Refuse an RDF/XML file whose internal entities would expand past the limits.

    XML lets a DOCTYPE declare entities made of other entities: 710 bytes can stand for
    gigabytes. Before the file is parsed, the expansion of every declared entity is computed
    from the declarations (linear in their size) and the references in the document are
    counted: one reference may expand to at most ``per_entity`` bytes, all of them together to
    at most ``total`` bytes or 10 times the file's size, whichever is larger (entities that
    abbreviate namespaces, as ontology editors write them, stay well below). An entity defined
    through itself is refused too. Raises :class:`InputError` naming the file and the
    variable that raises the limit; a file that cannot be read is left to the parser.
    """
    limits = current()
    per_entity = limits.entity_bytes if per_entity is None else per_entity
    total = limits.entity_total if total is None else total
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
            if b"<!ENTITY" not in head and b"<!DOCTYPE" not in head:
                return
            head += fh.read()  # a DOCTYPE: read the rest (entity references are counted)
    except (OSError, ValueError):
        return
    found = _doctype_subset(head)
    if found is None:
        return
    subset, body_start = found
    try:
        sizes = _expansions(subset, per_entity)
    except ValueError as exc:
        raise InputError(
            f"rdfxml error: the entity '{exc}' is defined through itself", path=path
        ) from None
    for name, size in sizes.items():
        if size > per_entity:
            raise InputError(
                f"rdfxml error: the entity '{name.decode('utf-8', 'replace')}' expands to more "
                f"than {describe_size(per_entity)} (an entity expansion attack?); refused "
                "before parsing",
                path=path,
                hint=f"raise the limit with {ENV['entity_bytes']}",
            )
    budget = max(total, 10 * len(head))
    expanded = 0
    for ref in _REF.findall(head, body_start):
        expanded += sizes.get(ref, 0)
        if expanded > budget:
            raise InputError(
                f"rdfxml error: entity references expand to more than "
                f"{describe_size(budget)} in all (an entity expansion attack?); refused "
                "before parsing",
                path=path,
                hint=f"raise the limit with {ENV['entity_total']}",
            )


# ---------------------------------------------------------------------------------------------
# Nesting depth (JSON here; SPARQL in cica_ld.query.check_nesting)
# ---------------------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}\n]')


def nesting_error(depth_hint: str, *, what: str, limit: int, **where: object) -> InputError:
    """The :class:`InputError` of an input nested deeper than ``limit``."""
    return InputError(
        f"{what} is nested more than {limit} levels deep{depth_hint}; refused before parsing",
        hint=f"raise the limit with {ENV['nesting']}",
        **where,  # type: ignore[arg-type]
    )


def check_json_nesting(
    text: str | bytes, *, path: str | Path | None = None, limit: int | None = None
) -> None:
    """Refuse JSON nested more than ``limit`` arrays/objects deep (:class:`InputError` at the
    line and column of the first bracket too deep), before a recursive parser meets it.

    Linear: one scan of the text, strings skipped. Text that is not JSON is left to the parser.
    """
    limit = current().nesting if limit is None else limit
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return
    depth, line, line_start = 0, 1, 0
    for m in _JSON_TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                raise nesting_error(
                    "",
                    what="the JSON",
                    limit=limit,
                    path=path,
                    line=line,
                    column=m.start() - line_start + 1,
                )
        elif c in "]}":
            depth -= 1
        elif c == "\n":
            line, line_start = line + 1, m.end()


# ---------------------------------------------------------------------------------------------
# Memory and time guard (export, publish)
# ---------------------------------------------------------------------------------------------


def resident_bytes() -> int | None:
    """The process's resident memory now (Linux ``/proc``), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


class Guard:
    """Stop the work of the ``with`` block once the process holds more than ``memory`` bytes
    or has run ``seconds`` (wall clock); then the block ends in :class:`InputError` (exit 2)
    naming the bound and its variable. Either may be None (no bound: then nothing runs).

    A watchdog thread looks every ``every`` seconds. Past a bound it interrupts the main
    thread as Ctrl-C does, so files being written are cleaned up; if the main thread does not
    come back to Python within ``grace`` seconds (it is inside a long native call), the
    message is printed and the process exits with 2 at once.
    """

    def __init__(
        self,
        what: str,
        *,
        memory: int | None = None,
        seconds: float | None = None,
        every: float = 0.1,
        grace: float = 5.0,
    ) -> None:
        self.what, self.memory, self.seconds = what, memory, seconds
        self.every, self.grace = every, grace
        self.breach: str | None = None
        self._done = None  # threading.Event while the block runs

    def _message(self) -> InputError:
        var = ENV["memory" if "memory" in (self.breach or "") else "seconds"]
        return InputError(f"{self.what} stopped: {self.breach}", hint=f"raise the bound with {var}")

    def __enter__(self) -> Guard:
        if self.memory is None and self.seconds is None:
            return self
        import threading
        import time

        done = self._done = threading.Event()
        start = time.monotonic()

        def watch() -> None:
            import _thread
            import os
            import sys

            while not done.wait(self.every):
                used = resident_bytes() if self.memory is not None else None
                if used is not None and self.memory is not None and used > self.memory:
                    self.breach = f"it used more than {describe_size(self.memory)} of memory"
                elif self.seconds is not None and time.monotonic() - start > self.seconds:
                    self.breach = f"it ran longer than {self.seconds:g} s"
                else:
                    continue
                _thread.interrupt_main()
                if done.wait(self.grace):
                    return
                sys.stderr.write(f"cica-ld: error: {self._message()}\n")
                sys.stderr.flush()
                os._exit(2)

        threading.Thread(target=watch, name="cica-ld-guard", daemon=True).start()
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if self._done is not None:
            self._done.set()
        if self.breach is not None and isinstance(exc, KeyboardInterrupt):
            raise self._message() from None


def guard(what: str, limits: Limits | None = None) -> Guard:
    """A :class:`Guard` with the memory and time bounds of ``limits`` (default: :func:`current`)."""
    limits = current() if limits is None else limits
    return Guard(what, memory=limits.memory, seconds=limits.seconds)
