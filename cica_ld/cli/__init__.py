"""The ``cica-ld`` command line: a thin Typer layer over the library.

Each capability registers its commands in its own module here; importing this package imports
them all (cheaply: heavy libraries are imported inside the command bodies). The command modules
do not use ``from __future__ import annotations``: typer would then evaluate every annotation
string of every command at each start (~10 ms of the start-up budget).
"""

from __future__ import annotations

from cica_ld.cli import export as _export  # noqa: F401  (registers `export`)
from cica_ld.cli import load as _load  # noqa: F401  (registers `load`)
from cica_ld.cli import publish as _publish  # noqa: F401  (registers `publish`)
from cica_ld.cli import query as _query  # noqa: F401  (registers `query`, `queries`)
from cica_ld.cli import serve as _serve  # noqa: F401  (registers `serve`)
from cica_ld.cli import validate as _validate  # noqa: F401  (registers `validate`)
from cica_ld.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
