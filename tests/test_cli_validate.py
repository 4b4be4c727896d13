"""`cica-ld validate` from the command line: exit codes, output, every bad input as a one-line
error (never a traceback), the pre-commit hooks and the example GitHub Actions workflow run as
written, and validation against a real Oxigraph server."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import jsonschema
import pyoxigraph
import pytest
import yaml
from conftest import FIXTURES, ROOT, OxigraphServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cica_ld.cli import app

BASIC = FIXTURES / "validate-basic"
BAD_SHAPES = FIXTURES / "validate-shapes"
SHAPES = ["--shapes", str(BASIC / "shapes.ttl"), "--ontology", str(BASIC / "ontology.ttl")]
VALID = str(BASIC / "data-valid.ttl")
INVALID = str(BASIC / "data-invalid.ttl")
CICA_LD = str(Path(sys.executable).parent / "cica-ld")


def cli(*args: str):
    return CliRunner().invoke(app, ["validate", *args])


def assert_one_line_error(result, *needles: str, code: int = 2) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    err = result.stderr
    assert err.startswith("cica-ld: error: ")
    assert "Traceback" not in err
    lines = [line for line in err.strip().split("\n") if not line.startswith("  hint:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


def test_conforming_data_exits_0() -> None:
    result = cli("--data", VALID, *SHAPES)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("conforms")
    assert result.stderr == ""


def test_non_conforming_data_exits_1() -> None:
    result = cli("--data", INVALID, *SHAPES)
    assert result.exit_code == 1
    assert f"{INVALID}:9:1: violation: A person needs a name (a string) [ex:PersonShape-name]" in (
        result.stdout
    )
    assert result.stdout.rstrip().split("\n")[-1].startswith("does not conform: 7 violations")
    assert result.stderr == ""


def test_fail_on(tmp_path: Path) -> None:
    # only a warning and an info
    data = tmp_path / "soft.ttl"
    data.write_text(
        "@prefix ex: <http://example.org/ns#> .\n"
        'ex:heidi ex:nickname "Heidi-the-great" .\n'
        'ex:ivy ex:homepage "http://ivy.example.org/" .\n',
        encoding="utf-8",
    )
    assert cli("--data", str(data), *SHAPES).exit_code == 0
    assert cli("--data", str(data), *SHAPES, "--fail-on", "violation").exit_code == 0
    assert cli("--data", str(data), *SHAPES, "--fail-on", "warning").exit_code == 1
    assert cli("--data", str(data), *SHAPES, "--fail-on", "info").exit_code == 1
    only_info = tmp_path / "info.ttl"
    only_info.write_text(
        '@prefix ex: <http://example.org/ns#> .\nex:ivy ex:homepage "http://ivy.example/" .\n',
        encoding="utf-8",
    )
    assert cli("--data", str(only_info), *SHAPES, "--fail-on", "warning").exit_code == 0
    assert cli("--data", str(only_info), *SHAPES, "--fail-on", "info").exit_code == 1


def test_positional_paths_add_to_data() -> None:
    result = cli(INVALID, *SHAPES, "-f", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["sources"]["data"][0]["path"] == INVALID
    both = cli("--data", VALID, INVALID, *SHAPES, "-f", "json")
    assert [d["path"] for d in json.loads(both.stdout)["sources"]["data"]] == [VALID, INVALID]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("r.sarif", "sarif"), ("r.json", "json"), ("r.xml", "junit"), ("r.ttl", "turtle")],
)
def test_output_file_takes_its_format_from_the_extension(
    tmp_path: Path, name: str, fmt: str
) -> None:
    out = tmp_path / name
    result = cli("--data", INVALID, *SHAPES, "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    if fmt in ("sarif", "json"):
        doc = json.loads(text)
        assert ("runs" in doc) == (fmt == "sarif")
    elif fmt == "junit":
        assert text.startswith('<?xml version="1.0"')
    else:
        assert "sh:ValidationReport" in text
    # an explicit --format wins over the extension
    cli("--data", INVALID, *SHAPES, "-o", str(out), "-f", "github")
    assert out.read_text(encoding="utf-8").startswith("::error ")


def test_max_results() -> None:
    result = cli("--data", INVALID, *SHAPES, "--max-results", "3")
    assert result.exit_code == 1
    assert result.stdout.count(": violation: ") == 3
    assert "6 more results not shown (--max-results 3)" in result.stdout


def test_help_ends_with_an_example() -> None:
    result = CliRunner().invoke(app, ["validate", "--help"])
    assert result.exit_code == 0
    assert "Example: cica-ld validate" in result.stdout


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, one line, no traceback


def test_missing_file() -> None:
    assert_one_line_error(cli("--data", str(BASIC / "nope.ttl"), *SHAPES), "nope.ttl", "no such")


def test_syntax_error_in_data(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/ns#> .\nex:a ex:p "open .\n', "utf-8")
    assert_one_line_error(cli("--data", str(bad), *SHAPES), f"{bad}:2:")


def test_syntax_error_in_shapes() -> None:
    bad = BAD_SHAPES / "syntax-error.ttl"
    assert_one_line_error(cli("--data", VALID, "--shapes", str(bad)), f"{bad}:8:5:")


def test_invalid_shapes_graph() -> None:
    bad = BAD_SHAPES / "bad-count.ttl"
    assert_one_line_error(
        cli("--data", VALID, "--shapes", str(bad), "--no-ontology"),
        f"{bad}:10:1: invalid shapes graph: ex:BadCountShape-name: sh:minCount",
    )


def test_binary_junk_and_folders(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ttl"
    junk.write_bytes(bytes(range(256)) * 4)
    assert_one_line_error(cli("--data", str(junk), *SHAPES), "junk.ttl")
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    assert_one_line_error(cli("--data", str(empty), *SHAPES), "empty-folder")
    assert_one_line_error(cli("--data", VALID, "--shapes", str(empty)), "empty-folder")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--format", "xml"], "--format"),
        (["--fail-on", "error"], "--fail-on"),
        (["--engine", "jena"], "--engine"),
        (["--inference", "owl2"], "--inference"),
        (["--input-format", "csv"], "--input-format"),
    ],
)
def test_bad_option_values(args: list[str], needle: str) -> None:
    assert_one_line_error(cli("--data", VALID, *SHAPES, *args), needle)


def test_bad_max_results_and_output(tmp_path: Path) -> None:
    result = cli("--data", VALID, *SHAPES, "--max-results", "-1")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert_one_line_error(
        cli("--data", VALID, *SHAPES, "-o", str(tmp_path / "no" / "such" / "dir.json")),
        "folder does not exist",
    )


def test_failed_run_leaves_no_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    out.write_text("old", encoding="utf-8")
    result = cli("--data", str(BASIC / "nope.ttl"), *SHAPES, "-o", str(out))
    assert result.exit_code == 2
    assert out.read_text(encoding="utf-8") == "old"


def test_data_and_endpoint_exclude_each_other() -> None:
    assert_one_line_error(
        cli("--data", VALID, *SHAPES, "--endpoint", "http://127.0.0.1:9/sparql"), "--endpoint"
    )


# --------------------------------------------------------------------------------------------
# The embedded dataset


@pytest.mark.slow
def test_embedded_default_validates_and_exits_0() -> None:
    result = cli()
    assert result.exit_code == 0, result.stdout[-2000:] + result.stderr
    assert result.stdout.startswith("conforms")


# --------------------------------------------------------------------------------------------
# pre-commit hooks and the GitHub Actions example, run as written


def hooks() -> dict[str, dict]:
    return {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def run_entry(entry: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(entry)
    assert argv[0] == "cica-ld"
    return subprocess.run(
        [CICA_LD, *argv[1:], *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_pre_commit_hook_validates_the_dataset(tmp_path: Path) -> None:
    import re

    hook = hooks()["cica-ld-validate"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    for name in ("a.ttl", "b.nt", "c.nq", "d.trig", "e.rdf", "f.jsonld"):
        assert pattern.search(name), name
    assert not pattern.search("README.md")
    good = run_entry(hook["entry"], ["--data", VALID, *SHAPES])
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run_entry(hook["entry"], ["--data", INVALID, *SHAPES])
    assert bad.returncode == 1
    assert f"{INVALID}:9:1: violation:" in bad.stdout


def test_pre_commit_hook_on_changed_files() -> None:
    hook = hooks()["cica-ld-validate-files"]
    assert hook["pass_filenames"] is True
    # pre-commit runs: entry + args + the changed files
    good = run_entry(hook["entry"], [*SHAPES, VALID])
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run_entry(hook["entry"], [*SHAPES, VALID, INVALID])
    assert bad.returncode == 1
    assert f"{INVALID}:12:1: violation:" in bad.stdout


def test_github_actions_example(tmp_path: Path) -> None:
    workflow = yaml.safe_load(
        (ROOT / "docs" / "examples" / "github-actions-validate.yml").read_text()
    )
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["validate"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert "cica-ld" in install["run"]
    validate_step = next(s for s in steps if s.get("id") == "validate")
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload"))
    argv = shlex.split(validate_step["run"])
    assert argv[argv.index("--output") + 1] == upload["with"]["sarif_file"]
    # run the step's command on our fixtures: the paths swapped, everything else as written
    swap = {"data/": INVALID, "shapes/": str(BASIC / "shapes.ttl")}
    swap["ontology/"] = str(BASIC / "ontology.ttl")
    swap["shacl.sarif"] = str(tmp_path / "shacl.sarif")
    args = [swap.get(a, a) for a in argv[2:]]
    done = subprocess.run([CICA_LD, argv[1], *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    sarif = json.loads((tmp_path / "shacl.sarif").read_text())
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert len(sarif["runs"][0]["results"]) == 9
    annotate = shlex.split(steps[-1]["run"])
    done = subprocess.run(
        [CICA_LD, annotate[1], *[swap.get(a, a) for a in annotate[2:]]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("::error file=")


# --------------------------------------------------------------------------------------------
# --endpoint: SHACL over SPARQL against a real Oxigraph server


def put(server: OxigraphServer, path: Path) -> None:
    r = httpx.put(
        f"{server.store_url}?default",
        content=path.read_bytes(),
        headers={"Content-Type": "text/turtle"},
        timeout=30,
    )
    assert r.status_code in (200, 201, 204), r.text


@pytest.mark.slow
def test_endpoint_conforming_and_broken(oxigraph_server: OxigraphServer, tmp_path: Path) -> None:
    # IRIs only: an endpoint cannot name a blank focus node in a query
    put(oxigraph_server, Path(VALID))
    ok = cli("--endpoint", oxigraph_server.query_url, *SHAPES, "-f", "json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["sources"]["endpoint"] == oxigraph_server.query_url
    broken = tmp_path / "broken.ttl"
    broken.write_text(
        "@prefix ex: <http://example.org/ns#> .\n"
        "ex:bob a ex:Person .\n"
        'ex:carol a ex:Person ; ex:name "Carol" ; ex:age "old" .\n'
        'ex:dave a ex:Person ; ex:name "Dave" ; ex:worksFor ex:notAnOrg .\n'
        'ex:erin a ex:Person ; ex:name "Erin" ; ex:email "erin at example.org" .\n'
        'ex:heidi ex:nickname "Heidi-the-great" .\n'
        'ex:judy a ex:Employee ; ex:name "Judy" ; ex:age 30 , 31 .\n'
        'ex:kim a ex:Person ; ex:name "Kim" ; ex:worksFor ex:initech .\n'
        "ex:initech a ex:Company .\n",
        encoding="utf-8",
    )
    put(oxigraph_server, broken)
    bad = cli("--endpoint", oxigraph_server.query_url, *SHAPES, "-f", "json")
    assert bad.exit_code == 1, bad.stderr
    remote = json.loads(bad.stdout)
    local = json.loads(cli("--data", str(broken), *SHAPES, "-f", "json").stdout)

    def keyset(doc: dict) -> set:
        return {
            (
                r["focusNode"],
                r["sourceShape"] if r["sourceShape"].startswith("<") else "_",
                r["sourceConstraintComponent"],
                r["path"],
                r["value"],
            )
            for r in doc["results"]
        }

    assert keyset(remote) == keyset(local) and remote["counts"] == local["counts"]
    assert all(r["location"] is None for r in remote["results"])


def test_unreachable_endpoint_exits_3() -> None:
    from conftest import free_port

    result = cli("--endpoint", f"http://127.0.0.1:{free_port()}/query", *SHAPES, "--timeout", "2")
    assert_one_line_error(result, "127.0.0.1", code=3)


def test_no_pyoxigraph_terms_leak_into_stdout() -> None:
    # blank-node focus nodes print as _:id (N-Triples), never as Python reprs
    result = cli("--data", INVALID, *SHAPES)
    assert "BlankNode" not in result.stdout and "NamedNode" not in result.stdout
    assert pyoxigraph  # the store library the CLI uses (imported for the type check above)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    junk=st.one_of(
        st.binary(max_size=300),
        st.text(
            alphabet=st.sampled_from(list("@prefix ex: <http://e/> .;,[]()\"'#\n ab_:1^")),
            max_size=200,
        ),
    ),
    role=st.sampled_from(["data", "shapes"]),
)
def test_random_input_never_makes_a_traceback(tmp_path: Path, junk: bytes | str, role: str) -> None:
    path = tmp_path / "junk.ttl"
    if isinstance(junk, str):
        path.write_text(junk, encoding="utf-8")
    else:
        path.write_bytes(junk)
    if role == "data":
        result = cli("--data", str(path), *SHAPES)
    else:
        result = cli("--data", VALID, "--shapes", str(path), "--no-ontology")
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("cica-ld: error: ")
