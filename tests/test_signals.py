"""SIGTERM and SIGHUP stop a command the way Ctrl-C does: the clean-up runs, the exit code is
128 + the signal (143, 129), no hidden temporary file or folder is left and the previous output
stays (issue 15: they left ``.X.tmp`` files and ``.site.X.tmp/`` folders).

Each test starts ``cica-ld`` on a generated input (benchmarks/generate.py, into tmp_path),
waits until the write has begun (its temporary file or folder exists), then sends the signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cica_ld import publish

ROOT = Path(__file__).resolve().parent.parent
SIGNALS = [
    pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
    pytest.param(signal.SIGHUP, 129, id="SIGHUP"),
]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")


def _generate(folder: Path, triples: int) -> Path:
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.generate import write
    finally:
        sys.path.remove(str(ROOT))
    path = folder / "generated.ttl"
    write(path, triples, seed=15)
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated ORG dataset whose JSON-LD export takes a while to write (~1 s)."""
    return _generate(tmp_path_factory.mktemp("big"), 150_000)


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated ORG dataset whose site takes a few seconds to write (~14k files)."""
    return _generate(tmp_path_factory.mktemp("medium"), 20_000)


def _default_signals() -> None:  # the child starts with default handlers (not nohup's)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


def _start(*args: str | Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CICA_LD_PROGRESS": "never"}
    return subprocess.Popen(
        [sys.executable, "-m", "cica_ld", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_default_signals,
    )


def _signal_when(proc: subprocess.Popen[bytes], folder: Path, pattern: str, sig: int) -> None:
    """Send ``sig`` once a file matching ``pattern`` appears in ``folder``."""
    deadline = time.monotonic() + 120
    while not list(folder.glob(pattern)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the write never started"
        time.sleep(0.002)
    proc.send_signal(sig)


def _finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err.decode("utf-8", "replace")


@pytest.mark.parametrize(("sig", "code"), SIGNALS)
def test_export_o_stopped_by_a_signal_leaves_no_temporary_file(
    big: Path, tmp_path: Path, sig: int, code: int
) -> None:
    out = tmp_path / "out.jsonld"
    out.write_text("the previous export\n")
    proc = _start("export", "--data", big, "-f", "jsonld", "-o", out)
    _signal_when(proc, tmp_path, ".out.jsonld.*.tmp", sig)
    rc, err = _finish(proc)
    assert rc == code, err
    assert f"interrupted ({signal.Signals(sig).name})" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonld"]
    assert out.read_text() == "the previous export\n"


@pytest.mark.parametrize(("sig", "code"), SIGNALS)
def test_publish_stopped_by_a_signal_leaves_the_previous_site(
    medium: Path, tmp_path: Path, sig: int, code: int
) -> None:
    site = tmp_path / "site"
    small = Path(__file__).resolve().parent / "fixtures" / "outputs" / "catalogue.ttl"
    first = _start("publish", "--data", small, "--out", site)
    assert _finish(first)[0] == 0
    (site / "CNAME").write_text("data.example.org\n")
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    proc = _start("publish", "--data", medium, "--out", site)
    _signal_when(proc, site, f"{publish.SITE_MARKER}.*.tmp/new/*.html", sig)
    rc, err = _finish(proc)
    assert rc == code, err
    assert f"interrupted ({signal.Signals(sig).name})" in err and "Traceback" not in err
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert not list(site.glob("*.tmp")) and not list(site.glob(".*.tmp"))


@pytest.mark.parametrize(("sig", "code"), SIGNALS)
def test_serve_shuts_down_gracefully_on_a_signal(tmp_path: Path, sig: int, code: int) -> None:
    """uvicorn handles SIGTERM; SIGHUP (which killed the server, or raised in its event loop
    with a traceback) now shuts it down the same way."""
    small = Path(__file__).resolve().parent / "fixtures" / "outputs" / "catalogue.ttl"
    proc = _start("serve", "--data", small, "--port", "0", "--workers", "1")
    assert proc.stderr is not None
    seen: list[bytes] = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if b"cica-ld: serving" in line:
                break
        assert seen and b"cica-ld: serving" in seen[-1], b"".join(seen)
        proc.send_signal(sig)
        rc, err = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == code, err
    assert "Application shutdown complete" in err, err
    assert f"interrupted ({signal.Signals(sig).name})" in err and "Traceback" not in err


def test_a_signal_ignored_by_the_caller_stays_ignored(tmp_path: Path) -> None:
    """Under ``nohup`` (SIGHUP ignored) a hang-up does not stop the command."""
    small = Path(__file__).resolve().parent / "fixtures" / "outputs" / "catalogue.ttl"
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "from cica_ld.cli import app\n"
        "from cica_ld.cli.app import signals_raise\n"
        "with signals_raise():\n"
        "    signal.raise_signal(signal.SIGHUP)\n"
        "    print(signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL)\n"
        "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [b"True", b"True"]
    assert small.is_file()
