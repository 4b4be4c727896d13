"""Long calls into native code that Ctrl-C can still stop.

Python handles a signal only between bytecodes of the main thread, so while a call such as
pyoxigraph's ``Store.load(path=...)`` runs (for minutes on a big file, without holding the GIL)
Ctrl-C waits for it to return. :func:`call_interruptibly` runs the call in a worker thread and
waits for it in short slices, so :class:`KeyboardInterrupt` is raised in the main thread at
once; the CLI turns it into exit code 130. The abandoned call goes on in its daemon thread until
it ends or the process exits; its result is dropped (but a store it was loading into may still
receive the file's triples: after an interrupt, do not use that store).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds between two looks at a pending Ctrl-C while the call runs.
SLICE = 0.05


def call_interruptibly(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, run so that a Ctrl-C in the main thread interrupts the wait.

    The result is returned and an exception raised as if ``fn`` had been called directly.
    Outside the main thread (where no signal arrives) ``fn`` is simply called.
    """
    if threading.current_thread() is not threading.main_thread():
        return fn(*args, **kwargs)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="cica-ld-call", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(SLICE)  # a pending KeyboardInterrupt is raised here
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
