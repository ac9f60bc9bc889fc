"""JupyterLab as students get it: only what a student needs from nbgrader.

Used by Binder's `binder/postBuild` and by the browser tests (`nncourse student-setup`).
Students keep nbgrader's *Validate* button (it runs the visible tests of the notebook);
the instructor panels (formgrader, create assignment, course list), the assignment list
(it needs an nbgrader exchange, which Binder does not have) and the nbgrader menu that
only opens those panels are switched off, in JupyterLab and on the server. JupyterLab's
news/announcements pop-up is switched off as well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def commands(level: str = "sys-prefix") -> list[list[str]]:
    """The `jupyter labextension disable ...` and `... lock ...` command lines (run as
    modules of this interpreter so that they configure its environment whether or not it
    is activated), for this environment (sys-prefix) or the user's Jupyter config folder
    (user; JUPYTER_CONFIG_DIR moves it). Locking keeps a student from switching the
    panels back on in the extension manager."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    lab_level = f"--level={level.replace('-', '_')}"
    return [
        [*LABEXTENSION, action, lab_level, plugin]
        for plugin in LAB_PLUGINS_OFF
        for action in ("disable", "lock")
    ]


def server_config_file(level: str = "sys-prefix", env: dict | None = None) -> Path:
    """The jupyter_server_config.json of that level: <sys.prefix>/etc/jupyter for
    sys-prefix, JUPYTER_CONFIG_DIR (default ~/.jupyter) for user."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if level == "sys-prefix":
        folder = Path(sys.prefix) / "etc" / "jupyter"
    else:
        env = os.environ if env is None else env
        folder = Path(env.get("JUPYTER_CONFIG_DIR") or Path.home() / ".jupyter")
    return folder / "jupyter_server_config.json"


def disable_server_extensions(path: Path) -> None:
    """Set the instructor server extensions to false in the config file at `path`,
    keeping whatever else it holds. Written directly because `jupyter server extension
    disable --user X` writes nothing (and exits 0) when X was enabled at another level."""
    config = json.loads(path.read_text()) if path.exists() else {}
    enabled = config.setdefault("ServerApp", {}).setdefault("jpserver_extensions", {})
    enabled.update(dict.fromkeys(SERVER_EXTENSIONS_OFF, False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")


def run(level: str = "sys-prefix", env: dict | None = None, dry_run: bool = False) -> int:
    for cmd in commands(level):
        print("+", " ".join(cmd), flush=True)
        if not dry_run:
            subprocess.run(cmd, env=env, check=True)
    path = server_config_file(level, env)
    print(f"+ server extensions {', '.join(SERVER_EXTENSIONS_OFF)} off in {path}", flush=True)
    if not dry_run:
        disable_server_extensions(path)
    return 0
