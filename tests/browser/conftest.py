"""One JupyterLab server (student set-up, isolated config) and one headless Chromium for the
whole browser suite.

The server serves a temporary copy of `solutions/` and `course/` (the tests save notebooks,
so the repository's own files are never written). Its Jupyter config, data, runtime, lab
settings and workspaces folders are all in a temporary folder, configured by
`nncourse.student_setup` at the user level (JUPYTER_CONFIG_DIR), as Binder's postBuild
configures the image.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers import CHROMIUM, CHROMIUM_ARGS, free_port, screenshot_folder, wait_until_serving

from nncourse import student_setup

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_START_S = 90


def _server_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
        "MPLCONFIGDIR": home / "matplotlib",
    }
    for name, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    # The interpreter's own jupyter first on PATH (kernels, nbgrader validate).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # Notebooks 06/07 train on all of MNIST when run normally (minutes each on 2 cores);
    # like nbgrader, this makes every notebook take its short path (GRADING in the notebooks).
    env["NBGRADER_EXECUTION"] = "validate"
    env.pop("JUPYTER_PATH", None)
    return env


def _lab_settings(settings_dir: Path) -> None:
    """Test-harness settings only: every cell stays in the page (no windowing), so the
    checks see all outputs without scrolling the notebook cell by cell."""
    tracker = settings_dir / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text('{"windowingMode": "none"}\n')


@pytest.fixture(scope="session")
def notebook_root(tmp_path_factory) -> Path:
    """A copy of solutions/, course/ and the nbgrader configuration as the server's root
    folder, laid out as on Binder (Validate reads nbgrader_config.py from there)."""
    root = tmp_path_factory.mktemp("lab-root")
    for top in ("solutions", "course"):
        shutil.copytree(REPO_ROOT / top, root / top)
    shutil.copy2(REPO_ROOT / "nbgrader_config.py", root)
    return root


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, notebook_root):
    """JupyterLab on localhost with a token, configured as students get it."""
    home = tmp_path_factory.mktemp("lab-home")
    env = _server_env(home)
    student_setup.run("user", env=env)  # into this server's JUPYTER_CONFIG_DIR
    _lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    port, token = free_port(), secrets.token_hex(16)
    log = open(home / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",  # CI runs as root
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={notebook_root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=notebook_root,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(
        f"{base}/api/status?token={token}", proc, SERVER_START_S, home / "server.log"
    )
    yield {"base": base, "token": token, "root": notebook_root, "log": home / "server.log"}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory, playwright):
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
    )
    yield context
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig) -> Path:
    """One PNG per notebook, for a person to look at."""
    return screenshot_folder(
        pytestconfig,
        "NNCOURSE_SCREENSHOTS",
        "nncourse-browser-screenshots",
        "browser test screenshots",
    )


@pytest.fixture
def lab(browser, lab_server):
    """A fresh JupyterLab page, logged in with the token."""
    from studentview import Lab

    page = browser.new_page()
    lab = Lab(page, lab_server)
    try:
        yield lab
    finally:
        lab.shutdown_kernels()
        page.close()
