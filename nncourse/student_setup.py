"""JupyterLab as students get it: only what a student needs from nbgrader.

Used by Binder's `binder/postBuild`, by the class deployment in `deploy/` and by the
browser tests (`nncourse student-setup`). Students keep nbgrader's *Validate* button (it
runs the visible tests of the notebook). The instructor panels (formgrader, create
assignment, course list) are switched off, in JupyterLab and on the server. The
*Assignments* panel (fetch, submit, fetch feedback) and the nbgrader menu that opens it
stay where an nbgrader exchange is configured and go where there is none (Binder), since
without an exchange the panel only shows errors. JupyterLab's news/announcements pop-up
is switched off as well.

Two levels: `user` (the student's own Jupyter config folder, JUPYTER_CONFIG_DIR or
~/.jupyter) for a student account on a shared server, and `sys-prefix` (this Python
environment, for every user of it) for an image only students use, such as Binder's. On a
server with an exchange the environment is shared with the instructor, whose formgrader
would be switched off too: `sys-prefix` is refused there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nncourse.nbgrader_run import CourseError

INSTRUCTOR_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
# The Assignments panel and the menu entry that opens it (the menu lists only the panels
# whose plugins are on, so with the instructor plugins off it shows just this one).
ASSIGNMENT_PLUGINS = ["@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:menu"]
OTHER_PLUGINS_OFF = ["@jupyterlab/apputils-extension:announcements"]
# Every plugin this module may switch off (with no exchange).
LAB_PLUGINS_OFF = [*INSTRUCTOR_PLUGINS, *ASSIGNMENT_PLUGINS, *OTHER_PLUGINS_OFF]

INSTRUCTOR_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
]
ASSIGNMENT_SERVER_EXTENSION = "nbgrader.server_extensions.assignment_list"
SERVER_EXTENSIONS_OFF = [*INSTRUCTOR_SERVER_EXTENSIONS, ASSIGNMENT_SERVER_EXTENSION]
LEVELS = ("sys-prefix", "user")

# Run in a child process so that nbgrader reads the config files of *that* environment
# (JUPYTER_CONFIG_DIR) exactly as the student's server will. An exchange is in use when the
# config replaces nbgrader's exchange classes (ngshare's configureExchange does) or when the
# folder of nbgrader's own exchange exists.
_EXCHANGE = """
from nbgrader.apps import NbGrader
from nbgrader.exchange.default.exchange import Exchange
app = NbGrader()
app.load_config_file()
factory = app.config.ExchangeFactory
if "exchange" in factory:
    print("service", factory.exchange)
else:
    print("folder", Exchange(config=app.config).root)
"""


class SetupError(CourseError):
    """A set-up that would break the class (shown to the administrator)."""


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def exchange_in_use(env: dict | None = None) -> str | None:
    """The exchange students of this environment use (nbgrader's exchange folder if it
    exists, or the exchange class the config names instead), or None."""
    out = subprocess.run(
        [sys.executable, "-c", _EXCHANGE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(env.get("HOME", "/") if env else Path.home()),
    )
    kind, where = out.stdout.strip().splitlines()[-1].split(" ", 1)
    if kind == "service" or Path(where).is_dir():
        return where
    return None


def plugins_off(assignments: bool) -> list[str]:
    """The JupyterLab plugins to switch off: all of LAB_PLUGINS_OFF, less the Assignments
    panel and its menu when students use an exchange."""
    keep = ASSIGNMENT_PLUGINS if assignments else []
    return [p for p in LAB_PLUGINS_OFF if p not in keep]


def config_folder(level: str = "user", env: dict | None = None) -> Path:
    """The Jupyter config folder of that level: <sys.prefix>/etc/jupyter for sys-prefix,
    JUPYTER_CONFIG_DIR (default ~/.jupyter) for user."""
    _check_level(level)
    if level == "sys-prefix":
        return Path(sys.prefix) / "etc" / "jupyter"
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    return Path(env.get("JUPYTER_CONFIG_DIR") or home / ".jupyter")


def server_config_file(level: str = "user", env: dict | None = None) -> Path:
    """The jupyter_server_config.json of that level."""
    return config_folder(level, env) / "jupyter_server_config.json"


def lab_config_file(level: str = "user", env: dict | None = None) -> Path:
    """The page_config.json that `jupyter labextension disable/lock --level=...` writes."""
    return config_folder(level, env) / "labconfig" / "page_config.json"


def lab_switches(assignments: bool) -> dict[str, bool]:
    """JupyterLab plugin -> disabled (and locked, so that a student cannot switch it back
    on in the extension manager). The Assignments plugins are written as enabled and
    unlocked when they stay: an earlier run without an exchange may have locked them off."""
    off = set(plugins_off(assignments))
    return {p: p in off for p in LAB_PLUGINS_OFF}


def server_switches(assignments: bool) -> dict[str, bool]:
    """nbgrader's server extensions and whether each runs for students."""
    switches = dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, False)
    switches[ASSIGNMENT_SERVER_EXTENSION] = assignments
    return switches


def _update_json(path: Path, keys: tuple[str, ...], switches: dict[str, bool]) -> None:
    """Set `switches` in the dict at `keys` of the JSON file, keeping everything else."""
    config = json.loads(path.read_text()) if path.exists() else {}
    section = config
    for key in keys:
        section = section.setdefault(key, {})
    section.update(switches)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")


def write_server_switches(path: Path, switches: dict[str, bool]) -> None:
    """Written directly because `jupyter server extension disable --user X` writes
    nothing (and exits 0) when X was enabled at another level."""
    _update_json(path, ("ServerApp", "jpserver_extensions"), switches)


def write_lab_switches(path: Path, switches: dict[str, bool]) -> None:
    """The keys `jupyter labextension disable` and `lock` write, written directly: those
    commands take seconds each to start, two per plugin."""
    _update_json(path, ("disabledExtensions",), switches)
    _update_json(path, ("lockedExtensions",), switches)


def _shown(switches: dict[str, bool], true: str, false: str) -> str:
    return ", ".join(f"{name}={true if value else false}" for name, value in switches.items())


def run(
    level: str = "user",
    env: dict | None = None,
    dry_run: bool = False,
    assignments: bool | None = None,
) -> int:
    """Configure JupyterLab for a student at `level`. `assignments`: keep the Assignments
    panel (True), hide it (False) or keep it only where an exchange exists (None)."""
    _check_level(level)
    exchange = exchange_in_use(env)
    if assignments is None:
        assignments = exchange is not None
    if level == "sys-prefix" and exchange is not None:
        raise SetupError(
            f"an nbgrader exchange exists ({exchange}): this environment is shared with the "
            "instructor, and switching nbgrader's panels off for all of it would switch off "
            "the instructor's formgrader too; run `nncourse student-setup --level user` "
            "as each student instead"
        )
    print(
        f"Assignments panel {'on' if assignments else 'off'} (exchange: {exchange or 'none'})",
        flush=True,
    )
    lab_path, lab = lab_config_file(level, env), lab_switches(assignments)
    print(f"+ lab plugins {_shown(lab, 'off', 'on')} in {lab_path}", flush=True)
    server_path, server = server_config_file(level, env), server_switches(assignments)
    print(f"+ server extensions {_shown(server, 'on', 'off')} in {server_path}", flush=True)
    if not dry_run:
        write_lab_switches(lab_path, lab)
        write_server_switches(server_path, server)
    return 0
