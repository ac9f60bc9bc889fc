"""The grading sandbox and the channel to it, through `grade.run_cells`.

Each test runs a small program: student cells (run in the bubblewrap sandbox) and test
cells (run in the trusted process) and checks the test cells' outputs. The sandbox is what
the operating system enforces: paths it cannot read, no network, memory and process
limits over all its processes, a capped /tmp, nothing left behind.
"""

import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nncourse.autograde import jail
from nncourse.autograde.grade import Limits, run_cells
from nncourse.autograde.program import Cell

pytestmark = pytest.mark.skipif(jail.bwrap_path() is None, reason="needs bubblewrap")
AS_ROOT = os.geteuid() == 0
REPO = Path(__file__).resolve().parent.parent
UID = 100_000 + 64 * (os.getpid() % 2**14) + 63  # far from the batch runners' slots


@pytest.fixture(scope="module")
def view(tmp_path_factory):
    return jail.build_view(tmp_path_factory.mktemp("view"), {"nnlib.activations.sigmoid"})


def run(view, *cells, folder=None, **limits):
    """Run (kind, code) cells; test cells are named t0, t1, ...; returns (outputs, run)."""
    program, n = [], 0
    for kind, code in cells:
        gid = f"t{n}" if kind == "test" else None
        n += kind == "test"
        program.append(Cell(kind, gid, code, gid or f"cell {len(program)}"))
    limits = Limits(**{"cell_timeout": 10, "timeout": 60, **limits})
    outcome = run_cells(program, view, folder, limits, uid=UID, name="unit")
    assert not outcome.error, outcome.error
    return outcome.results, outcome


def text(outputs):
    return "".join(o.get("text", "") for o in outputs)


def error(outputs):
    return " ".join(f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error")


def test_student_code_runs_unprivileged_without_network_or_the_course(view, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    server = socket.create_server(("127.0.0.1", 0))  # reachable from any process here
    port = server.getsockname()[1]
    probe = f"""
import os, socket
seen = {{}}
seen["uid"] = os.getuid()
for path in [{str(REPO / "solutions")!r}, {str(REPO / ".git")!r}, {str(secret)!r},
             "/etc/shadow", "/etc/passwd", "/var", {str(REPO / "nnlib")!r}]:
    seen[path] = os.path.exists(path)
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1)
    seen["net"] = True
except OSError:
    seen["net"] = False
seen["procs"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
"""
    try:
        results, _ = run(view, ("student", probe), ("test", "print(seen)"))
    finally:
        server.close()
    seen = eval(text(results["t0"]))  # noqa: S307 (our own printed dict)
    if AS_ROOT:
        assert seen["uid"] == UID
    assert seen["net"] is False
    assert not any(v for k, v in seen.items() if k.startswith("/")), seen
    assert len(seen["procs"]) <= 3  # its own pid namespace: bwrap's init, the server


def test_reference_of_the_exercise_is_stubbed_in_every_route(view):
    routes = """
import importlib, subprocess, sys
import nnlib.activations as A
out = {}
def attempt(name, f):
    try:
        f()
        out[name] = "ran"
    except BaseException as exc:
        out[name] = type(exc).__name__
attempt("import", lambda: A.sigmoid(0.0))
attempt("reload", lambda: importlib.reload(A).sigmoid(0.0))
src = open(A.__file__).read()
ns = {}
exec(src, ns)
attempt("exec", lambda: ns["sigmoid"](0.0))
code = "import nnlib.activations as A; A.sigmoid(0.0)"
proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
out["subprocess"] = proc.returncode
out["tanh_prime"] = float(A.tanh_prime(0.0))
"""
    results, _ = run(view, ("student", routes), ("test", "print(out)"))
    out = eval(text(results["t0"]))  # noqa: S307
    assert out == {
        "import": "AssertionError",
        "reload": "AssertionError",
        "exec": "AssertionError",
        "subprocess": 1,
        "tanh_prime": 1.0,  # what the notebook does not ask for stays usable
    }


def test_data_crosses_as_copies_and_in_place_changes_come_back(view):
    student = """
import numpy as np
def double_in_place(x):
    x *= 2
def draw(rng, n):
    return rng.standard_normal(n)
def batches(n, rng):
    for i in rng.permutation(n):
        yield int(i)
class Layer:
    def __init__(self, n):
        self.W = np.zeros(n)
    def forward(self, x):
        return x @ self.W
def uses_helper(x):
    return helper(x) + 1
def helper(x):
    return x
"""
    test = """
import numpy as np
x = np.ones(3)
double_in_place(x)
rng = np.random.default_rng(0)
a = draw(rng, 2)
b = np.random.default_rng(0).standard_normal(4)[2:]
layer = Layer(3)
layer.W = np.arange(3.0)
ns = uses_helper.__globals__
ns["helper"] = lambda v: 10 * v
swapped = uses_helper(1)
ns["helper"] = ns["helper"]
print(x.tolist(), np.allclose(draw(rng, 2), b), layer.forward(np.ones(3)), type(layer.W),
      list(batches(3, np.random.default_rng(1))), isinstance(layer, Layer), swapped)
"""
    results, _ = run(view, ("student", student), ("test", test))
    order = [int(i) for i in np.random.default_rng(1).permutation(3)]
    assert text(results["t0"]).strip() == (
        f"[2.0, 2.0, 2.0] True 3.0 <class 'numpy.ndarray'> {order} True 11"
    )


def test_returning_an_argument_itself_is_seen_as_such(view):
    student = """
def same(x, scale=None):
    return x
def copied(x):
    return x.copy()
def doubled_in_place(x):
    x *= 2
    return x
def the_keyword(x, scale=None):
    return scale
def a_number(x):
    return 3.0
"""
    test = """
import numpy as np
x, s = np.ones(2), np.zeros(1)
print(same(x) is x, copied(x) is x, the_keyword(x, scale=s) is s, a_number(x))
y = np.ones(2)
out = doubled_in_place(y)
print(out is y, y.tolist(), same([1, 2]) == [1, 2], same(x, s) is x)
"""
    results, _ = run(view, ("student", student), ("test", test))
    assert text(results["t0"]).split("\n")[:2] == [
        "True False True 3.0",
        "True [2.0, 2.0] True True",
    ]


def test_answers_cannot_fake_comparisons_or_reach_test_values(view):
    student = """
import sys
import numpy as np
class Anything(np.ndarray):
    def __eq__(self, other):
        return True
def fake(x):
    return np.zeros(3).view(Anything)
def peek(x):
    frame = sys._getframe(1)
    return [frame.f_globals.get("expected") is not None]
"""
    test = """
import numpy as np
expected = np.ones(3)
r = fake(expected)
print(type(r).__name__, bool(np.all(r == expected)), peek(1))
"""
    checked = """
from nnlib.grading import fresh
fresh().assert_close(fake(expected), expected, "fake(x)")
"""
    results, _ = run(view, ("student", student), ("test", test), ("test", checked))
    assert text(results["t0"]).split() == ["Remote", "False", "[False]"]
    assert "an object of your own; return a plain numpy array" in error(results["t1"])


def test_printed_output_and_warnings_of_student_code(view):
    student = """
import warnings
def noisy(x):
    print("x" * 100_000)
    warnings.warn("careful", RuntimeWarning)
    return x
"""
    test = """
import warnings
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    noisy(1)
caught = [(x.category.__name__, str(x.message)) for x in w]
"""
    results, _ = run(
        view, ("student", student), ("test", test), ("test", "print(caught)"), output_kb=16
    )
    out = text(results["t0"])
    assert 16 * 1024 <= len(out.encode()) < 17 * 1024
    assert "output truncated" in out
    assert text(results["t1"]).strip() == "[('RuntimeWarning', 'careful')]"


def test_a_cell_that_outlives_its_limit_is_stopped_and_grading_goes_on(view):
    student = """
def square(x):
    return x * x
while True:
    try:
        pass
    except BaseException:
        pass
"""
    cells = [
        ("student", "def early(x):\n    return x + 1\n"),
        ("student", student),
        ("test", "print(early(1))"),
        ("student", "def spin():\n    while True:\n        pass\n"),
        ("test", "spin()"),
        ("test", "print(early(2))"),
    ]
    results, outcome = run(view, *cells, cell_timeout=2)
    assert text(results["t0"]).strip() == "2"  # replayed in a new sandbox
    assert "TimeoutError" in error(results["t1"])
    assert text(results["t2"]).strip() == "3"
    assert any("did not stop" in p or "stopped after 2 s" in p for p in outcome.problems)


@pytest.mark.skipif(not AS_ROOT, reason="cgroups need root")
def test_memory_and_processes_are_limited_over_all_processes(view):
    hog = """
import os, time
def hog():
    pids = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            block = bytearray(700 * 2**20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(2)
            os._exit(0)
        pids.append(pid)
    return sorted(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids)
def forks():
    import subprocess
    procs = []
    try:
        for _ in range(200):
            procs.append(subprocess.Popen(["sleep", "30"]))
    except OSError as err:
        return f"stopped at {len(procs)}: {type(err).__name__}"
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return "no limit"
"""
    results, outcome = run(
        view,
        ("student", hog),
        ("test", "print(forks())"),
        ("test", "print(hog())"),
        memory_mb=1024,
        pids=32,
        cell_timeout=20,
    )
    assert "stopped at" in text(results["t0"])
    codes = eval(text(results["t1"]))  # noqa: S307 (exit codes of the three children)
    assert -9 in codes  # the kernel killed what went over the cgroup's limit
    assert outcome.peak_mb <= 1024


def test_tmp_is_capped_private_and_gone_afterwards(view):
    marker = f"nncourse-unit-{os.getpid()}"
    student = f"""
import os, subprocess
def fill():
    with open("/tmp/{marker}", "wb", buffering=0) as f:  # each write fails, not the close
        try:
            for _ in range(100):
                f.write(b"x" * 2**20)
        except OSError as err:
            return f"full: {{err.errno}}"
    return "unbounded"
open("/dev/shm/{marker}", "w").write("left")
subprocess.Popen(["sh", "-c", "sleep 1000 # {marker}"], start_new_session=True)
"""
    results, _ = run(view, ("student", student), ("test", "print(fill())"), tmp_mb=8)
    assert text(results["t0"]).startswith("full")
    assert not Path(f"/tmp/{marker}").exists()
    assert not Path(f"/dev/shm/{marker}").exists()
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout
    assert left == ""


def test_a_callable_handed_over_is_valid_only_during_that_call(view):
    student = """
kept = []
def apply(g, x):
    kept.append(g)
    return g(x)
def later(x):
    return kept[-1](x)  # the lambda: a callback of the grader
"""
    test = """
import numpy as np
print(apply(np.negative, 2), apply(lambda v: v + 1, 2))
try:
    later(2)
except Exception as err:
    print("refused:", type(err).__name__)
"""
    results, _ = run(view, ("student", student), ("test", test))
    # np.negative crosses by name (the sandbox's own numpy); the lambda is called back.
    assert text(results["t0"]).split() == ["-2", "3", "refused:", "LookupError"]


def test_sandbox_starts_from_work_done_once_for_the_view(view):
    """The view's bytecode and matplotlib's font list are made once, not by each sandbox."""
    probe = """
import os
before = sorted(os.listdir(os.environ["MPLCONFIGDIR"]))
import nnlib.activations
import matplotlib.font_manager
seen = {"fonts": before, "bytecode": os.path.exists(nnlib.activations.__cached__),
        "found": len(matplotlib.font_manager.fontManager.ttflist) > 0}
"""
    results, _ = run(view, ("student", probe), ("test", "print(seen)"))
    seen = eval(text(results["t0"]))  # noqa: S307
    assert seen["bytecode"] and seen["found"], seen
    assert [name for name in seen["fonts"] if name.startswith("fontlist")], seen


def test_a_students_error_shows_their_lines_and_none_of_the_graders(view):
    student = "def f(x):\n    y = x + 1\n    return undefined + y\n"
    test = "from nnlib.grading import call\ncall(f, 1)\n"
    results, _ = run(view, ("student", student), ("test", test))
    (err,) = [o for o in results["t0"] if o["output_type"] == "error"]
    shown = "\n".join(err["traceback"])
    assert ".py" not in shown, shown  # no file of the grader, nnlib.grading or the server
    assert 'File "<t0>", line 2' in shown
    assert "In your code:" in shown and "return undefined + y" in shown
    assert err["evalue"].endswith("(in your f, line 3: return undefined + y)"), err["evalue"]
