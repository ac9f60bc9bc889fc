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

# Release only the notebook (and images it shows): no checkpoints, caches or local data.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "__pycache__",
    "*.pyc",
    "feedback",
    "*.db",
    ".DS_Store",
]
c.CourseDirectory.include = ["*.ipynb", "*.png", "*.svg", "*.gif", "*.jpg"]
c.CourseDirectory.max_file_size = 2000  # kB: a notebook folder never ships data sets

# --- Generating the student version ----------------------------------------------------
# `nncourse release` (or `nbgrader generate_assignment <id> --force`) adds the assignment
# to the gradebook itself; nothing has to be registered by hand first.
c.GenerateAssignment.create_assignment = True

# --- Autograding -----------------------------------------------------------------------
# Per cell: far above the slowest solved cell (a few seconds in grading mode), so only a
# runaway student cell is stopped. The timeout interrupts the kernel; the cell scores zero.
c.ExecutePreprocessor.timeout = 300
# nbgrader's default (True) makes a cell that ignores the interrupt (a loop catching
# KeyboardInterrupt) abort the whole submission; with False that cell and the ones the
# still-busy kernel cannot run score zero and the rest of the notebook is still graded.
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
