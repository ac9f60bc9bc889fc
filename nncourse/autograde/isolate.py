"""Run one submission's trusted program in isolation (the per-submission supervisor).

``python -m nncourse.autograde.isolate`` reads a job (JSON) on stdin and prints the
result (JSON) on stdout. It is a process of its own, started by the batch runner, so
that a submission which kills its parent only kills this supervisor, never the batch.

The sandbox (`sandbox.py`) runs:

- in a throw-away copy of the submitted folder (notebooks left out), with a fresh HOME;
- with a clean environment (``python -I``; only PATH, HOME, locale, one BLAS thread,
  matplotlib's Agg backend, NNLIB_DATA and nbgrader's NBGRADER_EXECUTION=autograde);
- under resource limits: address space (memory), CPU seconds, file size, processes;
- as an unprivileged user when the grader is root (the sandbox drops privileges itself
  after importing what the program imports, before any student code is loaded): a
  numeric uid of its own per worker slot (so one submission cannot signal another), no
  supplementary groups, so the
  course's solutions, hidden tests and gradebook (owner-only, see `runner.protect`) are
  unreadable and nothing of the course is writable;
- under a wall-clock limit per cell and per submission. A cell that does not stop when
  interrupted (it swallows the interrupt), or that kills its process (``os._exit``), is
  recorded as failed and the program is restarted after it, so the later cells are
  still graded. Every process the submission left behind is killed at the end.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SANDBOX = Path(__file__).resolve().parent / "sandbox.py"
GRACE = 3.0  # seconds a cell gets beyond its limit to stop on its own
MAX_RECORD = 8 * 1024 * 1024  # a result line longer than this is not from the sandbox


def clean_env(home: Path) -> dict[str, str]:
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",  # as under nbgrader: notebooks shorten trainings
    }
    if os.environ.get("NNLIB_DATA"):
        env["NNLIB_DATA"] = os.environ["NNLIB_DATA"]
    return env


def _limits(job, uid, gid):
    memory = int(job["memory_mb"]) * 2**20
    cpu = int(job["timeout"]) + 5
    fsize = int(job["file_mb"]) * 2**20

    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write fails, not kills
        if uid is not None:  # counts once the sandbox has become `uid`
            resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))

    return preexec


def _kill_uid(uid):
    """Kill every process of the slot's uid (children that left the process group)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                try:
                    os.kill(int(proc.name), signal.SIGKILL)
                except OSError:
                    pass


class Reader(threading.Thread):
    """Collects the sandbox's records from the pipe as they arrive."""

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.stream = os.fdopen(fd, "rb")
        self.records, self.started, self.done = {}, None, False
        self.lock = threading.Lock()

    def run(self):
        for line in self.stream:
            if len(line) > MAX_RECORD:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                if "start" in rec:
                    self.started = (rec["start"], time.monotonic())
                elif rec.get("done"):
                    self.done = True
                elif "grade_id" in rec:
                    self.records.setdefault(rec["grade_id"], rec["outputs"])
                    self.started = None


def _error(ename, evalue):
    return [{"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}]


def run_once(job, work, home, skip, uid, gid):
    """One sandbox process; (records, index of the cell it died in or None, reason)."""
    read_fd, write_fd = os.pipe()
    if uid is not None:
        os.fchown(write_fd, uid, gid)
    proc = subprocess.Popen(
        [sys.executable, "-I", str(SANDBOX)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=work,
        env=clean_env(home),
        pass_fds=(write_fd,),
        start_new_session=True,
        preexec_fn=_limits(job, uid, gid),
    )
    os.close(write_fd)
    reader = Reader(read_fd)
    reader.start()
    payload = {**job, "skip": sorted(skip), "fd": write_fd, "uid": uid, "gid": gid}
    try:
        proc.stdin.write(json.dumps(payload).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    deadline = time.monotonic() + job["timeout"]
    stuck, reason = None, ""
    while proc.poll() is None:
        time.sleep(0.05)
        now = time.monotonic()
        with reader.lock:
            started = reader.started
        if started and now - started[1] > job["cell_timeout"] + GRACE:
            stuck, reason = started[0], "it did not stop when interrupted at the time limit"
            break
        if now > deadline:
            stuck = started[0] if started else None
            reason = f"the submission ran longer than its {job['timeout']:g} s limit"
            break
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    if uid is not None:
        _kill_uid(uid)
    proc.wait()
    reader.join(timeout=5)
    if reader.done:
        return reader.records, None, ""
    if stuck is None and not reason:
        with reader.lock:
            stuck = reader.started[0] if reader.started else None
        code = proc.returncode
        reason = (
            f"the process was killed by signal {-code}"
            if code < 0
            else f"the process exited ({code})"
        )
        if code == -signal.SIGXCPU:
            reason = "the submission used more CPU time than allowed"
    return reader.records, stuck, reason


def supervise(job: dict) -> dict:
    uid, gid = job.get("uid"), job.get("gid")
    tmp = Path(tempfile.mkdtemp(prefix="nncourse-grade-"))
    t0 = time.monotonic()
    try:
        work, home = tmp / "work", tmp / "home"
        shutil.copytree(job["folder"], work, ignore=shutil.ignore_patterns("*.ipynb"))
        home.mkdir()
        if uid is not None:
            for path in (tmp, *tmp.rglob("*")):
                os.chown(path, uid, gid, follow_symlinks=False)
        os.chmod(tmp, 0o700)
        cells = job["cells"]
        results, skip, problems = {}, set(), []
        while True:
            records, stuck, reason = run_once(job, work, home, skip, uid, gid)
            results.update({k: v for k, v in records.items() if k not in results})
            skip.update(i for i, c in enumerate(cells) if c.get("grade_id") in results)
            if stuck is None:
                if reason:
                    problems.append(reason)
                break
            problems.append(f"cell {cells[stuck].get('grade_id') or stuck}: {reason}")
            gid_stuck = cells[stuck].get("grade_id")
            if cells[stuck]["kind"] == "test" and gid_stuck not in results:
                results[gid_stuck] = _error(
                    "TimeoutError" if "interrupt" in reason else "Died", reason
                )
            skip.add(stuck)
            if time.monotonic() - t0 > job["timeout"] or len(skip) >= len(cells):
                break
        for cell in cells:
            if cell["kind"] == "test" and cell["grade_id"] not in results:
                results[cell["grade_id"]] = _error(
                    "NotRun", "this test did not run: " + (problems[-1] if problems else "unknown")
                )
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "results": results,
            "problems": problems,
            "seconds": time.monotonic() - t0,
            "max_rss_mb": usage.ru_maxrss / 1024,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    job = json.loads(sys.stdin.read())
    result = supervise(job)
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
