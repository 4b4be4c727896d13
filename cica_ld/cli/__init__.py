"""The ``cica-ld`` command line: a thin Typer layer over the library.

Each capability registers its commands in its own module here; importing this package imports
them all (cheaply: heavy libraries are imported inside the command bodies).
"""

from __future__ import annotations

from cica_ld.cli import query as _query  # noqa: F401  (registers `query`, `queries`)
from cica_ld.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
