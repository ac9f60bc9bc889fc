"""Headless runs of widget notebooks never stall.

The course's own widget cells use nnlib.widgets, which involves no Output widget: then no
client sends anything while a cell runs, and nothing can stall, whichever client runs the
notebook (the stock jupyter_client one included, as in any nbclient or nbconvert that reads
no course config). The course's kernel client (nncourse/kernel_client.py) covers the
`interact` cells a student writes, wherever its config files are read:

A normal install of the course puts the config files of nncourse/jupyter-config/ into
{sys.prefix}/etc/jupyter, so that `jupyter nbconvert`, `jupyter execute` and `nbgrader` use
the course's kernel client; code that makes its own nbclient `NotebookClient` passes
`client_config()`. An editable install gets no data files (setuptools installs none in
editable mode), so these tests also name the folder in JUPYTER_CONFIG_PATH, as Jupyter
documents for extra config folders: the applications then read the same files.

The stress tests run a notebook of `interact` cells many times while the machine is busy
(the stall needs the client's event loop to be busy as a reply lands) and count the runs
that waited for the cell timeout.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.cli import NbClientApp
from nbclient.exceptions import CellTimeoutError
from nbclient.util import run_sync
from nbconvert.nbconvertapp import NbConvertApp
from nbgrader.apps import ValidateApp
from nbgrader_harness import REPO_ROOT
from traitlets.config import Config

from nncourse.kernel_client import KernelClient, client_config

CONFIG_SOURCE = REPO_ROOT / "nncourse" / "jupyter-config"
INSTALLED = Path(sys.prefix, "etc", "jupyter")
BIN = Path(sys.executable).parent

# A widget cell takes well under a second; a stalled one waits for the cell timeout (and
# then finds its reply: nbclient raises nothing), so a run that long has stalled.
CELL_TIMEOUT_S = 10
# A whole command run takes seconds (up to half a minute on a loaded machine); a stalled one
# waits this long at a cell.
COMMAND_TIMEOUT_S = 60
NBCLIENT_RUNS, COMMAND_RUNS = 30, 3

GATE = """\
@interact(w1=(-2.0, 2.0, 0.5), w2=(-2.0, 2.0, 0.5), b=(-3.0, 3.0, 0.5))
def gate{i}(w1=1.0, w2=1.0, b=-1.5):
    for x1, x2 in corners * 10:  # each output: nbclient sends the Output widget its state
        display(f"{{x1}} {{x2}} -> {{int(w1 * x1 + w2 * x2 + b > 0)}}")
"""
WIDGET_CELLS = 4


# The course's way: a figure and printed lines, redrawn by nnlib.widgets.explore.
EXPLORE = """\
def gate{i}(w1=1.0, w2=1.0, b=-1.5):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [b, w1 + w2 + b])
    for x1, x2 in corners * 10:
        print(f"{{x1}} {{x2}} -> {{int(w1 * x1 + w2 * x2 + b > 0)}}")
explore(gate{i}, **{{k: FloatSlider(value=v, min=-3, max=3) for k, v in
                    dict(w1=1.0, w2=1.0, b=-1.5).items()}})
"""
# jupyter_client's own asynchronous client, whatever config files this machine holds.
STOCK_CLIENT = {
    "AsyncKernelManager": {"client_class": "jupyter_client.asynchronous.AsyncKernelClient"}
}


def widget_notebook(cell=GATE):
    """Widget cells with many outputs, like the gate sliders of 02_perceptron: `interact`
    cells (GATE), or the course's explorers (EXPLORE)."""
    setup = "from ipywidgets import FloatSlider, interact\nimport matplotlib.pyplot as plt\n"
    setup += "from nnlib.widgets import explore\ncorners = [(0, 0), (0, 1), (1, 0), (1, 1)]"
    cells = [nbformat.v4.new_code_cell(setup)]
    cells += [nbformat.v4.new_code_cell(cell.format(i=i)) for i in range(WIDGET_CELLS)]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    return nb


# --- The installed configuration -----------------------------------------------------------


def course_config_env() -> dict[str, str]:
    """This environment with the course's config folder first in JUPYTER_CONFIG_PATH."""
    extra = os.environ.get("JUPYTER_CONFIG_PATH")
    return {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(filter(None, [
        str(CONFIG_SOURCE), extra]))}  # fmt: skip


def test_every_config_file_is_installed_as_data():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    listed = pyproject["tool"]["setuptools"]["data-files"]["etc/jupyter"]
    assert {Path(p).name for p in listed} == {p.name for p in CONFIG_SOURCE.glob("*.json")}
    assert all((REPO_ROOT / p).is_file() for p in listed)


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIG_SOURCE.glob("*.json")))
def test_an_installed_config_is_current(name):
    installed = INSTALLED / name
    if not installed.exists():
        pytest.skip("an editable install: setuptools installs no data files in that mode")
    # Data files are copies: after editing one, install the course again.
    assert installed.read_text() == (CONFIG_SOURCE / name).read_text(), "pip install ."


@pytest.mark.parametrize("app_class", [NbConvertApp, NbClientApp, ValidateApp])
def test_jupyter_applications_use_the_course_client(app_class, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no nbgrader_config.py here: only the course's files count
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", course_config_env()["JUPYTER_CONFIG_PATH"])
    app = app_class()
    app.load_config_file()
    assert AsyncKernelManager(config=app.config).client_factory is KernelClient


# --- Stress: many runs on a busy machine -----------------------------------------------------


@pytest.fixture
def busy_machine():
    """One spinning process per CPU (at a lower priority) while the test runs."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=lambda: os.nice(5))
        for _ in range(os.cpu_count() or 1)
    ]
    yield
    for proc in spinners:
        proc.kill()
        proc.wait()


def stalled_nbclient_run(path: Path, km: AsyncKernelManager) -> bool:
    """Run the notebook with a new nbclient client; True if a cell waited for the timeout."""
    nb = nbformat.read(path, as_version=4)
    started, seconds = {}, {}
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        on_cell_execute=lambda cell, cell_index: started.update({cell_index: time.monotonic()}),
        on_cell_executed=lambda cell, cell_index, execute_reply: seconds.update(
            {cell_index: time.monotonic() - started[cell_index]}
        ),
    )
    try:
        client.execute()
    except CellTimeoutError:
        return True
    outputs = [o for c in nb.cells[1:] for o in c.outputs]
    assert len(outputs) == WIDGET_CELLS and all(o.output_type == "display_data" for o in outputs)
    return max(seconds.values()) >= 0.8 * CELL_TIMEOUT_S


def stalled_command(args: list[str], cwd: Path, env: dict) -> bool:
    """Run a headless command; True if it stalled."""
    start = time.monotonic()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0 or "Timeout" in done.stderr, done.stderr[-2000:]
    return done.returncode != 0 or time.monotonic() - start >= COMMAND_TIMEOUT_S


@pytest.fixture
def notebook(tmp_path):
    path = tmp_path / "widgets.ipynb"
    nbformat.write(widget_notebook(), path)
    return path


@pytest.fixture
def explore_notebook(tmp_path):
    path = tmp_path / "explore.ipynb"
    nbformat.write(widget_notebook(EXPLORE), path)
    return path


def started_kernel(config):
    """One kernel for the nbclient runs (each run has its own client, where the stall is),
    started by a kernel manager with this config."""
    km = AsyncKernelManager(config=config)
    run_sync(km.start_kernel)()
    return km


@pytest.fixture
def kernel():
    """The kernel manager nbclient makes with the course's config."""
    km = started_kernel(client_config())
    yield km
    run_sync(km.shutdown_kernel)(now=True)


@pytest.fixture
def stock_kernel():
    """The kernel manager of an nbclient that reads no course config."""
    km = started_kernel(Config(STOCK_CLIENT))
    yield km
    run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.slow
@pytest.mark.timeout(NBCLIENT_RUNS * (WIDGET_CELLS + 1) * CELL_TIMEOUT_S)
def test_nbclient_never_stalls(notebook, kernel, busy_machine):
    stalls = sum(stalled_nbclient_run(notebook, kernel) for _ in range(NBCLIENT_RUNS))
    assert stalls == 0, f"{stalls} of {NBCLIENT_RUNS} runs waited for the cell timeout"


@pytest.mark.slow
@pytest.mark.timeout(NBCLIENT_RUNS * (WIDGET_CELLS + 1) * CELL_TIMEOUT_S)
def test_the_course_explorers_never_stall_even_with_the_stock_client(
    explore_notebook, stock_kernel, busy_machine
):
    assert stock_kernel.client_factory is not KernelClient
    stalls = sum(
        stalled_nbclient_run(explore_notebook, stock_kernel) for _ in range(NBCLIENT_RUNS)
    )
    assert stalls == 0, f"{stalls} of {NBCLIENT_RUNS} runs waited for the cell timeout"


def headless_commands(notebook: Path, *options: str) -> dict[str, list[str]]:
    """`jupyter nbconvert --execute` and `nbgrader validate` of the notebook, with options."""
    timeout = f"--ExecutePreprocessor.timeout={COMMAND_TIMEOUT_S}"
    return {
        "nbconvert": [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                      "--output", "out.ipynb", timeout, *options, notebook.name],
        "validate": [str(BIN / "nbgrader"), "validate", timeout, *options, notebook.name],
    }  # fmt: skip


def stalls_of(commands: dict[str, list[str]], cwd: Path, env: dict) -> dict[str, int]:
    return {
        name: sum(stalled_command(args, cwd, env) for _ in range(COMMAND_RUNS))
        for name, args in commands.items()
    }


@pytest.mark.slow
@pytest.mark.timeout(2 * COMMAND_RUNS * (COMMAND_TIMEOUT_S + 60))
def test_nbconvert_and_nbgrader_validate_never_stall(notebook, busy_machine):
    # From the notebook's folder: no nbgrader_config.py there, only the course's config files.
    stalls = stalls_of(headless_commands(notebook), notebook.parent, course_config_env())
    assert stalls == {"nbconvert": 0, "validate": 0}, f"runs that stalled: {stalls}"


@pytest.mark.slow
@pytest.mark.timeout(2 * COMMAND_RUNS * (COMMAND_TIMEOUT_S + 60))
def test_the_course_explorers_never_stall_in_commands_with_the_stock_client(
    explore_notebook, busy_machine
):
    (stock,) = STOCK_CLIENT["AsyncKernelManager"].values()
    commands = headless_commands(explore_notebook, f"--AsyncKernelManager.client_class={stock}")
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    stalls = stalls_of(commands, explore_notebook.parent, env)
    assert stalls == {"nbconvert": 0, "validate": 0}, f"runs that stalled: {stalls}"
