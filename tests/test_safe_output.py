"""Safe output: what ``-o`` does with something that is not a plain file, in every command.

For ``query``, ``validate`` and ``export``, through the CLI, on FOAF data and shapes of our own
(``tests/fixtures/safe-output/``):

- a FIFO and a character device are written through: still a FIFO / device afterwards, no
  temporary file beside them, the reader gets the same bytes as stdout would;
- a symbolic link is followed: the link stays, its target is replaced atomically (mode kept);
  a dangling link creates its target; one into a missing folder is refused;
- ``-`` is stdout (no file named ``-``);
- a folder, a missing folder, an unknown extension and one of the command's own input files
  (by name, through a link, a hard link, or below an input folder) are exit 2, checked before
  any data is loaded (the data file of those tests would give a syntax error if it were).

Devices are only ever created inside ``tmp_path`` (``os.mknod``, as root; skipped otherwise) and
an autouse fixture checks that nothing outside ``tmp_path`` changed, ``/dev/null`` included
(looked at with ``stat``, never opened).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cica_ld import io
from cica_ld.cli import app
from cica_ld.errors import InputError

FIX = Path(__file__).resolve().parent / "fixtures" / "safe-output"
PEOPLE = FIX / "people.ttl"
SHAPES = FIX / "shapes.ttl"
BROKEN = FIX / "broken.ttl"
NAMES = FIX / "names.rq"

# command -> (arguments before the data, format, extension, exit code of a good run)
COMMANDS: dict[str, tuple[list[str], str, str, int]] = {
    "query": (["query", str(NAMES)], "csv", ".csv", 0),
    "validate": (["validate", "--shapes", str(SHAPES), "--no-ontology"], "json", ".json", 1),
    "export": (["export"], "ntriples", ".nt", 0),
}


def run(command: str, *extra: str, data: Path = PEOPLE, fmt: bool = True):
    """Run ``command`` on ``data`` (with its ``--format`` unless ``fmt`` is false)."""
    args, format_name, _, _ = COMMANDS[command]
    fmt_args = ["-f", format_name] if fmt else []
    return CliRunner().invoke(app, [*args, "--data", str(data), *fmt_args, *extra])


def expected(command: str) -> bytes:
    """What ``command`` writes to stdout: every other target must get these bytes."""
    result = run(command)
    assert result.exit_code == COMMANDS[command][3], result.output
    assert result.stdout_bytes
    return result.stdout_bytes


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry below ``folder`` (links not followed): its inode and file type."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(folder))] = (st.st_ino, stat.S_IFMT(st.st_mode))
    return out


@pytest.fixture(autouse=True)
def _nothing_outside_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run in ``tmp_path``; afterwards the fixtures and ``/dev/null`` are as they were."""
    monkeypatch.chdir(tmp_path)
    fixtures = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in FIX.iterdir()}
    null = os.lstat("/dev/null") if os.path.lexists("/dev/null") else None
    yield
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in FIX.iterdir()} == fixtures
    if null is not None:
        after = os.lstat("/dev/null")
        assert (after.st_ino, after.st_mode, after.st_rdev) == (
            null.st_ino,
            null.st_mode,
            null.st_rdev,
        )


class FifoReader(threading.Thread):
    """Reads a FIFO to its end in the background (what a consumer of ``-o fifo`` does)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.data: bytes | None = None

    def run(self) -> None:
        with open(self.path, "rb") as fh:
            self.data = fh.read()

    def finish(self) -> bytes | None:
        self.join(timeout=20)
        if self.is_alive():  # the command never opened the FIFO: let the reader go
            with contextlib.suppress(OSError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            self.join(timeout=5)
        return self.data


# ---------------------------------------------------------------------------------------------
# Devices and FIFOs are written through


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fifo_is_written_through(tmp_path: Path, command: str) -> None:
    want = expected(command)
    fifo = tmp_path / "results"
    os.mkfifo(fifo)
    before = listing(tmp_path)
    reader = FifoReader(fifo)
    reader.start()
    result = run(command, "-o", str(fifo))
    got = reader.finish()
    assert result.exit_code == COMMANDS[command][3], result.output
    assert result.stdout == ""
    assert got == want
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert listing(tmp_path) == before  # same inode, no temporary file left beside it


def _null_device(tmp_path: Path) -> Path:
    """A character device (the null device, 1:3) inside ``tmp_path``, or skip."""
    dev = tmp_path / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"cannot create a device node here (needs root / CAP_MKNOD): {exc}")
    try:
        os.close(os.open(dev, os.O_WRONLY))
    except OSError as exc:  # e.g. a file system mounted nodev
        pytest.skip(f"device nodes cannot be opened in {tmp_path}: {exc}")
    return dev


@pytest.mark.parametrize("command", COMMANDS)
def test_a_character_device_is_written_through(tmp_path: Path, command: str) -> None:
    dev = _null_device(tmp_path)
    before = listing(tmp_path)
    result = run(command, "-o", str(dev))
    assert result.exit_code == COMMANDS[command][3], result.output
    assert result.stdout == ""
    st = dev.lstat()
    assert stat.S_ISCHR(st.st_mode)
    assert st.st_rdev == os.makedev(1, 3)
    assert listing(tmp_path) == before


def test_a_path_that_stops_being_a_device_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without root: stat says "character device" for a regular file, as if a device had been
    # replaced by a file between the check and the write. It is not written into, nor renamed
    # over; and it was taken for a device to write through, not a file to replace.
    target = tmp_path / "tty"
    target.write_bytes(b"keep me\n")
    real_stat = os.stat

    def fake_stat(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        st = real_stat(path, *args, **kwargs)
        if os.fspath(path) == os.fspath(target):
            fields = list(st)
            fields[stat.ST_MODE] = stat.S_IFCHR | 0o666
            return os.stat_result(fields)
        return st

    before = listing(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(os, "stat", fake_stat)
        assert io.resolve_output(target).kind == "stream"
        with pytest.raises(InputError, match="changed while being opened"):
            io.atomic_write(target, b"new\n")
    assert target.read_bytes() == b"keep me\n"
    assert listing(tmp_path) == before


# ---------------------------------------------------------------------------------------------
# Symbolic links, stdout, regular files


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path, command: str) -> None:
    want = expected(command)
    ext = COMMANDS[command][2]
    real = tmp_path / f"real{ext}"
    real.write_bytes(b"old\n")
    os.chmod(real, 0o640)
    old_inode = real.stat().st_ino
    link = tmp_path / f"link{ext}"
    link.symlink_to(real.name)
    result = run(command, "-o", str(link), fmt=False)
    assert result.exit_code == COMMANDS[command][3], result.output
    assert link.is_symlink() and os.readlink(link) == real.name
    assert real.read_bytes() == want
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert real.stat().st_ino != old_inode  # replaced by a rename, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([real.name, link.name])


@pytest.mark.parametrize("command", COMMANDS)
def test_a_dangling_symlink_creates_its_target(tmp_path: Path, command: str) -> None:
    want = expected(command)
    ext = COMMANDS[command][2]
    link = tmp_path / f"link{ext}"
    link.symlink_to(f"new{ext}")
    result = run(command, "-o", str(link))
    assert result.exit_code == COMMANDS[command][3], result.output
    assert link.is_symlink()
    assert (tmp_path / f"new{ext}").read_bytes() == want


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symlink_into_a_missing_folder_is_refused(tmp_path: Path, command: str) -> None:
    link = tmp_path / "link.out"
    link.symlink_to("missing/new.out")
    result = run(command, "-o", str(link), data=BROKEN)
    assert result.exit_code == 2
    assert "folder" in result.stderr and "missing" in result.stderr
    assert "syntax error" not in result.stderr
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_dash_is_stdout(tmp_path: Path, command: str) -> None:
    want = expected(command)
    result = run(command, "-o", "-")
    assert result.exit_code == COMMANDS[command][3], result.output
    assert result.stdout_bytes == want
    assert list(tmp_path.iterdir()) == []  # no file named "-"


def test_dash_takes_the_default_format(tmp_path: Path) -> None:
    # "-" has no extension to go by: each command's stdout default, as without -o
    for command in COMMANDS:
        plain = run(command, fmt=False)
        dashed = run(command, "-o", "-", fmt=False)
        assert dashed.exit_code == plain.exit_code == COMMANDS[command][3], dashed.output
        assert dashed.stdout_bytes == plain.stdout_bytes


# ---------------------------------------------------------------------------------------------
# Refused before any work: exit 2 (the data file would give a syntax error if it were loaded)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_is_refused(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    result = run(command, "-o", str(folder), data=BROKEN)
    assert result.exit_code == 2
    assert f"{folder}: is a folder" in result.stderr
    assert "syntax error" not in result.stderr
    assert folder.is_dir() and list(folder.iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_folder_is_refused_before_loading(tmp_path: Path, command: str) -> None:
    out = tmp_path / "missing" / f"out{COMMANDS[command][2]}"
    result = run(command, "-o", str(out), data=BROKEN)
    assert result.exit_code == 2
    assert "the folder does not exist" in result.stderr
    assert "syntax error" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_extension_is_exit_2_before_loading(tmp_path: Path, command: str) -> None:
    out = tmp_path / "out.unknown"
    result = run(command, "-o", str(out), data=BROKEN, fmt=False)
    assert result.exit_code == 2
    assert "cannot tell the" in result.stderr and "'.unknown'" in result.stderr
    assert "--format" in result.stderr
    assert "syntax error" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_validate_report_extensions_still_choose_the_format(tmp_path: Path) -> None:
    for name in ("r.txt", "r.sarif.json", "report"):
        result = run("validate", "-o", str(tmp_path / name), fmt=False)
        assert result.exit_code == 1, result.output
    assert (tmp_path / "r.txt").read_text(encoding="utf-8").startswith(str(PEOPLE))
    assert '"runs"' in (tmp_path / "r.sarif.json").read_text(encoding="utf-8")
    assert "does not conform" in (tmp_path / "report").read_text(encoding="utf-8")


def _input_copy(tmp_path: Path) -> Path:
    data = tmp_path / "people.ttl"
    shutil.copyfile(PEOPLE, data)
    return data


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("how", ["same name", "symlink", "hard link"])
def test_an_input_file_is_never_the_output(tmp_path: Path, command: str, how: str) -> None:
    data = _input_copy(tmp_path)
    out = {"same name": data, "symlink": tmp_path / "link.ttl", "hard link": tmp_path / "h.ttl"}[
        how
    ]
    if how == "symlink":
        out.symlink_to(data.name)
    elif how == "hard link":
        os.link(data, out)
    result = run(command, "-o", str(out), data=data)
    assert result.exit_code == 2
    assert f"{out}: is also an input of this command: {data}" in result.stderr
    assert data.read_bytes() == PEOPLE.read_bytes()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_below_an_input_folder_is_never_the_output(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(PEOPLE, folder / "people.ttl")
    (folder / "more.nt").write_bytes(b'<http://example.org/a> <http://example.org/b> "c" .\n')
    kept = (folder / "more.nt").read_bytes()
    result = run(command, "-o", str(folder / "more.nt"), data=folder)
    assert result.exit_code == 2
    assert f"is also an input of this command: {folder / 'more.nt'} (below {folder})" in (
        result.stderr
    )
    assert (folder / "more.nt").read_bytes() == kept
    # a new file in the folder is no input (yet): written
    result = run(command, "-o", str(folder / "new.out"), data=folder)
    assert result.exit_code == COMMANDS[command][3], result.output
    assert (folder / "new.out").read_bytes()


def test_a_link_in_an_input_folder_makes_its_target_an_input(tmp_path: Path) -> None:
    elsewhere = _input_copy(tmp_path)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "people.ttl").symlink_to(elsewhere)
    result = run("export", "-o", str(elsewhere), data=folder)
    assert result.exit_code == 2
    assert f"{elsewhere}: is also an input of this command" in result.stderr
    assert elsewhere.read_bytes() == PEOPLE.read_bytes()


def test_the_query_file_and_the_shapes_are_inputs_too(tmp_path: Path) -> None:
    query = tmp_path / "names.rq"
    shutil.copyfile(NAMES, query)
    result = CliRunner().invoke(
        app, ["query", str(query), "--data", str(PEOPLE), "-f", "csv", "-o", str(query)]
    )
    assert result.exit_code == 2
    assert f"is also an input of this command: {query}" in result.stderr
    assert query.read_bytes() == NAMES.read_bytes()
    shapes = tmp_path / "shapes.ttl"
    shutil.copyfile(SHAPES, shapes)
    args = ["validate", "--data", str(PEOPLE), "--shapes", str(shapes), "--no-ontology"]
    result = CliRunner().invoke(app, [*args, "-f", "turtle", "-o", str(shapes)])
    assert result.exit_code == 2
    assert f"is also an input of this command: {shapes}" in result.stderr
    assert shapes.read_bytes() == SHAPES.read_bytes()


# ---------------------------------------------------------------------------------------------
# The library function


def test_resolve_output_kinds(tmp_path: Path) -> None:
    assert io.resolve_output(None).is_stdout
    assert io.resolve_output("-").is_stdout
    assert io.resolve_output(Path("-")).is_stdout
    new = io.resolve_output(tmp_path / "new.ttl")
    assert (new.kind, new.path) == ("file", tmp_path / "new.ttl")
    (tmp_path / "real.ttl").write_text("x", encoding="utf-8")
    (tmp_path / "link.ttl").symlink_to("real.ttl")
    linked = io.resolve_output(tmp_path / "link.ttl")
    assert (linked.kind, linked.path, linked.given) == (
        "file",
        (tmp_path / "real.ttl").resolve(),
        str(tmp_path / "link.ttl"),
    )
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert io.resolve_output(fifo).kind == "stream"
    assert list(p.name for p in sorted(tmp_path.iterdir())) == ["fifo", "link.ttl", "real.ttl"]


def test_resolve_output_refusals(tmp_path: Path) -> None:
    (tmp_path / "file.ttl").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="is not a folder"):
        io.resolve_output(tmp_path / "file.ttl" / "out.ttl")
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(InputError, match=r"cannot write: .*symbolic links"):
        io.resolve_output(tmp_path / "loop")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        with pytest.raises(InputError, match="is a socket"):
            io.resolve_output(tmp_path / "sock")
    with pytest.raises(InputError, match="is also an input"):
        io.resolve_output(tmp_path / "file.ttl", inputs=[tmp_path / "missing.ttl", tmp_path])
    # a missing input is the loader's to report, not a reason to refuse the output
    assert io.resolve_output(tmp_path / "new.ttl", inputs=[tmp_path / "missing.ttl"]).kind == (
        "file"
    )


def test_the_writer_leaves_stdout_to_the_caller() -> None:
    with pytest.raises(ValueError, match="standard output"):
        io.atomic_write(io.resolve_output("-"), b"x")
