"""`nncourse autograde`: grade nbgrader's submitted/ folder in parallel, isolated runs.

For each assignment:

1. pre-flight every ``submitted/<student>/<id>/`` (`preflight.py`); the repaired
   notebooks are staged in a private temporary folder (originals untouched);
2. build each submission's trusted program (`trusted.py`) and run it in its own
   supervisor process (`isolate.py`), N at a time, with a progress bar;
3. ONE `nbgrader autograde` (this process's child, the only gradebook writer) on the
   staged notebooks, with the trusted outputs in place of execution (`inject.py`);
4. reports (`report.py`): grades CSV with a status per student, score plot, feedback;
   an earlier score of a student whose new submission failed leaves the gradebook.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat

from nncourse import nbgrader_run
from nncourse.autograde import report
from nncourse.autograde.inject import RESULTS_ENV
from nncourse.autograde.options import Options, Outcome
from nncourse.autograde.preflight import preflight
from nncourse.autograde.trusted import build_program, preload_modules
from nncourse.nbgrader_run import CONFIG_FILE, COPY_IGNORE, RELEASE_DIR, SOURCE_DIR, CourseError

NOGROUP = 65534
# nbgrader's autograde preprocessors with Execute replaced by the trusted outputs.
PREPROCESSORS = [
    "nncourse.autograde.inject.InjectTrustedOutputs",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Imported before privileges are dropped (the interpreter's own library may be unreadable
# to the unprivileged user); the program's own imports are added per submission.
BASE_PRELOAD = [
    *("numpy", "numpy.testing", "numpy.random", "numpy.linalg", "numpy.fft", "numpy.ma"),
    *("numpy.polynomial", "numpy.lib.stride_tricks", "warnings", "traceback", "linecache"),
    *("math", "cmath", "random", "secrets", "hashlib", "itertools", "functools", "re", "copy"),
    *("collections", "dataclasses", "typing", "time", "string", "statistics", "textwrap"),
    *("inspect", "ast", "dis", "pickle", "gzip", "struct", "unittest", "unittest.mock"),
    *("contextlib", "operator", "abc", "enum", "numbers", "io", "tempfile", "pathlib"),
]
PRIVATE = ("solutions", "submitted", "autograded", "feedback", "reports", "gradebook.db")


def db_url_of(root: Path) -> str:
    return os.environ.get(nbgrader_run.DB_ENV) or nbgrader_run.sqlite_url(root / "gradebook.db")


def protect(root: Path) -> list[str]:
    """Owner-only permissions on what a submission must never read or write."""
    changed = []
    for name in PRIVATE:
        path = root / name
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(path.stat().st_mode & ~0o077)
            changed.append(name)
    return changed


def release_notebook(root: Path, assignment: str, db_url: str) -> nbformat.NotebookNode:
    """The student version, with the assignment registered in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    released = root / RELEASE_DIR / assignment / f"{assignment}.ipynb"
    try:
        with Gradebook(db_url) as gb:
            known = bool(gb.find_assignment(assignment).notebooks)
    except MissingEntry:
        known = False
    if known and released.is_file():
        return nbformat.read(released, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nncourse-register-") as tmp:
        work = Path(tmp)
        shutil.copy2(root / CONFIG_FILE, work / CONFIG_FILE)
        shutil.copytree(
            root / SOURCE_DIR / assignment, work / SOURCE_DIR / assignment, ignore=COPY_IGNORE
        )
        nbgrader_run.run_nbgrader(
            work, ["generate_assignment", assignment, "--force"], db_url=db_url
        )
        return nbformat.read(work / RELEASE_DIR / assignment / f"{assignment}.ipynb", as_version=4)


def _stage(folder: Path, dest: Path, nb) -> None:
    """The repaired notebook and the rest of the folder (timestamp.txt: late penalties)."""
    shutil.copytree(folder, dest, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    nbformat.write(nb, dest / f"{dest.name}.ipynb")


def _supervise(job: dict, slots: queue.Queue, uid_base: int | None) -> dict:
    slot = slots.get()
    try:
        if uid_base is not None:
            job = {**job, "uid": uid_base + slot, "gid": NOGROUP}
        proc = subprocess.run(
            [sys.executable, "-m", "nncourse.autograde.isolate"],
            input=json.dumps(job).encode(),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            code = proc.returncode
            why = f"killed by signal {-code}" if code < 0 else f"exit {code}: {tail[0]}"
            return {"error": f"the grading process for this submission died ({why})"}
        return json.loads(proc.stdout)
    finally:
        slots.put(slot)


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="nb", file=sys.stderr)


def grade_assignment(root: Path, assignment: str, options: Options) -> list[Outcome]:
    t0 = time.monotonic()
    root = Path(root).resolve()
    db_url = db_url_of(root)
    as_root = os.geteuid() == 0
    release = release_notebook(root, assignment, db_url)
    source = nbformat.read(root / SOURCE_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    if as_root:
        protect(root)
    # Staged notebooks and trusted results: owner-only, outside the course, removed after.
    work = Path(tempfile.mkdtemp(prefix=f"nncourse-autograde-{assignment}-"))
    try:
        return _grade(root, assignment, options, db_url, release, source, work, t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _grade(root, assignment, options, db_url, release, source, work, t0) -> list[Outcome]:
    (work / "results").mkdir()
    as_root = os.geteuid() == 0

    outcomes: dict[str, Outcome] = {}
    jobs: dict[str, dict] = {}
    for folder in sorted((root / "submitted").glob(f"*/{assignment}")):
        if not folder.is_dir():
            continue
        student = folder.parent.name
        pre = preflight(folder, assignment, release)
        outcomes[student] = Outcome(student, pre.status, pre.reason, pre.repairs)
        if pre.status != "ok":
            continue
        _stage(folder, work / "submitted" / student / assignment, pre.notebook)
        cells, notes = build_program(pre.notebook, source, release)
        outcomes[student].notes = notes
        jobs[student] = {
            "folder": str(folder),
            "cells": cells,
            "preload": preload_modules(cells) + BASE_PRELOAD,
            "cell_timeout": options.cell_timeout,
            "timeout": options.timeout,
            "memory_mb": options.memory_mb,
            "output_cap": options.output_kb * 1024,
            "file_mb": options.file_mb,
        }

    slots: queue.Queue = queue.Queue()
    for k in range(options.workers):
        slots.put(k)
    bar = _progress(len(jobs), options.progress, assignment)
    uid_base = None
    if as_root:
        uid_base = options.uid_base
        if uid_base is None:  # 100000 + 64 * (pid mod 2**14): unused by real accounts
            uid_base = 100_000 + 64 * (os.getpid() % 2**14) if options.workers <= 64 else 10**7
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        futures = {pool.submit(_supervise, j, slots, uid_base): s for s, j in jobs.items()}
        for fut in as_completed(futures):
            student, result = futures[fut], fut.result()
            out = outcomes[student]
            if "error" in result:
                out.status, out.reason = "failed", result["error"]
                shutil.rmtree(work / "submitted" / student)
            else:
                out.status = "graded"
                out.seconds, out.max_rss_mb = result["seconds"], result["max_rss_mb"]
                out.notes.extend(result["problems"])
                path = work / "results" / f"{student}.json"
                path.write_text(json.dumps(result), encoding="utf-8")
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()

    t_run = time.monotonic()
    log = write_gradebook(
        root, assignment, work, db_url, [s for s, o in outcomes.items() if o.status == "graded"]
    )
    report.collect_scores(db_url, assignment, outcomes, root, log)
    report.retire_stale(db_url, assignment, outcomes, root)
    report.add_missing(db_url, assignment, outcomes)
    t_write = time.monotonic()
    if options.feedback:
        report.feedback(root, assignment, outcomes, db_url)
    t_end = time.monotonic()
    print(
        f"{assignment}: trusted runs {t_run - t0:.1f} s, gradebook {t_write - t_run:.1f} s, "
        f"feedback {t_end - t_write:.1f} s",
        file=sys.stderr,
    )
    return sorted(outcomes.values(), key=lambda o: o.student)


def write_gradebook(
    root: Path, assignment: str, work: Path, db_url: str, students: list[str]
) -> str:
    """The only writer: nbgrader autograde on the staged notebooks, trusted outputs injected."""
    if not students:
        return ""
    args = [
        "autograde",
        assignment,
        "--force",
        f"--CourseDirectory.submitted_directory={work / 'submitted'}",
    ]
    args += [f"--Autograde.autograde_preprocessors={p}" for p in PREPROCESSORS]
    result = nbgrader_run.run_nbgrader(
        root, args, db_url=db_url, env={RESULTS_ENV: str(work / "results")}, check=False
    )
    return result.output


def autograde(
    root: Path, assignments: list[str] | None, options: Options
) -> dict[str, list[Outcome]]:
    root = nbgrader_run.find_root(root)
    ids = nbgrader_run.check_assignments(root, assignments)
    if not (root / "submitted").is_dir():
        raise CourseError(f"no submitted/ folder in {root}: nothing to grade")
    results = {}
    for a in ids:
        t0 = time.monotonic()
        outcomes = grade_assignment(root, a, options)
        paths = report.write(root, a, outcomes)
        print(report.summary(a, outcomes, time.monotonic() - t0, options.workers))
        for p in paths:
            print(f"  wrote {p.relative_to(root)}")
        results[a] = outcomes
    return results
