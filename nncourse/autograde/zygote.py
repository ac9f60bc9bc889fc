"""Trusted runs without the start-up: a server that imports the trusted side once and forks
a fresh process for each submission.

A trusted run (`trusted_run.Program`) starts by importing numpy, nnlib.grading, IPython's
input transformer and the grader's own modules, about a quarter of a CPU second that every
submission of a batch would pay again. `Zygote` starts ``python -m
nncourse.autograde.zygote`` once (with the trusted environment), which imports all that and
waits. For each run the caller makes a socket pair and hands one end over (SCM_RIGHTS); the
server forks, and the child, a process of its own for that one submission, says its pid,
reads the `Job`, runs it and writes the `RunResult` back as JSON. The server never runs a
test or touches a submission: it only forks, so no submission can leave anything behind
in it for the next one.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

PRELOAD = (
    "numpy",
    "nnlib",
    "nnlib.grading",
    "IPython.core.inputtransformer2",
    "nncourse.autograde.trusted_run",
)


class Zygote:
    """The caller's side: one server per process, started on first use and again if it
    died."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.ctrl: socket.socket | None = None

    def _server(self) -> socket.socket:
        if self.proc is None or self.proc.poll() is not None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "nncourse.autograde.zygote", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            theirs.close()
            self.ctrl = ours
        return self.ctrl

    def run(self, job: dict, cwd: str, timeout: float) -> tuple[dict | None, str]:
        """(RunResult, "") or (None, why it failed); the run is killed past `timeout`."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with ours:
            try:
                with self.lock:
                    socket.send_fds(self._server(), [cwd.encode()], [theirs.fileno()])
            except OSError as err:
                return None, f"the grading process could not start ({err})"
            finally:
                theirs.close()
            deadline = time.monotonic() + timeout
            reader = ours.makefile("rb")
            first = _read_line(ours, reader, deadline)
            if not first:
                return None, "the grading process could not start"
            pid = int(first)
            try:
                ours.sendall(json.dumps(job).encode())
                ours.shutdown(socket.SHUT_WR)
                data = _read_all(ours, reader, deadline)
            except (OSError, TimeoutError) as err:
                _kill(pid)
                if isinstance(err, TimeoutError):
                    return None, "the grading of this submission timed out"
                return None, f"the grading process failed ({err})"
        try:
            reply = json.loads(data)
        except ValueError:
            return None, "the grading process failed (it ended without a result)"
        if "crash" in reply:
            return None, f"the grading process failed ({reply['crash']})"
        return reply["result"], ""


def _read_line(sock, reader, deadline) -> bytes:
    sock.settimeout(max(0.0, deadline - time.monotonic()))
    try:
        return reader.readline().strip()
    except (OSError, TimeoutError):
        return b""


def _read_all(sock, reader, deadline) -> bytes:
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            raise TimeoutError
        chunk = reader.read1(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- the server ----------------------------------------------------------------------


def _child(conn: socket.socket, cwd: str) -> None:
    """One submission's trusted run, in the forked child."""
    from nncourse.autograde.trusted_run import CappedStream, Program

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the run waits for its own sandbox
    os.setsid()
    os.chdir(cwd)
    conn.sendall(f"{os.getpid()}\n".encode())
    job = json.loads(conn.makefile("rb").read())
    # Output outside trusted cells (what student cells print) is not part of any result.
    sys.stdout = sys.stderr = CappedStream(0)
    try:
        reply = {"result": Program(job).run()}
    except BaseException as exc:  # noqa: BLE001 (reported to the runner as a failure)
        reply = {"crash": f"{type(exc).__name__}: {exc}"[:300]}
    conn.sendall(json.dumps(reply).encode())
    conn.close()


def main(fd: int) -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    ctrl = socket.socket(fileno=fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        msg, fds, _, _ = socket.recv_fds(ctrl, 4096, 1)
        if not msg or not fds:
            return  # the caller is gone
        pid = os.fork()
        if pid == 0:
            ctrl.close()
            conn = socket.socket(fileno=fds[0])
            try:
                _child(conn, msg.decode())
            finally:
                os._exit(0)
        os.close(fds[0])


if __name__ == "__main__":
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing the server or its children print reaches the caller
    os.dup2(devnull, 2)
    main(int(sys.argv[1]))
