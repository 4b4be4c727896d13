"""The command line as a whole: help, version, console scripts, `python -m cica_ld`, and a
start-up that does not import the heavy libraries."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import cica_ld
from cica_ld.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HEAVY = ("rdflib", "pyshacl", "pyld")


def test_help_lists_the_query_commands():
    r = CliRunner().invoke(app, ["--help"])
    assert r.exit_code == 0
    assert "query" in r.stdout and "queries" in r.stdout
    assert "Exit codes" in r.stdout


def test_no_arguments_shows_help():
    r = CliRunner().invoke(app, [])
    assert "Usage" in r.stdout + r.stderr


def test_version():
    r = CliRunner().invoke(app, ["--version"])
    assert (r.exit_code, r.stdout) == (0, f"cica-ld {cica_ld.__version__}\n")


def test_unknown_command_and_option_are_exit_2():
    assert CliRunner().invoke(app, ["frobnicate"]).exit_code == 2
    assert CliRunner().invoke(app, ["query", "ASK {}", "--no-such-option"]).exit_code == 2


def _commands() -> list[str]:
    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_ending_with_an_example(command: str):
    r = CliRunner().invoke(app, [command, "--help"])
    assert r.exit_code == 0, r.stderr
    doc = typer.main.get_command(app).commands[command].help or ""  # type: ignore[attr-defined]
    last = [line for line in doc.strip().splitlines() if line.strip()][-1].strip()
    assert last.startswith(f"Example: cica-ld {command}"), last
    assert "Example: cica-ld" in r.stdout


def _modules_after(args: list[str]) -> tuple[int, set[str]]:
    """Run the CLI in a fresh interpreter; its exit code and the modules it imported."""
    code = (
        "import json, sys\n"
        f"sys.argv = ['cica-ld', *{args!r}]\n"
        "from cica_ld.cli import main\n"
        "status = 0\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    status = exc.code or 0\n"
        "sys.stdout.flush()\n"
        "print(json.dumps({'status': status, 'modules': sorted(sys.modules)}), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["status"], {m.split(".")[0] for m in report["modules"]}


def test_help_imports_no_heavy_library():
    status, modules = _modules_after(["--help"])
    assert status == 0
    assert not modules & set(HEAVY), modules & set(HEAVY)
    assert "typer" in modules  # the probe does see imports


def test_query_path_imports_no_heavy_library(tmp_path):
    """`cica-ld query` on local data imports neither rdflib, pyshacl, pyld nor httpx, and no
    pydantic either (typer would import it to convert option values: see cli/fastparams.py)."""
    data = FIXTURES / "query" / "data"
    args = ["query", "SELECT * WHERE { ?s ?p ?o }", "-d", str(data), "-p", "s=1", "-f", "csv"]
    out = tmp_path / "out.csv"  # never a real device: tests write inside tmp_path only
    status, modules = _modules_after([*args, "-o", str(out), "--timeout", "5"])
    assert status == 0
    assert set(out.read_text(encoding="utf-8").splitlines()[0].split(",")) == {"s", "p", "o"}
    assert "pyoxigraph" in modules
    forbidden = {*HEAVY, "httpx", "pydantic"}
    assert not modules & forbidden, modules & forbidden


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "0.0 is not in the range x>=0.001."), ("abc", "'abc' is not a valid float.")],
)
def test_fast_option_conversion_keeps_typers_checks(value: str, message: str):
    r = CliRunner().invoke(app, ["query", "ASK {}", "--timeout", value])
    assert r.exit_code == 2
    assert message in r.stderr
    assert typer.core.build_runtime_param._cica_fast  # type: ignore[attr-defined]


def test_fast_option_conversion_gives_typed_values(tmp_path: Path):
    seen = {}

    @app.command("_probe", hidden=True)
    def probe(
        paths: list[Path] = typer.Option([], "--path"),
        number: int = typer.Option(3, "--number", max=10),
        ratio: float = typer.Option(0.5, "--ratio"),
        name: str = typer.Option("x", "--name"),
    ) -> None:
        seen.update(paths=paths, number=number, ratio=ratio, name=name)

    try:
        r = CliRunner().invoke(
            app, ["_probe", "--path", "a", "--path", str(tmp_path), "--number", "7", "--name", "é"]
        )
        assert r.exit_code == 0, r.stderr
        assert seen == {"paths": [Path("a"), tmp_path], "number": 7, "ratio": 0.5, "name": "é"}
        r = CliRunner().invoke(app, ["_probe", "--number", "11"])
        assert r.exit_code == 2 and "11 is not in the range x<=10." in r.stderr
    finally:
        app.registered_commands[:] = [c for c in app.registered_commands if c.name != "_probe"]


def _declared_scripts() -> dict[str, str]:
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml")

    with open(ROOT / "pyproject.toml", "rb") as fh:
        return dict(tomllib.load(fh)["project"]["scripts"])


def test_every_declared_console_script_loads_and_runs():
    declared = _declared_scripts()
    assert declared, "pyproject.toml declares no console script"
    installed = {
        ep.name: ep
        for ep in importlib.metadata.entry_points(group="console_scripts")
        if ep.dist is not None and ep.dist.name == "cica-ld"
    }
    assert set(installed) == set(declared), "reinstall: pip install -e '.[test]'"
    for name, target in declared.items():
        assert installed[name].value == target
        assert callable(installed[name].load())
        script = Path(sys.executable).parent / name
        proc = subprocess.run(
            [str(script), "--version"], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"cica-ld {cica_ld.__version__}"


def test_python_dash_m():
    proc = subprocess.run(
        [sys.executable, "-m", "cica_ld", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"cica-ld {cica_ld.__version__}"


def test_python_dash_m_reports_errors_with_exit_codes(tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cica_ld",
            "query",
            "DROP ALL",
            "-d",
            str(FIXTURES / "query" / "data"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("cica-ld: error: <query>:1:1: SPARQL Update (DROP) is refused")
    assert proc.stdout == ""
