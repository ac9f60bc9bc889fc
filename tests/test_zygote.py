"""Trusted runs forked by the zygote: a fresh process for each submission, killed when it
outlives its limit, and a server that comes back if it dies."""

import os
import signal
import time
from pathlib import Path

import pytest

from nncourse.autograde import grade, jail
from nncourse.autograde.grade import Limits, run_cells
from nncourse.autograde.program import Cell

pytestmark = pytest.mark.skipif(jail.bwrap_path() is None, reason="needs bubblewrap")
UID = 100_000 + 64 * (os.getpid() % 2**14) + 62


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    return jail.build_view(tmp_path_factory.mktemp("view"), set())


def program(code: str) -> list[Cell]:
    return [Cell("student", None, "x = 1", "cell 0"), Cell("test", "t", code, "t")]


def printed(outcome) -> str:
    assert not outcome.error, outcome.error
    return "".join(o.get("text", "") for o in outcome.results["t"])


def test_each_run_is_a_fresh_process(view):
    code = (
        "import os, nnlib\n"
        "print(os.getpid(), hasattr(nnlib, 'left_behind'))\n"
        "nnlib.left_behind = 1"
    )
    first = printed(run_cells(program(code), view, None, Limits(), uid=UID, name="z"))
    second = printed(run_cells(program(code), view, None, Limits(), uid=UID, name="z"))
    assert first.split()[1] == second.split()[1] == "False"  # nothing carried over
    assert first.split()[0] != second.split()[0]


def test_a_run_past_its_limit_is_killed(view, tmp_path):
    pid_file = tmp_path / "pid"
    code = (
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)"
    )
    limits = Limits(cell_timeout=100, timeout=1, grace=1)
    t0 = time.monotonic()
    outcome = run_cells(program(code), view, None, limits, uid=UID, name="z")
    assert outcome.error == "the grading of this submission timed out"
    assert time.monotonic() - t0 < 30
    pid = int(pid_file.read_text())
    for _ in range(50):  # killed, and reaped by the server
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists()


def test_the_server_comes_back_after_it_died(view):
    before = printed(run_cells(program("print(1)"), view, None, Limits(), uid=UID, name="z"))
    server = grade._ZYGOTES[0].proc
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    after = printed(run_cells(program("print(2)"), view, None, Limits(), uid=UID, name="z"))
    assert (before, after) == ("1\n", "2\n")
    assert grade._ZYGOTES[0].proc.pid != server.pid
