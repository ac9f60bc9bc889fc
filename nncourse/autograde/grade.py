"""Grade one submission: a private copy of its folder, its cgroup, the trusted run.

Shared by `nncourse autograde` (`runner.py`, many submissions in parallel) and by
nbgrader itself (`execute.SandboxedExecute`, the execution step of ``nbgrader
autograde`` and of the formgrader's Autograde button), so every path that autogrades
runs student code the same way: only in the sandbox.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nncourse.autograde import jail
from nncourse.autograde.program import Cell, build_program, hidden_names
from nncourse.autograde.zygote import Zygote

NOGROUP = 65534
MAX_FILES = 2000  # files copied from a submission folder


@dataclass
class Limits:
    cell_timeout: float = 120.0  # seconds per cell
    timeout: float = 900.0  # seconds per submission
    memory_mb: int = 2048  # all processes of a submission together (its cgroup)
    pids: int = 64  # processes and threads of a submission together
    tmp_mb: int = 64  # its /tmp (and /dev/shm)
    output_kb: int = 256  # output kept per cell (bytes, not lines)
    message_mb: int = 512  # largest value one message from the sandbox may carry
    sandboxed: bool = True  # False only when the instructor asks for it explicitly
    grace: float = 30.0  # seconds past `timeout` before the trusted run itself is killed


@dataclass
class RunOutcome:
    """What one trusted run gave: outputs per test cell, or why there are none."""

    results: dict[str, list[dict]] = field(default_factory=dict)  # test cells, by grade id
    cells: dict[str, list[dict]] = field(default_factory=dict)  # other cells, by cell id
    problems: list[str] = field(default_factory=list)
    error: str = ""  # set when the submission could not be graded at all
    seconds: float = 0.0
    max_rss_mb: float = 0.0
    peak_mb: float = 0.0
    timings: list = field(default_factory=list)  # [cell label, seconds]


def check_sandbox(limits: Limits) -> None:
    """Refuse to run student code without the sandbox unless asked to."""
    if limits.sandboxed and jail.bwrap_path() is None:
        raise jail.SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be sandboxed: "
            "install it (Debian/Ubuntu: apt-get install bubblewrap) or, only if you trust "
            "every submission, grade with --unsandboxed"
        )


_VIEWS: dict[tuple, Path] = {}
# One thread of a batch at a time for what touches process-wide state: finding the
# hidden objects loads nnlib afresh, swapping modules in sys.modules, and ast.parse in two
# threads at once can fail on CPython 3.11 ("AST constructor recursion depth mismatch",
# python/cpython#106905); building a program and a view parse cells.
_SHARED_STATE = threading.Lock()


def view_for(source, release) -> Path:
    """The sandbox's read-only view for an assignment (built once per process)."""
    with _SHARED_STATE:
        hidden = frozenset(hidden_names(source, release))
        if hidden not in _VIEWS:
            folder = Path(tempfile.mkdtemp(prefix="nncourse-view-"))
            folder.chmod(0o755)
            _VIEWS[hidden] = jail.build_view(folder, set(hidden))
        return _VIEWS[hidden]


def copy_submission(folder: Path, dest: Path) -> list[str]:
    """Copy the regular files and folders of `folder` into `dest` without following any
    link; links, devices and pipes are left out and named in the returned notes."""
    notes, count = [], 0
    dest.mkdir(parents=True, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        rel = Path(dirpath).relative_to(folder)
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            info = os.lstat(path)
            shown = str(rel / name)
            if stat.S_ISLNK(info.st_mode):
                notes.append(f"{shown}: a link, not copied")
                if name in dirnames:
                    dirnames.remove(name)
            elif stat.S_ISDIR(info.st_mode):
                if name == "__pycache__" or name.startswith(".ipynb_checkpoints"):
                    dirnames.remove(name)
                    continue
                (dest / rel / name).mkdir(exist_ok=True)
            elif stat.S_ISREG(info.st_mode):
                if name.endswith(".ipynb"):
                    continue
                count += 1
                if count > MAX_FILES:
                    notes.append(f"more than {MAX_FILES} files: the rest were not copied")
                    return notes
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as src, open(dest / rel / name, "wb") as out:
                    shutil.copyfileobj(src, out)
            else:
                notes.append(f"{shown}: not a regular file, not copied")
    return notes


def run_submission(
    nb,
    source,
    release,
    folder: Path | None,
    limits: Limits,
    *,
    uid: int | None = None,
    name: str = "submission",
) -> RunOutcome:
    """The trusted run of `nb` (a pre-flighted submission notebook) against `source`."""
    check_sandbox(limits)
    with _SHARED_STATE:
        cells = build_program(nb, source, release)
    return run_cells(cells, view_for(source, release), folder, limits, uid=uid, name=name)


def run_cells(
    cells: list[Cell],
    view: Path,
    folder: Path | None,
    limits: Limits,
    *,
    uid: int | None = None,
    name: str = "submission",
) -> RunOutcome:
    """Run a program (trusted and student cells) with the sandbox's `view`, the student's
    files copied from `folder`, as `uid` (when root), in a cgroup of its own."""
    as_root = os.geteuid() == 0
    tmp = Path(tempfile.mkdtemp(prefix="nncourse-grade-"))
    cgroup = None
    try:
        workdir = tmp / "work"
        notes = copy_submission(folder, workdir) if folder is not None else []
        if folder is None:
            workdir.mkdir()
        if as_root and uid is not None:
            for path in (workdir, *workdir.rglob("*")):
                os.chown(path, uid, NOGROUP, follow_symlinks=False)
        tmp.chmod(0o711)  # the sandbox's uid reaches workdir/, nothing else in here
        cgroup = jail.Cgroup.create(
            f"{name}-{os.getpid()}-{tmp.name[-8:]}", limits.memory_mb, limits.pids
        )
        job = {
            "cells": [c.to_json() for c in cells],
            "view": str(view),
            "workdir": str(workdir),
            "uid": uid if as_root else None,
            "gid": NOGROUP if as_root else None,
            "cgroup": [str(p) for p in cgroup.paths] if cgroup else None,
            "memory_mb": limits.memory_mb,
            "tmp_mb": limits.tmp_mb,
            "cell_timeout": limits.cell_timeout,
            "timeout": limits.timeout,
            "output_cap": limits.output_kb * 1024,
            "max_bytes": limits.message_mb * 2**20,
            "data_dir": os.environ.get("NNLIB_DATA"),
            "sandboxed": limits.sandboxed,
        }
        trusted_cwd = tmp / "trusted"
        trusted_cwd.mkdir(mode=0o700)
        data, error = trusted_process(job, trusted_cwd, limits.timeout + limits.grace)
        if error:
            return RunOutcome(problems=notes, error=error)
        if cgroup is None:
            notes.append("no cgroup here: the memory limit applied to each process alone")
        return RunOutcome(
            results=data["results"],
            cells=data["cells"],
            problems=notes + data["problems"],
            seconds=data["seconds"],
            max_rss_mb=data["max_rss_mb"],
            peak_mb=cgroup.peak_mb() if cgroup else 0.0,
            timings=data["timings"],
        )
    finally:
        if cgroup is not None:
            cgroup.remove()
        shutil.rmtree(tmp, ignore_errors=True)


_ZYGOTES: list[Zygote] = []  # one per process, made on first use
_ZYGOTE_LOCK = threading.Lock()


def trusted_process(job: dict, cwd: Path, timeout: float) -> tuple[dict | None, str]:
    """Run `job` in a trusted process of its own, forked by the zygote (`zygote.py`):
    (RunResult, "") or (None, why it failed). The process is killed past `timeout` s."""
    with _ZYGOTE_LOCK:
        if not _ZYGOTES:
            _ZYGOTES.append(Zygote(_trusted_env()))
    return _ZYGOTES[0].run(job, str(cwd), timeout)


def _trusted_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JPY_"))}
    env.update(
        {
            "MPLBACKEND": "Agg",
            "NBGRADER_EXECUTION": "autograde",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
    )
    return env
