"""Progress on stderr for long runs (issue 7.3): the reporter, the stages the library reports,
and the CLI wiring (silent unless stderr is a terminal or CICA_LD_PROGRESS=always; silent for
runs shorter than CICA_LD_PROGRESS_AFTER seconds; stdout untouched)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cica_ld import progress as pg
from tests.conftest import ROOT, Recorder


def _wait_for(predicate, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_reporter_is_silent_before_its_threshold() -> None:
    out = io.StringIO()
    with pg.StderrProgress(out, after=60, tick=0.01) as p:
        p.stage("loading x")
        time.sleep(0.1)
    assert out.getvalue() == ""


def test_reporter_logs_stages_and_counts_as_lines() -> None:
    out = io.StringIO()
    with pg.StderrProgress(out, after=0, tick=0.01, log_interval=0) as p:
        p.stage("loading data.ttl")
        _wait_for(lambda: "loading data.ttl" in out.getvalue())
        p.stage("validating", total=3)
        p.advance(2)
        _wait_for(lambda: "validating: 2/3" in out.getvalue())
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("cica-ld: loading data.ttl (")
    assert all(line.startswith("cica-ld: ") and line.endswith(" s)") for line in lines)
    assert "\r" not in out.getvalue()


def test_reporter_rewrites_one_line_on_a_terminal_and_clears_it() -> None:
    out = io.StringIO()
    with pg.StderrProgress(out, after=0, tick=0.01, live=True) as p:
        p.stage("rendering", total=10)
        p.advance(4)
        _wait_for(lambda: "rendering: 4/10" in out.getvalue())
    text = out.getvalue()
    assert "\n" not in text
    assert text.startswith("\rcica-ld: rendering")
    assert text.endswith("\r") and text.rstrip("\r").endswith(" ")  # blanked at the end


def test_reporter_stops_on_a_closed_stream() -> None:
    out = io.StringIO()
    out.close()
    with pg.StderrProgress(out, after=0, tick=0.01) as p:
        p.stage("loading")
        time.sleep(0.05)  # no exception escapes the thread or the exit


def test_file_size() -> None:
    assert pg.file_size(812) == "812 B"
    assert pg.file_size(54_933_543) == "54.9 MB"
    assert pg.file_size(2_500_000_000) == "2.5 GB"


def test_validation_reports_its_stages_and_counts_every_piece_of_work() -> None:
    from cica_ld import validation
    from cica_ld.shacl.backend import LocalBackend
    from cica_ld.shacl.engine import Engine

    rec = Recorder()
    report = validation.validate(progress=rec)
    texts = [s[0] for s in rec.stages]
    loads = [t for t in texts if t.startswith("loading ")]
    data = validation._files(None, "data")
    assert all(any(str(f) in t for t in loads) for f in data)
    assert "checking the shapes graph" in texts
    (engine_stage,) = [s for s in rec.stages if s[0].startswith("validating")]
    shapes = validation.load_graph(validation._files(None, "shapes")).store
    onto = validation.load_graph(validation._files(None, "ontology")).store
    store = validation.load_graph(data).store
    units = len(Engine(LocalBackend(store), shapes, onto).units())
    assert engine_stage[1] == units and engine_stage[2] == units
    # stages come in the order of the run: shapes, data, engine
    assert texts.index("checking the shapes graph") < texts.index(engine_stage[0])
    assert report.conforms


def test_publish_counts_the_files_it_writes(tmp_path: Path) -> None:
    from cica_ld import publish

    rec = Recorder()
    result = publish.publish(tmp_path / "site", progress=rec)
    stages = {s[0]: s for s in rec.stages}
    assert stages["writing files"][1] == stages["writing files"][2] == result.files
    rendering = stages["rendering resource pages"]
    assert rendering[1] == rendering[2] > 0


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    for name in ("CICA_LD_PROGRESS", "CICA_LD_PROGRESS_AFTER"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "cica_ld", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~20k generated triples with defects: a run long enough for a few progress ticks."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    path = tmp_path_factory.mktemp("progress") / "data.ttl"
    generate.write(path, 20_000, seed=5, defect_rate=0.01)
    return path


def test_cli_progress_goes_to_stderr_only_when_asked(generated: Path) -> None:
    args = ["validate", "--data", str(generated), "-s", str(ROOT / "shapes"), "-f", "json"]
    args += ["-e", str(ROOT / "ontology")]
    quiet = _cli(args, {})  # stderr is a pipe: auto mode stays silent
    shown = _cli(args, {"CICA_LD_PROGRESS": "always", "CICA_LD_PROGRESS_AFTER": "0"})
    assert quiet.returncode == shown.returncode == 1
    # no progress; only the warnings about what was not checked (shapes the data has no
    # instances for), which every run gives
    assert all(line.startswith("cica-ld: warning: ") for line in quiet.stderr.splitlines())
    lines = shown.stderr.splitlines()
    assert lines and all(line.startswith("cica-ld: ") for line in lines)
    a, b = json.loads(quiet.stdout), json.loads(shown.stdout)
    a.pop("seconds", None), b.pop("seconds", None)
    assert a["results"] == b["results"]
    assert len(lines) > len(quiet.stderr.splitlines())
    never = _cli(args, {"CICA_LD_PROGRESS": "never", "CICA_LD_PROGRESS_AFTER": "0"})
    assert never.stderr == quiet.stderr


def test_cli_export_progress_goes_to_stderr_only(generated: Path) -> None:
    args = ["export", "--data", str(generated), "-f", "jsonld"]
    quiet = _cli(args, {})
    shown = _cli(args, {"CICA_LD_PROGRESS": "always", "CICA_LD_PROGRESS_AFTER": "0"})
    assert quiet.returncode == shown.returncode == 0
    assert quiet.stderr == ""
    assert json.loads(shown.stdout) == json.loads(quiet.stdout)
    lines = shown.stderr.splitlines()
    assert lines and all(line.startswith("cica-ld: ") for line in lines)


def test_cli_export_to_a_terminal_shows_no_progress(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib

    from typer.testing import CliRunner

    from cica_ld.cli import app
    from cica_ld.cli import export as cli_export

    def run(recorder: Recorder) -> bytes:
        monkeypatch.setattr(cli_export, "cli_progress", lambda: contextlib.nullcontext(recorder))
        result = CliRunner().invoke(app, ["export", "--data", str(generated), "-f", "ntriples"])
        assert result.exit_code == 0
        return result.stdout_bytes

    piped, on_terminal = Recorder(), Recorder()
    out = run(piped)  # stdout is not a terminal: the command reports its stages
    assert any(stage[0].startswith("writing N-Triples") for stage in piped.stages)
    monkeypatch.setattr(cli_export, "isatty", lambda stream: True)
    assert run(on_terminal) == out  # the data goes to a terminal: no progress at all
    assert on_terminal.stages == []


def test_reporter_logs_the_last_stage_of_a_run_ending_between_ticks() -> None:
    out = io.StringIO()
    with pg.StderrProgress(out, after=0, tick=60) as p:  # the thread never gets to report
        p.stage("loading x")
        p.stage("writing the report")
    assert out.getvalue().startswith("cica-ld: writing the report (")
    live = io.StringIO()
    with pg.StderrProgress(live, after=0, tick=60, live=True) as p:
        p.stage("writing the report")
    assert live.getvalue() == ""  # a terminal line would only be cleared again
