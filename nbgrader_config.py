"""nbgrader configuration of the nncourse course.

Run every `nbgrader` command from the folder of this file (the repository root). The
instructor notebooks live in `solutions/<id>/`, the student notebooks are generated into
`course/<id>/` (committed, so that Binder opens them directly).
"""

import os
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from nncourse.feedback import HideHiddenTests
from nncourse.kernel_client import KERNEL_CLIENT
from nncourse.nbgrader_run import INSTRUCTOR_ONLY

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# --- Course layout ---------------------------------------------------------------------
HERE = Path(__file__).resolve().parent
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.course_id = "nncourse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
# The gradebook: SQLite next to this file unless NNCOURSE_DB_URL names another database
# (any SQLAlchemy URL, e.g. postgresql://...). It is never committed (.gitignore).
DEFAULT_DB_URL = f"sqlite:///{HERE / 'gradebook.db'}"
c.CourseDirectory.db_url = os.environ.get("NNCOURSE_DB_URL") or DEFAULT_DB_URL

# --- Privacy on a shared server --------------------------------------------------------
# What nbgrader creates in the course folder (gradebook.db, submitted/, autograded/,
# feedback/) is for the instructor only. Loading this file (every nbgrader command, the
# formgrader, the Validate button) takes group and other access out of the process's
# umask, so each of them is owner-only from the moment it is created (nbgrader then sets
# the files inside to 444/644, private through their folders). Students get assignments and
# feedback only through the exchange, whose copies nbgrader makes readable itself.
os.umask(os.umask(0o077) | 0o077)
# What existed before this file was first loaded (a clone made with a permissive umask, a
# course graded before this line existed) is made owner-only here, before nbgrader runs.
for _name in INSTRUCTOR_ONLY:
    _path = HERE / _name
    if not _path.is_symlink() and _path.exists() and _path.stat().st_uid == os.geteuid():
        _path.chmod(_path.stat().st_mode & ~0o077)

# Release only the notebook (and images it shows): no checkpoints, caches or local data.
# nbgrader applies the same lists to every exchange copy (submit, collect), so the two
# files the exchange itself writes into a submission must be included too: without them
# collect drops the submission time (lateness is never detected) and release_feedback has
# no secret to address the student's feedback with.
EXCHANGE_FILES = ["timestamp.txt", "submission_secret.txt"]
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "__pycache__",
    "*.pyc",
    "feedback",
    "*.db",
    ".DS_Store",
]
c.CourseDirectory.include = ["*.ipynb", "*.png", "*.svg", "*.gif", "*.jpg", *EXCHANGE_FILES]

# Collecting never follows a link that a student put in their exchange folder (nbgrader's
# own collect copies the target as the instructor: a student's notebook linked to the
# solved one would be graded as theirs). See nncourse/exchange.py.
c.ExchangeFactory.collect = "nncourse.exchange.Collect"
c.CourseDirectory.max_file_size = 2000  # kB: a notebook folder never ships data sets

# --- Generating the student version ----------------------------------------------------
# `nncourse release` (or `nbgrader generate_assignment <id> --force`) adds the assignment
# to the gradebook itself; nothing has to be registered by hand first.
c.GenerateAssignment.create_assignment = True

# --- Autograding -----------------------------------------------------------------------
# Student code runs only in the sandbox (bubblewrap, see nncourse/autograde/): nbgrader's
# own execution step is replaced by the sandboxed trusted run, for `nbgrader autograde`
# and for the formgrader's Autograde button alike. Tests and scores stay in a process that
# never executes student code. Without bubblewrap, autograding refuses to run.
c.Autograde.autograde_preprocessors = [
    "nncourse.autograde.execute.SandboxedExecute",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Per cell and per submission: far above the slowest solved cell (a few seconds in grading
# mode), so only a runaway cell is stopped (it scores zero; the next cells still run).
c.SandboxedExecute.cell_timeout = 120
c.SandboxedExecute.timeout = 900
# The Validate button still runs the student's own kernel (nothing is graded there).
c.ExecutePreprocessor.timeout = 300
c.ExecutePreprocessor.raise_on_iopub_timeout = False
# Without this, a cell with a widget (every `interact`) can wait until the cell timeout for a
# reply that has already arrived, under load (see nncourse/kernel_client.py). Also used by
# the Validate button, which reads this file from the server's folder.
c.AsyncKernelManager.client_class = KERNEL_CLIENT
# A deleted test cell is put back from the gradebook (and then scored), so deleting a
# failing test never hides it.
c.OverwriteCells.add_missing_cells = True
# Keep huge outputs (a print in a training loop) from bloating the graded notebook.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# --- Feedback --------------------------------------------------------------------------
# Students see their score, visible tests and the message of any failed check, never the
# source of the hidden tests (see nncourse/feedback.py).
c.GenerateFeedback.preprocessors = [
    GetGrades,
    CSSHTMLHeaderPreprocessor,
    HideHiddenTests,
]
