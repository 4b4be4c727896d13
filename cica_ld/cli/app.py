"""The Typer application object and the one place where errors become exit codes.

Command modules (``cica_ld/cli/<capability>.py``) register their commands on :data:`app`.
Every :class:`~cica_ld.errors.CicaError` raised below a command is printed as one line on
stderr (``cica-ld: error: ...``) and exits with its code; anything else is a bug: exit 4 with a
one-line message, and the traceback only with ``CICA_LD_DEBUG=1``. SIGTERM and SIGHUP are
raised like Ctrl-C (:class:`Terminated`, a :class:`KeyboardInterrupt`), so the same clean-up
runs (no temporary file is left) and the exit code is 128 + the signal's number (130 for
Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup

from cica_ld import __version__
from cica_ld.cli import fastparams
from cica_ld.errors import EXIT_INTERNAL, CicaError

fastparams.install()  # plain option values converted without importing pydantic (~200 ms)


def echo_error(message: str) -> None:
    """Print a diagnostic on stderr, prefixed with the program name."""
    typer.echo(f"cica-ld: error: {message}", err=True)


def echo_warning(message: str) -> None:
    typer.echo(f"cica-ld: warning: {message}", err=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: raised like Ctrl-C's :class:`KeyboardInterrupt`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The signals that stop a command the way Ctrl-C does.
_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise :class:`Terminated` (once: a second
    one while cleaning up is ignored). A signal whose handler is not the default (ignored, as
    under ``nohup``, or set by the caller) is left alone; the handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise Terminated(signum)

    previous = {}
    for sig in _STOP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class CicaGroup(TyperGroup):
    """A Typer group that turns the project's errors into documented exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            from cica_ld import limits

            limits.configure(limits.from_env(os.environ))  # the CICA_LD_MAX_* bounds
            with signals_raise():
                return super().invoke(ctx)
        except CicaError as exc:
            echo_error(str(exc))
            sys.exit(exc.exit_code)
        except BrokenPipeError:  # `cica-ld query ... | head`
            with contextlib.suppress(OSError):  # silence the flush at exit
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            sys.exit(0)
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
            echo_error(f"interrupted ({signal.Signals(signum).name})")
            sys.exit(128 + signum)
        except (SystemExit, typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if _is_click_exception(exc):
                raise
            if os.environ.get("CICA_LD_DEBUG") == "1":
                traceback.print_exc()
            else:
                echo_error(
                    f"internal error: {type(exc).__name__}: {exc} "
                    "(a bug in cica-ld; rerun with CICA_LD_DEBUG=1 for the traceback)"
                )
            sys.exit(EXIT_INTERNAL)


def _is_click_exception(exc: BaseException) -> bool:
    from typer import exceptions as typer_exceptions

    return isinstance(exc, (typer_exceptions.TyperException, typer.Exit, typer.Abort))


app = typer.Typer(
    name="cica-ld",
    cls=CicaGroup,
    help=(
        "Query, validate and publish linked data. With no --data, the embedded CICA knowledge "
        "graph (vocabulary, data and SHACL shapes) is used.\n\n"
        "Exit codes: 0 ok, 1 check failed, 2 usage or input error, 3 external service error, "
        "4 internal error."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"cica-ld {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Query, validate and publish linked data (the CICA knowledge graph by default)."""


def progress() -> Any:
    """A context manager giving the progress object of a long command: a
    :class:`~cica_ld.progress.StderrProgress` when stderr is a terminal (or
    ``CICA_LD_PROGRESS=always``), silent for the first ``CICA_LD_PROGRESS_AFTER`` seconds (2);
    nothing with ``CICA_LD_PROGRESS=never`` or when stderr is not a terminal."""
    from cica_ld.progress import NO_PROGRESS, StderrProgress

    mode = os.environ.get("CICA_LD_PROGRESS", "auto").strip().lower()
    live = isatty(sys.stderr)
    if mode == "never" or (mode != "always" and not live):
        return contextlib.nullcontext(NO_PROGRESS)
    try:
        after = float(os.environ.get("CICA_LD_PROGRESS_AFTER", "2"))
    except ValueError:
        after = 2.0
    return StderrProgress(sys.stderr, after=after, live=live)


def isatty(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False for streams that cannot tell)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
