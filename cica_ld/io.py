"""Small I/O helpers: where ``-o`` writes, and writes that never leave half a file.

:func:`resolve_output` checks an output target before any work: ``-`` is standard output, a
symbolic link is followed to its target, a character or block device or a FIFO is written
through, a folder, a missing folder or one of the command's own input files is refused.
:func:`atomic_writer` (and :func:`atomic_write`, :func:`atomic_write_chunks`) then write it:
a regular file through a temporary file renamed over it, a device or FIFO directly.
:func:`hold_signals` / :func:`signals_held` keep Ctrl-C, SIGTERM and SIGHUP back for the few
steps where a signal would leave a temporary file behind (between creating it and the code that
removes it on an error).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cica_ld.errors import InputError

#: The output name that means standard output.
STDOUT = "-"


@dataclass(frozen=True)
class OutputTarget:
    """Where a command's output goes, as :func:`resolve_output` found it.

    ``kind`` is ``stdout``, ``file`` (a regular file, new or replaced atomically) or
    ``stream`` (a character or block device or a FIFO, opened and written directly). ``path``
    is the file written (the end of a symbolic link chain; ``None`` for stdout); ``given`` is
    the name as given, which error messages use.
    """

    given: str
    kind: str
    path: Path | None = None

    @property
    def is_stdout(self) -> bool:
        return self.kind == "stdout"


def resolve_output(output: str | Path | None, *, inputs: Iterable[str | Path] = ()) -> OutputTarget:
    """Check an output target before any work and say how it will be written.

    ``None`` and ``-`` mean standard output. A symbolic link is followed (the link stays, its
    target is written). A device or FIFO is written through, never renamed over or removed.
    A folder, a socket, a missing or unwritable folder, and a file that is one of ``inputs``
    (files or folders the command reads; a folder stands for the RDF files below it) raise
    :class:`InputError`: a command never writes over its own input.
    """
    if output is None or str(output) == STDOUT:
        return OutputTarget(STDOUT, "stdout")
    target = _resolve(Path(output))
    if target.kind == "file":
        _check_not_an_input(target, inputs)
    return target


def _resolve(given: Path) -> OutputTarget:
    """The :class:`OutputTarget` for a file name (``-`` included: a file of that name)."""
    try:
        real = Path(os.path.realpath(given))
        st: os.stat_result | None = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):  # the folder is checked below
        st = None
    except (OSError, ValueError) as exc:  # a loop of links, no permission, a NUL in the name
        why = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot write: {why}", path=given) from None
    link = f" (a link to {real})" if given.is_symlink() else ""
    if st is not None:
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"is a folder{link}, expected a file to write", path=given)
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
            if not os.access(real, os.W_OK):
                raise InputError(f"cannot write{link}: permission denied", path=given)
            return OutputTarget(str(given), "stream", real)
        if not stat.S_ISREG(mode):
            what = "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
            raise InputError(f"is {what}{link}, expected a file to write", path=given)
    folder = real.parent
    if not folder.is_dir():
        if folder.exists():
            raise InputError(f"cannot write{link}: {folder} is not a folder", path=given)
        where = f" {folder}" if link else ""
        raise InputError(f"cannot write{link}: the folder{where} does not exist", path=given)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write{link}: permission denied in {folder}", path=given)
    return OutputTarget(str(given), "file", real)


def _check_not_an_input(target: OutputTarget, inputs: Iterable[str | Path]) -> None:
    """Raise :class:`InputError` if the existing file ``target`` is one of ``inputs``."""
    assert target.path is not None
    try:
        out = os.stat(target.path)
    except OSError:
        return  # a new file is nobody's input
    for raw in inputs:
        try:
            st = os.stat(raw)
        except (OSError, ValueError):
            continue  # a missing input is reported when the command reads it
        if stat.S_ISDIR(st.st_mode):  # (a file below it may be a link to one elsewhere)
            from cica_ld.dataset import expand_paths

            try:
                files = expand_paths([raw])
            except InputError:
                continue
            same = [f for f in files if _same_file(f, out)]
            if same:
                _refuse(target, same[0], raw)
        elif os.path.samestat(st, out):
            _refuse(target, Path(raw))


def _same_file(path: Path, st: os.stat_result) -> bool:
    try:
        return os.path.samestat(os.stat(path), st)
    except OSError:
        return False


def _refuse(target: OutputTarget, file: Path, folder: str | Path | None = None) -> None:
    below = f" (below {folder})" if folder is not None else ""
    raise InputError(
        f"is also an input of this command: {file}{below}; cica-ld never writes over its input",
        path=target.given,
        hint="write the output to another file",
    )


def atomic_write(
    path: str | Path | OutputTarget, data: str | bytes, *, encoding: str = "utf-8"
) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Either the whole new content is there afterwards or the old file is untouched. A device
    or FIFO is written through instead (see :func:`atomic_writer`). Errors (missing folder,
    permissions, a folder in the way) raise :class:`InputError`.
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    atomic_write_chunks(path, (payload,))


def atomic_write_chunks(path: str | Path | OutputTarget, chunks: Iterable[bytes]) -> int:
    """Write the byte ``chunks`` to ``path`` as they come, atomically; return the byte count.

    Like :func:`atomic_write`, but the content is never held whole: each chunk goes to a
    temporary file in the target's folder, which is fsynced and renamed over ``path`` once
    ``chunks`` is exhausted. If producing a chunk raises (or the run is interrupted), the
    temporary file is removed, the old ``path`` is untouched and the exception propagates.
    """
    written = 0
    with atomic_writer(path) as fh:
        for chunk in chunks:
            fh.write(chunk)
            written += len(chunk)
    return written


class _TargetFile:
    """The file object :func:`atomic_writer` yields: ``write`` errors name the target."""

    def __init__(self, fh: BinaryIO, target: str | Path) -> None:
        self._fh = fh
        self._target = target

    def write(self, data: bytes) -> int:
        try:
            return self._fh.write(data)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", path=self._target) from None


@contextlib.contextmanager
def atomic_writer(path: str | Path | OutputTarget) -> Iterator[_TargetFile]:
    """A binary file to write ``path`` through: a temporary file renamed over it at the end.

    On a normal exit of the ``with`` block the temporary file is flushed, fsynced, given the
    old file's mode (or the umask's) and renamed to ``path``. On any exception, including
    ``KeyboardInterrupt``, it is removed and ``path`` is left as it was. Errors of the file
    system (missing folder, permissions, a full disk) raise :class:`InputError`.

    ``path`` is looked at again here (it may have changed since :func:`resolve_output`): a
    symbolic link's target is replaced, the link stays; a character or block device or a FIFO
    is opened and written directly (a FIFO blocks until something reads it), never renamed
    over or removed; a folder raises :class:`InputError`. Here ``-`` is a file of that name:
    standard output is the caller's to write (``resolve_output`` tells it).
    """
    if isinstance(path, OutputTarget):
        if path.is_stdout:
            raise ValueError("standard output is the caller's to write")
        path = path.given
    target = _resolve(Path(path))
    writer = _write_through if target.kind == "stream" else _replace
    with writer(target) as fh:
        yield fh


@contextlib.contextmanager
def _write_through(target: OutputTarget) -> Iterator[_TargetFile]:
    """A device or FIFO, opened for writing (never created, truncated, renamed or removed)."""
    assert target.path is not None
    try:
        fd = os.open(target.path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=target.given) from None
    if stat.S_ISREG(os.fstat(fd).st_mode):  # replaced by a file since it was looked at
        os.close(fd)
        raise InputError("changed while being opened; run again", path=target.given)
    finishing = False
    try:
        with os.fdopen(fd, "wb") as fh:
            yield _TargetFile(fh, target.given)
            finishing = True
            fh.flush()
    except OSError as exc:
        if not finishing:
            raise
        raise InputError(f"cannot write: {exc.strerror or exc}", path=target.given) from None


@contextlib.contextmanager
def _replace(target: OutputTarget) -> Iterator[_TargetFile]:
    """A regular file (or a new one): a temporary file beside it, renamed over it at the end."""
    assert target.path is not None
    real = target.path
    held = hold_signals()  # a signal between creating the file and `try` would leave it
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as exc:
        release_signals(held)
        raise InputError(f"cannot write: {exc.strerror or exc}", path=target.given) from None
    finishing = False  # an OSError of the caller's own (not of writing) passes unchanged
    try:
        release_signals(held)  # one that came meanwhile is raised here, and cleaned up below
        with os.fdopen(fd, "wb") as fh:
            yield _TargetFile(fh, target.given)
            finishing = True
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode: int | None = os.stat(real).st_mode & 0o7777
        except FileNotFoundError:
            mode = None
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        else:
            with contextlib.suppress(OSError):
                os.chmod(tmp, mode)
        os.replace(tmp, real)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if not finishing:
            raise
        raise InputError(f"cannot write: {exc.strerror or exc}", path=target.given) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: The signals that stop a command (Ctrl-C, and SIGTERM and SIGHUP as the CLI handles them).
_HELD = frozenset(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


def hold_signals() -> Any:
    """Hold back SIGINT, SIGTERM and SIGHUP until :func:`release_signals` (which delivers one
    that came meanwhile); returns what to give it. Only in the main thread of a system that
    can (elsewhere ``None``: nothing is held)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)


def release_signals(held: Any) -> None:
    """Undo :func:`hold_signals`: a signal held back is raised now."""
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back SIGINT, SIGTERM and SIGHUP while the block runs (see :func:`hold_signals`)."""
    held = hold_signals()
    try:
        yield
    finally:
        release_signals(held)
