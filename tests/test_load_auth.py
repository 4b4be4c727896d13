"""`cica-ld load --user`: HTTP Digest against a real Virtuoso (its /sparql-graph-crud-auth), HTTP
Basic against a loopback proxy in front of a real Oxigraph; the password from
$CICA_LD_PASSWORD, a netrc file or a hidden prompt, never from the command line."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from _proxy import Proxy, running
from conftest import VIRTUOSO_PASSWORD, VIRTUOSO_USER, OxigraphServer, VirtuosoServer
from typer.testing import CliRunner

from cica_ld import endpoint
from cica_ld.cli import app

pytestmark = pytest.mark.slow
EX = "http://example.org/"


def cli(*args: str, **kw: Any) -> Any:
    return CliRunner().invoke(app, ["load", *args], **kw)


def data(tmp_path: Path, n: int = 5) -> Path:
    p = tmp_path / "d.ttl"
    p.write_text("".join(f"<{EX}s{i}> <{EX}p> {i} .\n" for i in range(n)), encoding="utf-8")
    return p


def graph() -> str:
    return f"{EX}graph/{uuid.uuid4()}"


def virtuoso_count(server: VirtuosoServer, g: str) -> int:
    r = httpx.post(
        server.query_url,
        data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    r.raise_for_status()
    return int(json.loads(r.content)["results"]["bindings"][0]["n"]["value"])


# --- Digest: Virtuoso ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["auto", "digest"])
def test_digest_with_the_password_from_the_environment(
    virtuoso_server: VirtuosoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    monkeypatch.setenv("CICA_LD_PASSWORD", VIRTUOSO_PASSWORD)
    g = graph()
    res = cli(
        "--endpoint", virtuoso_server.store_url, "--graph", g, "--data", str(data(tmp_path)),
        "--user", VIRTUOSO_USER, "--auth", scheme,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert virtuoso_count(virtuoso_server, g) == 5


def test_without_credentials_virtuoso_says_401_exit_3_with_a_hint(
    virtuoso_server: VirtuosoServer, tmp_path: Path
) -> None:
    res = cli(
        "--endpoint", virtuoso_server.store_url, "--graph", graph(), "-d", str(data(tmp_path))
    )
    assert res.exit_code == 3
    assert "HTTP 401" in res.stderr
    assert "--user" in res.stderr  # the hint


def test_wrong_password_is_exit_3(
    virtuoso_server: VirtuosoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CICA_LD_PASSWORD", "not-the-password")
    g = graph()
    res = cli(
        "--endpoint", virtuoso_server.store_url, "--graph", g, "-d", str(data(tmp_path)),
        "--user", VIRTUOSO_USER,
    )  # fmt: skip
    assert res.exit_code == 3
    assert "HTTP 401" in res.stderr
    assert "check the user name and password" in res.stderr
    assert virtuoso_count(virtuoso_server, g) == 0


def test_basic_forced_on_a_digest_server_is_refused(
    virtuoso_server: VirtuosoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CICA_LD_PASSWORD", VIRTUOSO_PASSWORD)
    res = cli(
        "--endpoint", virtuoso_server.store_url, "--graph", graph(), "-d", str(data(tmp_path)),
        "--user", VIRTUOSO_USER, "--auth", "basic",
    )  # fmt: skip
    assert res.exit_code == 3
    assert "HTTP 401" in res.stderr


def test_netrc_file_gives_user_and_password(
    virtuoso_server: VirtuosoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(
        f"machine 127.0.0.1 login {VIRTUOSO_USER} password {VIRTUOSO_PASSWORD}\n",
        encoding="utf-8",
    )
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    g = graph()
    res = cli("--endpoint", virtuoso_server.store_url, "--graph", g, "-d", str(data(tmp_path)))
    assert res.exit_code == 0, res.output
    assert virtuoso_count(virtuoso_server, g) == 5
    # --user with the netrc's login takes the netrc's password
    res = cli(
        "--endpoint", virtuoso_server.store_url, "--graph", g, "-d", str(data(tmp_path, 7)),
        "--user", VIRTUOSO_USER, "--replace",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert virtuoso_count(virtuoso_server, g) == 7


def test_the_password_is_asked_hidden_on_a_terminal(
    virtuoso_server: VirtuosoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cica_ld.cli import load as load_cli

    monkeypatch.setattr(load_cli, "isatty", lambda stream: True)
    g = graph()
    res = cli(
        "--endpoint", virtuoso_server.store_url, "--graph", g, "-d", str(data(tmp_path)),
        "--user", VIRTUOSO_USER, input=VIRTUOSO_PASSWORD + "\n",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"Password for {VIRTUOSO_USER} at 127.0.0.1" in res.stderr
    after_prompt = res.stderr.split(f"Password for {VIRTUOSO_USER} at 127.0.0.1:", 1)[1]
    assert not after_prompt.lstrip(" ").startswith(VIRTUOSO_PASSWORD)  # not echoed
    assert virtuoso_count(virtuoso_server, g) == 5


# --- Basic: a proxy in front of Oxigraph -------------------------------------------------------


def test_basic_auth_detected_from_the_challenge(
    oxigraph_server: OxigraphServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CICA_LD_PASSWORD", "s3cret")
    with running(Proxy(oxigraph_server.base, basic=("alice", "s3cret"))) as proxy:
        res = cli("--endpoint", proxy.base + "/store", "-d", str(data(tmp_path)), "-u", "alice")
        assert res.exit_code == 0, res.output
        # the first request is answered 401 (the challenge), the same request then passes
        assert [s[3] for s in proxy.seen] == [401, 200]
        res = cli(
            "--endpoint", proxy.base + "/store", "-d", str(data(tmp_path)), "-u", "alice",
            "--auth", "digest",
        )  # fmt: skip
        assert res.exit_code == 3
        assert "HTTP 401" in res.stderr
    r = httpx.post(
        oxigraph_server.query_url,
        data={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert json.loads(r.content)["results"]["bindings"][0]["n"]["value"] == "5"


# --- no password, no option for it ---------------------------------------------------------------


def test_user_without_any_password_source_is_a_usage_error(tmp_path: Path) -> None:
    res = cli("--endpoint", "http://127.0.0.1:9/store", "-d", str(data(tmp_path)), "-u", "bob")
    assert res.exit_code == 2
    assert "no password for --user bob" in res.stderr
    assert "CICA_LD_PASSWORD" in res.stderr


def test_there_is_no_password_option(tmp_path: Path) -> None:
    res = cli("--endpoint", "http://127.0.0.1:9/store", "--password", "x")
    assert res.exit_code == 2
    assert "No such option" in res.output
    assert "CICA_LD_PASSWORD" in CliRunner().invoke(app, ["load", "--help"]).stdout


def test_password_in_the_environment_without_user_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CICA_LD_PASSWORD", "x")
    res = cli("--endpoint", "http://127.0.0.1:9/store", "-d", str(data(tmp_path)))
    assert res.exit_code == 2
    assert "--user" in res.stderr


def test_unknown_auth_scheme_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = cli("--endpoint", "http://127.0.0.1:9/s", "-d", str(data(tmp_path)), "--auth", "ntlm")
    assert res.exit_code == 2
    assert "unknown --auth 'ntlm'" in res.stderr
    monkeypatch.setenv("CICA_LD_PASSWORD", "x")
    res = cli(
        "--endpoint", "http://127.0.0.1:9/s", "-d", str(data(tmp_path)), "-u", "a", "--auth", "ntlm"
    )
    assert res.exit_code == 2
    assert "ntlm" in res.stderr


# --- the library pieces ------------------------------------------------------------------------


def test_netrc_lookup(tmp_path: Path) -> None:
    f = tmp_path / "n"
    f.write_text("machine h1 login u1 password p1\ndefault login u0 password p0\n")
    f.chmod(0o600)
    assert endpoint.netrc_credentials(f, "h1") == ("u1", "p1")
    assert endpoint.netrc_credentials(f, "other") == ("u0", "p0")
    assert endpoint.netrc_credentials(f, "h1", user="someone-else") is None
    assert endpoint.netrc_credentials(tmp_path / "missing", "h1") is None
    bad = tmp_path / "bad"
    bad.write_text("machine h1 frobnicate x\n")
    with pytest.raises(endpoint.UsageError, match="netrc"):
        endpoint.netrc_credentials(bad, "h1")


def test_credentials_never_show_the_password() -> None:
    c = endpoint.Credentials("u", "hunter2")
    assert "hunter2" not in repr(c)


def test_challenge_schemes() -> None:
    h = httpx.Headers(
        [
            ("WWW-Authenticate", 'Digest realm="a, b", nonce="x", qop="auth"'),
            ("WWW-Authenticate", 'Basic realm="r", Bearer'),
        ]
    )
    assert endpoint._challenge_schemes(h) == ["digest", "basic", "bearer"]
