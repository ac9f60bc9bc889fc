"""Autograde a class: `nncourse autograde --workers N` against a plain `nbgrader autograde`.

Builds a throw-away course with one notebook (default 01_neuron), submits N copies (half
solved, half with one wrong answer), grades them with `nncourse autograde`, then grades a
batch (of --plain-n copies, the same mix) with plain `nbgrader autograde` in a fresh copy of
the course. Both run student code only in the bubblewrap sandbox (plain nbgrader through
nbgrader_config.py, one notebook at a time). Reports submissions per minute, peak memory
(resident memory of the whole process tree, sandboxes included, sampled every 0.2 s) and
the speed-up, and checks every score. As root, each command runs in a cpuacct cgroup of its
own, which every process it starts stays in (the sandboxes' memory cgroups are another
hierarchy), so the CPU seconds per submission are counted too: unlike the rate, that figure
does not depend on what else the machine is doing.

    python benchmarks/autograde_batch.py                 # 300 copies, plain nbgrader on 60
    python benchmarks/autograde_batch.py --assignment 07_cnn --n 40 --plain-n 10
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from nbgrader_harness import Course, with_cell  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from binder_notebooks import v1_folder  # noqa: E402

from nncourse.nbgrader_run import nbgrader_env, notebook_scores  # noqa: E402

# One wrong answer per assignment benchmarked: (answer cell, its wrong source).
WRONG = {
    "01_neuron": ("sigmoid", "def sigmoid(z):\n    return 1 / (1 + np.exp(z))\n"),
    "07_cnn": (
        "conv_output_size",
        "def conv_output_size(n, k, stride=1, padding=0):\n"
        "    return (n + 2 * padding - k) // stride\n",
    ),
}


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, in MB."""
    children, rss = {}, {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(proc.name))
            rss[int(proc.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total / 2**20


class CpuAccount:
    """A cpuacct cgroup v1 that counts the CPU time of a command and all it starts."""

    def __init__(self):
        self.folder = None
        if os.geteuid() == 0:
            try:
                self.folder = v1_folder("cpuacct") / f"nncourse-bench-{os.getpid()}"
                self.folder.mkdir()
            except (OSError, SystemExit):
                self.folder = None

    def enter(self) -> None:
        """Move the calling process into the cgroup (a `preexec_fn`)."""
        if self.folder is not None:
            (self.folder / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if self.folder is None:
            return None
        return int((self.folder / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        if self.folder is not None:
            self.folder.rmdir()


def timed(cmd, cwd, env):
    """(seconds, peak MB of the process tree, CPU seconds or None, output) of one command."""
    account = CpuAccount()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=account.enter,
    )
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    t0 = time.perf_counter()
    sampler.start()
    out = proc.communicate()[0]
    seconds = time.perf_counter() - t0
    sampler.join()
    cpu = account.seconds()
    account.close()
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{cmd} failed ({proc.returncode}):\n{out[-3000:]}")
    return seconds, peak[0], cpu, out


def cpu_text(cpu: float | None, n: int) -> str:
    return "" if cpu is None else f", {cpu / n:.2f} CPU s per submission"


def submit(course: Course, assignment: str, n: int, wrong_cell: str, wrong_source: str):
    solved = course.solved_submission(assignment)
    wrong = with_cell(solved, wrong_cell, wrong_source)
    expected = {}
    for i in range(n):
        student = f"s{i:03d}"
        nb = solved if i % 2 == 0 else wrong
        folder = course.root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
        expected[student] = i % 2 == 0
    return expected


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--plain-n", type=int, default=60)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--assignment", default="01_neuron", choices=sorted(WRONG))
    args = parser.parse_args()
    a = args.assignment
    env = nbgrader_env(extra={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    tmp = Path(tempfile.mkdtemp(prefix="nncourse-bench-"))
    try:
        course = Course(tmp / "ours", [a])
        course.release(a)
        expected = submit(course, a, args.n, *WRONG[a])
        cmd = [sys.executable, "-m", "nncourse.cli", "--root", str(course.root), "autograde", a]
        cmd += ["--workers", str(args.workers), "--no-feedback", "--no-progress"]
        ours_s, ours_mb, ours_cpu, out = timed(cmd, course.root, env)
        lines = out.strip().splitlines()
        print("\n".join([lines[0]] + [line for line in lines if "trusted runs" in line]))
        with (course.root / "reports" / a / "grades.csv").open(newline="") as fh:
            rows = {r["student"]: r for r in csv.DictReader(fh)}
        # the autograded part: written answers wait for a person
        full = {float(r["auto_max_score"]) for r in rows.values()}
        wrong_scores = {float(r["auto_score"]) for s, r in rows.items() if not expected[s]}
        ok = all(r["status"] == "graded" for r in rows.values()) and all(
            float(r["auto_score"]) == float(r["auto_max_score"])
            for s, r in rows.items()
            if expected[s]
        )
        print(
            f"ours: all graded and solved ones full marks: {ok}; max {full}, wrong: {wrong_scores}"
        )
        ours_rate = args.n / ours_s * 60
        print(
            f"nncourse autograde --workers {args.workers}: {args.n} submissions in {ours_s:.1f} s"
            f" = {ours_rate:.1f} per minute, peak memory {ours_mb:.0f} MB"
            f"{cpu_text(ours_cpu, args.n)}"
        )
        if args.plain_n:
            plain = Course(tmp / "plain", [a])
            plain.release(a)
            plain_expected = submit(plain, a, args.plain_n, *WRONG[a])
            cmd = [sys.executable, "-m", "nbgrader", "autograde", a, "--force"]
            pl_env = {**env, "NNCOURSE_DB_URL": plain.db_url}
            plain_s, plain_mb, plain_cpu, _ = timed(cmd, plain.root, pl_env)
            agree = all(
                (notebook_scores(plain.db_url, a, a, s).auto_score == float(max(full))) == solved
                for s, solved in plain_expected.items()
            )
            plain_rate = args.plain_n / plain_s * 60
            print(
                f"plain nbgrader autograde: {args.plain_n} submissions in {plain_s:.1f} s"
                f" = {plain_rate:.1f} per minute, peak memory {plain_mb:.0f} MB"
                f"{cpu_text(plain_cpu, args.plain_n)}"
                f" (same full/not-full split: {agree})"
            )
            print(f"speed-up: {ours_rate / plain_rate:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
