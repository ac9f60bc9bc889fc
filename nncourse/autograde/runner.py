"""`nncourse autograde`: grade nbgrader's submitted/ folder in parallel, sandboxed runs.

For each assignment:

1. pre-flight every ``submitted/<student>/<id>/`` (`preflight.py`); the repaired
   notebooks are staged in a private temporary folder (originals untouched, links never
   followed);
2. grade each submission (`grade.run_submission`): its trusted program runs in a process
   of its own, which sends the student cells to a bubblewrap sandbox (`jail.py`) with its
   own uid and cgroup, N submissions at a time, with a progress bar;
3. `nbgrader autograde` (this process's child, the only gradebook writer, one at a time)
   on the staged notebooks, with the trusted outputs in place of execution (`inject.py`),
   on the students graded so far while the others are still being graded;
4. reports (`report.py`): grades CSV with a status per student, score plot, feedback;
   an earlier score of a student whose new submission failed leaves the gradebook.

Any error in one student's steps marks that student ``failed`` with the reason; the batch
goes on.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat

from nncourse import nbgrader_run
from nncourse.autograde import report
from nncourse.autograde.grade import Limits, check_sandbox, copy_submission, run_submission
from nncourse.autograde.inject import RESULTS_ENV
from nncourse.autograde.options import Options, Outcome
from nncourse.autograde.preflight import preflight
from nncourse.autograde.report import NBGRADER_TIMEOUT
from nncourse.nbgrader_run import CONFIG_FILE, COPY_IGNORE, RELEASE_DIR, SOURCE_DIR, CourseError

# nbgrader's autograde preprocessors with the execution step replaced by the trusted
# outputs. Not its closing CheckCellMetadata: nbgrader's sanitizing pass has just checked the
# same metadata (restored from the gradebook), which nothing here changes, and the check
# is a fifth of the writer's time (jsonschema checks its schema again for every cell).
PREPROCESSORS = [
    "nncourse.autograde.inject.InjectTrustedOutputs",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
]


def db_url_of(root: Path) -> str:
    return os.environ.get(nbgrader_run.DB_ENV) or nbgrader_run.sqlite_url(root / "gradebook.db")


def protect(root: Path) -> list[str]:
    """Owner-only permissions on what a submission must never read or write."""
    changed = []
    for name in nbgrader_run.INSTRUCTOR_ONLY:
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


def _stage(folder: Path, dest: Path, nb) -> list[str]:
    """The repaired notebook and the rest of the folder (timestamp.txt: late penalties),
    copied without following links; returns notes on what was left out."""
    notes = copy_submission(folder, dest)
    nbformat.write(nb, dest / f"{dest.name}.ipynb")
    for name in ("timestamp.txt", "submission_secret.txt"):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            shutil.copyfile(path, dest / name)
    return notes


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="nb", file=sys.stderr)


def _limits(options: Options) -> Limits:
    return Limits(
        cell_timeout=options.cell_timeout,
        timeout=options.timeout,
        memory_mb=options.memory_mb,
        pids=options.pids,
        output_kb=options.output_kb,
        sandboxed=not options.unsandboxed,
    )


def grade_assignment(root: Path, assignment: str, options: Options) -> list[Outcome]:
    t0 = time.monotonic()
    root = Path(root).resolve()
    check_sandbox(_limits(options))
    db_url = db_url_of(root)
    release = release_notebook(root, assignment, db_url)
    source = nbformat.read(root / SOURCE_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    if os.geteuid() == 0:
        protect(root)
    # Staged notebooks and trusted results: owner-only, outside the course, removed after.
    work = Path(tempfile.mkdtemp(prefix=f"nncourse-autograde-{assignment}-"))
    try:
        return _grade(root, assignment, options, db_url, release, source, work, t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _uid_base(options: Options) -> int | None:
    if os.geteuid() != 0:
        return None
    if options.uid_base is not None:
        return options.uid_base
    # 100000 + 64 * (pid mod 2**14): unused by real accounts, and two batches running at
    # once get different uids, so neither can reach the other's sandboxes.
    return 100_000 + 64 * (os.getpid() % 2**14) if options.workers <= 64 else 10**7


def _grade(root, assignment, options, db_url, release, source, work, t0) -> list[Outcome]:
    (work / "results").mkdir()
    outcomes: dict[str, Outcome] = {}
    staged: dict[str, tuple] = {}
    for folder in sorted((root / "submitted").glob(f"*/{assignment}")):
        student = folder.parent.name
        if folder.is_symlink() or folder.parent.is_symlink():
            # Never followed (it could lead anywhere the grader may read); reported.
            outcomes[student] = Outcome(
                student, "failed", "the submission folder is a link, not a folder: not read"
            )
            continue
        if not folder.is_dir():
            continue
        try:
            pre = preflight(folder, assignment, release)
            outcomes[student] = Outcome(student, pre.status, pre.reason, pre.repairs)
            if pre.status != "ok":
                continue
            dest = work / "submitted" / student / assignment
            outcomes[student].notes = _stage(folder, dest, pre.notebook)
            staged[student] = (pre.notebook, dest)
        except Exception as err:  # noqa: BLE001 (this student fails, the batch goes on)
            outcomes[student] = Outcome(student, "failed", f"could not be read: {err}")
            shutil.rmtree(work / "submitted" / student, ignore_errors=True)

    limits = _limits(options)
    uid_base = _uid_base(options)
    slots: queue.Queue = queue.Queue()
    for k in range(options.workers):
        slots.put(k)
    deadline = time.monotonic() + options.batch_timeout

    def supervise(student):
        nb, dest = staged[student]
        if time.monotonic() > deadline:
            return None
        slot = slots.get()
        try:
            uid = None if uid_base is None else uid_base + slot
            return run_submission(nb, source, release, dest, limits, uid=uid, name=student)
        finally:
            slots.put(slot)

    bar = _progress(len(staged), options.progress, assignment)
    writer = GradebookWriter(root, assignment, work, db_url, chunk=max(10, len(staged) // 4))
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        futures = {pool.submit(supervise, s): s for s in staged}
        for fut in as_completed(futures):
            student, out = futures[fut], outcomes[futures[fut]]
            try:
                result = fut.result()
            except Exception as err:  # noqa: BLE001 (this student fails, the batch goes on)
                result, error = None, f"grading failed: {err}"
            else:
                error = "" if result is None else result.error
                if result is None:
                    error = f"not graded: the batch's {options.batch_timeout:g} s budget ran out"
            if options.unsandboxed:
                out.notes.insert(0, "UNSANDBOXED: student code ran without the sandbox")
            if error:
                out.status, out.reason = "failed", error
                shutil.rmtree(work / "submitted" / student, ignore_errors=True)
            else:
                out.status = "graded"
                out.seconds, out.max_rss_mb = (
                    result.seconds,
                    max(result.max_rss_mb, result.peak_mb),
                )
                out.notes.extend(result.problems)
                path = work / "results" / f"{student}.json"
                path.write_text(
                    json.dumps({"results": result.results, "cells": result.cells}),
                    encoding="utf-8",
                )
                writer.add(student)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()

    t_run = time.monotonic()
    log = writer.close()
    report.collect_scores(db_url, assignment, outcomes, root, log)
    report.retire_stale(db_url, assignment, outcomes, root)
    report.add_missing(db_url, assignment, outcomes)
    t_write = time.monotonic()
    if options.feedback:
        report.feedback(root, assignment, outcomes, db_url)
    t_end = time.monotonic()
    print(
        f"{assignment}: trusted runs {t_run - t0:.1f} s, gradebook {writer.seconds:.1f} s, "
        f"feedback {t_end - t_write:.1f} s (the gradebook in {writer.runs} nbgrader runs, "
        f"{t_write - t_run:.1f} s of it after the trusted runs)",
        file=sys.stderr,
    )
    return sorted(outcomes.values(), key=lambda o: o.student)


class GradebookWriter:
    """The only writer of the gradebook: `nbgrader autograde` on the staged notebooks of the
    students graded so far, with their trusted outputs in place of execution (`inject.py`).

    It runs in a thread while the trusted runs go on, one nbgrader at a time, each time on
    at least `chunk` students (nbgrader's start-up costs seconds), and on the rest at
    `close()`; each run gets a folder of its own, so it sees only its students."""

    def __init__(self, root: Path, assignment: str, work: Path, db_url: str, chunk: int):
        self.root, self.assignment, self.work, self.db_url = root, assignment, work, db_url
        self.chunk = chunk
        self.ready: list[str] = []
        self.closed = False
        self.logs: list[str] = []
        self.runs, self.seconds = 0, 0.0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._loop, name="gradebook-writer", daemon=True)
        self.thread.start()

    def add(self, student: str) -> None:
        """`student`'s results are in work/results/ and their notebook staged."""
        with self.cond:
            self.ready.append(student)
            self.cond.notify()

    def close(self) -> str:
        """Write whatever is left, wait for the last run; nbgrader's log of all runs."""
        with self.cond:
            self.closed = True
            self.cond.notify()
        self.thread.join()
        return "\n".join(self.logs)

    def _loop(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.closed or len(self.ready) >= self.chunk)
                students, self.ready = self.ready, []
                last = self.closed
            if students:
                self._write(students)
            if last:
                return

    def _write(self, students: list[str]) -> None:
        folder = self.work / f"write-{self.runs}" / "submitted"
        folder.mkdir(parents=True)
        for student in students:
            (self.work / "submitted" / student).rename(folder / student)
        t0 = time.monotonic()
        try:
            self.logs.append(
                write_gradebook(self.root, self.assignment, folder, self.work, self.db_url)
            )
        except Exception as err:  # noqa: BLE001 (these students fail in collect_scores)
            self.logs.append(f"the gradebook writer failed: {err}")
        self.runs += 1
        self.seconds += time.monotonic() - t0


def write_gradebook(root: Path, assignment: str, submitted: Path, work: Path, db_url: str) -> str:
    """nbgrader autograde on the notebooks staged in `submitted`, the trusted outputs of
    work/results/ injected in place of execution; nbgrader's log."""
    args = [
        "autograde",
        assignment,
        "--force",
        f"--CourseDirectory.submitted_directory={submitted}",
    ]
    args += [f"--Autograde.autograde_preprocessors={p}" for p in PREPROCESSORS]
    try:
        result = nbgrader_run.run_nbgrader(
            root,
            args,
            db_url=db_url,
            env={RESULTS_ENV: str(work / "results")},
            check=False,
            timeout=NBGRADER_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"nbgrader autograde did not finish in {NBGRADER_TIMEOUT:g} s"
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
