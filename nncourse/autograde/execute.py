"""nbgrader's execution step, sandboxed: ``nbgrader autograde`` and the formgrader's
Autograde button run student code only through `grade.run_submission`.

nbgrader_config.py puts `SandboxedExecute` in place of nbgrader's ``Execute`` in
``Autograde.autograde_preprocessors``. By then nbgrader has restored the test and locked
cells from the gradebook; this step reads the instructor's source notebook and the
release from the course, runs the trusted program (tests here, student cells in the
sandbox) and puts each test cell's outputs in place, so nbgrader's own SaveAutoGrades
scores them as usual. A submission that cannot be graded fails on its own (nbgrader
records the error for that student and goes on with the next).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer

from nncourse.autograde.grade import Limits, run_submission
from nncourse.autograde.inject import apply_outputs


class SandboxedExecute(NbGraderPreprocessor):
    """Run the submission in the sandbox; trusted outputs into the test cells."""

    cell_timeout = Float(120.0, help="Seconds a cell may run.").tag(config=True)
    timeout = Float(900.0, help="Seconds a whole submission may run.").tag(config=True)
    memory_mb = Integer(2048, help="Memory of all a submission's processes (MB).").tag(config=True)
    output_kb = Integer(256, help="Output kept per cell (kB).").tag(config=True)
    sandboxed = Bool(
        True, help="False runs student code without bubblewrap: only for trusted work."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        course = CourseDirectory(config=self.config)
        root = Path(course.root)
        name = f"{info['notebook']}.ipynb"
        source = nbformat.read(
            root / course.source_directory / info["assignment"] / name, as_version=4
        )
        release = nbformat.read(
            root / course.release_directory / info["assignment"] / name, as_version=4
        )
        limits = Limits(
            cell_timeout=self.cell_timeout,
            timeout=self.timeout,
            memory_mb=self.memory_mb,
            output_kb=self.output_kb,
            sandboxed=self.sandboxed,
        )
        student = str(info.get("student", "student"))
        folder = _submitted_folder(course, student, info["assignment"], name)
        outcome = run_submission(
            nb,
            source,
            release,
            folder,
            limits,
            uid=100_000 + 64 * (os.getpid() % 2**14),
            name=student,
        )
        if outcome.error:
            raise RuntimeError(f"{student}: {outcome.error}")
        for problem in outcome.problems:
            self.log.warning("%s: %s", student, problem)
        apply_outputs(nb, outcome.results, outcome.cells)
        return nb, resources


def _submitted_folder(course: CourseDirectory, student: str, assignment: str, name: str) -> Path:
    """The student's own submitted/ folder, whose files the sandbox gets a copy of.

    Not nbgrader's autograded/ copy: nbgrader copies a linked file's target (whatever the
    grader may read) as if the student had written it. A submission whose folder or
    notebook is a link is not graded at all: nbgrader has already read the notebook
    through the link (it could be the instructor's solved one)."""
    folder = Path(course.format_path(course.submitted_directory, student, assignment))
    for path in (folder.parent, folder, folder / name):
        if path.is_symlink():
            raise RuntimeError(f"{student}: {path.name} is a link, not a file: not graded")
    return folder
