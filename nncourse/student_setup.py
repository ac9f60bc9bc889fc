"""JupyterLab as students get it: only what a student needs from nbgrader.

Used by Binder's `binder/postBuild` and by the browser tests (`nncourse student-setup`).
Students keep nbgrader's *Validate* button (it runs the visible tests of the notebook);
the instructor panels (formgrader, create assignment, course list), the assignment list
(it needs an nbgrader exchange, which Binder does not have) and the nbgrader menu that
only opens those panels are switched off, in JupyterLab and on the server. JupyterLab's
news/announcements pop-up is switched off as well.
"""

from __future__ import annotations

import subprocess
import sys

LAB_PLUGINS_OFF = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:menu",
    "@jupyterlab/apputils-extension:announcements",
]
SERVER_EXTENSIONS_OFF = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list",
]
LEVELS = ("sys-prefix", "user")
LABEXTENSION = [sys.executable, "-m", "jupyterlab.labextensions"]
SERVEREXTENSION = [sys.executable, "-m", "jupyter_server.extension.serverextension"]


def commands(level: str = "sys-prefix") -> list[list[str]]:
    """The command lines (`jupyter labextension disable ...`, `jupyter server extension
    disable ...`, run as modules of this interpreter so that they configure its
    environment whether or not it is activated), for this environment (sys-prefix) or
    the user's Jupyter config folder (user; JUPYTER_CONFIG_DIR moves it)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    lab_level = level.replace("-", "_")
    cmds = [
        [*LABEXTENSION, "disable", f"--level={lab_level}", plugin] for plugin in LAB_PLUGINS_OFF
    ]
    cmds += [[*SERVEREXTENSION, "disable", f"--{level}", ext] for ext in SERVER_EXTENSIONS_OFF]
    return cmds


def run(level: str = "sys-prefix", env: dict | None = None, dry_run: bool = False) -> int:
    for cmd in commands(level):
        print("+", " ".join(cmd), flush=True)
        if not dry_run:
            subprocess.run(cmd, env=env, check=True)
    return 0
