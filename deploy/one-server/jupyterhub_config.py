"""JupyterHub for one class on one server: Unix accounts, nbgrader's exchange, one
instructor with the formgrader and the course.

`setup.sh` copies this file next to `class.json` (written by setup.sh: who the
instructor and the students are, where the course and the exchange are, where the hub
listens) and starts `jupyterhub -f <that folder>/jupyterhub_config.py` from that folder.
The hub runs as root, logs people in with their Unix password (PAM) and starts each
person's JupyterLab as that person (LocalProcessSpawner), so the file permissions of the
accounts, the course folder and the exchange are what keeps students apart.
"""

import json
import os
import shutil
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)

HERE = Path(__file__).resolve().parent
CLASS = json.loads((HERE / "class.json").read_text())
INSTRUCTOR = CLASS["instructor"]
STUDENTS = CLASS["students"]
VENV_BIN = Path(CLASS["python_env"]) / "bin"

# --- Who may log in --------------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {INSTRUCTOR, *STUDENTS}
c.Authenticator.admin_users = {INSTRUCTOR}
# Accounts are created by setup.sh; the hub never creates or renames any.
c.LocalAuthenticator.create_system_users = False

# --- Where the hub listens; its state stays in this folder -----------------------------
c.JupyterHub.bind_url = f"http://{CLASS['ip']}:{CLASS['port']}"
hub_port, proxy_api_port = CLASS["internal_ports"]
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [
    CLASS.get("proxy") or shutil.which("configurable-http-proxy") or "configurable-http-proxy"
]
c.JupyterHub.cookie_secret_file = str(HERE / "jupyterhub_cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{HERE / 'jupyterhub.sqlite'}"
c.ConfigurableHTTPProxy.pid_file = str(HERE / "jupyterhub-proxy.pid")

# --- Each person's JupyterLab ----------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
# The course's environment first on PATH: its kernel, nbgrader (Validate, the exchange)
# and alembic (the gradebook) are the ones the course is tested with.
c.Spawner.environment = {
    "PATH": f"{VENV_BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
    **({"NNLIB_DATA": CLASS["data"]} if CLASS.get("data") else {}),
}
# A shared 2-core server starting several JupyterLabs at once is slow.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120


def open_the_course_for_the_instructor(spawner):
    """The instructor's JupyterLab runs in the course folder: the formgrader reads
    nbgrader_config.py from the folder the server starts in (the spawner would start it in
    the home). A student's starts in their home, where the exchange's Fetch puts each
    assignment."""
    if spawner.user.name == INSTRUCTOR:
        spawner.notebook_dir = CLASS["course_dir"]
        start_in_course = 'cd "$0" && exec jupyterhub-singleuser "$@"'
        spawner.cmd = ["sh", "-c", start_in_course, CLASS["course_dir"]]
    else:
        spawner.notebook_dir = "~"
        spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]


c.Spawner.pre_spawn_hook = open_the_course_for_the_instructor
