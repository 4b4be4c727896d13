"""Small I/O helpers: atomic writes, so a failed command never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from cica_ld.errors import InputError


def atomic_write(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Either the whole new content is there afterwards or the old file is untouched. Errors
    (missing folder, permissions, a folder in the way) raise :class:`InputError`.
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    atomic_write_chunks(path, (payload,))


def atomic_write_chunks(path: str | Path, chunks: Iterable[bytes]) -> int:
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

    def __init__(self, fh: BinaryIO, target: Path) -> None:
        self._fh = fh
        self._target = target

    def write(self, data: bytes) -> int:
        try:
            return self._fh.write(data)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", path=self._target) from None


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[_TargetFile]:
    """A binary file to write ``path`` through: a temporary file renamed over it at the end.

    On a normal exit of the ``with`` block the temporary file is flushed, fsynced, given the
    old file's mode (or the umask's) and renamed to ``path``. On any exception, including
    ``KeyboardInterrupt``, it is removed and ``path`` is left as it was. Errors of the file
    system (missing folder, permissions, a full disk) raise :class:`InputError`.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError("is a folder, expected a file to write", path=target)
    if not folder.is_dir():
        raise InputError("cannot write: the folder does not exist", path=target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=target) from None
    finishing = False  # an OSError of the caller's own (not of writing) passes unchanged
    try:
        with os.fdopen(fd, "wb") as fh:
            yield _TargetFile(fh, target)
            finishing = True
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if not finishing:
            raise
        raise InputError(f"cannot write: {exc.strerror or exc}", path=target) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
