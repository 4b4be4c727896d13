"""``cica-ld publish`` at scale: the site written as it is rendered, resource pages in worker
processes.

:func:`cica_ld.publish.build_site` holds the whole site in memory (a dict of every file), which
is what tests and small sites want; at a million triples that is ~700k files and several GB.
:func:`publish_streamed` renders the same files (the same functions: :func:`plan_site`,
:func:`resource_files`, :func:`site_files`) and writes each into the staging folder as soon as it
is rendered, keeping only its size and SHA-256 for the manifest. The resource pages, nearly all
of the work, are rendered by ``jobs`` processes: ``jobs - 1`` workers forked from this one
(they share the store copy-on-write) and this one, once it has written the rest of the site
(dumps, streamed; index; search). Each process claims the next chunk of the sorted resource
list in turn, renders it and writes its files itself. Then, as
:func:`cica_ld.publish.write_site` does, the staged files replace the previous site's with
signals held back, and a failure or a signal leaves the previous site as it was.

Memory: the store, the plan (site paths), and per file a size and digest; of the pages, only
those of the chunk a process is rendering (:data:`CHUNK` resources) are held at once; of a
dump, a chunk of its text. One process fewer than before (this one renders too): the tree's
resident memory counts the store shared copy-on-write once per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import shutil
import signal
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from cica_ld import io
from cica_ld.errors import InputError

if TYPE_CHECKING:
    from cica_ld.progress import Progress
    from cica_ld.publish import PublishResult, SitePlan

#: Resources one worker task renders (a task's pages are the most a worker holds at once).
CHUNK = 64
#: Below this many resource pages publish renders them in its own process (forking costs more).
MIN_PARALLEL = 400

_PLAN: SitePlan | None = None  # the plan the forked workers render from (set before forking)


def default_jobs() -> int:
    """Worker processes for the resource pages: the cores this process may use (at least 1),
    1 where processes cannot be forked (the workers share the store by forking)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_CREATE |= getattr(os, "O_BINARY", 0)  # (Windows)


class _Writer:
    """Writes files under the staging folder ``root`` and gives their size and SHA-256 (the
    32 bytes: at a million files their hex text would hold 46 MB more until the manifest)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = f"{root}{os.sep}"
        self.made: set[str] = set()

    def write(self, rel: str, content: bytes) -> tuple[int, bytes]:
        folder = rel.rpartition("/")[0]
        if folder and folder not in self.made:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            self.made.add(folder)
        # a file descriptor, not a buffered file object: a page's documents are written whole
        fd = os.open(self.base + rel, _CREATE, 0o666)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return len(content), hashlib.sha256(content).digest()

    def write_stream(self, rel: str, stream: Any) -> tuple[int, bytes]:
        """Write ``stream`` (a :class:`cica_ld.publish.DumpStream`) to ``rel``, never whole
        in memory."""
        folder = rel.rpartition("/")[0]
        if folder and folder not in self.made:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            self.made.add(folder)
        digest = hashlib.sha256()
        with open(self.root / rel, "wb") as f:
            stream.write_to(_Hashing(f, digest))
        assert stream.size is not None
        return stream.size, digest.digest()


class _Hashing:
    def __init__(self, f: Any, digest: Any) -> None:
        self.f, self.digest = f, digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()


def _render(
    plan: SitePlan, items: Sequence[tuple[str, Sequence[str]]], writer: _Writer, g: Any
) -> list[tuple[str, int, bytes]]:
    from cica_ld.publish import GRAPH_CACHE_LIMIT, resource_files

    out = []
    for rel, iris in items:
        for name, content in resource_files(plan, rel, iris, g=g):
            out.append((name, *writer.write(name, content)))
        g.bound_caches(GRAPH_CACHE_LIMIT)
    return out


_WORKER: dict[str, Any] = {}


def _init_worker() -> None:
    # the parent handles the signals (and terminates the workers); a worker just stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _work(task: tuple[int, str, list[tuple[str, list[str]]]]) -> tuple[int, Any]:
    """A worker's task: render chunk ``n`` into the staging folder. An error is reported as
    such (the parent renders the chunk again itself to raise it as it is)."""
    from cica_ld.publish import _Graph

    n, root, items = task
    plan = _PLAN
    assert plan is not None
    try:
        if "writer" not in _WORKER or _WORKER["writer"].root != Path(root):
            _WORKER["writer"] = _Writer(Path(root))
            _WORKER["g"] = _Graph(plan.store, plan.base_iri)
        return n, _render(plan, items, _WORKER["writer"], _WORKER["g"])
    except Exception:  # re-raised by the parent: it renders the chunk again
        return n, None


_TASKS: list[Any] = []  # the chunks to render (set before forking the workers)
_NEXT: Any = None  # the index of the next chunk to render, shared by the processes


def _claim() -> int:
    """The next chunk to render (each claimed by exactly one process)."""
    with _NEXT.get_lock():
        n = _NEXT.value
        _NEXT.value = n + 1
    return int(n)


def _release_free_memory() -> None:
    """Hand the memory freed since loading back to the system (glibc keeps it otherwise):
    every worker forked after this counts less of it resident."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _freeze(*, collect: bool = True) -> bool:
    """Put every object the garbage collector tracks now (the plan, the caches, what loading
    made) in its permanent generation (``gc.freeze``), collected first (``collect``): a
    collection no longer walks them, each page's collections cost only what the pages made
    (at 100k triples a tenth of the render time), and a forked worker's collections do not
    write into their headers, copying the parent's pages. True if this froze them (and
    :func:`gc.unfreeze` is the caller's to call); False if objects were frozen already (by
    whoever froze them, who unfreezes)."""
    import gc

    if gc.get_freeze_count():
        return False
    if collect:
        gc.collect()
    gc.freeze()
    return True


def _worker_loop(queue: Any) -> None:
    """A worker process: render chunks until none is left, each reported on ``queue`` as
    ``(n, records)``, then None."""
    _init_worker()
    try:
        while True:
            n = _claim()
            if n >= len(_TASKS):
                break
            queue.put(_work(_TASKS[n]))
    finally:
        queue.put(None)


def _chunks(
    items: Sequence[tuple[str, list[str]]], size: int
) -> Iterator[tuple[int, list[tuple[str, list[str]]]]]:
    for n, i in enumerate(range(0, len(items), size)):
        yield n, list(items[i : i + size])


class _Staged(Mapping[str, bytes]):
    """The staged files as :func:`cica_ld.publish._plan` and ``_commit`` read them: path ->
    content (read from the staging folder only where a file is already at that path)."""

    def __init__(
        self, records: Mapping[str, tuple[int, bytes]], root: Path, order: Sequence[str] = ()
    ) -> None:
        self.records = records
        self.root = root
        self.order = order or sorted(records)  # the paths in order (not a sorted copy)

    def __getitem__(self, rel: str) -> bytes:
        if rel not in self.records:
            raise KeyError(rel)
        return (self.root / rel).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.records)

    def __contains__(self, rel: object) -> bool:
        return rel in self.records


def publish_streamed(
    plan: SitePlan,
    out: str | Path,
    progress: Progress | None = None,
    *,
    force: bool = False,
    inputs: Iterable[str | Path] = (),
    jobs: int | None = None,
    chunk: int | None = None,
) -> PublishResult:
    """Render the site of ``plan`` into the folder ``out`` as :func:`cica_ld.publish.write_site`
    writes :func:`cica_ld.publish.build_site`'s (the same files, the same rules for the files
    already there), each file written as it is rendered. ``jobs``: processes rendering the
    resource pages, this one and ``jobs - 1`` forked workers (default :func:`default_jobs`; 1
    renders them all here, as do sites of fewer than :data:`MIN_PARALLEL` pages when ``jobs``
    is not given); ``chunk``: resources per task (each process claims the next task in
    turn)."""
    from cica_ld import publish as pub

    chunk = CHUNK if chunk is None else max(1, chunk)
    folder = pub.check_out(out, force=force, inputs=inputs)
    real, given = folder.real, folder.given
    items = plan.resource_items()
    if jobs is None:
        from cica_ld import limits

        # CICA_LD_MAX_MEMORY bounds one process's memory: with it, the pages render here
        small = len(items) < MIN_PARALLEL or limits.current().memory is not None
        jobs = 1 if small else default_jobs()
    jobs = max(1, min(jobs, -(-len(items) // chunk)))
    if "fork" not in multiprocessing.get_all_start_methods():
        jobs = 1
    created = not folder.exists
    staging, held = pub.make_staging(real, given, created=created)
    procs: list[Any] = []
    frozen = False
    try:
        io.release_signals(held)
        try:
            new = staging / "new"
            new.mkdir()
            writer = _Writer(new)
            records: dict[str, tuple[int, bytes]] = {}
            if progress is not None:
                progress.stage("rendering resource pages", total=len(items))
            g = pub._Graph(plan.store, plan.base_iri)
            tasks = [(n, str(new), part) for n, part in _chunks(items, chunk)]
            ctx = multiprocessing.get_context("fork") if jobs > 1 else None
            queue: Any = None
            if ctx is not None:
                # jobs - 1 workers forked now (they share the store copy-on-write); this
                # process is the last: it writes the rest of the site, then renders chunks too
                global _PLAN, _TASKS, _NEXT
                _release_free_memory()  # what loading freed, before the workers copy the map
                frozen = _freeze(collect=False)  # (collected just now)
                queue = ctx.Queue()  # a worker's put never waits for this process to read
                _PLAN, _TASKS, _NEXT = plan, tasks, ctx.Value("l", 0)
                try:
                    for _ in range(jobs - 1):
                        proc = ctx.Process(target=_worker_loop, args=(queue,), daemon=True)
                        proc.start()
                        procs.append(proc)
                finally:
                    _PLAN = None
            else:
                frozen = _freeze()
            html = (f"{rel}.html" for rel, _ in items)
            for name, content in pub.site_files(plan, html, streamed=True):
                if isinstance(content, pub.DumpStream):
                    records[name] = writer.write_stream(name, content)
                else:
                    records[name] = writer.write(name, content)
                del content
            if ctx is not None:
                _release_free_memory()  # what the dumps freed, before rendering pages here
            pending = len(procs)

            def collect(block: bool) -> None:
                nonlocal pending
                while pending and (block or not queue.empty()):
                    try:
                        got = queue.get(timeout=1.0)
                    except Empty:  # a worker killed never reports: do not wait for it
                        dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                        if dead:
                            raise InputError(
                                f"a worker process ended with code {dead[0]}"
                            ) from None
                        continue
                    if got is None:
                        pending -= 1
                        continue
                    n, done = got
                    if done is None:  # the worker failed: the same error, raised here
                        _render(plan, tasks[n][2], writer, g)
                        raise InputError(f"a worker process failed to render chunk {n}")
                    for name, size, digest in done:
                        records[name] = (size, digest)
                    if progress is not None:
                        progress.advance(len(tasks[n][2]))

            mine = iter(range(len(tasks)))
            while True:
                n = _claim() if ctx is not None else next(mine, len(tasks))
                if n >= len(tasks):
                    break
                for name, size, digest in _render(plan, tasks[n][2], writer, g):
                    records[name] = (size, digest)
                if progress is not None:
                    progress.advance(len(tasks[n][2]))
                if ctx is not None:
                    collect(block=False)
            if ctx is not None:
                collect(block=True)
                for proc in procs:
                    proc.join()
                    if proc.exitcode != 0:
                        raise InputError(f"a worker process ended with code {proc.exitcode}")
                procs = []
            staged = _Staged(records, new, order=sorted(records))
            site = pub.Site(files=staged, pages=tuple(sorted(plan.pages)), skipped=())
            replace, same, stale, kept = pub._plan(site, folder)
            if progress is not None:
                progress.stage("writing files", total=len(staged))
            with open(staging / pub.SITE_MARKER, "wb") as f:  # streamed: ~100 MB at 1M
                for part in pub._manifest_chunks(staged.records, same):
                    f.write(part)
            with io.signals_held():
                pub._commit(real, staging, replace=replace, stale=stale, files=staged, same=same)
            if progress is not None:
                progress.advance(len(staged))
        except OSError as exc:
            raise InputError(f"cannot write the site: {exc.strerror or exc}", path=given) from None
    finally:
        if frozen:
            import gc

            gc.unfreeze()
        for proc in procs:
            proc.terminate()
            proc.join()
        _TASKS, _NEXT = [], None
        with io.signals_held(), contextlib.suppress(OSError):  # a signal now would leave it
            shutil.rmtree(staging)
        if created:
            with contextlib.suppress(OSError):
                real.rmdir()  # only if nothing got in (a failed first publish)
    return pub.PublishResult(
        out=given,
        files=len(staged),
        bytes=sum(size for size, _ in staged.records.values()),
        pages=sum(1 for p in staged.records if p.endswith(".html")),
        skipped=tuple(sorted(plan.skipped)),
        kept=kept,
    )
