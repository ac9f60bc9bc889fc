"""`nncourse student-setup`: JupyterLab as students get it (instructor panels off)."""

import json
import os
import subprocess
import sys

from nncourse import student_setup


def _jupyter(args, env):
    out = subprocess.run(
        [sys.executable, "-m", *args], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout + out.stderr


def test_user_level_switches_off_instructor_panels_and_keeps_validate(tmp_path):
    env = dict(os.environ)
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "jupyter_server_config.json"
    config.write_text(json.dumps({"ServerApp": {"ip": "127.0.0.1"}}))  # must be kept

    student_setup.run("user", env=env)

    saved = json.loads(config.read_text())["ServerApp"]
    assert saved["ip"] == "127.0.0.1"
    assert saved["jpserver_extensions"] == dict.fromkeys(
        student_setup.SERVER_EXTENSIONS_OFF, False
    )
    servers = _jupyter(["jupyter_server.extension.serverextension", "list"], env)
    for ext in student_setup.SERVER_EXTENSIONS_OFF:
        line = next(x for x in servers.splitlines() if x.strip().startswith(ext + " "))
        assert "disabled" in line, line
    validate = next(x for x in servers.splitlines() if "validate_assignment" in x)
    assert "enabled" in validate, validate
    labs = _jupyter(["jupyterlab.labextensions", "list"], env)
    for plugin in student_setup.LAB_PLUGINS_OFF:
        assert plugin in labs.split("Disabled extensions:")[1], labs
