"""A whole class on one server for tests/hub: deploy/one-server/setup.sh run for real (Unix
accounts, the exchange, the instructor's course, each student's JupyterLab set-up),
JupyterHub with PAM started on 127.0.0.1, and headless Chromium.

Every account, home and folder the fixture creates is removed at teardown. The Python
environment the accounts run is Debian's /usr/bin/python3 with the course installed (a
virtualenv of a Python in root's home would not be executable by them); it is kept in
/var/tmp between runs and refreshed when pyproject.toml or the package sources change.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from servers import CHROMIUM, CHROMIUM_ARGS, free_port, screenshot_folder, wait_until_serving

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP = REPO_ROOT / "deploy" / "one-server" / "setup.sh"
SYSTEM_PYTHON = Path("/usr/bin/python3")
HUB_START_S = 60
ASSIGNMENT = "01_neuron"


def _digest(paths) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.relative_to(REPO_ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def class_python_env() -> Path:
    """A virtualenv of Debian's Python with nncourse[hub]: dependencies installed once per
    pyproject.toml, the project itself reinstalled whenever its sources change."""
    deps = _digest([REPO_ROOT / "pyproject.toml"])
    env = Path("/var/tmp") / f"nncourse-hub-env-{deps}"
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "-q"]
    if not (env / ".deps-installed").exists():
        shutil.rmtree(env, ignore_errors=True)
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(env)], check=True)
        subprocess.run([*pip, f"{REPO_ROOT}[hub]"], check=True)
        (env / ".deps-installed").touch()
    sources = sorted(
        p
        for top in ("nncourse", "nnlib")
        for p in (REPO_ROOT / top).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    code = _digest([REPO_ROOT / "pyproject.toml", *sources])
    if (env / ".code").exists() and (env / ".code").read_text() == code:
        return env
    # Without build isolation (no fresh build environment to download for each change), so
    # with the build requirement of pyproject.toml in the environment itself.
    subprocess.run([*pip, "setuptools>=68"], check=True)
    subprocess.run(
        [*pip, "--no-deps", "--no-build-isolation", "--force-reinstall", str(REPO_ROOT)],
        check=True,
    )
    (env / ".code").write_text(code)
    return env


@dataclass
class Class:
    """The class the fixture set up."""

    base: Path
    env: Path
    prefix: Path
    exchange: Path
    instructor: str
    students: list[str]
    passwords: dict[str, str]
    course_dir: Path
    url: str
    log: Path
    homes: dict[str, Path] = field(default_factory=dict)

    def run_as(self, user: str, args, *, cwd=None, check=True, input=None, timeout=600):
        """Run `args` as `user` (runuser), the class's environment first on PATH."""
        home = self.homes[user]
        cmd = [
            "runuser",
            "-u",
            user,
            "--",
            "env",
            "-C",
            str(cwd or home),
            f"HOME={home}",
            f"PATH={self.env / 'bin'}:/usr/bin:/bin",
            *map(str, args),
        ]
        return subprocess.run(
            cmd, check=check, capture_output=True, text=True, input=input, timeout=timeout
        )

    def nbgrader(self, *args, check=True):
        """An nbgrader command as the instructor, in the course folder; with `check`, a
        failure raises with the end of nbgrader's log."""
        done = self.run_as(self.instructor, ["nbgrader", *args], cwd=self.course_dir, check=False)
        if check and done.returncode != 0:
            log = (done.stdout + done.stderr)[-6000:]
            raise AssertionError(f"nbgrader {' '.join(args)} exited {done.returncode}:\n{log}")
        return done


def _remove_accounts(users: list[str]) -> None:
    """Stop what still runs as the test's accounts (by pid: only processes of accounts this
    fixture created), then delete the accounts and their homes."""
    uids = set()
    for user in users:
        try:
            uids.add(pwd.getpwnam(user).pw_uid)
        except KeyError:
            continue
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if proc.stat().st_uid in uids:
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
    for user in users:
        subprocess.run(["userdel", "--remove", "--force", user], capture_output=True)


@pytest.fixture(scope="module")
def klass():
    if os.geteuid() != 0:
        pytest.skip("a class on one server needs root (Unix accounts, PAM, setuid spawns)")
    env = class_python_env()  # before anything that teardown must remove
    base = Path(tempfile.mkdtemp(prefix="nncourse-hub-", dir="/tmp"))
    base.chmod(0o755)  # the accounts' homes are below it
    (base / "home").mkdir(mode=0o755)
    tag = secrets.token_hex(2)
    instructor = f"nncinst{tag}"
    students = [f"nncst{tag}{x}" for x in "abc"]
    users = [instructor, *students]
    port, hub_port, api_port = free_port(), free_port(), free_port()
    hub = None
    try:
        setup = [
            *("bash", SETUP, "--instructor", instructor, "--students", ",".join(students)),
            *("--python-env", env, "--prefix", base / "hub", "--home-base", base / "home"),
            *("--exchange", base / "exchange", "--ip", "127.0.0.1", "--port", port),
            *("--internal-ports", f"{hub_port},{api_port}", "--no-service"),
            # The course the class uses: this repository's HEAD, or another clone (a fork,
            # a planted mistake) named by NNCOURSE_HUB_COURSE.
            *("--course", os.environ.get("NNCOURSE_HUB_COURSE") or REPO_ROOT),
        ]
        subprocess.run(
            [str(arg) for arg in setup],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        passwords = dict(
            line.split(":", 1) for line in (base / "hub" / "passwords").read_text().split()
        )
        meta = json.loads((base / "hub" / "class.json").read_text())
        log = base / "hub.log"
        with open(log, "w") as out:
            hub = subprocess.Popen(
                [env / "bin" / "jupyterhub", "-f", base / "hub" / "jupyterhub_config.py"],
                cwd=base / "hub",
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PATH": f"{env / 'bin'}:{os.environ['PATH']}"},
            )
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{url}/hub/health", hub, HUB_START_S, log)
        yield Class(
            base=base,
            env=env,
            prefix=base / "hub",
            exchange=base / "exchange",
            instructor=instructor,
            students=students,
            passwords=passwords,
            course_dir=Path(meta["course_dir"]),
            url=url,
            log=log,
            homes={u: Path(pwd.getpwnam(u).pw_dir) for u in users},
        )
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"{err.cmd} failed:\n{err.stdout}\n{err.stderr}") from None
    finally:
        if hub is not None:
            hub.terminate()  # the hub stops the servers it spawned
            try:
                hub.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hub.kill()
        _remove_accounts(users)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium(playwright):
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def shots(pytestconfig) -> Path:
    """Screenshots for a person to look at."""
    return screenshot_folder(
        pytestconfig,
        "NNCOURSE_HUB_SCREENSHOTS",
        "nncourse-hub-screenshots",
        "class test screenshots",
    )
