"""The trusted run of one submission: tests here, student code in the sandbox.

``python -m nncourse.autograde.trusted_run`` reads a `Job` (JSON) on stdin and writes a
`RunResult` (JSON) on stdout. This process never executes student code: it runs the test
cells, and the instructor cells whose names a test reads (`program.Cell`), in its own
namespace, and sends the student cells and the other instructor cells to a sandbox
(`jail.Jail`) that it talks to over the data-only channel (`wire`, `proxy`). A name a test
uses that no trusted cell binds is looked up in the sandbox and arrives as data or as a
proxy.

Time is enforced from here: each cell has a deadline; a sandbox that is late, crashes or
breaks the protocol is killed with its whole cgroup, the cell fails with the reason, a new
sandbox replays the student cells run so far, and grading goes on with the next cell.
"""

from __future__ import annotations

import builtins
import io
import json
import resource
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TypedDict

from nncourse.autograde import wire
from nncourse.autograde.jail import Cgroup, Jail, JailSpec
from nncourse.autograde.program import Cell, trusted_names
from nncourse.autograde.proxy import SandboxGone, TimeLimit, TrustedEndpoint

GRACE = 2.0  # seconds over the cell limit before the trusted side itself interrupts
BUILTIN_NAMES = frozenset(vars(builtins))


class Job(TypedDict):
    cells: list[dict]  # program.Cell.to_json()
    view: str
    workdir: str
    uid: int | None
    gid: int | None
    cgroup: list[str] | None  # the cgroup folders made for this submission
    memory_mb: int
    tmp_mb: int
    cell_timeout: float
    timeout: float
    output_cap: int
    max_bytes: int
    data_dir: str | None
    sandboxed: bool


class RunResult(TypedDict):
    results: dict[str, list[dict]]  # grade_id -> nbformat outputs of each test cell
    cells: dict[str, list[dict]]  # cell id -> outputs of the other cells (for reading only)
    problems: list[str]  # for the report: cells that crashed, timed out, restarts
    seconds: float
    max_rss_mb: float
    timings: list[list]  # [cell label, seconds] in order, for benchmarks and reports


class CellTimeout(BaseException):
    """The cell ran past its limit (a BaseException: test code cannot swallow it)."""


class CappedStream(io.TextIOBase):
    """A text stream that keeps at most `cap` bytes and counts the rest."""

    def __init__(self, cap):
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        data = s.encode("utf-8", "replace")
        room = self.cap - self.kept
        if room > 0:
            piece = data[:room].decode("utf-8", "ignore")
            self.parts.append(piece)
            self.kept += len(piece.encode("utf-8"))
        self.dropped += max(0, len(data) - max(room, 0))
        return len(s)

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[output truncated: {self.dropped} more bytes not kept]\n"
        return out


class Namespace(dict):
    """The trusted cells' globals; a name no trusted cell bound is the student's."""

    program: Program

    def __missing__(self, name):
        if name in BUILTIN_NAMES or name.startswith("__") or name in self.program.own:
            raise KeyError(name)  # a name of the trusted cells is never the student's
        return self.program.student_value(name)


class _Shell:
    """``get_ipython()`` for instructor cells outside Jupyter: magics do nothing."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


class Program:
    def __init__(self, job: Job):
        self.job = job
        self.cells = [Cell(**c) for c in job["cells"]]
        self.own = trusted_names(self.cells)
        cgroup = None
        if job.get("cgroup"):
            cgroup = Cgroup([Path(p) for p in job["cgroup"]], job["memory_mb"])
        self.spec = JailSpec(
            view=Path(job["view"]),
            workdir=Path(job["workdir"]),
            uid=job.get("uid"),
            gid=job.get("gid"),
            cgroup=cgroup,
            memory_mb=job["memory_mb"],
            tmp_mb=job["tmp_mb"],
            max_bytes=job["max_bytes"],
            data_dir=job.get("data_dir"),
            sandboxed=job.get("sandboxed", True),
        )
        self.ns = Namespace(__builtins__=builtins, __name__="__main__")
        self.ns.program = self
        self.ns["get_ipython"] = lambda: _Shell()
        self.setup_names: set[str] = set()
        self.history: list[Cell] = []  # student cells to replay in a new sandbox
        self.jail: Jail | None = None
        self.ep: TrustedEndpoint | None = None
        self.problems: list[str] = []
        self.cell_outputs: dict[str, list[dict]] = {}
        self.limit_at: float | None = None
        self.starts = 0

    # the sandbox
    def setup_value(self, name):
        if isinstance(name, str) and name in self.setup_names and dict.__contains__(self.ns, name):
            return dict.__getitem__(self.ns, name)
        raise KeyError(name)

    def _start(self) -> None:
        self.jail = Jail(self.spec).start()
        self.ep = TrustedEndpoint(
            self.jail.rfd, self.jail.wfd, self.spec.max_bytes, self.setup_value, self.stop
        )
        self._limit(self.limit_at)
        self.starts += 1

    def stop(self) -> None:
        if self.ep is not None:
            self.ep.alive = False
        if self.jail is not None:
            self.jail.kill()
            self.jail = None

    def sandbox(self) -> TrustedEndpoint:
        """The running sandbox; a new one (the student cells replayed) if it died."""
        if self.ep is not None and self.ep.alive:
            return self.ep
        self.stop()
        self._start()
        for cell in list(self.history):
            if not self._exec(cell, replay=True):
                self.history.remove(cell)
                self.problems.append(f"{cell.label}: not run again after a restart (it failed)")
                self.stop()
                self._start()
        return self.ep

    def student_value(self, name):
        ep = self.sandbox()
        msg, blobs = ep.request("lookup", {"name": name})
        if msg.get("missing"):
            raise KeyError(name)
        return ep.result(msg, blobs)

    def _exec(self, cell: Cell, replay=False) -> bool:
        """Run a cell in the sandbox (its printed output and error kept for the notebook);
        False if it was stopped, or killed or outlived the sandbox."""
        out = CappedStream(0 if replay else self.job["output_cap"])
        old = sys.stdout
        sys.stdout = out
        try:
            ok, info = self._exec_in_sandbox(cell, replay)
        finally:
            sys.stdout = old
        if not replay and cell.cell_id:
            outputs = []
            if out.text():
                outputs.append({"output_type": "stream", "name": "stdout", "text": out.text()})
            if isinstance(info, dict):
                outputs.append(
                    {
                        "output_type": "error",
                        "ename": str(info.get("type")),
                        "evalue": str(info.get("message")),
                        "traceback": [str(t) for t in info.get("traceback") or []],
                    }
                )
            self.cell_outputs[cell.cell_id] = outputs
        return ok

    def _exec_in_sandbox(self, cell: Cell, replay: bool):
        ep = self.ep if replay else self.sandbox()
        self._limit(time.monotonic() + self.job["cell_timeout"])
        try:
            fields = {"code": cell.code, "label": cell.label, "setup": cell.kind == "setup"}
            msg, blobs = ep.request("exec", fields)
        except wire.Timeout:
            self.stop()
            if not replay:
                limit = self.job["cell_timeout"]
                self.problems.append(f"{cell.label}: stopped after {limit:g} s")
            return False, None
        except wire.ProtocolError as err:
            self.stop()
            if not replay:
                self.problems.append(f"{cell.label}: {self._death(err)}")
            return False, None
        finally:
            self._limit(None)
        info = msg.get("error")
        if isinstance(info, dict) and info.get("type") == "KeyboardInterrupt":
            # Interrupted at its limit: not replayed after a restart (it would only be
            # interrupted again), like a cell Jupyter interrupted.
            if not replay:
                self.problems.append(f"{cell.label}: stopped after {self.job['cell_timeout']:g} s")
            return False, info
        if isinstance(info, dict) and not replay and cell.kind == "student":
            text = f"{info.get('type')}: {str(info.get('message'))[:200]}"
            self.problems.append(f"{cell.label}: raised {text}")
        return True, info if isinstance(info, dict) else None

    def _death(self, err) -> str:
        cgroup = self.spec.cgroup
        if cgroup is not None and cgroup.hit_memory_limit():
            return f"your code used more than {self.spec.memory_mb} MB of memory"
        if isinstance(err, wire.PeerGone):
            return "your code's process ended (it crashed or exited)"
        return f"the sandbox sent an invalid message ({err})"

    # trusted cells
    def run_trusted(self, cell: Cell) -> list[dict]:
        out = CappedStream(self.job["output_cap"])
        before = {k: id(v) for k, v in dict.items(self.ns)}
        seq_before = (self.ep, self.ep.seq) if self.ep is not None else (None, 0)
        limit = self.job["cell_timeout"]
        deadline = time.monotonic() + limit
        error = None
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        signal.setitimer(signal.ITIMER_REAL, limit + GRACE)
        try:
            self._limit(deadline)
            code = self._transform(cell.code)
            exec(compile(code, f"<{cell.label}>", "exec"), self.ns)  # noqa: S102 (trusted)
        except (CellTimeout, TimeLimit, wire.Timeout) as exc:
            signal.setitimer(signal.ITIMER_REAL, 0)
            message = f"the cell ran longer than {limit:g} s and was stopped"
            if not isinstance(exc, TimeLimit):  # the sandbox did not answer the interrupt
                self.stop()
                message += " (it did not stop when interrupted)"
            self.problems.append(f"{cell.label}: {message}")
            error = ("TimeoutError", message, [])
        except BaseException as exc:  # noqa: BLE001 (SystemExit, KeyboardInterrupt included)
            signal.setitimer(signal.ITIMER_REAL, 0)
            error = self._error(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = old
            self._limit(None)
        if cell.kind == "test" and error is None and self._answered_twice(seq_before):
            error = (
                "SandboxError",
                "the sandbox answered one request twice: its answers in this cell do not count",
                [],
            )
        changed = {k for k, v in dict.items(self.ns) if before.get(k) != id(v)}
        changed |= set(before) - set(dict.keys(self.ns))
        if cell.kind == "setup":
            self.setup_names |= changed
            self._forget()
        else:
            self.setup_names -= changed
        outputs = []
        text = out.text()
        if text:
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        if error is not None:
            ename, evalue, tb = error
            outputs.append(
                {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": tb}
            )
        return outputs

    def _answered_twice(self, seq_before) -> bool:
        """After a test cell that talked to the sandbox: one more request, to see that no
        reply is left over (code in the sandbox that wrote its own reply, a forged answer,
        before the real one)."""
        before, seq = seq_before
        ep = self.ep
        if ep is None or not ep.alive or (ep is before and ep.seq == seq):
            return False  # no sandbox, or this cell did not talk to it
        ep.deadline = time.monotonic() + GRACE + 3
        try:
            ep.request("forget", {"names": []})
        except (wire.ProtocolError, wire.Timeout, SandboxGone):
            self.stop()
            self.problems.append("sandbox: it answered a request twice")
            return True
        finally:
            ep.deadline = None
        return False

    def _limit(self, at: float | None) -> None:
        """The current cell must end at `at`: the sandbox is told, and killed GRACE s later
        if it has not answered by then."""
        self.limit_at = at
        if self.ep is not None:
            self.ep.limit_at = at
            self.ep.deadline = None if at is None else at + GRACE

    def _forget(self) -> None:
        """The sandbox drops its copies of instructor names (a setup cell may have changed
        them); it asks again when student code next uses one."""
        if self.ep is not None and self.ep.alive and self.setup_names:
            try:
                self.ep.request("forget", {"names": sorted(self.setup_names)})
            except (wire.ProtocolError, wire.Timeout, SandboxGone):
                self.stop()

    @staticmethod
    def _transform(code: str) -> str:
        if "%" not in code and "!" not in code:
            return code
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(code)

    def _error(self, exc: BaseException):
        if isinstance(exc, (wire.ProtocolError, SandboxGone)):
            self.stop()
            reason = self._death(exc) if isinstance(exc, wire.ProtocolError) else str(exc)
            self.problems.append(f"sandbox: {reason}")
            return ("SandboxError", reason, [])
        return (
            type(exc).__name__,
            str(exc)[:4000],
            [line.rstrip("\n")[:2000] for line in shown_traceback(exc)],
        )

    # the whole program
    def run(self) -> RunResult:
        t0 = time.monotonic()
        results: dict[str, list[dict]] = {}
        timings: list[list] = []
        signal.signal(signal.SIGALRM, _on_alarm)
        try:
            for cell in self.cells:
                started = time.monotonic()
                if started - t0 > self.job["timeout"]:
                    reason = f"the submission ran longer than its {self.job['timeout']:g} s limit"
                    self.problems.append(reason)
                    break
                if cell.kind in ("student", "setup"):
                    if self._exec(cell):
                        self.history.append(cell)
                if cell.kind == "setup" and not cell.trusted:
                    pass
                elif cell.kind != "student":
                    outputs = self.run_trusted(cell)
                    if cell.kind == "test" and cell.grade_id:
                        results[cell.grade_id] = outputs
                    elif cell.cell_id:  # what the trusted run of a setup cell printed
                        self.cell_outputs[cell.cell_id] = outputs
                timings.append([cell.label, round(time.monotonic() - started, 3)])
        finally:
            if self.ep is not None and self.ep.alive:
                try:
                    self.ep.deadline = time.monotonic() + 5
                    self.ep.request("bye")
                except (wire.ProtocolError, wire.Timeout, SandboxGone):
                    pass
            self.stop()
        for cell in self.cells:
            if cell.kind == "test" and cell.grade_id and cell.grade_id not in results:
                why = self.problems[-1] if self.problems else "unknown"
                results[cell.grade_id] = [
                    {
                        "output_type": "error",
                        "ename": "NotRun",
                        "evalue": f"this test did not run: {why}",
                        "traceback": [],
                    }
                ]
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "results": results,
            "cells": self.cell_outputs,
            "problems": self.problems,
            "seconds": time.monotonic() - t0,
            "max_rss_mb": usage.ru_maxrss / 1024,
            "timings": timings,
        }


def shown_traceback(exc: BaseException) -> list[str]:
    """The traceback a student reads: the lines of the test cell and of their own code
    (as the sandbox reported it), never the grader's files (this process's modules,
    nnlib.grading), then the error itself."""
    cell_frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")
    ]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(cell_frames)]
    student = getattr(exc, "student_traceback", None)
    if student is None and exc.__cause__ is not None:
        student = getattr(exc.__cause__, "student_traceback", None)
    if student:
        lines += ["In your code:\n", *student]
    return (lines[:1] + lines[1:][-15:]) + traceback.format_exception_only(type(exc), exc)


def _on_alarm(signum, frame):
    raise CellTimeout()


def main() -> int:
    job: Job = json.loads(sys.stdin.read())
    real_stdout = sys.stdout
    # Output outside trusted cells (what student cells print) is not part of any result.
    sys.stdout = sys.stderr = CappedStream(0)
    result = Program(job).run()
    real_stdout.write(json.dumps(result))
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
