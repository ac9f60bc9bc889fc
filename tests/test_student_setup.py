"""`nncourse student-setup`: JupyterLab as students get it (instructor panels off, the
Assignments panel only where an exchange exists, nothing changed for the instructor)."""

import json
import os
import re
import subprocess
import sys

import pytest

from nncourse import student_setup

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _account(tmp_path, name, exchange=None):
    """The environment of one user whose Jupyter config folder is in tmp_path; with
    `exchange`, its nbgrader config names that folder as the exchange."""
    config = tmp_path / name / "config"
    config.mkdir(parents=True)
    if exchange is not None:
        (config / "nbgrader_config.py").write_text(f"c.Exchange.root = {str(exchange)!r}\n")
    env = dict(os.environ)
    env.update(HOME=str(tmp_path / name), JUPYTER_CONFIG_DIR=str(config))
    return env


# What a Jupyter server started with this environment reads: its server-extension switches
# (its config files, then the extension folders, as the server resolves them at start-up)
# and the merged JupyterLab page config (disabled and locked plugins), computed by the
# server's and JupyterLab's own code, in a child process so that
# JUPYTER_CONFIG_DIR is the account's.
_SEEN = """
import json
from jupyter_server.serverapp import ServerApp
from jupyterlab_server.config import get_static_page_config
server = ServerApp()
server.load_config_file()
server.find_server_extensions()
page = get_static_page_config(level="all")
print(json.dumps({
    "servers": server.jpserver_extensions,
    "disabled": [k for k, v in page.get("disabledExtensions", {}).items() if v],
    "locked": [k for k, v in page.get("lockedExtensions", {}).items() if v],
}))
"""


def _seen(env) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _SEEN], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    nbgrader = {k: v for k, v in seen["servers"].items() if k.startswith("nbgrader.")}
    return {"servers": nbgrader, "disabled": set(seen["disabled"]), "locked": set(seen["locked"])}


ALL_NBGRADER_SERVERS = {
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.validate_assignment",
}


def test_user_level_without_exchange_switches_off_every_nbgrader_panel_but_validate(tmp_path):
    env = _account(tmp_path, "student", exchange=tmp_path / "no-such-exchange")
    config = tmp_path / "student" / "config" / "jupyter_server_config.json"
    config.write_text(json.dumps({"ServerApp": {"ip": "127.0.0.1"}}))  # must be kept

    student_setup.run("user", env=env)

    assert json.loads(config.read_text())["ServerApp"]["ip"] == "127.0.0.1"
    seen = _seen(env)
    assert seen["servers"] == {
        **dict.fromkeys(ALL_NBGRADER_SERVERS, False),
        "nbgrader.server_extensions.validate_assignment": True,
    }
    assert seen["disabled"] == seen["locked"] == set(student_setup.LAB_PLUGINS_OFF)


def test_with_an_exchange_students_keep_the_assignments_panel_and_not_the_instructors(
    tmp_path,
):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    student = _account(tmp_path, "student", exchange=exchange)
    instructor = _account(tmp_path, "instructor", exchange=exchange)
    assert student_setup.exchange_in_use(student) == str(exchange)

    student_setup.run("user", env=student)

    seen = _seen(student)
    assert seen["servers"] == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.validate_assignment": True,
    }
    kept_off = {*student_setup.INSTRUCTOR_PLUGINS, *student_setup.OTHER_PLUGINS_OFF}
    assert seen["disabled"] == seen["locked"] == kept_off
    # Per-user configuration: another account of the same environment (the instructor)
    # keeps every panel, the formgrader included.
    seen = _seen(instructor)
    assert seen["servers"] == dict.fromkeys(ALL_NBGRADER_SERVERS, True)
    assert not seen["disabled"] & set(student_setup.LAB_PLUGINS_OFF)


def test_a_second_run_after_an_exchange_appears_gives_the_assignments_panel_back(tmp_path):
    exchange = tmp_path / "exchange"
    env = _account(tmp_path, "student", exchange=exchange)
    student_setup.run("user", env=env)  # no exchange yet: the panel goes
    assert set(student_setup.ASSIGNMENT_PLUGINS) <= _seen(env)["locked"]
    exchange.mkdir()
    student_setup.run("user", env=env)
    seen = _seen(env)
    assert seen["servers"]["nbgrader.server_extensions.assignment_list"] is True
    assert not (seen["disabled"] | seen["locked"]) & set(student_setup.ASSIGNMENT_PLUGINS)


def test_the_environment_level_is_refused_where_the_instructor_shares_it(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    env = _account(tmp_path, "admin", exchange=exchange)
    shared = [
        student_setup.server_config_file("sys-prefix"),
        student_setup.lab_config_file("sys-prefix"),
    ]
    before = [path.read_text() if path.exists() else None for path in shared]

    with pytest.raises(student_setup.SetupError, match="formgrader"):
        student_setup.run("sys-prefix", env=env)

    assert [path.read_text() if path.exists() else None for path in shared] == before


def test_an_exchange_service_such_as_ngshare_counts_as_an_exchange(tmp_path):
    env = _account(tmp_path, "student")
    (tmp_path / "student" / "config" / "nbgrader_config.py").write_text(
        'c.ExchangeFactory.exchange = "ngshare_exchange.exchange.Exchange"\n'
    )
    assert student_setup.exchange_in_use(env) == "ngshare_exchange.exchange.Exchange"
    student_setup.run("user", env=env)
    seen = _seen(env)
    assert seen["servers"]["nbgrader.server_extensions.assignment_list"] is True
    assert seen["servers"]["nbgrader.server_extensions.formgrader"] is False
    assert not seen["disabled"] & set(student_setup.ASSIGNMENT_PLUGINS)
