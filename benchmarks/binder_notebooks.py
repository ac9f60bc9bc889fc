"""Run the solved notebooks as a student on mybinder.org would: 1 CPU, 2 GB.

Each notebook of solutions/ runs in its own cgroup v1 (a CFS quota of 1 CPU and a memory
limit of 2 GB, as Binder gives a container), executed by nbclient with the course's kernel
client in the default student run (NBGRADER_EXECUTION unset, no BLAS thread variables, so
nnlib picks its own thread count as on Binder). The notebook's client and its kernel are
both inside the cgroup. Prints, per notebook, the wall time, the slowest cell and the peak
memory of the cgroup (memory.max_usage_in_bytes, page cache included), checked against the
budget of COURSE.md: no cell over 60 s, no notebook over 180 s, under 1 GB.

Needs root (to create cgroups) and cgroup v1 cpu and memory hierarchies; the cgroups are
created below this process's own ones and removed afterwards.

    NNLIB_DATA=/path/to/data python benchmarks/binder_notebooks.py
    python benchmarks/binder_notebooks.py 06_mnist 07_cnn --cpus 1 --memory-mb 2048
    python benchmarks/binder_notebooks.py --full-run   # FULL_RUN = True where a notebook has it

With --full-run, the notebooks that have a `FULL_RUN = False` switch run with it set to
True (from a copy), to measure the times their text quotes for the full run; the budget
does not apply to those.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
# The course's CI layout keeps the data next to the repository, in ../shared/data.
SHARED_DATA = REPO.parent / "shared" / "data"

CELL_BUDGET_S, NOTEBOOK_BUDGET_S, MEMORY_BUDGET_MB = 60, 180, 1024
THREAD_VARIABLES = ("NNLIB_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")  # fmt: skip


# --- cgroups -------------------------------------------------------------------------------


def v1_folder(controller: str) -> Path:
    """This process's cgroup v1 folder for `controller` (found through /proc/self)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(","):
            paths[name] = path
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, tail = line.partition(" - ")
        left, right = fields.split(), tail.split()
        if right[:1] == ["cgroup"] and controller in right[2].split(",") and controller in paths:
            root, point = left[3], left[4]
            own = paths[controller]
            rel = own[len(root) :] if own.startswith(root.rstrip("/") + "/") else ""
            return Path(point, rel.lstrip("/"))
    raise SystemExit(f"no cgroup v1 {controller} hierarchy mounted (cgroup v2 only?)")


class BinderBox:
    """A cpu and a memory cgroup v1 with Binder's limits, removed on exit."""

    def __init__(self, name: str, cpus: float, memory_mb: int):
        self.folders = [v1_folder("cpu") / name, v1_folder("memory") / name]
        self.cpus, self.memory_mb = cpus, memory_mb

    def __enter__(self) -> BinderBox:
        cpu, memory = self.folders
        for folder in self.folders:
            folder.mkdir()
        period = int((cpu / "cpu.cfs_period_us").read_text())
        (cpu / "cpu.cfs_quota_us").write_text(str(int(self.cpus * period)))
        (memory / "memory.limit_in_bytes").write_text(str(self.memory_mb * 2**20))
        return self

    def enter(self) -> None:
        """Move the calling process into both cgroups (a `preexec_fn`)."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def peak_mb(self) -> float:
        return int((self.folders[1] / "memory.max_usage_in_bytes").read_text()) / 2**20

    def __exit__(self, *exc) -> None:
        # A kernel left behind (the client was killed) must go, or the cgroup cannot.
        for _ in range(50):
            pids = {int(p) for f in self.folders for p in (f / "cgroup.procs").read_text().split()}
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        for folder in self.folders:
            folder.rmdir()


# --- one notebook (run in the child, inside the cgroups) -------------------------------------


def run_notebook(path: Path, timeout: int) -> dict:
    """Execute the notebook with the course's kernel client; wall time and per-cell times."""
    import nbformat
    from nbclient import NotebookClient

    import nnlib
    from nncourse.kernel_client import client_config

    nb = nbformat.read(path, as_version=4)
    starts, seconds = {}, {}

    def started(cell, cell_index):
        starts[cell_index] = time.perf_counter()

    def finished(cell, cell_index, execute_reply):
        seconds[cell_index] = time.perf_counter() - starts[cell_index]

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        config=client_config(),
        on_cell_execute=started,
        on_cell_executed=finished,
    )
    t0 = time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as exc:  # a failing cell is reported, the other notebooks still run
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
    slowest = max(seconds, key=seconds.get) if seconds else None
    return {
        "wall_s": time.perf_counter() - t0,
        "cells": len(nb.cells),
        "slowest_cell": slowest,
        "slowest_cell_s": seconds.get(slowest, 0.0),
        "cell_seconds": {str(i): s for i, s in sorted(seconds.items())},
        "blas": nnlib.threads.report(),  # what nnlib (and so the kernel) chose in the cgroup
        "error": error,
    }


# --- the table ---------------------------------------------------------------------------


SWITCH = "FULL_RUN = False"


def full_run_copy(path: Path, folder: Path) -> Path | None:
    """A copy of the notebook at `path` in `folder` with its switch set to the full run,
    or None when it has no switch."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    switched = [c for c in nb.cells if c.cell_type == "code" and SWITCH in c.source]
    for cell in switched:
        cell.source = cell.source.replace(SWITCH, "FULL_RUN = True")
    if not switched:
        return None
    out = folder / path.name
    nbformat.write(nb, out)
    return out


def measure(assignment: str, args, path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env.pop("NBGRADER_EXECUTION", None)  # the default student run
    name = f"nncourse-binder-{assignment}-{os.getpid()}"
    with BinderBox(name, args.cpus, args.memory_mb) as box:
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(path), "--timeout", str(args.timeout)],
            env=env,
            preexec_fn=box.enter,
            capture_output=True,
            text=True,
        )
        peak = box.peak_mb()
    if child.returncode != 0:
        tail = child.stderr.strip().splitlines()[-1:] or ["no output"]
        result = {"wall_s": float("nan"), "slowest_cell": None, "slowest_cell_s": float("nan"),
                  "blas": "", "error": f"exit {child.returncode}: {tail[0]}"}  # fmt: skip
    else:
        result = json.loads(child.stdout.strip().splitlines()[-1])
    result.update(notebook=assignment, peak_mb=peak)
    over = []
    if not result["slowest_cell_s"] <= CELL_BUDGET_S:
        over.append(f"cell > {CELL_BUDGET_S} s")
    if not result["wall_s"] <= NOTEBOOK_BUDGET_S:
        over.append(f"notebook > {NOTEBOOK_BUDGET_S} s")
    if not peak < MEMORY_BUDGET_MB:
        over.append(f"memory >= {MEMORY_BUDGET_MB} MB")
    if result["error"]:
        over.append(result["error"])
    result["over_budget"] = over if not args.full_run else [e for e in over if "exit" in e]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="ids (default: every solution notebook)")
    parser.add_argument("--cpus", type=float, default=1.0, help="CFS quota in CPUs")
    parser.add_argument("--memory-mb", type=int, default=2048, help="memory limit")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--no-json", action="store_true", help="do not write results/*.json")
    parser.add_argument("--full-run", action="store_true", help="FULL_RUN = True (see above)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_notebook(args.one, args.timeout)))
        return
    if os.geteuid() != 0:
        raise SystemExit("needs root: the notebooks run in cgroups created for them")
    if "NNLIB_DATA" not in os.environ and (SHARED_DATA / "mnist").is_dir():
        os.environ["NNLIB_DATA"] = str(SHARED_DATA)
    ids = args.notebooks or sorted(p.parent.name for p in REPO.glob("solutions/*/*.ipynb"))
    kind = "full run (FULL_RUN = True)" if args.full_run else "default student run"
    print(f"{len(ids)} notebooks, each in a cgroup of {args.cpus:g} CPU and "
          f"{args.memory_mb} MB, {kind}")  # fmt: skip
    print(f"{'notebook':<14} {'wall s':>7} {'slowest cell':>14} {'peak MB':>8}  over budget")
    results = []
    copies = Path(tempfile.mkdtemp(prefix="nncourse-full-run-"))
    for assignment in ids:
        path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
        if args.full_run:
            path = full_run_copy(path, copies)
            if path is None:
                print(f"{assignment:<14} (no FULL_RUN switch)")
                continue
        r = measure(assignment, args, path)
        results.append(r)
        cell = f"#{r['slowest_cell']} {r['slowest_cell_s']:.1f} s"
        print(f"{assignment:<14} {r['wall_s']:>7.1f} {cell:>14} {r['peak_mb']:>8.0f}  "
              f"{'; '.join(r['over_budget']) or '-'}", flush=True)  # fmt: skip
    blas = {r["blas"] for r in results if r["blas"]}
    print("in the cgroup: " + (", ".join(sorted(blas)) or "nnlib not imported"))
    shutil.rmtree(copies, ignore_errors=True)
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        out = {"cpus": args.cpus, "memory_mb": args.memory_mb, "notebooks": results}
        name = "binder_notebooks_full_run.json" if args.full_run else "binder_notebooks.json"
        (RESULTS / name).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
