"""The error classes users see, each with its documented exit code.

| code | meaning |
|---|---|
| 0 | success; the data conforms |
| 1 | the tool ran, the check failed (SHACL non-conformance) |
| 2 | usage or input error: bad option, missing file, syntax error, unknown name |
| 3 | an external service failed: endpoint unreachable, HTTP error, timeout |
| 4 | internal error (a bug) |
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_INPUT = 2
EXIT_EXTERNAL = 3
EXIT_INTERNAL = 4


class CicaError(Exception):
    """Base class of every error cica-ld reports to a user (never with a traceback)."""

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class InputError(CicaError):
    """Bad input: a missing or unreadable file, a syntax error, an unknown name or option value.

    ``path``, ``line`` and ``column`` (1-based) locate the problem where there is a location.
    """

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        where = ""
        if self.path is not None:
            where = self.path
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(f"{where}{message}", hint=hint)
        self.detail = message


class UsageError(InputError):
    """A bad combination or value of command-line options."""


class QuerySyntaxError(InputError):
    """Malformed SPARQL (line and column within the query text where known)."""


class UnsafeQueryError(InputError):
    """A SPARQL Update, or a SERVICE call without --allow-service."""


class EndpointError(CicaError):
    """A remote SPARQL endpoint or Graph Store failed: unreachable, HTTP error, timeout."""

    exit_code = EXIT_EXTERNAL


class InternalError(CicaError):
    """A bug in cica-ld."""

    exit_code = EXIT_INTERNAL
